/*
 * fuzz/fuzz_bench_args.c - airsrt-bench's command line parsing on
 * arbitrary arguments.
 *
 * Feeds: the input split at NUL bytes into up to 16 arguments after
 * "airsrt-bench" (the first one, the workload: "ring", "spawn", "local",
 * "cross", "ring-of-actors", "restart", "fanout" or "actor-restart").
 *
 * Asserts: parsing always returns; what it accepts names a known workload
 * and options inside their documented bounds (runs 1..1000, counts and
 * samples above 0 and in range, ring bytes a power of two a ring can
 * take, batch 1..4096, workers 1..64, 1 to 8 actor counts each 1..2^24-1
 * and, for ring-of-actors and fanout, at least one per worker); every option the
 * workload does not take was refused, so its field is still 0; and every
 * refusal is a usage error (exit status 100) or help (0). The tool's
 * parser (tools/bench/args.c, which calls nothing outside libc) is
 * compiled in whole, so the harness drives exactly the code the tool
 * runs.
 */
#include "tools/bench/args.c"

#include "fuzz/fuzz_input.h"

#define MAX_ARGS 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* --help prints to stdout; libFuzzer reports on stderr. */
    if (freopen("/dev/null", "w", stdout) == NULL)
        abort();
    return 0;
}

static void check_taken(const struct bench_opts *o)
{
    FUZZ_CHECK(o->runs >= 1 && o->runs <= BENCH_MAX_RUNS);
    FUZZ_CHECK(o->count == 0 || o->count <= UINT64_MAX / 2);
    FUZZ_CHECK(o->samples <= BENCH_MAX_SAMPLES);
    FUZZ_CHECK((o->ring_bytes & (o->ring_bytes - 1)) == 0);
    FUZZ_CHECK(o->ring_bytes == 0 ||
               (o->ring_bytes >= AIRSRT_RING_MIN_CAPACITY &&
                o->ring_bytes <= AIRSRT_RING_MAX_CAPACITY));
    FUZZ_CHECK(o->batch <= BENCH_MAX_BATCH);
    FUZZ_CHECK(o->workers <= BENCH_MAX_WORKERS);
    FUZZ_CHECK(o->nsizes <= BENCH_MAX_ACTOR_SIZES);
    for (uint32_t i = 0; i < o->nsizes; i++)
        FUZZ_CHECK(o->actors[i] >= 1 &&
                   o->actors[i] <= AIRSRT_MAX_ACTOR_SLOT);
}

/* Each option the workload takes has a value in range; each it does
 * not take was refused, so its field was never written. */
static void check_accepted(int id, const struct bench_opts *o)
{
    unsigned takes = bench_workloads[id].options;

    check_taken(o);
    FUZZ_CHECK(((takes & BENCH_OPT_COUNT) != 0) == (o->count != 0));
    FUZZ_CHECK(((takes & BENCH_OPT_SAMPLES) != 0) == (o->samples != 0));
    FUZZ_CHECK(((takes & BENCH_OPT_RING_BYTES) != 0) ==
               (o->ring_bytes != 0));
    FUZZ_CHECK(((takes & BENCH_OPT_BATCH) != 0) == (o->batch != 0));
    FUZZ_CHECK(((takes & BENCH_OPT_WORKERS) != 0) == (o->workers != 0));
    FUZZ_CHECK(((takes & BENCH_OPT_ACTORS) != 0) == (o->nsizes != 0));
    FUZZ_CHECK((takes & BENCH_OPT_PIN) != 0 || !o->do_pin);
    if (id == BENCH_RING_OF_ACTORS || id == BENCH_FANOUT)
        for (uint32_t i = 0; i < o->nsizes; i++)
            FUZZ_CHECK(o->actors[i] >= o->workers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **argv;
    struct bench_opts o = { .do_pin = true };
    int argc, id, rc;

    argv = fuzz_argv(data, size, "airsrt-bench", MAX_ARGS, &argc);
    if (argv == NULL)
        return 0;
    optind = 0;             /* glibc: start getopt afresh */
    id = bench_parse_command(argc, argv, &o, &rc);
    if (id >= 0) {
        FUZZ_CHECK(id < BENCH_WORKLOADS);
        FUZZ_CHECK(bench_workload_find(argv[1]) == id);
        check_accepted(id, &o);
    } else {
        FUZZ_CHECK(rc == EXIT_USAGE || rc == 0);
    }
    free(argv);
    return 0;
}
