/*
 * tests/integration/test_bank.c - the bank of examples/bank.c keeps its
 * books: run by hand with --standalone, and as the five workers of one
 * runtime, the auditor finds every unit of money, catches a shard that
 * loses one, and the books survive a teller worker killed by SIGKILL.
 *
 * Until airsrt-run starts the demo (examples/demo.ini), the tests here
 * do the supervisor's part: they start the workers in order, each once
 * the names of the one before are registered, and restart the killed
 * one as the supervisor would (registry cleanup, next incarnation).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/program.h"
#include "tests/lib/worker_harness.h"

TestSuite(bank, .fini = harness_fini);

#define OUT_MAX 16384
#define NAME_WAIT_MS 30000u

/* What the auditor's summary says. */
struct summary {
    uint64_t transfers, refused, handled, restarts, shard_restarts;
    uint64_t teller_restarts, expected, found;
    bool is_pass;
};

/* A memory file for a child's stdout: read back after it ends, so that
 * nobody has to drain a pipe meanwhile. */
static int out_file(void)
{
    int fd = memfd_create("bank-out", 0);

    cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
    return fd;
}

static void out_read(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);

    cr_assert_geq(n, 0, "pread: %s", strerror(errno));
    buf[n] = '\0';
}

/* The value after "bank:   LABEL" in out, or fails the test. */
static uint64_t summary_number(const char *out, const char *label)
{
    char key[64];
    const char *at;
    uint64_t v;

    snprintf(key, sizeof(key), "bank:   %s", label);
    at = strstr(out, key);
    cr_assert_not_null(at, "no \"%s\" in:\n%s", label, out);
    cr_assert_eq(sscanf(at + strlen(key), " %" SCNu64, &v), 1,
                 "no number after \"%s\" in:\n%s", label, out);
    return v;
}

static struct summary summary_parse(const char *out)
{
    struct summary s = { 0 };
    const char *r = strstr(out, "bank:   worker restarts");

    s.transfers = summary_number(out, "transfers done");
    s.handled = summary_number(out, "envelopes handled");
    s.expected = summary_number(out, "money expected");
    s.found = summary_number(out, "money found");
    cr_assert_not_null(r, "%s", out);
    cr_assert_eq(sscanf(r, "bank:   worker restarts %" SCNu64 " (shards %"
                        SCNu64 ", tellers %" SCNu64 ")", &s.restarts,
                        &s.shard_restarts, &s.teller_restarts), 3, "%s", out);
    s.is_pass = strstr(out, "bank:   invariant          PASS") != NULL;
    cr_assert(s.is_pass ||
              strstr(out, "bank:   invariant          FAIL") != NULL,
              "no verdict in:\n%s", out);
    return s;
}

/* Runs the bank binary with argv[1..] (NULL-ended), its stdout in out;
 * returns its exit status. */
static int run_standalone(const char *const *args, char *out, size_t len)
{
    struct program p = { .out = out, .out_len = len };

    return program_run(&p, wh_build_path("examples/bank"), args);
}

/* The tellers' rate, lower under valgrind, where everything is slower. */
static uint64_t rate(void)
{
    return harness_count(5000);
}

static void standalone_bank(const char *shard1_extra, char *out, size_t len,
                            int *status)
{
    char s0[96], s1[96], t0[96], t1[96];
    const char *args[] = { "--standalone", s0, s1, t0, t1,
        "auditor=shards=2:tellers=2:every=200:close=1500:patience=20000",
        NULL };

    snprintf(s0, sizeof(s0), "accounts@bank.shard.0=shard=0:shards=2");
    snprintf(s1, sizeof(s1), "accounts@bank.shard.1=shard=1:shards=2%s",
             shard1_extra);
    snprintf(t0, sizeof(t0), "teller@bank.teller.0=id=0:shards=2:rate=%"
             PRIu64, rate());
    snprintf(t1, sizeof(t1), "teller@bank.teller.1=id=1:shards=2:rate=%"
             PRIu64, rate());
    *status = run_standalone(args, out, len);
}

Test(bank, standalone_run_balances_the_books, .timeout = 120)
{
    char out[OUT_MAX];
    struct summary s;
    int status;

    standalone_bank("", out, sizeof(out), &status);
    cr_assert_eq(status, 0, "exit %d:\n%s", status, out);
    s = summary_parse(out);
    cr_assert(s.is_pass, "%s", out);
    cr_assert_eq(s.expected, 2 * 100 * 1000, "%s", out);
    cr_assert_eq(s.found, s.expected, "%s", out);
    cr_assert_gt(s.transfers, 0, "%s", out);
    /* Each transfer is at least its request and its credit. */
    cr_assert_geq(s.handled, 2 * s.transfers, "%s", out);
    cr_assert_eq(s.restarts, 0, "%s", out);
}

Test(bank, standalone_run_catches_a_lost_credit, .timeout = 120)
{
    char out[OUT_MAX];
    struct summary s;
    uint64_t lost;
    int status;

    standalone_bank(":lose=1", out, sizeof(out), &status);
    cr_assert_eq(status, AIRSRT_EXIT_ESCALATED, "exit %d:\n%s", status, out);
    s = summary_parse(out);
    cr_assert_not(s.is_pass, "%s", out);
    cr_assert_lt(s.found, s.expected, "%s", out);
    cr_assert_eq(sscanf(strstr(out, "invariant          FAIL"),
                        "invariant          FAIL: %" SCNu64 " lost", &lost),
                 1, "%s", out);
    cr_assert_eq(lost, s.expected - s.found, "%s", out);
}

Test(bank, standalone_run_refuses_a_bad_option, .timeout = 30)
{
    const char *args[] = { "--standalone", "accounts=shard=2:shards=2",
                           NULL };
    char out[OUT_MAX];

    cr_assert_eq(run_standalone(args, out, sizeof(out)),
                 AIRSRT_EXIT_START_FAILED);
}

/* ---- the bank as a runtime of five workers ---- */

enum { W_SHARD0, W_SHARD1, W_TELLER0, W_TELLER1, W_AUDITOR, NWORKERS };

/* Waits until name is bound to an actor of worker w's incarnation inc,
 * as the supervisor waits for a worker to be ready. */
static void await_name(const char *name, uint32_t w, uint32_t inc)
{
    uint64_t deadline = airsrt_now_ns() + NAME_WAIT_MS * 1000000ull;
    struct airsrt_registry reg;
    struct airsrt_address a;
    struct timespec nap = { 0, 5000000 };

    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    for (;;) {
        if (airsrt_registry_resolve(&reg, name, NULL, &a) == 0 &&
            a.worker == w && a.incarnation == inc)
            return;
        cr_assert_lt(airsrt_now_ns(), deadline, "%s not registered by "
                     "worker %u.%u", name, w, inc);
        nanosleep(&nap, NULL);
    }
}

/* Execs the bank as worker w with stdout into out_fd (-1: inherited). */
static pid_t bank_worker(uint32_t w, const char *start, int out_fd)
{
    int saved = -1;
    pid_t pid;

    if (out_fd >= 0) {
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        cr_assert_geq(saved, 0);
        dup2(out_fd, STDOUT_FILENO);
    }
    pid = wh_exec_worker(w, wh_build_path("examples/bank"), start, NULL);
    if (saved >= 0) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    return pid;
}

static pid_t start_teller(uint32_t w, uint32_t id, uint32_t inc,
                          uint64_t chaos_ms, int out_fd)
{
    char start[160], name[32];
    pid_t pid;

    snprintf(start, sizeof(start), "teller@bank.teller.%u=id=%u:shards=2:"
             "rate=%" PRIu64 ":chaos=%" PRIu64, id, id, rate(), chaos_ms);
    pid = bank_worker(w, start, out_fd);
    snprintf(name, sizeof(name), "bank.teller.%u", id);
    await_name(name, w, inc);
    return pid;
}

/* Starts the shards and tellers in order, each once the one before is
 * ready; teller 0 kills itself chaos_ms after it starts (0: never). */
static void start_bank(pid_t pids[NWORKERS], uint64_t chaos_ms, int out_fd)
{
    wh_runtime(NWORKERS, NULL);
    pids[W_SHARD0] = bank_worker(W_SHARD0, "accounts@bank.shard.0="
                                 "shard=0:shards=2", -1);
    await_name("bank.shard.0", W_SHARD0, 1);
    pids[W_SHARD1] = bank_worker(W_SHARD1, "accounts@bank.shard.1="
                                 "shard=1:shards=2", -1);
    await_name("bank.shard.1", W_SHARD1, 1);
    pids[W_TELLER0] = start_teller(W_TELLER0, 0, 1, chaos_ms, out_fd);
    pids[W_TELLER1] = start_teller(W_TELLER1, 1, 1, 0, -1);
}

static pid_t start_auditor(int out_fd)
{
    return bank_worker(W_AUDITOR, "auditor=shards=2:tellers=2:every=250:"
                       "close=2000:patience=20000", out_fd);
}

/* Ends the workers that outlive the auditor (under airsrt-run, its
 * auto_shutdown does), as the supervisor does: SIGTERM, by pid. */
static void stop_bank(const pid_t pids[NWORKERS])
{
    for (int w = W_TELLER1; w >= W_SHARD0; w--) {
        cr_assert_eq(kill(pids[w], SIGTERM), 0);
        cr_assert_eq(wh_exit_status(pids[w]), 0, "worker %d", w);
    }
}

Test(bank, books_balance_across_five_workers, .timeout = 180)
{
    pid_t pids[NWORKERS];
    char out[OUT_MAX];
    struct summary s;
    int fd = out_file(), status;

    start_bank(pids, 0, -1);
    pids[W_AUDITOR] = start_auditor(fd);
    status = wh_exit_status(pids[W_AUDITOR]);
    out_read(fd, out, sizeof(out));
    cr_assert_eq(status, 0, "auditor exit %d:\n%s", status, out);
    s = summary_parse(out);
    cr_assert(s.is_pass, "%s", out);
    cr_assert_eq(s.found, s.expected, "%s", out);
    cr_assert_gt(s.transfers, 0, "%s", out);
    /* The money really crossed processes: both shard workers took in
     * envelopes from their rings (transfers, credits, audits). */
    for (uint32_t w = W_SHARD0; w <= W_SHARD1; w++)
        cr_assert_gt(atomic_load(&airsrt_shm_worker_self(&harness_shm, w)
                                     ->envelopes_in), 0, "worker %u", w);
    stop_bank(pids);
    close(fd);
}

/* What the supervisor does for a worker that died: unbind the names its
 * dead incarnation held, and start the next incarnation. */
static pid_t restart_teller0(void)
{
    struct airsrt_registry reg;

    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    cr_assert_geq(airsrt_registry_unbind_incarnation(&reg, W_TELLER0, 1), 0);
    wh_incarnate(W_TELLER0, 2);
    return start_teller(W_TELLER0, 0, 2, 300, -1);
}

Test(bank, books_balance_after_a_teller_worker_is_killed, .timeout = 180)
{
    pid_t pids[NWORKERS];
    char out[OUT_MAX], chaos[OUT_MAX], line[64];
    struct summary s;
    int fd = out_file(), chaos_fd = out_file(), status;

    start_bank(pids, 300, chaos_fd);
    pids[W_AUDITOR] = start_auditor(fd);
    /* chaos=300: teller 0 kills its own worker, once. */
    cr_assert_eq(wh_exit_status(pids[W_TELLER0]), 128 + SIGKILL);
    out_read(chaos_fd, chaos, sizeof(chaos));
    snprintf(line, sizeof(line), "chaos: killing teller worker pid %d\n",
             (int)pids[W_TELLER0]);
    cr_assert_str_eq(chaos, line);
    /* Its next incarnation has the same chaos option, and must not. */
    pids[W_TELLER0] = restart_teller0();
    status = wh_exit_status(pids[W_AUDITOR]);
    out_read(fd, out, sizeof(out));
    cr_assert_eq(status, 0, "auditor exit %d:\n%s", status, out);
    s = summary_parse(out);
    cr_assert(s.is_pass, "%s", out);
    cr_assert_eq(s.found, s.expected, "%s", out);
    cr_assert_eq(s.teller_restarts, 1, "%s", out);
    cr_assert_eq(s.shard_restarts, 0, "%s", out);
    stop_bank(pids);
    close(fd);
    close(chaos_fd);
}

/* The demo exactly as `make run` starts it: airsrt-run on the config
 * beside the bank binary, about ten seconds, teller 0's worker killed
 * in the middle. Its timings are a person's, too slow for valgrind,
 * where the five-worker tests above cover the same paths. */
Test(bank, demo_ini_passes_through_airsrt_run, .timeout = 180)
{
    char ini[4096], out[OUT_MAX];
    const char *args[] = { ini, NULL };
    struct program p = { .out = out, .out_len = sizeof(out),
                         .is_err_in_out = true };
    struct summary s;
    int status;

    if (getenv("AIRSRT_UNDER_VALGRIND") != NULL)
        cr_skip_test("the demo's timings are a person's");
    /* wh_build_path's storage is static: copy the first. */
    snprintf(ini, sizeof(ini), "%s", wh_build_path("examples/demo.ini"));
    status = program_run(&p, wh_build_path("bin/airsrt-run"), args);
    cr_assert_eq(status, 0, "%s", out);
    s = summary_parse(out);
    cr_assert(s.is_pass, "%s", out);
    cr_assert_eq(s.teller_restarts, 1, "%s", out);
    cr_assert_eq(s.expected, s.found);
    cr_assert(strstr(out, "\"event\":\"worker_restarted\"") != NULL &&
              strstr(out, "\"worker\":\"tellers[0]\"") != NULL, "%s", out);
    cr_assert(strstr(out, "total: ") != NULL, "no summary:\n%s", out);
}
