/*
 * tests/integration/test_worker_supervised.c - the worker's side of the
 * supervisor contract (airsrt/worker.h), with the test standing where
 * airsrt-run stands: it makes the segment, sets slot incarnations and
 * names, and execs examples/pingpong with the contract's environment.
 *
 *  - AIRSRT_READY_FD: 'R' once every listed actor started, then closed;
 *    closed without a byte when a pre_start fails (exit 113);
 *  - AIRSRT_SPARE_FD: a spare prepares, waits, becomes the worker its
 *    line names and says 'R' on the same socket; end of file or a bad
 *    line ends it quietly with 0;
 *  - supervisor death: a worker whose parent is not the segment's owner
 *    at open exits 0 without running an actor; one whose supervisor dies
 *    later (SIGKILL) shuts down in order; the heartbeat check alone does
 *    too (in-process, parent changed under it);
 *  - the process title, in /proc/PID/cmdline;
 *  - AIRSRT_CTL_WORKER_DOWN: taken from the control ring without a dead
 *    letter and without disturbing delivery; it drops cached holders of
 *    that incarnation; a malformed one is a dead letter.
 *
 * The spare test that hands over many spares in a row also measures the
 * go -> ready latency (line written -> 'R' read) and logs its median
 * (--verbose); it asserts readiness, never a time.
 *
 * Under valgrind the kernel shows valgrind's own command line for an
 * exec'd worker, so titles are not compared there.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

#define ERR_MAX 4096

/* Worker processes harness_fini does not know of - the orphan of the
 * parent-death test, the current spare of the many-spares test - killed
 * by pid at the end whatever happens. */
static pid_t g_orphan, g_spare;

static void kill_reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}

static void fini(void)
{
    kill_reap(&g_orphan);
    kill_reap(&g_spare);
    harness_fini();
}

TestSuite(worker_supervised, .fini = fini);

static bool is_under_valgrind(void)
{
    return getenv("AIRSRT_UNDER_VALGRIND") != NULL;
}

static const char *pingpong(void)
{
    return wh_build_path("examples/pingpong");
}

/* Waits until pid's title is "airsrt: RUNTIME/what", RUNTIME the test's. */
static void await_title(pid_t pid, const char *what)
{
    uint64_t until = integ_deadline(INTEG_WAIT_MS);
    char want[160], got[512] = "";

    if (is_under_valgrind())
        return;
    snprintf(want, sizeof(want), "airsrt: %s/%s", harness_shm.hdr->name,
             what);
    while (!wh_cmdline(pid, got, sizeof(got)) || strcmp(got, want) != 0) {
        cr_assert(integ_is_before(until), "title of %d is \"%s\", not "
                  "\"%s\"", (int)pid, got, want);
        integ_nap();
    }
}

/* Who holds name now (null if nobody or no such name). */
static struct airsrt_address holder_of(const char *name)
{
    struct airsrt_address a = AIRSRT_ADDRESS_NULL;
    struct airsrt_registry reg;
    uint32_t id;

    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    if (airsrt_registry_resolve(&reg, name, &id, &a) < 0)
        return AIRSRT_ADDRESS_NULL;
    return a;
}

static bool is_held_by(const char *name, uint32_t w, uint32_t inc)
{
    struct airsrt_address a = holder_of(name);

    return !airsrt_address_is_null(&a) && a.worker == w &&
           a.incarnation == inc;
}

/* ---- AIRSRT_READY_FD ---- */

/* Execs pingpong as worker 0 starting start, with a ready pipe; the
 * test's end of it in *ready. */
static pid_t exec_with_ready(const char *start, int *ready)
{
    static char env[32];
    const char *extra[] = { env, NULL };
    int fds[2];
    pid_t pid;

    wh_channel(fds, false);
    snprintf(env, sizeof(env), "%s=%d", AIRSRT_ENV_READY_FD, fds[1]);
    pid = wh_exec_worker(0, pingpong(), start, extra);
    close(fds[1]);
    *ready = fds[0];
    return pid;
}

Test(worker_supervised, writes_ready_once_its_actors_started, .timeout = 60)
{
    int ready;
    pid_t pid;
    char c;

    wh_runtime(1, NULL);
    wh_name_slot(0, "accounts[2]");
    pid = exec_with_ready("ponger@pong", &ready);
    cr_assert_eq(wh_read_byte(ready, &c, INTEG_WAIT_MS), 1,
                 "the worker closed its ready pipe without a byte");
    cr_assert_eq(c, 'R');
    /* Ready means started: the actor registered its name, the worker
     * says it runs. */
    cr_assert(is_held_by("pong", 0, 1));
    cr_assert_eq(atomic_load(&integ_self(0)->state), AIRSRT_WORKER_RUNNING);
    /* One byte, then closed. */
    cr_assert_eq(wh_read_byte(ready, &c, INTEG_WAIT_MS), 0);
    await_title(pid, "accounts[2]");
    integ_ctl_shutdown(0);
    cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_OK);
    close(ready);
}

Test(worker_supervised, closes_ready_without_a_byte_when_a_start_fails,
     .timeout = 60)
{
    int ready;
    pid_t pid;
    char c = 0;

    wh_runtime(1, NULL);
    /* pinger's pre_start refuses 0 rounds. */
    pid = exec_with_ready("ponger@pong,pinger=0", &ready);
    cr_assert_eq(wh_read_byte(ready, &c, INTEG_WAIT_MS), 0,
                 "a failed start wrote '%c'", c);
    cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_START_FAILED);
    close(ready);
}

/* ---- AIRSRT_SPARE_FD ---- */

/* Execs pingpong as a spare on a socket (the test's end in *sock), with
 * extra_env ("NAME=value" or NULL) and its stderr to the test. */
static struct integ_proc start_spare(int *sock, const char *extra_env)
{
    static char fd_env[32];
    const char *env[] = { integ_env_fd(), fd_env, extra_env, NULL };
    char *argv[] = { (char *)pingpong(), NULL };
    struct integ_proc p;
    int fds[2];

    wh_channel(fds, true);
    snprintf(fd_env, sizeof(fd_env), "%s=%d", AIRSRT_ENV_SPARE_FD, fds[1]);
    p = integ_run_exec(argv[0], argv, env);
    close(fds[1]);
    *sock = fds[0];
    return p;
}

static void say_line(int sock, const char *line)
{
    ssize_t len = (ssize_t)strlen(line);

    cr_assert_eq(write(sock, line, (size_t)len), len, "write: %s",
                 strerror(errno));
}

/* No worker slot was bound: every self page is as the segment made it. */
static void expect_nothing_bound(void)
{
    for (uint32_t w = 0; w < harness_shm.params.nworkers; w++)
        cr_assert_eq(atomic_load(&integ_self(w)->incarnation), 0,
                     "worker %u was bound", w);
}

Test(worker_supervised, spare_becomes_the_worker_its_line_names,
     .timeout = 60)
{
    char err[ERR_MAX], c;
    struct integ_proc p;
    int sock;

    wh_runtime(2, NULL);
    wh_name_slot(1, "accounts[2]");
    p = start_spare(&sock, NULL);
    await_title(p.pid, "spare");
    expect_nothing_bound();
    /* The supervisor sets the slot's incarnation before it says go. */
    wh_incarnate(1, 3);
    say_line(sock, "1 ponger@pong\n");
    cr_assert_eq(wh_read_byte(sock, &c, INTEG_WAIT_MS), 1,
                 "the spare closed its socket without a byte");
    cr_assert_eq(c, 'R');
    cr_assert(is_held_by("pong", 1, 3));
    cr_assert_eq(atomic_load(&integ_self(1)->incarnation), 3);
    cr_assert_eq(atomic_load(&integ_self(1)->state), AIRSRT_WORKER_RUNNING);
    cr_assert_eq(atomic_load(&integ_self(0)->incarnation), 0);
    cr_assert_eq(wh_read_byte(sock, &c, INTEG_WAIT_MS), 0);
    await_title(p.pid, "accounts[2]");
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    close(sock);
}

Test(worker_supervised, spare_takes_the_environment_start_list_on_a_bare_index,
     .timeout = 60)
{
    char err[ERR_MAX], c;
    struct integ_proc p;
    int sock;

    wh_runtime(1, NULL);
    p = start_spare(&sock, AIRSRT_ENV_ACTORS "=ponger@pong");
    await_title(p.pid, "spare");
    say_line(sock, "0\n");
    cr_assert_eq(wh_read_byte(sock, &c, INTEG_WAIT_MS), 1);
    cr_assert_eq(c, 'R');
    cr_assert(is_held_by("pong", 0, 1));
    integ_ctl_shutdown(0);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    close(sock);
}

Test(worker_supervised, spare_exits_quietly_at_end_of_file, .timeout = 60)
{
    char err[ERR_MAX];
    struct integ_proc p;
    int sock;

    wh_runtime(1, NULL);
    p = start_spare(&sock, NULL);
    await_title(p.pid, "spare");
    close(sock);
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    cr_assert_str_empty(err);
    expect_nothing_bound();
}

/* Runs a spare, tells it line and returns its exit status; its stderr in
 * err. */
static int spare_told(const char *line, char err[ERR_MAX])
{
    struct integ_proc p;
    int sock, status;

    p = start_spare(&sock, NULL);
    say_line(sock, line);
    status = integ_finish(&p, err, ERR_MAX);
    close(sock);
    return status;
}

Test(worker_supervised, spare_exits_quietly_on_a_malformed_line,
     .timeout = 60)
{
    static const char *const lines[] = { "one\n", "\n", " 1\n", "-1\n",
                                         "0x1\n", "1\t1\n" };
    char err[ERR_MAX];

    wh_runtime(2, NULL);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        cr_assert_eq(spare_told(lines[i], err), AIRSRT_EXIT_OK,
                     "line %zu: stderr: %s", i, err);
        cr_assert_str_empty(err, "line %zu", i);
    }
    expect_nothing_bound();
}

Test(worker_supervised, spare_refuses_a_bad_index_or_start_list_as_a_worker,
     .timeout = 60)
{
    char err[ERR_MAX];

    wh_runtime(2, NULL);
    /* Lines of the right shape: the worker's usage errors, said. */
    cr_assert_eq(spare_told("2 ponger\n", err), AIRSRT_EXIT_USAGE,
                 "stderr: %s", err);
    cr_assert_not_null(strstr(err, "only 2 workers"), "stderr: %s", err);
    cr_assert_eq(spare_told("1 =x\n", err), AIRSRT_EXIT_USAGE, "stderr: %s",
                 err);
    cr_assert_not_null(strstr(err, "start list"), "stderr: %s", err);
    /* No actors anywhere. */
    cr_assert_eq(spare_told("1\n", err), AIRSRT_EXIT_USAGE, "stderr: %s",
                 err);
    cr_assert_not_null(strstr(err, AIRSRT_ENV_ACTORS), "stderr: %s", err);
    expect_nothing_bound();
}

Test(worker_supervised, spare_refuses_a_worker_index_as_well, .timeout = 60)
{
    char err[ERR_MAX];
    struct integ_proc p;
    int sock;

    wh_runtime(1, NULL);
    p = start_spare(&sock, AIRSRT_ENV_WORKER "=0");
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_USAGE,
                 "stderr: %s", err);
    cr_assert_not_null(strstr(err, AIRSRT_ENV_SPARE_FD), "stderr: %s", err);
    close(sock);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * As start_spare, for more spares than harness_fork keeps track of in one
 * test (64), stderr left as the test's: the child dies with the test
 * (PR_SET_PDEATHSIG), and fini kills g_spare, the one alive, by pid.
 */
static pid_t start_spare_untracked(int *sock)
{
    const char *path = pingpong(), *fd_env = integ_env_fd();
    pid_t parent = getpid(), pid;
    char spare_env[32];
    int fds[2];

    wh_channel(fds, true);
    snprintf(spare_env, sizeof(spare_env), "%s=%d", AIRSRT_ENV_SPARE_FD,
             fds[1]);
    pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
        putenv((char *)fd_env);
        putenv(spare_env);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    g_spare = pid;
    close(fds[1]);
    *sock = fds[0];
    return pid;
}

/*
 * One spare after another takes over worker 0, as restarts do: each one
 * must report ready as the next incarnation. The time from the line
 * written to the 'R' read is logged (median), not asserted.
 */
Test(worker_supervised, spares_take_over_one_incarnation_after_another,
     .timeout = 300)
{
    uint64_t runs = harness_count(200);
    uint64_t *took = calloc(runs, sizeof(*took));

    cr_assert_not_null(took);
    wh_runtime(1, NULL);
    for (uint64_t i = 0; i < runs; i++) {
        uint32_t inc = (uint32_t)i + 1;
        uint64_t t0;
        pid_t pid;
        int sock;
        char c;

        pid = start_spare_untracked(&sock);
        await_title(pid, "spare");
        /* The title is set just before the wait: let it block. */
        integ_nap();
        wh_incarnate(0, inc);
        t0 = airsrt_now_ns();
        say_line(sock, "0 ponger@pong\n");
        cr_assert_eq(wh_read_byte(sock, &c, INTEG_WAIT_MS), 1, "run %llu",
                     (unsigned long long)i);
        took[i] = airsrt_now_ns() - t0;
        cr_assert_eq(c, 'R');
        cr_assert(is_held_by("pong", 0, inc), "run %llu",
                  (unsigned long long)i);
        integ_ctl_shutdown(0);
        cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_OK, "run %llu",
                     (unsigned long long)i);
        g_spare = 0;
        close(sock);
    }
    qsort(took, runs, sizeof(*took), cmp_u64);
    cr_log_info("spare go -> ready over %llu runs: median %.1f us, "
                "min %.1f us, max %.1f us", (unsigned long long)runs,
                (double)took[runs / 2] / 1e3, (double)took[0] / 1e3,
                (double)took[runs - 1] / 1e3);
    free(took);
}

/* ---- supervisor death ---- */

/*
 * In a forked child, never returning: execs pingpong as worker 0 of shm
 * starting "ponger@pong", its stderr to err_fd and env set. Plain calls
 * only: no Criterion assertion outside the test's own process.
 */
static void exec_worker0(const char *path, const struct airsrt_shm *shm,
                         int err_fd, const char *const *env)
{
    char fd[16];
    int dup_fd = fcntl(shm->fd, F_DUPFD, 3);

    if (dup_fd < 0 || dup2(err_fd, STDERR_FILENO) < 0)
        _exit(126);
    snprintf(fd, sizeof(fd), "%d", dup_fd);
    setenv(AIRSRT_ENV_FD, fd, 1);
    setenv(AIRSRT_ENV_WORKER, "0", 1);
    setenv(AIRSRT_ENV_ACTORS, "ponger@pong", 1);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv((char *)env[i]);
    execl(path, path, (char *)NULL);
    _exit(127);
}

/* In a child of the test, never returning: runs pingpong as worker 0 of
 * the test's segment in a child of its own, and exits with its status
 * (128 + signal if killed). */
static void run_grandchild(const char *path, int err_fd)
{
    int status = 0;
    pid_t w = fork();

    if (w < 0)
        harness_exit(120);
    if (w == 0)
        exec_worker0(path, &harness_shm, err_fd, NULL);
    close(err_fd);
    while (waitpid(w, &status, 0) < 0 && errno == EINTR)
        ;
    harness_exit(WIFEXITED(status) ? WEXITSTATUS(status)
                                   : 128 + WTERMSIG(status));
}

Test(worker_supervised, exits_at_open_when_its_parent_is_not_the_owner,
     .timeout = 60)
{
    const char *path = pingpong();
    char err[ERR_MAX], want[128];
    struct integ_proc p;
    int errfds[2];

    wh_runtime(1, NULL);
    wh_name_slot(0, "solo[0]");
    wh_channel(errfds, false);
    /* The test owns the segment; the worker's parent is a child of it. */
    p.pid = harness_fork();
    if (p.pid == 0)
        run_grandchild(path, errfds[1]);
    close(errfds[1]);
    p.err_fd = errfds[0];
    cr_assert_eq(integ_finish(&p, err, sizeof(err)), AIRSRT_EXIT_OK,
                 "stderr: %s", err);
    snprintf(want, sizeof(want), "airsrt worker solo[0]: supervisor (pid %d) "
             "is gone; shutting down\n", (int)getpid());
    cr_assert_str_eq(err, want);
    /* No actor ran: nothing was bound, no name registered. */
    expect_nothing_bound();
    cr_assert_not(is_held_by("pong", 0, 1));
}

/* The shared page of the supervisor stand-in. */
struct stand_in {
    _Atomic int32_t worker_pid;     /* set once the worker is ready */
    _Atomic int32_t failed;         /* the stand-in's step that failed */
};

/*
 * A supervisor stand-in, in a child of the test, never returning: owns a
 * segment of its own (nothing left if it is killed: the name is gone at
 * once), starts pingpong as its worker 0 with a ready pipe, says the
 * worker's pid once it is ready, then waits to be killed.
 */
static void stand_in(const char *path, int err_fd, struct stand_in *sh)
{
    struct airsrt_shm_params params = { .nworkers = 1 };
    struct airsrt_shm shm;
    char env[32];
    const char *extra[] = { env, NULL };
    int ready[2];
    pid_t w;
    char c;

    if (airsrt_shm_create(&shm, harness_name("sup"), &params) < 0 ||
        shm_unlink(shm.path) < 0 || pipe2(ready, O_CLOEXEC) < 0 ||
        fcntl(ready[1], F_SETFD, 0) < 0) {
        atomic_store(&sh->failed, 1);
        harness_exit(121);
    }
    atomic_store(&airsrt_shm_worker_sup(&shm, 0)->incarnation, 1);
    snprintf(airsrt_shm_worker_sup(&shm, 0)->name,
             sizeof(airsrt_shm_worker_sup(&shm, 0)->name), "solo[0]");
    snprintf(env, sizeof(env), "%s=%d", AIRSRT_ENV_READY_FD, ready[1]);
    w = fork();
    if (w == 0)
        exec_worker0(path, &shm, err_fd, extra);
    close(ready[1]);
    close(err_fd);
    if (w < 0 || read(ready[0], &c, 1) != 1 || c != 'R') {
        atomic_store(&sh->failed, 2);
        harness_exit(122);
    }
    atomic_store(&sh->worker_pid, w);
    for (;;)
        pause();
}

/* Reads fd to its end into buf (NUL-terminated, cut to len). */
static void read_to_end(int fd, char *buf, size_t len)
{
    size_t used = 0;
    ssize_t n;
    char c;

    while ((n = wh_read_byte(fd, &c, INTEG_WAIT_MS)) == 1)
        if (used + 1 < len)
            buf[used++] = c;
    buf[used] = '\0';
    close(fd);
}

/* Reaps pid, which becomes our child once its parent dies (we are a
 * subreaper); its exit code, or 128 + signal. */
static int reap_orphan(pid_t pid)
{
    uint64_t until = integ_deadline(INTEG_WAIT_MS);
    int status;

    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);

        if (got == pid)
            break;
        cr_assert(got == 0 || errno == ECHILD || errno == EINTR,
                  "waitpid %d: %s", (int)pid, strerror(errno));
        cr_assert(integ_is_before(until), "worker %d still runs after its "
                  "supervisor died", (int)pid);
        integ_nap();
    }
    g_orphan = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(worker_supervised, shuts_down_when_its_supervisor_dies, .timeout = 60)
{
    const char *path = pingpong();
    struct stand_in *sh = wh_shared(sizeof(*sh));
    char err[ERR_MAX], want[128];
    int errfds[2], status;
    pid_t sup;

    /* The worker, orphaned, is handed to us: we can reap it. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    wh_channel(errfds, false);
    sup = harness_fork();
    if (sup == 0)
        stand_in(path, errfds[1], sh);
    close(errfds[1]);
    INTEG_AWAIT(atomic_load(&sh->worker_pid) != 0 ||
                atomic_load(&sh->failed) != 0);
    cr_assert_eq(atomic_load(&sh->failed), 0, "the stand-in failed at "
                 "step %d", (int)atomic_load(&sh->failed));
    g_orphan = atomic_load(&sh->worker_pid);
    harness_kill(sup);
    status = reap_orphan(g_orphan);
    cr_assert_eq(status, AIRSRT_EXIT_OK, "worker ended with %d", status);
    /* Everyone who held its stderr is gone now. */
    read_to_end(errfds[0], err, sizeof(err));
    snprintf(want, sizeof(want), "airsrt worker solo[0]: supervisor (pid %d) "
             "is gone; shutting down\n", (int)sup);
    cr_assert_not_null(strstr(err, want), "stderr: %s", err);
}

/* An actor that waits for nothing: keeps its worker alive. */
static int idle_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)ctx, (void)state, (void)env;
    return 0;
}

static const struct airsrt_actor_type idle = {
    .name = "idle", .handle = idle_handle };
static const struct airsrt_actor_type *const idle_types[] = { &idle, NULL };

Test(worker_supervised, shuts_down_at_a_heartbeat_once_its_parent_changed,
     .timeout = 30)
{
    struct airsrt_worker_opts o = { .spin_ns = 0, .heartbeat_ns = 1000000,
                                    .supervisor_pid = (int32_t)getppid() };
    struct airsrt_spawn_opts so = { .name = "idle" };
    struct airsrt_worker *w;
    uint64_t checked, until;

    wh_runtime(1, NULL);
    w = wh_open(0, idle_types, &o);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &idle, &so, NULL), 0);
    /* While the parent is the supervisor, heartbeats pass and it runs. */
    checked = w->parent_checked_ns;
    until = airsrt_now_ns() + 20000000;
    while (airsrt_now_ns() < until || w->parent_checked_ns == checked)
        cr_assert_eq(airsrt__worker_poll(w, 2000000), -1);
    /* Now the parent is another process, as after the supervisor died
     * and the kernel handed us on. */
    w->opts.supervisor_pid = (int32_t)getpid();
    cr_assert_eq(wh_poll_until(w, NULL, NULL, 10000), AIRSRT_EXIT_OK);
    cr_assert_eq(atomic_load(&w->self->state), AIRSRT_WORKER_STOPPED);
    cr_assert_eq(atomic_load(&w->self->actors_alive), 0);
    cr_assert_not(is_held_by("idle", 0, 1));
    wh_close(w);
}

/* ---- AIRSRT_CTL_WORKER_DOWN ---- */

static void send_down(uint32_t to, uint32_t worker, uint32_t inc)
{
    struct airsrt_worker_down d = { .worker = worker, .incarnation = inc,
                                    .status = -1, .signal = SIGKILL };

    integ_ctl_send(to, NULL, AIRSRT_CTL_WORKER_DOWN, &d, sizeof(d));
}

/* Everything pushed on worker w's control ring has been taken. */
static bool is_ctl_drained(uint32_t w)
{
    struct airsrt_ring r;

    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, w, &r), 0);
    return atomic_load(&r.cons->head) == atomic_load(&r.prod->tail);
}

Test(worker_supervised, takes_worker_down_without_a_dead_letter,
     .timeout = 60)
{
    const uint64_t n = 300;
    struct airsrt_address to;
    struct integ_report *r;
    pid_t pid;

    wh_runtime(2, NULL);
    integ_actors_setup();
    r = integ_report(0);
    pid = wh_fork_worker(0, integ_types, "counter=0");
    to = integ_await_started(0, 1);
    for (uint64_t seq = 0; seq < n; seq++) {
        struct integ_probe probe = { .seq = seq };

        if (seq % 10 == 0)
            send_down(0, 1, 1 + (uint32_t)(seq / 10));
        integ_ctl_send(0, &to, integ_probe_type, &probe, sizeof(probe));
    }
    INTEG_AWAIT(atomic_load(&r->received) == n);
    INTEG_AWAIT(is_ctl_drained(0));
    cr_assert_eq(atomic_load(&r->out_of_order), 0);
    cr_assert_eq(atomic_load(&r->unexpected), 0);
    cr_assert_eq(integ_dead_letters_all(0), 0);
    integ_ctl_shutdown(0);
    cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_OK);
}

Test(worker_supervised, counts_a_malformed_worker_down_as_a_dead_letter,
     .timeout = 60)
{
    uint32_t shortp[2] = { 1, 1 };
    pid_t pid;

    wh_runtime(2, NULL);
    integ_actors_setup();
    pid = wh_fork_worker(0, integ_types, "counter=0");
    integ_await_started(0, 1);
    /* Too short, and a worker the runtime does not have. */
    integ_ctl_send(0, NULL, AIRSRT_CTL_WORKER_DOWN, shortp, sizeof(shortp));
    send_down(0, 7, 1);
    INTEG_AWAIT(integ_dead_letters(0, AIRSRT_DL_UNROUTABLE) == 2);
    cr_assert_eq(integ_dead_letters_all(0), 2);
    integ_ctl_shutdown(0);
    cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_OK);
}

struct downs_wait {
    struct airsrt_worker *w;
    uint64_t n;
};

static bool has_taken_downs(void *arg)
{
    const struct downs_wait *d = arg;

    return d->w->worker_downs >= d->n;
}

/* The generation worker w cached for name's registry id. */
static uint32_t cached_generation(struct airsrt_worker *w, const char *name)
{
    struct airsrt_address a;
    uint32_t id;

    cr_assert_eq(airsrt_registry_resolve(&w->reg, name, &id, &a), 0);
    cr_assert_not_null(w->names);
    return w->names[id - 1].generation;
}

Test(worker_supervised, worker_down_forgets_cached_holders_of_it,
     .timeout = 30)
{
    struct airsrt_worker *w[3];
    struct airsrt_spawn_opts x = { .name = "x" }, z = { .name = "z" };
    struct airsrt_ctx *ctx;
    struct downs_wait want;

    wh_runtime(3, NULL);
    for (uint32_t i = 0; i < 3; i++)
        w[i] = wh_open(i, idle_types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w[1]), &idle, &x, NULL), 0);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w[2]), &idle, &z, NULL), 0);
    ctx = airsrt__worker_ctx(w[0]);
    cr_assert_geq(airsrt_send_name(ctx, "x", 1, NULL, 0), 0);
    cr_assert_geq(airsrt_send_name(ctx, "z", 1, NULL, 0), 0);
    cr_assert_neq(cached_generation(w[0], "x"), 0);
    cr_assert_neq(cached_generation(w[0], "z"), 0);

    /* An older incarnation of worker 1 than the holder's: kept. */
    send_down(0, 1, 0);
    want = (struct downs_wait){ .w = w[0], .n = 1 };
    wh_poll_until(w[0], has_taken_downs, &want, 10000);
    cr_assert_neq(cached_generation(w[0], "x"), 0);
    /* The holder's incarnation: forgotten; worker 2's holder kept. */
    send_down(0, 1, 1);
    want.n = 2;
    wh_poll_until(w[0], has_taken_downs, &want, 10000);
    cr_assert_eq(cached_generation(w[0], "x"), 0);
    cr_assert_neq(cached_generation(w[0], "z"), 0);
    cr_assert_eq(integ_dead_letters_all(0), 0);
    /* The next send looks the name up afresh and still reaches it. */
    cr_assert_geq(airsrt_send_name(ctx, "x", 1, NULL, 0), 0);
    cr_assert_neq(cached_generation(w[0], "x"), 0);
    for (uint32_t i = 0; i < 3; i++)
        wh_close(w[i]);
}
