/*
 * tests/integration/test_inject.c - airsrt-inject(1) against real
 * systems run by airsrt-run (tests/bin/sv_worker): each command's
 * effect, the fault hook (on, off, and out of reach of envelopes), the
 * chaos schedule replayed from its seed, and golden text for every
 * usage error and refusal.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <criterion/criterion.h>

#include "airsrt/message.h"
#include "shm/registry.h"
#include "shm/segment.h"
#include "tests/lib/harness.h"
#include "tests/lib/program.h"
#include "tests/lib/run_harness.h"
#include "tests/lib/worker_harness.h"

#define LINE 1024
#define WAIT 20000
#define OUT_MAX 65536

static char line[LINE];

struct tool {
    int status;
    char out[OUT_MAX];
    char err[4096];
};
static struct tool t;

/* Runs airsrt-inject with args (from first, NULL-terminated) to its
 * end into t. */
static void inject_v(const char *first, va_list ap)
{
    const char *args[32];
    struct program p = { .out = t.out, .out_len = sizeof(t.out),
                         .err = t.err, .err_len = sizeof(t.err) };
    int n = 0;

    for (const char *a = first; a != NULL && n < 31; a = va_arg(ap, char *))
        args[n++] = a;
    args[n] = NULL;
    t.status = program_run(&p, wh_build_path("bin/airsrt-inject"), args);
}

static void inject(const char *first, ...)
{
    va_list ap;

    va_start(ap, first);
    inject_v(first, ap);
    va_end(ap);
}

/* The same, for the runtime under test: "-r NAME" first. */
#define inject_rt(...) inject("-r", rh.name, __VA_ARGS__, (char *)NULL)

static void expect_usage(const char *msg, const char *first, ...)
{
    char want[512];
    va_list ap;

    va_start(ap, first);
    inject_v(first, ap);
    va_end(ap);
    snprintf(want, sizeof(want), "airsrt-inject: %s\nTry 'airsrt-inject "
             "--help' for more information.\n", msg);
    cr_expect_eq(t.status, 100, "%s: status %d", msg, t.status);
    cr_expect_str_eq(t.err, want);
    cr_expect_str_eq(t.out, "");
}

static struct airsrt_shm seg;

static void seg_attach(void)
{
    cr_assert_eq(airsrt_shm_attach(&seg, rh.name), 0, "%s", seg.err);
}

static uint64_t ring_corruptions(uint32_t from, uint32_t to)
{
    struct airsrt_ring r;

    if (from == UINT32_MAX)
        cr_assert_eq(airsrt_shm_ctl_ring(&seg, to, &r), 0);
    else
        cr_assert_eq(airsrt_shm_data_ring(&seg, from, to, &r), 0);
    return atomic_load(&r.cons->stats.corruptions);
}

static void await_started(const char *worker, int nth)
{
    char who[64];

    snprintf(who, sizeof(who), "\"worker\":\"%s\"", worker);
    rh_wait_event(line, LINE, WAIT, nth, "\"event\":\"worker_started\"", who,
                  NULL);
}

static void await_restart(const char *worker, int nth)
{
    char who[64];

    snprintf(who, sizeof(who), "\"worker\":\"%s\"", worker);
    rh_wait_event(line, LINE, WAIT, nth, "\"event\":\"worker_restarted\"",
                  who, NULL);
}

/* Lines of a sink file, checked to be 1..n in order. */
static uint64_t sink_check(const char *path, uint64_t *gaps, uint64_t *dups)
{
    FILE *f = fopen(path, "r");
    uint64_t n = 0, last = 0, v;

    *gaps = *dups = 0;
    if (f == NULL)
        return 0;
    while (fscanf(f, "%" SCNu64, &v) == 1) {
        if (v <= last)
            (*dups)++;
        else if (v != last + 1)
            (*gaps)++;
        if (v > last)
            last = v;
        n++;
    }
    fclose(f);
    return n;
}

static uint64_t sink_wait(const char *path, uint64_t want)
{
    uint64_t gaps, dups, n = 0;

    for (int i = 0; i < 2000; i++) {
        n = sink_check(path, &gaps, &dups);
        if (n >= want)
            break;
        usleep(10000);
    }
    return n;
}

/* ---- golden text: usage errors, help, refusals ---- */

Test(inject, usage_errors_are_one_line_and_exit_100, .timeout = 60,
     .fini = rh_fini)
{
    expect_usage("no command given", (char *)NULL);
    expect_usage("no command given", "-r", "x", (char *)NULL);
    expect_usage("-r needs a runtime name", "-r", (char *)NULL);
    expect_usage("unknown option \"-x\"", "-x", (char *)NULL);
    expect_usage("unknown command \"explode\"", "-r", "x", "explode",
                 (char *)NULL);
    expect_usage("no runtime given (-r RUNTIME)", "kill", "0", (char *)NULL);
    expect_usage("usage: airsrt-inject -r RUNTIME kill WORKER [--signal SIG]",
                 "-r", "x", "kill", (char *)NULL);
    expect_usage("kill: \"a[\" is not a worker (group[i] or an index)",
                 "-r", "x", "kill", "a[", (char *)NULL);
    expect_usage("kill: \"1024\" is not a worker (group[i] or an index)",
                 "-r", "x", "kill", "1024", (char *)NULL);
    expect_usage("--signal: \"NOPE\" is not a signal (a name such as KILL, "
                 "or 1 to 64)", "-r", "x", "kill", "0", "--signal", "NOPE",
                 (char *)NULL);
    expect_usage("--signal: \"65\" is not a signal (a name such as KILL, or "
                 "1 to 64)", "-r", "x", "kill", "0", "--signal=65",
                 (char *)NULL);
    expect_usage("--signal given twice", "-r", "x", "kill", "0", "--signal",
                 "TERM", "--signal", "KILL", (char *)NULL);
    expect_usage("--signal needs a value", "-r", "x", "kill", "0",
                 "--signal", (char *)NULL);
    expect_usage("kill: unexpected argument \"1\"", "-r", "x", "kill", "0",
                 "1", (char *)NULL);
    expect_usage("kill takes no option --bytes", "-r", "x", "kill", "0",
                 "--bytes", "4", (char *)NULL);
    expect_usage("stall: \"0\" is not 1 to 3600000 ms", "-r", "x", "stall",
                 "a[0]", "0", (char *)NULL);
    expect_usage("usage: airsrt-inject -r RUNTIME stall WORKER MS", "-r",
                 "x", "stall", "a[0]", (char *)NULL);
    expect_usage("--bytes: \"0\" is not 1 to 1048576", "-r", "x",
                 "corrupt-ring", "1", "--bytes", "0", (char *)NULL);
    expect_usage("--from: \"b[x]\" is not a worker (group[i] or an index)",
                 "-r", "x", "corrupt-ring", "1", "--from", "b[x]",
                 (char *)NULL);
    expect_usage("--seed: \"-1\" is not a decimal number", "-r", "x",
                 "corrupt-ring", "1", "--seed=-1", (char *)NULL);
    expect_usage("flood: \"0\" is not a count (1 to 100000000)", "-r", "x",
                 "flood", "ledger", "0", (char *)NULL);
    expect_usage("--type: \"4294901760\" is not a message type (0 to "
                 "0xfffeffff, decimal or 0x hex)", "-r", "x", "flood",
                 "ledger", "5", "--type", "4294901760", (char *)NULL);
    expect_usage("--type: \"0x0x1\" is not a message type (0 to "
                 "0xfffeffff, decimal or 0x hex)", "-r", "x", "flood",
                 "ledger", "5", "--type=0x0x1", (char *)NULL);
    expect_usage("--ms: \"x\" is not 1 to 3600000", "-r", "x", "exhaust",
                 "0", "--ms", "x", (char *)NULL);
    expect_usage("chaos needs --duration", "-r", "x", "chaos", "--seed", "1",
                 "--rate", "1", (char *)NULL);
    expect_usage("chaos needs --rate", "-r", "x", "chaos", "--seed", "1",
                 "--duration", "1", (char *)NULL);
    expect_usage("--duration: \"1.2345\" is not seconds above 0 (at most "
                 "86400, 3 decimals)", "-r", "x", "chaos", "--duration",
                 "1.2345", (char *)NULL);
    expect_usage("--rate: \"0\" is not faults per second above 0 (at most "
                 "1000)", "-r", "x", "chaos", "--rate", "0", (char *)NULL);
    expect_usage("--faults: \"nuke\" is not a fault (kill, stall, "
                 "kill-in-lock, corrupt-ring)", "-r", "x", "chaos",
                 "--faults", "kill,nuke", (char *)NULL);
    expect_usage("--workers: \"a[1\" is not a worker (group[i] or an index)",
                 "-r", "x", "chaos", "--workers", "a[0],a[1", (char *)NULL);
    expect_usage("--json takes no value", "-r", "x", "chaos", "--json=1",
                 (char *)NULL);
}

Test(inject, help_prints_usage_and_exits_0, .timeout = 30, .fini = rh_fini)
{
    inject("--help", (char *)NULL);
    cr_assert_eq(t.status, 0);
    cr_assert_str_eq(t.err, "");
    cr_assert_str_eq(t.out,
        "usage: airsrt-inject -r RUNTIME COMMAND [ARGS] [OPTIONS]\n"
        "Injects faults into the running runtime RUNTIME (see "
        "airsrt-inject(1)).\n"
        "  kill WORKER [--signal SIG]\n"
        "  stall WORKER MS\n"
        "  kill-in-lock WORKER\n"
        "  corrupt-ring WORKER [--from W] [--bytes N] [--seed S]\n"
        "  flood NAME N [--type T]\n"
        "  exhaust WORKER [--ms MS]\n"
        "  chaos --duration S --seed S --rate R [--faults LIST] "
        "[--workers LIST] [--json]\n"
        "WORKER is a slot name such as cons[1], or an index; SIG a name "
        "(KILL, TERM, SEGV...) or number;\n"
        "LIST is comma-separated; chaos faults: kill, stall, kill-in-lock, "
        "corrupt-ring.\n"
        "Exit: 0 done, 100 usage error, 111 system failure.\n");
    inject("-r", "x", "chaos", "--help", (char *)NULL);
    cr_assert_eq(t.status, 0);
}

Test(inject, refuses_a_runtime_that_does_not_exist_with_111, .timeout = 30,
     .fini = rh_fini)
{
    inject("-r", "no-such-runtime-here", "kill", "0", (char *)NULL);
    cr_assert_eq(t.status, 111);
    cr_assert_str_eq(t.out, "");
    cr_assert_str_eq(t.err, "airsrt-inject: no runtime "
                     "\"no-such-runtime-here\" (no /dev/shm/"
                     "airsrt.no-such-runtime-here)\n");
}

Test(inject, refuses_a_malformed_runtime_name_with_100, .timeout = 30,
     .fini = rh_fini)
{
    inject("-r", "bad/name", "kill", "0", (char *)NULL);
    cr_assert_eq(t.status, 100);
    cr_assert_str_eq(t.out, "");
    cr_assert_str_eq(t.err, "airsrt-inject: invalid runtime name "
                     "\"bad/name\": use 1 to 63 of A-Z a-z 0-9 _ . -, not "
                     "starting with . or -\n");
}

/* A runtime with fault injection off: kill-in-lock (and chaos asked
 * for it) is refused, exit 100; an unknown worker too. */
Test(inject, refuses_kill_in_lock_when_fault_injection_is_off, .timeout = 60,
     .fini = rh_fini)
{
    char want[256];

    rh_start(NULL, "[worker a]\nbinary = {BIN}\nactor = echo\n");
    await_started("a[0]", 1);
    snprintf(want, sizeof(want), "airsrt-inject: fault injection is off in "
             "runtime %s (set [runtime] fault_injection = true)\n", rh.name);
    inject_rt("kill-in-lock", "a[0]");
    cr_assert_eq(t.status, 100);
    cr_assert_str_eq(t.err, want);
    cr_assert_str_eq(t.out, "");
    inject_rt("chaos", "--duration", "1", "--seed", "1", "--rate", "1",
              "--faults", "kill-in-lock");
    cr_assert_eq(t.status, 100);
    cr_assert_str_eq(t.err, want);
    snprintf(want, sizeof(want), "airsrt-inject: no worker \"b[0]\" in "
             "runtime \"%s\" (give group[i] or an index below 1)\n", rh.name);
    inject_rt("kill", "b[0]");
    cr_assert_eq(t.status, 100);
    cr_assert_str_eq(t.err, want);
    inject_rt("stall", "1", "10");
    cr_assert_eq(t.status, 100);
    snprintf(want, sizeof(want), "airsrt-inject: flood: no name \"nobody\" "
             "in runtime %s\n", rh.name);
    inject_rt("flood", "nobody", "3");
    cr_assert_eq(t.status, 100);
    cr_assert_str_eq(t.err, want);
    inject_rt("corrupt-ring", "a[0]");
    cr_assert_eq(t.status, 100);
    cr_assert_str_eq(t.err, "airsrt-inject: corrupt-ring: a[0] has no data "
                     "ring from another worker (one worker only)\n");
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* ---- each command's effect ---- */

Test(inject, kill_sends_the_signal_and_the_worker_restarts, .timeout = 60,
     .fini = rh_fini)
{
    char want[256];
    pid_t pid;

    rh_start(NULL, "[worker a]\nbinary = {BIN}\ncount = 2\nactor = echo\n");
    await_started("a[1]", 1);
    pid = rh_worker_pid(1);
    inject_rt("kill", "a[1]", "--signal", "TERM");
    cr_assert_eq(t.status, 0, "%s", t.err);
    snprintf(want, sizeof(want), "kill a[1] (worker 1, pid %d) with SIGTERM\n",
             (int)pid);
    cr_assert_str_eq(t.out, want);
    cr_assert_str_eq(t.err, "");
    await_restart("a[1]", 1);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"a[1]\"", NULL);
    cr_assert_eq(rh_field_long(line, "pid"), pid);
    /* By index, default SIGKILL. */
    pid = rh_worker_pid(0);
    inject_rt("kill", "0");
    cr_assert_eq(t.status, 0, "%s", t.err);
    snprintf(want, sizeof(want), "kill a[0] (worker 0, pid %d) with SIGKILL\n",
             (int)pid);
    cr_assert_str_eq(t.out, want);
    await_restart("a[0]", 1);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"a[0]\"", "\"signal\":\"SIGKILL\"", NULL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

static char proc_state(pid_t pid)
{
    char path[64], buf[256], *p;
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' ? p[2] : '?';
}

Test(inject, stall_stops_the_worker_then_continues_it, .timeout = 60,
     .fini = rh_fini)
{
    char want[256], ms[16];
    bool was_stopped = false;
    struct program tool = { 0 };
    pid_t pid;

    rh_start("hang_timeout_ms = 60000\n",
             "[worker a]\nbinary = {BIN}\nactor = echo\n");
    await_started("a[0]", 1);
    pid = rh_worker_pid(0);
    snprintf(ms, sizeof(ms), "%u", getenv("AIRSRT_UNDER_VALGRIND") ? 3000u
                                                                   : 1000u);
    {
        const char *args[] = { "-r", rh.name, "stall", "a[0]", ms, NULL };

        program_start(&tool, wh_build_path("bin/airsrt-inject"), args);
    }
    for (int i = 0; i < 1000 && !was_stopped; i++) {
        was_stopped = proc_state(pid) == 'T';
        usleep(2000);
    }
    cr_assert(was_stopped, "the worker was never seen stopped");
    cr_assert_eq(program_wait(&tool), 0);
    cr_assert_neq(proc_state(pid), 'T');
    cr_assert_eq(rh_worker_pid(0), pid);
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    /* Golden line, from a short stall. */
    inject_rt("stall", "0", "20");
    snprintf(want, sizeof(want), "stall a[0] (worker 0, pid %d) for 20 ms\n",
             (int)pid);
    cr_assert_eq(t.status, 0);
    cr_assert_str_eq(t.out, want);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(inject, stall_continues_the_worker_when_interrupted, .timeout = 60,
     .fini = rh_fini)
{
    const char *args[] = { "-r", NULL, "stall", "a[0]", "60000", NULL };
    bool was_stopped = false;
    struct program tool = { 0 };
    pid_t pid;

    rh_start("hang_timeout_ms = 120000\n",
             "[worker a]\nbinary = {BIN}\nactor = echo\n");
    await_started("a[0]", 1);
    pid = rh_worker_pid(0);
    args[1] = rh.name;
    program_start(&tool, wh_build_path("bin/airsrt-inject"), args);
    for (int i = 0; i < 5000 && !was_stopped; i++) {
        was_stopped = proc_state(pid) == 'T';
        usleep(2000);
    }
    cr_assert(was_stopped, "the worker was never seen stopped");
    cr_assert_eq(kill(tool.pid, SIGTERM), 0);
    cr_assert_eq(program_wait(&tool), 0);
    cr_assert_neq(proc_state(pid), 'T');
    cr_assert_eq(rh_worker_pid(0), pid);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* The registry's owner_deaths counter. */
static uint64_t owner_deaths(void)
{
    return atomic_load(&airsrt_shm_registry(&seg)->owner_deaths);
}

Test(inject, kill_in_lock_is_recovered_end_to_end, .timeout = 90,
     .fini = rh_fini)
{
    char want[256], sink[300], arg[400];
    struct airsrt_registry reg;
    struct airsrt_address a;
    uint64_t deaths, gaps, dups;
    uint32_t id;
    pid_t pid;

    snprintf(arg, sizeof(arg), "[worker a]\nbinary = {BIN}\n"
             "actor = sink@sink={DIR}/sink\n[worker b]\nbinary = {BIN}\n"
             "actor = echo\n");
    rh_start("fault_injection = true\n", arg);
    snprintf(sink, sizeof(sink), "%s/sink", rh.dir);
    await_started("b[0]", 1);
    seg_attach();
    cr_assert(seg.params.flags & AIRSRT_SHM_F_FAULT_INJECTION);
    deaths = owner_deaths();
    pid = rh_worker_pid(0);
    inject_rt("kill-in-lock", "a[0]");
    cr_assert_eq(t.status, 0, "%s", t.err);
    snprintf(want, sizeof(want), "kill-in-lock a[0] (worker 0, pid %d) "
             "holding the registry lock\n", (int)pid);
    cr_assert_str_eq(t.out, want);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"worker\":\"a[0]\"", "\"signal\":\"SIGKILL\"", NULL);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"lock_recovered\"",
                  "\"worker\":\"a[0]\"", "\"reason\":\"registry\"", NULL);
    await_restart("a[0]", 1);
    cr_assert_eq(owner_deaths(), deaths + 1);
    /* The next incarnation registered its name again, through the
     * repaired lock, and a flood through its control ring reaches it. */
    cr_assert_eq(airsrt_registry_open(&reg, &seg), 0);
    for (int i = 0; i < 2000; i++) {
        if (airsrt_registry_resolve(&reg, "sink", &id, &a) == 0 &&
            a.incarnation == 2)
            break;
        usleep(5000);
    }
    cr_assert_eq(a.incarnation, 2);
    inject_rt("flood", "sink", "50");
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_assert_eq(sink_wait(sink, 50), 50);
    sink_check(sink, &gaps, &dups);
    cr_assert_eq(gaps + dups, 0);
    /* The other worker was not touched. */
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"",
                                 "\"worker\":\"b[0]\"", NULL), 0);
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* Sends one envelope of each reserved type (but shutdown, which ends a
 * worker by design) and garbage around them to worker w's control
 * ring, then waits until w has read them all. */
static void send_reserved(uint32_t w)
{
    static const uint32_t types[] = {
        AIRSRT_TYPE_RESERVED, AIRSRT_MSG_STOP, AIRSRT_MSG_REJECTED,
        AIRSRT_MSG_DEAD_LETTER, AIRSRT_CTL_WORKER_DOWN, 0xFFFF0102u,
        0xFFFFFFFFu, AIRSRT_FAULT_DIE_IN_REGISTRY_LOCK, 0,
    };
    union {
        struct airsrt_envelope env;
        uint8_t b[sizeof(struct airsrt_envelope) + 16];
    } u;
    struct airsrt_ring r;

    cr_assert_eq(airsrt_shm_ctl_ring(&seg, w, &r), 0);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        uint64_t req = ((uint64_t)1 << 32) | AIRSRT_FAULT_DIE_IN_REGISTRY_LOCK;

        airsrt_envelope_init(&u.env, types[i], 16);
        memcpy(u.env.payload, &req, sizeof(req));
        memcpy(u.env.payload + 8, &req, sizeof(req));
        u.env.priority = AIRSRT_PRIO_SYSTEM;
        cr_assert_eq(airsrt_ctl_push(&r, &u.env), 0);
        u.env.recipient_name = 1;
        cr_assert_eq(airsrt_ctl_push(&r, &u.env), 0);
    }
    airsrt_doorbell_ring(airsrt_shm_doorbell(&seg, w));
    for (int i = 0; i < 2000; i++) {
        if (atomic_load(&r.cons->head) == atomic_load(&r.prod->tail))
            break;
        usleep(5000);
    }
    cr_assert_eq(atomic_load(&r.cons->head), atomic_load(&r.prod->tail));
}

/* Sets worker w's request word as the tool does, for incarnation inc. */
static void request_fault(uint32_t w, uint32_t inc)
{
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(&seg, w);

    atomic_store(&sup->fault_request,
                 ((uint64_t)inc << 32) | AIRSRT_FAULT_DIE_IN_REGISTRY_LOCK);
    airsrt_doorbell_ring(airsrt_shm_doorbell(&seg, w));
}

/* A few heartbeats' worth of polls. */
static void let_it_poll(void)
{
    usleep(getenv("AIRSRT_UNDER_VALGRIND") ? 1000000 : 200000);
}

Test(inject, no_envelope_triggers_the_hook_with_the_flag_on_or_off,
     .timeout = 90, .fini = rh_fini)
{
    const char *body = "[worker a]\nbinary = {BIN}\nactor = echo@e\n";
    pid_t pid;

    /* Off: reserved types, then even the request word itself. */
    rh_start(NULL, body);
    await_started("a[0]", 1);
    seg_attach();
    pid = rh_worker_pid(0);
    send_reserved(0);
    request_fault(0, 1);
    let_it_poll();
    cr_assert_eq(rh_worker_pid(0), pid);
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
    rh_fini();
    memset(&rh, 0, sizeof(rh));

    /* On: reserved types and a request for another incarnation do
     * nothing; only the request word for this one does. */
    rh_start("fault_injection = true\n", body);
    await_started("a[0]", 1);
    seg_attach();
    pid = rh_worker_pid(0);
    send_reserved(0);
    request_fault(0, 7);
    let_it_poll();
    cr_assert_eq(rh_worker_pid(0), pid);
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    request_fault(0, 1);
    rh_wait_event(line, LINE, WAIT, 1, "\"event\":\"worker_exited\"",
                  "\"signal\":\"SIGKILL\"", NULL);
    /* The next incarnation is not hit by its predecessor's request. */
    await_restart("a[0]", 1);
    let_it_poll();
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 1);
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(inject, corrupt_ring_resets_only_the_victims_ring_from_w,
     .timeout = 120, .fini = rh_fini)
{
    char body[1024], sink[300];
    uint64_t before[3][3], gaps, dups, n0;
    pid_t cons;

    /* cons[0] sinks; p[0] and p[1] each send 200000 numbered envelopes
     * (and stay up: echo keeps the worker alive once sender stops). */
    snprintf(body, sizeof(body),
             "[worker cons]\nbinary = {BIN}\nactor = sink@sink={DIR}/sink\n"
             "[worker p]\nbinary = {BIN}\ncount = 2\nactor = echo\n"
             "actor = sender=sink:200000:300\n");
    rh_start("hang_timeout_ms = 60000\n", body);
    snprintf(sink, sizeof(sink), "%s/sink", rh.dir);
    /* Before the senders start (their start waits 300 ms): the victim,
     * stopped, lets their rings fill. */
    await_started("cons[0]", 1);
    seg_attach();
    cons = rh_worker_pid(0);
    for (uint32_t f = 0; f < 3; f++)
        for (uint32_t to = 0; to < 3; to++)
            before[f][to] = f == to ? ring_corruptions(UINT32_MAX, to)
                                    : ring_corruptions(f, to);
    inject_rt("corrupt-ring", "cons[0]", "--from", "p[0]", "--bytes", "32",
              "--seed", "9");
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_assert(strncmp(t.out, "corrupt-ring cons[0] (worker 0) from p[0] "
                      "(worker 1): 32 bytes at ring offset ", 76) == 0, "%s",
              t.out);
    cr_assert(strstr(t.out, " bytes unread), seed 9\n") != NULL, "%s",
              t.out);
    for (int i = 0; i < 2000 && ring_corruptions(1, 0) == before[1][0]; i++)
        usleep(5000);
    cr_assert_eq(ring_corruptions(1, 0), before[1][0] + 1);
    /* Nothing else saw anything: the other rings into cons, the rings
     * into the senders, every control ring. */
    for (uint32_t f = 0; f < 3; f++)
        for (uint32_t to = 0; to < 3; to++)
            if (!(f == 1 && to == 0))
                cr_assert_eq(f == to ? ring_corruptions(UINT32_MAX, to)
                                     : ring_corruptions(f, to),
                             before[f][to], "ring %u -> %u", f, to);
    /* The victim kept its process and goes on receiving. */
    cr_assert_eq(rh_worker_pid(0), cons);
    n0 = sink_check(sink, &gaps, &dups);
    for (int i = 0; i < 2000 && sink_check(sink, &gaps, &dups) <= n0; i++)
        usleep(5000);
    cr_assert_gt(sink_check(sink, &gaps, &dups), n0);
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(inject, flood_delivers_n_envelopes_to_the_name, .timeout = 60,
     .fini = rh_fini)
{
    char body[512], sink[300], want[256];
    uint64_t gaps, dups, n = harness_count(20000);
    char count[24];

    snprintf(body, sizeof(body), "[worker a]\nbinary = {BIN}\nactor = echo\n"
             "[worker b]\nbinary = {BIN}\nactor = sink@ledger={DIR}/sink\n");
    rh_start(NULL, body);
    snprintf(sink, sizeof(sink), "%s/sink", rh.dir);
    await_started("b[0]", 1);
    snprintf(count, sizeof(count), "%" PRIu64, n);
    /* ledger is registered in pre_start: until then flood finds no name
     * (100) or no holder (111), and sends nothing. */
    for (int i = 0; i < 2000; i++) {
        inject_rt("flood", "ledger", count, "--type", "0x1");
        if (t.status != 100 && t.status != 111)
            break;
        usleep(5000);
    }
    cr_assert_eq(t.status, 0, "%s", t.err);
    seg_attach();
    {
        struct airsrt_registry reg;
        uint32_t id;

        cr_assert_eq(airsrt_registry_open(&reg, &seg), 0);
        cr_assert_eq(airsrt_registry_resolve(&reg, "ledger", &id, NULL), 0);
        snprintf(want, sizeof(want), "flood ledger (worker b[0], id %" PRIu32
                 "): sent %" PRIu64 " of %" PRIu64 " envelopes of type 1\n",
                 id, n, n);
    }
    cr_assert_str_eq(t.out, want);
    cr_assert_eq(sink_wait(sink, n), n);
    sink_check(sink, &gaps, &dups);
    cr_assert_eq(gaps, 0);
    cr_assert_eq(dups, 0);
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* Waits until ledger, registered in pre_start, takes a flood. */
static void await_ledger(void)
{
    for (int i = 0; i < 2000; i++) {
        inject_rt("flood", "ledger", "1");
        if (t.status == 0)
            break;
        usleep(5000);
    }
    cr_assert_eq(t.status, 0, "%s", t.err);
}

/* A flood waiting on the full control ring of a stopped worker, then
 * SIGTERM: it says how far it got, nothing on stderr, and exits 0. */
Test(inject, flood_interrupted_on_a_full_ring_exits_0, .timeout = 60,
     .fini = rh_fini)
{
    static char out[4096], err[4096];
    const char *args[] = { "-r", NULL, "flood", "ledger", "100000000",
                           NULL };
    struct program tool = { .out = out, .out_len = sizeof(out), .err = err,
                            .err_len = sizeof(err) };
    struct airsrt_ring r;
    pid_t pid;

    rh_start("hang_timeout_ms = 60000\n", "[worker b]\nbinary = {BIN}\n"
             "actor = sink@ledger={DIR}/sink\n");
    await_started("b[0]", 1);
    await_ledger();
    seg_attach();
    cr_assert_eq(airsrt_shm_ctl_ring(&seg, 0, &r), 0);
    pid = rh_worker_pid(0);
    cr_assert_eq(kill(pid, SIGSTOP), 0);
    args[1] = rh.name;
    program_start(&tool, wh_build_path("bin/airsrt-inject"), args);
    for (int i = 0; i < 5000 && airsrt_ring_used(&r) + 1024 < r.capacity;
         i++)
        usleep(1000);
    cr_assert_geq(airsrt_ring_used(&r) + 1024, r.capacity, "never full");
    cr_assert_eq(kill(tool.pid, SIGTERM), 0);
    cr_assert_eq(program_wait(&tool), 0, "%s", err);
    cr_assert_str_eq(err, "");
    cr_assert(strncmp(out, "flood ledger (worker b[0], id ", 30) == 0, "%s",
              out);
    cr_assert(strstr(out, " of 100000000 envelopes of type 1\n") != NULL,
              "%s", out);
    cr_assert_eq(kill(pid, SIGCONT), 0);
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(inject, exhaust_fills_the_rings_and_loses_nothing, .timeout = 120,
     .fini = rh_fini)
{
    char body[1024], sink[300];
    uint64_t gaps, dups, n = 5000, bp;

    snprintf(body, sizeof(body),
             "[worker cons]\nbinary = {BIN}\nactor = sink@sink={DIR}/sink\n"
             "[worker p]\nbinary = {BIN}\nactor = echo\n"
             "actor = sender=sink:%" PRIu64 ":300\n", n);
    rh_start("ring_bytes = 65536\npayload_max = 1024\n"
             "hang_timeout_ms = 60000\n", body);
    snprintf(sink, sizeof(sink), "%s/sink", rh.dir);
    await_started("cons[0]", 1);
    inject_rt("exhaust", "cons[0]", "--ms", "10000");
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_assert(strstr(t.out, "exhaust cons[0] (worker 0, pid ") == t.out,
              "%s", t.out);
    cr_assert(strstr(t.out, "  ring from p[0] (worker 1): ") != NULL, "%s",
              t.out);
    cr_assert(strstr(t.out, "  control ring: ") != NULL, "%s", t.out);
    cr_assert(strstr(t.out, "exhaust cons[0]: continued after ") != NULL);
    cr_assert_eq(sink_wait(sink, n), n);
    sink_check(sink, &gaps, &dups);
    cr_assert_eq(gaps, 0);
    cr_assert_eq(dups, 0);
    seg_attach();
    bp = atomic_load(&airsrt_shm_worker_self(&seg, 1)->backpressure);
    cr_assert_gt(bp, 0, "the sender never met a full ring");
    airsrt_shm_detach(&seg);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* ---- chaos ---- */

/* Runs chaos with --json on a fresh runtime; returns the fault sequence
 * as "fault:worker " pairs, checking each line's shape. */
static void chaos_run(char *seq, size_t len, uint64_t *nfaults)
{
    char f[32], w[64];
    long last_t = 0;
    uint64_t n = 0;
    char *save = NULL;

    rh_start("hang_timeout_ms = 60000\n",
             "[supervisor top]\nmax_restarts = 1000\n"
             "[worker a]\nbinary = {BIN}\ncount = 3\nactor = echo\n");
    await_started("a[2]", 1);
    inject_rt("chaos", "--duration", "1.5", "--seed", "1234", "--rate", "8",
              "--json");
    cr_assert_eq(t.status, 0, "%s", t.err);
    seq[0] = '\0';
    for (char *ln = strtok_r(t.out, "\n", &save); ln != NULL;
         ln = strtok_r(NULL, "\n", &save)) {
        cr_assert(ln[0] == '{' && ln[strlen(ln) - 1] == '}', "%s", ln);
        if (strncmp(ln, "{\"summary\":true,", 16) == 0) {
            cr_assert_eq(rh_field_long(ln, "faults"), (long)n, "%s", ln);
            cr_assert_eq(rh_field_long(ln, "seed"), 1234, "%s", ln);
            cr_assert(strstr(ln, "\"by_fault\":{") != NULL);
            continue;
        }
        rh_field_str(ln, "fault", f, sizeof(f));
        rh_field_str(ln, "worker", w, sizeof(w));
        cr_assert_geq(rh_field_long(ln, "t_ms"), last_t, "%s", ln);
        last_t = rh_field_long(ln, "t_ms");
        cr_assert(strcmp(f, "kill") == 0 || strcmp(f, "stall") == 0, "%s",
                  ln);
        cr_assert_gt(rh_field_long(ln, "pid"), 1, "%s", ln);
        strlcat(seq, f, len);
        strlcat(seq, ":", len);
        strlcat(seq, w, len);
        strlcat(seq, " ", len);
        n++;
    }
    *nfaults = n;
    cr_assert_eq(rh_stop(SIGTERM), 0);
    rh_fini();
    memset(&rh, 0, sizeof(rh));
}

Test(inject, chaos_replays_the_same_faults_from_the_same_seed,
     .timeout = 180, .fini = rh_fini)
{
    static char a[8192], b[8192];
    uint64_t na, nb;
    size_t common;

    chaos_run(a, sizeof(a), &na);
    chaos_run(b, sizeof(b), &nb);
    cr_assert_geq(na, 3, "%s", a);
    cr_assert_geq(nb, 3, "%s", b);
    /* Timing decides how far a run gets, never what comes next. */
    common = strlen(a) < strlen(b) ? strlen(a) : strlen(b);
    cr_assert(strncmp(a, b, common) == 0, "\n%s\n%s", a, b);
}

Test(inject, chaos_prints_timed_lines_and_a_summary, .timeout = 90,
     .fini = rh_fini)
{
    char *save = NULL, *ln;
    int n = 0;

    rh_start("hang_timeout_ms = 60000\n",
             "[worker a]\nbinary = {BIN}\ncount = 2\nactor = echo\n");
    await_started("a[1]", 1);
    inject_rt("chaos", "--duration", "0.8", "--seed", "5", "--rate", "10",
              "--faults", "stall", "--workers", "a[1]");
    cr_assert_eq(t.status, 0, "%s", t.err);
    for (ln = strtok_r(t.out, "\n", &save); ln != NULL;
         ln = strtok_r(NULL, "\n", &save), n++) {
        unsigned s, ms, w;
        int pid;
        char tail[64];

        if (strncmp(ln, "chaos: ", 7) == 0)
            break;
        cr_assert_eq(sscanf(ln, "+%u.%3u stall a[1] (worker %u, pid %d) for "
                            "%63[^\n]", &s, &ms, &w, &pid, tail), 5, "%s",
                     ln);
        cr_assert_eq(w, 1);
    }
    cr_assert_not_null(ln, "no summary");
    cr_assert(strstr(ln, ", seed 5") != NULL, "%s", ln);
    cr_assert_gt(n, 0);
    cr_assert_eq(rh_count_events("\"event\":\"worker_exited\"", NULL), 0);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}
