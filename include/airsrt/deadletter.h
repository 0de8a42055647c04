/*
 * airsrt/deadletter.h - envelopes that could not be delivered.
 *
 * An envelope that cannot reach its recipient is never dropped in
 * silence: it is a dead letter, counted by reason in the statistics of
 * the worker that found it (the tools show them), and, if an actor holds
 * the name AIRSRT_DEAD_LETTER_NAME, forwarded to it as an
 * AIRSRT_MSG_DEAD_LETTER envelope. Dead letters of dead letters are only
 * counted, so a dead-letter actor that is gone cannot start a loop.
 */
#ifndef AIRSRT_DEADLETTER_H
#define AIRSRT_DEADLETTER_H

#include <stdint.h>

#include "airsrt/envelope.h"

enum airsrt_dead_letter_reason {
    AIRSRT_DL_STALE = 0,    /* its address names an actor that no longer
                               exists: stopped, or its worker restarted */
    AIRSRT_DL_EXPIRED,      /* past its deadline before it was handled */
    AIRSRT_DL_MAILBOX_FULL, /* dropped or refused by a bounded mailbox */
    AIRSRT_DL_UNBOUND,      /* sent to a name nobody held on delivery */
    AIRSRT_DL_STOPPED,      /* still queued when its recipient stopped */
    AIRSRT_DL_UNROUTABLE,   /* no way to it: wrong worker, forwarded too
                               often, or its worker gave up at exit */
    AIRSRT_DL_LATE_REPLY,   /* a reply that came after its request timed
                               out (airsrt/request.h) */
    AIRSRT_DL_NO_SUBSCRIBER,/* published to a worker that had no
                               subscriber of the topic left on arrival */
    AIRSRT_DL_REASONS
};

/* "stale", "expired", ...; "unknown" out of range. */
const char *airsrt_dead_letter_reason_name(unsigned reason);

/* The name a dead-letter actor registers under. */
#define AIRSRT_DEAD_LETTER_NAME "dead_letters"

/*
 * Payload of AIRSRT_MSG_DEAD_LETTER: this header, then the original
 * envelope's header and as much of its payload as fits the runtime's
 * payload_max (original_len says how much there was). The original's
 * payload_len field is the number of its payload bytes that follow.
 */
struct airsrt_dead_letter {
    uint32_t reason;            /* enum airsrt_dead_letter_reason */
    uint32_t worker;            /* the worker that found it dead */
    uint32_t original_len;      /* payload bytes of the original */
    uint32_t reserved;
};

/* The original envelope inside a dead-letter payload of len bytes, or
 * NULL if len is too short for one. */
static inline const struct airsrt_envelope *
airsrt_dead_letter_original(const void *payload, uint32_t len)
{
    if (len < sizeof(struct airsrt_dead_letter) + AIRSRT_ENVELOPE_HDR_SIZE)
        return (const struct airsrt_envelope *)0;
    return (const struct airsrt_envelope *)(const void *)
        ((const uint8_t *)payload + sizeof(struct airsrt_dead_letter));
}

#endif
