/*
 * tools/ctl/report.c - the two per-worker reports: actors WORKER (the
 * busiest actors, from the worker's actors region) and postmortem WORKER
 * (its last death, from the postmortem record the supervisor keeps).
 * Both read bytes other processes wrote: actors_high and the flight
 * recorder's count are clamped, addresses validated, strings cut.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "airsrt/actor.h"
#include "shm/registry.h"
#include "tools/ctl/ctl.h"

static const char *const actor_states[] = {
    "free", "starting", "running", "stopping", "stopped", "failed",
};

/* ---- actors ---- */

struct arow {
    struct airsrt_address addr;
    uint32_t state, depth, restarts, name_id;
    uint64_t handled, last_ns;
};

/* Busiest first: deepest mailbox, then most handled, then slot. */
static int arow_cmp(const void *pa, const void *pb)
{
    const struct arow *a = pa, *b = pb;

    if (a->depth != b->depth)
        return a->depth > b->depth ? -1 : 1;
    if (a->handled != b->handled)
        return a->handled > b->handled ? -1 : 1;
    return a->addr.slot < b->addr.slot ? -1 : a->addr.slot > b->addr.slot;
}

/* The live actors of worker w, incarnation inc: *n of them, malloc'd. */
static struct arow *actors_collect(const struct airsrt_shm *shm, uint32_t w,
                                   uint32_t inc, size_t *n)
{
    const struct airsrt_worker_self *self = airsrt_shm_worker_self(shm, w);
    const struct airsrt_actor_stats *st = airsrt_shm_actor_stats(shm, w);
    uint64_t high = atomic_load_explicit(&self->actors_high,
                                         memory_order_relaxed);
    struct arow *v;

    /* Untrusted: never past the region (actors_max + 1 entries). */
    if (high > (uint64_t)shm->params.actors_max + 1)
        high = (uint64_t)shm->params.actors_max + 1;
    *n = 0;
    v = calloc(high ? high : 1, sizeof(*v));
    if (v == NULL)
        return NULL;
    for (uint32_t s = 1; s < high; s++) {
        struct arow *r = &v[*n];

        r->state = atomic_load_explicit(&st[s].state, memory_order_relaxed);
        r->addr = (struct airsrt_address){
            .worker = (uint16_t)w, .incarnation = inc, .slot = s,
            .generation = atomic_load_explicit(&st[s].generation,
                                               memory_order_relaxed),
        };
        if (r->state < AIRSRT_ACTOR_STARTING ||
            r->state > AIRSRT_ACTOR_STOPPING || r->addr.generation == 0)
            continue;
        r->depth = atomic_load_explicit(&st[s].depth, memory_order_relaxed);
        r->restarts = atomic_load_explicit(&st[s].restarts,
                                           memory_order_relaxed);
        r->name_id = atomic_load_explicit(&st[s].name_id,
                                          memory_order_relaxed);
        r->handled = atomic_load_explicit(&st[s].handled,
                                          memory_order_relaxed);
        r->last_ns = atomic_load_explicit(&st[s].last_ns,
                                          memory_order_relaxed);
        (*n)++;
    }
    qsort(v, *n, sizeof(*v), arow_cmp);
    return v;
}

/* The registered name of an actor, "" if none or unreadable. */
static void actor_name(const struct airsrt_shm *shm, const struct arow *r,
                       char out[AIRSRT_REGISTRY_NAME_MAX + 1])
{
    struct airsrt_registry_record rec;
    struct airsrt_registry reg;

    out[0] = '\0';
    if (r->name_id != 0 && airsrt_registry_open(&reg, shm) == 0 &&
        airsrt_registry_lookup(&reg, r->name_id, &rec) == 0 &&
        rec.kind == AIRSRT_REGISTRY_NAME)
        ctl_str_copy(out, rec.name, AIRSRT_REGISTRY_NAME_MAX);
}

static void actor_json(const struct airsrt_shm *shm, uint32_t w,
                       const struct arow *r, uint64_t now, FILE *f)
{
    char type[AIRSRT_TYPE_NAME_MAX + 1], name[AIRSRT_REGISTRY_NAME_MAX + 1];

    ctl_type_name(shm, w, r->addr.slot, type);
    actor_name(shm, r, name);
    fputs("{\"address\":", f);
    ctl_json_addr(f, &r->addr);
    fprintf(f, ",\"slot\":%" PRIu32 ",\"type\":", r->addr.slot);
    ctl_json_str(f, type);
    fputs(",\"name\":", f);
    if (name[0])
        ctl_json_str(f, name);
    else
        fputs("null", f);
    fprintf(f, ",\"state\":\"%s\",\"depth\":%" PRIu32 ",\"handled\":%" PRIu64
            ",\"restarts\":%" PRIu32 ",\"last_age_ms\":",
            NAMEOF(actor_states, r->state), r->depth, r->handled,
            r->restarts);
    if (r->last_ns == 0)
        fputs("null}", f);
    else
        fprintf(f, "%" PRIu64 "}",
                now > r->last_ns ? (now - r->last_ns) / 1000000 : 0);
}

static void actor_text(const struct airsrt_shm *shm, uint32_t w,
                       const struct arow *r, uint64_t now, FILE *f)
{
    char type[AIRSRT_TYPE_NAME_MAX + 1], name[AIRSRT_REGISTRY_NAME_MAX + 1];
    char addr[AIRSRT_ADDRESS_STR_MAX], last[32];

    ctl_type_name(shm, w, r->addr.slot, type);
    actor_name(shm, r, name);
    ctl_text_addr(&r->addr, addr, sizeof(addr));
    if (r->last_ns == 0)
        strlcpy(last, "-", sizeof(last));
    else
        snprintf(last, sizeof(last), "%" PRIu64 "ms",
                 now > r->last_ns ? (now - r->last_ns) / 1000000 : 0);
    fprintf(f, "%-20s %-16s %-20s %-9s %7" PRIu32 " %10" PRIu64 " %8" PRIu32
            "  %s\n", addr, type[0] ? type : "-", name[0] ? name : "-",
            NAMEOF(actor_states, r->state), r->depth, r->handled,
            r->restarts, last);
}

int ctl_show_actors(const struct airsrt_shm *shm, uint32_t w, uint32_t top,
                    bool is_json, FILE *f)
{
    const struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(shm, w);
    uint32_t inc = atomic_load_explicit(&ws->incarnation, memory_order_relaxed);
    uint64_t now = airsrt_now_ns();
    char name[TOOL_WORKER_NAME_MAX];
    struct arow *v;
    size_t n = 0, shown;

    tool_worker_name(shm, w, name);
    if (ctl_self_is_of(shm, w, inc)) {
        v = actors_collect(shm, w, inc, &n);
        if (v == NULL) {
            fprintf(stderr, "airsrt-ctl: out of memory\n");
            return TOOL_EXIT_SYSTEM;
        }
    } else {
        v = NULL;                 /* not running: no actors to show */
    }
    shown = n < top ? n : top;
    if (is_json) {
        ctl_json_runtime(f, shm);
        fputs(",\"worker\":", f);
        ctl_json_str(f, name);
        fprintf(f, ",\"index\":%" PRIu32 ",\"incarnation\":%" PRIu32
                ",\"actors_alive\":%zu,\"actors\":[", w, inc, n);
        for (size_t i = 0; i < shown; i++) {
            fputs(i ? "," : "", f);
            actor_json(shm, w, &v[i], now, f);
        }
        fputs("]}\n", f);
    } else {
        fprintf(f, "worker %s (index %" PRIu32 ", incarnation %" PRIu32
                "): %zu actors alive, top %zu by mailbox depth\n", name, w,
                inc, n, shown);
        fprintf(f, "%-20s %-16s %-20s %-9s %7s %10s %8s  %s\n", "ADDRESS",
                "TYPE", "NAME", "STATE", "DEPTH", "HANDLED", "RESTARTS",
                "LAST");
        for (size_t i = 0; i < shown; i++)
            actor_text(shm, w, &v[i], now, f);
    }
    free(v);
    return 0;
}

/* ---- postmortem ---- */

/* The address of the actor that handled flight entry e of worker w. */
static struct airsrt_address flight_recipient(uint32_t w, uint32_t inc,
                                              const struct ctl_flight *e)
{
    struct airsrt_address a = {
        .worker = (uint16_t)w, .incarnation = inc,
        .slot = e->recipient_slot, .generation = e->recipient_generation,
    };

    return airsrt_address_validate(&a) == 0 ? a : AIRSRT_ADDRESS_NULL;
}

static const char *signame(int sig)
{
    const char *s = sig > 0 && sig < 65 ? sigabbrev_np(sig) : NULL;

    return s ? s : "?";
}

static void pm_text_death(const struct airsrt_postmortem *pm, FILE *f)
{
    char when[40] = "?", addr[AIRSRT_ADDRESS_STR_MAX];
    char type[AIRSRT_TYPE_NAME_MAX + 1], name[AIRSRT_REGISTRY_NAME_MAX + 1];
    time_t t = (time_t)(pm->died_ns / 1000000000u);
    struct tm tm;

    if (gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "  incarnation %" PRIu32 ", pid %" PRId32 ", ", pm->incarnation,
            pm->pid);
    if (pm->signal != 0)
        fprintf(f, "killed by signal %" PRId32 " (SIG%s)", pm->signal,
                signame(pm->signal));
    else
        fprintf(f, "exit status %" PRId32, pm->status);
    fprintf(f, ", %s\n  died %s after %" PRIu64 ".%03" PRIu64 "s up\n",
            airsrt_postmortem_reason_name(pm->reason), when,
            pm->uptime_ns / 1000000000u, pm->uptime_ns / 1000000u % 1000u);
    if (!pm->is_handling) {
        fputs("  handling: nothing (between handlers)\n", f);
        return;
    }
    ctl_str_copy(type, pm->actor_type, AIRSRT_TYPE_NAME_MAX);
    ctl_str_copy(name, pm->actor_name, AIRSRT_REGISTRY_NAME_MAX);
    ctl_text_addr(&pm->actor, addr, sizeof(addr));
    fprintf(f, "  handling: actor %s %s (type %s), message type 0x%" PRIx32
            "\n", name[0] ? name : "-", addr, type[0] ? type : "-",
            pm->message_type);
}

static void pm_text_flight(const struct airsrt_shm *shm, uint32_t w,
                           const struct airsrt_postmortem *pm, FILE *f)
{
    struct ctl_flight fl[AIRSRT_FLIGHT_ENTRIES];
    uint32_t n = ctl_flight_decode(&pm->flight, fl);
    char from[AIRSRT_ADDRESS_STR_MAX], to[AIRSRT_ADDRESS_STR_MAX];

    fprintf(f, "last %" PRIu32 " envelopes handled, oldest first:\n", n);
    if (n == 0)
        return;
    fprintf(f, "  %-12s %-12s %-20s %-20s %-20s %s\n", "AT", "TYPE",
            "SENDER", "RECIPIENT", "MESSAGE_ID", "LEN");
    for (uint32_t i = 0; i < n; i++) {
        struct airsrt_address to_a = flight_recipient(w, pm->incarnation,
                                                      &fl[i]);
        uint64_t at = fl[i].handled_ns > shm->hdr->epoch_ns ?
                      fl[i].handled_ns - shm->hdr->epoch_ns : 0;
        char type[16], ats[32];

        snprintf(type, sizeof(type), "0x%" PRIx32, fl[i].type);
        /* ms since the runtime started: the worker's poll clock. */
        snprintf(ats, sizeof(ats), "%" PRIu64 "ms", at / 1000000u);
        ctl_text_addr(&fl[i].sender, from, sizeof(from));
        ctl_text_addr(&to_a, to, sizeof(to));
        fprintf(f, "  %-12s %-12s %-20s %-20s 0x%016" PRIx64 "   %" PRIu32
                "\n", ats, type, from, to, fl[i].message_id,
                fl[i].payload_len);
    }
}

static void pm_json_flight(const struct airsrt_shm *shm, uint32_t w,
                           const struct airsrt_postmortem *pm, FILE *f)
{
    struct ctl_flight fl[AIRSRT_FLIGHT_ENTRIES];
    uint32_t n = ctl_flight_decode(&pm->flight, fl);

    fputs(",\"flight\":[", f);
    for (uint32_t i = 0; i < n; i++) {
        struct airsrt_address to = flight_recipient(w, pm->incarnation,
                                                    &fl[i]);
        uint64_t at = fl[i].handled_ns > shm->hdr->epoch_ns ?
                      fl[i].handled_ns - shm->hdr->epoch_ns : 0;

        fprintf(f, "%s{\"at_ns\":%" PRIu64 ",\"type\":%" PRIu32
                ",\"sender\":", i ? "," : "", at, fl[i].type);
        ctl_json_addr(f, &fl[i].sender);
        fputs(",\"recipient\":", f);
        ctl_json_addr(f, &to);
        fprintf(f, ",\"message_id\":%" PRIu64 ",\"payload_len\":%" PRIu32
                "}", fl[i].message_id, fl[i].payload_len);
    }
    fputc(']', f);
}

static void pm_json_death(const struct airsrt_postmortem *pm, FILE *f)
{
    char type[AIRSRT_TYPE_NAME_MAX + 1], name[AIRSRT_REGISTRY_NAME_MAX + 1];

    fprintf(f, "{\"incarnation\":%" PRIu32 ",\"pid\":%" PRId32
            ",\"status\":%" PRId32 ",\"signal\":%" PRId32
            ",\"reason\":\"%s\",\"died_unix_ns\":%" PRIu64
            ",\"uptime_ns\":%" PRIu64 ",\"handling\":", pm->incarnation,
            pm->pid, pm->status, pm->signal,
            airsrt_postmortem_reason_name(pm->reason), pm->died_ns,
            pm->uptime_ns);
    if (!pm->is_handling) {
        fputs("null", f);
        return;
    }
    ctl_str_copy(type, pm->actor_type, AIRSRT_TYPE_NAME_MAX);
    ctl_str_copy(name, pm->actor_name, AIRSRT_REGISTRY_NAME_MAX);
    fputs("{\"actor\":", f);
    ctl_json_addr(f, &pm->actor);
    fputs(",\"actor_name\":", f);
    ctl_json_str(f, name);
    fputs(",\"actor_type\":", f);
    ctl_json_str(f, type);
    fprintf(f, ",\"message_type\":%" PRIu32 "}", pm->message_type);
}

int ctl_show_postmortem(const struct airsrt_shm *shm, uint32_t w,
                        bool is_json, FILE *f)
{
    struct airsrt_postmortem pm;
    char name[TOOL_WORKER_NAME_MAX];
    uint32_t deaths;

    tool_worker_name(shm, w, name);
    if (ctl_postmortem_copy(airsrt_shm_postmortem(shm, w), &pm) < 0) {
        fprintf(stderr, "airsrt-ctl: the postmortem record of %s is being "
                "written; try again\n", name);
        return TOOL_EXIT_SYSTEM;
    }
    deaths = atomic_load_explicit(&pm.deaths, memory_order_relaxed);
    if (is_json) {
        ctl_json_runtime(f, shm);
        fputs(",\"worker\":", f);
        ctl_json_str(f, name);
        fprintf(f, ",\"index\":%" PRIu32 ",\"deaths\":%" PRIu32
                ",\"last\":", w, deaths);
        if (deaths == 0) {
            fputs("null}\n", f);
            return 0;
        }
        pm_json_death(&pm, f);
        pm_json_flight(shm, w, &pm, f);
        fputs("}}\n", f);
        return 0;
    }
    if (deaths == 0) {
        fprintf(f, "worker %s (index %" PRIu32 "): no death recorded\n",
                name, w);
        return 0;
    }
    fprintf(f, "worker %s (index %" PRIu32 "): %" PRIu32 " death%s "
            "recorded, the last:\n", name, w, deaths, deaths == 1 ? "" : "s");
    pm_text_death(&pm, f);
    pm_text_flight(shm, w, &pm, f);
    return 0;
}
