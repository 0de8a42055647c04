/*
 * tools/airsrt-inject.c - fault injection into a running runtime
 * (airsrt-inject(1)): kill, stall, kill-in-lock, corrupt-ring, flood,
 * exhaust, and chaos, random faults reproducible from a seed.
 *
 * Attaches by name, as the runtime's owner. Exit statuses: 0 done; 100
 * usage error (bad arguments, unknown worker or name, fault injection
 * off); 111 system failure (no such runtime, another layout version, no
 * permission, a fault that could not be done). SIGINT and SIGTERM only
 * set a flag: whatever is stopped is continued, then the tool exits.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "tools/inject/faults.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void catch_stops(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int fault_injection_off(const struct inject_ctx *c)
{
    fprintf(stderr, "airsrt-inject: fault injection is off in runtime %s "
            "(set [runtime] fault_injection = true)\n", c->runtime);
    return TOOL_EXIT_USAGE;
}

/* The victim of a one-fault command, running: an exit status, and
 * TOOL_EXIT_OK with v->pid 0 when a stop signal came first (nothing to
 * do, nothing to say). */
static int victim_of(struct inject_ctx *c, const char *spec, struct victim *v)
{
    uint32_t w;
    int rc = tool_worker_arg(&c->shm, "airsrt-inject", spec, &w);

    if (rc != 0)
        return rc;
    if (inject_victim_get(c, w, INJECT_WAIT_MS, v) == -ETIMEDOUT) {
        fprintf(stderr, "airsrt-inject: %s (worker %" PRIu32 ") is not "
                "running\n", v->name, w);
        return TOOL_EXIT_SYSTEM;
    }
    return 0;
}

static int corrupt_ring(struct inject_ctx *c, const struct inject_opts *o,
                        const struct victim *v)
{
    uint32_t from = UINT32_MAX;
    uint64_t seed = o->has_seed ? o->seed : arc4random();
    int rc;

    if (o->from[0] != '\0' &&
        (rc = tool_worker_arg(&c->shm, "airsrt-inject", o->from, &from)) != 0)
        return rc;
    return inject_corrupt_ring(c, v, from, o->bytes, seed);
}

/* ---- chaos ---- */

struct chaos {
    unsigned faults[FAULT_N];
    uint32_t nfaults;
    uint32_t victims[AIRSRT_MAX_WORKERS];
    uint32_t nvictims;
    uint64_t by_fault[FAULT_N];
    uint64_t total;
};

static int chaos_faults(struct inject_ctx *c, const struct inject_opts *o,
                        struct chaos *ch)
{
    unsigned mask = o->faults;

    if (mask == 0) {
        mask = 1u << FAULT_KILL | 1u << FAULT_STALL;
        if (inject_fault_injection_on(c))
            mask |= 1u << FAULT_KILL_IN_LOCK;
    }
    if ((mask & 1u << FAULT_KILL_IN_LOCK) && !inject_fault_injection_on(c))
        return fault_injection_off(c);
    if ((mask & 1u << FAULT_CORRUPT_RING) && c->shm.params.nworkers < 2) {
        fprintf(stderr, "airsrt-inject: chaos: corrupt-ring needs two "
                "workers or more\n");
        return TOOL_EXIT_USAGE;
    }
    for (unsigned f = 0; f < FAULT_N; f++)
        if (mask & 1u << f)
            ch->faults[ch->nfaults++] = f;
    return 0;
}

static int chaos_victims(struct inject_ctx *c, const struct inject_opts *o,
                         struct chaos *ch)
{
    if (o->nworkers == 0) {
        for (uint32_t w = 0; w < c->shm.params.nworkers; w++)
            ch->victims[ch->nvictims++] = w;
        return 0;
    }
    for (uint32_t i = 0; i < o->nworkers; i++) {
        int rc = tool_worker_arg(&c->shm, "airsrt-inject", o->workers[i],
                                 &ch->victims[ch->nvictims]);

        if (rc != 0)
            return rc;
        ch->nvictims++;
    }
    return 0;
}

static void chaos_one(struct inject_ctx *c, const struct inject_step *st,
                      unsigned fault, const struct victim *v)
{
    uint32_t span = INJECT_CHAOS_STALL_MAX_MS - INJECT_CHAOS_STALL_MIN_MS + 1;

    switch (fault) {
    case FAULT_KILL:
        inject_kill(c, v, SIGKILL);
        break;
    case FAULT_STALL:
        inject_stall(c, v, INJECT_CHAOS_STALL_MIN_MS +
                               (uint32_t)(st->param % span));
        break;
    case FAULT_KILL_IN_LOCK:
        inject_kill_in_lock(c, v);
        break;
    default:
        inject_corrupt_ring(c, v, UINT32_MAX, 64, st->param);
        break;
    }
}

static void chaos_summary(const struct inject_ctx *c,
                          const struct inject_opts *o, const struct chaos *ch)
{
    const char *sep = "";

    if (c->is_json) {
        printf("{\"summary\":true,\"faults\":%" PRIu64 ",\"by_fault\":{",
               ch->total);
        for (unsigned f = 0; f < FAULT_N; f++)
            if (ch->by_fault[f] != 0 || o->faults & 1u << f) {
                printf("%s\"%s\":%" PRIu64, sep, inject_fault_names[f],
                       ch->by_fault[f]);
                sep = ",";
            }
        printf("},\"seed\":%" PRIu64 "}\n", o->seed);
    } else {
        printf("chaos: %" PRIu64 " faults (", ch->total);
        for (unsigned f = 0; f < FAULT_N; f++)
            if (ch->by_fault[f] != 0) {
                printf("%s%s %" PRIu64, sep, inject_fault_names[f],
                       ch->by_fault[f]);
                sep = ", ";
            }
        printf(") in %" PRIu64 " ms, seed %" PRIu64 "\n",
               (airsrt_now_ns() - c->t0_ns) / 1000000u, o->seed);
    }
    fflush(stdout);
}

/*
 * Steps through the seed's schedule until --duration: waits for each
 * step's time, then for its victim to be running (a victim still being
 * restarted delays what follows, never changes it), then injects.
 */
static int chaos(struct inject_ctx *c, const struct inject_opts *o)
{
    static struct chaos ch;
    struct inject_prng prng = { o->seed };
    struct inject_step st = { 0 };
    int rc;

    memset(&ch, 0, sizeof(ch));
    if ((rc = chaos_faults(c, o, &ch)) != 0 ||
        (rc = chaos_victims(c, o, &ch)) != 0)
        return rc;
    c->is_chaos = true;
    c->t0_ns = airsrt_now_ns();
    for (;;) {
        struct victim v;
        uint64_t now;

        inject_chaos_next(&prng, o->rate, ch.nfaults, ch.nvictims, st.at_ms,
                          &st);
        if (st.at_ms >= o->duration_ms)
            break;
        now = (airsrt_now_ns() - c->t0_ns) / 1000000u;
        if (st.at_ms > now)
            inject_nap(c, st.at_ms - now);
        now = (airsrt_now_ns() - c->t0_ns) / 1000000u;
        if (stop_flag || now >= o->duration_ms ||
            inject_victim_get(c, ch.victims[st.victim],
                              (uint32_t)(o->duration_ms - now), &v) < 0)
            break;
        chaos_one(c, &st, ch.faults[st.fault], &v);
        ch.by_fault[ch.faults[st.fault]]++;
        ch.total++;
    }
    chaos_summary(c, o, &ch);
    return TOOL_EXIT_OK;
}

static int run(struct inject_ctx *c, const struct inject_opts *o)
{
    struct victim v;
    int rc;

    if (o->cmd == INJECT_CHAOS)
        return chaos(c, o);
    if (o->cmd == INJECT_FLOOD)
        return inject_flood(c, o->name, o->count, o->type);
    if (o->cmd == INJECT_KILL_IN_LOCK && !inject_fault_injection_on(c))
        return fault_injection_off(c);
    if ((rc = victim_of(c, o->worker, &v)) != 0 || v.pid == 0)
        return rc;
    switch (o->cmd) {
    case INJECT_KILL:
        return inject_kill(c, &v, o->signal);
    case INJECT_STALL:
        return inject_stall(c, &v, o->ms);
    case INJECT_KILL_IN_LOCK:
        return inject_kill_in_lock(c, &v);
    case INJECT_CORRUPT_RING:
        return corrupt_ring(c, o, &v);
    default:
        return inject_exhaust(c, &v, o->ms != 0 ? o->ms
                                                : INJECT_EXHAUST_MS_DEFAULT);
    }
}

int main(int argc, char **argv)
{
    static struct inject_opts o;
    static struct inject_ctx c;
    char err[INJECT_ERR_MAX];
    int rc = inject_args_parse(argc, argv, &o, err, sizeof(err));

    if (rc != TOOL_EXIT_OK) {
        fprintf(stderr, "airsrt-inject: %s\n"
                "Try 'airsrt-inject --help' for more information.\n", err);
        return rc;
    }
    if (o.cmd == INJECT_HELP) {
        inject_usage(stdout);
        return TOOL_EXIT_OK;
    }
    c.runtime = o.runtime;
    c.is_json = o.is_json;
    c.stop = &stop_flag;
    catch_stops();
    rc = tool_attach(&c.shm, "airsrt-inject", o.runtime, false);
    if (rc != 0)
        return rc;
    rc = run(&c, &o);
    airsrt_shm_detach(&c.shm);
    return rc;
}
