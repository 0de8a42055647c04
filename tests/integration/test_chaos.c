/*
 * tests/integration/test_chaos.c - the sequenced-traffic system
 * (tests/bin/chaos_worker.c) under faults, through a real airsrt-run:
 * producers in two workers stream numbered envelopes by name to the
 * consumers of three others, while airsrt-inject(1) kills workers (also
 * inside the registry lock) and stalls them, or corrupts a ring. The ledger
 * (tests/lib/chaos_ledger.h) then proves, per stream, what the README's
 * crash rules promise: nothing that reached a surviving ring is lost,
 * duplicates stay within the batch read but not released, order holds;
 * the workers never hit kept serving; every kill was followed by a
 * restart; and nothing (segment, process, zombie, descriptor) is left.
 *
 * The faults come from `airsrt-inject chaos --json`, whose lines the test
 * reads (and copies to stderr); the figures go to stderr on a line
 * starting "chaos:".
 */
#include <assert.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/registry.h"
#include "shm/ring.h"
#include "tests/lib/chaos_check.h"
#include "tests/lib/integ_worker.h"
#include "tests/lib/program.h"
#include "tests/lib/run_harness.h"

TestSuite(chaos, .fini = rh_fini);
TestSuite(chaos_judge);

/* Worker indices: the consumers' group comes first in the config, so
 * their names exist before a producer sends. */
#define CONS_WORKERS 3u
#define PROD_WORKERS 2u
#define NWORKERS     (CONS_WORKERS + PROD_WORKERS)
#define PROD_INDEX(w) (CONS_WORKERS + (w))
#define FAULTS_MAX   256u

/* Each data ring carries 2 x 2 streams of at most window envelopes in
 * flight (24-byte payloads, under 128 bytes a record): 64 KiB at most,
 * an eighth of a default 1 MiB ring. So rings never fill (the ledger
 * needs no outbox) and a poll never publishes early; and a producer
 * worker ticks every 2 ms, a load the 2-core test machine carries
 * beside its other suites. */
static const struct chaos_params params = {
    .prod_workers = PROD_WORKERS, .prod_per_worker = 2,
    .cons_workers = CONS_WORKERS, .cons_per_worker = 2,
    .window = 128, .batch = 8, .tick_us = 2000,
};
static_assert(sizeof(struct airsrt_ring_rec) + AIRSRT_ENVELOPE_HDR_SIZE +
              sizeof(struct chaos_msg) <= 128, "see params");

static bool is_valgrind(void)
{
    return getenv("AIRSRT_UNDER_VALGRIND") != NULL;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    cr_assert_not_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Creates the ledger file at path for p (stop 0, counters 0), mapped. */
static struct chaos_ledger *chaos_ledger_create(const char *path,
                                                const struct chaos_params *p)
{
    struct chaos_ledger *L;
    int fd;

    cr_assert_leq(p->prod_workers * p->prod_per_worker, CHAOS_PRODUCERS_MAX);
    cr_assert_leq(p->cons_workers * p->cons_per_worker, CHAOS_CONSUMERS_MAX);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    /* Sparse: pages of counts nobody touches cost nothing. */
    cr_assert_eq(ftruncate(fd, (off_t)sizeof(*L)), 0);
    L = mmap(NULL, sizeof(*L), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    cr_assert_neq(L, MAP_FAILED);
    L->nproducers = p->prod_workers * p->prod_per_worker;
    L->nconsumers = p->cons_workers * p->cons_per_worker;
    L->prod_per_worker = p->prod_per_worker;
    L->cons_per_worker = p->cons_per_worker;
    L->window = p->window;
    L->batch = p->batch;
    L->tick_us = p->tick_us;
    L->magic = CHAOS_MAGIC;
    return L;
}

/* Writes the config (rh_write), the ledger beside it, then starts
 * airsrt-run on them (rh_launch). */
static struct chaos_ledger *start_system(void)
{
    char body[2048], ledger[512], bin[512];
    struct chaos_ledger *L;

    snprintf(bin, sizeof(bin), "%s", wh_build_path("tests/bin/chaos_worker"));
    snprintf(body, sizeof(body),
             "[supervisor top]\nmax_restarts = 10000\nmax_seconds = 1\n"
             "[worker cons]\nbinary = %s\ncount = %u\n"
             "env = %s={DIR}/ledger\n"
             "actor = cons@chaos.c{i}.0={i}.0\n"
             "actor = cons@chaos.c{i}.1={i}.1\n"
             "[worker prod]\nbinary = %s\ncount = %u\n"
             "env = %s={DIR}/ledger\n"
             "actor = prod={i}.0\nactor = prod={i}.1\n",
             bin, CONS_WORKERS, CHAOS_ENV_LEDGER,
             bin, PROD_WORKERS, CHAOS_ENV_LEDGER);
    rh_write("fault_injection = true", body);
    snprintf(ledger, sizeof(ledger), "%s/ledger", rh.dir);
    L = chaos_ledger_create(ledger, &params);
    rh_launch();
    return L;
}

/* ---- the judge, on ledgers written by hand ---- */

/* A ledger of 1 producer and 1 consumer in anonymous memory (sparse). */
static struct chaos_ledger *fake_ledger(void)
{
    struct chaos_ledger *L = mmap(NULL, sizeof(*L), PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                                  -1, 0);

    cr_assert_neq(L, MAP_FAILED);
    L->magic = CHAOS_MAGIC;
    L->nproducers = L->nconsumers = 1;
    L->prod_per_worker = L->cons_per_worker = 1;
    L->window = 64;
    return L;
}

/* The producer sent 1..n, all flushed. */
static void fake_sent(struct chaos_ledger *L, uint64_t n)
{
    atomic_store(&L->streams[0].pending, n);
    atomic_store(&L->streams[0].published, n);
}

/* The consumer handled from..to; is_first for the first of them. */
static void fake_handled(struct chaos_ledger *L, uint64_t from, uint64_t to,
                         bool is_first)
{
    for (uint64_t seq = from; seq <= to; seq++)
        chaos_record(L, 0, seq, is_first && seq == from);
}

static struct chaos_figures judged(struct chaos_ledger *L, bool is_corrupt)
{
    bool corrupt[CHAOS_STREAMS_MAX] = { is_corrupt };
    struct chaos_figures f;

    cr_assert_eq(chaos_judge(L, corrupt, &f), 0);
    chaos_ledger_unmap(L);
    return f;
}

Test(chaos_judge, passes_a_stream_handled_whole)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    fake_sent(L, 100);
    fake_handled(L, 1, 100, true);
    f = judged(L, false);
    cr_expect_eq(f.sent, 100);
    cr_expect_eq(f.received, 100);
    cr_expect_eq(f.lost + f.duplicated + f.order_violations, 0);
}

Test(chaos_judge, counts_a_gap_without_a_restart_as_lost)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    fake_sent(L, 100);
    fake_handled(L, 1, 40, true);
    fake_handled(L, 51, 100, false);
    f = judged(L, false);
    cr_expect_eq(f.lost, 10);
    cr_expect_eq(f.order_violations, 1);
    cr_expect_eq(f.mailbox, 0);
}

Test(chaos_judge, counts_a_gap_at_a_consumer_restart_as_mailbox)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    fake_sent(L, 100);
    fake_handled(L, 1, 40, true);
    fake_handled(L, 51, 100, true);
    f = judged(L, false);
    cr_expect_eq(f.lost, 0);
    cr_expect_eq(f.mailbox, 10);
    cr_expect_eq(f.max_mailbox, 10);
    cr_expect_eq(f.order_violations, 0);
}

Test(chaos_judge, accepts_a_batch_read_again_at_a_consumer_restart)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    fake_sent(L, 100);
    fake_handled(L, 1, 40, true);
    fake_handled(L, 31, 100, true);
    f = judged(L, false);
    cr_expect_eq(f.duplicated, 10);
    cr_expect_eq(f.dup_unexplained, 0);
    cr_expect_eq(f.max_redelivered, 10);
    cr_expect_eq(f.order_violations + f.lost, 0);
}

Test(chaos_judge, counts_a_step_back_without_a_restart)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    fake_sent(L, 100);
    fake_handled(L, 1, 40, true);
    fake_handled(L, 31, 100, false);
    f = judged(L, false);
    cr_expect_eq(f.dup_unexplained, 10);
    cr_expect_eq(f.order_violations, 1);
}

Test(chaos_judge, accepts_the_unflushed_tail_of_a_killed_producer)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    /* Sent 1..50, 41..50 not yet confirmed when the producer died; 41..45
     * were flushed, 46..50 not; its successor went on at 51. */
    chaos_log_resume(L, 0, 40, 50);
    fake_sent(L, 100);
    fake_handled(L, 1, 45, true);
    fake_handled(L, 51, 100, false);
    f = judged(L, false);
    cr_expect_eq(f.unflushed, 5);
    cr_expect_eq(f.sent, 95);
    cr_expect_eq(f.lost + f.order_violations, 0);
}

Test(chaos_judge, counts_a_hole_inside_an_uncertain_range)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    /* A poll is flushed whole or not: 46..50 handled after a hole at
     * 41..45 is no unflushed tail. */
    chaos_log_resume(L, 0, 40, 50);
    fake_sent(L, 100);
    fake_handled(L, 1, 40, true);
    fake_handled(L, 46, 100, false);
    f = judged(L, false);
    cr_expect_eq(f.order_violations, 1);
}

Test(chaos_judge, counts_losses_of_a_corrupted_ring_apart)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    fake_sent(L, 100);
    fake_handled(L, 1, 40, true);
    fake_handled(L, 51, 100, false);
    f = judged(L, true);
    cr_expect_eq(f.corrupt_lost, 10);
    cr_expect_eq(f.lost + f.order_violations, 0);
}

Test(chaos_judge, counts_a_torn_entry_and_refuses_a_bad_header)
{
    struct chaos_ledger *L = fake_ledger();
    struct chaos_figures f;

    atomic_store(&L->njumps, 1);        /* claimed, never completed */
    cr_assert_eq(chaos_judge(L, NULL, &f), 0);
    cr_expect_eq(f.torn, 1);
    L->nconsumers = CHAOS_CONSUMERS_MAX + 1;
    cr_expect_eq(chaos_judge(L, NULL, &f), -EINVAL);
    L->nconsumers = 0;
    cr_expect_eq(chaos_judge(L, NULL, &f), -EINVAL);
    chaos_ledger_unmap(L);
}

/* A worker maps the ledger and indexes and divides by its header:
 * chaos_ledger_map() takes only a sane one. */
Test(chaos_judge, map_refuses_a_header_a_worker_cannot_use)
{
    char path[64];
    struct chaos_ledger *L, *M;

    snprintf(path, sizeof(path), "/tmp/airsrt-chaos-map-%d", (int)getpid());
    unlink(path);
    L = chaos_ledger_create(path, &params);
    M = chaos_ledger_map(path);
    cr_assert_not_null(M, "the control: a sane header maps");
    chaos_ledger_unmap(M);
    L->cons_per_worker = 0;
    cr_expect_null(chaos_ledger_map(path), "no consumer per worker");
    L->cons_per_worker = params.cons_per_worker;
    L->prod_per_worker = 0;
    cr_expect_null(chaos_ledger_map(path), "no producer per worker");
    chaos_ledger_unmap(L);
    unlink(path);
}

/* ---- the segment, read as a tool does ---- */

static struct airsrt_shm shm;

static void attach_when_up(void)
{
    INTEG_AWAIT_MS(airsrt_shm_attach(&shm, rh.name) == 0, 30000);
}

static pid_t slot_pid(uint32_t w)
{
    return atomic_load(&airsrt_shm_worker_sup(&shm, w)->pid);
}

static uint32_t slot_incarnation(uint32_t w)
{
    return atomic_load(&airsrt_shm_worker_sup(&shm, w)->incarnation);
}

static const char *slot_name(uint32_t w)
{
    return airsrt_shm_worker_sup(&shm, w)->name;
}

/* Every stream flows: each consumer handled something of each. */
static bool is_flowing(const struct chaos_ledger *L)
{
    for (uint32_t s = 0; s < L->nproducers * L->nconsumers; s++)
        if (atomic_load(&L->streams[s].handled) == 0)
            return false;
    return true;
}

static uint32_t wait_ms(uint32_t ms)
{
    return is_valgrind() ? ms * 10 : ms;
}

/* Envelopes handled on the streams from producer worker pw to consumer
 * worker cw. */
static uint64_t pair_progress(const struct chaos_ledger *L, uint32_t pw,
                              uint32_t cw)
{
    uint64_t n = 0;

    for (uint32_t pk = 0; pk < params.prod_per_worker; pk++)
        for (uint32_t ck = 0; ck < params.cons_per_worker; ck++)
            n += atomic_load(&L->streams[chaos_stream_of(
                     L, pw * params.prod_per_worker + pk,
                     cw * params.cons_per_worker + ck)].handled);
    return n;
}

/* ---- faults: airsrt-inject ---- */

enum { F_KILL, F_STALL, F_KILL_IN_LOCK, F_CORRUPT, F_KINDS };
static const char *const fault_names[F_KINDS] = {
    "kill", "stall", "kill-in-lock", "corrupt-ring",
};

struct fault {
    int kind;
    uint32_t worker;
    pid_t pid;
};

struct faults {
    struct fault f[FAULTS_MAX];
    uint32_t n, by_kind[F_KINDS];
    long summary_faults;            /* from the summary line, -1 if none */
};

/* Runs build/bin/airsrt-inject -r RUNTIME args... (NULL-terminated) to
 * its end; its stdout in out (cut to len), also copied to our stderr so
 * that the faults show in the test's log as they were injected. Returns
 * its exit status. */
static int run_inject(char *out, size_t len, ...)
{
    const char *args[24] = { "-r", rh.name };
    struct program p = { .out = out, .out_len = len };
    int argc = 2, status;
    va_list ap;

    va_start(ap, len);
    for (const char *a; argc < 23 && (a = va_arg(ap, const char *)) != NULL;)
        args[argc++] = a;
    va_end(ap);
    status = program_run(&p, wh_build_path("bin/airsrt-inject"), args);
    fputs(out, stderr);
    return status;
}

/* One line of airsrt-inject chaos --json into fs. */
static void parse_fault_line(struct faults *fs, const char *line)
{
    struct fault *f = &fs->f[fs->n];
    char kind[32];

    if (strstr(line, "\"summary\":true") != NULL) {
        fs->summary_faults = rh_field_long(line, "faults");
        return;
    }
    rh_field_str(line, "fault", kind, sizeof(kind));
    for (f->kind = 0; f->kind < F_KINDS; f->kind++)
        if (strcmp(kind, fault_names[f->kind]) == 0)
            break;
    cr_assert_lt(f->kind, F_KINDS, "unknown fault line: %s", line);
    cr_assert_geq(rh_field_long(line, "t_ms"), 0, "no t_ms: %s", line);
    f->worker = (uint32_t)rh_field_long(line, "index");
    f->pid = (pid_t)rh_field_long(line, "pid");
    cr_assert_lt(f->worker, NWORKERS, "%s", line);
    cr_assert_gt(f->pid, 0, "%s", line);
    fs->by_kind[f->kind]++;
    if (fs->n + 1 < FAULTS_MAX)
        fs->n++;
}

/* airsrt-inject chaos --json over victims for duration_ms; every line
 * parsed into fs. */
static void run_chaos(struct faults *fs, uint64_t seed, uint32_t duration_ms,
                      const char *rate, const char *victims)
{
    static char out[65536];
    char dur[32], sd[32], *save = NULL;

    snprintf(dur, sizeof(dur), "%u.%03u", duration_ms / 1000,
             duration_ms % 1000);
    snprintf(sd, sizeof(sd), "%llu", (unsigned long long)seed);
    fs->summary_faults = -1;
    cr_assert_eq(run_inject(out, sizeof(out), "chaos", "--duration", dur,
                            "--seed", sd, "--rate", rate, "--workers",
                            victims, "--json", (char *)NULL), 0);
    for (char *l = strtok_r(out, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save))
        parse_fault_line(fs, l);
    cr_assert_eq(fs->summary_faults, (long)fs->n, "summary disagrees");
}

/* A worker serves: its streams move, now. */
static bool is_serving(const struct chaos_ledger *L, uint32_t w)
{
    bool cons = w < CONS_WORKERS;
    uint32_t i = cons ? w : w - CONS_WORKERS;
    uint64_t before = chaos_worker_progress(L, cons, i);

    for (uint64_t until = integ_deadline(wait_ms(5000));
         integ_is_before(until); integ_nap())
        if (chaos_worker_progress(L, cons, i) != before)
            return true;
    return false;
}

/* ---- the event log ---- */

struct recovery {
    uint32_t exits, restarts, unrecovered;
    uint64_t worst_us;
};

/* Microseconds since the epoch of an event line's "time". */
static uint64_t event_time_us(const char *line)
{
    const char *p = strstr(line, "\"time\":\"");
    struct tm tm = { 0 };
    char *rest;

    cr_assert_not_null(p, "no time: %s", line);
    rest = strptime(p + 8, "%Y-%m-%dT%H:%M:%S", &tm);
    cr_assert_not_null(rest, "bad time: %s", line);
    return (uint64_t)timegm(&tm) * 1000000u +
           (*rest == '.' ? strtoull(rest + 1, NULL, 10) : 0);
}

/* Every worker_exited is followed by a worker_restarted of the same
 * worker; the time between them is its recovery. */
static void read_recoveries(struct recovery *r)
{
    FILE *f = fopen(rh.events, "r");
    struct { uint64_t t_us; bool is_down; } w[NWORKERS];
    char *line = NULL, ev[64];
    size_t size = 0;

    memset(r, 0, sizeof(*r));
    memset(w, 0, sizeof(w));
    cr_assert_not_null(f);
    while (getline(&line, &size, f) > 0) {
        long i = rh_field_long(line, "index");

        rh_field_str(line, "event", ev, sizeof(ev));
        if (i < 0 || i >= (long)NWORKERS)
            continue;
        if (strcmp(ev, "worker_exited") == 0) {
            r->exits++;
            w[i].is_down = true;
            w[i].t_us = event_time_us(line);
        } else if (strcmp(ev, "worker_restarted") == 0 && w[i].is_down) {
            uint64_t d = event_time_us(line) - w[i].t_us;

            r->restarts++;
            w[i].is_down = false;
            if (d > r->worst_us)
                r->worst_us = d;
        }
    }
    for (uint32_t i = 0; i < NWORKERS; i++)
        r->unrecovered += w[i].is_down;
    free(line);
    fclose(f);
}

/* ---- the end of a run ---- */

/* Lets traffic flow a moment after the last fault, stops the producers
 * and waits until every consumer handled the last seq sent. */
static void stop_and_drain(struct chaos_ledger *L)
{
    integ_sleep_ms(300);
    atomic_store(&L->stop, 1);
    INTEG_AWAIT_MS(chaos_is_drained(L), wait_ms(30000));
}

/* airsrt-run stops in order; nothing is left behind. */
static void stop_system(struct chaos_ledger *L, const struct faults *fs)
{
    pid_t pids[NWORKERS];
    int status;

    for (uint32_t w = 0; w < NWORKERS; w++)
        pids[w] = slot_pid(w);
    airsrt_shm_detach(&shm);
    chaos_ledger_unmap(L);
    cr_assert_eq(rh_stop(SIGTERM), 0, "airsrt-run did not end cleanly");
    for (uint32_t w = 0; w < NWORKERS; w++)
        cr_expect(rh_pid_gone(pids[w]), "worker %u (pid %d) left", w,
                  (int)pids[w]);
    for (uint32_t i = 0; fs != NULL && i < fs->n; i++)
        cr_expect(rh_pid_gone(fs->f[i].pid), "pid %d left", (int)fs->f[i].pid);
    /* No child of ours is left, not even a zombie. */
    cr_expect_eq(waitpid(-1, &status, WNOHANG), -1);
    cr_expect_eq(errno, ECHILD);
}

static void expect_sound(const struct chaos_figures *f)
{
    cr_expect_eq(f->lost, 0, "envelopes lost from a surviving ring");
    cr_expect_eq(f->dup_unexplained, 0, "duplicates outside a redelivery");
    cr_expect_eq(f->order_violations, 0, "per-stream order broken");
    cr_expect_eq(f->backpressure, 0, "a ring filled: the ledger is void");
    cr_expect_leq(f->max_redelivered, AIRSRT_READ_BATCH,
                  "more than a read batch delivered twice");
    cr_expect_leq(f->max_mailbox, params.window,
                  "more died in a mailbox than was in flight");
    cr_expect_gt(f->sent, 0);
}

Test(chaos, faults_lose_nothing_queued_in_rings, .timeout = 300)
{
    /* Victims: two consumer workers and one producer worker; cons[2] and
     * prod[1] are never hit and must keep serving throughout. */
    const uint32_t spared[] = { 2, PROD_INDEX(1) };
    uint32_t duration = is_valgrind() ? 3000 : 8000, stalls_ok = 0;
    uint64_t seed = 42, before[2];
    struct faults *fs = calloc(1, sizeof(*fs));
    struct chaos_figures fig;
    struct recovery rec;
    struct chaos_ledger *L;
    char text[512];
    int fds = count_fds();

    cr_assert_not_null(fs);
    L = start_system();
    attach_when_up();
    INTEG_AWAIT_MS(is_flowing(L), wait_ms(30000));
    before[0] = chaos_worker_progress(L, true, 2);
    before[1] = chaos_worker_progress(L, false, 1);
    run_chaos(fs, seed, duration, is_valgrind() ? "1" : "2",
              "cons[0],cons[1],prod[0]");
    cr_expect_gt(chaos_worker_progress(L, true, 2), before[0],
                 "cons[2], never hit, stopped serving");
    cr_expect_gt(chaos_worker_progress(L, false, 1), before[1],
                 "prod[1], never hit, stopped serving");
    for (uint32_t i = 0; i < 2; i++)
        cr_expect_eq(slot_incarnation(spared[i]), 1, "%s was restarted",
                     slot_name(spared[i]));
    /* Every victim serves again; a stall was no hang (its process
     * lives on unless a later fault killed it). */
    for (uint32_t w = 0; w < NWORKERS; w++)
        cr_expect(is_serving(L, w), "%s does not serve", slot_name(w));
    for (uint32_t i = 0; i < fs->n; i++) {
        bool is_killed_later = false;

        if (fs->f[i].kind != F_STALL)
            continue;
        for (uint32_t k = i + 1; k < fs->n; k++)
            is_killed_later |= fs->f[k].pid == fs->f[i].pid &&
                               fs->f[k].kind != F_STALL;
        stalls_ok += is_killed_later || slot_pid(fs->f[i].worker) ==
                                        fs->f[i].pid;
    }
    stop_and_drain(L);
    cr_assert_eq(chaos_judge(L, NULL, &fig), 0);
    read_recoveries(&rec);
    chaos_format(&fig, text, sizeof(text));
    fprintf(stderr, "chaos: seed %llu faults %u (kill %u, kill-in-lock %u, "
            "stall %u) recoveries %u (restarts) + %u (stalls), registry "
            "lock deaths recovered %llu, worst recovery %llu.%03llu ms; "
            "%s\n",
            (unsigned long long)seed, fs->n, fs->by_kind[F_KILL],
            fs->by_kind[F_KILL_IN_LOCK], fs->by_kind[F_STALL], rec.restarts,
            stalls_ok, (unsigned long long)atomic_load(
                &airsrt_shm_registry(&shm)->owner_deaths),
            (unsigned long long)rec.worst_us / 1000,
            (unsigned long long)rec.worst_us % 1000, text);
    expect_sound(&fig);
    cr_expect_eq(fig.bad, 0);
    cr_expect_gt(fs->n, 0);
    cr_expect_eq(fs->by_kind[F_CORRUPT], 0, "corrupt-ring is not a default");
    cr_expect_eq(rec.exits, fs->by_kind[F_KILL] + fs->by_kind[F_KILL_IN_LOCK],
                 "a kill without an exit, or an exit without a kill");
    cr_expect_eq(rec.restarts, rec.exits, "an exit without a restart");
    cr_expect_eq(rec.unrecovered, 0);
    cr_expect_eq(stalls_ok, fs->by_kind[F_STALL], "a stall became a hang");
    /* Every death inside the registry lock was repaired by the next
     * locker (a plain kill may land in it too: at least). */
    cr_expect_geq(atomic_load(&airsrt_shm_registry(&shm)->owner_deaths),
                  fs->by_kind[F_KILL_IN_LOCK], "a lock death not recovered");
    cr_expect_geq(rh_count_events("\"event\":\"lock_recovered\"", NULL),
                  fs->by_kind[F_KILL_IN_LOCK] > 0 ? 1 : 0);
    stop_system(L, fs);
    cr_expect_eq(count_fds(), fds, "descriptors leaked");
    free(fs);
}

/* ---- a corrupt ring ---- */

static uint64_t ring_corruptions(uint32_t from, uint32_t to, uint64_t *lost)
{
    struct airsrt_ring r;

    cr_assert_eq(airsrt_shm_data_ring(&shm, from, to, &r), 0);
    if (lost != NULL)
        *lost = atomic_load(&r.cons->stats.lost_bytes);
    return atomic_load(&r.cons->stats.corruptions);
}

/*
 * Drained (chaos_is_drained), except that a stream of the corrupt ring
 * need only be still. The ring's reset drops every unread record, and a
 * stream whose whole window was unread then never moves again: its
 * producer waits, within its window, for seqs that are gone (the judge
 * counts them corrupt_lost). Such a stream is still once the ring from
 * `from` to `victim` is empty and none of the corrupt streams handled
 * anything over a pause in which the victim could empty its mailboxes.
 */
static bool is_settled(const struct chaos_ledger *L, const bool *is_corrupt,
                       uint32_t from, uint32_t victim)
{
    uint32_t n = L->nproducers * L->nconsumers;
    uint64_t handled[CHAOS_STREAMS_MAX];
    bool is_waiting = false;
    struct airsrt_ring r;

    for (uint32_t p = 0; p < L->nproducers; p++)
        if (!atomic_load(&L->stopped[p]))
            return false;
    for (uint32_t s = 0; s < n; s++) {
        const struct chaos_stream *st = &L->streams[s];

        if (atomic_load(&st->last) == atomic_load(&st->pending))
            continue;
        if (!is_corrupt[s])
            return false;
        is_waiting = true;
    }
    if (!is_waiting)
        return true;
    cr_assert_eq(airsrt_shm_data_ring(&shm, from, victim, &r), 0);
    for (uint32_t s = 0; s < n; s++)
        handled[s] = atomic_load(&L->streams[s].handled);
    integ_sleep_ms(wait_ms(200));
    if (airsrt_ring_used(&r) != 0)
        return false;
    for (uint32_t s = 0; s < n; s++)
        if (is_corrupt[s] && atomic_load(&L->streams[s].handled) != handled[s])
            return false;
    return true;
}

Test(chaos, corrupt_ring_costs_only_that_ring, .timeout = 300)
{
    const uint32_t victim = 1, from = PROD_INDEX(0);
    bool is_corrupt[CHAOS_STREAMS_MAX] = { false };
    struct chaos_figures fig;
    struct chaos_ledger *L;
    uint64_t other, lost_bytes;
    char text[512];
    int fds = count_fds();

    L = start_system();
    attach_when_up();
    INTEG_AWAIT_MS(is_flowing(L), wait_ms(30000));
    {
        static const char expect[] =
            "corrupt-ring cons[1] (worker 1) from prod[0] (worker 3): 64 "
            "bytes at ring offset ";
        char out[512];

        cr_assert_eq(run_inject(out, sizeof(out), "corrupt-ring", "cons[1]",
                                "--from", "prod[0]", "--bytes", "64",
                                "--seed", "7", (char *)NULL), 0);
        cr_assert_eq(strncmp(out, expect, sizeof(expect) - 1), 0, "%s", out);
    }
    INTEG_AWAIT_MS(ring_corruptions(from, victim, &lost_bytes) > 0,
                   wait_ms(10000));
    cr_expect_gt(lost_bytes, 0, "the reset lost nothing it counted");
    /* The victim keeps serving its other ring. */
    other = pair_progress(L, 1, victim);
    INTEG_AWAIT_MS(pair_progress(L, 1, victim) > other + 100, wait_ms(10000));
    for (uint32_t pk = 0; pk < params.prod_per_worker; pk++)
        for (uint32_t ck = 0; ck < params.cons_per_worker; ck++)
            is_corrupt[chaos_stream_of(L, pk, victim * params.cons_per_worker
                                              + ck)] = true;
    integ_sleep_ms(300);
    atomic_store(&L->stop, 1);
    INTEG_AWAIT_MS(is_settled(L, is_corrupt, from, victim), wait_ms(30000));
    for (uint32_t w = 0; w < NWORKERS; w++)
        for (uint32_t v = 0; v < NWORKERS; v++)
            if (w != v && (w != from || v != victim))
                cr_expect_eq(ring_corruptions(w, v, NULL), 0,
                             "ring %u -> %u saw corruption too", w, v);
    cr_expect_eq(slot_incarnation(victim), 1, "the victim was restarted");
    cr_expect_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    cr_assert_eq(chaos_judge(L, is_corrupt, &fig), 0);
    chaos_format(&fig, text, sizeof(text));
    fprintf(stderr, "chaos: corrupt-ring %s from %s: %llu bytes lost; %s\n",
            slot_name(victim), slot_name(from),
            (unsigned long long)lost_bytes, text);
    expect_sound(&fig);
    cr_expect_gt(fig.corrupt_lost, 0, "the damage cost nothing");
    cr_expect_eq(fig.mailbox + fig.unflushed, 0);
    stop_system(L, NULL);
    cr_expect_eq(count_fds(), fds, "descriptors leaked");
}
