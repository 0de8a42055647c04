/*
 * fuzz/fuzz_worker_inbound.c - a worker fed untrusted envelopes: what
 * another worker (or anyone who can scribble on a ring) may put in its
 * data ring and its control ring.
 *
 * Feeds: a runtime of 2 workers (one segment for the process, its name
 * unlinked as soon as it exists), in which worker 1 is opened in-process
 * for each input, with actors: "sink" (registered as "sink"), three
 * bounded mailboxes (2 drop_newest, 2 drop_oldest, 1 reject), and a
 * "boss" whose child "fragile" fails when the payload says so and then
 * asks, by the payload too, for any directive (the boss restarts it).
 * The harness plays worker 0: it writes records into the data ring
 * 0 -> 1 and the control ring of worker 1, and reads what worker 1 sends
 * back on 1 -> 0. The registry also holds names bound to worker 0, to a
 * worker that does not exist, to another node, and to nobody. The rings
 * are emptied before each input, so that every input starts alike.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *
 *   off  size  field
 *     0  1     worker options: turn budget (bits 0-5) + 1, outbox limit
 *              4 << bits 6-7
 *     1  ...   operations, at most MAX_OPS; each a kind byte (mod 8):
 *              0, 1  envelope into the data ring
 *              2     envelope into the control ring
 *              3     envelope into the data ring, then u16 offset and u8
 *                    value: that byte of its record overwritten
 *              4, 5  garbage record (u16 payload length, then the record's
 *                    bytes, header included) into the data, control ring
 *              6, 7  one poll of the worker
 *
 * An envelope is a selector byte per field, each followed by raw bytes
 * when it asks for them: type (below 200: an application type 1..8;
 * else, by the selector mod 6, STOP, REJECTED, DEAD_LETTER,
 * CTL_SHUTDOWN, the first reserved id, or a raw u32), priority (from
 * 248: the raw byte), flags (from 248: the raw byte), reserved (from
 * 250: a raw u16), recipient, recipient_name, sender, reply_to
 * (addresses: null, a live actor, one of its stale variants, worker 0,
 * a worker that does not exist or another node, or 16 raw bytes; names:
 * none, a registered one, or a raw u32), deadline (none, long past, an
 * hour ahead, raw u64), u16 payload length (mod payload_max + 1), and a
 * byte n: the first n % 17 payload bytes come from the input.
 *
 * Asserts: nothing crashes, reads out of bounds or leaks (ASan); the
 * worker settles within a bounded number of polls; every envelope it
 * took from a ring is accounted for: handled, a dead letter (any
 * reason), forwarded to worker 0, or the runtime's (a command: STOP,
 * CTL_SHUTDOWN; or a monitor envelope) - exactly, but for the runtime's
 * and for the rejections the worker sends to local senders, when the
 * input damaged no record; with only well-formed records a ring reports
 * no corruption and, unless a shutdown came first, every record is
 * taken and its room given back; what comes back on 1 -> 0 is forwards
 * of names bound to worker 0 (as many as the worker counted),
 * rejections from the rejecting mailbox, and DOWNs answering MONITORs
 * "worker 0" sent; the worker ends early only when a command (STOP,
 * CTL_SHUTDOWN; never a monitor envelope) or damage could have asked it
 * to, with status 0; and if it still runs, a new actor is delivered a
 * well-formed envelope written into the same data ring.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/worker_rig.h"
#include "worker/worker_impl.h"

#define MAX_OPS        256u
#define PAYLOAD_MAX    1024u
#define RING_BYTES     16384u
#define CTL_RING_BYTES 8192u
#define SETTLE_POLLS   64
#define PROBE_POLLS    16
#define NLIVE          6        /* sink, newest, oldest, rejecter, boss,
                                   fragile */
#define PROBE_TYPE     0x7e57u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { DATA = FUZZ_RIG_DATA, CTL = FUZZ_RIG_CTL };

static struct fuzz_rig G;

/* Registry names, set up once for the process. */
static struct {
    uint32_t id_sink, id_remote, id_vacant, id_far, id_node;
} H;

/* What one input did and saw. */
static struct {
    struct airsrt_address live[NLIVE];
    uint64_t handled;               /* handle calls, all actors */
    uint64_t written[2], dirty[2];  /* records by ring */
    uint64_t commands;              /* well-formed STOP / CTL_SHUTDOWN */
    struct {
        uint64_t end;               /* ring position past it */
        bool is_for_runtime;        /* a command or a monitor envelope */
    } rec[2][MAX_OPS + 1];          /* well-formed records, in order */
    uint64_t back_forwards, back_rejected;
    uint64_t next_id;
    bool is_probe_seen;
} R;

/* ---- actors ---- */

static int count_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    R.handled++;
    if (env->type == PROBE_TYPE && env->message_id == UINT64_MAX)
        R.is_probe_seen = true;
    return 0;
}

/* Fails when payload byte 0 is odd. */
static int fragile_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    R.handled++;
    return env->payload_len > 0 && (env->payload[0] & 1) ? -EIO : 0;
}

/* Whatever payload byte 1 asks for. */
static enum airsrt_directive fragile_on_error(struct airsrt_ctx *ctx,
                                              void *state,
                                              const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    if (f->env == NULL || f->env->payload_len < 2)
        return AIRSRT_RESTART;
    return (enum airsrt_directive)(f->env->payload[1] % 4);
}

static const struct airsrt_actor_type fragile = {
    .name = "fragile", .handle = fragile_handle,
    .on_error = fragile_on_error,
};

static int boss_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    (void)state;
    (void)arg;
    (void)len;
    return airsrt_spawn(ctx, &fragile, NULL, &R.live[5]);
}

/* Keeps escalations inside: the worker itself never ends by failure. */
static enum airsrt_directive boss_on_error(struct airsrt_ctx *ctx,
                                           void *state,
                                           const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    (void)f;
    return AIRSRT_RESTART;
}

static const struct airsrt_actor_type sink = {
    .name = "sink", .handle = count_handle };
static const struct airsrt_actor_type bounded = {
    .name = "bounded", .handle = count_handle };
static const struct airsrt_actor_type boss = {
    .name = "boss", .pre_start = boss_start, .handle = count_handle,
    .on_error = boss_on_error };
static const struct airsrt_actor_type probe = {
    .name = "probe", .handle = count_handle };
static const struct airsrt_actor_type *const types[] = {
    &sink, &bounded, &boss, &fragile, &probe, NULL };

/* ---- the runtime, once ---- */

/* Checks one envelope worker 1 sent worker 0. */
static void take_back(const struct airsrt_ring_view *v)
{
    const struct airsrt_envelope *e = v->env;

    if (airsrt__monitor_is_type(e->type)) {
        /* A DOWN for a MONITOR "worker 0" sent. */
        FUZZ_CHECK(e->type == AIRSRT_MSG_DOWN);
        return;
    }
    if (e->recipient_name != 0) {
        /* Only "remote" is held by worker 0. */
        FUZZ_CHECK(e->recipient_name == H.id_remote);
        FUZZ_CHECK((e->flags & AIRSRT_ENV_F_HOPS) >= 1);
        R.back_forwards++;
    } else {
        /* The rejecting mailbox answers a sender of worker 0. */
        FUZZ_CHECK(e->type == AIRSRT_MSG_REJECTED);
        FUZZ_CHECK(v->payload_len == sizeof(struct airsrt_rejected));
        FUZZ_CHECK(airsrt_address_equal(&e->sender, &R.live[3]));
        FUZZ_CHECK(e->recipient.worker == 0);
        R.back_rejected++;
    }
}

static uint32_t name_id(const char *name, const struct airsrt_address *a)
{
    struct airsrt_registry reg;
    uint32_t id;

    FUZZ_CHECK(airsrt_registry_open(&reg, &G.shm) == 0);
    FUZZ_CHECK(airsrt_registry_register(&reg, name, AIRSRT_REGISTRY_NAME, a,
                                        &id) == 0);
    return id;
}

static void setup(void)
{
    const struct airsrt_shm_params p = {
        .ring_bytes = RING_BYTES, .ctl_ring_bytes = CTL_RING_BYTES,
        .registry_capacity = 64, .payload_max = PAYLOAD_MAX,
        .actors_max = 64 };
    const struct airsrt_address worker0 = { 0, 0, 1, 1, 1 };
    const struct airsrt_address nowhere = { 0, 9, 1, 1, 1 };
    const struct airsrt_address remote_node = { 3, 1, 1, 1, 1 };

    fuzz_rig_setup(&G, "fuzz-inbound", &p, take_back);
    /* sink's id is reserved now; its actor binds the same id. */
    H.id_sink = name_id("sink", &AIRSRT_ADDRESS_NULL);
    H.id_remote = name_id("remote", &worker0);
    H.id_vacant = name_id("vacant", &AIRSRT_ADDRESS_NULL);
    H.id_far = name_id("faraway", &nowhere);
    H.id_node = name_id("othernode", &remote_node);
}

/* ---- one input's worker ---- */

static void open_worker(uint8_t opt)
{
    struct airsrt_worker_opts o = {
        .spin_ns = 0, .turn_budget = (opt & 0x3fu) + 1u,
        .outbox_max = 4u << (opt >> 6) };
    struct airsrt_spawn_opts newest = {
        .mailbox_bound = 2, .overflow = AIRSRT_OVERFLOW_DROP_NEWEST };
    struct airsrt_spawn_opts oldest = {
        .mailbox_bound = 2, .overflow = AIRSRT_OVERFLOW_DROP_OLDEST };
    struct airsrt_spawn_opts reject = {
        .mailbox_bound = 1, .overflow = AIRSRT_OVERFLOW_REJECT };
    struct airsrt_spawn_opts named = { .name = "sink" };
    struct airsrt_ctx *ctx;

    memset(&R, 0, sizeof(R));
    ctx = fuzz_rig_open(&G, types, &o);
    FUZZ_CHECK(airsrt_spawn(ctx, &sink, &named, &R.live[0]) == 0);
    FUZZ_CHECK(airsrt_spawn(ctx, &bounded, &newest, &R.live[1]) == 0);
    FUZZ_CHECK(airsrt_spawn(ctx, &bounded, &oldest, &R.live[2]) == 0);
    FUZZ_CHECK(airsrt_spawn(ctx, &bounded, &reject, &R.live[3]) == 0);
    FUZZ_CHECK(airsrt_spawn(ctx, &boss, NULL, &R.live[4]) == 0);
}

/* ---- writing records ---- */

static struct airsrt_address pick_address(struct fuzz_in *in)
{
    uint8_t sel = fuzz_u8(in);
    uint32_t i = sel / 8u;
    struct airsrt_address a = R.live[i % NLIVE];

    switch (sel % 8u) {
    case 0:
        return AIRSRT_ADDRESS_NULL;
    case 1:
        return a;
    case 2:
        a.generation++;
        return a;
    case 3:
        a.incarnation++;
        return a;
    case 4:
        return (struct airsrt_address){ 0, 1, 1, 40 + i % 30, 1 };
    case 5:
        return (struct airsrt_address){ 0, 0, 1, 1 + i % 3, 1 };
    case 6:
        return (struct airsrt_address){ (uint16_t)(i & 1), (uint16_t)(2 + i),
                                        1, 1, 1 };
    default:
        a.node = fuzz_u16(in);
        a.worker = fuzz_u16(in);
        a.incarnation = fuzz_u32(in);
        a.slot = fuzz_u32(in);
        a.generation = fuzz_u32(in);
        return a;
    }
}

static uint32_t pick_name(struct fuzz_in *in)
{
    uint8_t sel = fuzz_u8(in);
    const uint32_t ids[] = { H.id_vacant, H.id_far, H.id_node, H.id_sink };

    switch (sel % 8u) {
    case 4:
        return H.id_sink;
    case 5:
        return H.id_remote;
    case 6:
        return ids[(sel / 8u) % 4];
    case 7:
        return fuzz_u32(in);
    default:
        return 0;
    }
}

static uint32_t pick_type(struct fuzz_in *in)
{
    static const uint32_t reserved[] = {
        AIRSRT_MSG_STOP, AIRSRT_MSG_REJECTED, AIRSRT_MSG_DEAD_LETTER,
        AIRSRT_CTL_SHUTDOWN, AIRSRT_TYPE_RESERVED };
    uint8_t sel = fuzz_u8(in);

    if (sel < 200)
        return 1u + sel % 8u;
    if (sel % 6u < 5)
        return reserved[sel % 6u];
    return fuzz_u32(in);
}

static uint64_t pick_deadline(struct fuzz_in *in)
{
    switch (fuzz_u8(in) % 4u) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return airsrt_now_ns() + 3600ull * 1000000000ull;
    default:
        return fuzz_u64(in);
    }
}

/* Fills the header of e (its payload_len stays what was reserved). */
static void fill_header(struct fuzz_in *in, struct airsrt_envelope *e)
{
    uint8_t b;

    e->type = pick_type(in);
    b = fuzz_u8(in);
    e->priority = b < 248 ? b % 4u : b;
    b = fuzz_u8(in);
    e->flags = b < 248 ? b & AIRSRT_ENV_F_HOPS : b;
    e->reserved = fuzz_u8(in) < 250 ? 0 : fuzz_u16(in);
    e->recipient = pick_address(in);
    e->recipient_name = pick_name(in);
    e->sender = pick_address(in);
    e->reply_to = pick_address(in);
    e->correlation_id = 0;
    e->message_id = ++R.next_id;
    e->deadline_ns = pick_deadline(in);
}

/* The record just committed at [rec, rec + size) as the consumer will
 * judge it: well-formed, or damaged. Counts it. */
static void classify(int ring, const struct airsrt_ring_rec *rec,
                     uint64_t size)
{
    const struct airsrt_envelope *e = (const void *)(rec + 1);
    int len = airsrt_envelope_validate(e, size - sizeof(*rec), PAYLOAD_MAX);
    bool is_command, is_monitor;

    if (rec->size != size || rec->tag != AIRSRT_REC_ENVELOPE || len < 0 ||
        airsrt_ring_record_size((uint32_t)len) != size) {
        R.dirty[ring]++;
        return;
    }
    /* Commands, the only envelopes that may end the worker, and monitor
     * envelopes (fuzz_monitor_inbound covers them) are the runtime's:
     * taken, and maybe neither handled nor a dead letter. */
    is_command = e->type == AIRSRT_MSG_STOP ||
                 (ring == CTL && e->type == AIRSRT_CTL_SHUTDOWN);
    is_monitor = airsrt__monitor_is_type(e->type);
    R.rec[ring][R.written[ring]].end = G.ring[ring].tail;
    R.rec[ring][R.written[ring]].is_for_runtime = is_command || is_monitor;
    R.written[ring]++;
    R.commands += is_command;
}

/*
 * The payload takes min(n, len) input bytes; a full ring takes n all the
 * same, as this harness always did, so that saved inputs and regressions
 * still mean what they meant. The scribble lands after the publish, which
 * worker 1 cannot see before its next poll.
 */
static void op_envelope(struct fuzz_in *in, int ring, bool scribble)
{
    struct airsrt_envelope hdr = { 0 };
    uint8_t payload[PAYLOAD_MAX];
    struct airsrt_ring_rec *rec;
    uint32_t len, i;
    uint8_t n;

    fill_header(in, &hdr);
    len = fuzz_u16(in) % (PAYLOAD_MAX + 1);
    n = fuzz_u8(in) % 17u;
    for (i = 0; i < len; i++)
        payload[i] = i < n ? fuzz_u8(in) : (uint8_t)(i * 7u);
    hdr.payload_len = len;
    rec = fuzz_rig_write(&G, ring, &hdr, payload);
    if (rec == NULL) {
        for (; i < n; i++)
            fuzz_u8(in);            /* the same bytes, unused */
        return;
    }
    if (scribble) {
        uint64_t size = airsrt_ring_record_size(len);
        uint16_t off = fuzz_u16(in);

        ((uint8_t *)rec)[off % size] = fuzz_u8(in);
    }
    classify(ring, rec, airsrt_ring_record_size(len));
}

static void op_garbage(struct fuzz_in *in, int ring)
{
    uint32_t len = fuzz_u16(in) % (PAYLOAD_MAX + 1);
    uint64_t size = airsrt_ring_record_size(len);
    struct airsrt_envelope *e;
    struct airsrt_ring_rec *rec = fuzz_rig_reserve(&G, ring, len, &e);

    if (rec == NULL)
        return;
    airsrt_ring_commit(&G.ring[ring]);
    for (uint64_t i = 0; i < size; i++)
        ((uint8_t *)rec)[i] = fuzz_u8(in);
    classify(ring, rec, size);
    airsrt_ring_publish(&G.ring[ring]);
}

static void run_ops(struct fuzz_in *in)
{
    for (uint32_t k = 0; k < MAX_OPS && in->n > 0; k++) {
        switch (fuzz_u8(in) % 8u) {
        case 0:
        case 1:
            op_envelope(in, DATA, false);
            break;
        case 2:
            op_envelope(in, CTL, false);
            break;
        case 3:
            op_envelope(in, DATA, true);
            break;
        case 4:
            op_garbage(in, DATA);
            break;
        case 5:
            op_garbage(in, CTL);
            break;
        default:
            fuzz_rig_poll(&G);
            break;
        }
    }
}

/* ---- after the input ---- */

static void settle(void)
{
    int polls = 0;

    while (!fuzz_rig_is_idle(&G, G.w->nstops)) {
        FUZZ_CHECK(++polls <= SETTLE_POLLS);
        fuzz_rig_poll(&G);
    }
}

/* A new actor, a well-formed envelope to it through the same data ring:
 * it must arrive. */
static void check_still_delivers(void)
{
    const uint8_t payload[8] = { 0 };
    struct airsrt_envelope hdr;
    struct airsrt_ring_rec *rec;
    struct airsrt_address to;

    FUZZ_CHECK(airsrt_spawn(airsrt__worker_ctx(G.w), &probe, NULL, &to) == 0);
    airsrt_envelope_init(&hdr, PROBE_TYPE, sizeof(payload));
    hdr.recipient = to;
    hdr.message_id = UINT64_MAX;
    rec = fuzz_rig_write(&G, DATA, &hdr, payload);
    /* Everything written so far was read: the ring must have room. */
    FUZZ_CHECK(rec != NULL);
    classify(DATA, rec, airsrt_ring_record_size(sizeof(payload)));
    for (int i = 0; i < PROBE_POLLS && !R.is_probe_seen; i++)
        fuzz_rig_poll(&G);
    FUZZ_CHECK(R.is_probe_seen);
}

static uint64_t dead_letters(const struct airsrt_worker_self *s)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < AIRSRT_DEAD_LETTER_REASONS; i++)
        n += atomic_load(&s->dead_letters[i]);
    return n;
}

/* Well-formed records of ring that the worker released (took), and how
 * many of those were the runtime's (commands, monitor envelopes). */
static uint64_t taken(int ring, uint64_t *for_runtime)
{
    uint64_t head = atomic_load(&G.ring[ring].cons->head), n = 0;

    while (n < R.written[ring] && R.rec[ring][n].end <= head)
        *for_runtime += R.rec[ring][n++].is_for_runtime;
    return n;
}

/*
 * Every envelope the worker took is handled, a dead letter, forwarded,
 * or the runtime's: a command carried out, a monitor envelope acted on.
 * The worker adds envelopes of its own: a rejecting mailbox answers
 * each envelope it refuses with an AIRSRT_MSG_REJECTED to its sender,
 * which may be local (then handled or a dead letter too); at most one
 * per mailbox_full dead letter. With damaged records in a ring the
 * harness cannot tell what the worker took from it: then only what the
 * rings count as read bounds the rest.
 */
static void check_accounts(bool ended_early)
{
    const struct airsrt_worker_self *s = G.w->self;
    /* Held for worker 0 at the end and given up: forwards already counted
     * as such, or rejections, which no input envelope stands for. */
    uint64_t given_up = atomic_load(&s->outbox_envelopes);
    uint64_t fwd = atomic_load(&s->forwarded);
    uint64_t done = dead_letters(s) - given_up + fwd + R.handled;
    uint64_t full = atomic_load(&s->dead_letters[AIRSRT_DL_MAILBOX_FULL]);
    uint64_t read = 0, took = 0, for_runtime = 0;

    for (int i = 0; i < 2; i++) {
        const struct airsrt_ring *r = &G.ring[i];

        read += atomic_load(&r->cons->stats.envelopes);
        if (R.dirty[i] != 0)
            continue;
        FUZZ_CHECK(atomic_load(&r->cons->stats.corruptions) == 0);
        took += taken(i, &for_runtime);
        /* Only a shutdown leaves records in the ring. */
        FUZZ_CHECK(ended_early || atomic_load(&r->cons->head) == r->tail);
    }
    FUZZ_CHECK(done <= read + full);
    if (R.dirty[DATA] + R.dirty[CTL] == 0)
        FUZZ_CHECK(done <= took + full && took <= done + for_runtime);
    FUZZ_CHECK(R.back_forwards <= fwd);
    FUZZ_CHECK(given_up != 0 || R.back_forwards == fwd);
    FUZZ_CHECK(R.back_rejected <= full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    bool ended_early;

    if (!G.is_ready)
        setup();
    open_worker(fuzz_u8(&in));
    run_ops(&in);
    settle();
    ended_early = G.status >= 0;
    if (ended_early) {
        /* Only a command, or damage that might be one, ends it. */
        FUZZ_CHECK(G.status == AIRSRT_EXIT_OK);
        FUZZ_CHECK(R.commands + R.dirty[DATA] + R.dirty[CTL] > 0);
    } else {
        check_still_delivers();
        airsrt__worker_shutdown(G.w, AIRSRT_EXIT_OK);
        fuzz_rig_poll(&G);
        FUZZ_CHECK(G.status == AIRSRT_EXIT_OK);
    }
    fuzz_rig_drain(&G);
    check_accounts(ended_early);
    airsrt__worker_close(G.w);
    return 0;
}
