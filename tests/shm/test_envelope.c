/*
 * tests/shm/test_envelope.c - envelopes and message ids
 * (include/airsrt/envelope.h).
 *
 * validate is the gate between another process's bytes and this one: each
 * rejection test breaks exactly one field of an otherwise good envelope, so
 * that a check that goes missing fails the test named after it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "airsrt/envelope.h"

#define PAYLOAD 40u
#define SECOND_NS 1000000000ull

static const struct airsrt_address sender = { 0, 1, 3, 77, 5 };
static const struct airsrt_address recipient = { 0, 2, 1, 12, 9 };
static const struct airsrt_address reply = { 4, 1, 3, 78, 1 };

/* Storage for one envelope with room for PAYLOAD bytes, 8-byte aligned. */
union env_buf {
    struct airsrt_envelope env;
    uint8_t bytes[sizeof(struct airsrt_envelope) + PAYLOAD];
};

/* A well-formed envelope that uses every address field. */
static struct airsrt_envelope *good(union env_buf *b)
{
    struct airsrt_envelope *e = &b->env;

    memset(b, 0xEE, sizeof(*b));
    airsrt_envelope_init(e, 42, PAYLOAD);
    e->sender = sender;
    e->recipient = recipient;
    airsrt_envelope_set_reply_to(e, &reply, 1234);
    e->message_id = 99;
    return e;
}

static int validate(const struct airsrt_envelope *e)
{
    return airsrt_envelope_validate(e, airsrt_envelope_size(PAYLOAD),
                                    AIRSRT_PAYLOAD_MAX_DEFAULT);
}

/* ---- init and setters ---- */

Test(envelope, init_sets_defaults_and_leaves_payload)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;
    struct airsrt_address null = AIRSRT_ADDRESS_NULL;

    memset(&b, 0xAB, sizeof(b));
    airsrt_envelope_init(e, 7, 16);
    cr_assert_eq(e->type, 7);
    cr_assert_eq(e->payload_len, 16);
    cr_assert_eq(e->priority, AIRSRT_PRIO_NORMAL);
    cr_assert_eq(e->flags, 0);
    cr_assert_eq(e->reserved, 0);
    cr_assert_eq(e->recipient_name, 0);
    cr_assert(airsrt_address_equal(&e->sender, &null));
    cr_assert(airsrt_address_equal(&e->recipient, &null));
    cr_assert(airsrt_address_equal(&e->reply_to, &null));
    cr_assert_eq(e->correlation_id, 0);
    cr_assert_eq(e->message_id, 0);
    cr_assert_eq(e->deadline_ns, 0);
    for (size_t i = 0; i < PAYLOAD; i++)
        cr_assert_eq(e->payload[i], 0xAB, "payload byte %zu touched", i);
}

Test(envelope, init_result_validates)
{
    union env_buf b;

    airsrt_envelope_init(&b.env, 1, PAYLOAD);
    cr_assert_eq(validate(&b.env), (int)PAYLOAD);
}

Test(envelope, set_reply_to_sets_address_and_correlation)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;

    airsrt_envelope_init(e, 1, 0);
    airsrt_envelope_set_reply_to(e, &reply, 0xDEADBEEFCAFEull);
    cr_assert(airsrt_address_equal(&e->reply_to, &reply));
    cr_assert_eq(e->correlation_id, 0xDEADBEEFCAFEull);
    cr_assert(airsrt_address_is_null(&e->sender), "touched another field");
}

Test(envelope, set_ttl_sets_deadline_from_now)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;
    uint64_t before, after;

    airsrt_envelope_init(e, 1, 0);
    before = airsrt_now_ns();
    airsrt_envelope_set_ttl(e, 5 * SECOND_NS);
    after = airsrt_now_ns();
    cr_assert_geq(e->deadline_ns, before + 5 * SECOND_NS);
    cr_assert_leq(e->deadline_ns, after + 5 * SECOND_NS);
}

Test(envelope, set_ttl_zero_clears_deadline)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;

    airsrt_envelope_init(e, 1, 0);
    airsrt_envelope_set_ttl(e, SECOND_NS);
    cr_assert_neq(e->deadline_ns, 0);
    airsrt_envelope_set_ttl(e, 0);
    cr_assert_eq(e->deadline_ns, 0);
}

Test(envelope, is_expired_only_after_deadline)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;

    airsrt_envelope_init(e, 1, 0);
    e->deadline_ns = 1000;
    cr_assert_eq(airsrt_envelope_is_expired(e, 999), 0);
    cr_assert_eq(airsrt_envelope_is_expired(e, 1000), 0);
    cr_assert_eq(airsrt_envelope_is_expired(e, 1001), 1);
}

Test(envelope, is_expired_never_without_deadline)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;

    airsrt_envelope_init(e, 1, 0);
    cr_assert_eq(airsrt_envelope_is_expired(e, 1), 0);
    cr_assert_eq(airsrt_envelope_is_expired(e, UINT64_MAX), 0);
}

Test(envelope, ttl_expires_against_the_monotonic_clock)
{
    union env_buf b;
    struct airsrt_envelope *e = &b.env;
    uint64_t now;

    airsrt_envelope_init(e, 1, 0);
    airsrt_envelope_set_ttl(e, SECOND_NS);
    now = airsrt_now_ns();
    cr_assert_eq(airsrt_envelope_is_expired(e, now), 0);
    cr_assert_eq(airsrt_envelope_is_expired(e, now + 2 * SECOND_NS), 1);
}

Test(envelope, now_ns_follows_clock_monotonic)
{
    struct timespec ts;
    uint64_t a, b, c;

    a = airsrt_now_ns();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    b = (uint64_t)ts.tv_sec * SECOND_NS + (uint64_t)ts.tv_nsec;
    c = airsrt_now_ns();
    cr_assert(a <= b && b <= c, "%lu %lu %lu", (unsigned long)a,
              (unsigned long)b, (unsigned long)c);
}

/* ---- validate ---- */

Test(envelope, validate_accepts_good_envelope_and_returns_payload_len)
{
    union env_buf b;

    cr_assert_eq(validate(good(&b)), (int)PAYLOAD);
}

Test(envelope, validate_accepts_payload_exactly_at_limits)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    /* payload_len == payload_max == avail - header: every bound inclusive. */
    cr_assert_eq(airsrt_envelope_validate(e, airsrt_envelope_size(PAYLOAD),
                                          PAYLOAD), (int)PAYLOAD);
    e->payload_len = 0;
    cr_assert_eq(airsrt_envelope_validate(e, AIRSRT_ENVELOPE_HDR_SIZE, 0), 0);
}

Test(envelope, validate_accepts_more_avail_than_needed)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    e->payload_len = 8;
    cr_assert_eq(airsrt_envelope_validate(e, airsrt_envelope_size(PAYLOAD),
                                          PAYLOAD), 8);
}

Test(envelope, validate_accepts_every_priority)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    for (int p = AIRSRT_PRIO_LOW; p <= AIRSRT_PRIO_SYSTEM; p++) {
        e->priority = (uint8_t)p;
        cr_assert_eq(validate(e), (int)PAYLOAD, "priority %d", p);
    }
}

Test(envelope, validate_accepts_null_addresses)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    e->sender = e->recipient = e->reply_to = AIRSRT_ADDRESS_NULL;
    cr_assert_eq(validate(e), (int)PAYLOAD);
}

Test(envelope, validate_rejects_avail_below_header)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    e->payload_len = 0;
    cr_assert_eq(airsrt_envelope_validate(e, AIRSRT_ENVELOPE_HDR_SIZE - 1,
                                          PAYLOAD), -EBADMSG);
    cr_assert_eq(airsrt_envelope_validate(e, 0, PAYLOAD), -EBADMSG);
}

Test(envelope, validate_rejects_payload_len_above_payload_max)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    cr_assert_eq(airsrt_envelope_validate(e, airsrt_envelope_size(PAYLOAD),
                                          PAYLOAD - 1), -EBADMSG);
}

Test(envelope, validate_rejects_payload_len_beyond_avail)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    cr_assert_eq(airsrt_envelope_validate(e,
                                          airsrt_envelope_size(PAYLOAD) - 1,
                                          AIRSRT_PAYLOAD_MAX_DEFAULT),
                 -EBADMSG);
    e->payload_len = UINT32_MAX;
    cr_assert_eq(airsrt_envelope_validate(e, airsrt_envelope_size(PAYLOAD),
                                          UINT32_MAX), -EBADMSG);
}

/* Regression: with a payload_max above INT_MAX, a length past INT_MAX
 * that fit avail came back as a negative int that was not -EBADMSG (for
 * 2^32 - 74 it even read as -EBADMSG). Nothing may pass the hard ceiling. */
Test(envelope, validate_rejects_payload_len_above_hard_limit)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    e->payload_len = AIRSRT_PAYLOAD_MAX_LIMIT + 1;
    cr_assert_eq(airsrt_envelope_validate(e, SIZE_MAX, UINT32_MAX), -EBADMSG);
    e->payload_len = 0x80000000u;
    cr_assert_eq(airsrt_envelope_validate(e, SIZE_MAX, UINT32_MAX), -EBADMSG);
    e->payload_len = AIRSRT_PAYLOAD_MAX_LIMIT;
    cr_assert_eq(airsrt_envelope_validate(e, SIZE_MAX, UINT32_MAX),
                 (int)AIRSRT_PAYLOAD_MAX_LIMIT);
}

Test(envelope, validate_rejects_priority_above_system)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    e->priority = AIRSRT_PRIO_SYSTEM + 1;
    cr_assert_eq(validate(e), -EBADMSG);
    e->priority = UINT8_MAX;
    cr_assert_eq(validate(e), -EBADMSG);
}

Test(envelope, validate_rejects_unknown_flags)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    for (unsigned bit = 0; bit < 8; bit++) {
        if (AIRSRT_ENV_F_ALL & (1u << bit))
            continue;
        e->flags = (uint8_t)(1u << bit);
        cr_assert_eq(validate(e), -EBADMSG, "flag bit %u", bit);
    }
}

Test(envelope, validate_rejects_nonzero_reserved)
{
    union env_buf b;
    struct airsrt_envelope *e = good(&b);

    e->reserved = 1;
    cr_assert_eq(validate(e), -EBADMSG);
    e->reserved = 0x8000;
    cr_assert_eq(validate(e), -EBADMSG);
}

/* Every way an address can be out of range, in every address field. */
static const struct airsrt_address bad_addresses[] = {
    { 0, AIRSRT_MAX_WORKERS, 1, 0, 1 },         /* worker */
    { 0, 1, 0, 0, 1 },                          /* incarnation */
    { 0, 1, 1, AIRSRT_MAX_ACTOR_SLOT + 1, 1 },  /* slot */
    { 0, 1, 1, 0, 0 },                          /* generation */
    { 3, 0, 0, 0, 0 },                          /* node but nothing else */
};

static void assert_rejects_bad_address_in(size_t field)
{
    for (size_t i = 0; i < sizeof(bad_addresses) / sizeof(bad_addresses[0]);
         i++) {
        union env_buf b;
        struct airsrt_envelope *e = good(&b);
        struct airsrt_address *fields[] = { &e->sender, &e->recipient,
                                            &e->reply_to };

        *fields[field] = bad_addresses[i];
        cr_assert_eq(validate(e), -EBADMSG, "address field %zu, case %zu",
                     field, i);
    }
}

Test(envelope, validate_rejects_invalid_sender)
{
    assert_rejects_bad_address_in(0);
}

Test(envelope, validate_rejects_invalid_recipient)
{
    assert_rejects_bad_address_in(1);
}

Test(envelope, validate_rejects_invalid_reply_to)
{
    assert_rejects_bad_address_in(2);
}

/* ---- message ids ---- */

Test(envelope, msgid_init_rejects_origin_out_of_range)
{
    struct airsrt_msgid_gen g = { .next = 12345 };

    cr_assert_eq(airsrt_msgid_init(&g, AIRSRT_MSGID_ORIGINS, 0), -EINVAL);
    cr_assert_eq(airsrt_msgid_init(&g, UINT32_MAX, 0), -EINVAL);
    cr_assert_eq(g.next, 12345, "generator touched on error");
}

Test(envelope, msgid_init_accepts_every_origin_below_limit)
{
    struct airsrt_msgid_gen g;

    cr_assert_eq(airsrt_msgid_init(&g, 0, airsrt_now_ns()), 0);
    cr_assert_eq(airsrt_msgid_init(&g, AIRSRT_MSGID_ORIGIN_SUPERVISOR,
                                   airsrt_now_ns()), 0);
    cr_assert_eq(airsrt_msgid_init(&g, AIRSRT_MSGID_ORIGINS - 1,
                                   airsrt_now_ns()), 0);
}

Test(envelope, msgid_ids_strictly_increase_and_carry_origin)
{
    struct airsrt_msgid_gen g;
    uint64_t prev = 0;

    cr_assert_eq(airsrt_msgid_init(&g, 517, airsrt_now_ns()), 0);
    for (int i = 0; i < 10000; i++) {
        uint64_t id = airsrt_msgid_next(&g);

        cr_assert_gt(id, prev, "id %d did not increase", i);
        cr_assert_eq(airsrt_msgid_origin(id), 517);
        prev = id;
    }
}

Test(envelope, msgid_ids_are_never_zero)
{
    struct airsrt_msgid_gen g;

    /* Epoch in the future: no time has passed since it, counter at its
     * lowest. 0 means "no message id" and must not be handed out. */
    cr_assert_eq(airsrt_msgid_init(&g, 0, airsrt_now_ns() + 60 * SECOND_NS),
                 0);
    cr_assert_neq(airsrt_msgid_next(&g), 0);
}

Test(envelope, msgid_counter_starts_at_time_since_epoch)
{
    struct airsrt_msgid_gen g;
    uint64_t now = airsrt_now_ns(), counter;
    uint64_t mask = (1ull << AIRSRT_MSGID_COUNTER_BITS) - 1;

    cr_assert_eq(airsrt_msgid_init(&g, 1, now - 5 * SECOND_NS), 0);
    counter = airsrt_msgid_next(&g) & mask;
    cr_assert_geq(counter, 5 * SECOND_NS);
    cr_assert_lt(counter, 65 * SECOND_NS, "counter %lu",
                 (unsigned long)counter);
}

/* Spins until at least ns have passed since t0 on the clock of ids. */
static void wait_until_past(uint64_t t0, uint64_t ns)
{
    while (airsrt_now_ns() - t0 <= ns)
        ;
}

/*
 * The restart guarantee rests on "no issuer sustains one id per ns": the
 * predecessor here issues 1000 ids and lives at least 1000 ns, as any real
 * one does (its sends take longer than that, its restart far longer).
 */
Test(envelope, msgid_later_generator_with_same_origin_starts_above_earlier_ids)
{
    struct airsrt_msgid_gen g1, g2;
    uint64_t epoch = airsrt_now_ns() - SECOND_NS, t0, last = 0, first;

    cr_assert_eq(airsrt_msgid_init(&g1, 12, epoch), 0);
    /* Read after init, so t0 is no earlier than the clock g1 started at. */
    t0 = airsrt_now_ns();
    for (int i = 0; i < 1000; i++)
        last = airsrt_msgid_next(&g1);
    wait_until_past(t0, 1000);
    cr_assert_eq(airsrt_msgid_init(&g2, 12, epoch), 0);
    first = airsrt_msgid_next(&g2);
    cr_assert_gt(first, last, "restarted generator reissues ids: %lx <= %lx",
                 (unsigned long)first, (unsigned long)last);
}

Test(envelope, msgid_two_origins_never_collide)
{
    enum { N = 1000 };
    struct airsrt_msgid_gen a, b;
    uint64_t epoch = airsrt_now_ns();
    uint64_t *ids = malloc(2 * N * sizeof(*ids));

    cr_assert_not_null(ids);
    /* Same epoch and start time: the counters overlap, only the origin
     * keeps the ids apart. */
    cr_assert_eq(airsrt_msgid_init(&a, 0, epoch), 0);
    cr_assert_eq(airsrt_msgid_init(&b, 1, epoch), 0);
    for (int i = 0; i < N; i++) {
        ids[i] = airsrt_msgid_next(&a);
        ids[N + i] = airsrt_msgid_next(&b);
        cr_assert_eq(airsrt_msgid_origin(ids[i]), 0);
        cr_assert_eq(airsrt_msgid_origin(ids[N + i]), 1);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (ids[i] == ids[N + j])
                cr_assert_fail("origins 0 and 1 both issued %lx",
                        (unsigned long)ids[i]);
    free(ids);
}
