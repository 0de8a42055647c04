/*
 * tools/bench/ring.c - `airsrt-bench ring`: the shared-memory data rings
 * between two forked processes, without the actor host: one-way
 * throughput, one envelope or a batch per publication, and round-trip
 * latency with the receiver spinning or asleep on its doorbell.
 *
 * The tool is worker 0 (sender, pinger), a child is worker 1 (consumer,
 * echo); each run has a fresh segment of two workers. The receiving side
 * checks the sequence number at both ends of every payload. Loops that
 * spin or wait look at the stop flag and at the child now and then, so a
 * signal or a dead child ends the run at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airsrt/envelope.h"
#include "shm/cpu.h"
#include "shm/doorbell.h"
#include "shm/ring.h"
#include "shm/segment.h"
#include "tools/bench/bench.h"

#define ENV_SIZE      (AIRSRT_ENVELOPE_HDR_SIZE + BENCH_PAYLOAD_LEN)
/* The segment's payload_max: small enough that every legal ring size
 * can carry it, so --ring-bytes 4Ki works too. */
#define PAYLOAD_MAX   256u
#define MSG_TYPE_DATA 0xBE7Cu
#define READ_BATCH    256u

/* Idle loops look at the stop flag and the peer every 16Ki spins, well
 * under a millisecond: rare enough to cost nothing, often enough to stop
 * at once. */
#define CHECK_MASK    0x3FFFu
/* A sleeping pinger wakes up this often to look at them too. */
#define WAIT_SLICE_NS 100000000

/* ---- segment and envelopes ---- */

static int seg_create(struct airsrt_shm *shm, uint32_t ring_bytes)
{
    struct airsrt_shm_params p = {
        .nworkers = 2,
        .ring_bytes = ring_bytes,
        .ctl_ring_bytes = AIRSRT_RING_MIN_CAPACITY,
        .payload_max = PAYLOAD_MAX,
    };

    return bench_seg_create(shm, &p);
}

/* An envelope built in local memory, then copied into rings. */
struct bench_env {
    alignas(8) unsigned char bytes[ENV_SIZE];
};

static struct airsrt_envelope *env_of(struct bench_env *b)
{
    return (struct airsrt_envelope *)b->bytes;
}

static void env_set_seq(struct airsrt_envelope *e, uint64_t seq)
{
    bench_payload_set_seq(e->payload, seq);
}

static void env_template(struct bench_env *b)
{
    struct airsrt_envelope *e = env_of(b);

    airsrt_envelope_init(e, MSG_TYPE_DATA, BENCH_PAYLOAD_LEN);
    bench_payload_init(e->payload);
}

/* 0 if v is the whole envelope number seq, else -EBADMSG with why. */
static int env_check(const struct airsrt_ring_view *v, uint64_t seq,
                     char *why, size_t len)
{
    return bench_payload_check(v->env->type, v->env->payload, v->payload_len,
                               MSG_TYPE_DATA, seq, why, len);
}

static bool ring_has_data_cb(void *ring)
{
    return airsrt_ring_has_data(ring);
}

/* ---- ring workload: where the two processes run ---- */

struct ring_cpus {
    int parent, child;  /* -1: not pinned */
};

/* Pins this process to the first allowed CPU and picks the second for
 * the child, so that producer and consumer never share a CPU. */
static void ring_pick_cpus(const struct bench_opts *o, struct ring_cpus *cpus,
                           char *why, size_t len)
{
    int found[2], n, rc;

    cpus->parent = cpus->child = -1;
    n = bench_allowed_cpus(o, found, 2, why, len);
    if (n == 0)
        return;
    if (n < 2) {
        snprintf(why, len, "not pinned (only one CPU allowed)");
        return;
    }
    rc = bench_pin_self(found[0]);
    if (rc < 0) {
        snprintf(why, len, "not pinned (sched_setaffinity: %s)",
                 strerror(-rc));
        return;
    }
    cpus->parent = found[0];
    cpus->child = found[1];
    snprintf(why, len, "sender on CPU %d, receiver on CPU %d "
             "(sched_setaffinity)", cpus->parent, cpus->child);
}

/* ---- ring workload: one-way throughput ---- */

struct tput_ctx {
    struct airsrt_shm *shm;
    uint64_t count;
    uint32_t batch;             /* envelopes per publication; 1 = push */
    uint64_t publications;      /* producer: how many it made */
};

/* Child: reads count envelopes from ring 0 -> 1 in batches, checks each,
 * releases per batch, and reports when the last one was released. */
static int tput_consume(void *arg, int fd, int go_fd)
{
    struct tput_ctx *t = arg;
    struct airsrt_ring_view v[READ_BATCH];
    struct airsrt_ring in;
    uint64_t seq = 0;
    char why[200];
    ssize_t n;

    (void)go_fd;
    if (airsrt_shm_data_ring(t->shm, 0, 1, &in) < 0)
        return bench_child_send(fd, BENCH_MSG_FAIL, 0, NULL,
                                "cannot bind ring 0 -> 1");
    airsrt_ring_consumer_attach(&in);
    bench_child_send(fd, BENCH_MSG_READY, 0, NULL, "ready");
    while (seq < t->count) {
        n = airsrt_ring_read(&in, v, READ_BATCH);
        if (n == 0) {
            airsrt__cpu_relax();
            continue;
        }
        if (n < 0)
            return bench_child_send(fd, BENCH_MSG_FAIL, 0, NULL,
                                    "ring read at envelope %" PRIu64 ": %s",
                                    seq, strerror((int)-n));
        for (ssize_t i = 0; i < n; i++, seq++)
            if (env_check(&v[i], seq, why, sizeof(why)) < 0)
                return bench_child_send(fd, BENCH_MSG_FAIL, 0, NULL, "%s",
                                        why);
        airsrt_ring_release_all(&in);
    }
    return bench_child_send(fd, BENCH_MSG_DONE, airsrt_now_ns(), NULL,
                            "done");
}

/* The ring is full: spin, and now and then look at the world. */
static int wait_room(struct bench_child *c, uint64_t *spins)
{
    airsrt__cpu_relax();
    if ((++*spins & CHECK_MASK) == 0)
        return bench_child_check(c);
    return 0;
}

/* One envelope per publication, as airsrt_ring_push() does it. */
static int tput_push(struct tput_ctx *t, struct airsrt_ring *out,
                     struct bench_child *c)
{
    struct bench_env b;
    uint64_t spins = 0;
    int rc = 0;

    env_template(&b);
    for (uint64_t seq = 0; seq < t->count && rc == 0; seq++) {
        env_set_seq(env_of(&b), seq);
        while ((rc = airsrt_ring_push(out, env_of(&b))) == -EAGAIN) {
            rc = wait_room(c, &spins);
            if (rc < 0)
                return rc;
        }
    }
    t->publications = t->count;
    if (rc < 0)
        fprintf(stderr, "airsrt-bench: ring push: %s\n", strerror(-rc));
    return rc;
}

/* Builds envelopes in place (reserve, commit) and publishes every
 * t->batch of them; a full ring publishes what it holds first, as
 * airsrt_ring_push_timeout() does, since the consumer cannot make room
 * with records it cannot see. */
static int tput_batch(struct tput_ctx *t, struct airsrt_ring *out,
                      struct bench_child *c)
{
    struct airsrt_envelope *dst;
    struct bench_env b;
    uint64_t seq = 0, spins = 0;
    uint32_t pending = 0;
    int rc;

    env_template(&b);
    t->publications = 0;
    while (seq < t->count) {
        rc = airsrt_ring_reserve(out, BENCH_PAYLOAD_LEN, &dst);
        if (rc == -EAGAIN) {
            t->publications += airsrt_ring_publish(out);
            pending = 0;
            rc = wait_room(c, &spins);
            if (rc < 0)
                return rc;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "airsrt-bench: ring reserve: %s\n", strerror(-rc));
            return rc;
        }
        memcpy(dst, b.bytes, ENV_SIZE);
        env_set_seq(dst, seq++);
        airsrt_ring_commit(out);
        if (++pending == t->batch) {
            t->publications += airsrt_ring_publish(out);
            pending = 0;
        }
    }
    t->publications += airsrt_ring_publish(out);
    return 0;
}

static void tput_bind(struct airsrt_shm *shm, struct airsrt_ring *out)
{
    airsrt_shm_data_ring(shm, 0, 1, out);
    airsrt_ring_producer_attach(out);
}

/*
 * One run in a fresh segment. The clock starts when the consumer is
 * attached and stops when it has released the last envelope, so the
 * figure covers every envelope end to end, the first page faults of the
 * ring included.
 */
static int tput_run_once(const struct bench_opts *o,
                         const struct ring_cpus *cpus, struct tput_ctx *t,
                         double *rate)
{
    struct bench_child c = BENCH_CHILD_INIT("consumer");
    struct airsrt_shm shm;
    struct airsrt_ring out;
    struct bench_msg m;
    uint64_t t0 = 0;
    int rc;

    if (bench_stop_sig)
        return -EINTR;
    rc = seg_create(&shm, o->ring_bytes);
    if (rc < 0)
        return rc;
    t->shm = &shm;
    tput_bind(&shm, &out);
    rc = bench_child_spawn(&c, cpus->child, false, tput_consume, t);
    if (rc == 0)
        rc = bench_child_expect(&c, BENCH_MSG_READY, &m);
    if (rc == 0) {
        t0 = airsrt_now_ns();
        rc = t->batch == 1 ? tput_push(t, &out, &c) : tput_batch(t, &out, &c);
    }
    if (rc == 0)
        rc = bench_child_expect(&c, BENCH_MSG_DONE, &m);
    bench_child_reap(&c, rc != 0);
    bench_seg_destroy(&shm);
    if (rc == 0)
        *rate = (double)t->count * 1e3 / (double)(m.t_end_ns - t0);
    return rc;
}

/* o->runs runs of one throughput mode, then one row. */
static int tput_figure(const struct bench_opts *o, struct bench_report *rep,
                       const struct ring_cpus *cpus, uint32_t batch)
{
    struct tput_ctx t = { .count = o->count, .batch = batch };
    double rates[BENCH_MAX_RUNS], pubs = 0;
    char key[32], label[64];
    int rc;

    for (uint32_t i = 0; i < o->runs; i++) {
        rc = tput_run_once(o, cpus, &t, &rates[i]);
        if (rc < 0)
            return rc;
        pubs += (double)t.publications;
    }
    if (batch == 1) {
        snprintf(key, sizeof(key), "throughput.push");
        snprintf(label, sizeof(label), "push, 1 envelope per publication");
    } else {
        snprintf(key, sizeof(key), "throughput.batch%u", batch);
        snprintf(label, sizeof(label), "reserve/commit, publish per %u "
                 "(mean %.1f)", batch, (double)o->count * o->runs / pubs);
    }
    bench_report_row(rep, key, label, "M envelopes/s", 2, rates, o->runs,
                     NULL);
    return 0;
}

static int tput_all(const struct bench_opts *o, struct bench_report *rep,
                    const struct ring_cpus *cpus)
{
    static const uint32_t batches[] = { 1, 64, 256 };
    int rc = 0;

    bench_report_section(rep, "one-way throughput, M envelopes/s");
    for (size_t i = 0; rc == 0 && i < sizeof(batches) / sizeof(batches[0]);
         i++)
        rc = tput_figure(o, rep, cpus, batches[i]);
    return rc;
}

/* ---- ring workload: round-trip latency ---- */

/* One side of a ping-pong: worker self reads ring peer -> self and
 * writes ring self -> peer. */
struct pp_side {
    struct airsrt_ring in, out;
    struct airsrt_doorbell *self, *peer;
    bool is_asleep;
    struct bench_env b;
};

struct lat_ctx {
    struct airsrt_shm *shm;
    uint64_t rounds;            /* warm-up included */
    bool is_asleep;
};

static void pp_side_init(struct pp_side *s, struct airsrt_shm *shm,
                         uint32_t self, bool is_asleep)
{
    uint32_t peer = 1 - self;

    airsrt_shm_data_ring(shm, peer, self, &s->in);
    airsrt_shm_data_ring(shm, self, peer, &s->out);
    airsrt_ring_consumer_attach(&s->in);
    airsrt_ring_producer_attach(&s->out);
    s->self = airsrt_shm_doorbell(shm, self);
    s->peer = airsrt_shm_doorbell(shm, peer);
    airsrt_doorbell_reset(s->self);
    s->is_asleep = is_asleep;
    env_template(&s->b);
}

static int pp_send(struct pp_side *s, uint64_t seq, char *why, size_t len)
{
    int rc;

    env_set_seq(env_of(&s->b), seq);
    rc = airsrt_ring_push(&s->out, env_of(&s->b));
    if (rc < 0) {
        /* One envelope in flight cannot fill a ring. */
        snprintf(why, len, "ring push of envelope %" PRIu64 ": %s", seq,
                 strerror(-rc));
        return rc;
    }
    if (s->is_asleep)
        airsrt_doorbell_ring(s->peer);
    return 0;
}

/*
 * Nothing to read yet. Awake, spin; asleep, sleep on our doorbell with no
 * spinning first. The parent (c != NULL) looks at the stop flag and the
 * child now and then: asleep, only when a wake-up brought nothing, so the
 * normal path adds no system call to the round trip.
 */
static int pp_idle(struct pp_side *s, struct bench_child *c, uint64_t *idle,
                   char *why, size_t len)
{
    int rc;

    if (!s->is_asleep) {
        airsrt__cpu_relax();
        return c != NULL && (++*idle & CHECK_MASK) == 0 ? bench_child_check(c)
                                                        : 0;
    }
    if (c != NULL && ++*idle > 1 && (rc = bench_child_check(c)) < 0)
        return rc;
    rc = airsrt_doorbell_wait(s->self, ring_has_data_cb, &s->in, 0,
                              c != NULL ? WAIT_SLICE_NS : -1);
    if (rc < 0)
        snprintf(why, len, "doorbell wait: %s", strerror(-rc));
    return rc < 0 ? rc : 0;
}

/* Waits for envelope number seq, checks it and releases it. */
static int pp_recv(struct pp_side *s, uint64_t seq, struct bench_child *c,
                   char *why, size_t len)
{
    struct airsrt_ring_view v;
    uint64_t idle = 0;
    ssize_t n;
    int rc;

    while ((n = airsrt_ring_read(&s->in, &v, 1)) == 0) {
        rc = pp_idle(s, c, &idle, why, len);
        if (rc < 0)
            return rc;
    }
    if (n < 0) {
        snprintf(why, len, "ring read of envelope %" PRIu64 ": %s", seq,
                 strerror((int)-n));
        return (int)n;
    }
    rc = env_check(&v, seq, why, len);
    airsrt_ring_release_all(&s->in);
    return rc;
}

/* Child: sends back every envelope it gets, as worker 1. */
static int pp_echo(void *arg, int fd, int go_fd)
{
    struct lat_ctx *l = arg;
    struct pp_side s;
    char why[200] = "";
    int rc = 0;

    (void)go_fd;
    pp_side_init(&s, l->shm, 1, l->is_asleep);
    bench_child_send(fd, BENCH_MSG_READY, 0, NULL, "ready");
    for (uint64_t i = 0; i < l->rounds && rc == 0; i++) {
        rc = pp_recv(&s, i, NULL, why, sizeof(why));
        if (rc == 0)
            rc = pp_send(&s, i, why, sizeof(why));
    }
    if (rc < 0)
        return bench_child_send(fd, BENCH_MSG_FAIL, 0, NULL, "%s", why);
    return bench_child_send(fd, BENCH_MSG_DONE, airsrt_now_ns(), NULL,
                            "done");
}

/* Parent, as worker 0: one clock read per round trip, each sample the
 * time since the previous one ended. */
static int pp_ping(struct pp_side *s, uint64_t rounds, uint64_t *samples,
                   struct bench_child *c)
{
    char why[200] = "";
    uint64_t prev = airsrt_now_ns(), t;
    int rc = 0;

    for (uint64_t i = 0; i < rounds && rc == 0; i++) {
        rc = pp_send(s, i, why, sizeof(why));
        if (rc == 0)
            rc = pp_recv(s, i, c, why, sizeof(why));
        t = airsrt_now_ns();
        if (i >= BENCH_WARMUP)
            samples[i - BENCH_WARMUP] = t - prev;
        prev = t;
    }
    if (rc < 0 && why[0] != '\0')
        fprintf(stderr, "airsrt-bench: pinger: %s\n", why);
    return rc;
}

struct lat_result {
    double p50, p99, p999;
    double wakes;               /* doorbell wakes per round trip */
};

static void lat_summarize(uint64_t *samples, uint64_t n,
                          const struct airsrt_shm *shm, uint64_t rounds,
                          struct lat_result *r)
{
    uint64_t wakes = airsrt_shm_doorbell(shm, 0)->wakes +
                     airsrt_shm_doorbell(shm, 1)->wakes;

    bench_sort_u64(samples, n);
    r->p50 = bench_percentile(samples, n, 5000);
    r->p99 = bench_percentile(samples, n, 9900);
    r->p999 = bench_percentile(samples, n, 9990);
    r->wakes = (double)wakes / (double)rounds;
}

/* One latency run in a fresh segment. */
static int lat_run_once(const struct bench_opts *o,
                        const struct ring_cpus *cpus, bool is_asleep,
                        uint64_t *samples, struct lat_result *r)
{
    struct bench_child c = BENCH_CHILD_INIT("echo");
    struct lat_ctx l = { .rounds = BENCH_WARMUP + o->samples,
                         .is_asleep = is_asleep };
    struct airsrt_shm shm;
    struct pp_side s;
    struct bench_msg m;
    int rc;

    if (bench_stop_sig)
        return -EINTR;
    rc = seg_create(&shm, o->ring_bytes);
    if (rc < 0)
        return rc;
    l.shm = &shm;
    pp_side_init(&s, &shm, 0, is_asleep);
    rc = bench_child_spawn(&c, cpus->child, false, pp_echo, &l);
    if (rc == 0)
        rc = bench_child_expect(&c, BENCH_MSG_READY, &m);
    if (rc == 0)
        rc = pp_ping(&s, l.rounds, samples, &c);
    if (rc == 0)
        rc = bench_child_expect(&c, BENCH_MSG_DONE, &m);
    bench_child_reap(&c, rc != 0);
    if (rc == 0)
        lat_summarize(samples, o->samples, &shm, l.rounds, r);
    bench_seg_destroy(&shm);
    return rc;
}

static int lat_figure(const struct bench_opts *o, struct bench_report *rep,
                      const struct ring_cpus *cpus, bool is_asleep,
                      uint64_t *samples)
{
    const char *mode = is_asleep ? "asleep" : "awake";
    double p50[BENCH_MAX_RUNS], p99[BENCH_MAX_RUNS], p999[BENCH_MAX_RUNS];
    double wakes[BENCH_MAX_RUNS];
    struct lat_result r = { 0 };
    char key[48], label[64];
    int rc;

    for (uint32_t i = 0; i < o->runs; i++) {
        rc = lat_run_once(o, cpus, is_asleep, samples, &r);
        if (rc < 0)
            return rc;
        p50[i] = r.p50;
        p99[i] = r.p99;
        p999[i] = r.p999;
        wakes[i] = r.wakes;
    }
    snprintf(key, sizeof(key), "latency.%s.p50", mode);
    snprintf(label, sizeof(label), "%s: p50", is_asleep ?
             "asleep (doorbell, spin 0)" : "awake (both spin)");
    bench_report_row(rep, key, label, "ns", 0, p50, o->runs, NULL);
    snprintf(key, sizeof(key), "latency.%s.p99", mode);
    snprintf(label, sizeof(label), "%s: p99", mode);
    bench_report_row(rep, key, label, "ns", 0, p99, o->runs, NULL);
    snprintf(key, sizeof(key), "latency.%s.p99.9", mode);
    snprintf(label, sizeof(label), "%s: p99.9", mode);
    bench_report_row(rep, key, label, "ns", 0, p999, o->runs, NULL);
    snprintf(key, sizeof(key), "latency.%s.wakes", mode);
    snprintf(label, sizeof(label), "%s: futex wakes per round trip", mode);
    bench_report_row(rep, key, label, "wakes", 2, wakes, o->runs, NULL);
    return 0;
}

static int lat_all(const struct bench_opts *o, struct bench_report *rep,
                   const struct ring_cpus *cpus)
{
    uint64_t *samples = malloc(o->samples * sizeof(*samples));
    int rc;

    if (samples == NULL)
        return bench_fail_errno("cannot allocate latency samples");
    bench_report_section(rep, "round trip over two rings, ns");
    rc = lat_figure(o, rep, cpus, false, samples);
    if (rc == 0)
        rc = lat_figure(o, rep, cpus, true, samples);
    free(samples);
    return rc;
}

/* ---- the workload ---- */

int bench_ring_run(const struct bench_opts *o, struct bench_report *rep)
{
    struct ring_cpus cpus;
    char pin[160];
    int rc;

    ring_pick_cpus(o, &cpus, pin, sizeof(pin));
    bench_report_setup(rep, "ring", "%u bytes per data ring (%u KiB); "
                       "envelope of %u-byte payload, %" PRIu64 "-byte record",
                       o->ring_bytes, o->ring_bytes >> 10, BENCH_PAYLOAD_LEN,
                       airsrt_ring_record_size(BENCH_PAYLOAD_LEN));
    bench_report_setup(rep, "pinning", "%s", pin);
    bench_report_setup(rep, "runs", "%u per figure, fresh segment each; "
                       "median, min and max across runs", o->runs);
    bench_report_setup(rep, "count", "%" PRIu64 " envelopes per throughput "
                       "run", o->count);
    bench_report_setup(rep, "samples", "%" PRIu64 " round trips per latency "
                       "run, after %u warm-up", o->samples, BENCH_WARMUP);
    fflush(stdout);
    rc = tput_all(o, rep, &cpus);
    if (rc == 0)
        rc = lat_all(o, rep, &cpus);
    return rc;
}

