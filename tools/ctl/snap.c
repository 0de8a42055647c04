/*
 * tools/ctl/snap.c - reading what other processes wrote: whose a
 * worker's self page is, postmortem records and flight recorders (slot
 * names: tools/common). Nothing here believes a count or a string it
 * read from the segment: each is clamped to the array it came from, and
 * a record that keeps changing is given up on.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "tools/ctl/ctl.h"

#define PM_TRIES 16

void ctl_str_copy(char *out, const char *src, size_t len)
{
    size_t i;

    for (i = 0; i < len && src[i] != '\0'; i++)
        out[i] = (src[i] >= 0x20 && src[i] <= 0x7e) ? src[i] : '?';
    out[i] = '\0';
}

int ctl_postmortem_copy(const struct airsrt_postmortem *src,
                        struct airsrt_postmortem *dst)
{
    for (int i = 0; i < PM_TRIES; i++) {
        /* Pairs with the supervisor's release store of an even seq
         * (recovery.c postmortem_write). */
        uint32_t seq = atomic_load_explicit(&src->seq, memory_order_acquire);

        if (seq & 1u)
            continue;
        memcpy(dst, src, sizeof(*dst));
        /* Pairs with the writer's release fence after it made seq odd. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&src->seq, memory_order_relaxed) == seq)
            return 0;
    }
    return -EAGAIN;
}

bool ctl_self_is_of(const struct airsrt_shm *shm, uint32_t w, uint32_t inc)
{
    const struct airsrt_worker_self *self = airsrt_shm_worker_self(shm, w);

    return inc != 0 &&
           atomic_load_explicit(&self->incarnation, memory_order_relaxed) ==
               inc;
}

static void flight_entry(const struct airsrt_flight_entry *fe,
                         struct ctl_flight *out)
{
    uint64_t sender[2];

    out->handled_ns = atomic_load_explicit(&fe->handled_ns,
                                           memory_order_relaxed);
    out->message_id = atomic_load_explicit(&fe->message_id,
                                           memory_order_relaxed);
    out->type = atomic_load_explicit(&fe->type, memory_order_relaxed);
    out->payload_len = atomic_load_explicit(&fe->payload_len,
                                            memory_order_relaxed);
    sender[0] = atomic_load_explicit(&fe->sender[0], memory_order_relaxed);
    sender[1] = atomic_load_explicit(&fe->sender[1], memory_order_relaxed);
    memcpy(&out->sender, sender, sizeof(out->sender));
    out->is_sender_valid = airsrt_address_is_null(&out->sender) ||
                           airsrt_address_validate(&out->sender) == 0;
    if (!out->is_sender_valid)
        out->sender = AIRSRT_ADDRESS_NULL;
    out->recipient_slot = atomic_load_explicit(&fe->recipient_slot,
                                               memory_order_relaxed);
    out->recipient_generation =
        atomic_load_explicit(&fe->recipient_generation, memory_order_relaxed);
}

uint32_t ctl_flight_decode(const struct airsrt_flight_recorder *fr,
                           struct ctl_flight out[AIRSRT_FLIGHT_ENTRIES])
{
    /* Pairs with the worker's release store of count (scheduler.c). */
    uint64_t count = atomic_load_explicit(&fr->count, memory_order_acquire);
    /* At most K - 1: entry count % K is the next one the worker writes,
     * maybe half-written if it died there (segment.h). */
    uint32_t n = count < AIRSRT_FLIGHT_ENTRIES - 1 ? (uint32_t)count
                                                   : AIRSRT_FLIGHT_ENTRIES - 1;

    for (uint32_t i = 0; i < n; i++) {
        uint64_t k = count - n + i;

        flight_entry(&fr->entries[k % AIRSRT_FLIGHT_ENTRIES], &out[i]);
    }
    return n;
}
