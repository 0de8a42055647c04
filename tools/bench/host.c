/*
 * tools/bench/host.c - worker processes for the actor workloads: the
 * protocol of a run (host.h), the parent's watch over its children, and
 * what actors use to report from inside them.
 *
 * The parent never runs actors and never spins: it sleeps in poll() on
 * the children's pipes, waking every HOST_POLL_MS to look at the stop
 * flag and at the runtime's progress counters in the workers' pages of
 * the segment. A run that fails for any reason kills every child with
 * SIGKILL, reaps it and destroys the segment.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/bench/host.h"

#define HOST_POLL_MS  1000
#define HOST_STALL_NS 10000000000ull

/* ---- in a worker child ---- */

/* The child's side of the run: one worker per process. */
static struct {
    int fd;                             /* message pipe to the tool */
    bool is_finished;
    bool has_failed;
    char why[200];
    uint64_t values[BENCH_MSG_VALUES];
} g_child = { .fd = -1 };

int bench_host_fail(const char *fmt, ...)
{
    va_list ap;

    if (g_child.has_failed)
        return -EPROTO;
    g_child.has_failed = true;
    va_start(ap, fmt);
    vsnprintf(g_child.why, sizeof(g_child.why), fmt, ap);
    va_end(ap);
    return -EPROTO;
}

void bench_host_finished(void)
{
    if (g_child.is_finished)
        return;
    g_child.is_finished = true;
    bench_child_send(g_child.fd, BENCH_MSG_FINISHED, airsrt_now_ns(), NULL,
                     "finished");
}

uint64_t *bench_host_values(void)
{
    return g_child.values;
}

enum airsrt_directive bench_host_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    if (f->where == AIRSRT_FAILED_IN_HANDLE)
        bench_host_fail("a handler failed: %s", airsrt_strerror(f->err));
    return AIRSRT_ESCALATE;
}

struct airsrt_address bench_host_address(uint32_t w, uint32_t slot)
{
    return (struct airsrt_address){ .worker = (uint16_t)w, .incarnation = 1,
                                    .slot = slot, .generation = 1 };
}

int bench_host_spawn(struct airsrt_worker *w,
                     const struct airsrt_actor_type *type, const void *arg,
                     size_t arg_len, uint32_t slot)
{
    struct airsrt_spawn_opts o = { .arg = arg, .arg_len = arg_len };
    struct airsrt_address got, want = bench_host_address(w->index, slot);
    char a[AIRSRT_ADDRESS_STR_MAX], b[AIRSRT_ADDRESS_STR_MAX];
    int rc = airsrt_spawn(airsrt__worker_ctx(w), type, &o, &got);

    if (rc < 0) {
        bench_host_fail("spawn of %s number %u: %s", type->name, slot,
                        airsrt_strerror(rc));
        return rc;
    }
    if (!airsrt_address_equal(&got, &want)) {
        airsrt_address_format(&got, a, sizeof(a));
        airsrt_address_format(&want, b, sizeof(b));
        return bench_host_fail("spawn of %s number %u returned %s, expected "
                               "%s", type->name, slot, a, b);
    }
    return 0;
}

int bench_host_send(struct airsrt_worker *w, const struct airsrt_address *to,
                    uint32_t type)
{
    int rc = airsrt_send(airsrt__worker_ctx(w), to, type, NULL, 0);

    if (rc < 0)
        bench_host_fail("kick: send: %s", airsrt_strerror(rc));
    return rc < 0 ? rc : 0;
}

void bench_host_lat(uint64_t *samples, uint64_t n, struct bench_lat *l)
{
    double sum = 0;

    for (uint64_t i = 0; i < n; i++)
        sum += (double)samples[i];
    bench_sort_u64(samples, n);
    l->mean = sum / (double)n;
    l->p50 = bench_percentile(samples, n, 5000);
    l->p99 = bench_percentile(samples, n, 9900);
    l->p999 = bench_percentile(samples, n, 9990);
}

/* Why a worker that ran to its end did not run well, or "" if it did:
 * every envelope must have been handled, none a dead letter. */
static void worker_verdict(const struct airsrt_worker *w, int status,
                           uint64_t failures_expected, char *why, size_t len)
{
    uint64_t dl, failures;

    why[0] = '\0';
    if (g_child.has_failed) {
        snprintf(why, len, "%s", g_child.why);
        return;
    }
    if (status != AIRSRT_EXIT_OK) {
        snprintf(why, len, "worker %u ended with status %d", w->index,
                 status);
        return;
    }
    failures = atomic_load(&w->self->actor_failures);
    if (failures != failures_expected) {
        snprintf(why, len, "%" PRIu64 " actor failures", failures);
        return;
    }
    for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++) {
        dl = atomic_load(&w->self->dead_letters[r]);
        if (dl != 0) {
            snprintf(why, len, "%" PRIu64 " dead letters (%s)", dl,
                     airsrt_dead_letter_reason_name(r));
            return;
        }
    }
}

struct host_child_arg {
    struct bench_host_run *run;
    struct airsrt_shm *shm;
    uint32_t index;
};

/* Open, setup, READY, go, kick, the loop. Returns the loop's status, or
 * -1 if it never ran (g_child.why says why, unless the tool went away). */
static int child_run_worker(const struct host_child_arg *a, int go_fd,
                            struct airsrt_worker **out)
{
    struct bench_host_run *run = a->run;
    char err[256];
    int rc;

    rc = airsrt_shm_protect_for_worker(a->shm, a->index);
    if (rc < 0) {
        bench_host_fail("protection map: %s", strerror(-rc));
        return -1;
    }
    rc = airsrt__worker_open(out, a->shm, a->index, run->types, &run->wopts,
                             err, sizeof(err));
    if (rc < 0) {
        bench_host_fail("%s", err);
        return -1;
    }
    if (run->setup(*out, run->arg) < 0)
        return -1;
    bench_child_send(g_child.fd, BENCH_MSG_READY, 0, NULL, "ready");
    if (bench_child_wait_go(go_fd) < 0)
        return -1;
    if (run->kick != NULL && run->kick(*out, run->arg) < 0)
        return -1;
    return airsrt__worker_run(*out);
}

static int host_child(void *arg, int fd, int go_fd)
{
    const struct host_child_arg *a = arg;
    struct airsrt_worker *w = NULL;
    char why[sizeof(g_child.why) + 40];
    int status;

    g_child.fd = fd;
    status = child_run_worker(a, go_fd, &w);
    if (status < 0 && !g_child.has_failed)
        return EXIT_SYSTEM;     /* the tool went away before go */
    if (w != NULL)
        worker_verdict(w, status, a->run->failures_expected, why,
                       sizeof(why));
    else
        snprintf(why, sizeof(why), "%s", g_child.why);
    airsrt__worker_close(w);
    if (why[0] != '\0')
        return bench_child_send(fd, BENCH_MSG_FAIL, 0, NULL,
                                "worker %u: %s", a->index, why);
    return bench_child_send(fd, BENCH_MSG_DONE, airsrt_now_ns(),
                            g_child.values, "done");
}

/* ---- in the tool ---- */

struct host_kid {
    struct bench_child c;
    char role[24];           /* "worker 4294967295" */
    uint32_t said;          /* last message kind */
};

struct hosts {
    struct bench_host_run *run;
    struct airsrt_shm *shm;
    struct host_kid kid[BENCH_MAX_WORKERS];
    struct host_child_arg arg[BENCH_MAX_WORKERS];
    uint32_t n;             /* children forked */
    uint64_t progress;      /* sum of the workers' counters */
    uint64_t progress_ns;   /* when it last moved */
};

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case BENCH_MSG_READY: return "READY";
    case BENCH_MSG_DONE: return "DONE";
    case BENCH_MSG_FAIL: return "FAIL";
    case BENCH_MSG_FINISHED: return "FINISHED";
    default: return "nothing";
    }
}

/* What moves while a run makes progress: envelopes and spawns. */
static uint64_t progress_now(const struct hosts *h)
{
    uint64_t sum = 0;

    for (uint32_t w = 0; w < h->run->nworkers; w++) {
        struct airsrt_worker_self *s = airsrt_shm_worker_self(h->shm, w);

        sum += atomic_load_explicit(&s->envelopes_in, memory_order_relaxed) +
               atomic_load_explicit(&s->envelopes_out, memory_order_relaxed) +
               atomic_load_explicit(&s->actors_spawned, memory_order_relaxed);
    }
    return sum;
}

static void describe_workers(const struct hosts *h)
{
    for (uint32_t w = 0; w < h->run->nworkers; w++) {
        struct airsrt_worker_self *s = airsrt_shm_worker_self(h->shm, w);
        uint64_t dl = 0;

        for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++)
            dl += atomic_load(&s->dead_letters[r]);
        fprintf(stderr, "airsrt-bench: worker %u: %" PRIu64 " envelopes in, "
                "%" PRIu64 " out, %" PRIu64 " dead letters, %" PRIu64
                " in outboxes, %u actors\n", w, atomic_load(&s->envelopes_in),
                atomic_load(&s->envelopes_out), dl,
                atomic_load(&s->outbox_envelopes),
                atomic_load(&s->actors_alive));
    }
}

/* A poll() that timed out: -ETIMEDOUT (explained) if nothing moved for
 * HOST_STALL_NS, else 0. */
static int check_stall(struct hosts *h)
{
    uint64_t p = progress_now(h), now = airsrt_now_ns();

    if (p != h->progress) {
        h->progress = p;
        h->progress_ns = now;
        return 0;
    }
    if (now - h->progress_ns < HOST_STALL_NS)
        return 0;
    fprintf(stderr, "airsrt-bench: no envelope moved and no actor was "
            "spawned for %llu s: the run is stuck\n",
            HOST_STALL_NS / 1000000000ull);
    describe_workers(h);
    return -ETIMEDOUT;
}

/* Takes one message of kid k: 1 if it is the awaited one, else a
 * failure (explained): a FAIL, a death, or a word out of turn. */
static int take_message(struct hosts *h, uint32_t k, uint32_t kind,
                        bool is_awaited)
{
    struct host_kid *kid = &h->kid[k];
    struct bench_msg m;
    int rc = bench_child_read(&kid->c, &m);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return bench_child_failed(&kid->c);
    if (m.kind == BENCH_MSG_FAIL) {
        fprintf(stderr, "airsrt-bench: %s: %s\n", kid->role, m.text);
        return -EIO;
    }
    if (m.kind != kind || !is_awaited) {
        fprintf(stderr, "airsrt-bench: %s said %s while the tool waited "
                "for %s\n", kid->role, kind_name(m.kind), kind_name(kind));
        return -EPROTO;
    }
    kid->said = m.kind;
    if (m.kind == BENCH_MSG_DONE)
        memcpy(h->run->values[k], m.values, sizeof(m.values));
    return 1;
}

/* Waits until every child (only < 0) or child only has said kind, while
 * any other word, death, signal or stall ends the wait with an error. */
static int hosts_wait(struct hosts *h, uint32_t kind, int only)
{
    struct pollfd fds[BENCH_MAX_WORKERS];
    uint32_t map[BENCH_MAX_WORKERS], pending = 0, nfds;
    int rc;

    for (uint32_t k = 0; k < h->n; k++)
        pending += (only < 0 || (uint32_t)only == k);
    while (pending > 0) {
        nfds = 0;
        for (uint32_t k = 0; k < h->n; k++) {
            if (h->kid[k].said == BENCH_MSG_DONE)
                continue;   /* gone, as it should be */
            fds[nfds] = (struct pollfd){ .fd = h->kid[k].c.fd,
                                         .events = POLLIN };
            map[nfds++] = k;
        }
        rc = poll(fds, nfds, HOST_POLL_MS);
        if (bench_stop_sig)
            return -EINTR;
        if (rc < 0 && errno != EINTR)
            return bench_fail_errno("poll");
        if (rc <= 0) {
            rc = check_stall(h);
            if (rc < 0)
                return rc;
            continue;
        }
        for (uint32_t i = 0; i < nfds; i++) {
            uint32_t k = map[i];

            if (fds[i].revents == 0)
                continue;
            rc = take_message(h, k, kind, h->kid[k].said != kind &&
                              (only < 0 || (uint32_t)only == k));
            if (rc < 0)
                return rc;
            pending -= (uint32_t)rc;
        }
    }
    return 0;
}

/* Every child may start: one byte on each go pipe. */
static int hosts_go(struct hosts *h)
{
    for (uint32_t k = 0; k < h->n; k++)
        if (write(h->kid[k].c.go_fd, "g", 1) != 1)
            return bench_fail_errno("write to a worker's go pipe");
    h->progress = progress_now(h);
    h->progress_ns = airsrt_now_ns();
    return 0;
}

/* AIRSRT_CTL_SHUTDOWN on every worker's control ring, as the supervisor
 * stops a system: each worker stops its actors and ends. */
static int hosts_shutdown(struct hosts *h)
{
    struct airsrt_envelope e;
    int rc;

    airsrt_envelope_init(&e, AIRSRT_CTL_SHUTDOWN, 0);
    for (uint32_t w = 0; w < h->run->nworkers; w++) {
        rc = airsrt_shm_ctl_send(h->shm, w, &e);
        if (rc < 0) {
            fprintf(stderr, "airsrt-bench: cannot tell worker %u to shut "
                    "down: %s\n", w, strerror(-rc));
            return rc;
        }
    }
    return 0;
}

static int hosts_create(struct hosts *h)
{
    struct bench_host_run *run = h->run;
    struct airsrt_shm_params p = {
        .nworkers = run->nworkers,
        .ring_bytes = run->ring_bytes,
        .actors_max = run->actors_max,
        .payload_max = bench_payload_max(run->ring_bytes
                                             ? run->ring_bytes
                                             : AIRSRT_RING_BYTES_DEFAULT),
    };
    int rc = bench_seg_create(h->shm, &p);

    if (rc < 0)
        return rc;
    /* The supervisor's part: every worker in its first incarnation. */
    for (uint32_t w = 0; w < run->nworkers; w++) {
        struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(h->shm, w);

        atomic_store(&sup->incarnation, 1);
        atomic_store(&sup->state, AIRSRT_WORKER_STARTING);
        snprintf(sup->name, sizeof(sup->name), "bench[%u]", w);
    }
    return 0;
}

static int hosts_fork(struct hosts *h)
{
    struct bench_host_run *run = h->run;
    int rc = 0;

    for (uint32_t w = 0; w < run->nworkers && rc == 0; w++) {
        struct host_kid *kid = &h->kid[w];

        snprintf(kid->role, sizeof(kid->role), "worker %u", w);
        kid->c = (struct bench_child)BENCH_CHILD_INIT(kid->role);
        h->arg[w] = (struct host_child_arg){ .run = run, .shm = h->shm,
                                             .index = w };
        rc = bench_child_spawn(&kid->c, run->cpus ? run->cpus[w] : -1, true,
                               host_child, &h->arg[w]);
        if (rc == 0)
            h->n++;
    }
    return rc;
}

/* Every child reaped, and exited 0 unless the run had already failed. */
static int hosts_reap(struct hosts *h, int rc)
{
    for (uint32_t k = 0; k < h->n; k++) {
        struct bench_child *c = &h->kid[k].c;

        bench_child_reap(c, rc != 0);
        if (rc == 0 && (!WIFEXITED(c->status) || WEXITSTATUS(c->status))) {
            fprintf(stderr, "airsrt-bench: %s exited badly after DONE\n",
                    c->role);
            rc = -ECHILD;
        }
    }
    return rc;
}

uint64_t bench_host_spin_ns(uint32_t workers)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    return cpus > 0 && workers <= (uint32_t)cpus ? HOST_SPIN_AWAKE_NS
                                                 : AIRSRT_SPIN_NS_DEFAULT;
}

void bench_host_report_idle(struct bench_report *rep, uint64_t spin_ns)
{
    if (spin_ns == HOST_SPIN_AWAKE_NS)
        bench_report_setup(rep, "idle", "workers spin (awake)");
    else
        bench_report_setup(rep, "idle", "workers spin %" PRIu64 " us, then "
                           "sleep (more workers than CPUs)", spin_ns / 1000);
}

int bench_host_run(struct bench_host_run *run)
{
    struct airsrt_shm shm;
    struct hosts h = { .run = run, .shm = &shm };
    int rc;

    if (bench_stop_sig)
        return -EINTR;
    rc = hosts_create(&h);
    if (rc < 0)
        return rc;
    rc = hosts_fork(&h);
    if (rc == 0)
        rc = hosts_wait(&h, BENCH_MSG_READY, -1);
    if (rc == 0)
        rc = hosts_go(&h);
    if (rc == 0)
        rc = hosts_wait(&h, BENCH_MSG_FINISHED, (int)run->finisher);
    if (rc == 0)
        rc = hosts_shutdown(&h);
    if (rc == 0)
        rc = hosts_wait(&h, BENCH_MSG_DONE, -1);
    rc = hosts_reap(&h, rc);
    bench_seg_destroy(&shm);
    return rc;
}
