/*
 * tools/inject/inject.h - airsrt-inject's pieces (airsrt-inject(1)): the
 * command line (args.c, libc only, so that fuzz/fuzz_inject_args.c
 * compiles it whole), the seeded chaos schedule (chaos.c) and the faults
 * themselves (faults.c, against an attached segment).
 *
 * Nothing here trusts the segment: worker names and pids read from it are
 * cut and checked before they are printed or signalled.
 */
#ifndef AIRSRT_TOOLS_INJECT_H
#define AIRSRT_TOOLS_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shm/registry.h"
#include "tools/common/tool.h"

#define INJECT_ERR_MAX       256u
#define INJECT_WORKER_MAX    80u    /* a WORKER argument, NUL included */
/* A registry name (flood NAME), NUL included. */
#define INJECT_NAME_MAX      (AIRSRT_REGISTRY_NAME_MAX + 1u)
#define INJECT_LIST_MAX      64u    /* entries of --workers */
#define INJECT_STALL_MS_MAX  3600000u
#define INJECT_BYTES_MAX     (1u << 20)
#define INJECT_FLOOD_MAX     100000000ull
#define INJECT_DURATION_MAX  86400000u  /* ms */
#define INJECT_RATE_MAX      1000.0
#define INJECT_EXHAUST_MS_DEFAULT 2000u

enum inject_cmd {
    INJECT_NONE = 0,
    INJECT_HELP,
    INJECT_KILL,
    INJECT_STALL,
    INJECT_KILL_IN_LOCK,
    INJECT_CORRUPT_RING,
    INJECT_FLOOD,
    INJECT_EXHAUST,
    INJECT_CHAOS,
};

/* The faults chaos picks from, as bits of a mask. */
enum inject_fault {
    FAULT_KILL = 0,
    FAULT_STALL,
    FAULT_KILL_IN_LOCK,
    FAULT_CORRUPT_RING,
    FAULT_N,
};

extern const char *const inject_fault_names[FAULT_N];

struct inject_opts {
    enum inject_cmd cmd;
    const char *runtime;
    char worker[INJECT_WORKER_MAX];       /* WORKER, syntax checked */
    char from[INJECT_WORKER_MAX];         /* --from W, "" = choose */
    int signal;                           /* kill: default SIGKILL */
    uint32_t ms;                          /* stall MS; exhaust --ms */
    uint32_t bytes;                       /* corrupt-ring: 1 .. 1 MiB */
    uint64_t seed;
    bool has_seed;
    char name[INJECT_NAME_MAX];           /* flood NAME */
    uint64_t count;                       /* flood N */
    uint32_t type;                        /* flood --type, default 1 */
    uint32_t duration_ms;                 /* chaos --duration */
    double rate;                          /* chaos faults per second */
    unsigned faults;                      /* 1 << enum inject_fault; 0 =
                                             the default set */
    uint32_t nworkers;                    /* --workers entries */
    char workers[INJECT_LIST_MAX][INJECT_WORKER_MAX];
    bool is_json;
};

/*
 * Parses argv into o. Returns TOOL_EXIT_OK with o->cmd set (INJECT_HELP
 * for --help), or TOOL_EXIT_USAGE with a one-line reason in err. Reads
 * nothing but its arguments, writes nothing but o and err; o->runtime
 * points into argv.
 */
int inject_args_parse(int argc, char **argv, struct inject_opts *o,
                      char *err, size_t len);

/* WORKER syntax: a decimal index below AIRSRT_MAX_WORKERS, or
 * "group[i]" (group a config group name: 1 to AIRSRT_CONFIG_NAME_MAX of
 * AIRSRT_CONFIG_NAME_CHARS; i decimal); shorter than INJECT_WORKER_MAX in
 * all. */
bool inject_worker_syntax_ok(const char *s);

/* A signal name (KILL, SIGKILL; case-insensitive) or number 1 .. 64;
 * the number, or -1. */
int inject_signal_parse(const char *s);

/* "SIGKILL" for a known number, else "signal N" into buf. */
const char *inject_signal_name(int sig, char *buf, size_t len);

/* A comma-separated list of fault names into a mask: 0 or -1 (with
 * the offending word in err). */
int inject_faults_parse(const char *s, unsigned *mask, char *err,
                        size_t len);

void inject_usage(FILE *f);

/* ---- chaos.c: the schedule, a function of the seed alone ---- */

/* splitmix64: a tiny seeded generator with good mixing, so that one seed
 * gives one sequence on every machine (arc4random would not). */
struct inject_prng { uint64_t s; };

uint64_t inject_prng_next(struct inject_prng *p);

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; its bias is below
 * n / 2^64, nothing a test can see). */
uint64_t inject_prng_below(struct inject_prng *p, uint64_t n);

/* One planned fault: when (ms after the start), which fault (an index
 * into the chosen faults), which victim (an index into the victims), and
 * its parameter: stall ms, or a corrupt-ring seed. */
struct inject_step {
    uint64_t at_ms;
    uint32_t fault;
    uint32_t victim;
    uint64_t param;
};

/*
 * The next step after prev_at_ms: a gap drawn uniform in [0, 2000/rate]
 * ms (mean 1/rate s), then the fault, the victim, the parameter, always
 * drawn in this order so that the sequence depends on the seed alone.
 */
void inject_chaos_next(struct inject_prng *p, double rate, uint32_t nfaults,
                       uint32_t nvictims, uint64_t prev_at_ms,
                       struct inject_step *st);

#define INJECT_CHAOS_STALL_MIN_MS 50u
#define INJECT_CHAOS_STALL_MAX_MS 250u

#endif
