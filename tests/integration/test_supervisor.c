/*
 * tests/integration/test_supervisor.c - the OS-level supervision tree,
 * through airsrt-run, with real worker processes (tests/bin/sv_worker),
 * real kill -9 and the JSON event log: start and stop order, each
 * strategy, each restart type, intensity escalating through two levels,
 * hang detection, the shutdown timeout, crash reports, spares,
 * auto_shutdown, a stale segment, the supervisor's own death, and
 * envelopes queued for a worker that restarts.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/harness.h"
#include "tests/lib/run_harness.h"
#include "tests/lib/worker_harness.h"

#define LINE 1024
#define WAIT 20000

static char line[LINE];

/* ms, or longer under valgrind, where a worker takes a second to start:
 * a crasher must not fire before its worker is ready. */
static unsigned slow(unsigned ms)
{
    return getenv("AIRSRT_UNDER_VALGRIND") ? ms + 3000 : ms;
}

/* Workers a[0], a[1], then b[0], under one supervisor of strategy. */
static void start_three(const char *strategy)
{
    char body[512];

    snprintf(body, sizeof(body),
             "[supervisor top]\nstrategy = %s\nmax_restarts = 10\n"
             "[worker a]\nbinary = {BIN}\ncount = 2\nactor = echo\n"
             "[worker b]\nbinary = {BIN}\nactor = echo\n", strategy);
    rh_start(NULL, body);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"",
                  "\"worker\":\"b[0]\"", NULL);
}

static void kill_worker(uint32_t w)
{
    pid_t pid = rh_worker_pid(w);

    cr_assert_gt(pid, 0);
    cr_assert_eq(kill(pid, SIGKILL), 0);
}

static void await_restart(const char *worker, int nth)
{
    char who[64];

    snprintf(who, sizeof(who), "\"worker\":\"%s\"", worker);
    rh_wait_event(line, LINE, WAIT, nth, "\"event\":\"worker_restarted\"",
                  who, NULL);
}

Test(supervisor, starts_in_config_order_depth_first_and_stops_in_reverse,
     .timeout = 60, .fini = rh_fini)
{
    char seq[256];
    pid_t pids[4];

    rh_start(NULL,
             "[supervisor root]\n"
             "[worker a]\nbinary = {BIN}\ncount = 2\nactor = echo\n"
             "[supervisor sub]\nparent = root\n"
             "[worker b]\nsupervisor = sub\nbinary = {BIN}\nactor = echo\n"
             "[worker c]\nbinary = {BIN}\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"",
                  "\"worker\":\"c[0]\"", NULL);
    rh_event_sequence("worker_started", "worker", seq, sizeof(seq));
    cr_assert_str_eq(seq, "a[0] a[1] b[0] c[0]");
    for (uint32_t w = 0; w < 4; w++)
        pids[w] = rh_worker_pid(w);
    cr_assert_eq(rh_stop(SIGTERM), 0);
    rh_event_sequence("worker_stopped", "worker", seq, sizeof(seq));
    cr_assert_str_eq(seq, "c[0] b[0] a[1] a[0]");
    for (uint32_t w = 0; w < 4; w++)
        cr_assert(rh_pid_gone(pids[w]), "worker %u still there", w);
}

Test(supervisor, one_for_one_restarts_only_the_dead_child, .timeout = 60,
     .fini = rh_fini)
{
    pid_t a0, b0;

    start_three("one_for_one");
    a0 = rh_worker_pid(0);
    b0 = rh_worker_pid(2);
    kill_worker(1);
    await_restart("a[1]", 1);
    cr_assert_eq(rh_worker_pid(0), a0);
    cr_assert_eq(rh_worker_pid(2), b0);
    cr_assert_eq(rh_count_events("\"event\":\"worker_stopped\"", NULL), 0);
    cr_assert_eq(rh_field_long(line, "incarnation"), 2);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, one_for_all_stops_the_others_in_reverse_and_restarts_all,
     .timeout = 60, .fini = rh_fini)
{
    char seq[256];

    start_three("one_for_all");
    kill_worker(1);
    await_restart("b[0]", 1);
    rh_event_sequence("worker_stopped", "worker", seq, sizeof(seq));
    cr_assert_str_eq(seq, "b[0] a[0]");
    rh_event_sequence("worker_restarted", "worker", seq, sizeof(seq));
    cr_assert_str_eq(seq, "a[0] a[1] b[0]");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, rest_for_one_restarts_the_dead_and_later_children,
     .timeout = 60, .fini = rh_fini)
{
    char seq[256];
    pid_t a0;

    start_three("rest_for_one");
    a0 = rh_worker_pid(0);
    kill_worker(1);
    await_restart("b[0]", 1);
    rh_event_sequence("worker_stopped", "worker", seq, sizeof(seq));
    cr_assert_str_eq(seq, "b[0]");
    rh_event_sequence("worker_restarted", "worker", seq, sizeof(seq));
    cr_assert_str_eq(seq, "a[1] b[0]");
    cr_assert_eq(rh_worker_pid(0), a0);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* One worker that ends itself after 100 ms in the way how says. */
static void start_ender(const char *restart, const char *how)
{
    char body[512];

    snprintf(body, sizeof(body),
             "[supervisor top]\nmax_restarts = 100\n"
             "[worker e]\nbinary = {BIN}\nrestart = %s\n"
             "actor = crasher=%u:%s\n"
             "[worker keep]\nbinary = {BIN}\nactor = echo\n", restart,
             slow(100), how);
    rh_start(NULL, body);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"e[0]\"", NULL);
}

/* Whether e[0] is restarted: waits for keep's own start as a marker of
 * time passing, then for a restart up to a second. */
static bool restarted_within(uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 10) {
        if (rh_count_events("\"event\":\"worker_restarted\"",
                            "\"worker\":\"e[0]\"", NULL) > 0)
            return true;
        usleep(10000);
    }
    return false;
}

Test(supervisor, permanent_is_restarted_after_a_normal_exit, .timeout = 60,
     .fini = rh_fini)
{
    start_ender("permanent", "x0");
    cr_assert_eq(rh_field_long(line, "status"), 0);
    await_restart("e[0]", 1);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, transient_is_not_restarted_after_a_normal_exit,
     .timeout = 60, .fini = rh_fini)
{
    start_ender("transient", "x0");
    cr_assert_not(restarted_within(1000));
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, transient_is_restarted_after_an_abnormal_exit,
     .timeout = 60, .fini = rh_fini)
{
    start_ender("transient", "x3");
    cr_assert_eq(rh_field_long(line, "status"), 3);
    await_restart("e[0]", 1);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, temporary_is_never_restarted, .timeout = 60,
     .fini = rh_fini)
{
    start_ender("temporary", "9");
    cr_assert(strstr(line, "\"signal\":\"SIGKILL\"") != NULL, "%s", line);
    cr_assert_not(restarted_within(1000));
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, intensity_escalates_through_two_levels_and_ends_the_runtime,
     .timeout = 150, .fini = rh_fini)
{
    char seq[256], body[512];

    snprintf(body, sizeof(body),
             "[supervisor root]\nmax_restarts = 1\nmax_seconds = 300\n"
             "[supervisor mid]\nparent = root\nmax_restarts = 2\n"
             "max_seconds = 300\n"
             "[worker steady]\nsupervisor = root\nbinary = {BIN}\n"
             "actor = echo\n"
             "[worker flaky]\nsupervisor = mid\nbinary = {BIN}\n"
             "actor = crasher=%u:9\n", slow(50));
    rh_start(NULL, body);
    cr_assert_eq(rh_wait_exit(120000), 112);
    rh_event_sequence("supervisor_gave_up", "supervisor", seq, sizeof(seq));
    /* mid gives up, root restarts it once, mid gives up again: root's
     * second restart is one too many. */
    cr_assert_str_eq(seq, "mid mid root");
    cr_assert_eq(rh_count_events("\"event\":\"worker_restarted\"",
                                 "\"worker\":\"flaky[0]\"", NULL), 4);
    cr_assert_eq(rh_count_events("\"event\":\"runtime_stopped\"",
                                 "gave up", NULL), 1);
}

Test(supervisor, kills_and_restarts_a_hung_worker, .timeout = 60,
     .fini = rh_fini)
{
    char hang[64];
    pid_t pid;

    snprintf(hang, sizeof(hang), "hang_timeout_ms = %u", slow(500));
    rh_start(hang, "[worker h]\nbinary = {BIN}\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    pid = rh_worker_pid(0);
    cr_assert_eq(kill(pid, SIGSTOP), 0);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_hung\"", NULL);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"reason\":\"hang\"", NULL);
    await_restart("h[0]", 1);
    cr_assert_neq(rh_worker_pid(0), pid);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, kills_a_worker_that_ignores_sigterm_after_shutdown_ms,
     .timeout = 60, .fini = rh_fini)
{
    rh_start(NULL, "[worker s]\nbinary = {BIN}\nshutdown_ms = 300\n"
                   "actor = stubborn\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_stopped\"", NULL);
    cr_assert(strstr(line, "\"signal\":\"SIGKILL\"") != NULL, "%s", line);
}

Test(supervisor, crash_report_names_the_actor_and_message, .timeout = 60,
     .fini = rh_fini)
{
    rh_start(NULL, "[supervisor top]\n"
                   "[worker target]\nbinary = {BIN}\nactor = bomb@bomb\n"
                   "[worker shooter]\nbinary = {BIN}\nrestart = transient\n"
                   "actor = sender=bomb:1\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"target[0]\"", NULL);
    cr_assert(strstr(line, "\"signal\":\"SIGSEGV\"") != NULL, "%s", line);
    cr_assert(strstr(line, "\"actor\":\"bomb\"") != NULL, "%s", line);
    cr_assert(strstr(line, "\"actor_type\":\"bomb\"") != NULL, "%s", line);
    cr_assert_eq(rh_field_long(line, "message_type"), 1, "%s", line);
    cr_assert(strstr(line, "\"reason\":\"crashed\"") != NULL, "%s", line);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, restarts_from_a_spare, .timeout = 60, .fini = rh_fini)
{
    long spare;

    rh_start(NULL, "[worker s]\nbinary = {BIN}\nspare = true\n"
                   "actor = echo@echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"spare_forked\"", NULL);
    spare = rh_field_long(line, "pid");
    kill_worker(0);
    await_restart("s[0]", 1);
    cr_assert_eq(rh_field_long(line, "pid"), spare);
    /* And another spare is ready for the next one. */
    rh_wait_event(line, LINE, WAIT, 2, "\"event\":\"spare_forked\"", NULL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, auto_shutdown_ends_the_runtime_when_a_significant_child_ends,
     .timeout = 60, .fini = rh_fini)
{
    char body[512];

    snprintf(body, sizeof(body),
             "[supervisor root]\nauto_shutdown = any_significant\n"
             "[worker keep]\nbinary = {BIN}\nactor = echo\n"
             "[worker job]\nbinary = {BIN}\nrestart = transient\n"
             "significant = true\nactor = crasher=%u:x0\n", slow(200));
    rh_start(NULL, body);
    cr_assert_eq(rh_wait_exit(WAIT), 0);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_stopped\"",
                  "\"worker\":\"keep[0]\"", NULL);
}

Test(supervisor, fails_with_113_when_a_child_cannot_start, .timeout = 60,
     .fini = rh_fini)
{
    rh_start(NULL, "[worker ok]\nbinary = {BIN}\nactor = echo\n"
                   "[worker bad]\nbinary = {BIN}\nactor = failstart\n");
    cr_assert_eq(rh_wait_exit(WAIT), 113);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_start_failed\"",
                  "\"worker\":\"bad[0]\"", NULL);
    cr_assert_eq(rh_field_long(line, "status"), 113);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_stopped\"",
                  "\"worker\":\"ok[0]\"", NULL);
}

Test(supervisor, reclaims_the_segment_of_a_dead_runtime, .timeout = 60,
     .fini = rh_fini)
{
    struct airsrt_shm stale = { 0 };
    struct airsrt_shm_params p = { .nworkers = 1 };
    pid_t pid;

    rh_write(NULL, "[worker a]\nbinary = {BIN}\nactor = echo\n");
    pid = harness_fork();
    if (pid == 0) {
        /* Dies owning the segment, without removing it. */
        harness_exit(airsrt_shm_create(&stale, rh.name, &p) == 0 ? 0 : 1);
    }
    cr_assert_eq(harness_wait(pid), 0);
    rh.pid = harness_fork();
    if (rh.pid == 0) {
        execl(wh_build_path("bin/airsrt-run"), "airsrt-run", rh.config,
              (char *)NULL);
        harness_exit(127);
    }
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, refuses_a_runtime_that_is_running, .timeout = 60,
     .fini = rh_fini)
{
    const char *args[] = { rh.config, NULL };
    char out[1024];

    rh_start(NULL, "[worker a]\nbinary = {BIN}\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    cr_assert_eq(rh_run_tool(args, out, sizeof(out)), 111);
    cr_assert(strstr(out, rh.name) != NULL, "%s", out);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, workers_exit_when_the_supervisor_is_killed_and_a_rerun_reclaims,
     .timeout = 90, .fini = rh_fini)
{
    pid_t a, b;

    rh_start(NULL, "[worker a]\nbinary = {BIN}\ncount = 2\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"",
                  "\"worker\":\"a[1]\"", NULL);
    a = rh_worker_pid(0);
    b = rh_worker_pid(1);
    cr_assert_eq(rh_stop(SIGKILL), 128 + SIGKILL);
    for (int t = 0; t < 1000 && !(rh_pid_gone(a) && rh_pid_gone(b)); t++)
        usleep(10000);
    cr_assert(rh_pid_gone(a) && rh_pid_gone(b), "workers outlived it");
    /* Its segment is left, owned by a dead pid: the next run takes it. */
    rh.pid = harness_fork();
    if (rh.pid == 0) {
        execl(wh_build_path("bin/airsrt-run"), "airsrt-run", "--quiet",
              rh.config, (char *)NULL);
        harness_exit(127);
    }
    rh_wait_event(line, LINE, WAIT, 3, "\"event\":\"worker_started\"",
                  NULL);
    cr_assert_eq(rh_stop(SIGINT), 0);
}

Test(supervisor, announces_a_death_on_the_other_workers_control_rings,
     .timeout = 60, .fini = rh_fini)
{
    struct airsrt_shm shm = { 0 };
    struct airsrt_ring r;
    uint64_t head = 0;

    start_three("one_for_one");
    kill_worker(0);
    await_restart("a[0]", 1);
    cr_assert_eq(airsrt_shm_attach(&shm, rh.name), 0, "%s", shm.err);
    /* a[1] and b[0] were told (pushed), and read it (their head moved);
     * a[0]'s own ring got nothing. */
    for (uint32_t w = 0; w < 3; w++) {
        cr_assert_eq(airsrt_shm_ctl_ring(&shm, w, &r), 0);
        for (int t = 0; t < 500 && w > 0; t++) {
            head = atomic_load(&r.cons->head);
            if (head > 0)
                break;
            usleep(10000);
        }
        if (w == 0)
            cr_assert_eq(atomic_load(&r.prod->tail), 0);
        else
            cr_assert_gt(head, 0, "worker %u did not read the notice", w);
    }
    airsrt_shm_detach(&shm);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, envelopes_queued_for_a_worker_survive_its_restart,
     .timeout = 90, .fini = rh_fini)
{
    enum { N = 1000 };
    static bool seen[N + 1];
    char path[512];
    pid_t sink;
    FILE *f;

    rh_start("hang_timeout_ms = 60000",
             "[supervisor top]\n"
             "[worker sink]\nbinary = {BIN}\nactor = sink@sink={DIR}/got\n"
             "[worker source]\nbinary = {BIN}\nrestart = transient\n"
             "actor = sender=sink:1000:300\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"",
                  "\"worker\":\"sink[0]\"", NULL);
    /* Stopped, the sink reads nothing: all 1000 wait in its ring. */
    sink = rh_worker_pid(0);
    cr_assert_eq(kill(sink, SIGSTOP), 0);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"source[0]\"", NULL);
    cr_assert_eq(rh_field_long(line, "status"), 0);
    cr_assert_eq(kill(sink, SIGKILL), 0);
    await_restart("sink[0]", 1);
    snprintf(path, sizeof(path), "%s/got", rh.dir);
    for (int t = 0; t < 2000; t++) {
        uint32_t count = 0;

        f = fopen(path, "r");
        if (f != NULL) {
            memset(seen, 0, sizeof(seen));
            for (unsigned long v; fscanf(f, "%lu", &v) == 1;)
                if (v >= 1 && v <= N && !seen[v]) {
                    seen[v] = true;
                    count++;
                }
            fclose(f);
        }
        if (count == N)
            break;
        usleep(10000);
    }
    for (uint32_t v = 1; v <= N; v++)
        cr_assert(seen[v], "envelope %u lost", v);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, workers_show_their_role_in_ps, .timeout = 60,
     .fini = rh_fini)
{
    char path[64], cmd[256] = { 0 }, want[128];
    FILE *f;

    if (getenv("AIRSRT_UNDER_VALGRIND") != NULL)
        cr_skip_test("under valgrind the kernel shows valgrind's command");

    rh_start(NULL, "[worker acct]\nbinary = {BIN}\ncount = 2\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"",
                  "\"worker\":\"acct[1]\"", NULL);
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)rh_worker_pid(1));
    f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_gt(fread(cmd, 1, sizeof(cmd) - 1, f), 0);
    fclose(f);
    snprintf(want, sizeof(want), "airsrt: %s/acct[1]", rh.name);
    cr_assert(strstr(cmd, want) != NULL, "cmdline: %s", cmd);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, event_lines_carry_the_documented_fields, .timeout = 60,
     .fini = rh_fini)
{
    static const char *const fields[] = {
        "\"time\":\"", "\"event\":\"worker_exited\"", "\"runtime\":\"",
        "\"supervisor\":\"root\"", "\"worker\":\"a[0]\"", "\"index\":0",
        "\"pid\":", "\"incarnation\":1", "\"signal\":\"SIGKILL\"",
        "\"restarts\":0", "\"reason\":\"crashed\"",
    };

    rh_start(NULL, "[worker a]\nbinary = {BIN}\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    kill_worker(0);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"", NULL);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        cr_assert(strstr(line, fields[i]) != NULL, "no %s in %s", fields[i],
                  line);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, backoff_delays_a_restart, .timeout = 60, .fini = rh_fini)
{
    uint64_t t0;

    rh_start(NULL, "[supervisor top]\nbackoff_initial_ms = 400\n"
                   "[worker a]\nbinary = {BIN}\nactor = echo\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    t0 = airsrt_now_ns();
    kill_worker(0);
    await_restart("a[0]", 1);
    /* A lower bound only: a slow machine makes it later, never earlier. */
    cr_assert_geq(airsrt_now_ns() - t0, 400000000u);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, check_validates_without_starting, .timeout = 30,
     .fini = rh_fini)
{
    const char *args[] = { "--check", rh.config, NULL };
    char out[1024];
    struct stat st;

    rh_write(NULL, "[worker a]\nbinary = {BIN}\ncount = 3\nactor = echo\n");
    cr_assert_eq(rh_run_tool(args, out, sizeof(out)), 0, "%s", out);
    cr_assert(strstr(out, ": ok: runtime ") != NULL, "%s", out);
    cr_assert(strstr(out, "3 workers") != NULL, "%s", out);
    cr_assert_neq(stat(rh.events, &st), 0, "--check wrote events");
}

Test(supervisor, check_reports_a_config_error_with_exit_100, .timeout = 30,
     .fini = rh_fini)
{
    const char *args[] = { "--check", rh.config, NULL };
    char out[1024];

    rh_write(NULL, "[worker a]\nbinary = {BIN}\nrestart = sometimes\n");
    cr_assert_eq(rh_run_tool(args, out, sizeof(out)), 100, "%s", out);
    cr_assert(strstr(out, "system.ini:") != NULL, "%s", out);
    cr_assert(strstr(out, "restart") != NULL, "%s", out);
}

Test(supervisor, usage_errors_exit_100, .timeout = 30, .fini = rh_fini)
{
    const char *none[] = { NULL }, *two[] = { "a.ini", "b.ini", NULL },
               *bad[] = { "--bogus", "a.ini", NULL };
    char out[1024];

    cr_assert_eq(rh_run_tool(none, out, sizeof(out)), 100);
    cr_assert(strstr(out, "no config file given") != NULL, "%s", out);
    cr_assert_eq(rh_run_tool(two, out, sizeof(out)), 100);
    cr_assert_eq(rh_run_tool(bad, out, sizeof(out)), 100);
    cr_assert(strstr(out, "usage:") != NULL, "%s", out);
}

/* The line of /proc/PID/FILE that starts with prefix, or "". */
static void proc_line(pid_t pid, const char *file, const char *prefix,
                      char *out, size_t len)
{
    char path[64], buf[256];
    FILE *f;

    out[0] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    while (fgets(buf, sizeof(buf), f) != NULL)
        if (strncmp(buf, prefix, strlen(prefix)) == 0) {
            snprintf(out, len, "%s", buf);
            break;
        }
    fclose(f);
}

/* AddressSanitizer reserves terabytes of address space for its shadow:
 * an address-space limit would stop it before main. */
#if defined(__SANITIZE_ADDRESS__)
#define LIMIT_AS ""
#else
#define LIMIT_AS "limit_as = 1024G\n"
#endif

Test(supervisor, applies_the_groups_limits_and_environment, .timeout = 60,
     .fini = rh_fini)
{
    char got[256], path[512];
    pid_t pid;
    FILE *f;

    if (getenv("AIRSRT_UNDER_VALGRIND") != NULL)
        cr_skip_test("valgrind keeps its client's file and memory limits");
    rh_start(NULL, "[worker a]\nbinary = {BIN}\n"
                   "actor = getenv=SHOP_MODE:{DIR}/env\n"
                   "limit_nofile = 64\nlimit_cpu = 3600\n" LIMIT_AS
                   "env = SHOP_MODE=test\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_started\"", NULL);
    pid = rh_worker_pid(0);
    proc_line(pid, "limits", "Max open files", got, sizeof(got));
    cr_assert(strstr(got, " 64 ") != NULL, "%s", got);
    proc_line(pid, "limits", "Max cpu time", got, sizeof(got));
    cr_assert(strstr(got, " 3600 ") != NULL, "%s", got);
    if (LIMIT_AS[0] != '\0') {
        proc_line(pid, "limits", "Max address space", got, sizeof(got));
        cr_assert(strstr(got, " 1099511627776 ") != NULL, "%s", got);
    }
    /* Its pre_start ran before it was ready: the file is there. */
    snprintf(path, sizeof(path), "%s/env", rh.dir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(got, sizeof(got), f));
    fclose(f);
    cr_assert_str_eq(got, "SHOP_MODE=test\n");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(supervisor, runs_a_group_as_its_user, .timeout = 60, .fini = rh_fini)
{
    char got[256];

    if (getuid() != 0)
        cr_skip_test("changing user needs root");
    if (access(wh_build_path("tests/bin/sv_worker"), X_OK) != 0)
        cr_skip_test("the build tree is not reachable");
    rh_start(NULL, "[worker a]\nbinary = {BIN}\nactor = echo\n"
                   "user = 65534\ngroup = 65534\n");
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_", NULL);
    if (strstr(line, "worker_start_failed") != NULL)
        cr_skip_test("user 65534 cannot run the build tree's binary here");
    proc_line(rh_worker_pid(0), "status", "Uid:", got, sizeof(got));
    cr_assert(strstr(got, "\t65534\t") != NULL, "%s", got);
    proc_line(rh_worker_pid(0), "status", "Gid:", got, sizeof(got));
    cr_assert(strstr(got, "\t65534\t") != NULL, "%s", got);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}
