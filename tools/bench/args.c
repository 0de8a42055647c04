/*
 * tools/bench/args.c - airsrt-bench's command line: the workload, then
 * its options, each checked against its range and against the workload
 * (an option the workload does not take is refused, not ignored).
 *
 * fuzz/fuzz_bench_args.c compiles this file into its harness on its own,
 * so it must call nothing outside libc: the workloads are named here,
 * their functions are looked up by the tool's main.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/ring.h"
#include "tools/bench/bench.h"

#define DEFAULT_RUNS       5u
#define QUICK_RUNS         3u
#define DEFAULT_COUNT      20000000u
#define QUICK_COUNT        1000000u
#define DEFAULT_HOPS       4000000u
#define QUICK_HOPS         1000000u
#define DEFAULT_SAMPLES    200000u
#define QUICK_SAMPLES      20000u
#define DEFAULT_RING_BYTES (256u << 10)
#define DEFAULT_BATCH      64u
#define DEFAULT_WORKERS    2u
#define DEFAULT_KILLS      1000u
#define QUICK_KILLS        100u
#define DEFAULT_PUBLISHES  20000u   /* fanout: x 1000 copies each */
#define QUICK_PUBLISHES    2000u
#define DEFAULT_FAN_SAMPLES 10000u
#define QUICK_FAN_SAMPLES  1000u
#define DEFAULT_ACTOR_RESTARTS 200000u
#define QUICK_ACTOR_RESTARTS   20000u

#define RING_OPTS   (BENCH_OPT_COUNT | BENCH_OPT_SAMPLES | \
                     BENCH_OPT_RING_BYTES | BENCH_OPT_PIN)
#define SPAWN_OPTS  (BENCH_OPT_ACTORS | BENCH_OPT_PIN)
#define LOCAL_OPTS  (BENCH_OPT_COUNT | BENCH_OPT_SAMPLES | BENCH_OPT_BATCH | \
                     BENCH_OPT_PIN)
#define CROSS_OPTS  (LOCAL_OPTS | BENCH_OPT_RING_BYTES)
#define RACT_OPTS   (BENCH_OPT_ACTORS | BENCH_OPT_WORKERS | BENCH_OPT_COUNT | \
                     BENCH_OPT_RING_BYTES | BENCH_OPT_PIN)
#define RESTART_OPTS BENCH_OPT_COUNT
#define FANOUT_OPTS (BENCH_OPT_ACTORS | BENCH_OPT_WORKERS | BENCH_OPT_COUNT | \
                     BENCH_OPT_SAMPLES | BENCH_OPT_RING_BYTES | BENCH_OPT_PIN)
#define ACTOR_RESTART_OPTS (BENCH_OPT_COUNT | BENCH_OPT_PIN)
#define TIMERS_OPTS  (BENCH_OPT_COUNT | BENCH_OPT_ACTORS | BENCH_OPT_PIN)
#define REQUEST_OPTS (BENCH_OPT_SAMPLES | BENCH_OPT_PIN)
#define DEFAULT_TIMERS 1000000u     /* timers: --count */
#define QUICK_TIMERS   100000u

const struct bench_workload bench_workloads[BENCH_WORKLOADS] = {
    [BENCH_RING] = { "ring", "shared-memory data rings between two "
                     "processes", RING_OPTS },
    [BENCH_SPAWN] = { "spawn", "idle actors spawned in one worker: time "
                      "and memory per actor", SPAWN_OPTS },
    [BENCH_LOCAL] = { "local", "two actors in one worker: one-way rate "
                      "and round trip", LOCAL_OPTS },
    [BENCH_CROSS] = { "cross", "two actors in two worker processes: "
                      "one-way rate and round trip", CROSS_OPTS },
    [BENCH_RING_OF_ACTORS] = { "ring-of-actors", "a token passed around N "
                               "actors in W workers: cost per hop",
                               RACT_OPTS },
    [BENCH_RESTART] = { "restart", "a worker killed with SIGKILL under "
                        "airsrt-run: time until its next incarnation "
                        "answers", RESTART_OPTS },
    [BENCH_FANOUT] = { "fanout", "one topic, N subscribers in W workers: "
                       "publish to last subscriber, copies per second",
                       FANOUT_OPTS },
    [BENCH_ACTOR_RESTART] = { "actor-restart", "a child failing under a "
                              "one_for_one supervisor actor: time until "
                              "its next incarnation has started",
                              ACTOR_RESTART_OPTS },
    [BENCH_TIMERS] = { "timers", "one worker with 1M timers pending: cost "
                       "per schedule + fire, set, cancel", TIMERS_OPTS },
    [BENCH_REQUEST] = { "request", "airsrt_request and its reply across two "
                        "worker processes: round trip", REQUEST_OPTS },
};

/* Defaults of --actors, by workload and --quick. */
static const uint64_t spawn_sizes[] = { 1000000 };
static const uint64_t spawn_quick_sizes[] = { 100000 };
static const uint64_t ring_sizes[] = { 1000, 100000, 1000000 };
static const uint64_t ring_quick_sizes[] = { 1000, 100000 };
static const uint64_t fanout_sizes[] = { 1000 };

static void usage(FILE *f)
{
    fprintf(f,
            "usage: airsrt-bench WORKLOAD [options]\n"
            "workloads:\n"
            "  ring            shared-memory data rings between two "
            "processes\n"
            "  spawn           idle actors spawned in one worker: time and "
            "bytes per actor\n"
            "  local           two actors in one worker: one-way rate, "
            "round trip\n"
            "  cross           two actors in two workers: one-way rate, "
            "round trip\n"
            "  ring-of-actors  a token passed around N actors in W workers\n"
            "  restart         SIGKILL a worker under airsrt-run: time until "
            "it answers again\n"
            "  fanout          one topic, N subscribers in W workers: "
            "latency and rate\n"
            "  actor-restart   a child failing under a one_for_one "
            "supervisor actor:\n"
            "                  time until its next incarnation has "
            "started\n"
            "  timers          1M timers pending in one worker: ns per "
            "schedule + fire\n"
            "  request         request -> reply across two workers: round "
            "trip\n"
            "options (each workload takes those its man page lists):\n"
            "  --quick         fewer runs and messages (seconds)\n"
            "  --runs N        runs per figure, reported as median, min, max "
            "(default %u;\n"
            "                  restart: 1)\n"
            "  --count N       envelopes per throughput run (default %u; "
            "ring-of-actors:\n"
            "                  hops per run, rounded up to whole laps, "
            "default %u;\n"
            "                  restart: kills per variant, at most %u, "
            "default %u;\n"
            "                  fanout: publishes, default %u;\n"
            "                  actor-restart: restarts per run, "
            "default %u;\n"
            "                  timers: timers set and fired per run, "
            "default %u)\n"
            "  --samples N     round trips per latency run (default %u; "
            "fanout: publishes,\n"
            "                  default %u)\n"
            "  --ring-bytes N  bytes per data ring, a power of two "
            "(default %u for ring,\n"
            "                  the runtime's %u for the others)\n"
            "  --batch N       envelopes a producer sends per turn "
            "(default %u)\n"
            "  --actors N,...  actors: spawn (default 1M), ring-of-actors "
            "(default 1k,100k,1M),\n"
            "                  fanout: subscribers (default 1k),\n"
            "                  timers: pending timers (one value, default "
            "1M)\n"
            "  --workers N     workers of ring-of-actors, fanout (default %u)\n"
            "  --no-pin        do not pin the processes to CPUs\n"
            "  --json          print one JSON object instead of a table\n"
            "  -h, --help      print this and exit\n"
            "N takes a suffix k, M, G (10^3, 10^6, 10^9) or Ki, Mi, Gi "
            "(2^10, 2^20, 2^30).\n",
            DEFAULT_RUNS, DEFAULT_COUNT, DEFAULT_HOPS, BENCH_MAX_KILLS,
            DEFAULT_KILLS, DEFAULT_PUBLISHES, DEFAULT_ACTOR_RESTARTS,
            DEFAULT_TIMERS, DEFAULT_SAMPLES, DEFAULT_FAN_SAMPLES,
            DEFAULT_RING_BYTES, AIRSRT_RING_BYTES_DEFAULT, DEFAULT_BATCH,
            DEFAULT_WORKERS);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("airsrt-bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    return -EINVAL;
}

static int suffix_scale(const char *s, uint64_t *scale)
{
    static const struct { const char *s; uint64_t scale; } tab[] = {
        { "", 1 }, { "k", 1000 }, { "M", 1000000 }, { "G", 1000000000 },
        { "Ki", 1u << 10 }, { "Mi", 1u << 20 }, { "Gi", 1u << 30 },
    };

    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strcmp(s, tab[i].s) == 0) {
            *scale = tab[i].scale;
            return 0;
        }
    }
    return -EINVAL;
}

/* Parses a decimal count with an optional suffix into [min, max]. */
static int parse_num(const char *opt, const char *s, uint64_t min,
                     uint64_t max, uint64_t *out)
{
    char *end;
    uint64_t v, scale;

    if (*s < '0' || *s > '9')
        return usage_error("%s wants a number, not \"%s\"", opt, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || suffix_scale(end, &scale) < 0 ||
        v > UINT64_MAX / scale)
        return usage_error("%s: \"%s\" is not a number we can read", opt, s);
    v *= scale;
    if (v < min || v > max)
        return usage_error("%s %" PRIu64 " is not between %" PRIu64
                           " and %" PRIu64, opt, v, min, max);
    *out = v;
    return 0;
}

static int parse_ring_bytes(const char *s, struct bench_opts *o)
{
    uint64_t v;
    int rc = parse_num("--ring-bytes", s, AIRSRT_RING_MIN_CAPACITY,
                       AIRSRT_RING_MAX_CAPACITY, &v);

    if (rc == 0 && (v & (v - 1)) != 0)
        rc = usage_error("--ring-bytes %" PRIu64 " is not a power of two", v);
    if (rc == 0)
        o->ring_bytes = (uint32_t)v;
    return rc;
}

/* "N[,N...]": at most BENCH_MAX_ACTOR_SIZES counts of actors. */
static int parse_actors(const char *s, struct bench_opts *o)
{
    char item[32];
    size_t len;
    int rc;

    o->nsizes = 0;
    for (;;) {
        len = strcspn(s, ",");
        if (o->nsizes == BENCH_MAX_ACTOR_SIZES)
            return usage_error("--actors takes at most %u counts",
                               BENCH_MAX_ACTOR_SIZES);
        if (len == 0 || len >= sizeof(item))
            return usage_error("--actors wants counts separated by ',', "
                               "not \"%s\"", s);
        memcpy(item, s, len);
        item[len] = '\0';
        rc = parse_num("--actors", item, 1, AIRSRT_MAX_ACTOR_SLOT,
                       &o->actors[o->nsizes]);
        if (rc < 0)
            return rc;
        o->nsizes++;
        if (s[len] == '\0')
            return 0;
        s += len + 1;
    }
}

static int parse_option(int c, const char *arg, struct bench_opts *o)
{
    uint64_t v = 0;
    int rc = 0;

    switch (c) {
    case 'q':
        o->is_quick = true;
        break;
    case 'r':
        rc = parse_num("--runs", arg, 1, BENCH_MAX_RUNS, &v);
        o->runs = (uint32_t)v;
        break;
    case 'n':
        rc = parse_num("--count", arg, 1, UINT64_MAX / 2, &o->count);
        break;
    case 's':
        rc = parse_num("--samples", arg, 1, BENCH_MAX_SAMPLES, &o->samples);
        break;
    case 'b':
        rc = parse_ring_bytes(arg, o);
        break;
    case 'B':
        rc = parse_num("--batch", arg, 1, BENCH_MAX_BATCH, &v);
        o->batch = (uint32_t)v;
        break;
    case 'a':
        rc = parse_actors(arg, o);
        break;
    case 'w':
        rc = parse_num("--workers", arg, 1, BENCH_MAX_WORKERS, &v);
        o->workers = (uint32_t)v;
        break;
    case 'P':
        o->do_pin = false;
        break;
    case 'j':
        o->is_json = true;
        break;
    default:
        rc = -EINVAL;
    }
    return rc;
}

/* The BENCH_OPT_* bit of an option; 0 for those every workload takes. */
static unsigned option_bit(int c)
{
    switch (c) {
    case 'n': return BENCH_OPT_COUNT;
    case 's': return BENCH_OPT_SAMPLES;
    case 'b': return BENCH_OPT_RING_BYTES;
    case 'B': return BENCH_OPT_BATCH;
    case 'a': return BENCH_OPT_ACTORS;
    case 'w': return BENCH_OPT_WORKERS;
    case 'P': return BENCH_OPT_PIN;
    default: return 0;
    }
}

static void default_sizes(int id, struct bench_opts *o)
{
    const uint64_t *v;
    size_t n;

    if (id == BENCH_SPAWN || id == BENCH_TIMERS) {
        v = o->is_quick ? spawn_quick_sizes : spawn_sizes;
        n = o->is_quick ? sizeof(spawn_quick_sizes) / sizeof(*v)
                        : sizeof(spawn_sizes) / sizeof(*v);
    } else if (id == BENCH_FANOUT) {
        v = fanout_sizes;
        n = sizeof(fanout_sizes) / sizeof(*v);
    } else {
        v = o->is_quick ? ring_quick_sizes : ring_sizes;
        n = o->is_quick ? sizeof(ring_quick_sizes) / sizeof(*v)
                        : sizeof(ring_sizes) / sizeof(*v);
    }
    memcpy(o->actors, v, n * sizeof(*v));
    o->nsizes = (uint32_t)n;
}

/* Fills what the workload takes and was not given. */
static void apply_defaults(int id, struct bench_opts *o)
{
    unsigned takes = bench_workloads[id].options;

    /* A restart run is thousands of process restarts: one is enough. */
    if (o->runs == 0 && id == BENCH_RESTART)
        o->runs = 1;
    if (o->runs == 0)
        o->runs = o->is_quick ? QUICK_RUNS : DEFAULT_RUNS;
    if ((takes & BENCH_OPT_COUNT) && o->count == 0) {
        if (id == BENCH_RING_OF_ACTORS)
            o->count = o->is_quick ? QUICK_HOPS : DEFAULT_HOPS;
        else if (id == BENCH_RESTART)
            o->count = o->is_quick ? QUICK_KILLS : DEFAULT_KILLS;
        else if (id == BENCH_FANOUT)
            o->count = o->is_quick ? QUICK_PUBLISHES : DEFAULT_PUBLISHES;
        else if (id == BENCH_ACTOR_RESTART)
            o->count = o->is_quick ? QUICK_ACTOR_RESTARTS
                                   : DEFAULT_ACTOR_RESTARTS;
        else if (id == BENCH_TIMERS)
            o->count = o->is_quick ? QUICK_TIMERS : DEFAULT_TIMERS;
        else
            o->count = o->is_quick ? QUICK_COUNT : DEFAULT_COUNT;
    }
    if ((takes & BENCH_OPT_SAMPLES) && o->samples == 0 && id == BENCH_FANOUT)
        o->samples = o->is_quick ? QUICK_FAN_SAMPLES : DEFAULT_FAN_SAMPLES;
    if ((takes & BENCH_OPT_SAMPLES) && o->samples == 0)
        o->samples = o->is_quick ? QUICK_SAMPLES : DEFAULT_SAMPLES;
    if ((takes & BENCH_OPT_RING_BYTES) && o->ring_bytes == 0)
        o->ring_bytes = id == BENCH_RING ? DEFAULT_RING_BYTES
                                         : AIRSRT_RING_BYTES_DEFAULT;
    if ((takes & BENCH_OPT_BATCH) && o->batch == 0)
        o->batch = DEFAULT_BATCH;
    if ((takes & BENCH_OPT_WORKERS) && o->workers == 0)
        o->workers = DEFAULT_WORKERS;
    if ((takes & BENCH_OPT_ACTORS) && o->nsizes == 0)
        default_sizes(id, o);
    if (!(takes & BENCH_OPT_PIN))
        o->do_pin = false;
}

/* What holds only for some values together. */
static int check_combination(int id, const struct bench_opts *o)
{
    if (id == BENCH_ACTOR_RESTART && o->count > BENCH_MAX_SAMPLES)
        return usage_error("actor-restart: --count %" PRIu64 " is more "
                           "than %u restarts", o->count, BENCH_MAX_SAMPLES);
    if (id == BENCH_RESTART && o->count > BENCH_MAX_KILLS)
        return usage_error("restart: --count %" PRIu64 " is more kills "
                           "than %u", o->count, BENCH_MAX_KILLS);
    if (id == BENCH_TIMERS && o->nsizes != 1)
        return usage_error("timers: --actors takes one value, the pending "
                           "timers");
    if (id != BENCH_RING_OF_ACTORS && id != BENCH_FANOUT)
        return 0;
    for (uint32_t i = 0; i < o->nsizes; i++)
        if (o->actors[i] < o->workers)
            return usage_error("%s: %" PRIu64 " actors cannot fill %u "
                               "workers", bench_workloads[id].name,
                               o->actors[i], o->workers);
    return 0;
}

/* Returns 0, 1 for --help, or -EINVAL (already explained). argv[0] is
 * the workload, so getopt starts right after it. */
static int parse_options(int id, int argc, char **argv, struct bench_opts *o)
{
    static const struct option longs[] = {
        { "quick", no_argument, NULL, 'q' },
        { "runs", required_argument, NULL, 'r' },
        { "count", required_argument, NULL, 'n' },
        { "samples", required_argument, NULL, 's' },
        { "ring-bytes", required_argument, NULL, 'b' },
        { "batch", required_argument, NULL, 'B' },
        { "actors", required_argument, NULL, 'a' },
        { "workers", required_argument, NULL, 'w' },
        { "no-pin", no_argument, NULL, 'P' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct bench_workload *w = &bench_workloads[id];
    int c, li, rc = 0;

    opterr = 0;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, ":h", longs, &li)) != -1) {
        if (c == 'h')
            return 1;
        if (c == '?')
            return usage_error("unknown option \"%s\"", argv[optind - 1]);
        if (c == ':')
            return usage_error("option \"%s\" needs a value",
                               argv[optind - 1]);
        /* Options with a bit are long only: li names the one found. */
        if (option_bit(c) != 0 && !(w->options & option_bit(c)))
            return usage_error("option --%s does not apply to workload %s",
                               longs[li].name, w->name);
        rc = parse_option(c, optarg, o);
    }
    if (rc == 0 && optind < argc)
        rc = usage_error("unexpected argument \"%s\"", argv[optind]);
    if (rc == 0)
        apply_defaults(id, o);
    if (rc == 0)
        rc = check_combination(id, o);
    return rc;
}

int bench_workload_find(const char *name)
{
    for (int i = 0; i < BENCH_WORKLOADS; i++)
        if (strcmp(bench_workloads[i].name, name) == 0)
            return i;
    return -1;
}

int bench_parse_command(int argc, char **argv, struct bench_opts *o, int *rc)
{
    int id, prc;

    *rc = EXIT_USAGE;
    if (argc < 2) {
        usage_error("missing WORKLOAD");
        return -1;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        *rc = 0;
        return -1;
    }
    if (argv[1][0] == '-') {
        usage_error("the WORKLOAD comes first, before \"%s\"", argv[1]);
        return -1;
    }
    id = bench_workload_find(argv[1]);
    if (id < 0) {
        usage_error("unknown workload \"%s\"", argv[1]);
        return -1;
    }
    prc = parse_options(id, argc - 1, argv + 1, o);
    if (prc == 1) {
        usage(stdout);
        *rc = 0;
    }
    return prc == 0 ? id : -1;
}
