/*
 * tests/worker/test_request.c - request and reply in in-process workers
 * (airsrt/request.h): the caller gets the reply or a timeout, never
 * both; a reply after the timeout is a late_reply dead letter and never
 * reaches handle; a request whose send fails arms nothing; a caller that
 * stopped leaves its request until its timeout; a timeout that comes
 * through a ring is forged, and a dead letter. Two workers opened in
 * the test process give a reply that comes when the test says so.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

TestSuite(request, .fini = harness_fini);

enum { EV_REPLY = 1, EV_TIMEOUT, EV_REQUEST, EV_PLAIN };  /* value corr */
enum { T_GO = 21, T_REQ = 22, T_REP = 23, T_PLAIN = 24 };

#define HOUR_NS 3600000000000ull

/* What the test tells a client: count requests to `to`, each with
 * timeout_ns; the server answers those whose index is even when
 * only_even, else all (unless muted). */
struct go {
    struct airsrt_address to;
    uint64_t timeout_ns;
    uint32_t count;
    uint32_t reserved;
};

static bool is_server_mute, is_only_even, is_plain_go;
static int last_rc;
static uint64_t corrs[256];
static struct airsrt_envelope last_request, last_reply;

static int client_go(struct airsrt_ctx *ctx, const struct airsrt_envelope *env)
{
    struct go g;

    cr_assert_eq(env->payload_len, sizeof(g));
    memcpy(&g, env->payload, sizeof(g));
    for (uint32_t i = 0; i < g.count && i < 256; i++) {
        uint64_t idx = i;

        if (is_plain_go)
            last_rc = airsrt_send(ctx, &g.to, T_PLAIN, &idx, sizeof(idx));
        else
            last_rc = airsrt_request(ctx, &g.to, NULL, T_REQ, &idx,
                                     sizeof(idx), g.timeout_ns, &corrs[i]);
        if (last_rc < 0)
            return 0;
    }
    return 0;
}

static int client_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct airsrt_timeout t;

    (void)state;
    if (env->type == T_GO)
        return client_go(ctx, env);
    if (env->type == T_REP) {
        last_reply = *env;
        unit_log(EV_REPLY, (uint32_t)unit_seq(env), env->correlation_id);
        return 0;
    }
    if (env->type == T_PLAIN) {
        unit_log(EV_PLAIN, env->flags, env->correlation_id);
        return 0;
    }
    cr_assert_eq(env->type, AIRSRT_MSG_TIMEOUT);
    cr_assert_eq(env->payload_len, sizeof(t));
    memcpy(&t, env->payload, sizeof(t));
    cr_assert_eq(t.correlation_id, env->correlation_id);
    cr_assert_eq(t.type, T_REQ);
    unit_log(EV_TIMEOUT, 0, t.correlation_id);
    return 0;
}

static int server_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    uint64_t idx = unit_seq(env);

    (void)state;
    if (env->type == T_PLAIN)
        return airsrt_reply(ctx, T_PLAIN, &idx, sizeof(idx));
    last_request = *env;
    unit_log(EV_REQUEST, env->flags, env->correlation_id);
    if (is_server_mute || (is_only_even && idx % 2 != 0))
        return 0;
    return airsrt_reply(ctx, T_REP, &idx, sizeof(idx));
}

static const struct airsrt_actor_type client = {
    .name = "client", .handle = client_handle };
static const struct airsrt_actor_type server = {
    .name = "server", .handle = server_handle };
static const struct airsrt_actor_type *const types[] = {
    &client, &server, NULL };

static void go(struct airsrt_worker *w, const struct airsrt_address *cl,
               const struct airsrt_address *to, uint32_t count,
               uint64_t timeout_ns)
{
    struct go g = { .to = *to, .timeout_ns = timeout_ns, .count = count };

    cr_assert_eq(airsrt_send(airsrt__worker_ctx(w), cl, T_GO, &g, sizeof(g)),
                 0);
}

/* Nothing queued, no timer pending and no request waiting. */
static bool is_settled(void *arg)
{
    const struct airsrt_worker *w = arg;

    return w->timers.n == 0 && w->nrequests == 0 && w->queued == 0 &&
           w->runq_head == NULL;
}

static uint64_t dead(struct airsrt_worker *w, unsigned reason)
{
    return atomic_load(&w->self->dead_letters[reason]);
}

Test(request, reply_reaches_the_caller_and_cancels_its_timeout)
{
    struct airsrt_address c, s;

    unit_open(types, 0, NULL);
    c = unit_spawn(unit_ctx(), &client, NULL);
    s = unit_spawn(unit_ctx(), &server, NULL);
    go(unit_w, &c, &s, 1, HOUR_NS);
    wh_poll_until(unit_w, is_settled, unit_w, UNIT_SETTLE_MS);
    cr_assert_eq(last_rc, 0);
    cr_assert_neq(corrs[0], 0);
    /* The request as the server saw it. */
    cr_assert_eq(last_request.flags, AIRSRT_ENV_F_REQUEST);
    cr_assert_eq(last_request.correlation_id, corrs[0]);
    cr_assert(airsrt_address_equal(&last_request.reply_to, &c));
    /* The reply, once, and no timeout. */
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 1);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 0);
    cr_assert_eq(last_reply.flags, AIRSRT_ENV_F_REPLY);
    cr_assert_eq(last_reply.correlation_id, corrs[0]);
    cr_assert_eq(unit_w->timers.n, 0, "the timeout was cancelled");
    unit_close();
}

/* A reply settles its request: a full bounded mailbox must not drop it,
 * or the caller would get neither reply nor timeout. */
Test(request, reply_reaches_a_caller_whose_bounded_mailbox_is_full)
{
    const struct airsrt_spawn_opts bounded = {
        .mailbox_bound = 1, .overflow = AIRSRT_OVERFLOW_DROP_NEWEST };
    struct airsrt_address c, s;

    unit_open(types, 0, NULL);
    c = unit_spawn(unit_ctx(), &client, &bounded);
    s = unit_spawn(unit_ctx(), &server, NULL);
    go(unit_w, &c, &s, 8, HOUR_NS);
    wh_poll_until(unit_w, is_settled, unit_w, UNIT_SETTLE_MS);
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 8);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 0);
    cr_assert_eq(dead(unit_w, AIRSRT_DL_MAILBOX_FULL), 0);
    unit_close();
}

Test(request, timeout_reaches_the_caller_when_no_reply_comes)
{
    struct airsrt_address c, s;
    struct unit_event ev;

    is_server_mute = true;
    unit_open(types, 0, NULL);
    c = unit_spawn(unit_ctx(), &client, NULL);
    s = unit_spawn(unit_ctx(), &server, NULL);
    go(unit_w, &c, &s, 1, 1000000);
    wh_poll_until(unit_w, is_settled, unit_w, UNIT_SETTLE_MS);
    cr_assert_eq(unit_log_count(EV_REQUEST, UNIT_ANY), 1);
    cr_assert_eq(unit_log_select(EV_TIMEOUT, &ev, 1), 1);
    cr_assert_eq(ev.value, corrs[0]);
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 0);
    unit_close();
}

Test(request, each_request_gets_exactly_one_of_reply_and_timeout)
{
    struct airsrt_address c, s;
    struct unit_event ev[256];
    uint32_t n;

    is_only_even = true;
    unit_open(types, 0, NULL);
    c = unit_spawn(unit_ctx(), &client, NULL);
    s = unit_spawn(unit_ctx(), &server, NULL);
    go(unit_w, &c, &s, 200, 0);
    wh_poll_until(unit_w, is_settled, unit_w, UNIT_SETTLE_MS);
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 100);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 100);
    n = unit_log_select(EV_REPLY, ev, 256);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(ev[i].value, corrs[ev[i].who]);
    n = unit_log_select(EV_TIMEOUT, ev, 256);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(ev[i].value, corrs[2 * i + 1], "timeouts come in the "
                     "order their requests were sent");
    cr_assert_eq(dead(unit_w, AIRSRT_DL_LATE_REPLY), 0);
    unit_close();
}

Test(request, request_whose_send_fails_arms_nothing)
{
    struct airsrt_address c, gone;
    struct airsrt_ctx cctx;
    uint64_t corr = 0;

    unit_open(types, 0, NULL);
    c = unit_spawn(unit_ctx(), &client, NULL);
    gone = unit_spawn(unit_ctx(), &server, NULL);
    cr_assert_eq(airsrt_stop(unit_ctx(), &gone), 0);
    unit_settle();
    cctx = airsrt__actor_ctx(unit_w, airsrt__actor_find(unit_w, &c));
    cr_assert_eq(airsrt_request(&cctx, &gone, NULL, T_REQ, NULL, 0, HOUR_NS,
                                &corr), -ESTALE);
    cr_assert_eq(airsrt_request(&cctx, NULL, "nobody", T_REQ, NULL, 0,
                                HOUR_NS, &corr), -ENOENT);
    cr_assert_eq(airsrt_request(&cctx, &c, NULL, AIRSRT_MSG_TIMEOUT, NULL, 0,
                                HOUR_NS, &corr), -EINVAL);
    cr_assert_eq(airsrt_request(&cctx, &c, "two", T_REQ, NULL, 0, HOUR_NS,
                                &corr), -EINVAL);
    /* The worker itself is nobody to reply to. */
    cr_assert_eq(airsrt_request(unit_ctx(), &c, NULL, T_REQ, NULL, 0,
                                HOUR_NS, &corr), -EINVAL);
    cr_assert_eq(corr, 0);
    cr_assert_eq(unit_w->timers.n, 0);
    cr_assert_eq(unit_w->nrequests, 0);
    unit_close();
}

Test(request, reply_to_a_plain_send_is_delivered_as_usual)
{
    struct airsrt_address c, s;
    struct unit_event ev;

    is_plain_go = true;
    unit_open(types, 0, NULL);
    c = unit_spawn(unit_ctx(), &client, NULL);
    s = unit_spawn(unit_ctx(), &server, NULL);
    go(unit_w, &c, &s, 1, 0);
    unit_settle();
    cr_assert_eq(unit_log_select(EV_PLAIN, &ev, 1), 1);
    cr_assert_eq(ev.who, 0, "no reply flag: it answers no request");
    cr_assert_eq(dead(unit_w, AIRSRT_DL_LATE_REPLY), 0);
    unit_close();
}

/* ---- two workers in this process: the server's runs when told ---- */

struct pair {
    struct airsrt_worker *w0, *w1;      /* client's, server's */
    struct airsrt_address c, s;
};

static void pair_open(struct pair *p)
{
    wh_runtime(2, NULL);
    p->w0 = wh_open(0, types, NULL);
    p->w1 = wh_open(1, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(p->w0), &client, NULL,
                              &p->c), 0);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(p->w1), &server, NULL,
                              &p->s), 0);
}

static void pair_close(struct pair *p)
{
    wh_close(p->w0);
    wh_close(p->w1);
}

static bool has_event(void *arg)
{
    return unit_log_count((uint32_t)(uintptr_t)arg, UNIT_ANY) > 0;
}

struct dead_wait {
    struct airsrt_worker *w;
    unsigned reason;
    uint64_t count;
};

static bool has_dead(void *arg)
{
    const struct dead_wait *d = arg;

    return dead(d->w, d->reason) >= d->count;
}

Test(request, late_reply_after_timeout_is_counted_and_never_handled,
     .timeout = 60)
{
    struct dead_wait late;
    struct pair p;

    pair_open(&p);
    late = (struct dead_wait){ p.w0, AIRSRT_DL_LATE_REPLY, 1 };
    go(p.w0, &p.c, &p.s, 1, 0);
    /* The client's worker sends, and times out: the server's worker has
     * not run yet. */
    wh_poll_until(p.w0, has_event, (void *)(uintptr_t)EV_TIMEOUT,
                  UNIT_SETTLE_MS);
    cr_assert_eq(p.w0->nrequests, 0);
    wh_poll_until(p.w1, has_event, (void *)(uintptr_t)EV_REQUEST,
                  UNIT_SETTLE_MS);
    airsrt__worker_poll(p.w1, 0);       /* publishes the reply */
    wh_poll_until(p.w0, has_dead, &late, UNIT_SETTLE_MS);
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 0);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 1);
    cr_assert_eq(dead(p.w0, AIRSRT_DL_LATE_REPLY), 1);
    cr_assert_eq(dead(p.w0, AIRSRT_DL_STALE), 0);
    pair_close(&p);
}

Test(request, remote_reply_reaches_the_caller_and_cancels_its_timeout,
     .timeout = 60)
{
    struct pair p;

    pair_open(&p);
    go(p.w0, &p.c, &p.s, 1, HOUR_NS);
    airsrt__worker_poll(p.w0, 0);
    airsrt__worker_poll(p.w0, 0);
    cr_assert_eq(p.w0->nrequests, 1);
    wh_poll_until(p.w1, has_event, (void *)(uintptr_t)EV_REQUEST,
                  UNIT_SETTLE_MS);
    airsrt__worker_poll(p.w1, 0);
    wh_poll_until(p.w0, has_event, (void *)(uintptr_t)EV_REPLY,
                  UNIT_SETTLE_MS);
    cr_assert_eq(p.w0->nrequests, 0);
    cr_assert_eq(p.w0->timers.n, 0);
    cr_assert_eq(last_reply.correlation_id, corrs[0]);
    pair_close(&p);
}

/* A poll drains the rings before it fires due timers (worker.c): a reply
 * already in the ring when its timeout is due settles the request, and
 * the timeout never comes. */
Test(request, reply_in_the_ring_settles_before_its_due_timeout,
     .timeout = 60)
{
    struct pair p;

    pair_open(&p);
    go(p.w0, &p.c, &p.s, 1, HOUR_NS);
    airsrt__worker_poll(p.w0, 0);
    cr_assert_eq(p.w0->nrequests, 1);
    wh_poll_until(p.w1, has_event, (void *)(uintptr_t)EV_REQUEST,
                  UNIT_SETTLE_MS);
    airsrt__worker_poll(p.w1, 0);
    cr_assert(airsrt__transport_has_input(p.w0), "the reply waits in the "
              "ring");
    /* Its timeout, due now (white box): the only timer. */
    cr_assert_eq(p.w0->timers.n, 1);
    p.w0->timers.heap[0].due_ns = 1;
    airsrt__worker_poll(p.w0, 0);
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 1);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 0);
    cr_assert_eq(dead(p.w0, AIRSRT_DL_LATE_REPLY), 0);
    cr_assert_eq(p.w0->nrequests, 0);
    cr_assert_eq(p.w0->timers.n, 0);
    pair_close(&p);
}

/* Writes a timeout of request corr into worker 1's ring to worker 0, as
 * anyone who can write that ring could: from the caller to `to`, or to
 * the name of registry id name_id if it is not 0. */
static void forge_timeout(struct pair *p, const struct airsrt_address *to,
                          uint32_t name_id, uint64_t corr)
{
    struct airsrt_timeout t = { .correlation_id = corr, .type = T_REQ };
    struct airsrt_envelope *e;
    int how = airsrt__transport_claim(p->w1, 0, sizeof(t), &e);

    cr_assert_eq(how, 0, "the ring has room");
    *e = (struct airsrt_envelope){
        .type = AIRSRT_MSG_TIMEOUT, .priority = AIRSRT_PRIO_SYSTEM,
        .payload_len = sizeof(t), .recipient_name = name_id,
        .sender = p->c, .recipient = name_id ? AIRSRT_ADDRESS_NULL : *to,
        .correlation_id = corr, .message_id = airsrt_msgid_next(&p->w1->ids) };
    memcpy(e->payload, &t, sizeof(t));
    airsrt__transport_commit(p->w1, 0, e, how);
    airsrt__transport_flush(p->w1);
}

/* A timeout is only ever made by the caller's own worker: one that comes
 * through a ring, to the caller's address, its name or a stale address
 * of it, is a dead letter (unroutable) and settles nothing. */
Test(request, timeout_from_another_worker_is_an_unroutable_dead_letter,
     .timeout = 60)
{
    struct dead_wait forged;
    struct airsrt_address stale;
    struct airsrt_ctx cctx;
    struct pair p;
    uint32_t id;

    pair_open(&p);
    forged = (struct dead_wait){ p.w0, AIRSRT_DL_UNROUTABLE, 3 };
    cctx = airsrt__actor_ctx(p.w0, airsrt__actor_find(p.w0, &p.c));
    cr_assert_eq(airsrt_register(&cctx, "caller"), 0);
    cr_assert_eq(airsrt_registry_resolve(&p.w0->reg, "caller", &id, NULL), 0);
    go(p.w0, &p.c, &p.s, 1, HOUR_NS);
    airsrt__worker_poll(p.w0, 0);
    cr_assert_eq(p.w0->nrequests, 1);
    stale = p.c;
    stale.generation++;
    forge_timeout(&p, &p.c, 0, corrs[0]);
    forge_timeout(&p, NULL, id, corrs[0]);
    forge_timeout(&p, &stale, 0, corrs[0]);
    wh_poll_until(p.w0, has_dead, &forged, UNIT_SETTLE_MS);
    cr_assert_eq(dead(p.w0, AIRSRT_DL_UNROUTABLE), 3);
    cr_assert_eq(dead(p.w0, AIRSRT_DL_STALE), 0);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 0);
    cr_assert_eq(p.w0->nrequests, 1, "the request still waits");
    cr_assert_eq(p.w0->timers.n, 1, "with its own timeout");
    pair_close(&p);
}

Test(request, stopped_caller_keeps_its_request_until_the_timeout,
     .timeout = 60)
{
    struct dead_wait stale;
    struct pair p;

    pair_open(&p);
    stale = (struct dead_wait){ p.w0, AIRSRT_DL_STALE, 1 };
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(p.w0), &server, NULL, NULL),
                 0);    /* keeps worker 0 up once the client stops */
    go(p.w0, &p.c, &p.s, 1, HOUR_NS);
    airsrt__worker_poll(p.w0, 0);
    cr_assert_eq(p.w0->nrequests, 1);
    cr_assert_eq(airsrt_stop(airsrt__worker_ctx(p.w0), &p.c), 0);
    airsrt__worker_poll(p.w0, 0);
    wh_poll_until(p.w1, has_event, (void *)(uintptr_t)EV_REQUEST,
                  UNIT_SETTLE_MS);
    airsrt__worker_poll(p.w1, 0);
    /* The reply finds no caller: stale, not late. */
    wh_poll_until(p.w0, has_dead, &stale, UNIT_SETTLE_MS);
    cr_assert_eq(p.w0->nrequests, 1);
    /* Its timeout, due now (white box), goes the same way and ends it. */
    p.w0->timers.heap[0].due_ns = 1;
    stale.count = 2;
    wh_poll_until(p.w0, has_dead, &stale, UNIT_SETTLE_MS);
    cr_assert_eq(p.w0->nrequests, 0);
    cr_assert_eq(unit_log_count(EV_REPLY, UNIT_ANY), 0);
    cr_assert_eq(unit_log_count(EV_TIMEOUT, UNIT_ANY), 0);
    cr_assert_eq(dead(p.w0, AIRSRT_DL_LATE_REPLY), 0);
    pair_close(&p);
}

Test(request, closing_a_worker_with_waiting_requests_frees_them)
{
    struct pair p;

    pair_open(&p);
    go(p.w0, &p.c, &p.s, 50, HOUR_NS);
    airsrt__worker_poll(p.w0, 0);
    cr_assert_eq(p.w0->nrequests, 50);
    cr_assert_eq(p.w0->timers.n, 50);
    /* What closing the worker does to its requests and their timeouts:
     * none left, none armed. That their memory is really freed is for
     * make valgrind / make asan, which run this suite. */
    airsrt__requests_fini(p.w0);
    cr_assert_eq(p.w0->nrequests, 0);
    cr_assert(RB_EMPTY(&p.w0->requests));
    airsrt__timers_fini(p.w0);
    cr_assert_eq(p.w0->timers.n, 0);
    pair_close(&p);
}
