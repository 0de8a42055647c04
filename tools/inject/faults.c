/*
 * tools/inject/faults.c - the faults themselves (airsrt-inject(1)).
 *
 * The tool maps the whole segment writable, as its owner, but writes
 * only what each fault needs: a worker's fault request word
 * (kill-in-lock), bytes of one ring's unread records (corrupt-ring), and
 * envelopes on control rings, the only rings with many producers
 * (flood, exhaust). It never produces on a data ring: each has exactly
 * one producer, a worker. Signals go only to pids read from the worker
 * table whose slot says running, and every stopped process is continued
 * before the tool returns, also when interrupted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "airsrt/envelope.h"
#include "shm/doorbell.h"
#include "shm/ring.h"
#include "tools/inject/faults.h"

static uint64_t ms_since(uint64_t t0_ns)
{
    return (airsrt_now_ns() - t0_ns) / 1000000u;
}

void inject_nap(struct inject_ctx *c, uint64_t ms)
{
    uint64_t end = airsrt_now_ns() + ms * 1000000u;

    while (!*c->stop) {
        uint64_t now = airsrt_now_ns(), left;
        struct timespec ts;

        if (now >= end)
            return;
        left = end - now;
        if (left > 10000000u)
            left = 10000000u;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left;
        nanosleep(&ts, NULL);
    }
}

/*
 * One turn of a wait that began at t0_ns and gives up after limit_ms:
 * 0 once it has napped nap_ms (look again), -EINTR at once when SIGINT
 * or SIGTERM came (*c->stop), -ETIMEDOUT past the limit. Every wait of
 * a fault goes through here, so that an interruption is never reported
 * as the fault failing: the caller gives up quietly and the tool exits
 * 0 (airsrt-inject(1), EXIT STATUS).
 */
static int wait_turn(struct inject_ctx *c, uint64_t t0_ns, uint64_t limit_ms,
                     uint64_t nap_ms)
{
    if (*c->stop)
        return -EINTR;
    if (ms_since(t0_ns) >= limit_ms)
        return -ETIMEDOUT;
    inject_nap(c, nap_ms);
    return 0;
}

/* One line per fault: text, or with --json one object whose fields
 * follow t_ms. Flushed at once, so a reader sees each as it happens.
 * json is NULL for the faults chaos never injects (flood, exhaust):
 * --json comes only with chaos. */
static void say(struct inject_ctx *c, const char *text, const char *json)
{
    uint64_t t = c->is_chaos ? ms_since(c->t0_ns) : 0;

    if (c->is_json && json != NULL)
        printf("{\"t_ms\":%" PRIu64 ",%s}\n", t, json);
    else if (c->is_chaos)
        printf("+%" PRIu64 ".%03" PRIu64 " %s\n", t / 1000, t % 1000, text);
    else
        printf("%s\n", text);
    fflush(stdout);
}

/* The slot's name for a line of output; the index when it has none. */
static void slot_name(const struct inject_ctx *c, uint32_t w,
                      char buf[TOOL_WORKER_NAME_MAX])
{
    tool_worker_name(&c->shm, w, buf);
    if (buf[0] == '\0')
        snprintf(buf, TOOL_WORKER_NAME_MAX, "%" PRIu32, w);
}

static pid_t running_pid(const struct inject_ctx *c, uint32_t w)
{
    const struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(&c->shm, w);
    pid_t pid;

    if (atomic_load_explicit(&sup->state, memory_order_relaxed) !=
        AIRSRT_WORKER_RUNNING)
        return 0;
    pid = atomic_load_explicit(&sup->pid, memory_order_relaxed);
    return tool_pid_ok(pid) ? pid : 0;
}

int inject_victim_get(struct inject_ctx *c, uint32_t index, uint32_t wait_ms,
                      struct victim *v)
{
    uint64_t t0 = airsrt_now_ns();
    int rc;

    v->index = index;
    slot_name(c, index, v->name);
    while ((v->pid = running_pid(c, index)) == 0)
        if ((rc = wait_turn(c, t0, wait_ms, 5)) < 0)
            return rc;
    return 0;
}

bool inject_fault_injection_on(const struct inject_ctx *c)
{
    return (c->shm.params.flags & AIRSRT_SHM_F_FAULT_INJECTION) != 0;
}

int inject_kill(struct inject_ctx *c, const struct victim *v, int sig)
{
    char text[256], json[256], sname[32];

    inject_signal_name(sig, sname, sizeof(sname));
    snprintf(text, sizeof(text), "kill %s (worker %" PRIu32 ", pid %d) with "
             "%s", v->name, v->index, (int)v->pid, sname);
    snprintf(json, sizeof(json), "\"fault\":\"kill\",\"worker\":\"%s\","
             "\"index\":%" PRIu32 ",\"pid\":%d,\"signal\":%d", v->name,
             v->index, (int)v->pid, sig);
    say(c, text, json);
    if (kill(v->pid, sig) < 0) {
        fprintf(stderr, "airsrt-inject: kill %s (pid %d): %s\n", v->name,
                (int)v->pid, strerror(errno));
        return TOOL_EXIT_SYSTEM;
    }
    return TOOL_EXIT_OK;
}

int inject_stall(struct inject_ctx *c, const struct victim *v, uint32_t ms)
{
    char text[256], json[256];
    int rc = TOOL_EXIT_OK;

    snprintf(text, sizeof(text), "stall %s (worker %" PRIu32 ", pid %d) for "
             "%" PRIu32 " ms", v->name, v->index, (int)v->pid, ms);
    snprintf(json, sizeof(json), "\"fault\":\"stall\",\"worker\":\"%s\","
             "\"index\":%" PRIu32 ",\"pid\":%d,\"ms\":%" PRIu32, v->name,
             v->index, (int)v->pid, ms);
    say(c, text, json);
    if (kill(v->pid, SIGSTOP) < 0) {
        fprintf(stderr, "airsrt-inject: stop %s (pid %d): %s\n", v->name,
                (int)v->pid, strerror(errno));
        return TOOL_EXIT_SYSTEM;
    }
    inject_nap(c, ms);
    /* Always, interrupted or not. ESRCH: it died meanwhile (the
     * supervisor may have taken the stop for a hang), nothing to do. */
    if (kill(v->pid, SIGCONT) < 0 && errno != ESRCH) {
        fprintf(stderr, "airsrt-inject: continue %s (pid %d): %s\n",
                v->name, (int)v->pid, strerror(errno));
        rc = TOOL_EXIT_SYSTEM;
    }
    return rc;
}

/* True once the worker of pid is gone from its slot. */
static bool has_left(const struct inject_ctx *c, const struct victim *v)
{
    const struct airsrt_worker_sup *sup =
        airsrt_shm_worker_sup(&c->shm, v->index);

    return atomic_load_explicit(&sup->pid, memory_order_relaxed) != v->pid ||
           atomic_load_explicit(&sup->state, memory_order_relaxed) !=
               AIRSRT_WORKER_RUNNING;
}

int inject_kill_in_lock(struct inject_ctx *c, const struct victim *v)
{
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(&c->shm, v->index);
    uint32_t inc = atomic_load_explicit(&sup->incarnation,
                                        memory_order_relaxed);
    char text[256], json[256];
    uint64_t t0;
    int rc;

    snprintf(text, sizeof(text), "kill-in-lock %s (worker %" PRIu32 ", pid "
             "%d) holding the registry lock", v->name, v->index, (int)v->pid);
    snprintf(json, sizeof(json), "\"fault\":\"kill-in-lock\",\"worker\":"
             "\"%s\",\"index\":%" PRIu32 ",\"pid\":%d,\"lock\":\"registry\","
             "\"signal\":%d", v->name, v->index, (int)v->pid, SIGKILL);
    say(c, text, json);
    /* Relaxed: the word is the whole message (segment.h). */
    atomic_store_explicit(&sup->fault_request,
                          ((uint64_t)inc << 32) |
                              AIRSRT_FAULT_DIE_IN_REGISTRY_LOCK,
                          memory_order_relaxed);
    airsrt_doorbell_ring(airsrt_shm_doorbell(&c->shm, v->index));
    for (t0 = airsrt_now_ns(); !has_left(c, v);) {
        rc = wait_turn(c, t0, INJECT_WAIT_MS, 5);
        /* Interrupted: the request stands, the worker honors it at its
         * next poll whether we watch or not. */
        if (rc == -EINTR)
            break;
        if (rc < 0) {
            fprintf(stderr, "airsrt-inject: %s (pid %d) did not die within "
                    "%u ms of the request (stopped or hung?)\n", v->name,
                    (int)v->pid, INJECT_WAIT_MS);
            return TOOL_EXIT_SYSTEM;
        }
    }
    return TOOL_EXIT_OK;
}

/* ---- corrupt-ring ---- */

/* Binds r to the ring from -> to: the bytes published on it and not yet
 * released (0 if there is no such ring). */
static uint64_t unread_bytes(const struct inject_ctx *c, uint32_t from,
                             uint32_t to, struct airsrt_ring *r)
{
    if (airsrt_shm_data_ring(&c->shm, from, to, r) < 0)
        return 0;
    return airsrt_ring_used(r);
}

/* The peer with the most unread bytes for to; the first peer if none
 * has any. */
static uint32_t busiest_peer(const struct inject_ctx *c, uint32_t to)
{
    uint32_t best = to == 0 ? 1 : 0;
    uint64_t most = 0;
    struct airsrt_ring r;

    for (uint32_t p = 0; p < c->shm.params.nworkers; p++) {
        uint64_t n = p == to ? 0 : unread_bytes(c, p, to, &r);

        if (n > most) {
            most = n;
            best = p;
        }
    }
    return best;
}

/* Writes bytes seeded random bytes from the first unread record on. The
 * first one's header goes, so the victim cannot take the damage for a
 * record: it counts a corruption and skips to the producer's tail. */
static uint64_t scribble(struct airsrt_ring *r, uint64_t head, uint64_t n,
                         uint64_t seed)
{
    struct inject_prng p = { seed };
    uint64_t off = head & (r->capacity - 1);

    for (uint64_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)inject_prng_next(&p);

        /* Never leave the record's tag whole by chance. */
        if (i == 4)
            b = (uint8_t)~r->buf[(head + i) & (r->capacity - 1)];
        r->buf[(head + i) & (r->capacity - 1)] = b;
    }
    return off;
}

static void corrupt_say(struct inject_ctx *c, const struct victim *v,
                        uint32_t from, uint64_t off, uint64_t n,
                        uint64_t unread, uint64_t seed)
{
    char fname[TOOL_WORKER_NAME_MAX], text[384], json[384];

    slot_name(c, from, fname);
    snprintf(text, sizeof(text), "corrupt-ring %s (worker %" PRIu32 ") from "
             "%s (worker %" PRIu32 "): %" PRIu64 " bytes at ring offset %"
             PRIu64 " (%" PRIu64 " bytes unread), seed %" PRIu64, v->name,
             v->index, fname, from, n, off, unread, seed);
    snprintf(json, sizeof(json), "\"fault\":\"corrupt-ring\",\"worker\":"
             "\"%s\",\"index\":%" PRIu32 ",\"pid\":%d,\"from\":\"%s\","
             "\"from_index\":%" PRIu32 ",\"offset\":%" PRIu64 ",\"bytes\":%"
             PRIu64 ",\"unread\":%" PRIu64 ",\"seed\":%" PRIu64, v->name,
             v->index, (int)v->pid, fname, from, off, n, unread, seed);
    say(c, text, json);
}

/* SIGSTOP takes effect asynchronously: true once pid shows state T
 * (stopped) in /proc, within about a second; errno 0 when it never did. */
static bool is_stopped_soon(pid_t pid)
{
    char path[64], buf[512], *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(path, "r");
        size_t n = 0;

        if (f != NULL) {
            n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
        }
        buf[n] = '\0';
        /* The state follows the last ')': the name may hold any byte. */
        p = strrchr(buf, ')');
        if (p != NULL && p[1] == ' ' && (p[2] == 'T' || p[2] == 't'))
            return true;
        usleep(1000);
    }
    errno = 0;
    return false;
}

int inject_corrupt_ring(struct inject_ctx *c, const struct victim *v,
                        uint32_t from, uint32_t bytes, uint64_t seed)
{
    struct airsrt_ring r;
    uint64_t t0, unread, head, off, n;
    uint32_t f;
    int rc = TOOL_EXIT_OK, wrc = 0;

    if (c->shm.params.nworkers < 2 || from == v->index) {
        fprintf(stderr, "airsrt-inject: corrupt-ring: %s has no data ring "
                "from %s\n", v->name, from == v->index ? "itself" :
                "another worker (one worker only)");
        return TOOL_EXIT_USAGE;
    }
    /* Stopped, the victim cannot move its head: the bytes we scribble
     * are still unread when it reads them, and its live senders fill
     * the ring meanwhile. */
    if (kill(v->pid, SIGSTOP) < 0 || !is_stopped_soon(v->pid)) {
        fprintf(stderr, "airsrt-inject: stop %s (pid %d): %s\n", v->name,
                (int)v->pid, errno != 0 ? strerror(errno) : "still running");
        kill(v->pid, SIGCONT);
        return TOOL_EXIT_SYSTEM;
    }
    /* The last pass's peer and ring are the ones corrupted. */
    for (t0 = airsrt_now_ns();;) {
        f = from != UINT32_MAX ? from : busiest_peer(c, v->index);
        unread = unread_bytes(c, f, v->index, &r);
        if (unread != 0 || (wrc = wait_turn(c, t0, 2000, 5)) < 0)
            break;
    }
    if (wrc == -EINTR) {
        kill(v->pid, SIGCONT);
        return TOOL_EXIT_OK;
    }
    if (unread == 0) {
        kill(v->pid, SIGCONT);
        corrupt_say(c, v, f, 0, 0, 0, seed);
        fprintf(stderr, "airsrt-inject: corrupt-ring: nothing unread on the "
                "ring to %s; nothing corrupted\n", v->name);
        return c->is_chaos ? TOOL_EXIT_OK : TOOL_EXIT_SYSTEM;
    }
    head = atomic_load_explicit(&r.cons->head, memory_order_acquire);
    n = bytes < unread ? bytes : unread;
    off = scribble(&r, head, n, seed);
    corrupt_say(c, v, f, off, n, unread, seed);
    if (kill(v->pid, SIGCONT) < 0 && errno != ESRCH)
        rc = TOOL_EXIT_SYSTEM;
    return rc;
}

/* ---- flood and exhaust: producers on control rings ---- */

/* Sends e through worker w's control ring (airsrt_shm_ctl_send: the
 * doorbell rings after each one), waiting while it is full for at most
 * INJECT_WAIT_MS without progress. 0; -EAGAIN it stayed full; -EINTR
 * interrupted; another -errno from the send. */
static int ctl_send_wait(struct inject_ctx *c, uint32_t w,
                         const struct airsrt_envelope *e)
{
    uint64_t t0 = airsrt_now_ns();
    int rc, wrc;

    while ((rc = airsrt_shm_ctl_send(&c->shm, w, e)) == -EAGAIN)
        if ((wrc = wait_turn(c, t0, INJECT_WAIT_MS, 1)) < 0)
            return wrc == -EINTR ? wrc : rc;
    return rc;
}

/* The id of name and the worker that holds it. 0; -EINTR interrupted
 * (nothing said); else the exit status, the reason said. */
static int flood_resolve(struct inject_ctx *c, const char *name,
                         uint32_t *id, uint32_t *w)
{
    struct airsrt_address a;
    uint64_t t0 = airsrt_now_ns();
    int rc;

    /* An unbound name waits for its holder's next incarnation. */
    while ((rc = tool_name_resolve(&c->shm, name, id, &a)) == -EAGAIN ||
           rc == -EHOSTDOWN) {
        int wrc = wait_turn(c, t0, INJECT_WAIT_MS, 5);

        if (wrc == -EINTR)
            return wrc;
        if (wrc < 0)
            break;
    }
    if (rc == -EINVAL) {
        fprintf(stderr, "airsrt-inject: flood: \"%s\" is not a registry "
                "name\n", name);
        return TOOL_EXIT_USAGE;
    }
    if (rc == -ENOENT) {
        fprintf(stderr, "airsrt-inject: flood: no name \"%s\" in runtime "
                "%s\n", name, c->runtime);
        return TOOL_EXIT_USAGE;
    }
    if (rc < 0) {
        fprintf(stderr, "airsrt-inject: flood: \"%s\" is held by no running "
                "worker\n", name);
        return TOOL_EXIT_SYSTEM;
    }
    *w = a.worker;
    return 0;
}

int inject_flood(struct inject_ctx *c, const char *name, uint64_t n,
                 uint32_t type)
{
    union {
        struct airsrt_envelope env;
        uint8_t bytes[sizeof(struct airsrt_envelope) + sizeof(uint64_t)];
    } u;
    char wname[TOOL_WORKER_NAME_MAX], text[384];
    struct airsrt_msgid_gen gen;
    uint32_t id, w;
    uint64_t sent = 0;
    int rc = flood_resolve(c, name, &id, &w);

    if (rc == -EINTR)
        return TOOL_EXIT_OK;
    if (rc != 0)
        return rc;
    slot_name(c, w, wname);
    airsrt_envelope_init(&u.env, type, sizeof(uint64_t));
    u.env.recipient_name = id;
    /* Ids as airsrt-ctl's (envelope.h): no ring push is faster than one
     * per ns, so the counter never runs ahead of the clock. */
    airsrt_msgid_init(&gen, AIRSRT_MSGID_ORIGIN_TOOL, c->shm.hdr->epoch_ns);
    for (uint64_t seq = 1; seq <= n; seq++) {
        memcpy(u.env.payload, &seq, sizeof(seq));
        u.env.message_id = airsrt_msgid_next(&gen);
        /* Not only when the ring is full: a flood that never waits must
         * stop too. */
        rc = *c->stop ? -EINTR : ctl_send_wait(c, w, &u.env);
        if (rc < 0)
            break;
        sent++;
    }
    /* Interrupted, the line says how far it got, and that is all. */
    snprintf(text, sizeof(text), "flood %s (worker %s, id %" PRIu32 "): sent "
             "%" PRIu64 " of %" PRIu64 " envelopes of type %" PRIu32, name,
             wname, id, sent, n, type);
    say(c, text, NULL);
    if (sent < n && rc != -EINTR) {
        fprintf(stderr, "airsrt-inject: flood: control ring of %s %s after "
                "%" PRIu64 " envelopes\n", wname, rc == -EAGAIN ?
                "stayed full" : "refused more", sent);
        return TOOL_EXIT_SYSTEM;
    }
    return TOOL_EXIT_OK;
}

/* Fills worker w's control ring with type-0 envelopes to nobody until
 * it refuses one: each becomes an unroutable dead letter once the worker
 * reads it. Returns how many went in. */
static uint64_t fill_ctl(struct inject_ctx *c, uint32_t w)
{
    struct airsrt_envelope env;
    struct airsrt_ring r;
    uint64_t n = 0;

    if (airsrt_shm_ctl_ring(&c->shm, w, &r) < 0)
        return 0;
    airsrt_envelope_init(&env, 0, 0);
    while (airsrt_ctl_push(&r, &env) == 0)
        n++;
    return n;
}

/* A ring is exhausted when its sender was refused a write since
 * full0 was taken, or it has less than this left. (A sender that knows
 * the ring full may wait without trying, so refusals alone would not
 * tell.) */
#define EXHAUSTED_FREE 1024u

/* True once every inbound data ring of w is exhausted. */
static bool all_exhausted(struct inject_ctx *c, uint32_t w,
                          const uint64_t *full0)
{
    for (uint32_t p = 0; p < c->shm.params.nworkers; p++) {
        struct airsrt_ring r;
        uint64_t used;

        if (p == w || airsrt_shm_data_ring(&c->shm, p, w, &r) < 0)
            continue;
        used = airsrt_ring_used(&r);
        if (atomic_load_explicit(&r.prod->stats.full_events,
                                 memory_order_relaxed) == full0[p] &&
            r.capacity - used >= EXHAUSTED_FREE)
            return false;
    }
    return true;
}

static void exhaust_report(struct inject_ctx *c, uint32_t w,
                           const uint64_t *full0, uint64_t filler)
{
    char pname[TOOL_WORKER_NAME_MAX];
    struct airsrt_ring r;

    for (uint32_t p = 0; p < c->shm.params.nworkers; p++) {
        if (p == w || airsrt_shm_data_ring(&c->shm, p, w, &r) < 0)
            continue;
        slot_name(c, p, pname);
        printf("  ring from %s (worker %" PRIu32 "): %" PRIu64 " of %" PRIu64
               " bytes, %" PRIu64 " writes refused\n", pname, p,
               airsrt_ring_used(&r), r.capacity,
               atomic_load_explicit(&r.prod->stats.full_events,
                                    memory_order_relaxed) - full0[p]);
    }
    if (airsrt_shm_ctl_ring(&c->shm, w, &r) == 0)
        printf("  control ring: %" PRIu64 " of %" PRIu64 " bytes (%" PRIu64
               " filler envelopes)\n", airsrt_ring_used(&r), r.capacity,
               filler);
}

int inject_exhaust(struct inject_ctx *c, const struct victim *v, uint32_t ms)
{
    uint64_t *full0 = calloc(c->shm.params.nworkers, sizeof(*full0));
    uint64_t t0, filler;
    char text[256];
    int rc = TOOL_EXIT_OK;

    if (full0 == NULL)
        return TOOL_EXIT_SYSTEM;
    for (uint32_t p = 0; p < c->shm.params.nworkers; p++) {
        struct airsrt_ring r;

        if (p != v->index && airsrt_shm_data_ring(&c->shm, p, v->index,
                                                  &r) == 0)
            full0[p] = atomic_load_explicit(&r.prod->stats.full_events,
                                            memory_order_relaxed);
    }
    snprintf(text, sizeof(text), "exhaust %s (worker %" PRIu32 ", pid %d): "
             "stopped for up to %" PRIu32 " ms", v->name, v->index,
             (int)v->pid, ms);
    say(c, text, NULL);
    if (kill(v->pid, SIGSTOP) < 0) {
        free(full0);
        return TOOL_EXIT_SYSTEM;
    }
    filler = fill_ctl(c, v->index);
    /* Interrupted or not, the report and the SIGCONT follow. */
    for (t0 = airsrt_now_ns(); !all_exhausted(c, v->index, full0);)
        if (wait_turn(c, t0, ms, 5) < 0)
            break;
    exhaust_report(c, v->index, full0, filler);
    if (kill(v->pid, SIGCONT) < 0 && errno != ESRCH)
        rc = TOOL_EXIT_SYSTEM;
    printf("exhaust %s: continued after %" PRIu64 " ms\n", v->name,
           ms_since(t0));
    fflush(stdout);
    free(full0);
    return rc;
}
