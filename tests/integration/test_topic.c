/*
 * tests/integration/test_topic.c - pub/sub across worker processes: one
 * copy of each publish crosses the ring to each subscribing worker and
 * is fanned out there to every subscriber in order; a subscriber worker
 * killed with SIGKILL and started again gets publishes once its actors
 * have subscribed again; an unsubscribe stops delivery.
 *
 * Two actor types of this file run in forked workers and report in
 * shared memory: tsub subscribes to "news" in pre_start and checks the
 * sequence numbers it gets (and unsubscribes when told); tpub publishes
 * count numbered envelopes when told through its worker's control ring.
 * A report outlives its actor and its worker's incarnations.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "tests/lib/integ_worker.h"

TestSuite(topic_integ, .fini = harness_fini);

#define REPORTS 8u

AIRSRT_MESSAGE(t_news, 0x72000001, { uint64_t seq; });
AIRSRT_MESSAGE(t_publish, 0x72000002, { uint32_t count; uint32_t unused; });
AIRSRT_MESSAGE(t_unsub, 0x72000003, { uint32_t unused; });

struct t_report {
    struct airsrt_address self;     /* as of its last pre_start */
    _Atomic uint32_t starts;        /* publishes self */
    _Atomic int32_t sub_rc;         /* of its last subscribe */
    _Atomic int32_t unsub_rc;
    _Atomic uint32_t unsubs;        /* t_unsub handled */
    _Atomic uint64_t received;      /* t_news handled */
    _Atomic uint64_t next_seq;      /* the seq expected next */
    _Atomic uint64_t out_of_order;
    _Atomic uint64_t bad;           /* wrong topic, recipient or type */
    _Atomic uint32_t commands;      /* t_publish handled */
    _Atomic uint64_t reached;       /* sum of what publish returned */
    _Atomic uint64_t errors;        /* publishes that failed */
};

struct t_shared {
    _Atomic uint64_t next_pub;      /* the seq tpub publishes next */
    struct t_report r[REPORTS];
};

static struct t_shared *sh;

static uint32_t arg_index(const void *arg, size_t len)
{
    uint32_t i = 0;

    for (size_t k = 0; k < len; k++)
        i = i * 10 + (uint32_t)(((const char *)arg)[k] - '0');
    cr_assert_lt(i, REPORTS);
    return i;
}

static int started(struct airsrt_ctx *ctx, void *state, const void *arg,
                   size_t len)
{
    struct t_report *r = &sh->r[arg_index(arg, len)];

    *(struct t_report **)state = r;
    r->self = *airsrt_self(ctx);
    atomic_fetch_add(&r->starts, 1);
    return 0;
}

static int tsub_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    struct t_report *r = &sh->r[arg_index(arg, len)];

    atomic_store(&r->sub_rc, airsrt_subscribe(ctx, "news"));
    return started(ctx, state, arg, len);
}

/* Sequence numbers are runtime-wide (tpub's), so every subscriber must
 * see them rise by one from the first it got. */
static void take_news(struct airsrt_ctx *ctx, struct t_report *r,
                      const struct airsrt_envelope *env)
{
    const struct t_news *n = airsrt_msg_get(env, t_news);
    uint32_t id = 0;

    if (n == NULL || airsrt_topic_id(ctx, "news", &id) < 0 ||
        airsrt_topic_of(env) != id ||
        !airsrt_address_equal(&env->recipient, airsrt_self(ctx))) {
        atomic_fetch_add(&r->bad, 1);
        return;
    }
    if (atomic_load(&r->received) != 0 && n->seq != atomic_load(&r->next_seq))
        atomic_fetch_add(&r->out_of_order, 1);
    atomic_store(&r->next_seq, n->seq + 1);
    atomic_fetch_add(&r->received, 1);
}

static int tsub_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct t_report *r = *(struct t_report **)state;

    if (env->type == t_unsub_type) {
        atomic_store(&r->unsub_rc, airsrt_unsubscribe(ctx, "news"));
        atomic_fetch_add(&r->unsubs, 1);
        return 0;
    }
    take_news(ctx, r, env);
    return 0;
}

static int tpub_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct t_report *r = *(struct t_report **)state;
    const struct t_publish *p = airsrt_msg_get(env, t_publish);

    if (p == NULL) {
        atomic_fetch_add(&r->bad, 1);
        return 0;
    }
    for (uint32_t i = 0; i < p->count; i++) {
        struct t_news n = { .seq = atomic_fetch_add(&sh->next_pub, 1) };
        int rc = airsrt_publish(ctx, "news", t_news_type, &n, sizeof(n));

        if (rc < 0)
            atomic_fetch_add(&r->errors, 1);
        else
            atomic_fetch_add(&r->reached, (uint64_t)rc);
    }
    atomic_fetch_add(&r->commands, 1);
    return 0;
}

static const struct airsrt_actor_type tsub = {
    .name = "tsub", .state_size = sizeof(struct t_report *),
    .pre_start = tsub_start, .handle = tsub_handle };
static const struct airsrt_actor_type tpub = {
    .name = "tpub", .state_size = sizeof(struct t_report *),
    .pre_start = started, .handle = tpub_handle };
static const struct airsrt_actor_type *const types[] = { &tsub, &tpub,
                                                         NULL };

static void setup(uint32_t nworkers)
{
    wh_runtime(nworkers, NULL);
    sh = wh_shared(sizeof(*sh));
}

static struct t_report *await_started(uint32_t i, uint32_t n)
{
    struct t_report *r = &sh->r[i];

    INTEG_AWAIT(atomic_load(&r->starts) >= n);
    cr_assert_eq(atomic_load(&r->sub_rc), 0, "report %u subscribed", i);
    return r;
}

/* Has tpub (report pub) publish count envelopes, and waits until it did. */
static void publish(uint32_t pub, uint32_t count)
{
    struct t_report *r = &sh->r[pub];
    uint32_t before = atomic_load(&r->commands);
    struct t_publish p = { .count = count };

    integ_ctl_send(r->self.worker, &r->self, t_publish_type, &p, sizeof(p));
    INTEG_AWAIT(atomic_load(&r->commands) == before + 1);
    cr_assert_eq(atomic_load(&r->errors), 0);
}

static void unsubscribe(uint32_t i)
{
    struct t_report *r = &sh->r[i];
    uint32_t before = atomic_load(&r->unsubs);
    struct t_unsub u = { 0 };

    integ_ctl_send(r->self.worker, &r->self, t_unsub_type, &u, sizeof(u));
    INTEG_AWAIT(atomic_load(&r->unsubs) == before + 1);
    cr_assert_eq(atomic_load(&r->unsub_rc), 0);
}

/* Envelopes the producer of ring from -> to has published. */
static uint64_t ring_envelopes(uint32_t from, uint32_t to)
{
    struct airsrt_ring r;

    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, from, to, &r), 0);
    return atomic_load(&r.prod->stats.envelopes);
}

static void expect_clean(uint32_t i, uint64_t received)
{
    struct t_report *r = &sh->r[i];

    INTEG_AWAIT(atomic_load(&r->received) >= received);
    cr_assert_eq(atomic_load(&r->received), received, "report %u", i);
    cr_assert_eq(atomic_load(&r->out_of_order), 0, "report %u", i);
    cr_assert_eq(atomic_load(&r->bad), 0, "report %u", i);
}

#define PUB 0u

Test(topic_integ, one_copy_per_subscribing_worker_crosses_its_ring,
     .timeout = 120)
{
    enum { N = 50 };
    pid_t pids[3];

    setup(3);
    pids[0] = wh_fork_worker(0, types, "tpub=0");
    pids[1] = wh_fork_worker(1, types, "tsub=1,tsub=2,tsub=3");
    pids[2] = wh_fork_worker(2, types, "tsub=4,tsub=5");
    for (uint32_t i = 1; i <= 5; i++)
        await_started(i, 1);
    await_started(PUB, 1);

    publish(PUB, N);
    cr_assert_eq(atomic_load(&sh->r[PUB].reached), 2u * N,
                 "each publish reaches two workers");
    for (uint32_t i = 1; i <= 5; i++)
        expect_clean(i, N);
    /* One envelope per publish through each ring, fanned out there. */
    cr_assert_eq(ring_envelopes(0, 1), N);
    cr_assert_eq(ring_envelopes(0, 2), N);
    cr_assert_eq(ring_envelopes(1, 2) + ring_envelopes(2, 1), 0);
    cr_assert_eq(atomic_load(&integ_self(1)->envelopes_in), 3u * N);
    cr_assert_eq(atomic_load(&integ_self(2)->envelopes_in), 2u * N);
    for (uint32_t w = 0; w < 3; w++)
        cr_assert_eq(integ_dead_letters_all(w), 0, "worker %u", w);

    for (uint32_t w = 0; w < 3; w++)
        integ_ctl_shutdown(w);
    for (uint32_t w = 0; w < 3; w++)
        cr_assert_eq(integ_exit_status(pids[w]), AIRSRT_EXIT_OK);
}

Test(topic_integ, killed_subscriber_worker_gets_publishes_after_restart,
     .timeout = 120)
{
    pid_t pub, w1, w2;

    setup(3);
    pub = wh_fork_worker(0, types, "tpub=0");
    w1 = wh_fork_worker(1, types, "tsub=1,tsub=2");
    w2 = wh_fork_worker(2, types, "tsub=3");
    for (uint32_t i = 1; i <= 3; i++)
        await_started(i, 1);
    await_started(PUB, 1);
    publish(PUB, 10);
    for (uint32_t i = 1; i <= 3; i++)
        expect_clean(i, 10);

    cr_assert_eq(kill(w1, SIGKILL), 0);
    cr_assert_eq(integ_exit_status(w1), 128 + SIGKILL);
    /* Its list still names the topic: these wait in its ring. */
    publish(PUB, 5);
    cr_assert_eq(atomic_load(&sh->r[PUB].reached), 2u * 15);
    expect_clean(3, 15);

    integ_reap_incarnation(1, 1);
    w1 = wh_fork_worker(1, types, "tsub=1,tsub=2");
    await_started(1, 2);
    await_started(2, 2);
    /* They subscribed again before the worker read its ring. */
    expect_clean(1, 15);
    expect_clean(2, 15);
    publish(PUB, 5);
    for (uint32_t i = 1; i <= 3; i++)
        expect_clean(i, 20);
    cr_assert_eq(atomic_load(&sh->r[PUB].reached), 2u * 20);
    cr_assert_eq(integ_dead_letters_all(1), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    integ_ctl_shutdown(2);
    cr_assert_eq(integ_exit_status(pub), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(w1), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(w2), AIRSRT_EXIT_OK);
}

Test(topic_integ, unsubscribe_stops_delivery, .timeout = 120)
{
    pid_t pub, subs;

    setup(2);
    pub = wh_fork_worker(0, types, "tpub=0");
    subs = wh_fork_worker(1, types, "tsub=1,tsub=2");
    await_started(1, 1);
    await_started(2, 1);
    await_started(PUB, 1);
    publish(PUB, 5);
    expect_clean(1, 5);
    expect_clean(2, 5);

    unsubscribe(1);
    publish(PUB, 5);
    cr_assert_eq(atomic_load(&sh->r[PUB].reached), 10, "2 still subscribes");
    expect_clean(2, 10);
    unsubscribe(2);
    publish(PUB, 5);
    cr_assert_eq(atomic_load(&sh->r[PUB].reached), 10, "nobody subscribes");
    cr_assert_eq(ring_envelopes(0, 1), 10, "nothing crossed for nobody");
    expect_clean(1, 5);
    expect_clean(2, 10);
    cr_assert_eq(integ_dead_letters_all(1), 0);

    integ_ctl_shutdown(0);
    integ_ctl_shutdown(1);
    cr_assert_eq(integ_exit_status(pub), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(subs), AIRSRT_EXIT_OK);
}
