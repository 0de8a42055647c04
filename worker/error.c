/*
 * worker/error.c - what the runtime's error codes mean (airsrt/error.h).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "airsrt/error.h"
#include "airsrt/message.h"
#include "airsrt/supervision.h"

const char *airsrt_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case AIRSRT_SENT_BACKPRESSURE:
        return "queued behind a full ring (backpressure)";
    case -ENOENT:
        return "no such name";
    case -EHOSTDOWN:
        return "the name has no holder now";
    case -ESTALE:
        return "no such actor (stopped, or its worker restarted)";
    case -ENOBUFS:
        return "the recipient's mailbox is full";
    case -EAGAIN:
        return "the outbox to that worker is full; try again later";
    case -EMSGSIZE:
        return "payload larger than the runtime's payload_max";
    case -EHOSTUNREACH:
        return "address on another node";
    case -EDESTADDRREQ:
        return "nobody to reply to";
    case -EEXIST:
        return "the name is held by another actor";
    case -EBUSY:
        return "the actor already holds another name";
    case -ENOSPC:
        return "table full (actors or registry)";
    case AIRSRT_SUPERVISOR_GAVE_UP:
        return "a supervisor exceeded its restart intensity";
    default:
        /* -INT_MIN does not exist. */
        return err < 0 && err != INT_MIN ? strerror(-err) : "unknown result";
    }
}
