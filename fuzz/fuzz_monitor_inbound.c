/*
 * fuzz/fuzz_monitor_inbound.c - monitors fed untrusted envelopes: the
 * MONITOR, DEMONITOR and DOWN envelopes (airsrt/monitor.h) another worker,
 * or anyone who can scribble on a ring, may put in a worker's data ring
 * and control ring, mixed with the worker's own monitor calls, stops,
 * failures and WORKER_DOWN announcements.
 *
 * Feeds: a runtime of 2 workers (one segment for the process, its name
 * unlinked as soon as it exists), in which worker 1 is opened in-process
 * for each input with NW watchers and NT targets (targets fail on
 * T_FAIL, and on_error stops them). The harness plays worker 0: it
 * writes records into the data ring 0 -> 1 and the control ring of
 * worker 1, and reads what worker 1 sends back on 1 -> 0, remembering
 * the MONITOR requests so that it can answer them with a DOWN (late,
 * twice, or never). The rings are emptied before each input.
 *
 * Input layout (little-endian; missing bytes read as zero): operations,
 * at most MAX_OPS, each a kind byte (mod 10):
 *   0, 1  monitor envelope into the data ring
 *   2     monitor envelope into the control ring
 *   3     watcher u8 monitors address (pick)
 *   4     watcher u8 demonitors ref (pick)
 *   5     stop actor u8 (mod NW + NT)
 *   6     send T_FAIL to target u8
 *   7     WORKER_DOWN for worker 0, incarnation u8 % 3, on the control
 *         ring
 *   8     answer MONITOR request u8 seen on 1 -> 0 with DOWN, reason u8
 *   9     one poll of the worker
 * A monitor envelope: type (u8 mod 5: DOWN, MONITOR, DEMONITOR, another
 * id of the range, a raw u32), recipient and sender (address picks),
 * correlation id (ref pick), payload: u8 mod 4 (none, a DOWN naming an
 * address pick with raw reason and err, 24 raw bytes, u8 raw bytes).
 * An address pick: u8 mod 8: null, watcher, target, a stale variant of
 * either, an address in worker 0, raw 16 bytes, or another node. A ref
 * pick: u8 mod 4: 0, a ref the harness got, one worker 0 asked about,
 * or a raw u64.
 *
 * Asserts: nothing crashes, reads out of bounds or leaks (ASan); no
 * monitor envelope but a well-formed DOWN reaches a handle; every DOWN
 * handled is for a ref the harness got for that very watcher, and at most
 * once; a ref the harness demonitored (with 0) is never handled after;
 * what comes back on 1 -> 0 is monitor envelopes to worker 0, each
 * well-formed; the worker settles within a bounded number of polls.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz_input.h"
#include "worker/worker_impl.h"

#define MAX_OPS      256u
#define MAX_REFS     512u
#define PAYLOAD_MAX  256u
#define RING_BYTES   16384u
#define SETTLE_POLLS 64
#define NW           3u
#define NT           3u
#define T_FAIL       7u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { DATA = 0, CTL = 1 };

static struct {
    bool is_ready;
    struct airsrt_shm shm;
    struct airsrt_ring ring[2];     /* producer of 0 -> 1, of ctl 1 */
    struct airsrt_ring back;        /* consumer of 1 -> 0 */
} H;

/* A ref the harness got, and what became of it. */
struct ref_rec {
    uint64_t ref;
    uint32_t watcher;               /* index into R.live */
    bool is_demonitored;            /* demonitor returned 0 */
    uint32_t downs;                 /* DOWNs handled */
};

/* A MONITOR worker 1 sent worker 0. */
struct ask {
    uint64_t ref;
    struct airsrt_address watcher, target;
};

static struct {
    struct airsrt_worker *w;
    struct airsrt_address live[NW + NT];
    struct ref_rec refs[MAX_REFS];
    uint32_t nrefs;
    struct ask asks[MAX_REFS];
    uint32_t nasks;
    int status;
} R;

/* ---- actors ---- */

static struct ref_rec *ref_lookup(uint64_t ref)
{
    for (uint32_t i = 0; i < R.nrefs; i++)
        if (R.refs[i].ref == ref)
            return &R.refs[i];
    return NULL;
}

static int watcher_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    const struct airsrt_down *d = airsrt_down_get(env);
    struct ref_rec *r;

    (void)state;
    FUZZ_CHECK(!airsrt__monitor_is_type(env->type) || d != NULL);
    if (d == NULL)
        return 0;
    r = ref_lookup(env->correlation_id);
    FUZZ_CHECK(r != NULL);
    FUZZ_CHECK(airsrt_address_equal(&R.live[r->watcher], airsrt_self(ctx)));
    FUZZ_CHECK(!r->is_demonitored);
    FUZZ_CHECK(++r->downs == 1);
    FUZZ_CHECK(d->reason < AIRSRT_DOWN_REASONS);
    return 0;
}

static int target_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    FUZZ_CHECK(!airsrt__monitor_is_type(env->type));
    return env->type == T_FAIL ? -EIO : 0;
}

static enum airsrt_directive target_on_error(struct airsrt_ctx *ctx,
                                             void *state,
                                             const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    (void)f;
    return AIRSRT_STOP;
}

static const struct airsrt_actor_type watcher = {
    .name = "watcher", .handle = watcher_handle };
static const struct airsrt_actor_type target = {
    .name = "target", .handle = target_handle,
    .on_error = target_on_error };
static const struct airsrt_actor_type *const types[] = {
    &watcher, &target, NULL };

/* ---- the runtime, once ---- */

static void release_shm(void)
{
    airsrt_shm_detach(&H.shm);
}

static void setup(void)
{
    struct airsrt_shm_params p = {
        .nworkers = 2, .ring_bytes = RING_BYTES,
        .ctl_ring_bytes = RING_BYTES, .registry_capacity = 16,
        .payload_max = PAYLOAD_MAX, .actors_max = 64 };
    char name[64];

    snprintf(name, sizeof(name), "fuzz-monitor-%d", (int)getpid());
    if (airsrt_shm_create(&H.shm, name, &p) < 0) {
        fprintf(stderr, "%s\n", H.shm.err);
        abort();
    }
    /* Nothing to leave behind, however the process ends. */
    shm_unlink(H.shm.path);
    atexit(release_shm);
    for (uint32_t w = 0; w < 2; w++)
        atomic_store(&airsrt_shm_worker_sup(&H.shm, w)->incarnation, 1);
    FUZZ_CHECK(airsrt_shm_data_ring(&H.shm, 0, 1, &H.ring[DATA]) == 0);
    FUZZ_CHECK(airsrt_shm_ctl_ring(&H.shm, 1, &H.ring[CTL]) == 0);
    FUZZ_CHECK(airsrt_shm_data_ring(&H.shm, 1, 0, &H.back) == 0);
    H.is_ready = true;
}

static void ring_clear(struct airsrt_ring *r)
{
    atomic_store(&r->prod->tail, 0);
    atomic_store(&r->cons->head, 0);
    memset(&r->prod->stats, 0, sizeof(r->prod->stats));
    memset(&r->cons->stats, 0, sizeof(r->cons->stats));
    memset(r->buf, 0, r->capacity);
}

static void open_worker(void)
{
    struct airsrt_worker_opts o = { .spin_ns = 0 };
    struct airsrt_ctx *ctx;
    char err[256];

    for (int i = 0; i < 2; i++)
        ring_clear(&H.ring[i]);
    ring_clear(&H.back);
    airsrt_ring_producer_attach(&H.ring[DATA]);
    airsrt_ring_producer_attach(&H.ring[CTL]);
    airsrt_ring_consumer_attach(&H.back);
    memset(&R, 0, sizeof(R));
    R.status = -1;
    if (airsrt__worker_open(&R.w, &H.shm, 1, types, &o, err,
                            sizeof(err)) < 0) {
        fprintf(stderr, "open: %s\n", err);
        abort();
    }
    ctx = airsrt__worker_ctx(R.w);
    for (uint32_t i = 0; i < NW + NT; i++)
        FUZZ_CHECK(airsrt_spawn(ctx, i < NW ? &watcher : &target, NULL,
                                &R.live[i]) == 0);
}

/* ---- what comes back ---- */

static void take_back(const struct airsrt_envelope *e, uint32_t len)
{
    FUZZ_CHECK(airsrt__monitor_is_type(e->type));
    FUZZ_CHECK(e->recipient.worker == 0 && e->correlation_id != 0);
    FUZZ_CHECK(e->priority == AIRSRT_PRIO_SYSTEM);
    if (e->type == AIRSRT_MSG_DOWN) {
        FUZZ_CHECK(len == sizeof(struct airsrt_down));
        return;
    }
    FUZZ_CHECK(len == 0);
    FUZZ_CHECK(e->sender.worker == 1);
    if (e->type == AIRSRT_MSG_MONITOR && R.nasks < MAX_REFS)
        R.asks[R.nasks++] = (struct ask){ e->correlation_id, e->sender,
                                          e->recipient };
}

static void drain_back(void)
{
    struct airsrt_ring_view v[64];
    ssize_t n;

    while ((n = airsrt_ring_read(&H.back, v, 64)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            take_back(v[i].env, v[i].payload_len);
        airsrt_ring_release_all(&H.back);
    }
    FUZZ_CHECK(n == 0);
}

static void poll_once(void)
{
    if (R.status < 0)
        R.status = airsrt__worker_poll(R.w, 0);
    drain_back();
}

/* ---- picks ---- */

static struct airsrt_address pick_address(struct fuzz_in *in)
{
    uint8_t sel = fuzz_u8(in);
    struct airsrt_address a = R.live[(sel / 8u) % (NW + NT)];

    switch (sel % 8u) {
    case 0:
        return AIRSRT_ADDRESS_NULL;
    case 1:
    case 2:
        return a;
    case 3:
        a.generation++;
        return a;
    case 4:
        a.incarnation++;
        return a;
    case 5:
        return (struct airsrt_address){ 0, 0, 1 + sel / 128u,
                                        1 + (sel / 8u) % 4u, 1 };
    case 6:
        a.node = fuzz_u16(in);
        a.worker = fuzz_u16(in);
        a.incarnation = fuzz_u32(in);
        a.slot = fuzz_u32(in);
        a.generation = fuzz_u32(in);
        return a;
    default:
        a.node = 1 + sel / 8u;
        return a;
    }
}

static uint64_t pick_ref(struct fuzz_in *in)
{
    uint8_t sel = fuzz_u8(in);

    switch (sel % 4u) {
    case 0:
        return 0;
    case 1:
        return R.nrefs ? R.refs[(sel / 4u) % R.nrefs].ref : 1;
    case 2:
        return R.nasks ? R.asks[(sel / 4u) % R.nasks].ref : 2;
    default:
        return fuzz_u64(in);
    }
}

static uint32_t pick_type(struct fuzz_in *in)
{
    static const uint32_t types3[] = {
        AIRSRT_MSG_DOWN, AIRSRT_MSG_MONITOR, AIRSRT_MSG_DEMONITOR,
        AIRSRT_MSG_MONITOR_LAST };
    uint8_t sel = fuzz_u8(in);

    return sel % 5u < 4 ? types3[sel % 5u] : fuzz_u32(in);
}

/* ---- operations ---- */

static void write_record(int ring, const struct airsrt_envelope *hdr,
                         const void *payload)
{
    struct airsrt_envelope *e;

    if (airsrt_ring_reserve(&H.ring[ring], hdr->payload_len, &e) < 0)
        return;
    memcpy(e, hdr, sizeof(*hdr));
    memcpy(e->payload, payload, hdr->payload_len);
    airsrt_ring_commit(&H.ring[ring]);
    airsrt_ring_publish(&H.ring[ring]);
}

static uint32_t pick_payload(struct fuzz_in *in, uint8_t *buf)
{
    struct airsrt_down d;
    uint32_t len;

    switch (fuzz_u8(in) % 4u) {
    case 0:
        return 0;
    case 1:
        d.target = pick_address(in);
        d.reason = fuzz_u8(in) % 6u;
        d.err = (int32_t)fuzz_u32(in);
        memcpy(buf, &d, sizeof(d));
        return sizeof(d);
    case 2:
        len = sizeof(d);
        break;
    default:
        len = fuzz_u8(in) % (PAYLOAD_MAX + 1);
        break;
    }
    for (uint32_t i = 0; i < len; i++)
        buf[i] = fuzz_u8(in);
    return len;
}

static void op_envelope(struct fuzz_in *in, int ring)
{
    struct airsrt_envelope hdr;
    uint8_t payload[PAYLOAD_MAX];
    uint32_t type = pick_type(in);

    airsrt_envelope_init(&hdr, type, 0);
    hdr.priority = AIRSRT_PRIO_SYSTEM;
    hdr.recipient = pick_address(in);
    hdr.sender = pick_address(in);
    hdr.correlation_id = pick_ref(in);
    hdr.message_id = 1;
    hdr.payload_len = pick_payload(in, payload);
    write_record(ring, &hdr, payload);
}

static struct airsrt_ctx actor_ctx(uint32_t i)
{
    struct actor *a = airsrt__actor_find(R.w, &R.live[i]);

    return a ? airsrt__actor_ctx(R.w, a) : (struct airsrt_ctx){ .w = R.w };
}

static void op_monitor(struct fuzz_in *in)
{
    uint32_t i = fuzz_u8(in) % NW;
    struct airsrt_address to = pick_address(in);
    struct airsrt_ctx ctx = actor_ctx(i);
    uint64_t ref;

    if (R.status >= 0 || R.nrefs == MAX_REFS)
        return;
    if (airsrt_monitor(&ctx, &to, &ref) == 0) {
        FUZZ_CHECK(ctx.a != NULL && ref != 0 && ref_lookup(ref) == NULL);
        R.refs[R.nrefs++] = (struct ref_rec){ .ref = ref, .watcher = i };
    }
}

static void op_demonitor(struct fuzz_in *in)
{
    uint32_t i = fuzz_u8(in) % NW;
    uint64_t ref = pick_ref(in);
    struct airsrt_ctx ctx = actor_ctx(i);
    struct ref_rec *r = ref_lookup(ref);

    if (R.status >= 0)
        return;
    if (airsrt_demonitor(&ctx, ref) == 0) {
        FUZZ_CHECK(r != NULL && r->watcher == i && !r->is_demonitored);
        r->is_demonitored = true;
    }
}

static void op_stop_or_fail(struct fuzz_in *in, bool fail)
{
    uint32_t i = fuzz_u8(in) % (NW + NT);

    if (R.status >= 0)
        return;
    if (fail)
        airsrt_send(airsrt__worker_ctx(R.w), &R.live[NW + i % NT], T_FAIL,
                    NULL, 0);
    else
        airsrt_stop(airsrt__worker_ctx(R.w), &R.live[i]);
}

static void op_worker_down(struct fuzz_in *in)
{
    struct airsrt_worker_down d = { .worker = 0, .status = -1,
                                    .signal = 9 };
    struct airsrt_envelope hdr;

    d.incarnation = fuzz_u8(in) % 3u;
    airsrt_envelope_init(&hdr, AIRSRT_CTL_WORKER_DOWN, sizeof(d));
    write_record(CTL, &hdr, &d);
}

/* Worker 0's answer to a MONITOR it was sent: a DOWN to the watcher. */
static void op_answer(struct fuzz_in *in)
{
    uint8_t sel = fuzz_u8(in);
    struct airsrt_down d;
    struct airsrt_envelope hdr;
    const struct ask *a;

    d.reason = fuzz_u8(in) % AIRSRT_DOWN_REASONS;
    if (R.nasks == 0)
        return;
    a = &R.asks[sel % R.nasks];
    d.target = a->target;
    d.err = 0;
    airsrt_envelope_init(&hdr, AIRSRT_MSG_DOWN, sizeof(d));
    hdr.priority = AIRSRT_PRIO_SYSTEM;
    hdr.sender = a->target;
    hdr.recipient = a->watcher;
    hdr.correlation_id = a->ref;
    write_record(DATA, &hdr, &d);
}

static void run_ops(struct fuzz_in *in)
{
    for (uint32_t k = 0; k < MAX_OPS && in->n > 0; k++) {
        switch (fuzz_u8(in) % 10u) {
        case 0:
        case 1:
            op_envelope(in, DATA);
            break;
        case 2:
            op_envelope(in, CTL);
            break;
        case 3:
            op_monitor(in);
            break;
        case 4:
            op_demonitor(in);
            break;
        case 5:
            op_stop_or_fail(in, false);
            break;
        case 6:
            op_stop_or_fail(in, true);
            break;
        case 7:
            op_worker_down(in);
            break;
        case 8:
            op_answer(in);
            break;
        default:
            poll_once();
            break;
        }
    }
}

static bool is_settled(void)
{
    struct airsrt_worker *w = R.w;

    return R.status >= 0 ||
           (!airsrt__transport_has_input(w) && w->runq_head == NULL &&
            w->nstops == 0 && !airsrt__transport_is_backed_up(w));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    int polls = 0;

    if (!H.is_ready)
        setup();
    open_worker();
    run_ops(&in);
    while (!is_settled()) {
        FUZZ_CHECK(++polls <= SETTLE_POLLS);
        poll_once();
    }
    if (R.status < 0) {
        airsrt__worker_shutdown(R.w, AIRSRT_EXIT_OK);
        poll_once();
    }
    /* Only stopping every actor ends this worker. */
    FUZZ_CHECK(R.status == AIRSRT_EXIT_OK);
    drain_back();
    airsrt__worker_close(R.w);
    return 0;
}
