/*
 * worker/deadletter.c - envelopes that could not be delivered: counted by
 * reason in the worker's self page, and passed to the dead-letter actor
 * (whoever holds AIRSRT_DEAD_LETTER_NAME) when there is one.
 *
 * Forwarding never recurses: a dead letter found while forwarding one, or
 * a dead letter of a dead letter, is only counted. Whether the name is
 * held is looked up at most every DL_RECHECK_NS while nobody holds it, so
 * a flood of dead letters costs no registry probe each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker_impl.h"

#define DL_RECHECK_NS 100000000u

static const char *const reason_names[AIRSRT_DL_REASONS] = {
    [AIRSRT_DL_STALE] = "stale",
    [AIRSRT_DL_EXPIRED] = "expired",
    [AIRSRT_DL_MAILBOX_FULL] = "mailbox_full",
    [AIRSRT_DL_UNBOUND] = "unbound",
    [AIRSRT_DL_STOPPED] = "stopped",
    [AIRSRT_DL_UNROUTABLE] = "unroutable",
    [AIRSRT_DL_LATE_REPLY] = "late_reply",
    [AIRSRT_DL_NO_SUBSCRIBER] = "no_subscriber",
};

const char *airsrt_dead_letter_reason_name(unsigned reason)
{
    return reason < AIRSRT_DL_REASONS ? reason_names[reason] : "unknown";
}

/* Sends a copy of m, cut to fit, to the dead-letter actor. */
static void forward(struct airsrt_worker *w, const struct msg *m,
                    unsigned reason)
{
    const uint32_t head = sizeof(struct airsrt_dead_letter) +
                          AIRSRT_ENVELOPE_HDR_SIZE;
    struct airsrt_dead_letter dl = { .reason = reason, .worker = w->index,
                                     .original_len = m->env.payload_len };
    uint32_t keep, len;
    uint8_t *buf;

    if (w->payload_max < head)
        return;
    keep = m->env.payload_len < w->payload_max - head ? m->env.payload_len
                                                      : w->payload_max - head;
    len = head + keep;
    buf = malloc(len);
    if (buf == NULL)
        return;
    memcpy(buf, &dl, sizeof(dl));
    memcpy(buf + sizeof(dl), &m->env, AIRSRT_ENVELOPE_HDR_SIZE + keep);
    ((struct airsrt_envelope *)(void *)(buf + sizeof(dl)))->payload_len = keep;
    /* A failure here means nobody holds the name (or the way is full):
     * look again later, not for every dead letter. */
    w->dl_name_checked_ns =
        airsrt__send_dead_letter(w, buf, len) < 0
            ? airsrt_now_ns() : 0;
    free(buf);
}

void airsrt__dead_letter(struct airsrt_worker *w, struct msg *m,
                         unsigned reason)
{
    airsrt__stat_add(&w->self->dead_letters[reason], 1);
    if (!w->is_in_dead_letter && m->env.type != AIRSRT_MSG_DEAD_LETTER &&
        (w->dl_name_checked_ns == 0 ||
         airsrt_now_ns() - w->dl_name_checked_ns >= DL_RECHECK_NS)) {
        w->is_in_dead_letter = true;
        forward(w, m, reason);
        w->is_in_dead_letter = false;
    }
    airsrt__msg_free(&w->pool, m);
}
