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
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/worker_rig.h"
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

enum { DATA = FUZZ_RIG_DATA, CTL = FUZZ_RIG_CTL };

static struct fuzz_rig G;

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
    struct airsrt_address live[NW + NT];
    struct ref_rec refs[MAX_REFS];
    uint32_t nrefs;
    struct ask asks[MAX_REFS];
    uint32_t nasks;
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

/* ---- what comes back ---- */

static void take_back(const struct airsrt_ring_view *v)
{
    const struct airsrt_envelope *e = v->env;
    uint32_t len = v->payload_len;

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

/* ---- the runtime, once ---- */

static void setup(void)
{
    const struct airsrt_shm_params p = {
        .ring_bytes = RING_BYTES, .ctl_ring_bytes = RING_BYTES,
        .registry_capacity = 16, .payload_max = PAYLOAD_MAX,
        .actors_max = 64 };

    fuzz_rig_setup(&G, "fuzz-monitor", &p, take_back);
}

static void open_worker(void)
{
    struct airsrt_worker_opts o = { .spin_ns = 0 };
    struct airsrt_ctx *ctx;

    memset(&R, 0, sizeof(R));
    ctx = fuzz_rig_open(&G, types, &o);
    for (uint32_t i = 0; i < NW + NT; i++)
        FUZZ_CHECK(airsrt_spawn(ctx, i < NW ? &watcher : &target, NULL,
                                &R.live[i]) == 0);
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
    fuzz_rig_write(&G, ring, &hdr, payload);
}

static struct airsrt_ctx actor_ctx(uint32_t i)
{
    struct actor *a = airsrt__actor_find(G.w, &R.live[i]);

    return a ? airsrt__actor_ctx(G.w, a) : (struct airsrt_ctx){ .w = G.w };
}

static void op_monitor(struct fuzz_in *in)
{
    uint32_t i = fuzz_u8(in) % NW;
    struct airsrt_address to = pick_address(in);
    struct airsrt_ctx ctx = actor_ctx(i);
    uint64_t ref;

    if (G.status >= 0 || R.nrefs == MAX_REFS)
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

    if (G.status >= 0)
        return;
    if (airsrt_demonitor(&ctx, ref) == 0) {
        FUZZ_CHECK(r != NULL && r->watcher == i && !r->is_demonitored);
        r->is_demonitored = true;
    }
}

static void op_stop_or_fail(struct fuzz_in *in, bool fail)
{
    uint32_t i = fuzz_u8(in) % (NW + NT);

    if (G.status >= 0)
        return;
    if (fail)
        airsrt_send(airsrt__worker_ctx(G.w), &R.live[NW + i % NT], T_FAIL,
                    NULL, 0);
    else
        airsrt_stop(airsrt__worker_ctx(G.w), &R.live[i]);
}

static void op_worker_down(struct fuzz_in *in)
{
    struct airsrt_worker_down d = { .worker = 0, .status = -1,
                                    .signal = 9 };
    struct airsrt_envelope hdr;

    d.incarnation = fuzz_u8(in) % 3u;
    airsrt_envelope_init(&hdr, AIRSRT_CTL_WORKER_DOWN, sizeof(d));
    fuzz_rig_write(&G, CTL, &hdr, &d);
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
    fuzz_rig_write(&G, DATA, &hdr, &d);
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
            fuzz_rig_poll(&G);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    int polls = 0;

    if (!G.is_ready)
        setup();
    open_worker();
    run_ops(&in);
    while (!fuzz_rig_is_idle(&G, G.w->nstops)) {
        FUZZ_CHECK(++polls <= SETTLE_POLLS);
        fuzz_rig_poll(&G);
    }
    if (G.status < 0) {
        airsrt__worker_shutdown(G.w, AIRSRT_EXIT_OK);
        fuzz_rig_poll(&G);
    }
    /* Only stopping every actor ends this worker. */
    FUZZ_CHECK(G.status == AIRSRT_EXIT_OK);
    fuzz_rig_drain(&G);
    airsrt__worker_close(G.w);
    return 0;
}
