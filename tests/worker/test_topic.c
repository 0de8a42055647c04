/*
 * tests/worker/test_topic.c - pub/sub in one in-process worker: subscribe,
 * publish and unsubscribe, their errors, idempotent subscribes, stopped
 * subscribers dropped, fan-out in subscription order, the worker's topic
 * list in its self page, and what the worker does with topic envelopes
 * that arrive from a ring (no subscriber, no topic, a recipient).
 *
 * Subscriptions are made with the context a callback of the actor would
 * get (the test runs on the worker's thread, between polls).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

TestSuite(topic, .fini = harness_fini);

enum { EV_GOT = 1 };
enum { T_NEWS = 1 };

static uint32_t seen_topic;
static struct airsrt_address seen_recipient, seen_sender;

/* Logs (EV_GOT, its slot, seq) and remembers what the envelope says. */
static int sub_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    (void)state;
    seen_topic = airsrt_topic_of(env);
    seen_recipient = env->recipient;
    seen_sender = env->sender;
    unit_log(EV_GOT, airsrt_self(ctx)->slot, unit_seq(env));
    return 0;
}

static const struct airsrt_actor_type sub = {
    .name = "sub", .handle = sub_handle };
static const struct airsrt_actor_type *const types[] = { &sub, NULL };

static int subscribe(const struct airsrt_address *a, const char *topic)
{
    struct airsrt_ctx c = unit_actor_ctx(a);

    return airsrt_subscribe(&c, topic);
}

static int unsubscribe(const struct airsrt_address *a, const char *topic)
{
    struct airsrt_ctx c = unit_actor_ctx(a);

    return airsrt_unsubscribe(&c, topic);
}

static int publish(const char *topic, uint64_t seq)
{
    return airsrt_publish(unit_ctx(), topic, T_NEWS, &seq, sizeof(seq));
}

/* What our self page lists: the count, ids in *ids. */
static int listed(uint32_t ids[AIRSRT_WORKER_TOPICS_MAX])
{
    int n = airsrt__topic_page_read(&unit_w->self->topics, ids);

    cr_assert_geq(n, 0, "our own list is torn");
    return n;
}

Test(topic, subscriber_gets_publish_with_topic_id, .timeout = 30)
{
    struct airsrt_address a;
    uint32_t id = 0;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(airsrt_topic_id(unit_ctx(), "news", &id), -ENOENT);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(airsrt_topic_id(unit_ctx(), "news", &id), 0);
    cr_assert_neq(id, 0);
    cr_assert_eq(publish("news", 7), 1, "this worker is the one reached");
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 1);
    cr_assert_eq(unit_events[0].value, 7);
    cr_assert_eq(seen_topic, id);
    cr_assert(airsrt_address_equal(&seen_recipient, &a));
    cr_assert(airsrt_address_is_null(&seen_sender), "the worker published");
    unit_close();
}

Test(topic, subscribing_twice_gives_one_copy, .timeout = 30)
{
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(publish("news", 1), 1);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 1);
    unit_close();
}

Test(topic, unsubscribed_actor_gets_nothing_published_after, .timeout = 30)
{
    struct airsrt_address a;
    uint64_t out;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(publish("news", 1), 1);
    cr_assert_eq(unsubscribe(&a, "news"), 0);
    cr_assert_eq(unsubscribe(&a, "news"), -ENOENT);
    cr_assert_eq(unsubscribe(&a, "other"), -ENOENT);
    out = atomic_load(&unit_w->self->envelopes_out);
    cr_assert_eq(publish("news", 2), 0);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_out), out);
    cr_assert_eq(unit_settle(), -1);
    /* The copy queued before the unsubscribe stays. */
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 1);
    cr_assert_eq(unit_events[0].value, 1);
    unit_close();
}

Test(topic, publish_returns_zero_and_sends_nothing_without_subscribers,
     .timeout = 30)
{
    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(publish("never", 1), 0, "a topic nobody subscribed to");
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_nevents, 0);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_out), 0);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_in), 0);
    for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++)
        cr_assert_eq(unit_dead(r), 0, "dead letter %u", r);
    unit_close();
}

Test(topic, stopped_subscriber_is_unsubscribed, .timeout = 30)
{
    struct airsrt_address a, b;
    uint32_t ids[AIRSRT_WORKER_TOPICS_MAX];

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &sub, NULL); /* keeps the worker running */
    a = unit_spawn(unit_ctx(), &sub, NULL);
    b = unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(subscribe(&b, "news"), 0);
    cr_assert_eq(subscribe(&a, "sport"), 0);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(listed(ids), 1, "sport lost its only subscriber");
    cr_assert_eq(publish("news", 1), 1);
    cr_assert_eq(publish("sport", 2), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 0);
    cr_assert_eq(unit_log_count(EV_GOT, b.slot), 1);
    cr_assert_eq(airsrt_stop(unit_ctx(), &b), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(listed(ids), 0);
    unit_close();
}

Test(topic, fans_out_in_subscription_order, .timeout = 30)
{
    static const uint32_t order[] = { 3, 1, 4, 0, 2 };
    struct airsrt_address a[5];
    uint32_t seen = 0;

    unit_open(types, 0, NULL);
    for (uint32_t i = 0; i < 5; i++)
        a[i] = unit_spawn(unit_ctx(), &sub, NULL);
    for (uint32_t i = 0; i < 5; i++)
        cr_assert_eq(subscribe(&a[order[i]], "news"), 0);
    for (uint64_t s = 0; s < 3; s++)
        cr_assert_eq(publish("news", s), 1);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_in), 15);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_nevents, 15);
    /* The mailboxes were filled in subscription order, so the actors
     * ran in it, each with the three in publish order. */
    for (uint32_t i = 0; i < 5; i++) {
        for (uint64_t s = 0; s < 3; s++, seen++) {
            cr_assert_eq(unit_events[seen].who, a[order[i]].slot,
                         "event %u", seen);
            cr_assert_eq(unit_events[seen].value, s);
        }
    }
    unit_close();
}

Test(topic, self_page_lists_topics_with_subscribers, .timeout = 30)
{
    struct airsrt_address a, b;
    uint32_t ids[AIRSRT_WORKER_TOPICS_MAX], news = 0, sport = 0;
    uint64_t e0;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, NULL);
    b = unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(listed(ids), 0);
    e0 = unit_groups_epoch();
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_gt(unit_groups_epoch(), e0, "a new topic moves the epoch");
    e0 = unit_groups_epoch();
    cr_assert_eq(subscribe(&b, "news"), 0);
    cr_assert_eq(unit_groups_epoch(), e0,
                 "a second subscriber changes no list");
    cr_assert_eq(subscribe(&b, "sport"), 0);
    cr_assert_eq(airsrt_topic_id(unit_ctx(), "news", &news), 0);
    cr_assert_eq(airsrt_topic_id(unit_ctx(), "sport", &sport), 0);
    cr_assert_eq(listed(ids), 2);
    cr_assert((ids[0] == news && ids[1] == sport) ||
              (ids[0] == sport && ids[1] == news));
    e0 = unit_groups_epoch();
    cr_assert_eq(unsubscribe(&a, "news"), 0);
    cr_assert_eq(listed(ids), 2, "b still subscribes to news");
    cr_assert_eq(unsubscribe(&b, "news"), 0);
    cr_assert_gt(unit_groups_epoch(), e0);
    cr_assert_eq(listed(ids), 1);
    cr_assert_eq(ids[0], sport);
    unit_close();
}

Test(topic, subscribe_returns_enospc_past_the_topics_per_worker,
     .timeout = 30)
{
    struct airsrt_address a, b;
    char name[32];

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, NULL);
    b = unit_spawn(unit_ctx(), &sub, NULL);
    for (uint32_t i = 0; i < AIRSRT_TOPICS_PER_WORKER; i++) {
        snprintf(name, sizeof(name), "t%u", i);
        cr_assert_eq(subscribe(&a, name), 0, "%s", name);
    }
    cr_assert_eq(subscribe(&a, "one-more"), -ENOSPC);
    cr_assert_eq(subscribe(&b, "one-more"), -ENOSPC, "the limit is the "
                 "worker's");
    cr_assert_eq(subscribe(&b, "t5"), 0, "a listed topic has room");
    cr_assert_eq(unsubscribe(&a, "t0"), 0);
    cr_assert_eq(subscribe(&b, "one-more"), 0);
    cr_assert_eq(publish("one-more", 9), 1);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, b.slot), 1);
    unit_close();
}

Test(topic, bad_names_actor_names_and_the_worker_are_refused, .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "svc" };
    struct airsrt_address a;
    uint64_t big = 0;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, &o);
    cr_assert_eq(airsrt_subscribe(unit_ctx(), "news"), -EINVAL,
                 "the worker itself subscribed");
    cr_assert_eq(airsrt_unsubscribe(unit_ctx(), "news"), -EINVAL);
    cr_assert_eq(subscribe(&a, "two words"), -EINVAL);
    cr_assert_eq(subscribe(&a, ""), -EINVAL);
    cr_assert_eq(subscribe(&a, "svc"), -EEXIST, "an actor's name");
    cr_assert_eq(publish("svc", 1), -EEXIST);
    cr_assert_eq(publish("two words", 1), -EINVAL);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(airsrt_publish(unit_ctx(), "news", AIRSRT_MSG_STOP, NULL, 0),
                 -EINVAL, "a reserved type");
    cr_assert_eq(airsrt_publish(unit_ctx(), "news", T_NEWS, NULL, 4),
                 -EINVAL);
    cr_assert_eq(airsrt_publish(unit_ctx(), "news", T_NEWS, &big,
                                unit_w->payload_max + 1),
                 -EMSGSIZE);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_nevents, 0);
    unit_close();
}

/* An envelope as another worker's publish would arrive. */
static struct msg *arrived(uint32_t id)
{
    struct msg *m = airsrt__msg_alloc(&unit_w->pool, 8);
    uint64_t seq = 5;

    cr_assert_not_null(m);
    airsrt_envelope_init(&m->env, T_NEWS, 8);
    memcpy(m->env.payload, &seq, 8);
    m->env.flags = AIRSRT_ENV_F_TOPIC;
    m->env.recipient_name = id;
    return m;
}

Test(topic, arrived_topic_envelope_goes_to_subscribers_or_dead_letters,
     .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "svc" };
    struct airsrt_address a, named;
    uint32_t news = 0, sport = 0, svc = 0;
    struct msg *m;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &sub, NULL);
    named = unit_spawn(unit_ctx(), &sub, &o);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(subscribe(&a, "sport"), 0);
    cr_assert_eq(unsubscribe(&a, "sport"), 0);
    cr_assert_eq(airsrt_topic_id(unit_ctx(), "news", &news), 0);
    cr_assert_eq(airsrt_topic_id(unit_ctx(), "sport", &sport), 0);
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "svc", &svc, NULL), 0);

    airsrt__route_arrived(unit_w, arrived(news), false);
    airsrt__route_arrived(unit_w, arrived(sport), false);
    cr_assert_eq(unit_dead(AIRSRT_DL_NO_SUBSCRIBER), 1);
    /* Garbage: not a topic's id, or a recipient besides the topic. */
    airsrt__route_arrived(unit_w, arrived(svc), false);
    airsrt__route_arrived(unit_w, arrived(4000), false);
    m = arrived(news);
    m->env.recipient = a;
    airsrt__route_arrived(unit_w, m, false);
    cr_assert_eq(unit_dead(AIRSRT_DL_UNROUTABLE), 3);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 1);
    cr_assert_eq(unit_log_count(EV_GOT, named.slot), 0);
    cr_assert_eq(seen_topic, news);
    cr_assert(airsrt_address_equal(&seen_recipient, &a));
    unit_close();
}

Test(topic, page_read_clamps_the_count_and_gives_up_on_odd_seq,
     .timeout = 30)
{
    static struct airsrt_worker_topics p;
    uint32_t ids[AIRSRT_WORKER_TOPICS_MAX];

    atomic_store(&p.ntopics, 1000);
    for (uint32_t i = 0; i < AIRSRT_WORKER_TOPICS_MAX; i++)
        atomic_store(&p.ids[i], i + 1);
    cr_assert_eq(airsrt__topic_page_read(&p, ids),
                 (int)AIRSRT_WORKER_TOPICS_MAX);
    cr_assert_eq(ids[AIRSRT_WORKER_TOPICS_MAX - 1], AIRSRT_WORKER_TOPICS_MAX);
    atomic_store(&p.seq, 3);
    cr_assert_eq(airsrt__topic_page_read(&p, ids), -EAGAIN);
    atomic_store(&p.seq, 4);
    atomic_store(&p.ntopics, 2);
    cr_assert_eq(airsrt__topic_page_read(&p, ids), 2);
}

Test(topic, a_new_incarnation_lists_nothing_and_announces_once,
     .timeout = 30)
{
    uint32_t ids[AIRSRT_WORKER_TOPICS_MAX];
    struct airsrt_registry_hdr *hdr;
    struct airsrt_address a;
    uint64_t before;

    unit_open(types, 0, NULL);
    hdr = unit_w->reg.hdr;          /* in the segment: outlives unit_w */
    a = unit_spawn(unit_ctx(), &sub, NULL);
    cr_assert_eq(subscribe(&a, "news"), 0);
    cr_assert_eq(listed(ids), 1);
    /* The worker ends with its subscriber (closing stops nothing, as a
     * crash would); its next incarnation binds in the same slot. */
    unit_close();
    wh_incarnate(0, 2);
    before = atomic_load(&hdr->groups_epoch);
    unit_w = wh_open(0, types, NULL);
    cr_assert_eq(listed(ids), 0, "the last incarnation's list stayed");
    cr_assert_eq(atomic_load(&hdr->groups_epoch), before + 1,
                 "bind announced %llu times",
                 (unsigned long long)(atomic_load(&hdr->groups_epoch) -
                                      before));
    unit_close();
}

Test(topic, publish_to_a_full_peer_queues_then_refuses_as_dead_letter,
     .timeout = 30)
{
    struct airsrt_shm_params p = { .ring_bytes = 4096, .payload_max = 256 };
    struct airsrt_worker_opts o = { .spin_ns = 0, .outbox_max = 2 };
    _Atomic uint64_t *backpressure;
    struct airsrt_worker *peer;
    struct airsrt_address a;
    struct airsrt_ctx c;
    uint64_t seq = 0;

    wh_runtime(2, &p);
    unit_w = wh_open(0, types, &o);
    backpressure = &unit_w->self->backpressure;
    peer = wh_open(1, types, NULL);
    a = unit_spawn(airsrt__worker_ctx(peer), &sub, NULL);
    c = airsrt__actor_ctx(peer, airsrt__actor_find(peer, &a));
    cr_assert_eq(airsrt_subscribe(&c, "news"), 0);
    /* The peer never polls: its ring fills, then our outbox. */
    while (atomic_load(backpressure) == 0) {
        cr_assert_lt(seq, 10000, "the ring never filled");
        cr_assert_eq(publish("news", seq++), 1);
    }
    cr_assert_eq(publish("news", seq++), 1, "the outbox took no second");
    cr_assert_eq(atomic_load(backpressure), 2);
    cr_assert_eq(unit_dead(AIRSRT_DL_UNROUTABLE), 0);
    cr_assert_eq(publish("news", seq++), 0, "a full outbox took a copy");
    cr_assert_eq(atomic_load(backpressure), 2);
    cr_assert_eq(unit_dead(AIRSRT_DL_UNROUTABLE), 1);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_out), seq - 1);
    wh_close(peer);
    unit_close();
}
