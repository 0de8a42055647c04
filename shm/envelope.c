/*
 * shm/envelope.c - envelope helpers, validation of envelopes from other
 * processes, and message ids. See airsrt/envelope.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "airsrt/envelope.h"
#include "shm/cpu.h"

uint64_t airsrt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void airsrt_envelope_init(struct airsrt_envelope *e, uint32_t type,
                          uint32_t payload_len)
{
    memset(e, 0, sizeof(*e));
    e->type = type;
    e->priority = AIRSRT_PRIO_NORMAL;
    e->payload_len = payload_len;
}

void airsrt_envelope_set_reply_to(struct airsrt_envelope *e,
                                  const struct airsrt_address *reply_to,
                                  uint64_t correlation_id)
{
    e->reply_to = *reply_to;
    e->correlation_id = correlation_id;
}

void airsrt_envelope_set_ttl(struct airsrt_envelope *e, uint64_t ttl_ns)
{
    e->deadline_ns = ttl_ns == 0 ? 0 : airsrt_now_ns() + ttl_ns;
}

int airsrt_envelope_is_expired(const struct airsrt_envelope *e, uint64_t now_ns)
{
    return e->deadline_ns != 0 && e->deadline_ns < now_ns;
}

/* The address is read once into a local copy, then judged. */
static bool address_ok(const struct airsrt_address *shared)
{
    struct airsrt_address a = {
        .node = AIRSRT_READ_ONCE(shared->node),
        .worker = AIRSRT_READ_ONCE(shared->worker),
        .incarnation = AIRSRT_READ_ONCE(shared->incarnation),
        .slot = AIRSRT_READ_ONCE(shared->slot),
        .generation = AIRSRT_READ_ONCE(shared->generation),
    };

    return airsrt_address_is_null(&a) || airsrt_address_validate(&a) == 0;
}

int airsrt_envelope_validate(const struct airsrt_envelope *e, size_t avail,
                             uint32_t payload_max)
{
    uint32_t len;

    if (avail < AIRSRT_ENVELOPE_HDR_SIZE)
        return -EBADMSG;
    len = AIRSRT_READ_ONCE(e->payload_len);
    /* The hard ceiling holds whatever payload_max the caller passes: it
     * keeps len an int, so that no accepted length reads as an error. */
    if (len > payload_max || len > AIRSRT_PAYLOAD_MAX_LIMIT ||
        len > avail - AIRSRT_ENVELOPE_HDR_SIZE)
        return -EBADMSG;
    if (AIRSRT_READ_ONCE(e->priority) > AIRSRT_PRIO_SYSTEM ||
        (AIRSRT_READ_ONCE(e->flags) & ~AIRSRT_ENV_F_ALL) != 0 ||
        AIRSRT_READ_ONCE(e->reserved) != 0)
        return -EBADMSG;
    if (!address_ok(&e->sender) || !address_ok(&e->recipient) ||
        !address_ok(&e->reply_to))
        return -EBADMSG;
    return (int)len;
}

int airsrt_msgid_init(struct airsrt_msgid_gen *g, uint32_t origin,
                      uint64_t epoch_ns)
{
    uint64_t now = airsrt_now_ns();
    uint64_t since = now > epoch_ns ? now - epoch_ns : 0;

    if (origin >= AIRSRT_MSGID_ORIGINS)
        return -EINVAL;
    since &= (1ull << AIRSRT_MSGID_COUNTER_BITS) - 1;
    /* Counter 0 is never issued, so a message id of 0 means "none". */
    g->next = (uint64_t)origin << AIRSRT_MSGID_COUNTER_BITS | (since + 1);
    return 0;
}
