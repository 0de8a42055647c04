/*
 * fuzz/fuzz_bench_args.c - airsrt-bench's command line parsing on
 * arbitrary arguments.
 *
 * Feeds: the input split at NUL bytes into up to 16 arguments after
 * "airsrt-bench" (the first one, the workload, usually "ring").
 *
 * Asserts: parsing always returns; what it accepts names a known workload
 * and options inside their documented bounds (runs 1..1000, counts and
 * samples above 0 and in range, ring bytes a power of two a ring can
 * take), and every refusal is a usage error (exit status 100) or help (0).
 * The tool's source is compiled in with its main renamed, so the harness
 * drives exactly the code the tool runs.
 */
#define main airsrt_bench_main
#include "tools/airsrt-bench.c"
#undef main

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

static void check_accepted(const struct bench_opts *o)
{
    FUZZ_CHECK(o->runs >= 1 && o->runs <= MAX_RUNS);
    FUZZ_CHECK(o->count >= 1);
    FUZZ_CHECK(o->samples >= 1 && o->samples <= MAX_SAMPLES);
    FUZZ_CHECK((o->ring_bytes & (o->ring_bytes - 1)) == 0);
    FUZZ_CHECK(o->ring_bytes >= AIRSRT_RING_MIN_CAPACITY &&
               o->ring_bytes <= AIRSRT_RING_MAX_CAPACITY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *argv[MAX_ARGS + 2];
    struct bench_opts o = { .do_pin = true };
    const struct workload *w;
    int argc = 1, rc;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    argv[0] = "airsrt-bench";
    for (char *p = text; argc <= MAX_ARGS && p <= text + size;
         p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    optind = 0;             /* glibc: start getopt afresh */
    w = parse_command(argc, argv, &o, &rc);
    if (w != NULL) {
        FUZZ_CHECK(workload_find(argv[1]) == w);
        check_accepted(&o);
    } else {
        FUZZ_CHECK(rc == EXIT_USAGE || rc == 0);
    }
    free(text);
    return 0;
}
