/*
 * tests/shm/test_ring.c - data and control rings in one process: record
 * format, wrap-around, batches, read vs release, full rings, corruption,
 * counters. Cross-process and crash behaviour: tests/integration/.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "shm/ring_impl.h"
#include "tests/lib/harness.h"

TestSuite(ring, .fini = harness_fini);
TestSuite(ctl_ring, .fini = harness_fini);

/* A producer handle and a consumer handle on the ring 0 -> 1. */
static void open_pair(struct airsrt_ring *p, struct airsrt_ring *c)
{
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 0, 1, p), 0);
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 0, 1, c), 0);
    airsrt_ring_producer_attach(p);
    airsrt_ring_consumer_attach(c);
}

static void push_seq(struct airsrt_ring *p, uint64_t seq, uint32_t len)
{
    struct harness_env h;

    harness_env_fill(&h, 0, seq, len);
    cr_assert_eq(airsrt_ring_push(p, &h.env), 0, "push %lu", (unsigned long)seq);
}

/* Reads exactly one envelope and checks it carries seq. */
static void expect_seq(struct airsrt_ring *c, uint64_t seq)
{
    struct airsrt_ring_view v;
    uint32_t producer;
    uint64_t got;

    cr_assert_eq(airsrt_ring_read(c, &v, 1), 1, "nothing for seq %lu",
                 (unsigned long)seq);
    cr_assert(harness_env_check(v.env, v.payload_len, &producer, &got));
    cr_assert_eq(got, seq);
}

Test(ring, delivers_records_in_order_across_wraparound)
{
    struct airsrt_ring p, c;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    /* Odd sizes put the tail at every offset, so some records wrap
     * behind a padding record. */
    for (uint64_t seq = 0; seq < 5000; seq++) {
        push_seq(&p, seq, 12 + (uint32_t)(seq * 37 % 200));
        expect_seq(&c, seq);
        airsrt_ring_release_all(&c);
    }
    cr_assert_gt(p.tail, 4 * 4096, "never wrapped");
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), 0);
}

Test(ring, push_returns_eagain_when_full_and_never_overwrites)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    uint64_t n = 0;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    harness_env_fill(&h, 0, 0, 64);
    for (;; n++) {
        harness_env_fill(&h, 0, n, 64);
        if (airsrt_ring_push(&p, &h.env) == -EAGAIN)
            break;
    }
    cr_assert_eq(n, 4096 / airsrt_ring_record_size(64));
    cr_assert_eq(airsrt_ring_push(&p, &h.env), -EAGAIN);
    cr_assert_eq(atomic_load(&p.prod->stats.full_events), 2);
    for (uint64_t seq = 0; seq < n; seq++)
        expect_seq(&c, seq);
    cr_assert_eq(airsrt_ring_read(&c, &(struct airsrt_ring_view){0}, 1), 0);
}

Test(ring, read_without_release_keeps_producer_out)
{
    struct airsrt_ring p, c;
    struct airsrt_ring_view v[64];
    struct harness_env h;
    ssize_t n;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    harness_env_fill(&h, 0, 0, 64);
    while (airsrt_ring_push(&p, &h.env) == 0)
        ;
    n = airsrt_ring_read(&c, v, 64);
    cr_assert_gt(n, 2);
    /* Read but not released: still no room. */
    cr_assert_eq(airsrt_ring_push(&p, &h.env), -EAGAIN);
    /* Releasing the first record makes room for exactly one. */
    airsrt_ring_release(&c, v[0].end);
    cr_assert_eq(airsrt_ring_push(&p, &h.env), 0);
    cr_assert_eq(airsrt_ring_push(&p, &h.env), -EAGAIN);
}

Test(ring, batch_write_publishes_once_and_stops_at_full)
{
    struct airsrt_ring p, c;
    struct harness_env hs[100];
    const struct airsrt_envelope *envs[100];
    struct airsrt_ring_view v[100];
    uint64_t fit = 4096 / airsrt_ring_record_size(64);

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    for (int i = 0; i < 100; i++) {
        harness_env_fill(&hs[i], 0, (uint64_t)i, 64);
        envs[i] = &hs[i].env;
    }
    cr_assert_eq(airsrt_ring_write_batch(&p, envs, 100), (ssize_t)fit);
    cr_assert_eq(atomic_load(&p.prod->tail), fit * airsrt_ring_record_size(64));
    cr_assert_eq(atomic_load(&p.prod->stats.envelopes), fit);
    cr_assert_eq(airsrt_ring_read(&c, v, 100), (ssize_t)fit);
    for (uint64_t i = 0; i < fit; i++) {
        uint32_t producer;
        uint64_t seq;

        cr_assert(harness_env_check(v[i].env, v[i].payload_len, &producer, &seq));
        cr_assert_eq(seq, i);
    }
}

Test(ring, committed_records_stay_invisible_until_published)
{
    struct airsrt_ring p, c;
    struct airsrt_envelope *e;
    struct airsrt_ring_view v;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    cr_assert_eq(airsrt_ring_reserve(&p, 16, &e), 0);
    memset(e->payload, 7, 16);
    e->type = 1;
    airsrt_ring_commit(&p);
    cr_assert_not(airsrt_ring_has_data(&c));
    cr_assert_eq(airsrt_ring_read(&c, &v, 1), 0);
    cr_assert(airsrt_ring_publish(&p));
    cr_assert(airsrt_ring_has_data(&c));
    cr_assert_eq(airsrt_ring_read(&c, &v, 1), 1);
    cr_assert_eq(v.payload_len, 16);
}

Test(ring, rejects_payload_above_payload_max)
{
    struct airsrt_ring p, c;
    struct airsrt_envelope *e;

    harness_segment(2, 0, false);
    open_pair(&p, &c);
    cr_assert_eq(airsrt_ring_reserve(&p, AIRSRT_PAYLOAD_MAX_DEFAULT + 1, &e),
                 -EMSGSIZE);
    cr_assert_eq(airsrt_ring_reserve(&p, AIRSRT_PAYLOAD_MAX_DEFAULT, &e), 0);
}

Test(ring, push_timeout_gives_up_when_still_full)
{
    struct airsrt_ring p, c;
    struct harness_env h;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    harness_env_fill(&h, 0, 0, 64);
    while (airsrt_ring_push(&p, &h.env) == 0)
        ;
    cr_assert_eq(airsrt_ring_push_timeout(&p, &h.env, 2000000), -EAGAIN);
}

Test(ring, detects_garbage_records_resets_and_goes_on)
{
    struct airsrt_ring p, c;
    struct airsrt_ring_view v[8];
    ssize_t n;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    for (uint64_t seq = 0; seq < 10; seq++)
        push_seq(&p, seq, 100);
    expect_seq(&c, 0);
    /* Scribble over everything after the first record. */
    arc4random_buf(p.buf + airsrt_ring_record_size(100),
                   9 * airsrt_ring_record_size(100));
    n = airsrt_ring_read(&c, v, 8);
    cr_assert_eq(n, -EBADMSG);
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), 1);
    cr_assert_eq(atomic_load(&c.cons->stats.lost_bytes),
                 9 * airsrt_ring_record_size(100));
    airsrt_ring_release_all(&c);
    cr_assert_eq(airsrt_ring_read(&c, v, 8), 0);
    push_seq(&p, 10, 100);
    expect_seq(&c, 10);
}

Test(ring, hands_out_good_records_before_reporting_corruption)
{
    struct airsrt_ring p, c;
    struct airsrt_ring_view v[8];
    struct airsrt_ring_rec *third;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    for (uint64_t seq = 0; seq < 4; seq++)
        push_seq(&p, seq, 100);
    third = (void *)(p.buf + 2 * airsrt_ring_record_size(100));
    third->tag = 0xdeadbeef;
    cr_assert_eq(airsrt_ring_read(&c, v, 8), 2);
    cr_assert_eq(airsrt_ring_read(&c, v, 8), -EBADMSG);
    cr_assert_eq(airsrt_ring_read(&c, v, 8), 0);
}

Test(ring, quarantines_scribbled_tail_until_producer_republishes)
{
    struct airsrt_ring p, c;
    struct airsrt_ring_view v[8];

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    push_seq(&p, 0, 100);
    expect_seq(&c, 0);
    airsrt_ring_release_all(&c);
    atomic_store(&p.prod->tail, 0x123456789abcdef1ull);
    cr_assert_eq(airsrt_ring_read(&c, v, 8), -EBADMSG);
    /* Counted once, then silent: the reader neither spins nor floods. */
    cr_assert_not(airsrt_ring_has_data(&c));
    cr_assert_eq(airsrt_ring_read(&c, v, 8), 0);
    cr_assert_eq(airsrt_ring_read(&c, v, 8), 0);
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), 1);
    /* The producer's next publication restores its tail. */
    push_seq(&p, 1, 100);
    expect_seq(&c, 1);
}

Test(ring, consumer_repairs_scribbled_head_and_producer_waits_meanwhile)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    struct airsrt_ring_view v;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    harness_env_fill(&h, 0, 0, 64);
    while (airsrt_ring_push(&p, &h.env) == 0)
        ;
    while (airsrt_ring_read(&c, &v, 1) == 1)
        airsrt_ring_release_all(&c);
    /* Not even a position (misaligned): the producer cannot adopt it. */
    atomic_store(&c.cons->head, 0xfffffff9ull);
    /* An implausible head must not let the producer overwrite. */
    cr_assert_eq(airsrt_ring_push(&p, &h.env), -EAGAIN);
    cr_assert_eq(airsrt_ring_read(&c, &v, 1), 0);
    cr_assert_eq(atomic_load(&c.cons->head), c.released);
    cr_assert_eq(airsrt_ring_push(&p, &h.env), 0);
}

Test(ring, producer_attach_resets_implausible_tail)
{
    struct airsrt_ring p, c;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    atomic_store(&p.prod->tail, 1ull << 40);
    airsrt_ring_producer_attach(&p);
    cr_assert_eq(atomic_load(&p.prod->tail), 0);
    cr_assert_eq(atomic_load(&p.prod->stats.recovered), 1);
    push_seq(&p, 0, 64);
    expect_seq(&c, 0);
}

Test(ring, counts_envelopes_and_bytes_on_both_sides)
{
    struct airsrt_ring p, c;
    uint64_t rec = airsrt_ring_record_size(64);

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    for (uint64_t seq = 0; seq < 5; seq++)
        push_seq(&p, seq, 64);
    for (uint64_t seq = 0; seq < 5; seq++)
        expect_seq(&c, seq);
    airsrt_ring_release_all(&c);
    cr_assert_eq(atomic_load(&p.prod->stats.envelopes), 5);
    cr_assert_eq(atomic_load(&p.prod->stats.bytes), 5 * rec);
    cr_assert_eq(atomic_load(&c.cons->stats.envelopes), 5);
    cr_assert_eq(atomic_load(&c.cons->stats.bytes), 5 * rec);
}

Test(ring, bind_rejects_bad_capacity)
{
    struct airsrt_ring r;
    struct airsrt_ring_prod prod;
    struct airsrt_ring_cons cons;
    static uint8_t buf[8192];

    cr_assert_eq(airsrt_ring_bind(&r, &prod, &cons, buf, 6000, 64), -EINVAL);
    cr_assert_eq(airsrt_ring_bind(&r, &prod, &cons, buf, 2048, 64), -EINVAL);
    cr_assert_eq(airsrt_ring_bind(&r, &prod, &cons, buf, 8192, 8192), -EINVAL);
    cr_assert_eq(airsrt_ring_bind(&r, &prod, &cons, buf, 8192,
                                  airsrt_ring_payload_limit(8192)), 0);
}

Test(ctl_ring, push_and_read_in_order)
{
    struct airsrt_ring p, c;
    struct harness_env h;

    harness_segment(2, 0, false);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 1, &p), 0);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 1, &c), 0);
    airsrt_ring_consumer_attach(&c);
    for (uint64_t seq = 0; seq < 1000; seq++) {
        harness_env_fill(&h, 0, seq, 100);
        cr_assert_eq(airsrt_ctl_push(&p, &h.env), 0);
        expect_seq(&c, seq);
        airsrt_ring_release_all(&c);
    }
    cr_assert_eq(atomic_load(&p.prod->stats.recovered), 0);
}

Test(ctl_ring, push_returns_eagain_when_full)
{
    struct airsrt_ring p;
    struct harness_env h;
    int rc;
    uint64_t n = 0;

    harness_segment(2, 0, false);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 0, &p), 0);
    harness_env_fill(&h, 0, 0, 200);
    while ((rc = airsrt_ctl_push(&p, &h.env)) == 0)
        n++;
    cr_assert_eq(rc, -EAGAIN);
    cr_assert_eq(n, AIRSRT_CTL_RING_BYTES_DEFAULT / airsrt_ring_record_size(200));
}

/* Regressions from fuzz/regressions/fuzz_ctl_ring: a ring whose head and
 * tail were both scribbled must neither be written out of bounds nor be
 * wedged for good, whichever side attaches first. */

static void scribble_both(struct airsrt_ring *p, uint64_t head, uint64_t tail)
{
    atomic_store(&p->cons->head, head);
    atomic_store(&p->prod->tail, tail);
}

Test(ring, misaligned_head_and_tail_converge_producer_first)
{
    struct airsrt_ring p, c;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    scribble_both(&p, UINT64_MAX, 0x5ea2b031ffffffffull);
    airsrt_ring_producer_attach(&p);
    cr_assert_eq(p.tail % 8, 0);
    airsrt_ring_consumer_attach(&c);
    push_seq(&p, 0, 64);
    expect_seq(&c, 0);
}

Test(ring, misaligned_head_and_tail_converge_consumer_first)
{
    struct airsrt_ring p, c;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    scribble_both(&p, UINT64_MAX, 0x5ea2b031ffffffffull);
    airsrt_ring_consumer_attach(&c);
    cr_assert_eq(c.read % 8, 0);
    airsrt_ring_producer_attach(&p);
    push_seq(&p, 0, 64);
    expect_seq(&c, 0);
}

Test(ctl_ring, push_with_misaligned_positions_stays_in_buffer)
{
    struct airsrt_ring p, c;
    struct harness_env h;

    harness_segment(2, 0, false);
    airsrt_shm_ctl_ring(&harness_shm, 0, &p);
    airsrt_shm_ctl_ring(&harness_shm, 0, &c);
    airsrt_ring_consumer_attach(&c);
    scribble_both(&p, UINT64_MAX, UINT64_MAX);
    harness_env_fill(&h, 0, 0, 12);
    /* Before the fix this wrote a padding header 7 bytes past the end. */
    (void)airsrt_ctl_push(&p, &h.env);
    cr_assert_eq(atomic_load(&p.prod->tail) % 8, 0);
    airsrt_ring_consumer_attach(&c);
    cr_assert_eq(airsrt_ctl_push(&p, &h.env), 0);
    expect_seq(&c, 0);
}

Test(ring, head_above_tail_is_adopted_back_by_consumer)
{
    struct airsrt_ring p, c;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    push_seq(&p, 0, 64);
    expect_seq(&c, 0);
    airsrt_ring_release_all(&c);
    atomic_store(&c.cons->head, (uint64_t)0 - 1800);
    airsrt_ring_consumer_attach(&c);
    cr_assert_eq(c.read, atomic_load(&p.prod->tail));
    push_seq(&p, 1, 64);
    expect_seq(&c, 1);
}

Test(ring, producer_mends_scribbled_tail_while_ring_is_full)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    struct airsrt_ring_view v;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    harness_env_fill(&h, 0, 0, 64);
    while (airsrt_ring_push(&p, &h.env) == 0)
        ;
    atomic_store(&p.prod->tail, 3);
    cr_assert_eq(airsrt_ring_read(&c, &v, 1), -EBADMSG);
    /* The full producer mends its word on its next try... */
    cr_assert_eq(airsrt_ring_push(&p, &h.env), -EAGAIN);
    cr_assert_eq(atomic_load(&p.prod->tail), p.published);
    /* ...so the quarantined consumer can drain and make room. */
    cr_assert_eq(airsrt_ring_read(&c, &v, 1), 1);
}

/* A consumer that restarted at a scribbled tail far ahead: the live
 * producer follows its head instead of staying full for good. */
Test(ring, producer_restarts_at_consumer_head_past_its_tail)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    uint64_t far = 1ull << 20;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    push_seq(&p, 0, 64);
    atomic_store(&p.prod->tail, far);
    airsrt_ring_consumer_attach(&c);
    cr_assert_eq(c.read, far);
    harness_env_fill(&h, 0, 1, 64);
    /* What it publishes below the consumer's head is lost; once the ring
     * looks full it reloads head and restarts there. */
    for (int i = 0; i < 100 && atomic_load(&p.prod->stats.recovered) == 0; i++)
        (void)airsrt_ring_push(&p, &h.env);
    cr_assert_eq(atomic_load(&p.prod->stats.recovered), 1, "producer wedged");
    cr_assert_eq(p.published - far, airsrt_ring_record_size(64));
    expect_seq(&c, 1);
}

/*
 * Regressions from fuzz/regressions/fuzz_ctl_ring, the inputs named
 * *-past-adopt-limit-*: a repair adopts only positions below 2^62, but a
 * healthy ring that adopted one just below it goes past it with its next
 * record. Its consumer's head is then one the producer never adopts, so
 * when the tail was scribbled again, each side waited for the other for
 * good.
 */
#define BELOW_POS_ADOPT ((1ull << 62) - 200)

/* Scribbles tail just below 2^62, lets the consumer restart there (as a
 * restarted worker does), then carries envelope seq past 2^62. */
static void carry_ctl_past_pos_adopt(struct airsrt_ring *p,
                                     struct airsrt_ring *c, uint64_t seq)
{
    struct harness_env h;

    atomic_store(&p->prod->tail, BELOW_POS_ADOPT);
    airsrt_ring_consumer_attach(c);
    cr_assert_eq(c->read, BELOW_POS_ADOPT);
    /* Too big for the 200 bytes left: padding, then a record at 2^62. */
    harness_env_fill(&h, 0, seq, 256);
    cr_assert_eq(airsrt_ctl_push(p, &h.env), 0);
    expect_seq(c, seq);
    cr_assert_gt(c->read, 1ull << 62);
}

static void open_ctl_pair(struct airsrt_ring *p, struct airsrt_ring *c)
{
    harness_segment(2, 0, false);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 0, p), 0);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 0, c), 0);
    airsrt_ring_consumer_attach(c);
}

/* The live consumer gives up its position and the next push gets
 * through, with no re-attach: a worker only reads and releases. */
static void expect_ctl_recovers(struct airsrt_ring *p, struct airsrt_ring *c,
                                uint64_t seq)
{
    struct harness_env h;
    struct airsrt_ring_view v;

    cr_assert_eq(airsrt_ring_read(c, &v, 1), -EBADMSG);
    airsrt_ring_release_all(c);
    cr_assert(c->read < 1ull << 62, "consumer kept a head nobody adopts");
    harness_env_fill(&h, 0, seq, 64);
    cr_assert_eq(airsrt_ctl_push(p, &h.env), 0, "control ring wedged");
    expect_seq(c, seq);
}

Test(ctl_ring, recovers_tail_scribbled_under_head_past_2_62)
{
    struct airsrt_ring p, c;

    open_ctl_pair(&p, &c);
    carry_ctl_past_pos_adopt(&p, &c, 0);
    airsrt_ring_release_all(&c);
    atomic_store(&p.prod->tail, 0);
    expect_ctl_recovers(&p, &c, 1);
}

Test(ctl_ring, recovers_bad_head_and_tail_past_2_62_after_read)
{
    struct airsrt_ring p, c;
    struct harness_env h;

    open_ctl_pair(&p, &c);
    carry_ctl_past_pos_adopt(&p, &c, 0);
    /* Read, not released: a misaligned head and a tail past 2^62 leave
     * the next producer nothing to adopt. It restarts its tail at 0,
     * under the consumer's read position, and waits for a sane head. */
    atomic_store(&c.cons->head, 3);
    harness_env_fill(&h, 0, 1, 64);
    cr_assert_eq(airsrt_ctl_push(&p, &h.env), -EAGAIN);
    cr_assert_eq(atomic_load(&p.prod->tail), 0);
    expect_ctl_recovers(&p, &c, 2);
}

Test(ring, recovers_when_producer_restarts_under_head_past_2_62)
{
    struct airsrt_ring p, c;

    harness_segment(2, 4096, false);
    open_pair(&p, &c);
    atomic_store(&p.prod->tail, BELOW_POS_ADOPT);
    airsrt_ring_consumer_attach(&c);
    airsrt_ring_producer_attach(&p);
    push_seq(&p, 0, 256);
    expect_seq(&c, 0);
    airsrt_ring_release_all(&c);
    cr_assert_gt(c.released, 1ull << 62);
    /* A live producer mends its own word; a restarted one cannot tell. */
    atomic_store(&p.prod->tail, 0);
    airsrt_ring_producer_attach(&p);
    cr_assert_eq(airsrt_ring_read(&c, &(struct airsrt_ring_view){ 0 }, 1),
                 -EBADMSG);
    airsrt_ring_release_all(&c);
    push_seq(&p, 1, 64);
    expect_seq(&c, 1);
}
