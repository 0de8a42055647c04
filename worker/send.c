/*
 * worker/send.c - building envelopes and routing them: the send API,
 * replies, and the delivery of envelopes that arrived from rings.
 *
 * Routing rules (DESIGN.md "Envelopes and addresses"):
 *  - to an address: its worker, where it reaches the actor if the
 *    address is still live, else a dead letter (stale) - never another
 *    actor, since slot generation and worker incarnation are checked;
 *  - to a name: its registry id travels; the worker it reaches resolves
 *    the id on delivery and delivers locally, passes the envelope on to
 *    the name's holder now (at most AIRSRT_ENV_HOPS_MAX times), or, if
 *    nobody holds it, makes it a dead letter (unbound);
 *  - to nobody: a command, accepted from the control ring only
 *    (AIRSRT_CTL_SHUTDOWN, AIRSRT_CTL_WORKER_DOWN); any other is a dead
 *    letter (unroutable).
 */
#include <errno.h>
#include <string.h>

#include "worker/worker_impl.h"

static int send_checked(struct airsrt_ctx *ctx,
                        const struct airsrt_address *to, const char *name,
                        const struct airsrt_send_opts *opts, uint32_t type,
                        const void *payload, uint32_t len, uint8_t flags);

/* Tells the sender of an envelope that came through a ring that a's
 * mailbox refused it (a local sender learns it from the send). */
static void notify_rejected(struct airsrt_worker *w, struct actor *a,
                            const struct airsrt_envelope *refused)
{
    struct airsrt_ctx ctx = airsrt__actor_ctx(w, a);
    struct airsrt_send_opts o = { .priority = AIRSRT_PRIO_SYSTEM };
    struct airsrt_rejected r = { .type = refused->type,
                                 .message_id = refused->message_id,
                                 .correlation_id = refused->correlation_id,
                                 .recipient = ctx.self };

    if (!airsrt_address_is_null(&refused->sender))
        send_checked(&ctx, &refused->sender, NULL, &o, AIRSRT_MSG_REJECTED,
                     &r, sizeof(r), 0);
}

/* Puts m, addressed to live actor a, in its mailbox. A stop request is
 * carried out instead. Returns what a local sender is told. Every
 * envelope passes here: rare cases belong in route_special(). */
static int deliver(struct airsrt_worker *w, struct actor *a, struct msg *m,
                   bool is_remote)
{
    int rc;

    if (m->env.type == AIRSRT_MSG_STOP) {
        airsrt__actor_request_stop(w, a, false);
        airsrt__msg_free(&w->pool, m);
        return 0;
    }
    /* A reply reaches only a request that waits for it (request.c). A
     * timeout here is our own: one from a ring never gets this far. */
    if (m->env.flags & AIRSRT_ENV_F_REPLY) {
        if (!airsrt__request_take_reply(w, a, m)) {
            airsrt__dead_letter(w, m, AIRSRT_DL_LATE_REPLY);
            return 0;
        }
        /* Its request is settled: its timeout will never come, so the
         * reply must not be lost either. It goes in the system lane, as
         * the timeout would have, which no bound refuses or evicts. */
        m->env.priority = AIRSRT_PRIO_SYSTEM;
    }
    rc = airsrt__mailbox_put(w, a, m);
    if (rc == -ENOBUFS) {
        if (is_remote)
            notify_rejected(w, a, &m->env);
        airsrt__dead_letter(w, m, AIRSRT_DL_MAILBOX_FULL);
    }
    return rc;
}

/* Passes m on to the worker that holds its name now. */
static void forward(struct airsrt_worker *w, struct msg *m, uint32_t to)
{
    uint32_t hops = m->env.flags & AIRSRT_ENV_F_HOPS;

    if (hops >= AIRSRT_ENV_HOPS_MAX) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    m->env.flags = (uint8_t)((m->env.flags & ~AIRSRT_ENV_F_HOPS) | (hops + 1));
    if (airsrt__transport_copy(w, to, &m->env) < 0) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    airsrt__stat_add(&w->self->forwarded, 1);
    airsrt__msg_free(&w->pool, m);
}

/* Delivers m, sent to a name, where the name is held now. */
static int route_name(struct airsrt_worker *w, struct msg *m, bool is_remote)
{
    struct airsrt_address holder;
    struct actor *a;

    if (airsrt__names_lookup_id(w, m->env.recipient_name, &holder) < 0 ||
        airsrt_address_is_null(&holder)) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNBOUND);
        return 0;
    }
    if (holder.node != 0 || holder.worker >= w->nworkers) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return 0;
    }
    if (holder.worker != w->index) {
        forward(w, m, holder.worker);
        return 0;
    }
    a = airsrt__actor_find(w, &holder);
    if (a == NULL) {
        /* Held by our previous incarnation and not taken over, or by an
         * actor that is gone: nobody holds it. */
        airsrt__dead_letter(w, m, AIRSRT_DL_UNBOUND);
        return 0;
    }
    return deliver(w, a, m, is_remote);
}

/* Another worker's incarnation died (the supervisor says so). False if
 * the payload is not a struct airsrt_worker_down: not ours to act on. */
static bool take_worker_down(struct airsrt_worker *w, const struct msg *m)
{
    struct airsrt_worker_down d;

    if (m->env.payload_len != sizeof(d))
        return false;
    memcpy(&d, m->env.payload, sizeof(d));
    if (d.worker >= w->nworkers)
        return false;
    w->worker_downs++;
    airsrt__names_forget_worker(w, d.worker, d.incarnation);
    airsrt__monitor_worker_down(w, d.worker, d.incarnation,
                                d.signal > 0 ? -d.signal : d.status);
    return true;
}

static void run_command(struct airsrt_worker *w, struct msg *m, bool is_ctl)
{
    if (is_ctl && m->env.type == AIRSRT_CTL_SHUTDOWN) {
        airsrt__worker_shutdown(w, AIRSRT_EXIT_OK);
        airsrt__msg_free(&w->pool, m);
        return;
    }
    if (is_ctl && m->env.type == AIRSRT_CTL_WORKER_DOWN &&
        take_worker_down(w, m)) {
        airsrt__msg_free(&w->pool, m);
        return;
    }
    airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
}

/*
 * What arrived flagged as a topic's or of a runtime type, off the path
 * of every other envelope. True if it took m:
 *  - a topic's, before any routing by name: its id is in recipient_name;
 *  - a monitor's, never handled as such (monitor.c);
 *  - a timeout: only ever its caller's own worker's (request.c), never
 *    through a ring. One from a ring is forged and must not settle a
 *    request, whatever address or name it gives: a dead letter
 *    (unroutable, as airsrt/request.h says).
 * False for the other runtime types (stop, commands, ...): they are
 * routed as any envelope.
 */
__attribute__((cold)) static bool route_special(struct airsrt_worker *w,
                                                struct msg *m)
{
    if (m->env.flags & AIRSRT_ENV_F_TOPIC)
        airsrt__topic_arrived(w, m);
    else if (airsrt__monitor_is_type(m->env.type))
        airsrt__monitor_arrived(w, m);
    else if (m->env.type == AIRSRT_MSG_TIMEOUT)
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
    else
        return false;
    return true;
}

void airsrt__route_arrived(struct airsrt_worker *w, struct msg *m,
                           bool is_ctl)
{
    const struct airsrt_address *to = &m->env.recipient;
    bool is_rare = (m->env.flags & AIRSRT_ENV_F_TOPIC) ||
                   m->env.type >= AIRSRT_TYPE_RESERVED;
    struct actor *a;

    /* One test, seldom true, for every rare case; before the name
     * branch, since a topic's id travels in recipient_name. */
    if (__builtin_expect(is_rare, 0) && route_special(w, m))
        return;
    if (m->env.recipient_name != 0) {
        route_name(w, m, true);
        return;
    }
    if (airsrt_address_is_null(to)) {
        run_command(w, m, is_ctl);
        return;
    }
    if (to->node != 0 || to->worker != w->index) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    a = airsrt__actor_find(w, to);
    if (a == NULL) {
        airsrt__dead_letter(w, m, AIRSRT_DL_STALE);
        return;
    }
    deliver(w, a, m, true);
}

/* ---- sending ---- */

/* Where a send goes, decided before anything is written. */
struct route {
    uint32_t dest;                      /* worker index */
    struct airsrt_address recipient;    /* null when sent by name */
    uint32_t name_id;                   /* 0 when sent to an address */
    uint8_t flags;                      /* AIRSRT_ENV_F_* to set */
};

int airsrt__send_check_address(const struct airsrt_worker *w,
                               const struct airsrt_address *to)
{
    if (airsrt_address_is_null(to) || airsrt_address_validate(to) < 0)
        return -EINVAL;
    if (to->node != 0)
        return -EHOSTUNREACH;
    return to->worker < w->nworkers ? 0 : -EINVAL;
}

static int plan_address(struct airsrt_worker *w,
                        const struct airsrt_address *to, struct route *r)
{
    int rc = airsrt__send_check_address(w, to);

    if (rc == 0)
        *r = (struct route){ .dest = to->worker, .recipient = *to };
    return rc;
}

/* A name nobody holds goes to its last holder known here, to wait for
 * that worker's next incarnation there. */
static int plan_name(struct airsrt_worker *w, const char *name,
                     struct route *r)
{
    struct airsrt_address holder, last;
    int rc;

    *r = (struct route){ 0 };
    rc = airsrt__names_route(w, name, &r->name_id, &holder, &last);
    if (rc < 0)
        return rc;
    if (airsrt_address_is_null(&holder))
        holder = last;
    if (airsrt_address_is_null(&holder))
        return -EHOSTDOWN;
    if (holder.node != 0)
        return -EHOSTUNREACH;
    if (holder.worker >= w->nworkers)
        return -EHOSTDOWN;
    r->dest = holder.worker;
    return 0;
}

/* Writes every field once, straight where the envelope will travel: a
 * memset and a copy of the header cost more than the rest of a send. */
static void fill(struct airsrt_envelope *e, const struct airsrt_ctx *ctx,
                 const struct airsrt_send_opts *o, uint32_t type,
                 const struct route *r, const void *payload, uint32_t len)
{
    e->type = type;
    e->priority = o->priority;
    e->flags = r->flags;
    e->reserved = 0;
    e->payload_len = len;
    e->recipient_name = r->name_id;
    e->sender = ctx->self;
    e->recipient = r->recipient;
    e->reply_to = o->reply_to;
    e->correlation_id = o->correlation_id;
    e->message_id = airsrt_msgid_next(&ctx->w->ids);
    e->deadline_ns = o->ttl_ns ? airsrt_now_ns() + o->ttl_ns : 0;
    memcpy(e->payload, payload, len);
}

struct msg *airsrt__msg_build(struct airsrt_worker *w, uint32_t type,
                              uint8_t priority,
                              const struct airsrt_address *sender,
                              const struct airsrt_address *to,
                              uint64_t correlation_id, const void *payload,
                              uint32_t len)
{
    struct msg *m = airsrt__msg_alloc(&w->pool, len);

    if (m == NULL)
        return NULL;
    m->env = (struct airsrt_envelope){
        .type = type, .priority = priority, .payload_len = len,
        .sender = *sender, .recipient = to ? *to : AIRSRT_ADDRESS_NULL,
        .correlation_id = correlation_id };
    if (len > 0)
        memcpy(m->env.payload, payload, len);
    return m;
}

/* Delivers m, sent from this worker, to an actor of this worker. */
static int route_local(struct airsrt_worker *w, struct msg *m,
                       const struct route *r)
{
    struct actor *a;

    if (r->name_id != 0)
        return route_name(w, m, false);
    a = airsrt__actor_find(w, &r->recipient);
    if (a == NULL) {
        airsrt__dead_letter(w, m, AIRSRT_DL_STALE);
        return -ESTALE;
    }
    return deliver(w, a, m, false);
}

static int send_local(struct airsrt_ctx *ctx, const struct airsrt_send_opts *o,
                      uint32_t type, const struct route *r,
                      const void *payload, uint32_t len)
{
    struct airsrt_worker *w = ctx->w;
    struct msg *m = airsrt__msg_alloc(&w->pool, len);

    if (m == NULL)
        return -ENOMEM;
    fill(&m->env, ctx, o, type, r, payload, len);
    return route_local(w, m, r);
}

static int send_remote(struct airsrt_ctx *ctx,
                       const struct airsrt_send_opts *o, uint32_t type,
                       const struct route *r, const void *payload,
                       uint32_t len)
{
    struct airsrt_envelope *e;
    int rc = airsrt__transport_claim(ctx->w, r->dest, len, &e);

    if (rc < 0)
        return rc;
    fill(e, ctx, o, type, r, payload, len);
    airsrt__transport_commit(ctx->w, r->dest, e, rc);
    return rc;
}

/* The one way out for every send, reserved types included. */
static int send_checked(struct airsrt_ctx *ctx,
                        const struct airsrt_address *to, const char *name,
                        const struct airsrt_send_opts *opts, uint32_t type,
                        const void *payload, uint32_t len, uint8_t flags)
{
    static const struct airsrt_send_opts defaults = AIRSRT_SEND_OPTS_INIT;
    static const uint8_t empty[1];
    const struct airsrt_send_opts *o = opts ? opts : &defaults;
    struct airsrt_worker *w = ctx->w;
    struct route r;
    int rc;

    /* Options first: every -EINVAL comes before -EMSGSIZE. */
    if (o->priority > AIRSRT_PRIO_SYSTEM ||
        (!airsrt_address_is_null(&o->reply_to) &&
         airsrt_address_validate(&o->reply_to) < 0))
        return -EINVAL;
    rc = airsrt__send_check_args(w, to, name, payload, len);
    if (rc < 0)
        return rc;
    if (payload == NULL)
        payload = empty;    /* memcpy wants a pointer even for 0 bytes */
    rc = to ? plan_address(w, to, &r) : plan_name(w, name, &r);
    if (rc < 0)
        return rc;
    r.flags = flags;
    rc = r.dest == w->index ? send_local(ctx, o, type, &r, payload, len)
                            : send_remote(ctx, o, type, &r, payload, len);
    if (rc >= 0)
        airsrt__stat_add(&w->self->envelopes_out, 1);
    return rc;
}

int airsrt_send_ex(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                   const char *name, const struct airsrt_send_opts *opts,
                   uint32_t type, const void *payload, uint32_t len)
{
    return airsrt__send_flagged(ctx, to, name, opts, type, payload, len, 0);
}

int airsrt__send_flagged(struct airsrt_ctx *ctx,
                         const struct airsrt_address *to, const char *name,
                         const struct airsrt_send_opts *opts, uint32_t type,
                         const void *payload, uint32_t len, uint8_t flags)
{
    if (type >= AIRSRT_TYPE_RESERVED)
        return -EINVAL;
    return send_checked(ctx, to, name, opts, type, payload, len, flags);
}

/* A fired timer's envelope found no way (err from plan_name or
 * plan_address): the dead letter a send would have made or failed with
 * then. A stale address is no planning error: route_local finds it. */
static unsigned built_failure(int err, bool is_named)
{
    return is_named && (err == -ENOENT || err == -EHOSTDOWN)
               ? AIRSRT_DL_UNBOUND : AIRSRT_DL_UNROUTABLE;
}

void airsrt__send_built(struct airsrt_worker *w, struct msg *m,
                        const char *name)
{
    struct route r;
    int rc;

    rc = name ? plan_name(w, name, &r)
              : plan_address(w, &m->env.recipient, &r);
    if (rc < 0) {
        airsrt__dead_letter(w, m, built_failure(rc, name != NULL));
        return;
    }
    m->env.recipient_name = r.name_id;
    m->env.recipient = r.recipient;
    m->env.message_id = airsrt_msgid_next(&w->ids);
    airsrt__stat_add(&w->self->envelopes_out, 1);
    if (r.dest == w->index) {
        route_local(w, m, &r);
        return;
    }
    /* Copied into the ring or the outbox as a send would; an outbox at
     * its limit is a send refused (-EAGAIN), which a timer cannot retry. */
    if (airsrt__transport_copy(w, r.dest, &m->env) < 0) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    airsrt__msg_free(&w->pool, m);
}

int airsrt_send(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                uint32_t type, const void *payload, uint32_t len)
{
    return airsrt_send_ex(ctx, to, NULL, NULL, type, payload, len);
}

int airsrt_send_name(struct airsrt_ctx *ctx, const char *name, uint32_t type,
                     const void *payload, uint32_t len)
{
    return airsrt_send_ex(ctx, NULL, name, NULL, type, payload, len);
}

int airsrt__send_system(struct airsrt_ctx *ctx,
                        const struct airsrt_address *to, uint32_t type,
                        uint64_t correlation_id, const void *payload,
                        uint32_t len)
{
    struct airsrt_send_opts o = { .priority = AIRSRT_PRIO_SYSTEM,
                                  .correlation_id = correlation_id };

    return send_checked(ctx, to, NULL, &o, type, payload, len, 0);
}

int airsrt__send_dead_letter(struct airsrt_worker *w, const void *payload,
                             uint32_t len)
{
    return send_checked(&w->root, NULL, AIRSRT_DEAD_LETTER_NAME, NULL,
                        AIRSRT_MSG_DEAD_LETTER, payload, len, 0);
}

int airsrt_reply(struct airsrt_ctx *ctx, uint32_t type, const void *payload,
                 uint32_t len)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;
    const struct airsrt_envelope *e = ctx->env;
    struct airsrt_address to;

    if (e == NULL)
        return -EDESTADDRREQ;
    to = airsrt_address_is_null(&e->reply_to) ? e->sender : e->reply_to;
    if (airsrt_address_is_null(&to))
        return -EDESTADDRREQ;
    o.correlation_id = e->correlation_id;
    /* A reply to a request is marked so: its caller's worker then
     * delivers it only while the request waits (request.c). */
    return airsrt__send_flagged(ctx, &to, NULL, &o, type, payload, len,
                                (e->flags & AIRSRT_ENV_F_REQUEST)
                                    ? AIRSRT_ENV_F_REPLY : 0);
}

const struct airsrt_envelope *airsrt_current(const struct airsrt_ctx *ctx)
{
    return ctx->env;
}
