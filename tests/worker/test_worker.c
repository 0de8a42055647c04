/*
 * tests/worker/test_worker.c - the worker itself, in one process: what it
 * refuses to open, what its shutdown does with envelopes it could not
 * send or did not read, and how it routes envelopes from a ring that no
 * honest sender would write.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/lib/worker_harness.h"

#define TYPE_ITEM 9u

static uint64_t handled;

static int count_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    handled += env->type == TYPE_ITEM;
    return 0;
}

static const struct airsrt_actor_type counter = {
    .name = "counter", .handle = count_handle };
static const struct airsrt_actor_type *const types[] = { &counter, NULL };

TestSuite(worker, .fini = harness_fini);

static int open_with(uint32_t index,
                     const struct airsrt_actor_type *const *list, char *err,
                     size_t len)
{
    struct airsrt_worker *w = NULL;
    int rc = airsrt__worker_open(&w, &harness_shm, index, list, NULL, err,
                                 len);

    if (rc == 0)
        airsrt__worker_close(w);
    return rc;
}

Test(worker, open_refuses_index_past_runtime_and_slot_never_started)
{
    char err[256];

    wh_runtime(2, NULL);
    cr_assert_eq(open_with(2, types, err, sizeof(err)), -EINVAL);
    cr_assert(strstr(err, "the runtime has 2 workers"), "%s", err);
    wh_incarnate(1, 0);
    cr_assert_eq(open_with(1, types, err, sizeof(err)), -ESRCH);
    cr_assert(strstr(err, "no incarnation"), "%s", err);
}

Test(worker, open_refuses_bad_actor_type_lists)
{
    static const struct airsrt_actor_type no_handle = { .name = "x" };
    static const struct airsrt_actor_type bad_name = {
        .name = "a b", .handle = count_handle };
    static const struct airsrt_actor_type twin = {
        .name = "counter", .handle = count_handle };
    const struct airsrt_actor_type *l1[] = { &no_handle, NULL };
    const struct airsrt_actor_type *l2[] = { &bad_name, NULL };
    const struct airsrt_actor_type *l3[] = { &counter, &twin, NULL };
    char err[256];

    wh_runtime(1, NULL);
    cr_assert_eq(open_with(0, l1, err, sizeof(err)), -EINVAL);
    cr_assert(strstr(err, "actor type 0"), "%s", err);
    cr_assert_eq(open_with(0, l2, err, sizeof(err)), -EINVAL);
    cr_assert_eq(open_with(0, l3, err, sizeof(err)), -EINVAL);
    cr_assert(strstr(err, "two actor types are named \"counter\""), "%s",
              err);
}

/* Worker 1 never runs: what worker 0 sends it fills the ring, then waits
 * in the outbox. Shutdown tries to send it for a second, then counts it
 * as dead letters instead of dropping it in silence. */
Test(worker, shutdown_counts_what_a_full_ring_never_took, .timeout = 20)
{
    struct airsrt_shm_params p = { .ring_bytes = 16384, .payload_max = 1024 };
    struct airsrt_address far = { .worker = 1, .incarnation = 1, .slot = 1,
                                  .generation = 1 };
    struct airsrt_worker *w;
    uint8_t payload[64] = { 0 };
    uint64_t waiting, lost;
    int rc, held = 0;

    wh_runtime(2, &p);
    w = wh_open(0, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &counter, NULL, NULL), 0);
    for (int i = 0; i < 1000; i++) {
        rc = airsrt_send(airsrt__worker_ctx(w), &far, TYPE_ITEM, payload,
                         sizeof(payload));
        cr_assert_geq(rc, 0, "send %d: %s", i, airsrt_strerror(rc));
        held += rc == AIRSRT_SENT_BACKPRESSURE;
    }
    cr_assert_gt(held, 0, "the ring never filled");
    /* The self page shows the outboxes as of the last flush. */
    cr_assert_eq(airsrt__worker_poll(w, 0), -1);
    waiting = atomic_load(&w->self->outbox_envelopes);
    cr_assert_eq(waiting, (uint64_t)held);
    airsrt__worker_shutdown(w, AIRSRT_EXIT_OK);
    cr_assert_eq(wh_poll_until(w, NULL, NULL, 10000), AIRSRT_EXIT_OK);
    lost = atomic_load(&w->self->dead_letters[AIRSRT_DL_UNROUTABLE]);
    cr_assert_eq(lost, waiting, "%llu of %llu counted",
                 (unsigned long long)lost, (unsigned long long)waiting);
    cr_assert_eq(atomic_load(&w->self->outbox_envelopes), 0);
    wh_close(w);
}

/* ---- envelopes written into worker 1's rings by the test ---- */

static struct airsrt_ring ring_in;

static void ring_bind(bool is_ctl)
{
    int rc = is_ctl ? airsrt_shm_ctl_ring(&harness_shm, 1, &ring_in)
                    : airsrt_shm_data_ring(&harness_shm, 0, 1, &ring_in);

    cr_assert_eq(rc, 0);
    airsrt_ring_producer_attach(&ring_in);
}

/* Writes an envelope of type to to (or to name id) and publishes it. */
static void ring_put(uint32_t type, struct airsrt_address to, uint32_t name,
                     uint8_t flags)
{
    struct airsrt_envelope *e;

    cr_assert_eq(airsrt_ring_reserve(&ring_in, 8, &e), 0);
    airsrt_envelope_init(e, type, 8);
    e->recipient = to;
    e->recipient_name = name;
    e->flags = flags;
    memset(e->payload, 0, 8);
    airsrt_ring_commit(&ring_in);
    airsrt_ring_publish(&ring_in);
}

static uint64_t dead(struct airsrt_worker *w, unsigned reason)
{
    return atomic_load(&w->self->dead_letters[reason]);
}

static bool is_read(void *arg)
{
    (void)arg;
    return atomic_load(&ring_in.cons->head) ==
           atomic_load(&ring_in.prod->tail);
}

/* Fills ring_in with envelopes to to until it is full; damages the tag
 * of the first record when damage is set. Returns how many it wrote. */
static unsigned ring_fill(const struct airsrt_address *to, bool damage)
{
    struct airsrt_envelope *e;
    unsigned n = 0;

    while (airsrt_ring_reserve(&ring_in, 64, &e) == 0) {
        airsrt_envelope_init(e, TYPE_ITEM, 64);
        e->recipient = *to;
        memset(e->payload, 0, 64);
        if (damage && n == 0)
            ((struct airsrt_ring_rec *)(void *)e - 1)->tag ^= 0xff;
        airsrt_ring_commit(&ring_in);
        n++;
    }
    airsrt_ring_publish(&ring_in);
    return n;
}

/* The worker counts the damage, gives the skipped room back to the
 * producer, and goes on delivering what comes next. */
Test(worker, skips_damaged_record_and_gives_its_room_back, .timeout = 20)
{
    struct airsrt_shm_params p = { .ring_bytes = 16384, .payload_max = 1024 };
    struct airsrt_worker *w;
    struct airsrt_address to;
    unsigned first, second;

    wh_runtime(2, &p);
    w = wh_open(1, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &counter, NULL, &to), 0);
    ring_bind(false);
    first = ring_fill(&to, true);
    cr_assert_gt(first, 10);
    cr_assert_eq(wh_poll_until(w, is_read, NULL, 5000), -1,
                 "the damaged ring was never given back to its producer");
    cr_assert_geq(atomic_load(&ring_in.cons->stats.corruptions), 1);
    /* A whole ring's worth fits again, and every one of it arrives. */
    handled = 0;
    second = ring_fill(&to, false);
    cr_assert_geq(second, first - 1);
    cr_assert_eq(wh_poll_until(w, is_read, NULL, 5000), -1);
    for (int i = 0; i < 10 && handled < second; i++)
        airsrt__worker_poll(w, 1000000);
    cr_assert_eq(handled, second, "%llu of %u envelopes after the damage",
                 (unsigned long long)handled, second);
    wh_close(w);
}

Test(worker, routes_impossible_envelopes_to_dead_letters, .timeout = 20)
{
    struct airsrt_worker *w;
    struct airsrt_address a, other_node, other_worker;
    struct airsrt_registry reg;
    struct airsrt_address elsewhere = { .worker = 0, .incarnation = 1,
                                        .slot = 1, .generation = 1 };
    uint32_t id;

    wh_runtime(2, NULL);
    w = wh_open(1, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &counter, NULL, &a), 0);
    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    cr_assert_eq(airsrt_registry_register(&reg, "far", AIRSRT_REGISTRY_NAME,
                                          &elsewhere, &id), 0);
    other_node = a;
    other_node.node = 3;
    other_worker = a;
    other_worker.worker = 0;
    ring_bind(false);
    ring_put(TYPE_ITEM, other_node, 0, 0);      /* no gateway */
    ring_put(TYPE_ITEM, other_worker, 0, 0);    /* not ours */
    ring_put(TYPE_ITEM, AIRSRT_ADDRESS_NULL, 0, 0); /* a command, on a
                                                       data ring */
    ring_put(TYPE_ITEM, AIRSRT_ADDRESS_NULL, 4000, 0);  /* no such name */
    ring_put(TYPE_ITEM, AIRSRT_ADDRESS_NULL, id, AIRSRT_ENV_HOPS_MAX);
    ring_put(TYPE_ITEM, a, 0, 0);               /* the one that arrives */
    cr_assert_eq(wh_poll_until(w, is_read, NULL, 5000), -1);
    for (int i = 0; i < 5 && handled < 1; i++)
        airsrt__worker_poll(w, 1000000);
    cr_assert_eq(handled, 1);
    cr_assert_eq(dead(w, AIRSRT_DL_UNROUTABLE), 4);
    cr_assert_eq(dead(w, AIRSRT_DL_UNBOUND), 1);
    cr_assert_eq(atomic_load(&w->self->forwarded), 0);
    wh_close(w);
}

/* A shutdown command ends intake at once: what follows it in the ring
 * is left for the worker's next incarnation. */
Test(worker, leaves_what_follows_a_shutdown_in_its_ring, .timeout = 20)
{
    struct airsrt_worker *w;
    struct airsrt_address a;
    uint64_t head_before;

    wh_runtime(2, NULL);
    w = wh_open(1, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &counter, NULL, &a), 0);
    ring_bind(true);
    head_before = atomic_load(&ring_in.cons->head);
    ring_put(AIRSRT_CTL_SHUTDOWN, AIRSRT_ADDRESS_NULL, 0, 0);
    ring_put(TYPE_ITEM, a, 0, 0);
    ring_put(TYPE_ITEM, a, 0, 0);
    cr_assert_eq(wh_poll_until(w, NULL, NULL, 5000), AIRSRT_EXIT_OK);
    cr_assert_eq(handled, 0);
    cr_assert_eq(atomic_load(&ring_in.cons->head) - head_before,
                 airsrt_ring_record_size(8),
                 "only the command may be released");
    wh_close(w);
}

Test(worker, send_refuses_bad_reply_to_and_reply_without_envelope)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;
    struct airsrt_worker *w;
    struct airsrt_address a;

    wh_runtime(1, NULL);
    w = wh_open(0, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &counter, NULL, &a), 0);
    o.reply_to = (struct airsrt_address){ .worker = 0, .incarnation = 0,
                                          .slot = 1, .generation = 1 };
    cr_assert_eq(airsrt_send_ex(airsrt__worker_ctx(w), &a, NULL, &o,
                                TYPE_ITEM, NULL, 0), -EINVAL);
    o = (struct airsrt_send_opts)AIRSRT_SEND_OPTS_INIT;
    o.priority = AIRSRT_PRIO_SYSTEM + 1;
    cr_assert_eq(airsrt_send_ex(airsrt__worker_ctx(w), &a, NULL, &o,
                                TYPE_ITEM, NULL, 0), -EINVAL);
    cr_assert_eq(airsrt_reply(airsrt__worker_ctx(w), TYPE_ITEM, NULL, 0),
                 -EDESTADDRREQ);
    cr_assert_eq(airsrt_send_ex(airsrt__worker_ctx(w), &a, NULL, NULL,
                                AIRSRT_TYPE_RESERVED, NULL, 0), -EINVAL);
    wh_close(w);
}

/* A name that was never bound anywhere this worker saw has no holder to
 * wait at. */
Test(worker, send_to_name_never_held_is_hostdown)
{
    struct airsrt_registry reg;
    struct airsrt_worker *w;
    uint32_t id;

    wh_runtime(1, NULL);
    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    cr_assert_eq(airsrt_registry_register(&reg, "vacant",
                                          AIRSRT_REGISTRY_NAME,
                                          &AIRSRT_ADDRESS_NULL, &id), 0);
    w = wh_open(0, types, NULL);
    cr_assert_eq(airsrt_send_name(airsrt__worker_ctx(w), "vacant", TYPE_ITEM,
                                  NULL, 0), -EHOSTDOWN);
    wh_close(w);
}
