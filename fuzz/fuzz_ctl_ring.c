/*
 * fuzz/fuzz_ctl_ring.c - a control ring driven by a script: producers
 * pushing under the robust lock, the consumer reading and releasing, and
 * garbage written into the buffer, the producer tail and the consumer
 * head in between.
 *
 * Feeds: a 4096-byte control ring (producer block with a robust mutex from
 * airsrt_robust_init, consumer block, buffer; each an exact heap
 * allocation) and operations from the input.
 *
 * Asserts, always: no operation reads or writes outside the ring (ASan);
 * a push returns 0, -EAGAIN or -EMSGSIZE (exactly when payload_len >
 * payload_max); every view the consumer accepts is a whole validated
 * envelope inside the buffer; reads terminate; and once the garbage stops,
 * the ring recovers: after the consumer has released what it found, a
 * few pushes get an envelope through.
 * Until the first garbage write, also: the consumer hands out exactly the
 * pushed envelopes, in order and intact, again after a restart only those
 * it had not released; a push is refused for room only when the envelope
 * (and any padding before it) would not fit between tail and head.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *
 *   off  size  field
 *     0  1     payload_max / 8, clamped to the ring's limit; 0 = the limit
 *     1  9*k   operations: kind (enum fuzz_ctl_op, mod FUZZ_CTL_NOPS), u64
 *              argument; as many as the input holds, at most MAX_OPS
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_ring_check.h"
#include "shm/ring.h"
#include "shm/robust.h"

#define CAP FUZZ_CTL_CAP
#define MAX_OPS 512u
#define MAX_VIEWS 8u
#define DRAIN_LIMIT (CAP / FUZZ_MIN_ENV_RECORD + 4)
#define RECOVERY_ROUNDS 4
/* More envelopes than fit the ring at once. */
#define QMAX 64u

/* What the producers sent and the consumer has seen, while clean. */
struct sent {
    uint64_t id;
    uint32_t len;
    uint64_t end;           /* view.end once read */
};

struct ctx {
    struct airsrt_ring prod_r, cons_r;  /* one handle per role */
    struct airsrt_ring_prod *prod;
    struct airsrt_ring_cons *cons;
    uint8_t *buf;
    struct airsrt_envelope *env;        /* push buffer */
    struct airsrt_ring_view v[MAX_VIEWS];
    ssize_t nviews;                     /* of the last read */
    uint64_t next_id;
    bool is_clean;                      /* no garbage written yet */
    struct sent q[QMAX];
    uint64_t q_released, q_read, q_pushed;  /* in that order, never down */
};

static uint8_t pattern(uint64_t id, uint32_t i)
{
    return (uint8_t)(id * 131 + i * 7 + 1);
}

static void model_push(struct ctx *c, uint64_t tail, uint64_t head,
                       uint32_t len, int rc)
{
    uint64_t size = airsrt_ring_record_size(len);
    uint64_t off = tail & (CAP - 1);
    uint64_t pad = CAP - off < size ? CAP - off : 0;
    bool fits = tail + pad + size - head <= CAP;

    if (len > c->prod_r.payload_max) {
        FUZZ_CHECK(rc == -EMSGSIZE);
        return;
    }
    FUZZ_CHECK(rc == (fits ? 0 : -EAGAIN));
    if (rc == 0) {
        FUZZ_CHECK(atomic_load(&c->prod->tail) == tail + pad + size);
        FUZZ_CHECK(c->q_pushed - c->q_released < QMAX);
        c->q[c->q_pushed % QMAX] = (struct sent){ .id = c->env->message_id,
                                                  .len = len };
        c->q_pushed++;
    }
}

static void op_push(struct ctx *c, uint64_t arg)
{
    uint32_t max = c->prod_r.payload_max;
    uint32_t len = (uint32_t)(arg % (max + 9u));   /* sometimes too big */
    uint64_t tail = atomic_load(&c->prod->tail);
    uint64_t head = atomic_load(&c->cons->head);
    struct airsrt_address from = { 0, 0, 1, 1, 1 };
    int rc;

    airsrt_envelope_init(c->env, (uint32_t)(arg >> 32), len);
    c->env->sender = from;
    c->env->priority = AIRSRT_PRIO_SYSTEM;
    c->env->message_id = ++c->next_id;
    for (uint32_t i = 0; i < len && i < max; i++)
        c->env->payload[i] = pattern(c->next_id, i);
    rc = airsrt_ctl_push(&c->prod_r, c->env);
    FUZZ_CHECK(rc == 0 || rc == -EAGAIN || rc == -EMSGSIZE);
    FUZZ_CHECK(rc != -EMSGSIZE || len > max);
    if (c->is_clean)
        model_push(c, tail, head, len, rc);
}

static void model_read(struct ctx *c, ssize_t n)
{
    FUZZ_CHECK(n >= 0);
    FUZZ_CHECK(n > 0 || c->q_read == c->q_pushed);
    for (ssize_t i = 0; i < n; i++) {
        struct sent *s = &c->q[c->q_read % QMAX];
        const struct airsrt_ring_view *v = &c->v[i];

        FUZZ_CHECK(c->q_read < c->q_pushed);
        FUZZ_CHECK(v->env->message_id == s->id && v->payload_len == s->len);
        for (uint32_t j = 0; j < s->len; j++)
            FUZZ_CHECK(v->env->payload[j] == pattern(s->id, j));
        s->end = v->end;
        c->q_read++;
    }
}

static ssize_t op_read(struct ctx *c, size_t max)
{
    uint64_t before = c->cons_r.read;
    ssize_t n = airsrt_ring_read(&c->cons_r, c->v, max);

    fuzz_check_batch(&c->cons_r, c->v, n, max, before);
    c->nviews = n > 0 ? n : 0;
    if (c->is_clean)
        model_read(c, n);
    return n;
}

/* The consumer's released position moved: so does the model's. */
static void model_release(struct ctx *c)
{
    while (c->q_released < c->q_read &&
           c->q[c->q_released % QMAX].end <= c->cons_r.released)
        c->q_released++;
}

static void op_release(struct ctx *c, uint64_t pos)
{
    airsrt_ring_release(&c->cons_r, pos);
    if (c->is_clean)
        model_release(c);
}

static void op_reattach(struct ctx *c)
{
    airsrt_ring_consumer_attach(&c->cons_r);
    c->nviews = 0;
    if (c->is_clean) {
        /* At-least-once: what was read but not released comes again. */
        FUZZ_CHECK(c->cons_r.read == c->cons_r.released &&
                   c->cons_r.released == atomic_load(&c->cons->head));
        c->q_read = c->q_released;
    }
}

static void garbage_word(_Atomic uint64_t *w, uint64_t arg, bool is_nudge)
{
    uint64_t old = atomic_load(w);

    atomic_store(w, is_nudge ? old + (uint64_t)(int64_t)(int16_t)arg : arg);
}

static void apply(struct ctx *c, uint8_t kind, uint64_t arg)
{
    switch (kind % FUZZ_CTL_NOPS) {
    case FUZZ_CTL_PUSH:
        op_push(c, arg);
        break;
    case FUZZ_CTL_READ:
        op_read(c, arg % MAX_VIEWS + 1);
        break;
    case FUZZ_CTL_RELEASE_ALL:
        op_release(c, c->cons_r.read);
        break;
    case FUZZ_CTL_RELEASE_SOME:
        if (c->nviews > 0)
            op_release(c, c->v[arg % (uint64_t)c->nviews].end);
        break;
    case FUZZ_CTL_BUF_WRITE: {
        uint32_t word = (uint32_t)(arg >> 32);

        memcpy(c->buf + (arg & (CAP - 4)), &word, sizeof(word));
        c->is_clean = false;
        break;
    }
    case FUZZ_CTL_TAIL_WRITE:
    case FUZZ_CTL_TAIL_NUDGE:
        garbage_word(&c->prod->tail, arg, kind % FUZZ_CTL_NOPS ==
                                          FUZZ_CTL_TAIL_NUDGE);
        c->is_clean = false;
        break;
    case FUZZ_CTL_HEAD_WRITE:
    case FUZZ_CTL_HEAD_NUDGE:
        garbage_word(&c->cons->head, arg, kind % FUZZ_CTL_NOPS ==
                                          FUZZ_CTL_HEAD_NUDGE);
        c->is_clean = false;
        break;
    default:
        op_reattach(c);
        break;
    }
}

/* Reads and releases until there is nothing new; returns the envelopes. */
static unsigned drain(struct ctx *c)
{
    unsigned got = 0;

    for (unsigned calls = 0;; calls++) {
        ssize_t n;

        FUZZ_CHECK(calls < DRAIN_LIMIT);
        n = op_read(c, MAX_VIEWS);
        /* Even on 0: a consumer done with a batch gives it back, and the
         * producer restarts from what it gave back. */
        op_release(c, c->cons_r.read);
        if (n == 0)
            break;
        if (n > 0)
            got += (unsigned)n;
    }
    return got;
}

/* The garbage has stopped: the ring must carry envelopes again. */
static void check_recovery(struct ctx *c)
{
    for (int round = 0; round < RECOVERY_ROUNDS; round++) {
        drain(c);
        op_push(c, 0);
        if (drain(c) > 0)
            return;
    }
    FUZZ_CHECK(!"control ring never recovered");
}

static void setup(struct ctx *c, uint8_t pmax)
{
    uint32_t limit = airsrt_ring_payload_limit(CAP);
    uint32_t payload_max = pmax == 0 || pmax * 8u > limit ? limit : pmax * 8u;

    memset(c, 0, sizeof(*c));
    c->prod = aligned_alloc(64, sizeof(*c->prod));
    c->cons = aligned_alloc(64, sizeof(*c->cons));
    c->buf = malloc(CAP);
    c->env = malloc(airsrt_envelope_size(payload_max));
    FUZZ_CHECK(c->prod && c->cons && c->buf && c->env);
    memset(c->prod, 0, sizeof(*c->prod));
    memset(c->cons, 0, sizeof(*c->cons));
    memset(c->buf, 0, CAP);
    FUZZ_CHECK(airsrt_robust_init(&c->prod->lock) == 0);
    FUZZ_CHECK(airsrt_ring_bind(&c->prod_r, c->prod, c->cons, c->buf, CAP,
                                payload_max) == 0);
    FUZZ_CHECK(airsrt_ring_bind(&c->cons_r, c->prod, c->cons, c->buf, CAP,
                                payload_max) == 0);
    airsrt_ring_consumer_attach(&c->cons_r);
    c->is_clean = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    struct ctx *c = malloc(sizeof(*c));

    FUZZ_CHECK(c != NULL);
    setup(c, fuzz_u8(&in));
    for (unsigned i = 0; i < MAX_OPS && in.n > 0; i++) {
        uint8_t kind = fuzz_u8(&in);

        apply(c, kind, fuzz_u64(&in));
    }
    check_recovery(c);
    pthread_mutex_destroy(&c->prod->lock);
    free(c->env);
    free(c->buf);
    free(c->cons);
    free(c->prod);
    free(c);
    return 0;
}
