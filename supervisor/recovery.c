/*
 * supervisor/recovery.c - what the supervisor owes the runtime after a
 * worker's process is gone and before anything is restarted (DESIGN.md,
 * "Supervisor"):
 *
 *  - the crash report: from the dead worker's self page, the actor and
 *    message type it was handling (the page is left as it was at the
 *    crash, and nothing rewrites it before the next incarnation starts);
 *  - robust locks it may have held: the registry's and every control
 *    ring's, taken and released once, so the owner-dead repair happens
 *    now and not in the middle of someone's send;
 *  - its registry entries: unbound from the dead incarnation (the names
 *    keep their ids, and its next incarnation takes them back);
 *  - its inbound rings: left alone, so what is queued for it waits for
 *    the next incarnation, which resumes at the last released head;
 *  - the announcement: AIRSRT_CTL_WORKER_DOWN on every other running
 *    worker's control ring, for their monitors.
 *
 * The incarnation is bumped when the worker is started again (spawn.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "airsrt/message.h"
#include "airsrt/worker.h"
#include "shm/ring_impl.h"
#include "supervisor/supervisor_impl.h"

/* What the dead worker was handling: the actor's address; "NAME", or
 * "TYPE#SLOT", or "?" for a slot out of range; its type's name (empty
 * when unknown); the message type. */
struct crash_report {
    struct airsrt_address addr;
    char actor[AIRSRT_REGISTRY_NAME_MAX + 24];
    char type[AIRSRT_TYPE_NAME_MAX + 1];
    int64_t message_type;
};

/* Fills cr from self, the page of the dead incarnation itself (the
 * caller checked); false when that was between handlers. */
static bool crash_report_read(const struct airsrt_supervisor *s,
                              const struct sv_worker *wk,
                              const struct airsrt_worker_self *self,
                              struct crash_report *cr)
{
    const struct airsrt_actor_stats *stats =
        airsrt_shm_actor_stats(&s->shm, wk->w);
    struct airsrt_registry_record rec;
    uint32_t slot, type, name_id, ntypes;

    memset(cr, 0, sizeof(*cr));
    if (atomic_load(&self->is_handling) == 0)
        return false;
    cr->addr = self->handling_actor;
    cr->message_type = atomic_load(&self->handling_type);
    slot = cr->addr.slot;
    if (slot == 0 || slot > s->shm.params.actors_max) {
        strlcpy(cr->actor, "?", sizeof(cr->actor));
        return true;
    }
    type = atomic_load(&stats[slot].type);
    name_id = atomic_load(&stats[slot].name_id);
    ntypes = atomic_load(&self->ntypes);
    if (type < ntypes && type < AIRSRT_WORKER_TYPE_NAMES)
        memcpy(cr->type, self->type_names[type], AIRSRT_TYPE_NAME_MAX);
    if (name_id != 0 && airsrt_registry_lookup(&s->reg, name_id, &rec) == 0)
        strlcpy(cr->actor, rec.name, sizeof(cr->actor));
    else
        snprintf(cr->actor, sizeof(cr->actor), "%s#%" PRIu32,
                 cr->type[0] ? cr->type : "actor", slot);
    return true;
}

/* ---- airsrt-ctl: postmortem record ---- */
/* The fields of pm: how wk's process ended (ex, kind); what it was
 * handling (cr, NULL: nothing known); its flight recorder, from self,
 * the page as the crash left it (NULL: the page is not that
 * incarnation's, which died before it wrote it). */
static void postmortem_fill(const struct sv_worker *wk,
                            const struct sv_exit *ex,
                            enum airsrt_postmortem_reason kind,
                            const struct airsrt_worker_self *self,
                            const struct crash_report *cr,
                            struct airsrt_postmortem *pm)
{
    pm->incarnation = wk->incarnation;
    pm->pid = wk->pid;
    pm->status = ex->status;
    pm->signal = ex->signal;
    pm->reason = kind;
    pm->died_ns = airsrt_realtime_ns();
    pm->uptime_ns = airsrt_now_ns() - wk->started_ns;
    pm->is_handling = cr != NULL;
    pm->actor = AIRSRT_ADDRESS_NULL;
    pm->message_type = 0;
    memset(pm->actor_type, 0, sizeof(pm->actor_type));
    memset(pm->actor_name, 0, sizeof(pm->actor_name));
    memset(&pm->flight, 0, sizeof(pm->flight));
    if (cr != NULL) {
        pm->actor = cr->addr;
        pm->message_type = (uint32_t)cr->message_type;
        memcpy(pm->actor_type, cr->type, sizeof(pm->actor_type));
        strlcpy(pm->actor_name, cr->actor, sizeof(pm->actor_name));
    }
    /* The writer is gone: a plain copy is a consistent one. */
    if (self != NULL)
        memcpy(&pm->flight, &self->flight, sizeof(pm->flight));
}

/* Writes worker wk's postmortem record under its seqlock (segment.h)
 * before the slot is reused: the restart rewrites the self page. */
static void postmortem_write(struct airsrt_supervisor *s,
                             const struct sv_worker *wk,
                             const struct sv_exit *ex,
                             enum airsrt_postmortem_reason kind,
                             const struct airsrt_worker_self *self,
                             const struct crash_report *cr)
{
    struct airsrt_postmortem *pm = airsrt_shm_postmortem(&s->shm, wk->w);
    uint32_t seq = atomic_load_explicit(&pm->seq, memory_order_relaxed);

    atomic_store_explicit(&pm->seq, seq | 1u, memory_order_relaxed);
    /* Pairs with the readers' acquire fence: no field below is seen
     * without the odd seq. */
    atomic_thread_fence(memory_order_release);
    postmortem_fill(wk, ex, kind, self, cr, pm);
    atomic_store_explicit(&pm->deaths,
                          atomic_load_explicit(&pm->deaths,
                                               memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&pm->seq, (seq | 1u) + 1, memory_order_release);
}

/* Takes and releases every robust lock a worker could have died holding;
 * the locking is what repairs them (robust.h). */
static void locks_recover(struct airsrt_supervisor *s)
{
    for (uint32_t w = 0; w < s->shm.params.nworkers; w++) {
        struct airsrt_ring r;

        if (airsrt_shm_ctl_ring(&s->shm, w, &r) == 0 &&
            airsrt__ctl_lock(&r) == 0)
            airsrt__ctl_unlock(&r);
    }
}

/* The next incarnation rewrites the self page, the dead one's own: keep
 * its counts. */
static void totals_keep(struct sv_worker *wk,
                        const struct airsrt_worker_self *self)
{
    wk->in_before += atomic_load(&self->envelopes_in);
    wk->out_before += atomic_load(&self->envelopes_out);
}

static void announce(struct airsrt_supervisor *s, const struct sv_worker *wk,
                     const struct sv_exit *ex)
{
    union {
        struct airsrt_envelope env;
        uint8_t bytes[sizeof(struct airsrt_envelope) +
                      sizeof(struct airsrt_worker_down)];
    } u;
    struct airsrt_worker_down down = {
        .worker = wk->w, .incarnation = wk->incarnation,
        .status = ex->status, .signal = ex->signal,
    };
    int rc;

    airsrt_envelope_init(&u.env, AIRSRT_CTL_WORKER_DOWN, sizeof(down));
    u.env.priority = AIRSRT_PRIO_SYSTEM;
    memcpy(u.env.payload, &down, sizeof(down));
    for (uint32_t w = 0; w < s->shm.params.nworkers; w++) {
        if (w == wk->w || s->workers[w].state != SV_RUNNING)
            continue;
        /* A full control ring, or its lock held by a hung process, loses
         * the notice, not the runtime: the event says so. */
        rc = airsrt_shm_ctl_send(&s->shm, w, &u.env);
        if (rc < 0)
            sv_event(s, "announce_failed", &s->workers[w], NULL,
                     rc == -EAGAIN ? "control ring full" : strerror(-rc));
    }
}

/* The kind of a death (an exit that is not normal), for the event log
 * and the postmortem record alike. An actor-level escalation past the
 * worker's top-level actors (airsrt/supervision.h) is a crash of its own
 * kind, named so that both tell it from a signal or an error. */
static enum airsrt_postmortem_reason death_kind(const struct sv_exit *ex)
{
    if (ex->is_hang)
        return AIRSRT_PM_HANG;
    if (ex->signal == 0 && ex->status == AIRSRT_EXIT_ESCALATED)
        return AIRSRT_PM_ESCALATED;
    return AIRSRT_PM_CRASHED;
}

/* Unbinds the dead incarnation's names (they keep their ids, and its
 * next incarnation takes them back). */
static void names_unbind(struct airsrt_supervisor *s,
                         const struct sv_worker *wk)
{
    /* ---- inject: say when this unbind repaired the lock ---- */
    uint64_t deaths = atomic_load_explicit(&s->reg.hdr->owner_deaths,
                                           memory_order_relaxed);
    ssize_t rc = airsrt_registry_unbind_incarnation(&s->reg, wk->w,
                                                    wk->incarnation);

    /* Fails only if a hung process holds the registry lock: the names
     * stay bound to the dead incarnation, so envelopes sent to them wait
     * in its rings for the next one, which takes the names over. */
    if (rc < 0)
        sv_event(s, "registry_unbind_failed", wk, NULL, strerror((int)-rc));
    else if (atomic_load_explicit(&s->reg.hdr->owner_deaths,
                                  memory_order_relaxed) != deaths)
        sv_event(s, "lock_recovered", wk, NULL, "registry");
}

/* The event of a death or stop: its reason is "normal" or the name of
 * kind, and cr (when not NULL) names what the worker was handling. */
static void death_log(struct airsrt_supervisor *s, const struct sv_worker *wk,
                      const struct sv_exit *ex, const char *event,
                      bool is_normal, enum airsrt_postmortem_reason kind,
                      const struct crash_report *cr)
{
    struct airsrt_event ev;

    sv_event_fill(s, &ev, event, wk, ex, is_normal ? "normal" :
                  airsrt_postmortem_reason_name(kind));
    if (cr != NULL) {
        ev.actor = cr->actor;
        ev.actor_type = cr->type[0] ? cr->type : NULL;
        ev.message_type = cr->message_type;
    }
    airsrt_eventlog_write(&s->log, &ev);
}

void sv_recover(struct airsrt_supervisor *s, struct sv_worker *wk,
                const struct sv_exit *ex, const char *event)
{
    struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(&s->shm, wk->w);
    struct airsrt_worker_self *self = airsrt_shm_worker_self(&s->shm, wk->w);
    /* The writer is gone, so the page holds still. It is the dead
     * incarnation's own unless that died before it wrote it: then it
     * holds an older one's leftovers, and none of it is read. */
    bool is_ours = atomic_load(&self->incarnation) == wk->incarnation;
    bool is_normal = sv_exit_is_normal(ex);
    enum airsrt_postmortem_reason kind = death_kind(ex);
    struct crash_report cr;
    bool has_report = !is_normal && is_ours &&
                      crash_report_read(s, wk, self, &cr);

    death_log(s, wk, ex, event, is_normal, kind, has_report ? &cr : NULL);
    /* ---- airsrt-ctl: postmortem record ---- */
    if (!is_normal)
        postmortem_write(s, wk, ex, kind, is_ours ? self : NULL,
                         has_report ? &cr : NULL);
    if (is_ours)
        totals_keep(wk, self);
    locks_recover(s);
    names_unbind(s, wk);
    atomic_store_explicit(&ws->state, is_normal ? AIRSRT_WORKER_STOPPED
                                                : AIRSRT_WORKER_CRASHED,
                          memory_order_relaxed);
    /* Its pool members died with it: after the state above (release:
     * pairs with the acquire of a sender's epoch load), senders rebuild
     * their caches and skip it (registry.h, groups_epoch). */
    atomic_fetch_add_explicit(&s->reg.hdr->groups_epoch, 1,
                              memory_order_release);
    atomic_store_explicit(&ws->pid, 0, memory_order_relaxed);
    announce(s, wk, ex);
}
