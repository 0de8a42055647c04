/*
 * tests/integration/test_worker_corrupt.c - a worker whose inbound ring
 * holds a damaged record: it counts the damage, gives the skipped room
 * back to the producer, and goes on delivering what comes next.
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

TestSuite(worker_corrupt, .fini = harness_fini);

/* Fills ring r with envelopes to to until it is full; damages the tag of
 * the first record when damage is set. Returns how many it wrote. */
static unsigned fill_ring(struct airsrt_ring *r,
                          const struct airsrt_address *to, bool damage)
{
    struct airsrt_envelope *e;
    unsigned n = 0;

    while (airsrt_ring_reserve(r, 64, &e) == 0) {
        airsrt_envelope_init(e, TYPE_ITEM, 64);
        e->recipient = *to;
        memset(e->payload, 0, 64);
        if (damage && n == 0)
            ((struct airsrt_ring_rec *)(void *)e - 1)->tag ^= 0xff;
        airsrt_ring_commit(r);
        n++;
    }
    airsrt_ring_publish(r);
    return n;
}

static bool is_ring_drained(void *arg)
{
    struct airsrt_ring *r = arg;

    return atomic_load(&r->cons->head) == atomic_load(&r->prod->tail);
}

Test(worker_corrupt, skips_damaged_record_and_gives_its_room_back,
     .timeout = 20)
{
    struct airsrt_shm_params p = { .ring_bytes = 16384, .payload_max = 1024 };
    struct airsrt_worker *w;
    struct airsrt_address to;
    struct airsrt_ring r;
    unsigned first, second;

    wh_runtime(2, &p);
    w = wh_open(1, types, NULL);
    cr_assert_eq(airsrt_spawn(airsrt__worker_ctx(w), &counter, NULL, &to), 0);
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 0, 1, &r), 0);
    airsrt_ring_producer_attach(&r);
    first = fill_ring(&r, &to, true);
    cr_assert_gt(first, 10);
    cr_assert_eq(wh_poll_until(w, is_ring_drained, &r, 5000), -1,
                 "the damaged ring was never given back to its producer");
    cr_assert_geq(atomic_load(&r.cons->stats.corruptions), 1);
    /* A whole ring's worth fits again, and every one of it arrives. */
    handled = 0;
    second = fill_ring(&r, &to, false);
    cr_assert_geq(second, first - 1);
    cr_assert_eq(wh_poll_until(w, is_ring_drained, &r, 5000), -1);
    for (int i = 0; i < 10 && handled < second; i++)
        airsrt__worker_poll(w, 1000000);
    cr_assert_eq(handled, second, "%llu of %u envelopes after the damage",
                 (unsigned long long)handled, second);
    wh_close(w);
}
