/*
 * worker/scheduler.c - who runs next, and sleeping when nobody can.
 *
 * Actors with mail wait in one FIFO run queue. Each gets a turn of at most
 * turn_budget envelopes, then goes to the back of the queue if it still
 * has mail, so a flooded actor cannot starve the others. A poll runs at
 * most AIRSRT_POLL_BUDGET envelopes before the worker looks at its rings
 * again, so remote senders are not starved either.
 *
 * During a turn the worker's self page says which actor runs and which
 * message type it handles, so that the report of a crash in a handler can
 * name both. An idle worker polls its rings for spin_ns, then sleeps on
 * its doorbell until a sender rings it, a signal comes, or the heartbeat
 * is due: no work, no CPU.
 */
#include <string.h>

#include "shm/cpu.h"
#include "shm/doorbell.h"
#include "worker/worker_impl.h"

/* Outbox retries while a destination ring is full: the receiver frees
 * room without ringing us. */
#define BACKED_UP_WAIT_NS 200000

void airsrt__runq_push(struct airsrt_worker *w, struct actor *a)
{
    a->runq_next = NULL;
    if (w->runq_tail != NULL)
        w->runq_tail->runq_next = a;
    else
        w->runq_head = a;
    w->runq_tail = a;
    a->is_queued = true;
}

static struct actor *runq_pop(struct airsrt_worker *w)
{
    struct actor *a = w->runq_head;

    if (a == NULL)
        return NULL;
    w->runq_head = a->runq_next;
    if (w->runq_head == NULL)
        w->runq_tail = NULL;
    a->is_queued = false;
    return a;
}


/* ---- airsrt-ctl: flight recorder ---- */
/* Records e, handled by a, in our self page's flight recorder
 * (segment.h): relaxed stores into the entry, then one release store of
 * the count, which only we write, so no read-modify-write is needed. */
static void flight_record(struct airsrt_worker *w, const struct actor *a,
                          const struct airsrt_envelope *e)
{
    struct airsrt_flight_recorder *fr = &w->self->flight;
    uint64_t n = atomic_load_explicit(&fr->count, memory_order_relaxed);
    struct airsrt_flight_entry *fe = &fr->entries[n % AIRSRT_FLIGHT_ENTRIES];
    uint64_t sender[2];

    memcpy(sender, &e->sender, sizeof(sender));
    atomic_store_explicit(&fe->handled_ns, w->now_ns, memory_order_relaxed);
    atomic_store_explicit(&fe->message_id, e->message_id, memory_order_relaxed);
    atomic_store_explicit(&fe->type, e->type, memory_order_relaxed);
    atomic_store_explicit(&fe->payload_len, e->payload_len,
                          memory_order_relaxed);
    atomic_store_explicit(&fe->sender[0], sender[0], memory_order_relaxed);
    atomic_store_explicit(&fe->sender[1], sender[1], memory_order_relaxed);
    atomic_store_explicit(&fe->recipient_slot, a->addr.slot,
                          memory_order_relaxed);
    atomic_store_explicit(&fe->recipient_generation, a->addr.generation,
                          memory_order_relaxed);
    /* Pairs with the acquire of readers: the entry is whole below count. */
    atomic_store_explicit(&fr->count, n + 1, memory_order_release);
}

/* Handles one envelope; m is freed after the failure (if any) was dealt
 * with, since on_error may look at it. */
static void handle_one(struct airsrt_worker *w, struct airsrt_ctx *ctx,
                       struct msg *m)
{
    struct actor *a = ctx->a;
    int rc;

    if (m->env.deadline_ns != 0 &&
        airsrt_envelope_is_expired(&m->env, airsrt_now_ns())) {
        airsrt__dead_letter(w, m, AIRSRT_DL_EXPIRED);
        return;
    }
    /* handling_type means something only while is_handling is set
     * (segment.h), so it is not cleared after. */
    atomic_store_explicit(&w->self->handling_type, m->env.type,
                          memory_order_relaxed);
    atomic_store_explicit(&w->self->is_handling, 1, memory_order_relaxed);
    flight_record(w, a, &m->env);
    ctx->env = &m->env;
    rc = a->type->handle(ctx, a->state, &m->env);
    ctx->env = NULL;
    atomic_store_explicit(&w->self->is_handling, 0, memory_order_relaxed);
    a->handled_unpub++;
    if (rc < 0)
        airsrt__actor_fail(w, a, rc, &m->env);
    airsrt__msg_free(&w->pool, m);
    if (airsrt__actor_has_stops(w))
        airsrt__actor_process_stops(w);
}

/*
 * One turn of a: at most the budget, and at most the envelopes that were
 * in its mailbox when the turn began, so that what it sends itself (a
 * tick to carry on) waits behind the other actors instead of giving it an
 * endless turn. It ends early when a stops or fails; the slot may even be
 * reused by then (a restart of its parent), so the generation is checked
 * before every envelope.
 */
static uint32_t run_turn(struct airsrt_worker *w, struct actor *a)
{
    struct airsrt_ctx ctx = airsrt__actor_ctx(w, a);
    uint32_t n = 0, limit = w->opts.turn_budget;
    struct msg *m;

    if (a->depth < limit)
        limit = a->depth;
    w->self->handling_actor = ctx.self;
    while (n < limit && a->lifecycle == AIRSRT_ACTOR_RUNNING &&
           a->addr.generation == ctx.self.generation && !w->is_shutting_down &&
           (m = airsrt__mailbox_take(w, a)) != NULL) {
        handle_one(w, &ctx, m);
        n++;
    }
    if (a->addr.generation == ctx.self.generation &&
        a->lifecycle == AIRSRT_ACTOR_RUNNING)
        airsrt__actor_publish(w, a);
    return n;
}

uint32_t airsrt__run_actors(struct airsrt_worker *w, uint32_t budget)
{
    uint32_t handled = 0;
    struct actor *a;

    while (handled < budget && !w->is_shutting_down &&
           (a = runq_pop(w)) != NULL) {
        if (a->lifecycle != AIRSRT_ACTOR_RUNNING || a->lane_mask == 0)
            continue;
        handled += run_turn(w, a);
        if (a->lifecycle == AIRSRT_ACTOR_RUNNING && a->lane_mask != 0 &&
            !a->is_queued)
            airsrt__runq_push(w, a);
    }
    return handled;
}

static bool is_stop_asked(const struct airsrt_worker *w)
{
    return w->opts.stop_flag != NULL && *w->opts.stop_flag != 0;
}

/* Doorbell callback: the re-check that makes a wake-up impossible to
 * lose (shm/doorbell.h). A full ring that a receiver has made room in is
 * work too: our outbox can move. */
static bool has_work(void *arg)
{
    struct airsrt_worker *w = arg;

    return airsrt__transport_has_input(w) || is_stop_asked(w) ||
           airsrt__transport_has_room(w);
}

/* Called only after a poll that found nothing to do, so the poll's clock
 * reading is when the work ran out. */
void airsrt__idle_wait(struct airsrt_worker *w, int64_t max_wait_ns)
{
    uint64_t spin_end = w->now_ns + w->opts.spin_ns;
    int64_t wait = (int64_t)w->opts.heartbeat_ns;
    /* No sleep past the next timer. */
    uint64_t due = airsrt__timers_next_due(w), now;

    if (due <= w->now_ns)
        return;
    if (due < spin_end)
        spin_end = due;

    for (uint32_t i = 0;; i++) {
        if (has_work(w))
            return;
        if ((i & 63) == 63 && airsrt_now_ns() >= spin_end)
            break;
        airsrt__cpu_relax();
    }
    if (airsrt__transport_is_backed_up(w) && wait > BACKED_UP_WAIT_NS)
        wait = BACKED_UP_WAIT_NS;
    if (max_wait_ns >= 0 && max_wait_ns < wait)
        wait = max_wait_ns;
    now = airsrt_now_ns();
    if (due <= now)
        return;
    if (due != UINT64_MAX && due - now < (uint64_t)wait)
        wait = (int64_t)(due - now);
    airsrt_doorbell_wait(w->bell, has_work, w, 0, wait);
}
