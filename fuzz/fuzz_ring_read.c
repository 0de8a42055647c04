/*
 * fuzz/fuzz_ring_read.c - the ring consumer against a ring whose memory
 * is entirely the fuzzer's: records, tail and head.
 *
 * Feeds: a producer block, a consumer block and a 4096-byte buffer built
 * from the input, then a script that rewrites the producer's tail (torn,
 * lying, wrapped), scribbles the buffer and the head, and restarts the
 * consumer between reads.
 *
 * Asserts: the consumer reads nothing outside the buffer (ASan: buffer and
 * blocks are exact heap allocations); every view it hands out is a whole
 * validated envelope inside the buffer (env + 88 + payload_len <= buf +
 * cap) whose record ends at view.end; it returns at most max views, and
 * only counts or -EBADMSG; and it terminates: with nothing changing
 * underneath, a bounded number of calls reaches "nothing new" (0).
 *
 * Input layout (little-endian; missing bytes read as zero):
 *
 *   off  size    field
 *     0  8       head word
 *     8  8       tail word, or tail - head when flags bit 0 is set
 *    16  1       flags: bit 0 tail relative to head; bits 1-2 payload_max
 *                (0 the ring's limit, 1 zero, 2 64, 3 from the next byte);
 *                bit 3 release after every batch, else only on request
 *    17  1       payload_max / 8 when flags bits 1-2 are 3
 *    18  1       max views per read: batch % 8 + 1
 *    19  1       nops
 *    20  9*nops  operations: kind (enum fuzz_ring_op, mod FUZZ_RING_NOPS),
 *                u64 argument
 *     .  rest    buffer contents (at most 4096 bytes; the rest is zero)
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_ring_check.h"
#include "shm/ring.h"

#define CAP FUZZ_RING_CAP
/* Without a release nothing can be read past head + capacity, and with
 * one nothing past the tail, which holds still during a drain: so a drain
 * hands out at most CAP / FUZZ_MIN_ENV_RECORD envelopes, plus a call for a
 * corruption report and one for the final "nothing new". */
#define DRAIN_LIMIT (CAP / FUZZ_MIN_ENV_RECORD + 4)

struct ctx {
    struct airsrt_ring r;
    struct airsrt_ring_prod *prod;
    struct airsrt_ring_cons *cons;
    uint8_t *buf;
    struct airsrt_ring_view *v;     /* exactly max entries */
    size_t max;
    bool is_release_each;
};

static uint32_t pick_payload_max(uint8_t flags, uint8_t byte)
{
    uint32_t limit = airsrt_ring_payload_limit(CAP);

    switch ((flags >> 1) & 3) {
    case 0:
        return limit;
    case 1:
        return 0;
    case 2:
        return 64;
    default:
        return (uint32_t)byte * 8 > limit ? limit : (uint32_t)byte * 8;
    }
}

/* One read call: checks what it returns, releases if asked. Returns the
 * call's result. */
static ssize_t read_once(struct ctx *c)
{
    uint64_t before = c->r.read;
    ssize_t n = airsrt_ring_read(&c->r, c->v, c->max);

    fuzz_check_batch(&c->r, c->v, n, c->max, before);
    if (n > 0 && c->is_release_each)
        airsrt_ring_release(&c->r, c->v[n - 1].end);
    return n;
}

/* Reads until the consumer says there is nothing new; it must get there. */
static void drain(struct ctx *c)
{
    for (unsigned calls = 0;; calls++) {
        FUZZ_CHECK(calls < DRAIN_LIMIT);
        if (read_once(c) == 0)
            break;
    }
    /* Asked again with nothing changed, it still has nothing. */
    FUZZ_CHECK(read_once(c) == 0);
}

static void apply(struct ctx *c, uint8_t kind, uint64_t arg)
{
    uint64_t tail = atomic_load(&c->prod->tail);

    switch (kind % FUZZ_RING_NOPS) {
    case FUZZ_RING_TAIL_SET:
        atomic_store(&c->prod->tail, arg);
        break;
    case FUZZ_RING_TAIL_ADD:
        atomic_store(&c->prod->tail, tail + (uint64_t)(int64_t)(int32_t)arg);
        break;
    case FUZZ_RING_BUF_WRITE: {
        uint32_t word = (uint32_t)(arg >> 32);

        memcpy(c->buf + (arg & (CAP - 4)), &word, sizeof(word));
        break;
    }
    case FUZZ_RING_HEAD_SET:
        atomic_store(&c->cons->head, arg);
        break;
    case FUZZ_RING_REATTACH:
        airsrt_ring_consumer_attach(&c->r);
        break;
    case FUZZ_RING_READ_ONE:
        read_once(c);
        break;
    case FUZZ_RING_RELEASE_ALL:
        airsrt_ring_release_all(&c->r);
        break;
    default:
        drain(c);
        break;
    }
}

static void setup(struct ctx *c, struct fuzz_in *in)
{
    uint64_t head = fuzz_u64(in), tail = fuzz_u64(in);
    uint8_t flags = fuzz_u8(in), pmax = fuzz_u8(in), batch = fuzz_u8(in);

    c->prod = aligned_alloc(64, sizeof(*c->prod));
    c->cons = aligned_alloc(64, sizeof(*c->cons));
    c->buf = malloc(CAP);
    c->max = batch % 8u + 1;
    c->v = malloc(c->max * sizeof(*c->v));
    FUZZ_CHECK(c->prod && c->cons && c->buf && c->v);
    memset(c->prod, 0, sizeof(*c->prod));
    memset(c->cons, 0, sizeof(*c->cons));
    memset(c->buf, 0, CAP);
    atomic_store(&c->cons->head, head);
    atomic_store(&c->prod->tail, (flags & 1) ? head + tail : tail);
    c->is_release_each = (flags & 8) != 0;
    FUZZ_CHECK(airsrt_ring_bind(&c->r, c->prod, c->cons, c->buf, CAP,
                                pick_payload_max(flags, pmax)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    struct fuzz_in ops;
    struct ctx c;
    uint8_t nops;

    setup(&c, &in);
    nops = fuzz_u8(&in);
    ops = in;
    ops.n = in.n < 9u * nops ? in.n : 9u * nops;
    in.p += ops.n;
    in.n -= ops.n;
    memcpy(c.buf, in.p, in.n < CAP ? in.n : CAP);

    airsrt_ring_consumer_attach(&c.r);
    for (unsigned i = 0; i < nops; i++) {
        uint8_t kind = fuzz_u8(&ops);

        apply(&c, kind, fuzz_u64(&ops));
    }
    drain(&c);

    free(c.v);
    free(c.buf);
    free(c.cons);
    free(c.prod);
    return 0;
}
