/*
 * tools/bench/restart.c - `airsrt-bench restart`: how long a worker killed
 * with SIGKILL stays away, measured through the whole runtime. airsrt-run
 * sees the death on a pidfd, recovers what the worker may have left
 * behind, starts its next incarnation (by fork and exec, or from a
 * pre-forked spare), which takes its name back and answers the request
 * that waited for it in its inbound ring.
 *
 * Two halves, in two kinds of process:
 *
 *  - the tool: for each variant (no spare, then a spare) and run, a
 *    config in a fresh temporary folder, `airsrt-run --quiet CONFIG` run
 *    to its end, the prober's latencies read back and the event log
 *    checked (every restart served by a spare in the spare variant, no
 *    spare in the other). While it runs the tool is a child subreaper,
 *    so a worker that outlives an airsrt-run is reparented to it and
 *    killed and reaped by pid. Nothing is left: the folder is removed and
 *    the segment checked for (and removed, as an error) on every path.
 *  - the runtime, whose workers are this same binary (airsrt-bench.c
 *    hands over to airsrt_worker_main): worker 0 hosts echo, registered
 *    as bench.echo; worker 1 hosts the prober, which attaches the
 *    segment by name, reads worker 0's pid from its slot, kills it,
 *    waits on a pidfd until the process is gone (so that the dying
 *    incarnation cannot answer), sends a request to bench.echo and takes
 *    the time when the reply, from a newer incarnation, is handled. The
 *    prober is temporary (one that ended early must not run the whole
 *    measurement again over the first one's results) and significant
 *    (its end ends the runtime).
 *
 * The prober's argument is RUNTIME:KILLS:PATH. It writes PATH once, at
 * the end: one latency in ns per line then "done KILLS", or a line
 * "fail: WHY". There are no actor timers yet: a POSIX timer sends the
 * prober's own worker SIGTERM when a round is not answered in time, the
 * worker shuts down in order, and the prober's post_stop writes why.
 * The prober blocks in its handler (waiting on the pidfd, and the settle
 * time between rounds): its worker hosts nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/bench/host.h"

/* Targets of issue 5, in us; and an Erlang/OTP in-VM process restart
 * measured on the same machine, which a spare should come within 5x of. */
#define TARGET_P50_US        2000.0
#define TARGET_P50_SPARE_US  200.0
#define TARGET_P99_US        10000.0
#define OTP_RESTART_US       43.0
#define OTP_FACTOR           5.0

#define ECHO_NAME        "bench.echo"
#define ECHO_WORKER      0u
#define RESTART_REQUEST  0x52455354u        /* "REST" */
#define RESTART_MAGIC    UINT64_C(0x6169727372742121)
#define ROUND_TIMEOUT_MS 5000u
/* Between a reply and the next kill: time for the supervisor to fork the
 * next spare and for it to prepare, so that every kill meets a runtime
 * at rest, as a real crash would. */
#define SETTLE_MS        10u
#define SLOT_POLL_NS     100000L
/* The prober blocks in its handler for up to ROUND_TIMEOUT_MS at a time
 * (waiting for the slot, for the death): well within the hang timeout,
 * so that a stuck round is reported by the prober, not killed as a hang
 * of its worker. */
#define HANG_TIMEOUT_MS  (6u * ROUND_TIMEOUT_MS)
/* airsrt-run: an overall limit (a stuck run is killed), the grace after
 * SIGTERM, and the grace for orphaned workers to act on theirs. */
#define RUN_LIMIT_BASE_MS 60000u
#define RUN_LIMIT_KILL_MS 100u
#define RUN_TERM_GRACE_MS 10000
#define ORPHAN_GRACE_MS   2000
#define WAIT_POLL_MS      20
#define CONFIG_LINE_MAX   190u      /* libinih reads 200-byte lines */

struct restart_ping {
    uint64_t round;
    uint64_t magic;
};

/* ---- in the runtime: echo ---- */

static int echo_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)state;
    return airsrt_reply(ctx, env->type, env->payload, env->payload_len);
}

static const struct airsrt_actor_type echo_type = {
    .name = "echo", .handle = echo_handle,
};

/* ---- in the runtime: the prober ---- */

struct prober {
    struct airsrt_shm shm;      /* the runtime, by name; only read */
    bool is_attached, has_timer, is_done;
    int fd;                     /* the result file, until written */
    timer_t timer;              /* SIGTERM to this worker at the deadline */
    uint64_t *lat;              /* ns, one per kill */
    uint32_t kills;
    uint32_t round;             /* awaited reply; 0 = before any kill */
    uint32_t incarnation;       /* of the echo that answered last */
    uint64_t t0_ns;             /* just before the kill */
    uint64_t deadline_ns;       /* of the round in progress */
    char why[256];              /* the first failure, for the result */
};

static int prober_fail(struct prober *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure (stderr too: airsrt-run's workers share the
 * tool's) and returns err for the callback to return. */
static int prober_fail(struct prober *p, int err, const char *fmt, ...)
{
    va_list ap;

    if (p->why[0] != '\0')
        return err;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof(p->why), fmt, ap);
    va_end(ap);
    fprintf(stderr, "airsrt-bench prober: %s\n", p->why);
    return err;
}

/* RUNTIME:KILLS:PATH; PATH is the rest, so it may hold ':'. */
static int prober_parse(struct prober *p, const char *arg, size_t len,
                        char *runtime, size_t rlen, char *path, size_t plen)
{
    char buf[PATH_MAX + 128], *kills, *file, *end;
    unsigned long long v;

    if (arg == NULL || len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, arg, len);
    buf[len] = '\0';
    kills = strchr(buf, ':');
    file = kills ? strchr(kills + 1, ':') : NULL;
    if (file == NULL)
        return -EINVAL;
    *kills++ = '\0';
    *file++ = '\0';
    errno = 0;
    v = strtoull(kills, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > BENCH_MAX_KILLS ||
        snprintf(runtime, rlen, "%s", buf) >= (int)rlen ||
        snprintf(path, plen, "%s", file) >= (int)plen || *file == '\0')
        return -EINVAL;
    p->kills = (uint32_t)v;
    return 0;
}

/* Attaches the runtime and maps it read-only: the prober only reads the
 * echo's slot, and a stray write must fault here, not land there. */
static int prober_attach(struct prober *p, const char *runtime)
{
    int rc = airsrt_shm_attach(&p->shm, runtime);

    if (rc < 0)
        return prober_fail(p, rc, "cannot attach runtime %s: %s", runtime,
                           p->shm.err);
    p->is_attached = true;
    if (mprotect(p->shm.base, p->shm.size, PROT_READ) < 0)
        return prober_fail(p, -errno, "mprotect: %s", strerror(errno));
    if (p->shm.params.nworkers <= ECHO_WORKER + 1)
        return prober_fail(p, -EINVAL, "runtime %s has %u workers: echo "
                           "must be worker %u and the prober another",
                           runtime, p->shm.params.nworkers, ECHO_WORKER);
    return 0;
}

/* The round deadline: SIGTERM to this process, whose worker then stops
 * its actors in order (post_stop says why). */
static int prober_timer_create(struct prober *p)
{
    struct sigevent sev;

    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGTERM;
    if (timer_create(CLOCK_MONOTONIC, &sev, &p->timer) < 0)
        return prober_fail(p, -errno, "timer_create: %s", strerror(errno));
    p->has_timer = true;
    return 0;
}

static void prober_timer_set(struct prober *p, uint64_t ns)
{
    struct itimerspec its = { .it_value = {
        .tv_sec = (time_t)(ns / 1000000000u),
        .tv_nsec = (long)(ns % 1000000000u) } };

    if (p->has_timer)
        timer_settime(p->timer, 0, &its, NULL);
}

static void prober_release(struct prober *p)
{
    if (p->has_timer)
        timer_delete(p->timer);
    p->has_timer = false;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    if (p->is_attached)
        airsrt_shm_detach(&p->shm);
    p->is_attached = false;
    free(p->lat);
    p->lat = NULL;
}

/* Sends the request of the current round and arms its deadline. */
static int prober_ask(struct airsrt_ctx *ctx, struct prober *p)
{
    struct restart_ping q = { .round = p->round, .magic = RESTART_MAGIC };
    int rc;

    p->deadline_ns = airsrt_now_ns() + ROUND_TIMEOUT_MS * 1000000ull;
    prober_timer_set(p, ROUND_TIMEOUT_MS * 1000000ull);
    rc = airsrt_send_name(ctx, ECHO_NAME, RESTART_REQUEST, &q, sizeof(q));
    if (rc < 0)
        return prober_fail(p, rc, "round %u: send to %s: %s", p->round,
                           ECHO_NAME, airsrt_strerror(rc));
    return 0;
}

static int prober_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct prober *p = state;
    char runtime[AIRSRT_RUNTIME_NAME_MAX + 1], path[PATH_MAX];
    int rc;

    p->fd = -1;
    if (prober_parse(p, arg, len, runtime, sizeof(runtime), path,
                     sizeof(path)) < 0) {
        rc = prober_fail(p, -EINVAL, "argument \"%.*s\" is not RUNTIME:"
                         "KILLS:PATH with 1 to %u kills", (int)len,
                         arg ? (const char *)arg : "", BENCH_MAX_KILLS);
        goto out;
    }
    /* Never over another prober's results. */
    p->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (p->fd < 0) {
        rc = prober_fail(p, -errno, "open %s: %s", path, strerror(errno));
        goto out;
    }
    p->lat = calloc(p->kills, sizeof(*p->lat));
    if (p->lat == NULL) {
        rc = prober_fail(p, -ENOMEM, "out of memory");
        goto out;
    }
    rc = prober_attach(p, runtime);
    if (rc == 0)
        rc = prober_timer_create(p);
    if (rc == 0)
        rc = prober_ask(ctx, p);
out:
    /* post_stop never runs after a failed pre_start. */
    if (rc < 0)
        prober_release(p);
    return rc;
}

/* The reply to the current round, from a newer incarnation of worker 0
 * (round 0: from any). */
static int prober_check_reply(struct prober *p,
                              const struct airsrt_envelope *env)
{
    struct restart_ping r;

    if (env->type != RESTART_REQUEST || env->payload_len != sizeof(r))
        return prober_fail(p, -EBADMSG, "round %u: an envelope of type %#x "
                           "and %u bytes", p->round, env->type,
                           env->payload_len);
    memcpy(&r, env->payload, sizeof(r));
    if (r.magic != RESTART_MAGIC || r.round != p->round)
        return prober_fail(p, -EBADMSG, "round %u: a reply to round %" PRIu64
                           " (magic %#" PRIx64 ")", p->round, r.round,
                           r.magic);
    if (env->sender.worker != ECHO_WORKER)
        return prober_fail(p, -EBADMSG, "round %u: answered by worker %u",
                           p->round, env->sender.worker);
    if (p->round > 0 && env->sender.incarnation <= p->incarnation)
        return prober_fail(p, -EBADMSG, "round %u: answered by incarnation "
                           "%u, not a newer one than %u", p->round,
                           env->sender.incarnation, p->incarnation);
    return 0;
}

static void sleep_ns(long ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000L,
                           .tv_nsec = ns % 1000000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The pid of the echo incarnation that answered last, once the
 * supervisor has published it: it does so after the worker said ready,
 * and the worker may answer before that. */
static int echo_pid(struct prober *p, pid_t *pid)
{
    struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(&p->shm,
                                                         ECHO_WORKER);
    uint32_t state = 0, inc = 0;
    int32_t v = 0;

    while (airsrt_now_ns() < p->deadline_ns) {
        state = atomic_load_explicit(&ws->state, memory_order_relaxed);
        inc = atomic_load_explicit(&ws->incarnation, memory_order_relaxed);
        v = atomic_load_explicit(&ws->pid, memory_order_relaxed);
        if (state == AIRSRT_WORKER_RUNNING && inc == p->incarnation &&
            v > 0) {
            *pid = v;
            return 0;
        }
        sleep_ns(SLOT_POLL_NS);
    }
    return prober_fail(p, -ETIMEDOUT, "round %u: worker %u's slot never "
                       "showed incarnation %u running (state %u, "
                       "incarnation %u, pid %d)", p->round, ECHO_WORKER,
                       p->incarnation, state, inc, (int)v);
}

/* Waits until the process behind pidfd is gone, up to the deadline. */
static int wait_gone(struct prober *p, int pidfd)
{
    struct pollfd pf = { .fd = pidfd, .events = POLLIN };
    uint64_t now;
    int rc;

    while ((now = airsrt_now_ns()) < p->deadline_ns) {
        rc = poll(&pf, 1, (int)((p->deadline_ns - now) / 1000000u) + 1);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return prober_fail(p, -errno, "round %u: poll: %s", p->round,
                               strerror(errno));
    }
    return prober_fail(p, -ETIMEDOUT, "round %u: worker %u lived on for %u "
                       "ms after SIGKILL", p->round, ECHO_WORKER,
                       ROUND_TIMEOUT_MS);
}

/*
 * Without pidfds (valgrind 3.19 has no pidfd_open): waits until the
 * supervisor has reaped pid, which it shows by clearing the slot's pid.
 * Later than the death itself, so only a fallback.
 */
static int wait_gone_slot(struct prober *p, pid_t pid)
{
    struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(&p->shm,
                                                         ECHO_WORKER);

    while (airsrt_now_ns() < p->deadline_ns) {
        if (atomic_load_explicit(&ws->pid, memory_order_relaxed) != pid)
            return 0;
        sleep_ns(SLOT_POLL_NS);
    }
    return prober_fail(p, -ETIMEDOUT, "round %u: worker %u's slot still "
                       "showed pid %d %u ms after SIGKILL", p->round,
                       ECHO_WORKER, (int)pid, ROUND_TIMEOUT_MS);
}

/* t0, then SIGKILL to the echo's process, and wait until it is gone. */
static int prober_kill(struct prober *p)
{
    pid_t pid = 0;
    int pidfd, rc;

    p->deadline_ns = airsrt_now_ns() + ROUND_TIMEOUT_MS * 1000000ull;
    rc = echo_pid(p, &pid);
    if (rc < 0)
        return rc;
    pidfd = pidfd_open(pid, 0);
    if (pidfd < 0 && errno == ENOSYS) {
        p->t0_ns = airsrt_now_ns();
        if (kill(pid, SIGKILL) < 0)
            return prober_fail(p, -errno, "round %u: SIGKILL to %d: %s",
                               p->round, (int)pid, strerror(errno));
        return wait_gone_slot(p, pid);
    }
    if (pidfd < 0)
        return prober_fail(p, -errno, "round %u: pidfd_open %d: %s",
                           p->round, (int)pid, strerror(errno));
    p->t0_ns = airsrt_now_ns();
    if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0)
        rc = prober_fail(p, -errno, "round %u: SIGKILL to %d: %s", p->round,
                         (int)pid, strerror(errno));
    else
        rc = wait_gone(p, pidfd);
    close(pidfd);
    return rc;
}

static int prober_write(struct prober *p)
{
    FILE *f = fdopen(p->fd, "w");
    int rc = 0;

    if (f == NULL)
        return prober_fail(p, -errno, "fdopen: %s", strerror(errno));
    p->fd = -1;
    for (uint32_t i = 0; i < p->kills; i++)
        fprintf(f, "%" PRIu64 "\n", p->lat[i]);
    fprintf(f, "done %u\n", p->kills);
    if (ferror(f))
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        return prober_fail(p, rc, "writing the results: %s", strerror(-rc));
    return 0;
}

/* Every round answered: write the results and stop; the worker then has
 * no actor left and ends, and with it (auto_shutdown) the runtime. */
static int prober_finish(struct airsrt_ctx *ctx, struct prober *p)
{
    int rc;

    prober_timer_set(p, 0);
    rc = prober_write(p);
    if (rc < 0)
        return rc;
    p->is_done = true;
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static int prober_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct prober *p = state;
    uint64_t t1 = airsrt_now_ns();
    int rc = prober_check_reply(p, env);

    if (rc < 0)
        return rc;
    if (p->round > 0)
        p->lat[p->round - 1] = t1 - p->t0_ns;
    p->incarnation = env->sender.incarnation;
    if (p->round == p->kills)
        return prober_finish(ctx, p);
    prober_timer_set(p, 0);
    sleep_ns(SETTLE_MS * 1000000L);
    p->round++;
    rc = prober_kill(p);
    if (rc < 0)
        return rc;
    return prober_ask(ctx, p);
}

/* The result file says why the rounds did not all finish. */
static void prober_stop(struct airsrt_ctx *ctx, void *state)
{
    struct prober *p = state;

    (void)ctx;
    if (!p->is_done && p->why[0] == '\0') {
        if (airsrt_now_ns() >= p->deadline_ns)
            prober_fail(p, -ETIMEDOUT, "round %u: no reply from %s within "
                        "%u ms", p->round, ECHO_NAME, ROUND_TIMEOUT_MS);
        else
            prober_fail(p, -EINTR, "stopped before round %u was answered "
                        "(the runtime is shutting down)", p->round);
    }
    if (!p->is_done && p->fd >= 0)
        dprintf(p->fd, "fail: %s\n", p->why);
    prober_release(p);
}

/* Any failure of the prober ends the measurement: it stops, and its
 * post_stop writes why. */
static enum airsrt_directive prober_on_error(struct airsrt_ctx *ctx,
                                             void *state,
                                             const struct airsrt_failure *f)
{
    (void)ctx;
    prober_fail(state, f->err, "the prober failed: %s",
                airsrt_strerror(f->err));
    return AIRSRT_STOP;
}

static const struct airsrt_actor_type prober_type = {
    .name = "prober", .state_size = sizeof(struct prober),
    .pre_start = prober_start, .handle = prober_handle,
    .post_stop = prober_stop, .on_error = prober_on_error,
};

const struct airsrt_actor_type *const bench_restart_types[] = {
    &echo_type, &prober_type, NULL };

/* ---- in the tool: one airsrt-run ---- */

struct restart_paths {
    char self[PATH_MAX];            /* this binary: the workers' */
    char run[PATH_MAX];             /* airsrt-run, in the same folder */
};

struct restart_run {
    const struct restart_paths *paths;
    bool has_spare;
    uint32_t kills;
    char runtime[AIRSRT_RUNTIME_NAME_MAX + 1];
    char dir[PATH_MAX - 64];        /* temporary; "" once removed */
    char file[PATH_MAX];            /* scratch for paths in dir */
    pid_t pid;                      /* airsrt-run, 0 = none */
    int status;                     /* its wait status */
    uint64_t *lat;                  /* kills of them, ns */
};

static const char *in_dir(struct restart_run *r, const char *name)
{
    snprintf(r->file, sizeof(r->file), "%s/%s", r->dir, name);
    return r->file;
}

/* Writes s into the start list's INIT: %XX for every byte that is not
 * plainly safe in a start list and an INI value (',', '%', ';', '#',
 * blanks, '{' of "{i}", ...). */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr("_./:-", ch) != NULL)
            fputc(ch, f);
        else
            fprintf(f, "%%%02X", ch);
    }
}

/* A path written as an INI value as it is: no comment or line break can
 * hide in it, and its line fits libinih's. */
static int check_plain_path(const char *what, const char *path)
{
    if (strpbrk(path, ";#\n\r") != NULL || strlen(path) > CONFIG_LINE_MAX -
        16) {
        fprintf(stderr, "airsrt-bench: restart: the %s path \"%s\" cannot "
                "go into a config (it holds ';', '#' or a line break, or is "
                "longer than %u bytes)\n", what, path, CONFIG_LINE_MAX - 16);
        return -EINVAL;
    }
    return 0;
}

static void write_group(FILE *f, const struct restart_run *r,
                        const char *name)
{
    fprintf(f, "\n[worker %s]\nbinary = %s\n", name, r->paths->self);
}

static int write_config(struct restart_run *r)
{
    char result[PATH_MAX];
    FILE *f;
    long end;
    int rc = 0;

    snprintf(result, sizeof(result), "%s/result", r->dir);
    f = fopen(in_dir(r, "restart.ini"), "w");
    if (f == NULL)
        return bench_fail_errno(r->file);
    fprintf(f, "; airsrt-bench restart: echo[0] is killed %u times\n"
            "[runtime]\nname = %s\nevent_log = events.jsonl\n"
            "hang_timeout_ms = %u\n\n"
            "[supervisor root]\nstrategy = one_for_one\n"
            "max_restarts = %u\nmax_seconds = 60\n"
            "auto_shutdown = any_significant\n", r->kills, r->runtime,
            HANG_TIMEOUT_MS, r->kills + 10);
    write_group(f, r, "echo");
    fprintf(f, "actor = echo@%s\nspare = %s\n", ECHO_NAME,
            r->has_spare ? "true" : "false");
    write_group(f, r, "prober");
    fprintf(f, "restart = temporary\nsignificant = true\n"
            "actor = prober=%s:%u:", r->runtime, r->kills);
    end = ftell(f);
    put_escaped(f, result);
    if (ftell(f) - end > (long)CONFIG_LINE_MAX - 40) {
        fprintf(stderr, "airsrt-bench: restart: the temporary folder's "
                "path %s is too long for a config line\n", r->dir);
        rc = -ENAMETOOLONG;
    }
    fputc('\n', f);
    if (ferror(f))
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = bench_fail_errno("writing the config");
    return rc;
}

/* In the child: airsrt-run with its stdout on our stderr (our stdout is
 * the report). Never returns. */
static void __attribute__((noreturn))
exec_airsrt_run(struct restart_run *r, pid_t parent)
{
    /* execv's argv is not const for history's sake; it is not written. */
    char *argv[] = { (char *)r->paths->run, (char *)"--quiet",
                     (char *)in_dir(r, "restart.ini"), NULL };
    sigset_t none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    /* If the tool dies, airsrt-run shuts the runtime down in order. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(EXIT_SYSTEM);
    if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        _exit(EXIT_SYSTEM);
    execv(argv[0], argv);
    fprintf(stderr, "airsrt-bench: exec %s: %s\n", argv[0], strerror(errno));
    _exit(EXIT_SYSTEM);
}

static int start_airsrt_run(struct restart_run *r)
{
    pid_t parent = getpid();
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return bench_fail_errno("fork");
    if (pid == 0)
        exec_airsrt_run(r, parent);
    r->pid = pid;
    return 0;
}

/*
 * Reaps airsrt-run if it has ended, waiting up to ms for it (-1: for
 * ever); true once it is reaped. Polls waitpid rather than a pidfd:
 * valgrind 3.19 knows no pidfd_open, and the tool must run under it. A
 * signal (a stop) cuts the sleep short. Until it is reaped the pid is
 * ours, so signals sent to it reach no other process.
 */
static bool wait_end(struct restart_run *r, int ms)
{
    uint64_t end = airsrt_now_ns() + (uint64_t)(ms < 0 ? 0 : ms) * 1000000u;
    pid_t got;

    for (;;) {
        got = waitpid(r->pid, &r->status, WNOHANG);
        if (got == r->pid || (got < 0 && errno == ECHILD)) {
            r->pid = 0;
            return true;
        }
        if (ms >= 0 && airsrt_now_ns() >= end)
            return false;
        sleep_ns(WAIT_POLL_MS * 1000000L);
    }
}

/* SIGTERM (an orderly shutdown), then SIGKILL if it does not end. */
static void stop_airsrt_run(struct restart_run *r)
{
    kill(r->pid, SIGTERM);
    if (!wait_end(r, RUN_TERM_GRACE_MS)) {
        kill(r->pid, SIGKILL);
        wait_end(r, -1);
    }
}

/* Runs airsrt-run to its end, within an overall limit and as long as the
 * tool is not told to stop. 0 if it exited 0. */
static int run_airsrt_run(struct restart_run *r)
{
    uint64_t limit_ms = RUN_LIMIT_BASE_MS +
                        (uint64_t)r->kills * RUN_LIMIT_KILL_MS;
    uint64_t end = airsrt_now_ns() + limit_ms * 1000000u;
    int rc = start_airsrt_run(r);

    if (rc < 0)
        return rc;
    while (!wait_end(r, 0)) {
        if (bench_stop_sig) {
            stop_airsrt_run(r);
            return -EINTR;
        }
        if (airsrt_now_ns() >= end) {
            fprintf(stderr, "airsrt-bench: restart: airsrt-run ran longer "
                    "than %" PRIu64 " s: stopped\n", limit_ms / 1000);
            stop_airsrt_run(r);
            return -ETIMEDOUT;
        }
        sleep_ns(WAIT_POLL_MS * 1000000L);
    }
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
        return 0;
    if (WIFEXITED(r->status))
        fprintf(stderr, "airsrt-bench: restart: airsrt-run exited with "
                "status %d\n", WEXITSTATUS(r->status));
    else
        fprintf(stderr, "airsrt-bench: restart: airsrt-run was killed by "
                "signal %d\n", WTERMSIG(r->status));
    return -ECHILD;
}

/* Our children now: workers that outlived their airsrt-run and were
 * reparented to us (the subreaper). At most max; how many. */
static size_t list_children(pid_t *pids, size_t max)
{
    char path[64];
    size_t n = 0;
    long v;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/children",
             (int)getpid());
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (n < max && fscanf(f, "%ld", &v) == 1)
        pids[n++] = (pid_t)v;
    fclose(f);
    return n;
}

/* Reaps the orphans: they got SIGTERM when airsrt-run died (their
 * parent-death signal); whoever is still there after a grace is killed
 * by pid. Returns how many there were. */
static size_t reap_orphans(void)
{
    uint64_t end = airsrt_now_ns() + ORPHAN_GRACE_MS * 1000000ull;
    size_t n = 0, left;
    pid_t pids[64];

    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            n++;
        left = list_children(pids, sizeof(pids) / sizeof(pids[0]));
        if (left == 0)
            return n;
        if (airsrt_now_ns() >= end)
            break;
        sleep_ns(10000000L);
    }
    for (size_t i = 0; i < left; i++) {
        kill(pids[i], SIGKILL);
        if (waitpid(pids[i], NULL, 0) == pids[i])
            n++;
    }
    return n;
}

/* airsrt-run removes its segment on every way out but SIGKILL: one left
 * behind is removed here, and is an error unless we killed it. */
static int check_segment(const struct restart_run *r, bool was_killed)
{
    char name[AIRSRT_SHM_PATH_MAX + 1];

    snprintf(name, sizeof(name), "/airsrt.%s", r->runtime);
    if (shm_unlink(name) < 0)
        return 0;
    if (was_killed)
        return 0;
    fprintf(stderr, "airsrt-bench: restart: airsrt-run left its segment "
            "/dev/shm%s behind (removed now)\n", name);
    return -EEXIST;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) < 0)
        fprintf(stderr, "airsrt-bench: cannot remove %s: %s\n", path,
                strerror(errno));
    return 0;
}

static void remove_dir(struct restart_run *r)
{
    if (r->dir[0] == '\0')
        return;
    nftw(r->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    r->dir[0] = '\0';
}

/* ---- in the tool: what a run left ---- */

/* The result file: kills latencies, then "done KILLS"; or a failure. */
static int read_results(struct restart_run *r)
{
    char line[512], *end;
    uint32_t n = 0, done = 0;
    int rc = 0;
    FILE *f = fopen(in_dir(r, "result"), "r");

    if (f == NULL)
        return bench_fail_errno("the prober's result file");
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "fail: ", 6) == 0) {
            fprintf(stderr, "airsrt-bench: restart: %s\n", line + 6);
            rc = -EPROTO;
        } else if (sscanf(line, "done %" SCNu32, &done) == 1) {
            break;
        } else if (n < r->kills) {
            errno = 0;
            r->lat[n++] = strtoull(line, &end, 10);
            if (errno != 0 || *end != '\0' || end == line)
                rc = -EBADMSG;
        } else {
            rc = -EBADMSG;
        }
    }
    fclose(f);
    if (rc == 0 && (n != r->kills || done != r->kills)) {
        fprintf(stderr, "airsrt-bench: restart: the prober recorded %u of "
                "%u kills (done %u)\n", n, r->kills, done);
        rc = -EPROTO;
    }
    return rc;
}

/* The value of "pid" in an event line, or 0. */
static pid_t event_pid(const char *line)
{
    const char *s = strstr(line, "\"pid\":");

    return s ? (pid_t)strtol(s + 6, NULL, 10) : 0;
}

struct restart_events {
    pid_t *spares;                  /* pids of spares forked, in order */
    uint32_t nspares, cap;
    uint32_t restarts, from_spare, spare_exits;
};

static void count_event(struct restart_events *e, const char *line)
{
    pid_t pid = event_pid(line);

    if (strstr(line, "\"event\":\"spare_forked\"") != NULL) {
        if (e->nspares < e->cap)
            e->spares[e->nspares] = pid;
        e->nspares++;
    } else if (strstr(line, "\"event\":\"spare_exited\"") != NULL) {
        e->spare_exits++;
    } else if (strstr(line, "\"event\":\"worker_restarted\"") != NULL &&
               strstr(line, "\"worker\":\"echo[0]\"") != NULL) {
        e->restarts++;
        for (uint32_t i = 0; i < e->nspares && i < e->cap; i++)
            if (e->spares[i] == pid && pid > 0)
                e->from_spare++;
    }
}

/* The event log says each kill made one restart of echo[0], each served
 * by a pre-forked spare exactly in the spare variant. */
static int check_events(struct restart_run *r)
{
    struct restart_events e = { .cap = r->kills + 8 };
    char line[2048];
    FILE *f = fopen(in_dir(r, "events.jsonl"), "r");
    int rc = 0;

    if (f == NULL)
        return bench_fail_errno("the event log");
    e.spares = calloc(e.cap, sizeof(*e.spares));
    if (e.spares == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    while (fgets(line, sizeof(line), f) != NULL)
        count_event(&e, line);
    fclose(f);
    free(e.spares);
    if (e.restarts != r->kills) {
        fprintf(stderr, "airsrt-bench: restart: the event log shows %u "
                "restarts of echo[0] for %u kills\n", e.restarts, r->kills);
        rc = -EPROTO;
    } else if (r->has_spare && e.from_spare != r->kills) {
        fprintf(stderr, "airsrt-bench: restart: only %u of %u restarts "
                "were served by a spare (%u forked, %u exited unused): no "
                "figure with a spare\n", e.from_spare, r->kills, e.nspares,
                e.spare_exits);
        rc = -EPROTO;
    } else if (!r->has_spare && e.nspares != 0) {
        fprintf(stderr, "airsrt-bench: restart: %u spares were forked in "
                "the variant without one\n", e.nspares);
        rc = -EPROTO;
    }
    return rc;
}

/* One airsrt-run: kills latencies into r->lat. */
static int restart_once(struct restart_run *r)
{
    const char *tmp = getenv("TMPDIR");
    bool was_killed;
    int rc;

    snprintf(r->dir, sizeof(r->dir), "%s/airsrt-bench-restart-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(r->dir) == NULL) {
        rc = bench_fail_errno("mkdtemp");
        r->dir[0] = '\0';
        return rc;
    }
    rc = write_config(r);
    if (rc == 0)
        rc = run_airsrt_run(r);
    /* A killed airsrt-run cannot have removed its segment. */
    was_killed = rc == -EINTR || rc == -ETIMEDOUT ||
                 (rc == -ECHILD && WIFSIGNALED(r->status));
    if (reap_orphans() > 0 && rc == 0) {
        fprintf(stderr, "airsrt-bench: restart: workers outlived "
                "airsrt-run\n");
        rc = -ECHILD;
    }
    if (check_segment(r, was_killed) < 0 && rc == 0)
        rc = -EEXIST;
    /* A prober that failed says why in its result file. */
    if (rc == 0 || (rc == -ECHILD && access(in_dir(r, "result"), F_OK) == 0))
        rc = read_results(r) < 0 ? -EPROTO : rc;
    if (rc == 0)
        rc = check_events(r);
    remove_dir(r);
    return rc;
}

/* ---- in the tool: the workload ---- */

/* Figures of one variant, one value per run. */
enum { F_KILLS, F_P50, F_P99, F_P999, F_MIN, F_MAX, F_P50_X, F_P99_X,
       F_OTP_X, F_N };

static const struct {
    const char *key, *label, *unit;
    int decimals;
} figure_rows[F_N] = {
    [F_KILLS] = { "kills", "kills", "kills", 0 },
    [F_P50] = { "p50_us", "restart latency p50, us", "us", 1 },
    [F_P99] = { "p99_us", "restart latency p99, us", "us", 1 },
    [F_P999] = { "p999_us", "restart latency p99.9, us", "us", 1 },
    [F_MIN] = { "min_us", "restart latency min, us", "us", 1 },
    [F_MAX] = { "max_us", "restart latency max, us", "us", 1 },
    [F_P50_X] = { "p50_over_target", "p50 / its target", "x", 2 },
    [F_P99_X] = { "p99_over_target", "p99 / its target", "x", 2 },
    [F_OTP_X] = { "p50_over_otp", "p50 / an Erlang in-VM restart (43 us)",
                  "x", 1 },
};

static void figures_of(uint64_t *lat, uint32_t n, bool has_spare,
                       double *fig[F_N], uint32_t run)
{
    double p50_target = has_spare ? TARGET_P50_SPARE_US : TARGET_P50_US;

    bench_sort_u64(lat, n);
    fig[F_KILLS][run] = n;
    fig[F_P50][run] = bench_percentile(lat, n, 5000) / 1e3;
    fig[F_P99][run] = bench_percentile(lat, n, 9900) / 1e3;
    fig[F_P999][run] = bench_percentile(lat, n, 9990) / 1e3;
    fig[F_MIN][run] = (double)lat[0] / 1e3;
    fig[F_MAX][run] = (double)lat[n - 1] / 1e3;
    fig[F_P50_X][run] = fig[F_P50][run] / p50_target;
    fig[F_P99_X][run] = fig[F_P99][run] / TARGET_P99_US;
    fig[F_OTP_X][run] = fig[F_P50][run] / OTP_RESTART_US;
}

static void report_variant(struct bench_report *rep, bool has_spare,
                           uint32_t kills, double *fig[F_N], uint32_t runs)
{
    const struct bench_target p50 = { "<=", has_spare ? TARGET_P50_SPARE_US
                                                      : TARGET_P50_US };
    const struct bench_target p99 = { "<=", TARGET_P99_US };
    const struct bench_target ratio = { "<=", 1.0 };
    const struct bench_target otp = { "<=", OTP_FACTOR };
    const struct bench_target *t[F_N] = {
        [F_P50] = &p50, [F_P99] = &p99, [F_P50_X] = &ratio,
        [F_P99_X] = &ratio, [F_OTP_X] = &otp,
    };
    const char *v = has_spare ? "spare" : "no_spare";
    char title[96], key[64];

    snprintf(title, sizeof(title), has_spare ?
             "restart from a pre-forked spare, %u kills" :
             "restart by fork and exec (no spare), %u kills", kills);
    bench_report_section(rep, title);
    for (int i = 0; i < F_N; i++) {
        if (i == F_OTP_X && !has_spare)
            continue;
        snprintf(key, sizeof(key), "restart.%s.%s", v, figure_rows[i].key);
        bench_report_row(rep, key, figure_rows[i].label, figure_rows[i].unit,
                         figure_rows[i].decimals, fig[i], runs, t[i]);
    }
}

static int restart_variant(const struct bench_opts *o,
                           struct bench_report *rep,
                           const struct restart_paths *paths, bool has_spare)
{
    static double values[F_N][BENCH_MAX_RUNS];
    double *fig[F_N];
    struct restart_run r = { .paths = paths, .has_spare = has_spare,
                             .kills = (uint32_t)o->count };
    int rc = 0;

    for (int i = 0; i < F_N; i++)
        fig[i] = values[i];
    snprintf(r.runtime, sizeof(r.runtime), "bench-restart-%d",
             (int)getpid());
    r.lat = calloc(r.kills, sizeof(*r.lat));
    if (r.lat == NULL)
        return bench_fail_errno("calloc");
    for (uint32_t run = 0; rc == 0 && run < o->runs; run++) {
        rc = restart_once(&r);
        if (rc == 0)
            figures_of(r.lat, r.kills, has_spare, fig, run);
    }
    free(r.lat);
    if (rc == 0)
        report_variant(rep, has_spare, r.kills, fig, o->runs);
    return rc;
}

/* This binary, and airsrt-run next to it. */
static int find_paths(struct restart_paths *p)
{
    ssize_t n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1);
    char *slash;

    if (n < 0)
        return bench_fail_errno("readlink /proc/self/exe");
    p->self[n] = '\0';
    slash = strrchr(p->self, '/');
    snprintf(p->run, sizeof(p->run), "%.*s/airsrt-run",
             slash ? (int)(slash - p->self) : 1, slash ? p->self : ".");
    if (access(p->run, X_OK) < 0) {
        fprintf(stderr, "airsrt-bench: restart needs airsrt-run next to "
                "airsrt-bench: %s: %s\n", p->run, strerror(errno));
        return -ENOENT;
    }
    if (check_plain_path("airsrt-bench", p->self) < 0)
        return -EINVAL;
    return 0;
}

static void report_setup(const struct bench_opts *o, struct bench_report *rep,
                         const struct restart_paths *p)
{
    bench_report_setup(rep, "runtime", "%s --quiet: a root supervisor "
                       "(one_for_one, max_restarts %" PRIu64 " in 60 s, "
                       "auto_shutdown any_significant)", p->run,
                       o->count + 10);
    bench_report_setup(rep, "workers", "echo[0] (permanent, echo@%s) and "
                       "prober[0] (temporary, significant), both %s",
                       ECHO_NAME, p->self);
    bench_report_setup(rep, "kill", "pidfd_open, t0, SIGKILL, wait on the "
                       "pidfd until the process is gone, a request to %s; "
                       "t1 when the reply of the next incarnation is "
                       "handled", ECHO_NAME);
    bench_report_setup(rep, "kills", "%" PRIu64 " per variant, %u ms apart "
                       "after each reply (the next spare is forked then)",
                       o->count, SETTLE_MS);
    bench_report_setup(rep, "runs", "%u per variant, each a fresh "
                       "airsrt-run; median, min and max across runs",
                       o->runs);
    bench_report_setup(rep, "targets", "p50 <= %g us without a spare, <= %g "
                       "us with one; p99 <= %g us; with a spare within %gx "
                       "of an Erlang in-VM restart (%g us)", TARGET_P50_US,
                       TARGET_P50_SPARE_US, TARGET_P99_US, OTP_FACTOR,
                       OTP_RESTART_US);
    fflush(stdout);
}

int bench_restart_run(const struct bench_opts *o, struct bench_report *rep)
{
    struct restart_paths paths;
    int rc = find_paths(&paths);

    if (rc < 0)
        return rc;
    /* Workers orphaned by an airsrt-run that died come to us, to be
     * reaped (reap_orphans). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return bench_fail_errno("PR_SET_CHILD_SUBREAPER");
    report_setup(o, rep, &paths);
    rc = restart_variant(o, rep, &paths, false);
    if (rc == 0)
        rc = restart_variant(o, rep, &paths, true);
    return rc;
}
