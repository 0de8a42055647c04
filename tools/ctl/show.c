/*
 * tools/ctl/show.c - the read-only commands: status, names, topics,
 * pools, actors and postmortem, as text tables or as JSON (one object,
 * documented field by field in man/airsrt-ctl.1; fields are only ever
 * added). Text tables are for people: fixed-width columns, a header row,
 * "-" for nothing.
 *
 * Each reads a snapshot: fields of one row may come from different
 * moments, since the writers never stop for a reader.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "shm/registry.h"
#include "tools/ctl/ctl.h"
#include "worker/worker_impl.h"

static const char *const worker_states[] = {
    "empty", "starting", "running", "stopping", "stopped", "crashed",
};
static const char *const dl_reasons[AIRSRT_DEAD_LETTER_REASONS] = {
    "stale", "expired", "mailbox_full", "unbound", "stopped", "unroutable",
    "late_reply", "no_subscriber",
};

void ctl_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void ctl_json_addr(FILE *f, const struct airsrt_address *a)
{
    char buf[AIRSRT_ADDRESS_STR_MAX];

    if (airsrt_address_is_null(a) || airsrt_address_validate(a) < 0) {
        fputs("null", f);
        return;
    }
    airsrt_address_format(a, buf, sizeof(buf));
    ctl_json_str(f, buf);
}

void ctl_text_addr(const struct airsrt_address *a, char *buf, size_t len)
{
    if (airsrt_address_is_null(a) || airsrt_address_validate(a) < 0)
        strlcpy(buf, "-", len);
    else
        airsrt_address_format(a, buf, len);
}

void ctl_json_runtime(FILE *f, const struct airsrt_shm *shm)
{
    char name[AIRSRT_RUNTIME_NAME_MAX + 1];

    ctl_str_copy(name, shm->hdr->name, AIRSRT_RUNTIME_NAME_MAX);
    fputs("{\"runtime\":", f);
    ctl_json_str(f, name);
}

/* ---- status ---- */

/* One worker as status shows it. */
struct wrow {
    char name[TOOL_WORKER_NAME_MAX];
    uint32_t state, incarnation, restarts, actors_alive;
    int32_t pid;
    uint64_t inbound_used, inbound_cap, control_used;
    uint64_t in, out, dead[AIRSRT_DEAD_LETTER_REASONS], dead_total;
    int64_t beat_age_ms;          /* -1 = no heartbeat */
    bool is_handling;
    struct airsrt_address handling;
    uint32_t handling_type;
    char handling_type_name[AIRSRT_TYPE_NAME_MAX + 1];
};

static void row_rings(const struct airsrt_shm *shm, uint32_t w,
                      struct wrow *r)
{
    struct airsrt_ring ring;

    for (uint32_t s = 0; s < shm->params.nworkers; s++)
        if (airsrt_shm_data_ring(shm, s, w, &ring) == 0) {
            r->inbound_used += airsrt_ring_used(&ring);
            r->inbound_cap += ring.capacity;
        }
    if (airsrt_shm_ctl_ring(shm, w, &ring) == 0)
        r->control_used = airsrt_ring_used(&ring);
}

/* The type name of actor slot `slot` of worker w, "" if unknown. */
void ctl_type_name(const struct airsrt_shm *shm, uint32_t w,
                         uint32_t slot, char out[AIRSRT_TYPE_NAME_MAX + 1])
{
    const struct airsrt_worker_self *self = airsrt_shm_worker_self(shm, w);
    const struct airsrt_actor_stats *st = airsrt_shm_actor_stats(shm, w);
    uint32_t ntypes = atomic_load_explicit(&self->ntypes, memory_order_relaxed);
    uint32_t t;

    out[0] = '\0';
    if (slot == 0 || slot > shm->params.actors_max)
        return;
    t = atomic_load_explicit(&st[slot].type, memory_order_relaxed);
    if (t < ntypes && t < AIRSRT_WORKER_TYPE_NAMES)
        ctl_str_copy(out, self->type_names[t], AIRSRT_TYPE_NAME_MAX);
}

static void row_self(const struct airsrt_shm *shm, uint32_t w, struct wrow *r)
{
    const struct airsrt_worker_self *self = airsrt_shm_worker_self(shm, w);
    uint64_t beat, now = airsrt_now_ns();

    r->beat_age_ms = -1;
    if (!ctl_self_is_of(shm, w, r->incarnation))
        return;
    r->actors_alive = atomic_load_explicit(&self->actors_alive,
                                           memory_order_relaxed);
    r->in = atomic_load_explicit(&self->envelopes_in, memory_order_relaxed);
    r->out = atomic_load_explicit(&self->envelopes_out, memory_order_relaxed);
    for (uint32_t i = 0; i < AIRSRT_DEAD_LETTER_REASONS; i++) {
        r->dead[i] = atomic_load_explicit(&self->dead_letters[i],
                                          memory_order_relaxed);
        r->dead_total += r->dead[i];
    }
    beat = atomic_load_explicit(&self->heartbeat_ns, memory_order_relaxed);
    if (beat != 0)
        r->beat_age_ms = beat < now ? (int64_t)((now - beat) / 1000000) : 0;
    r->is_handling = r->state == AIRSRT_WORKER_RUNNING &&
        atomic_load_explicit(&self->is_handling, memory_order_relaxed) != 0;
    if (!r->is_handling)
        return;
    /* Not atomic (segment.h): may be torn while it runs; validated. */
    memcpy(&r->handling, (const void *)&self->handling_actor,
           sizeof(r->handling));
    r->handling_type = atomic_load_explicit(&self->handling_type,
                                            memory_order_relaxed);
    ctl_type_name(shm, w, r->handling.slot, r->handling_type_name);
}

static void row_read(const struct airsrt_shm *shm, uint32_t w, struct wrow *r)
{
    const struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(shm, w);

    memset(r, 0, sizeof(*r));
    tool_worker_name(shm, w, r->name);
    r->state = atomic_load_explicit(&ws->state, memory_order_relaxed);
    r->pid = atomic_load_explicit(&ws->pid, memory_order_relaxed);
    r->incarnation = atomic_load_explicit(&ws->incarnation,
                                          memory_order_relaxed);
    r->restarts = atomic_load_explicit(&ws->restarts, memory_order_relaxed);
    row_rings(shm, w, r);
    row_self(shm, w, r);
}

static uint64_t uptime_ms(const struct airsrt_shm *shm)
{
    uint64_t now = airsrt_now_ns(), epoch = shm->hdr->epoch_ns;

    return now > epoch ? (now - epoch) / 1000000 : 0;
}

static void status_json_row(FILE *f, uint32_t w, const struct wrow *r)
{
    fprintf(f, "{\"index\":%" PRIu32 ",\"name\":", w);
    ctl_json_str(f, r->name);
    fprintf(f, ",\"pid\":%" PRId32 ",\"state\":\"%s\",\"incarnation\":%" PRIu32
            ",\"restarts\":%" PRIu32 ",\"actors_alive\":%" PRIu32
            ",\"inbound_bytes\":%" PRIu64 ",\"inbound_capacity\":%" PRIu64
            ",\"control_bytes\":%" PRIu64 ",\"envelopes_in\":%" PRIu64
            ",\"envelopes_out\":%" PRIu64 ",\"dead_letters\":{",
            r->pid, NAMEOF(worker_states, r->state), r->incarnation,
            r->restarts, r->actors_alive, r->inbound_used, r->inbound_cap,
            r->control_used, r->in, r->out);
    for (uint32_t i = 0; i < AIRSRT_DEAD_LETTER_REASONS; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", dl_reasons[i],
                r->dead[i]);
    fputs("},\"heartbeat_age_ms\":", f);
    if (r->beat_age_ms < 0)
        fputs("null", f);
    else
        fprintf(f, "%" PRId64, r->beat_age_ms);
    fputs(",\"handling\":", f);
    if (!r->is_handling) {
        fputs("null}", f);
        return;
    }
    fputs("{\"actor\":", f);
    ctl_json_addr(f, &r->handling);
    fputs(",\"actor_type\":", f);
    ctl_json_str(f, r->handling_type_name);
    fprintf(f, ",\"message_type\":%" PRIu32 "}}", r->handling_type);
}

static void status_text_row(FILE *f, uint32_t w, const struct wrow *r)
{
    char inbound[48], beat[24], handling[96], addr[AIRSRT_ADDRESS_STR_MAX];

    snprintf(inbound, sizeof(inbound), "%" PRIu64 "/%" PRIu64,
             r->inbound_used, r->inbound_cap);
    if (r->beat_age_ms < 0)
        strlcpy(beat, "-", sizeof(beat));
    else
        snprintf(beat, sizeof(beat), "%" PRId64 "ms", r->beat_age_ms);
    if (r->is_handling) {
        ctl_text_addr(&r->handling, addr, sizeof(addr));
        snprintf(handling, sizeof(handling), "%s%s/0x%" PRIx32,
                 r->handling_type_name, addr, r->handling_type);
    } else {
        strlcpy(handling, "-", sizeof(handling));
    }
    fprintf(f, "%3" PRIu32 "  %-12s %-8" PRId32 " %-9s %4" PRIu32 " %4"
            PRIu32 " %7" PRIu32 "  %-20s %9" PRIu64 " %9" PRIu64 " %6" PRIu64
            "  %-7s %s\n", w, r->name, r->pid,
            NAMEOF(worker_states, r->state), r->incarnation, r->restarts,
            r->actors_alive, inbound, r->in, r->out, r->dead_total, beat,
            handling);
}

int ctl_show_status(const struct airsrt_shm *shm, bool is_json, FILE *f)
{
    char name[AIRSRT_RUNTIME_NAME_MAX + 1];
    uint32_t n = shm->params.nworkers;
    struct wrow r;

    ctl_str_copy(name, shm->hdr->name, AIRSRT_RUNTIME_NAME_MAX);
    if (is_json) {
        ctl_json_runtime(f, shm);
        fprintf(f, ",\"layout_version\":%" PRIu32 ",\"supervisor_pid\":%"
                PRId32 ",\"uptime_ms\":%" PRIu64 ",\"workers\":[",
                shm->hdr->version, shm->hdr->owner_pid, uptime_ms(shm));
        for (uint32_t w = 0; w < n; w++) {
            row_read(shm, w, &r);
            fputs(w ? "," : "", f);
            status_json_row(f, w, &r);
        }
        fputs("]}\n", f);
        return 0;
    }
    fprintf(f, "runtime %s  layout %" PRIu32 "  supervisor pid %" PRId32
            "  uptime %" PRIu64 ".%" PRIu64 "s  workers %" PRIu32 "\n", name,
            shm->hdr->version, shm->hdr->owner_pid, uptime_ms(shm) / 1000,
            uptime_ms(shm) % 1000 / 100, n);
    fprintf(f, "%3s  %-12s %-8s %-9s %4s %4s %7s  %-20s %9s %9s %6s  %-7s "
            "%s\n", "IDX", "WORKER", "PID", "STATE", "INC", "RST", "ACTORS",
            "INBOUND", "IN", "OUT", "DEAD", "BEAT", "HANDLING");
    for (uint32_t w = 0; w < n; w++) {
        row_read(shm, w, &r);
        status_text_row(f, w, &r);
    }
    return 0;
}

/* ---- names, topics, pools: walks of the registry ---- */

typedef void (*entry_fn)(const struct airsrt_shm *shm,
                         const struct airsrt_registry_record *rec,
                         bool is_json, bool is_first, FILE *f);

/* Calls fn for each readable entry of kind; returns how many entries
 * could not be read (being written, torn or corrupt). */
static uint32_t registry_walk(const struct airsrt_shm *shm, uint32_t kind,
                              entry_fn fn, bool is_json, FILE *f,
                              uint32_t *shown)
{
    struct airsrt_registry_record rec;
    struct airsrt_registry reg;
    uint32_t bad = 0;
    int rc;

    *shown = 0;
    if (airsrt_registry_open(&reg, shm) < 0)
        return 0;
    for (uint32_t id = 1; id <= reg.capacity; id++) {
        rc = airsrt_registry_lookup(&reg, id, &rec);
        if (rc == -EAGAIN || rc == -EBADMSG)
            bad++;
        if (rc < 0 || rec.kind != kind)
            continue;
        rec.name[AIRSRT_REGISTRY_NAME_MAX] = '\0';
        fn(shm, &rec, is_json, *shown == 0, f);
        (*shown)++;
    }
    return bad;
}

static void worker_of(const struct airsrt_shm *shm,
                      const struct airsrt_address *a,
                      char out[TOOL_WORKER_NAME_MAX])
{
    out[0] = '\0';
    if (!airsrt_address_is_null(a) && airsrt_address_validate(a) == 0 &&
        a->node == 0 && a->worker < shm->params.nworkers)
        tool_worker_name(shm, a->worker, out);
}

static void name_entry(const struct airsrt_shm *shm,
                       const struct airsrt_registry_record *rec,
                       bool is_json, bool is_first, FILE *f)
{
    char addr[AIRSRT_ADDRESS_STR_MAX], worker[TOOL_WORKER_NAME_MAX];
    bool is_bound = !airsrt_address_is_null(&rec->addr);

    worker_of(shm, &rec->addr, worker);
    if (is_json) {
        fputs(is_first ? "{\"name\":" : ",{\"name\":", f);
        ctl_json_str(f, rec->name);
        fprintf(f, ",\"id\":%" PRIu32 ",\"bound\":%s,\"holder\":", rec->id,
                is_bound ? "true" : "false");
        ctl_json_addr(f, &rec->addr);
        fputs(",\"worker\":", f);
        if (worker[0])
            ctl_json_str(f, worker);
        else
            fputs("null", f);
        fputc('}', f);
        return;
    }
    if (is_first)
        fprintf(f, "%-24s %6s  %-20s %-12s %s\n", "NAME", "ID", "HOLDER",
                "WORKER", "STATE");
    ctl_text_addr(&rec->addr, addr, sizeof(addr));
    fprintf(f, "%-24s %6" PRIu32 "  %-20s %-12s %s\n", rec->name, rec->id,
            addr, worker[0] ? worker : "-", is_bound ? "bound" : "unbound");
}

/* Running workers whose self page is of their running incarnation. */
static bool worker_is_live(const struct airsrt_shm *shm, uint32_t w,
                           uint32_t *inc)
{
    const struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(shm, w);

    *inc = atomic_load_explicit(&ws->incarnation, memory_order_relaxed);
    return atomic_load_explicit(&ws->state, memory_order_relaxed) ==
               AIRSRT_WORKER_RUNNING && ctl_self_is_of(shm, w, *inc);
}

static bool worker_subscribes(const struct airsrt_shm *shm, uint32_t w,
                              uint32_t id)
{
    uint32_t ids[AIRSRT_WORKER_TOPICS_MAX], inc;
    int n;

    if (!worker_is_live(shm, w, &inc))
        return false;
    n = airsrt__topic_page_read(&airsrt_shm_worker_self(shm, w)->topics, ids);
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void topic_entry(const struct airsrt_shm *shm,
                        const struct airsrt_registry_record *rec,
                        bool is_json, bool is_first, FILE *f)
{
    char worker[TOOL_WORKER_NAME_MAX];
    uint32_t k = 0;

    if (is_json) {
        fputs(is_first ? "{\"name\":" : ",{\"name\":", f);
        ctl_json_str(f, rec->name);
        fprintf(f, ",\"id\":%" PRIu32 ",\"workers\":[", rec->id);
    } else {
        if (is_first)
            fprintf(f, "%-24s %6s  %s\n", "TOPIC", "ID", "WORKERS");
        fprintf(f, "%-24s %6" PRIu32 "  ", rec->name, rec->id);
    }
    for (uint32_t w = 0; w < shm->params.nworkers; w++) {
        if (!worker_subscribes(shm, w, rec->id))
            continue;
        tool_worker_name(shm, w, worker);
        if (is_json) {
            fputs(k ? "," : "", f);
            ctl_json_str(f, worker);
        } else {
            fprintf(f, "%s%s", k ? "," : "", worker);
        }
        k++;
    }
    fputs(is_json ? "]}" : (k ? "\n" : "-\n"), f);
}

/* Members of pool id in worker w (0 if not live). */
static size_t pool_members_in(const struct airsrt_shm *shm, uint32_t w,
                              uint32_t id)
{
    struct pool_members m = { 0 };
    uint32_t inc;
    size_t n;

    if (!worker_is_live(shm, w, &inc))
        return 0;
    airsrt__pool_scan(airsrt_shm_actor_stats(shm, w), shm->params.actors_max,
                      airsrt_shm_worker_self(shm, w), w, inc, id, &m);
    n = m.n;
    free(m.v);
    return n;
}

static void pool_entry(const struct airsrt_shm *shm,
                       const struct airsrt_registry_record *rec,
                       bool is_json, bool is_first, FILE *f)
{
    char worker[TOOL_WORKER_NAME_MAX], list[1024] = "";
    size_t total = 0, n, used = 0;
    uint32_t k = 0;

    if (is_json) {
        fputs(is_first ? "{\"name\":" : ",{\"name\":", f);
        ctl_json_str(f, rec->name);
        fprintf(f, ",\"id\":%" PRIu32 ",\"workers\":[", rec->id);
    } else if (is_first) {
        fprintf(f, "%-24s %6s  %7s  %s\n", "POOL", "ID", "MEMBERS",
                "WORKERS");
    }
    for (uint32_t w = 0; w < shm->params.nworkers; w++) {
        if ((n = pool_members_in(shm, w, rec->id)) == 0)
            continue;
        tool_worker_name(shm, w, worker);
        total += n;
        if (is_json) {
            fprintf(f, "%s{\"worker\":", k ? "," : "");
            ctl_json_str(f, worker);
            fprintf(f, ",\"members\":%zu}", n);
        } else if (used < sizeof(list)) {
            used += (size_t)snprintf(list + used, sizeof(list) - used,
                                     "%s%s=%zu", k ? "," : "", worker, n);
        }
        k++;
    }
    if (is_json)
        fprintf(f, "],\"members\":%zu}", total);
    else
        fprintf(f, "%-24s %6" PRIu32 "  %7zu  %s\n", rec->name, rec->id,
                total, k ? list : "-");
}

static int show_kind(const struct airsrt_shm *shm, uint32_t kind,
                     const char *key, const char *none, entry_fn fn,
                     bool is_json, FILE *f)
{
    uint32_t bad, shown;

    if (is_json) {
        ctl_json_runtime(f, shm);
        fprintf(f, ",\"%s\":[", key);
    }
    bad = registry_walk(shm, kind, fn, is_json, f, &shown);
    if (is_json)
        fprintf(f, "],\"unreadable\":%" PRIu32 "}\n", bad);
    else if (shown == 0)
        fprintf(f, "%s\n", none);
    if (!is_json && bad != 0)
        fprintf(f, "(%" PRIu32 " registry entries being written or corrupt "
                "were skipped)\n", bad);
    return 0;
}

int ctl_show_names(const struct airsrt_shm *shm, bool is_json, FILE *f)
{
    return show_kind(shm, AIRSRT_REGISTRY_NAME, "names", "no names",
                     name_entry, is_json, f);
}

int ctl_show_topics(const struct airsrt_shm *shm, bool is_json, FILE *f)
{
    return show_kind(shm, AIRSRT_REGISTRY_TOPIC, "topics", "no topics",
                     topic_entry, is_json, f);
}

int ctl_show_pools(const struct airsrt_shm *shm, bool is_json, FILE *f)
{
    return show_kind(shm, AIRSRT_REGISTRY_POOL, "pools", "no pools",
                     pool_entry, is_json, f);
}
