/*
 * fuzz/fuzz_inject_args.c - airsrt-inject's command line parsing on
 * arbitrary arguments, with its WORKER, SIG and LIST parsers, and the
 * chaos schedule drawn from what it accepted.
 *
 * Feeds: the input split at NUL bytes into up to 24 arguments after
 * "airsrt-inject".
 *
 * Asserts: parsing always returns, with 0 (help, or a command) or 100
 * and a one-line reason; what it accepts has a runtime and only values
 * inside their documented bounds (a WORKER of the right shape, a signal
 * 1..64 with a printable name, bytes 1..1 MiB, ms, counts, types below
 * the reserved range, a duration and a rate above 0, fault names known,
 * at most 64 --workers each of the right shape); the chaos schedule for
 * the accepted rate never goes back in time and picks indexes in range.
 * The parser (tools/inject/args.c and tools/common/args.c, libc only)
 * and the schedule (tools/inject/chaos.c) are compiled in whole, so the
 * harness drives exactly the code the tool runs.
 */
#include "tools/common/args.c"
#include "tools/inject/args.c"
#include "tools/inject/chaos.c"

#include "fuzz/fuzz_input.h"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_schedule(const struct inject_opts *o)
{
    struct inject_prng p = { o->seed };
    struct inject_step st = { 0 };
    uint32_t nf = 1 + (uint32_t)(o->seed % FAULT_N);
    uint32_t nv = 1 + (uint32_t)(o->seed % 1024);
    uint64_t prev = 0;

    for (int i = 0; i < 16; i++) {
        inject_chaos_next(&p, o->rate, nf, nv, prev, &st);
        FUZZ_CHECK(st.at_ms >= prev);
        FUZZ_CHECK(st.at_ms - prev <= (uint64_t)(2000.0 / o->rate) + 1);
        FUZZ_CHECK(st.fault < nf && st.victim < nv);
        prev = st.at_ms;
    }
}

static void check_accepted(const struct inject_opts *o)
{
    char name[32];

    FUZZ_CHECK(o->runtime != NULL && o->runtime[0] != '\0');
    FUZZ_CHECK(o->signal >= 1 && o->signal <= 64);
    /* Every accepted signal has a name, whole (not cut to the buffer)
     * and printable, that parses back to it. */
    inject_signal_name(o->signal, name, sizeof(name));
    FUZZ_CHECK(name[0] != '\0' && strlen(name) + 1 < sizeof(name));
    for (const char *p = name; *p != '\0'; p++)
        FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e);
    FUZZ_CHECK(inject_signal_parse(name + (strncmp(name, "SIG", 3) == 0 ? 0
                                                                       : 7))
               == o->signal);
    FUZZ_CHECK(o->bytes >= 1 && o->bytes <= INJECT_BYTES_MAX);
    FUZZ_CHECK(o->ms <= INJECT_STALL_MS_MAX);
    FUZZ_CHECK(o->type < AIRSRT_TYPE_RESERVED);
    FUZZ_CHECK(o->from[0] == '\0' || inject_worker_syntax_ok(o->from));
    FUZZ_CHECK((o->faults & ~((1u << FAULT_N) - 1)) == 0);
    FUZZ_CHECK(o->nworkers <= INJECT_LIST_MAX);
    for (uint32_t i = 0; i < o->nworkers; i++)
        FUZZ_CHECK(inject_worker_syntax_ok(o->workers[i]));
    switch (o->cmd) {
    case INJECT_KILL: case INJECT_KILL_IN_LOCK: case INJECT_CORRUPT_RING:
    case INJECT_EXHAUST:
        FUZZ_CHECK(inject_worker_syntax_ok(o->worker));
        break;
    case INJECT_STALL:
        FUZZ_CHECK(inject_worker_syntax_ok(o->worker) && o->ms >= 1);
        break;
    case INJECT_FLOOD:
        FUZZ_CHECK(o->name[0] != '\0' && o->count >= 1 &&
                   o->count <= INJECT_FLOOD_MAX);
        break;
    case INJECT_CHAOS:
        FUZZ_CHECK(o->duration_ms >= 1 &&
                   o->duration_ms <= INJECT_DURATION_MAX);
        FUZZ_CHECK(o->rate > 0.0 && o->rate <= INJECT_RATE_MAX);
        FUZZ_CHECK(o->has_seed);
        check_schedule(o);
        break;
    default:
        FUZZ_CHECK(0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **argv;
    static struct inject_opts o;
    char err[INJECT_ERR_MAX];
    unsigned mask;
    int argc, rc;

    argv = fuzz_argv(data, size, "airsrt-inject", MAX_ARGS, &argc);
    if (argv == NULL)
        return 0;
    err[0] = '\0';
    rc = inject_args_parse(argc, argv, &o, err, sizeof(err));
    if (rc == TOOL_EXIT_USAGE) {
        FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    } else {
        FUZZ_CHECK(rc == TOOL_EXIT_OK);
        if (o.cmd != INJECT_HELP)
            check_accepted(&o);
    }
    /* The small parsers on each argument alone. */
    for (int i = 1; i < argc; i++) {
        int sig = inject_signal_parse(argv[i]);

        FUZZ_CHECK(sig == -1 || (sig >= 1 && sig <= 64));
        if (inject_worker_syntax_ok(argv[i]))
            FUZZ_CHECK(strlen(argv[i]) < INJECT_WORKER_MAX);
        if (inject_faults_parse(argv[i], &mask, err, sizeof(err)) == 0)
            FUZZ_CHECK(mask != 0 && (mask & ~((1u << FAULT_N) - 1)) == 0);
    }
    free(argv);
    return 0;
}
