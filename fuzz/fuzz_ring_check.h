/*
 * fuzz/fuzz_ring_check.h - what every ring harness asserts about a view
 * the consumer hands out. Single-threaded harnesses only: nobody writes
 * the ring during a check, so fields still say what was validated.
 */
#ifndef AIRSRT_FUZZ_RING_CHECK_H
#define AIRSRT_FUZZ_RING_CHECK_H

#include <errno.h>

#include "fuzz/fuzz_input.h"
#include "shm/ring.h"

/* Smallest record that carries an envelope: a batch of n views covers at
 * least n of these, so a consumer that hands out more than cap / this
 * between two changes of the tail is handing out something twice. */
#define FUZZ_MIN_ENV_RECORD \
    (sizeof(struct airsrt_ring_rec) + AIRSRT_ENVELOPE_HDR_SIZE)

/* Reads every payload byte, so that ASan or a fault shows a view reaching
 * past the buffer; the result keeps the reads from being optimised away. */
static inline uint8_t fuzz_touch(const uint8_t *p, size_t n)
{
    uint8_t x = 0;

    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    return x;
}

/* v is a whole, validated envelope record inside buf, ending at v->end. */
static inline void fuzz_check_view(const struct airsrt_ring *r,
                                   const struct airsrt_ring_view *v)
{
    const uint8_t *env = (const uint8_t *)v->env;
    const struct airsrt_ring_rec *rec;
    uint64_t off, size;
    volatile uint8_t sink;

    FUZZ_CHECK(v->env != NULL);
    FUZZ_CHECK(env >= r->buf + sizeof(*rec) && env < r->buf + r->capacity);
    off = (uint64_t)(env - r->buf);
    FUZZ_CHECK(off % 8 == 0);
    FUZZ_CHECK(v->payload_len <= r->payload_max);
    FUZZ_CHECK(off + AIRSRT_ENVELOPE_HDR_SIZE + v->payload_len <= r->capacity);
    FUZZ_CHECK(v->env->payload_len == v->payload_len);
    FUZZ_CHECK(airsrt_envelope_validate(v->env, r->capacity - off,
                                        r->payload_max) ==
               (int)v->payload_len);
    rec = (const struct airsrt_ring_rec *)(env - sizeof(*rec));
    size = airsrt_ring_record_size(v->payload_len);
    FUZZ_CHECK(rec->tag == AIRSRT_REC_ENVELOPE && rec->size == size);
    FUZZ_CHECK(((v->end - size) & (r->capacity - 1)) == off - sizeof(*rec));
    sink = fuzz_touch(v->env->payload, v->payload_len);
    (void)sink;
}

/* A batch of n views from one read of at most max that started at
 * position before: well-formed, in order, none past the read position. */
static inline void fuzz_check_batch(const struct airsrt_ring *r,
                                    const struct airsrt_ring_view *v,
                                    ssize_t n, size_t max, uint64_t before)
{
    if (n < 0) {
        FUZZ_CHECK(n == -EBADMSG);
        return;
    }
    FUZZ_CHECK((size_t)n <= max);
    for (ssize_t i = 0; i < n; i++) {
        fuzz_check_view(r, &v[i]);
        FUZZ_CHECK(v[i].end > (i == 0 ? before : v[i - 1].end));
        FUZZ_CHECK(v[i].end <= r->read);
    }
}

#endif
