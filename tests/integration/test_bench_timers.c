/*
 * tests/integration/test_bench_timers.c - `airsrt-bench timers` and
 * `airsrt-bench request` run to their end with small counts, report each
 * figure, and leave no segment behind.
 *
 * No figure is judged here, only that each is there: the machine is
 * shared and noisy.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/lib/program.h"
#include "tests/lib/worker_harness.h"

static pid_t bench_pid;

/* The children first, then the segment a killed tool could leave. */
static void bench_fini(void)
{
    char name[64];

    harness_fini();
    if (bench_pid > 0) {
        snprintf(name, sizeof(name), "/airsrt.bench-%d", (int)bench_pid);
        shm_unlink(name);
    }
}

TestSuite(bench_timers, .fini = bench_fini);

/* Runs airsrt-bench with args (NULL-terminated); its exit status, its
 * stdout in out. */
static int run_bench(const char *const *args, char *out, size_t len)
{
    struct program p = { .out = out, .out_len = len };

    bench_pid = program_start(&p, wh_build_path("bin/airsrt-bench"), args);
    return program_wait(&p);
}

static bool segment_exists(pid_t pid)
{
    char path[96];

    snprintf(path, sizeof(path), "/dev/shm/airsrt.bench-%d", (int)pid);
    return access(path, F_OK) == 0;
}

static void expect_row(const char *json, const char *key)
{
    char want[128];

    snprintf(want, sizeof(want), "\"name\": \"%s\"", key);
    cr_assert(strstr(json, want) != NULL, "no result %s in:\n%s", key, json);
}

Test(bench_timers, timers_reports_each_figure_and_leaves_nothing,
     .timeout = 300)
{
    static char out[1 << 14];
    const char *args[] = { "timers", "--json", "--runs", "1", "--actors",
                           "5000", "--count", "3000", "--no-pin", NULL };

    cr_assert_eq(run_bench(args, out, sizeof(out)), 0, "%s", out);
    expect_row(out, "schedule_fire");
    expect_row(out, "set");
    expect_row(out, "cancel");
    cr_assert(!segment_exists(bench_pid));
}

Test(bench_timers, request_reports_round_trips_and_leaves_nothing,
     .timeout = 300)
{
    static char out[1 << 14];
    const char *args[] = { "request", "--json", "--runs", "1", "--samples",
                           "500", "--no-pin", NULL };

    cr_assert_eq(run_bench(args, out, sizeof(out)), 0, "%s", out);
    expect_row(out, "latency.p50");
    expect_row(out, "latency.p99");
    cr_assert(!segment_exists(bench_pid));
}
