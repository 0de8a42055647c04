/*
 * tools/bench/bench.h - what the files of airsrt-bench share: the options,
 * the report (a table or one JSON object), the machine, the children the
 * tool forks, its segments, and the checked payload every workload sends.
 *
 * Rules every workload keeps:
 *  - a figure is printed only if every envelope behind it arrived whole
 *    and in order (each payload carries a sequence number at both ends);
 *  - nothing is left behind: each segment is destroyed and each child
 *    reaped on success, failure and SIGINT, SIGTERM or SIGHUP alike. A
 *    signal only sets bench_stop_sig; loops that wait look at it;
 *  - no workload assumes anything about speed: no timeout ends a run that
 *    still makes progress.
 *
 * Files: args.c (command line; also fuzzed on its own, so it must not
 * call into any other file), report.c (report and machine), child.c
 * (children and CPUs), seg.c (segments and payloads), ring.c (the ring
 * workload), host.c (worker processes for the actor workloads), spawn.c,
 * flow.c (local and cross), ring_actors.c, fanout.c, restart.c (a whole
 * runtime under airsrt-run, whose workers are this binary:
 * bench_restart_types), actor_restart.c (supervisor actors restarting a
 * child), timers.c (timers and request).
 */
#ifndef AIRSRT_BENCH_H
#define AIRSRT_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "shm/segment.h"

#define EXIT_USAGE  100
#define EXIT_SYSTEM 111

/* Every envelope the tool sends carries this much payload. */
#define BENCH_PAYLOAD_LEN 64u
/* The payload's last word is seq ^ BENCH_SEQ_MIX: a record published
 * before it was whole shows as a mismatch between its first and last
 * words. */
#define BENCH_SEQ_MIX     UINT64_C(0x9E3779B97F4A7C15)

#define BENCH_MAX_RUNS        1000u
#define BENCH_MAX_SAMPLES     50000000u
#define BENCH_MAX_BATCH       4096u
#define BENCH_MAX_WORKERS     64u
#define BENCH_MAX_ACTOR_SIZES 8u      /* values in one --actors list */
#define BENCH_MAX_KILLS       100000u /* restart: --count */
#define BENCH_WARMUP          1000u   /* round trips not recorded */

/* ---- options (args.c) ---- */

enum bench_workload_id {
    BENCH_RING = 0,
    BENCH_SPAWN,
    BENCH_LOCAL,
    BENCH_CROSS,
    BENCH_RING_OF_ACTORS,
    BENCH_RESTART,
    BENCH_FANOUT,
    BENCH_ACTOR_RESTART,
    BENCH_TIMERS,           /* timers.c */
    BENCH_REQUEST,          /* timers.c */
    BENCH_WORKLOADS
};

/* Options a workload takes, beyond --quick, --runs and --json. */
#define BENCH_OPT_COUNT      0x01u
#define BENCH_OPT_SAMPLES    0x02u
#define BENCH_OPT_RING_BYTES 0x04u
#define BENCH_OPT_PIN        0x08u
#define BENCH_OPT_ACTORS     0x10u
#define BENCH_OPT_WORKERS    0x20u
#define BENCH_OPT_BATCH      0x40u

struct bench_workload {
    const char *name;
    const char *summary;
    unsigned options;           /* BENCH_OPT_* it takes */
};

extern const struct bench_workload bench_workloads[BENCH_WORKLOADS];

/* After parsing, a field the workload does not take is 0 (false for
 * do_pin), and every field it takes holds a value in range. */
struct bench_opts {
    bool is_quick, is_json, do_pin;
    uint32_t runs;              /* per figure */
    uint64_t count;             /* envelopes per run (ring-of-actors:
                                   hops; restart: kills per variant) */
    uint64_t samples;           /* round trips per latency run */
    uint32_t ring_bytes;        /* per data ring */
    uint32_t batch;             /* envelopes a producer sends per turn */
    uint32_t workers;           /* ring-of-actors */
    uint32_t nsizes;            /* values in actors[] */
    uint64_t actors[BENCH_MAX_ACTOR_SIZES];
};

/* Parses argv[1] (the workload) and the options after it. Returns the
 * workload, or -1 with *rc the exit status (0 after --help, EXIT_USAGE
 * after explaining on stderr). */
int bench_parse_command(int argc, char **argv, struct bench_opts *o, int *rc);

/* The workload called name, or -1. */
int bench_workload_find(const char *name);

/* ---- report (report.c) ---- */

struct bench_report {
    bool is_json;
    bool is_in_results;     /* JSON: the setup object is closed */
    bool is_first;          /* JSON: no comma before the next member */
};

/* What a figure is aimed at, printed next to it: op is "<=" or ">=". */
struct bench_target {
    const char *op;
    double value;
};

void bench_report_begin(struct bench_report *rep, const char *name,
                        const char *summary);
/* One line of setup: "key  value", or a member of the JSON "setup". */
void bench_report_setup(struct bench_report *rep, const char *key,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts a group of figures: a titled table, or nothing in JSON. */
void bench_report_section(struct bench_report *rep, const char *title);
/* One figure over n runs: median, min, max (v is reordered). target may
 * be NULL. */
void bench_report_row(struct bench_report *rep, const char *key,
                      const char *label, const char *unit, int decimals,
                      double *v, uint32_t n,
                      const struct bench_target *target);
void bench_report_end(struct bench_report *rep);
/* CPU, CPUs, kernel, compiler, clock source, load: as setup lines. */
void bench_report_machine(struct bench_report *rep);

/* Nearest-rank percentile of sorted v (n > 0); q in ten-thousandths. */
double bench_percentile(const uint64_t *v, uint64_t n, uint64_t q);
void bench_sort_u64(uint64_t *v, uint64_t n);

/* ---- children and CPUs (child.c) ---- */

extern volatile sig_atomic_t bench_stop_sig;

enum bench_msg_kind {
    BENCH_MSG_READY = 1,    /* set up: the parent may start the run */
    BENCH_MSG_DONE,         /* finished; t_end_ns and values say what */
    BENCH_MSG_FAIL,         /* text says what went wrong */
    BENCH_MSG_FINISHED,     /* the measured part is over (actor hosts) */
};

#define BENCH_MSG_VALUES 12u

/* Under PIPE_BUF, so each write is atomic. */
struct bench_msg {
    uint32_t kind;
    uint32_t reserved;
    uint64_t t_end_ns;
    uint64_t values[BENCH_MSG_VALUES];
    char text[240];
};

struct bench_child {
    const char *role;   /* "consumer", "worker 1": for messages */
    pid_t pid;          /* -1: none */
    int fd;             /* read end of its message pipe, or -1 */
    int go_fd;          /* write end of its go pipe, or -1 */
    bool is_reaped;
    int status;
};

/* In the child: fd is its message pipe, go_fd the read end of its go
 * pipe (-1 unless asked for). Returns the exit status. */
typedef int (*bench_child_fn)(void *arg, int fd, int go_fd);

#define BENCH_CHILD_INIT(r) \
    { .role = (r), .pid = -1, .fd = -1, .go_fd = -1 }

int bench_fail_errno(const char *what);

/* Forks a child pinned to cpu (-1: not pinned) that dies with the tool
 * and runs fn; with_go, it also gets a go pipe. 0 or -errno. */
int bench_child_spawn(struct bench_child *c, int cpu, bool with_go,
                      bench_child_fn fn, void *arg);
/* In a child: one message to the parent. Returns 0, or EXIT_SYSTEM for
 * a FAIL or a failed write (the child's exit status). */
int bench_child_send(int fd, uint32_t kind, uint64_t t_end_ns,
                     const uint64_t *values, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reads one message. 1: got it; 0: the child closed its end; -EINTR: we
 * are stopping; -errno. */
int bench_child_read(struct bench_child *c, struct bench_msg *m);
/* Waits for one message of kind; anything else is a failure, explained. */
int bench_child_expect(struct bench_child *c, uint32_t kind,
                       struct bench_msg *m);
/* The child ended early or said something it should not have: explains
 * why, from its last word or its exit status. -EIO or -ECHILD. */
int bench_child_failed(struct bench_child *c);
/* For idle loops: -EINTR if we are stopping, -ECHILD or -EIO (explained)
 * if the child is gone, else 0. */
int bench_child_check(struct bench_child *c);
/* Waits for the child (killing it first if asked or if we are stopping)
 * and closes its pipes. Safe to call twice. */
void bench_child_reap(struct bench_child *c, bool do_kill);
/* In a child: waits for the go byte. 0, or -1 if the parent went away. */
int bench_child_wait_go(int go_fd);

/* The CPUs this process may run on, lowest first, at most max: how many,
 * or 0 with why saying why not when pinning is off or cannot work. */
int bench_allowed_cpus(const struct bench_opts *o, int *found, int max,
                       char *why, size_t len);

/* CPUs for n processes: the first n allowed ones in cpu[], cycling when
 * fewer are allowed; all -1 with --no-pin or when pinning cannot work.
 * why says what was chosen. */
void bench_pick_cpus(const struct bench_opts *o, int *cpu, uint32_t n,
                     char *why, size_t len);
int bench_pin_self(int cpu);

/* ---- segments and payloads (seg.c) ---- */

/* Creates this tool's segment, "bench-<pid>", explaining failures. */
int bench_seg_create(struct airsrt_shm *shm,
                     const struct airsrt_shm_params *p);
void bench_seg_destroy(struct airsrt_shm *shm);

/* The largest payload_max a runtime with these rings may have. */
uint32_t bench_payload_max(uint32_t ring_bytes);

/* Fills a BENCH_PAYLOAD_LEN payload as envelope 0. */
void bench_payload_init(uint8_t *payload);
/* Makes an initialised payload envelope seq: only its two ends change. */
void bench_payload_set_seq(uint8_t *payload, uint64_t seq);
/* 0 if payload (len bytes, type given) is whole envelope number seq of
 * type want, else -EBADMSG with why. */
int bench_payload_check(uint32_t type, const uint8_t *payload, uint32_t len,
                        uint32_t want, uint64_t seq, char *why, size_t n);

/* ---- workloads ---- */

int bench_ring_run(const struct bench_opts *o, struct bench_report *rep);
int bench_spawn_run(const struct bench_opts *o, struct bench_report *rep);
int bench_local_run(const struct bench_opts *o, struct bench_report *rep);
int bench_cross_run(const struct bench_opts *o, struct bench_report *rep);
int bench_ring_actors_run(const struct bench_opts *o,
                          struct bench_report *rep);
int bench_restart_run(const struct bench_opts *o, struct bench_report *rep);
int bench_fanout_run(const struct bench_opts *o, struct bench_report *rep);
int bench_actor_restart_run(const struct bench_opts *o,
                            struct bench_report *rep);
int bench_timers_run(const struct bench_opts *o, struct bench_report *rep);
int bench_request_run(const struct bench_opts *o, struct bench_report *rep);

/* ---- airsrt-bench as a worker of the restart workload (restart.c) ---- */

/* Set by the worker-side spare support (issue 5) once it lands. */
#ifndef AIRSRT_ENV_SPARE_FD
#define AIRSRT_ENV_SPARE_FD "AIRSRT_SPARE_FD"
#endif

struct airsrt_actor_type;

/* The actor types airsrt-bench hosts when airsrt-run starts it as a
 * worker (echo, prober), NULL-terminated, for airsrt_worker_main(). */
extern const struct airsrt_actor_type *const bench_restart_types[];

#endif
