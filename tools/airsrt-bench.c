/*
 * tools/airsrt-bench.c - measures the runtime's building blocks, one
 * workload at a time. `airsrt-bench ring` times the shared-memory data
 * rings between two forked processes: one-way throughput, one envelope or
 * a batch per publication, and round-trip latency with the receiver
 * spinning or asleep on its doorbell.
 *
 * It prints figures, never a verdict: there are no thresholds. A figure is
 * only printed if every envelope behind it arrived whole and in order, so
 * the receiving side checks a sequence number in every payload.
 *
 * It must leave nothing behind: each segment is named after this process
 * and destroyed, each child is reaped, on success, on failure and on
 * SIGINT, SIGTERM or SIGHUP alike (the handler only sets a flag; the
 * loops that spin or wait check it). Children die with the tool (PR_SET_PDEATHSIG),
 * so only a SIGKILL of the tool itself can leave a segment in /dev/shm.
 *
 * New workloads are functions added to the workloads[] table.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "airsrt/envelope.h"
#include "shm/cpu.h"
#include "shm/doorbell.h"
#include "shm/ring.h"
#include "shm/segment.h"

#define EXIT_USAGE  100
#define EXIT_SYSTEM 111

#define PAYLOAD_LEN   64u
#define ENV_SIZE      (AIRSRT_ENVELOPE_HDR_SIZE + PAYLOAD_LEN)
/* The segment's payload_max: small enough that every legal ring size
 * can carry it, so --ring-bytes 4Ki works too. */
#define PAYLOAD_MAX   256u
#define MSG_TYPE_DATA 0xBE7Cu
/* The payload's last word is seq ^ SEQ_MIX: a record published before it
 * was whole shows as a mismatch between its first and last words. */
#define SEQ_MIX       UINT64_C(0x9E3779B97F4A7C15)
#define READ_BATCH    256u

/* Idle loops look at the stop flag and the peer every 16Ki spins, well
 * under a millisecond: rare enough to cost nothing, often enough to stop
 * at once. */
#define CHECK_MASK    0x3FFFu
/* A sleeping pinger wakes up this often to look at them too. */
#define WAIT_SLICE_NS 100000000
#define LAT_WARMUP    1000u

#define DEFAULT_RUNS       5u
#define DEFAULT_COUNT      20000000u
#define DEFAULT_SAMPLES    200000u
#define DEFAULT_RING_BYTES (256u << 10)
#define QUICK_RUNS         3u
#define QUICK_COUNT        1000000u
#define QUICK_SAMPLES      20000u
#define MAX_RUNS           1000u
#define MAX_SAMPLES        50000000u

struct bench_opts {
    bool is_quick, is_json, do_pin;
    uint32_t runs;          /* 0 until set: then a default */
    uint64_t count;         /* envelopes per throughput run */
    uint64_t samples;       /* round trips per latency run */
    uint32_t ring_bytes;
};

/* Figures go through here, as an aligned table or as one JSON object. */
struct report {
    bool is_json;
    bool is_in_results;     /* JSON: the setup object is closed */
    bool is_first;          /* JSON: no comma before the next member */
};

struct workload {
    const char *name;
    const char *summary;
    int (*run)(const struct bench_opts *o, struct report *rep);
};

static volatile sig_atomic_t g_stop_sig;

static void on_stop_signal(int sig)
{
    g_stop_sig = sig;
}

static int sys_fail(const char *what)
{
    int rc = -errno;

    fprintf(stderr, "airsrt-bench: %s: %s\n", what, strerror(errno));
    return rc;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: airsrt-bench WORKLOAD [options]\n"
            "workloads:\n"
            "  ring            shared-memory data rings between two processes\n"
            "options:\n"
            "  --quick         fewer runs and messages (a few seconds)\n"
            "  --runs N        runs per figure, reported as median, min, max "
            "(default %u)\n"
            "  --count N       envelopes per throughput run (default %u)\n"
            "  --samples N     round trips per latency run (default %u)\n"
            "  --ring-bytes N  bytes per data ring, a power of two "
            "(default %u)\n"
            "  --no-pin        do not pin the two processes to two CPUs\n"
            "  --json          print one JSON object instead of a table\n"
            "  -h, --help      print this and exit\n"
            "N takes a suffix k, M, G (10^3, 10^6, 10^9) or Ki, Mi, Gi "
            "(2^10, 2^20, 2^30).\n",
            DEFAULT_RUNS, DEFAULT_COUNT, DEFAULT_SAMPLES, DEFAULT_RING_BYTES);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

static int parse_option(int c, const char *arg, struct bench_opts *o)
{
    uint64_t v;
    int rc = 0;

    switch (c) {
    case 'q':
        o->is_quick = true;
        break;
    case 'r':
        rc = parse_num("--runs", arg, 1, MAX_RUNS, &v);
        o->runs = (uint32_t)v;
        break;
    case 'n':
        rc = parse_num("--count", arg, 1, UINT64_MAX / 2, &o->count);
        break;
    case 's':
        rc = parse_num("--samples", arg, 1, MAX_SAMPLES, &o->samples);
        break;
    case 'b':
        rc = parse_ring_bytes(arg, o);
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

static void apply_defaults(struct bench_opts *o)
{
    if (o->runs == 0)
        o->runs = o->is_quick ? QUICK_RUNS : DEFAULT_RUNS;
    if (o->count == 0)
        o->count = o->is_quick ? QUICK_COUNT : DEFAULT_COUNT;
    if (o->samples == 0)
        o->samples = o->is_quick ? QUICK_SAMPLES : DEFAULT_SAMPLES;
    if (o->ring_bytes == 0)
        o->ring_bytes = DEFAULT_RING_BYTES;
}

/* Returns 0, 1 for --help, or -EINVAL (already explained). argv[0] is
 * the workload, so getopt starts right after it. */
static int parse_options(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longs[] = {
        { "quick", no_argument, NULL, 'q' },
        { "runs", required_argument, NULL, 'r' },
        { "count", required_argument, NULL, 'n' },
        { "samples", required_argument, NULL, 's' },
        { "ring-bytes", required_argument, NULL, 'b' },
        { "no-pin", no_argument, NULL, 'P' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc = 0;

    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (c == 'h')
            return 1;
        if (c == '?')
            return usage_error("unknown option \"%s\"", argv[optind - 1]);
        if (c == ':')
            return usage_error("option \"%s\" needs a value",
                               argv[optind - 1]);
        rc = parse_option(c, optarg, o);
    }
    if (rc == 0 && optind < argc)
        rc = usage_error("unexpected argument \"%s\"", argv[optind]);
    if (rc == 0)
        apply_defaults(o);
    return rc;
}

/* ---- report: a table, or one JSON object ---- */

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

/* One line of setup: "key  value" or a JSON member of "setup". */
static void report_setup(struct report *rep, const char *key,
                         const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report_setup(struct report *rep, const char *key,
                         const char *fmt, ...)
{
    char val[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (!rep->is_json) {
        printf("%-10s %s\n", key, val);
        return;
    }
    printf("%s\n    ", rep->is_first ? "" : ",");
    json_string(key);
    printf(": ");
    json_string(val);
    rep->is_first = false;
}

static void report_begin(struct report *rep, const struct workload *w)
{
    rep->is_first = true;
    rep->is_in_results = false;
    if (rep->is_json) {
        printf("{\n  \"workload\": ");
        json_string(w->name);
        printf(",\n  \"setup\": {");
        return;
    }
    printf("airsrt-bench %s: %s\n", w->name, w->summary);
}

/* Starts a group of figures: a titled table in text, nothing in JSON. */
static void report_section(struct report *rep, const char *title)
{
    if (!rep->is_json) {
        printf("\n%-48s %10s %10s %10s\n", title, "median", "min", "max");
        return;
    }
    if (!rep->is_in_results) {
        printf("\n  },\n  \"results\": [");
        rep->is_in_results = true;
        rep->is_first = true;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median, min and max of the runs' values; sorts v. */
static void summarize(double *v, uint32_t n, double out[3])
{
    qsort(v, n, sizeof(*v), cmp_double);
    out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[1] = v[0];
    out[2] = v[n - 1];
}

static void report_row_json(struct report *rep, const char *key,
                            const char *unit, const double *v, uint32_t n,
                            const double s[3])
{
    printf("%s\n    {\"name\": ", rep->is_first ? "" : ",");
    json_string(key);
    printf(", \"unit\": ");
    json_string(unit);
    printf(", \"median\": %.6g, \"min\": %.6g, \"max\": %.6g, \"runs\": [",
           s[0], s[1], s[2]);
    for (uint32_t i = 0; i < n; i++)
        printf("%s%.6g", i ? ", " : "", v[i]);
    printf("]}");
    rep->is_first = false;
}

/* One figure over n runs (v is reordered). */
static void report_row(struct report *rep, const char *key, const char *label,
                       const char *unit, int decimals, double *v, uint32_t n)
{
    double raw[MAX_RUNS], s[3];

    memcpy(raw, v, n * sizeof(*v));
    summarize(v, n, s);
    if (rep->is_json)
        report_row_json(rep, key, unit, raw, n, s);
    else
        printf("  %-46s %10.*f %10.*f %10.*f\n", label, decimals, s[0],
               decimals, s[1], decimals, s[2]);
    fflush(stdout);
}

static void report_end(struct report *rep)
{
    if (!rep->is_json)
        return;
    if (!rep->is_in_results)
        printf("\n  },\n  \"results\": [");
    printf("\n  ]\n}\n");
}

/* ---- the machine ---- */

static void cpu_model(char *buf, size_t len)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");

    snprintf(buf, len, "unknown");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');

        if (strncmp(line, "model name", 10) != 0 || colon == NULL)
            continue;
        colon += strspn(colon + 1, " \t") + 1;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, len, "%s", colon);
        break;
    }
    fclose(f);
}

/* The clock behind CLOCK_MONOTONIC: a slow one inflates latencies. */
static void clock_source(char *buf, size_t len)
{
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
                    "current_clocksource", "r");

    snprintf(buf, len, "unknown");
    if (f == NULL)
        return;
    if (fgets(buf, (int)len, f) != NULL)
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

#if defined(__clang__) || !defined(__GNUC__)
#define COMPILER __VERSION__
#else
#define COMPILER "gcc " __VERSION__
#endif

static void report_machine(struct report *rep)
{
    char model[256], clk[64];
    struct utsname u;

    cpu_model(model, sizeof(model));
    clock_source(clk, sizeof(clk));
    report_setup(rep, "cpu", "%s", model);
    report_setup(rep, "cpus", "%ld online",
                 sysconf(_SC_NPROCESSORS_ONLN));
    if (uname(&u) == 0)
        report_setup(rep, "kernel", "%s %s %s", u.sysname, u.release,
                     u.machine);
    report_setup(rep, "compiler", "%s", COMPILER);
    report_setup(rep, "clock", "CLOCK_MONOTONIC, clocksource %s", clk);
}

/* ---- children ---- */

enum child_msg_kind {
    MSG_READY = 1,      /* attached: the parent may start the clock */
    MSG_DONE,           /* finished; t_end_ns says when */
    MSG_FAIL,           /* text says what went wrong */
};

/* Under PIPE_BUF, so each write is atomic. */
struct child_msg {
    uint32_t kind;
    uint32_t reserved;
    uint64_t t_end_ns;
    char text[240];
};

struct bench_child {
    const char *role;   /* "consumer", "echo": for messages */
    pid_t pid;          /* -1: none */
    int fd;             /* read end of its message pipe */
    bool is_reaped;
    int status;
};

typedef int (*child_fn)(void *arg, int fd);

static int child_send(int fd, uint32_t kind, uint64_t t_end_ns,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int child_send(int fd, uint32_t kind, uint64_t t_end_ns,
                      const char *fmt, ...)
{
    struct child_msg m = { .kind = kind, .t_end_ns = t_end_ns };
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m.text, sizeof(m.text), fmt, ap);
    va_end(ap);
    if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
        return EXIT_SYSTEM;
    return kind == MSG_FAIL ? EXIT_SYSTEM : 0;
}

static int pin_self(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

static void stop_signals_default(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

/* In the child, right after fork(); never returns. */
static void __attribute__((noreturn))
child_enter(pid_t parent, int cpu, const sigset_t *mask, child_fn fn,
            void *arg, int fd)
{
    int rc;

    /* Signals are blocked here: a Ctrl-C meant for the tool stays
     * pending until the default action can take it and kill us. */
    stop_signals_default();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(EXIT_SYSTEM);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (cpu >= 0 && (rc = pin_self(cpu)) < 0)
        _exit(child_send(fd, MSG_FAIL, 0, "cannot pin to CPU %d: %s", cpu,
                         strerror(-rc)));
    _exit(fn(arg, fd));
}

static int child_spawn(struct bench_child *c, int cpu, child_fn fn, void *arg)
{
    sigset_t stops, old;
    pid_t parent = getpid();
    int p[2], err;

    if (pipe2(p, O_CLOEXEC) < 0)
        return sys_fail("pipe");
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    /* A child must not inherit unwritten output that it could print a
     * second time. */
    fflush(NULL);
    sigprocmask(SIG_BLOCK, &stops, &old);
    c->pid = fork();
    if (c->pid == 0) {
        close(p[0]);
        child_enter(parent, cpu, &old, fn, arg, p[1]);
    }
    err = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    if (c->pid < 0) {
        close(p[0]);
        errno = err;
        return sys_fail("fork");
    }
    c->fd = p[0];
    c->is_reaped = false;
    return 0;
}

static void child_describe_status(const struct bench_child *c)
{
    if (WIFSIGNALED(c->status))
        fprintf(stderr, "airsrt-bench: %s (pid %d) was killed by signal %d\n",
                c->role, (int)c->pid, WTERMSIG(c->status));
    else
        fprintf(stderr, "airsrt-bench: %s (pid %d) exited with status %d\n",
                c->role, (int)c->pid, WEXITSTATUS(c->status));
}

/* Waits for the child, killing it first if asked or if we are stopping.
 * Safe to call twice. */
static void child_wait(struct bench_child *c, bool do_kill)
{
    if (c->pid <= 0 || c->is_reaped)
        return;
    if (do_kill || g_stop_sig)
        kill(c->pid, SIGKILL);
    while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
        kill(c->pid, SIGKILL);
    c->is_reaped = true;
}

/* Waits for the child as above and closes its pipe. */
static void child_reap(struct bench_child *c, bool do_kill)
{
    child_wait(c, do_kill);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Reads one message. 1: got it; 0: the child closed its end (it died);
 * -EINTR: we are stopping. */
static int child_read(struct bench_child *c, struct child_msg *m)
{
    ssize_t n;

    for (;;) {
        n = read(c->fd, m, sizeof(*m));
        if (n == (ssize_t)sizeof(*m))
            return 1;
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return sys_fail("read from child");
        if (g_stop_sig)
            return -EINTR;
    }
}

/* The child stopped early, or said something it should not have: says
 * why, from its last word or its exit status. */
static int child_failed(struct bench_child *c)
{
    struct child_msg m;

    /* Dead now, so the read cannot block: the pipe holds at most a last
     * message, then end of file. */
    child_wait(c, true);
    if (child_read(c, &m) == 1 && m.kind == MSG_FAIL) {
        fprintf(stderr, "airsrt-bench: %s: %s\n", c->role, m.text);
        return -EIO;
    }
    child_describe_status(c);
    return -ECHILD;
}

/* Waits for a message of this kind; anything else is a failure. */
static int child_expect(struct bench_child *c, uint32_t kind,
                        struct child_msg *m)
{
    int rc = child_read(c, m);

    if (rc < 0)
        return rc;
    if (rc == 1 && m->kind == kind)
        return 0;
    if (rc == 1 && m->kind == MSG_FAIL) {
        fprintf(stderr, "airsrt-bench: %s: %s\n", c->role, m->text);
        child_wait(c, true);
        return -EIO;
    }
    return child_failed(c);
}

/* For idle loops in the parent: -EINTR if we are stopping, -ECHILD or
 * -EIO (explained) if the child is gone, else 0. */
static int child_check(struct bench_child *c)
{
    if (g_stop_sig)
        return -EINTR;
    if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
        c->is_reaped = true;
        return child_failed(c);
    }
    return 0;
}

/* ---- segment and envelopes ---- */

static int seg_create(struct airsrt_shm *shm, uint32_t ring_bytes)
{
    struct airsrt_shm_params p = {
        .nworkers = 2,
        .ring_bytes = ring_bytes,
        .ctl_ring_bytes = AIRSRT_RING_MIN_CAPACITY,
        .payload_max = PAYLOAD_MAX,
    };
    char name[32];
    int rc;

    snprintf(name, sizeof(name), "bench-%ld", (long)getpid());
    rc = airsrt_shm_create(shm, name, &p);
    if (rc < 0)
        fprintf(stderr, "airsrt-bench: cannot create segment: %s\n",
                shm->err);
    return rc;
}

static void seg_destroy(struct airsrt_shm *shm)
{
    char path[sizeof(shm->path)];
    int rc;

    memcpy(path, shm->path, sizeof(path));
    rc = airsrt_shm_destroy(shm);
    if (rc < 0)
        fprintf(stderr, "airsrt-bench: cannot remove segment %s: %s\n", path,
                strerror(-rc));
}

/* An envelope built in local memory, then copied into rings. */
struct bench_env {
    alignas(8) unsigned char bytes[ENV_SIZE];
};

static struct airsrt_envelope *env_of(struct bench_env *b)
{
    return (struct airsrt_envelope *)b->bytes;
}

static void env_set_seq(struct airsrt_envelope *e, uint64_t seq)
{
    uint64_t last = seq ^ SEQ_MIX;

    memcpy(e->payload, &seq, sizeof(seq));
    memcpy(e->payload + PAYLOAD_LEN - sizeof(last), &last, sizeof(last));
}

static void env_template(struct bench_env *b)
{
    struct airsrt_envelope *e = env_of(b);

    airsrt_envelope_init(e, MSG_TYPE_DATA, PAYLOAD_LEN);
    memset(e->payload, 0xA5, PAYLOAD_LEN);
    env_set_seq(e, 0);
}

/* 0 if v is the whole envelope number seq, else -EBADMSG with why. */
static int env_check(const struct airsrt_ring_view *v, uint64_t seq,
                     char *why, size_t len)
{
    uint64_t first, last;

    if (v->payload_len != PAYLOAD_LEN || v->env->type != MSG_TYPE_DATA) {
        snprintf(why, len, "envelope %" PRIu64 " has type %#x and %u payload "
                 "bytes, expected %#x and %u", seq, v->env->type,
                 v->payload_len, MSG_TYPE_DATA, PAYLOAD_LEN);
        return -EBADMSG;
    }
    memcpy(&first, v->env->payload, sizeof(first));
    memcpy(&last, v->env->payload + PAYLOAD_LEN - sizeof(last), sizeof(last));
    if (first == seq && last == (seq ^ SEQ_MIX))
        return 0;
    snprintf(why, len, "expected envelope %" PRIu64 ", got sequence %" PRIu64
             " (last word %#" PRIx64 ", expected %#" PRIx64 ")", seq, first,
             last, seq ^ SEQ_MIX);
    return -EBADMSG;
}

static bool ring_has_data_cb(void *ring)
{
    return airsrt_ring_has_data(ring);
}

/* ---- ring workload: where the two processes run ---- */

struct ring_cpus {
    int parent, child;  /* -1: not pinned */
};

/* Pins this process to the first allowed CPU and picks the second for
 * the child, so that producer and consumer never share a CPU. */
static void ring_pick_cpus(const struct bench_opts *o, struct ring_cpus *cpus,
                           char *why, size_t len)
{
    cpu_set_t set;
    int found[2], n = 0, rc;

    cpus->parent = cpus->child = -1;
    snprintf(why, len, "not pinned (--no-pin)");
    if (!o->do_pin)
        return;
    if (sched_getaffinity(0, sizeof(set), &set) < 0) {
        snprintf(why, len, "not pinned (sched_getaffinity: %s)",
                 strerror(errno));
        return;
    }
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
        if (CPU_ISSET(cpu, &set))
            found[n++] = cpu;
    if (n < 2) {
        snprintf(why, len, "not pinned (only one CPU allowed)");
        return;
    }
    rc = pin_self(found[0]);
    if (rc < 0) {
        snprintf(why, len, "not pinned (sched_setaffinity: %s)",
                 strerror(-rc));
        return;
    }
    cpus->parent = found[0];
    cpus->child = found[1];
    snprintf(why, len, "sender on CPU %d, receiver on CPU %d "
             "(sched_setaffinity)", cpus->parent, cpus->child);
}

/* ---- ring workload: one-way throughput ---- */

struct tput_ctx {
    struct airsrt_shm *shm;
    uint64_t count;
    uint32_t batch;             /* envelopes per publication; 1 = push */
    uint64_t publications;      /* producer: how many it made */
};

/* Child: reads count envelopes from ring 0 -> 1 in batches, checks each,
 * releases per batch, and reports when the last one was released. */
static int tput_consume(void *arg, int fd)
{
    struct tput_ctx *t = arg;
    struct airsrt_ring_view v[READ_BATCH];
    struct airsrt_ring in;
    uint64_t seq = 0;
    char why[200];
    ssize_t n;

    if (airsrt_shm_data_ring(t->shm, 0, 1, &in) < 0)
        return child_send(fd, MSG_FAIL, 0, "cannot bind ring 0 -> 1");
    airsrt_ring_consumer_attach(&in);
    child_send(fd, MSG_READY, 0, "ready");
    while (seq < t->count) {
        n = airsrt_ring_read(&in, v, READ_BATCH);
        if (n == 0) {
            airsrt__cpu_relax();
            continue;
        }
        if (n < 0)
            return child_send(fd, MSG_FAIL, 0, "ring read at envelope %"
                              PRIu64 ": %s", seq, strerror((int)-n));
        for (ssize_t i = 0; i < n; i++, seq++)
            if (env_check(&v[i], seq, why, sizeof(why)) < 0)
                return child_send(fd, MSG_FAIL, 0, "%s", why);
        airsrt_ring_release_all(&in);
    }
    return child_send(fd, MSG_DONE, airsrt_now_ns(), "done");
}

/* The ring is full: spin, and now and then look at the world. */
static int wait_room(struct bench_child *c, uint64_t *spins)
{
    airsrt__cpu_relax();
    if ((++*spins & CHECK_MASK) == 0)
        return child_check(c);
    return 0;
}

/* One envelope per publication, as airsrt_ring_push() does it. */
static int tput_push(struct tput_ctx *t, struct airsrt_ring *out,
                     struct bench_child *c)
{
    struct bench_env b;
    uint64_t spins = 0;
    int rc = 0;

    env_template(&b);
    for (uint64_t seq = 0; seq < t->count && rc == 0; seq++) {
        env_set_seq(env_of(&b), seq);
        while ((rc = airsrt_ring_push(out, env_of(&b))) == -EAGAIN) {
            rc = wait_room(c, &spins);
            if (rc < 0)
                return rc;
        }
    }
    t->publications = t->count;
    if (rc < 0)
        fprintf(stderr, "airsrt-bench: ring push: %s\n", strerror(-rc));
    return rc;
}

/* Builds envelopes in place (reserve, commit) and publishes every
 * t->batch of them; a full ring publishes what it holds first, as
 * airsrt_ring_push_timeout() does, since the consumer cannot make room
 * with records it cannot see. */
static int tput_batch(struct tput_ctx *t, struct airsrt_ring *out,
                      struct bench_child *c)
{
    struct airsrt_envelope *dst;
    struct bench_env b;
    uint64_t seq = 0, spins = 0;
    uint32_t pending = 0;
    int rc;

    env_template(&b);
    t->publications = 0;
    while (seq < t->count) {
        rc = airsrt_ring_reserve(out, PAYLOAD_LEN, &dst);
        if (rc == -EAGAIN) {
            t->publications += airsrt_ring_publish(out);
            pending = 0;
            rc = wait_room(c, &spins);
            if (rc < 0)
                return rc;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "airsrt-bench: ring reserve: %s\n", strerror(-rc));
            return rc;
        }
        memcpy(dst, b.bytes, ENV_SIZE);
        env_set_seq(dst, seq++);
        airsrt_ring_commit(out);
        if (++pending == t->batch) {
            t->publications += airsrt_ring_publish(out);
            pending = 0;
        }
    }
    t->publications += airsrt_ring_publish(out);
    return 0;
}

static void tput_bind(struct airsrt_shm *shm, struct airsrt_ring *out)
{
    airsrt_shm_data_ring(shm, 0, 1, out);
    airsrt_ring_producer_attach(out);
}

/*
 * One run in a fresh segment. The clock starts when the consumer is
 * attached and stops when it has released the last envelope, so the
 * figure covers every envelope end to end, the first page faults of the
 * ring included.
 */
static int tput_run_once(const struct bench_opts *o,
                         const struct ring_cpus *cpus, struct tput_ctx *t,
                         double *rate)
{
    struct bench_child c = { .role = "consumer", .pid = -1, .fd = -1 };
    struct airsrt_shm shm;
    struct airsrt_ring out;
    struct child_msg m;
    uint64_t t0 = 0;
    int rc;

    if (g_stop_sig)
        return -EINTR;
    rc = seg_create(&shm, o->ring_bytes);
    if (rc < 0)
        return rc;
    t->shm = &shm;
    tput_bind(&shm, &out);
    rc = child_spawn(&c, cpus->child, tput_consume, t);
    if (rc == 0)
        rc = child_expect(&c, MSG_READY, &m);
    if (rc == 0) {
        t0 = airsrt_now_ns();
        rc = t->batch == 1 ? tput_push(t, &out, &c) : tput_batch(t, &out, &c);
    }
    if (rc == 0)
        rc = child_expect(&c, MSG_DONE, &m);
    child_reap(&c, rc != 0);
    seg_destroy(&shm);
    if (rc == 0)
        *rate = (double)t->count * 1e3 / (double)(m.t_end_ns - t0);
    return rc;
}

/* o->runs runs of one throughput mode, then one row. */
static int tput_figure(const struct bench_opts *o, struct report *rep,
                       const struct ring_cpus *cpus, uint32_t batch)
{
    struct tput_ctx t = { .count = o->count, .batch = batch };
    double rates[MAX_RUNS], pubs = 0;
    char key[32], label[64];
    int rc;

    for (uint32_t i = 0; i < o->runs; i++) {
        rc = tput_run_once(o, cpus, &t, &rates[i]);
        if (rc < 0)
            return rc;
        pubs += (double)t.publications;
    }
    if (batch == 1) {
        snprintf(key, sizeof(key), "throughput.push");
        snprintf(label, sizeof(label), "push, 1 envelope per publication");
    } else {
        snprintf(key, sizeof(key), "throughput.batch%u", batch);
        snprintf(label, sizeof(label), "reserve/commit, publish per %u "
                 "(mean %.1f)", batch, (double)o->count * o->runs / pubs);
    }
    report_row(rep, key, label, "M envelopes/s", 2, rates, o->runs);
    return 0;
}

static int tput_all(const struct bench_opts *o, struct report *rep,
                    const struct ring_cpus *cpus)
{
    static const uint32_t batches[] = { 1, 64, 256 };
    int rc = 0;

    report_section(rep, "one-way throughput, M envelopes/s");
    for (size_t i = 0; rc == 0 && i < sizeof(batches) / sizeof(batches[0]); i++)
        rc = tput_figure(o, rep, cpus, batches[i]);
    return rc;
}

/* ---- ring workload: round-trip latency ---- */

/* One side of a ping-pong: worker self reads ring peer -> self and
 * writes ring self -> peer. */
struct pp_side {
    struct airsrt_ring in, out;
    struct airsrt_doorbell *self, *peer;
    bool is_asleep;
    struct bench_env b;
};

struct lat_ctx {
    struct airsrt_shm *shm;
    uint64_t rounds;            /* warm-up included */
    bool is_asleep;
};

static void pp_side_init(struct pp_side *s, struct airsrt_shm *shm,
                         uint32_t self, bool is_asleep)
{
    uint32_t peer = 1 - self;

    airsrt_shm_data_ring(shm, peer, self, &s->in);
    airsrt_shm_data_ring(shm, self, peer, &s->out);
    airsrt_ring_consumer_attach(&s->in);
    airsrt_ring_producer_attach(&s->out);
    s->self = airsrt_shm_doorbell(shm, self);
    s->peer = airsrt_shm_doorbell(shm, peer);
    airsrt_doorbell_reset(s->self);
    s->is_asleep = is_asleep;
    env_template(&s->b);
}

static int pp_send(struct pp_side *s, uint64_t seq, char *why, size_t len)
{
    int rc;

    env_set_seq(env_of(&s->b), seq);
    rc = airsrt_ring_push(&s->out, env_of(&s->b));
    if (rc < 0) {
        /* One envelope in flight cannot fill a ring. */
        snprintf(why, len, "ring push of envelope %" PRIu64 ": %s", seq,
                 strerror(-rc));
        return rc;
    }
    if (s->is_asleep)
        airsrt_doorbell_ring(s->peer);
    return 0;
}

/*
 * Nothing to read yet. Awake, spin; asleep, sleep on our doorbell with no
 * spinning first. The parent (c != NULL) looks at the stop flag and the
 * child now and then: asleep, only when a wake-up brought nothing, so the
 * normal path adds no system call to the round trip.
 */
static int pp_idle(struct pp_side *s, struct bench_child *c, uint64_t *idle,
                   char *why, size_t len)
{
    int rc;

    if (!s->is_asleep) {
        airsrt__cpu_relax();
        return c != NULL && (++*idle & CHECK_MASK) == 0 ? child_check(c) : 0;
    }
    if (c != NULL && ++*idle > 1 && (rc = child_check(c)) < 0)
        return rc;
    rc = airsrt_doorbell_wait(s->self, ring_has_data_cb, &s->in, 0,
                              c != NULL ? WAIT_SLICE_NS : -1);
    if (rc < 0)
        snprintf(why, len, "doorbell wait: %s", strerror(-rc));
    return rc < 0 ? rc : 0;
}

/* Waits for envelope number seq, checks it and releases it. */
static int pp_recv(struct pp_side *s, uint64_t seq, struct bench_child *c,
                   char *why, size_t len)
{
    struct airsrt_ring_view v;
    uint64_t idle = 0;
    ssize_t n;
    int rc;

    while ((n = airsrt_ring_read(&s->in, &v, 1)) == 0) {
        rc = pp_idle(s, c, &idle, why, len);
        if (rc < 0)
            return rc;
    }
    if (n < 0) {
        snprintf(why, len, "ring read of envelope %" PRIu64 ": %s", seq,
                 strerror((int)-n));
        return (int)n;
    }
    rc = env_check(&v, seq, why, len);
    airsrt_ring_release_all(&s->in);
    return rc;
}

/* Child: sends back every envelope it gets, as worker 1. */
static int pp_echo(void *arg, int fd)
{
    struct lat_ctx *l = arg;
    struct pp_side s;
    char why[200] = "";
    int rc = 0;

    pp_side_init(&s, l->shm, 1, l->is_asleep);
    child_send(fd, MSG_READY, 0, "ready");
    for (uint64_t i = 0; i < l->rounds && rc == 0; i++) {
        rc = pp_recv(&s, i, NULL, why, sizeof(why));
        if (rc == 0)
            rc = pp_send(&s, i, why, sizeof(why));
    }
    if (rc < 0)
        return child_send(fd, MSG_FAIL, 0, "%s", why);
    return child_send(fd, MSG_DONE, airsrt_now_ns(), "done");
}

/* Parent, as worker 0: one clock read per round trip, each sample the
 * time since the previous one ended. */
static int pp_ping(struct pp_side *s, uint64_t rounds, uint64_t *samples,
                   struct bench_child *c)
{
    char why[200] = "";
    uint64_t prev = airsrt_now_ns(), t;
    int rc = 0;

    for (uint64_t i = 0; i < rounds && rc == 0; i++) {
        rc = pp_send(s, i, why, sizeof(why));
        if (rc == 0)
            rc = pp_recv(s, i, c, why, sizeof(why));
        t = airsrt_now_ns();
        if (i >= LAT_WARMUP)
            samples[i - LAT_WARMUP] = t - prev;
        prev = t;
    }
    if (rc < 0 && why[0] != '\0')
        fprintf(stderr, "airsrt-bench: pinger: %s\n", why);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v; q in ten-thousandths. */
static double percentile(const uint64_t *v, uint64_t n, uint64_t q)
{
    uint64_t rank = (n * q + 9999) / 10000;

    return (double)v[rank > 0 ? rank - 1 : 0];
}

struct lat_result {
    double p50, p99, p999;
    double wakes;               /* doorbell wakes per round trip */
};

static void lat_summarize(uint64_t *samples, uint64_t n,
                          const struct airsrt_shm *shm, uint64_t rounds,
                          struct lat_result *r)
{
    uint64_t wakes = airsrt_shm_doorbell(shm, 0)->wakes +
                     airsrt_shm_doorbell(shm, 1)->wakes;

    qsort(samples, n, sizeof(*samples), cmp_u64);
    r->p50 = percentile(samples, n, 5000);
    r->p99 = percentile(samples, n, 9900);
    r->p999 = percentile(samples, n, 9990);
    r->wakes = (double)wakes / (double)rounds;
}

/* One latency run in a fresh segment. */
static int lat_run_once(const struct bench_opts *o,
                        const struct ring_cpus *cpus, bool is_asleep,
                        uint64_t *samples, struct lat_result *r)
{
    struct bench_child c = { .role = "echo", .pid = -1, .fd = -1 };
    struct lat_ctx l = { .rounds = LAT_WARMUP + o->samples,
                         .is_asleep = is_asleep };
    struct airsrt_shm shm;
    struct pp_side s;
    struct child_msg m;
    int rc;

    if (g_stop_sig)
        return -EINTR;
    rc = seg_create(&shm, o->ring_bytes);
    if (rc < 0)
        return rc;
    l.shm = &shm;
    pp_side_init(&s, &shm, 0, is_asleep);
    rc = child_spawn(&c, cpus->child, pp_echo, &l);
    if (rc == 0)
        rc = child_expect(&c, MSG_READY, &m);
    if (rc == 0)
        rc = pp_ping(&s, l.rounds, samples, &c);
    if (rc == 0)
        rc = child_expect(&c, MSG_DONE, &m);
    child_reap(&c, rc != 0);
    if (rc == 0)
        lat_summarize(samples, o->samples, &shm, l.rounds, r);
    seg_destroy(&shm);
    return rc;
}

static int lat_figure(const struct bench_opts *o, struct report *rep,
                      const struct ring_cpus *cpus, bool is_asleep,
                      uint64_t *samples)
{
    const char *mode = is_asleep ? "asleep" : "awake";
    double p50[MAX_RUNS], p99[MAX_RUNS], p999[MAX_RUNS], wakes[MAX_RUNS];
    struct lat_result r = { 0 };
    char key[48], label[64];
    int rc;

    for (uint32_t i = 0; i < o->runs; i++) {
        rc = lat_run_once(o, cpus, is_asleep, samples, &r);
        if (rc < 0)
            return rc;
        p50[i] = r.p50;
        p99[i] = r.p99;
        p999[i] = r.p999;
        wakes[i] = r.wakes;
    }
    snprintf(key, sizeof(key), "latency.%s.p50", mode);
    snprintf(label, sizeof(label), "%s: p50", is_asleep ?
             "asleep (doorbell, spin 0)" : "awake (both spin)");
    report_row(rep, key, label, "ns", 0, p50, o->runs);
    snprintf(key, sizeof(key), "latency.%s.p99", mode);
    snprintf(label, sizeof(label), "%s: p99", mode);
    report_row(rep, key, label, "ns", 0, p99, o->runs);
    snprintf(key, sizeof(key), "latency.%s.p99.9", mode);
    snprintf(label, sizeof(label), "%s: p99.9", mode);
    report_row(rep, key, label, "ns", 0, p999, o->runs);
    snprintf(key, sizeof(key), "latency.%s.wakes", mode);
    snprintf(label, sizeof(label), "%s: futex wakes per round trip", mode);
    report_row(rep, key, label, "wakes", 2, wakes, o->runs);
    return 0;
}

static int lat_all(const struct bench_opts *o, struct report *rep,
                   const struct ring_cpus *cpus)
{
    uint64_t *samples = malloc(o->samples * sizeof(*samples));
    int rc;

    if (samples == NULL)
        return sys_fail("cannot allocate latency samples");
    report_section(rep, "round trip over two rings, ns");
    rc = lat_figure(o, rep, cpus, false, samples);
    if (rc == 0)
        rc = lat_figure(o, rep, cpus, true, samples);
    free(samples);
    return rc;
}

/* ---- workloads ---- */

static int ring_workload(const struct bench_opts *o, struct report *rep)
{
    struct ring_cpus cpus;
    char pin[160];
    int rc;

    ring_pick_cpus(o, &cpus, pin, sizeof(pin));
    report_setup(rep, "ring", "%u bytes per data ring (%u KiB); envelope "
                 "of %u-byte payload, %" PRIu64 "-byte record", o->ring_bytes,
                 o->ring_bytes >> 10, PAYLOAD_LEN,
                 airsrt_ring_record_size(PAYLOAD_LEN));
    report_setup(rep, "pinning", "%s", pin);
    report_setup(rep, "runs", "%u per figure, fresh segment each; median, "
                 "min and max across runs", o->runs);
    report_setup(rep, "count", "%" PRIu64 " envelopes per throughput run",
                 o->count);
    report_setup(rep, "samples", "%" PRIu64 " round trips per latency run, "
                 "after %u warm-up", o->samples, LAT_WARMUP);
    fflush(stdout);
    rc = tput_all(o, rep, &cpus);
    if (rc == 0)
        rc = lat_all(o, rep, &cpus);
    return rc;
}

static const struct workload workloads[] = {
    { "ring", "shared-memory data rings between two processes",
      ring_workload },
};

static const struct workload *workload_find(const char *name)
{
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}

/* No SA_RESTART: a blocking read or futex wait returns EINTR, and the
 * loop around it sees the flag. */
static int install_stop_handlers(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return sys_fail("sigaction");
    return 0;
}

/* Everything is cleaned up by now: die of the signal we were sent, so
 * that a calling shell or script sees the interruption for what it is. */
static void die_of_stop_signal(void)
{
    int sig = g_stop_sig;

    fflush(stdout);
    fprintf(stderr, "airsrt-bench: interrupted by signal %d, cleaned up\n",
            sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Returns the workload to run, or NULL after explaining (rc = exit). */
static const struct workload *parse_command(int argc, char **argv,
                                            struct bench_opts *o, int *rc)
{
    const struct workload *w;
    int prc;

    *rc = EXIT_USAGE;
    if (argc < 2) {
        usage_error("missing WORKLOAD");
        return NULL;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        *rc = 0;
        return NULL;
    }
    if (argv[1][0] == '-') {
        usage_error("the WORKLOAD comes first, before \"%s\"", argv[1]);
        return NULL;
    }
    w = workload_find(argv[1]);
    if (w == NULL) {
        usage_error("unknown workload \"%s\"", argv[1]);
        return NULL;
    }
    prc = parse_options(argc - 1, argv + 1, o);
    if (prc == 1) {
        usage(stdout);
        *rc = 0;
    }
    return prc == 0 ? w : NULL;
}

int main(int argc, char **argv)
{
    struct bench_opts o = { .do_pin = true };
    struct report rep = { 0 };
    const struct workload *w;
    int rc;

    w = parse_command(argc, argv, &o, &rc);
    if (w == NULL)
        return rc;
    if (install_stop_handlers() < 0)
        return EXIT_SYSTEM;
    rep.is_json = o.is_json;
    report_begin(&rep, w);
    report_machine(&rep);
    rc = w->run(&o, &rep);
    if (rc == 0) {
        report_end(&rep);
        return 0;
    }
    if (g_stop_sig)
        die_of_stop_signal();
    return EXIT_SYSTEM;
}
