/*
 * fuzz/fuzz_request_inbound.c - replies and timeouts that another worker
 * (or anyone who can scribble on a ring) puts in a worker's data ring,
 * while its actor waits for requests (airsrt/request.h).
 *
 * Feeds: a runtime of 2 workers (one segment for the process, its name
 * unlinked at once). Worker 1 is opened in-process for each input, with
 * a "caller" actor and a "bystander". The harness plays worker 0: it
 * reads the requests worker 1 sends it on ring 1 -> 0 and writes
 * envelopes into ring 0 -> 1.
 *
 * Input layout (little-endian; missing bytes read as zero): operations,
 * at most MAX_OPS, each a kind byte (mod 4):
 *   0  the caller sends a request to worker 0; u8: timeout (even: 0, due
 *      at the next poll; odd: an hour)
 *   1  an envelope into ring 0 -> 1, always well formed (a damaged ring
 *      is fuzz_worker_inbound's matter): u8 flags (mod 5: reply, none,
 *      reply + request, request, reply + one hop); u8 type (0 the reply type,
 *      1 AIRSRT_MSG_TIMEOUT, 2 a forged payload-less TIMEOUT, else an
 *      application type); u8 correlation (below 128: the id of request
 *      number sel % requests sent, else a raw u64 follows); u8 recipient
 *      (0 caller, 1 its stale address, 2 bystander, 3 the caller of
 *      another incarnation); u8 payload length (mod 64)
 *   2  one poll of worker 1
 *   3  every pending timer due now (white box), then a poll
 *
 * Asserts: nothing crashes, reads out of bounds or leaks (ASan); every
 * request worker 1 sent is well formed (request flag, reply_to the
 * caller, the id it was given); the caller's handle sees, per request, at
 * most one of a reply (AIRSRT_ENV_F_REPLY) and a timeout - never both,
 * never twice, never one for an id it did not get, and a timeout only
 * from its own worker; once every timer is due and the worker settled,
 * every request was settled exactly once, no request and no timer is
 * left, and every well-formed reply to a live actor is either
 * delivered to the caller or counted as a late reply (the bystander
 * waits for nothing: all of its replies are late).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/worker_rig.h"
#include "worker/worker_impl.h"

#define MAX_OPS      128u
#define MAX_REQ      128u
#define PAYLOAD_MAX  256u
#define RING_BYTES   16384u
#define SETTLE_POLLS 64
#define T_REQ        0x51u
#define T_REP        0x52u
#define HOUR_NS      3600000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only its data ring 0 -> 1 is written: the control ring stays empty. */
static struct fuzz_rig G;

static struct {
    struct airsrt_address caller, bystander;
    uint64_t corr[MAX_REQ];
    uint8_t settled[MAX_REQ];       /* times handle saw its settlement */
    uint32_t nreq, nback;           /* requests sent, seen on 1 -> 0 */
    uint64_t replies_handled;       /* F_REPLY envelopes the caller got */
    uint64_t replies_live;          /* well-formed F_REPLY to a live actor */
} R;

/* The request of corr, or -1. */
static int request_of(uint64_t corr)
{
    for (uint32_t i = 0; i < R.nreq; i++)
        if (R.corr[i] == corr)
            return (int)i;
    return -1;
}

static void settle_once(uint64_t corr)
{
    int i = request_of(corr);

    FUZZ_CHECK(i >= 0);
    FUZZ_CHECK(R.settled[i] == 0);
    R.settled[i]++;
}

static int caller_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct airsrt_timeout t;

    (void)state;
    if (env->type == AIRSRT_MSG_TIMEOUT) {
        /* Only its own worker's, with the payload it made. */
        FUZZ_CHECK(airsrt_address_equal(&env->sender, airsrt_self(ctx)));
        FUZZ_CHECK(env->payload_len == sizeof(t));
        memcpy(&t, env->payload, sizeof(t));
        FUZZ_CHECK(t.correlation_id == env->correlation_id);
        FUZZ_CHECK(t.type == T_REQ);
        settle_once(env->correlation_id);
    } else if (env->flags & AIRSRT_ENV_F_REPLY) {
        R.replies_handled++;
        settle_once(env->correlation_id);
    }
    return 0;
}

static int bystander_handle(struct airsrt_ctx *ctx, void *state,
                            const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

static const struct airsrt_actor_type caller = {
    .name = "caller", .handle = caller_handle };
static const struct airsrt_actor_type bystander = {
    .name = "bystander", .handle = bystander_handle };
static const struct airsrt_actor_type *const types[] = {
    &caller, &bystander, NULL };

/* What worker 1 sent worker 0: the caller's requests, nothing else. */
static void take_back(const struct airsrt_ring_view *v)
{
    const struct airsrt_envelope *e = v->env;

    FUZZ_CHECK(R.nback < R.nreq);
    FUZZ_CHECK(e->type == T_REQ);
    FUZZ_CHECK(e->flags == AIRSRT_ENV_F_REQUEST);
    FUZZ_CHECK(airsrt_address_equal(&e->reply_to, &R.caller));
    FUZZ_CHECK(e->correlation_id == R.corr[R.nback]);
    R.nback++;
}

static void setup(void)
{
    const struct airsrt_shm_params p = {
        .ring_bytes = RING_BYTES, .registry_capacity = 64,
        .payload_max = PAYLOAD_MAX, .actors_max = 64 };

    fuzz_rig_setup(&G, "fuzz-request", &p, take_back);
}

static void open_worker(void)
{
    struct airsrt_worker_opts o = { .spin_ns = 0 };
    struct airsrt_ctx *ctx;

    memset(&R, 0, sizeof(R));
    ctx = fuzz_rig_open(&G, types, &o);
    FUZZ_CHECK(airsrt_spawn(ctx, &caller, NULL, &R.caller) == 0);
    FUZZ_CHECK(airsrt_spawn(ctx, &bystander, NULL, &R.bystander) == 0);
}

static void op_request(struct fuzz_in *in)
{
    struct airsrt_address to = { .worker = 0, .incarnation = 1, .slot = 1,
                                 .generation = 1 };
    struct airsrt_ctx ctx;
    uint64_t timeout = fuzz_u8(in) & 1 ? HOUR_NS : 0;
    int rc;

    if (R.nreq == MAX_REQ || G.status >= 0)
        return;
    ctx = airsrt__actor_ctx(G.w, airsrt__actor_find(G.w, &R.caller));
    rc = airsrt_request(&ctx, &to, NULL, T_REQ, NULL, 0, timeout,
                        &R.corr[R.nreq]);
    /* A full ring queues it in the outbox (AIRSRT_SENT_BACKPRESSURE):
     * sent and armed all the same. */
    FUZZ_CHECK(rc == 0 || rc == AIRSRT_SENT_BACKPRESSURE);
    R.nreq++;
}

static struct airsrt_address pick_recipient(struct fuzz_in *in)
{
    struct airsrt_address a = R.caller;

    switch (fuzz_u8(in) % 4) {
    case 1:
        a.generation++;
        break;
    case 2:
        a = R.bystander;
        break;
    case 3:
        a.incarnation++;
        break;
    }
    return a;
}

static void fill_header(struct fuzz_in *in, struct airsrt_envelope *e,
                        uint32_t *len)
{
    uint8_t f = fuzz_u8(in), t = fuzz_u8(in), c = fuzz_u8(in);

    static const uint8_t flags[] = {
        AIRSRT_ENV_F_REPLY, 0, AIRSRT_ENV_F_REPLY | AIRSRT_ENV_F_REQUEST,
        AIRSRT_ENV_F_REQUEST, AIRSRT_ENV_F_REPLY | 1u };

    e->flags = flags[f % sizeof(flags)];
    e->priority = AIRSRT_PRIO_NORMAL;
    e->type = t == 0 ? T_REP : t == 1 || t == 2 ? AIRSRT_MSG_TIMEOUT
                                                : (uint32_t)t + 0x100u;
    e->correlation_id = c < 128 && R.nreq > 0 ? R.corr[c % R.nreq]
                                              : fuzz_u64(in);
    e->recipient = pick_recipient(in);
    e->sender = (struct airsrt_address){ .worker = 0, .incarnation = 1,
                                         .slot = 1, .generation = 1 };
    e->message_id = UINT64_MAX - R.nreq;
    *len = t == 2 ? 0 : fuzz_u8(in) % 64u;
    if (t == 1 && *len < sizeof(struct airsrt_timeout))
        *len = sizeof(struct airsrt_timeout);
}

static void op_envelope(struct fuzz_in *in)
{
    struct airsrt_envelope hdr = { 0 };
    /* fill_header() asks for below 64 bytes, or a whole timeout. */
    uint8_t payload[64 + sizeof(struct airsrt_timeout)];
    uint32_t len;

    fill_header(in, &hdr, &len);
    hdr.payload_len = len;
    memset(payload, 0x5a, len);
    if (hdr.type == AIRSRT_MSG_TIMEOUT && len >= sizeof(uint64_t))
        memcpy(payload, &hdr.correlation_id, sizeof(uint64_t));
    if (fuzz_rig_write(&G, FUZZ_RIG_DATA, &hdr, payload) == NULL)
        return;
    if (airsrt_envelope_validate(&hdr, sizeof(hdr) + len, PAYLOAD_MAX) >= 0 &&
        (hdr.flags & AIRSRT_ENV_F_REPLY) && hdr.type != AIRSRT_MSG_TIMEOUT &&
        (airsrt_address_equal(&hdr.recipient, &R.caller) ||
         airsrt_address_equal(&hdr.recipient, &R.bystander)))
        R.replies_live++;
}

/* Every timer due now: the heap's order may break, which only changes
 * the order they fire in. */
static void expire_all(void)
{
    for (uint32_t i = 0; i < G.w->timers.n; i++)
        G.w->timers.heap[i].due_ns = 1;
}

static void run_ops(struct fuzz_in *in)
{
    for (uint32_t i = 0; i < MAX_OPS && in->n > 0; i++) {
        switch (fuzz_u8(in) % 4) {
        case 0:
            op_request(in);
            break;
        case 1:
            op_envelope(in);
            break;
        case 3:
            expire_all();
            /* fall through */
        default:
            fuzz_rig_poll(&G);
            break;
        }
    }
}

/* Worker 1 has ended, or is idle with no timer left to fire. */
static bool is_quiet(void)
{
    return fuzz_rig_is_idle(&G, G.w->timers.n);
}

static void settle(void)
{
    for (int i = 0; i < SETTLE_POLLS && !is_quiet(); i++) {
        expire_all();
        fuzz_rig_poll(&G);
    }
    FUZZ_CHECK(is_quiet());
}

static void check_accounts(void)
{
    const struct airsrt_worker_self *s = G.w->self;
    uint64_t late = atomic_load(&s->dead_letters[AIRSRT_DL_LATE_REPLY]);

    FUZZ_CHECK(G.status < 0);
    FUZZ_CHECK(R.nback == R.nreq);
    for (uint32_t i = 0; i < R.nreq; i++)
        FUZZ_CHECK(R.settled[i] == 1);
    FUZZ_CHECK(G.w->nrequests == 0);
    FUZZ_CHECK(G.w->timers.n == 0);
    FUZZ_CHECK(R.replies_handled + late == R.replies_live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };

    if (!G.is_ready)
        setup();
    open_worker();
    run_ops(&in);
    settle();
    check_accounts();
    airsrt__worker_close(G.w);
    return 0;
}
