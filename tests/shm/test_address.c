/*
 * tests/shm/test_address.c - actor addresses (include/airsrt/address.h):
 * field bounds, the wire form, the printable form and its parser.
 *
 * decode and parse take untrusted bytes, so most of these tests feed them
 * something almost right and check that it is refused whole: an address
 * that is accepted wrongly could reach an actor it was never meant for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "airsrt/address.h"

/* A valid local address and a valid remote one, used throughout. */
static const struct airsrt_address local = {
    .node = 0, .worker = 3, .incarnation = 7, .slot = 1042, .generation = 2,
};
static const struct airsrt_address remote = {
    .node = 2, .worker = 3, .incarnation = 7, .slot = 1042, .generation = 2,
};

static void assert_addr_eq(const struct airsrt_address *a,
                           const struct airsrt_address *b)
{
    cr_assert(airsrt_address_equal(a, b),
              "got {%u, %u, %u, %u, %u}, want {%u, %u, %u, %u, %u}",
              a->node, a->worker, a->incarnation, a->slot, a->generation,
              b->node, b->worker, b->incarnation, b->slot, b->generation);
}

/* Parses s expecting -EINVAL, and checks the output was left alone: a
 * caller that ignores the error must not get half an address. */
static void assert_parse_rejects(const char *s)
{
    struct airsrt_address a = local;

    cr_assert_eq(airsrt_address_parse(&a, s), -EINVAL,
                 "parse accepted \"%s\"", s);
    assert_addr_eq(&a, &local);
}

/* ---- null, validate, equal ---- */

Test(address, null_address_is_null_and_not_valid)
{
    struct airsrt_address n = AIRSRT_ADDRESS_NULL;

    cr_assert(airsrt_address_is_null(&n));
    cr_assert_eq(airsrt_address_validate(&n), -EINVAL);
}

Test(address, is_null_is_false_when_any_field_is_set)
{
    struct airsrt_address a;

    a = AIRSRT_ADDRESS_NULL; a.node = 1;
    cr_assert_not(airsrt_address_is_null(&a));
    a = AIRSRT_ADDRESS_NULL; a.worker = 1;
    cr_assert_not(airsrt_address_is_null(&a));
    a = AIRSRT_ADDRESS_NULL; a.incarnation = 1;
    cr_assert_not(airsrt_address_is_null(&a));
    a = AIRSRT_ADDRESS_NULL; a.slot = 1;
    cr_assert_not(airsrt_address_is_null(&a));
    a = AIRSRT_ADDRESS_NULL; a.generation = 1;
    cr_assert_not(airsrt_address_is_null(&a));
}

Test(address, validate_accepts_every_field_at_its_bound)
{
    struct airsrt_address lo = { .node = 0, .worker = 0, .incarnation = 1,
                                 .slot = 0, .generation = 1 };
    struct airsrt_address hi = { .node = UINT16_MAX,
                                 .worker = AIRSRT_MAX_WORKERS - 1,
                                 .incarnation = UINT32_MAX,
                                 .slot = AIRSRT_MAX_ACTOR_SLOT,
                                 .generation = UINT32_MAX };

    cr_assert_eq(airsrt_address_validate(&lo), 0);
    cr_assert_eq(airsrt_address_validate(&hi), 0);
    cr_assert_eq(airsrt_address_validate(&local), 0);
    cr_assert_eq(airsrt_address_validate(&remote), 0);
}

Test(address, validate_rejects_worker_of_max_workers)
{
    struct airsrt_address a = local;

    a.worker = AIRSRT_MAX_WORKERS;
    cr_assert_eq(airsrt_address_validate(&a), -EINVAL);
    a.worker = UINT16_MAX;
    cr_assert_eq(airsrt_address_validate(&a), -EINVAL);
}

Test(address, validate_rejects_incarnation_zero)
{
    struct airsrt_address a = local;

    a.incarnation = 0;
    cr_assert_eq(airsrt_address_validate(&a), -EINVAL);
}

Test(address, validate_rejects_slot_above_max)
{
    struct airsrt_address a = local;

    a.slot = AIRSRT_MAX_ACTOR_SLOT + 1;
    cr_assert_eq(airsrt_address_validate(&a), -EINVAL);
    a.slot = UINT32_MAX;
    cr_assert_eq(airsrt_address_validate(&a), -EINVAL);
}

Test(address, validate_rejects_generation_zero)
{
    struct airsrt_address a = local;

    a.generation = 0;
    cr_assert_eq(airsrt_address_validate(&a), -EINVAL);
}

Test(address, equal_compares_every_field)
{
    struct airsrt_address a = local, b;

    cr_assert(airsrt_address_equal(&a, &local));
    b = a; b.node++;
    cr_assert_not(airsrt_address_equal(&a, &b));
    b = a; b.worker++;
    cr_assert_not(airsrt_address_equal(&a, &b));
    b = a; b.incarnation++;
    cr_assert_not(airsrt_address_equal(&a, &b));
    b = a; b.slot++;
    cr_assert_not(airsrt_address_equal(&a, &b));
    b = a; b.generation++;
    cr_assert_not(airsrt_address_equal(&a, &b));
}

/* ---- wire form ---- */

Test(address, encode_writes_fixed_little_endian_layout)
{
    struct airsrt_address a = { .node = 0x0102, .worker = 0x0304,
                                .incarnation = 0x05060708, .slot = 0x00090A0B,
                                .generation = 0x0C0D0E0F };
    const uint8_t want[AIRSRT_ADDRESS_WIRE_SIZE] = {
        0x02, 0x01, 0x04, 0x03, 0x08, 0x07, 0x06, 0x05,
        0x0B, 0x0A, 0x09, 0x00, 0x0F, 0x0E, 0x0D, 0x0C,
    };
    uint8_t out[AIRSRT_ADDRESS_WIRE_SIZE];

    airsrt_address_encode(&a, out);
    cr_assert_arr_eq(out, want, sizeof(want));
}

Test(address, decode_returns_what_encode_wrote)
{
    const struct airsrt_address in[] = {
        local, remote, AIRSRT_ADDRESS_NULL,
        { UINT16_MAX, AIRSRT_MAX_WORKERS - 1, UINT32_MAX,
          AIRSRT_MAX_ACTOR_SLOT, UINT32_MAX },
        { 0, 0, 1, 0, 1 },
    };

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        uint8_t wire[AIRSRT_ADDRESS_WIRE_SIZE];
        struct airsrt_address out = { 9, 9, 9, 9, 9 };

        airsrt_address_encode(&in[i], wire);
        cr_assert_eq(airsrt_address_decode(&out, wire), 0, "case %zu", i);
        assert_addr_eq(&out, &in[i]);
    }
}

/* Encodes local with one field replaced by an out-of-range value. */
static void assert_decode_rejects(struct airsrt_address bad)
{
    uint8_t wire[AIRSRT_ADDRESS_WIRE_SIZE];
    struct airsrt_address out = local;

    airsrt_address_encode(&bad, wire);
    cr_assert_eq(airsrt_address_decode(&out, wire), -EINVAL);
    assert_addr_eq(&out, &local);
}

Test(address, decode_rejects_each_out_of_range_field)
{
    struct airsrt_address a;

    a = local; a.worker = AIRSRT_MAX_WORKERS;
    assert_decode_rejects(a);
    a = local; a.incarnation = 0;
    assert_decode_rejects(a);
    a = local; a.slot = AIRSRT_MAX_ACTOR_SLOT + 1;
    assert_decode_rejects(a);
    a = local; a.generation = 0;
    assert_decode_rejects(a);
}

Test(address, decode_rejects_node_without_the_rest)
{
    /* Not null (node is set) and not valid: nobody can be reached there. */
    assert_decode_rejects((struct airsrt_address){ .node = 5 });
}

Test(address, decode_rejects_slot_high_byte)
{
    uint8_t wire[AIRSRT_ADDRESS_WIRE_SIZE];
    struct airsrt_address out = local;

    airsrt_address_encode(&local, wire);
    wire[11] = 0x01;                /* slot bit 24: past 2^24 - 1 */
    cr_assert_eq(airsrt_address_decode(&out, wire), -EINVAL);
    assert_addr_eq(&out, &local);
}

/* ---- printable form ---- */

static void assert_formats(const struct airsrt_address *a, const char *want)
{
    char buf[AIRSRT_ADDRESS_STR_MAX];
    int n = airsrt_address_format(a, buf, sizeof(buf));

    cr_assert_str_eq(buf, want);
    cr_assert_eq(n, (int)strlen(want));
}

Test(address, format_writes_local_address)
{
    assert_formats(&local, "<3.7:1042.2>");
}

Test(address, format_writes_node_prefix_when_remote)
{
    assert_formats(&remote, "<2@3.7:1042.2>");
}

Test(address, format_writes_null_address_as_null)
{
    struct airsrt_address n = AIRSRT_ADDRESS_NULL;

    assert_formats(&n, "<null>");
}

Test(address, format_longest_address_fits_str_max)
{
    struct airsrt_address a = { UINT16_MAX, AIRSRT_MAX_WORKERS - 1,
                                UINT32_MAX, AIRSRT_MAX_ACTOR_SLOT, UINT32_MAX };
    char buf[AIRSRT_ADDRESS_STR_MAX];
    int n = airsrt_address_format(&a, buf, sizeof(buf));

    cr_assert_str_eq(buf, "<65535@1023.4294967295:16777215.4294967295>");
    cr_assert_lt(n, (int)AIRSRT_ADDRESS_STR_MAX);
}

Test(address, format_truncates_like_snprintf)
{
    char buf[8];
    int n;

    memset(buf, 'x', sizeof(buf));
    n = airsrt_address_format(&local, buf, 5);
    cr_assert_eq(n, 12, "returns the length it needed");
    cr_assert_str_eq(buf, "<3.7");
    cr_assert_eq(buf[5], 'x', "wrote past len");
}

Test(address, format_with_zero_len_writes_nothing)
{
    char buf[4] = "abc";

    cr_assert_eq(airsrt_address_format(&remote, buf, 0), 14);
    cr_assert_str_eq(buf, "abc");
    cr_assert_eq(airsrt_address_format(&remote, NULL, 0), 14);
}

Test(address, format_with_exact_len_keeps_last_char_for_nul)
{
    char buf[12];

    /* "<3.7:1042.2>" is 12 chars: 12 bytes leave room for 11 and the NUL. */
    cr_assert_eq(airsrt_address_format(&local, buf, sizeof(buf)), 12);
    cr_assert_str_eq(buf, "<3.7:1042.2");
}

/* ---- parse ---- */

Test(address, parse_accepts_local_address)
{
    struct airsrt_address a;

    cr_assert_eq(airsrt_address_parse(&a, "<3.7:1042.2>"), 0);
    assert_addr_eq(&a, &local);
}

Test(address, parse_accepts_remote_address)
{
    struct airsrt_address a;

    cr_assert_eq(airsrt_address_parse(&a, "<2@3.7:1042.2>"), 0);
    assert_addr_eq(&a, &remote);
}

Test(address, parse_accepts_null_address)
{
    struct airsrt_address a = local, n = AIRSRT_ADDRESS_NULL;

    cr_assert_eq(airsrt_address_parse(&a, "<null>"), 0);
    assert_addr_eq(&a, &n);
}

Test(address, parse_accepts_zero_where_a_field_allows_it)
{
    struct airsrt_address a, want = { 0, 0, 1, 0, 1 };

    cr_assert_eq(airsrt_address_parse(&a, "<0.1:0.1>"), 0);
    assert_addr_eq(&a, &want);
}

Test(address, parse_accepts_every_field_at_its_bound)
{
    struct airsrt_address a, want = { UINT16_MAX, AIRSRT_MAX_WORKERS - 1,
                                      UINT32_MAX, AIRSRT_MAX_ACTOR_SLOT,
                                      UINT32_MAX };

    cr_assert_eq(airsrt_address_parse(
                     &a, "<65535@1023.4294967295:16777215.4294967295>"), 0);
    assert_addr_eq(&a, &want);
}

Test(address, parse_rejects_leading_zeros)
{
    assert_parse_rejects("<03.7:1042.2>");
    assert_parse_rejects("<3.07:1042.2>");
    assert_parse_rejects("<3.7:01042.2>");
    assert_parse_rejects("<3.7:1042.02>");
    assert_parse_rejects("<02@3.7:1042.2>");
    assert_parse_rejects("<00.1:0.1>");
    assert_parse_rejects("<0.1:00.1>");
}

Test(address, parse_rejects_signs)
{
    assert_parse_rejects("<+3.7:1042.2>");
    assert_parse_rejects("<-3.7:1042.2>");
    assert_parse_rejects("<3.+7:1042.2>");
    assert_parse_rejects("<3.7:-1042.2>");
    assert_parse_rejects("<3.7:1042.+2>");
    assert_parse_rejects("<+2@3.7:1042.2>");
}

Test(address, parse_rejects_spaces)
{
    assert_parse_rejects(" <3.7:1042.2>");
    assert_parse_rejects("< 3.7:1042.2>");
    assert_parse_rejects("<3 .7:1042.2>");
    assert_parse_rejects("<3. 7:1042.2>");
    assert_parse_rejects("<3.7: 1042.2>");
    assert_parse_rejects("<3.7:1042.2 >");
    assert_parse_rejects("<3.7:1042.2> ");
    assert_parse_rejects("<3.7:1042.2>\n");
    assert_parse_rejects("<null> ");
    assert_parse_rejects(" <null>");
}

Test(address, parse_rejects_overflow)
{
    /* One past each type's range, and a number past 64 bits. */
    assert_parse_rejects("<65536@3.7:1042.2>");
    assert_parse_rejects("<4294967296@3.7:1042.2>");
    assert_parse_rejects("<3.4294967296:1042.2>");
    assert_parse_rejects("<3.7:4294967296.2>");
    assert_parse_rejects("<3.7:1042.4294967296>");
    assert_parse_rejects("<3.7:1042.18446744073709551617>");
    assert_parse_rejects("<3.7:1042.99999999999999999999999999>");
    /* Worker fits 32 bits but not 16: must not wrap to 3. */
    assert_parse_rejects("<65539.7:1042.2>");
}

Test(address, parse_rejects_trailing_junk)
{
    assert_parse_rejects("<3.7:1042.2>x");
    assert_parse_rejects("<3.7:1042.2>>");
    assert_parse_rejects("<3.7:1042.2x>");
    assert_parse_rejects("<3.7:1042.2.5>");
    assert_parse_rejects("<null>x");
    assert_parse_rejects("<nullx>");
}

Test(address, parse_rejects_missing_parts)
{
    assert_parse_rejects("");
    assert_parse_rejects("<");
    assert_parse_rejects("<>");
    assert_parse_rejects("3.7:1042.2>");
    assert_parse_rejects("<3.7:1042.2");
    assert_parse_rejects("<3.7:1042>");
    assert_parse_rejects("<3.7:.2>");
    assert_parse_rejects("<3.7.1042.2>");
    assert_parse_rejects("<3:7:1042.2>");
    assert_parse_rejects("<3.7:1042.>");
    assert_parse_rejects("<.7:1042.2>");
    assert_parse_rejects("<@3.7:1042.2>");
    assert_parse_rejects("<2@>");
    assert_parse_rejects("<2@3@3.7:1042.2>");
    assert_parse_rejects("<null");
    assert_parse_rejects("<NULL>");
}

Test(address, parse_rejects_out_of_range_fields)
{
    assert_parse_rejects("<1024.7:1042.2>");
    assert_parse_rejects("<3.0:1042.2>");
    assert_parse_rejects("<3.7:16777216.2>");
    assert_parse_rejects("<3.7:1042.0>");
    assert_parse_rejects("<0.0:0.0>");
    assert_parse_rejects("<5@0.0:0.0>");
}

/* Regression: parse took "<0@3.7:1042.2>" although format never writes a
 * node of 0, so one address had two spellings. */
Test(address, parse_rejects_explicit_node_zero)
{
    assert_parse_rejects("<0@3.7:1042.2>");
    assert_parse_rejects("<0@0.1:0.1>");
}

Test(address, parse_of_format_returns_the_address)
{
    const struct airsrt_address in[] = {
        local, remote, AIRSRT_ADDRESS_NULL,
        { 0, 0, 1, 0, 1 },
        { 1, 0, 1, 0, 1 },
        { UINT16_MAX, AIRSRT_MAX_WORKERS - 1, UINT32_MAX,
          AIRSRT_MAX_ACTOR_SLOT, UINT32_MAX },
        { 10, 100, 1000, 10000, 100000 },
    };

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char buf[AIRSRT_ADDRESS_STR_MAX];
        struct airsrt_address out = { 9, 9, 9, 9, 9 };
        int n = airsrt_address_format(&in[i], buf, sizeof(buf));

        cr_assert(n > 0 && n < (int)sizeof(buf), "case %zu", i);
        cr_assert_eq(airsrt_address_parse(&out, buf), 0, "\"%s\"", buf);
        assert_addr_eq(&out, &in[i]);
    }
}

/* Walks fields through values around their bounds, so that a parser and a
 * formatter that disagree anywhere in range show up. */
Test(address, format_then_parse_round_trips_across_ranges)
{
    const uint32_t u32[] = { 1, 9, 10, 99, 100, 65535, 65536, 999999999,
                             1000000000, UINT32_MAX - 1, UINT32_MAX };
    const uint16_t nodes[] = { 0, 1, 10, UINT16_MAX };

    for (size_t i = 0; i < sizeof(u32) / sizeof(u32[0]); i++) {
        for (size_t j = 0; j < sizeof(nodes) / sizeof(nodes[0]); j++) {
            struct airsrt_address a = {
                .node = nodes[j],
                .worker = (uint16_t)(u32[i] % AIRSRT_MAX_WORKERS),
                .incarnation = u32[i],
                .slot = u32[i] & AIRSRT_MAX_ACTOR_SLOT,
                .generation = u32[(i + 3) % (sizeof(u32) / sizeof(u32[0]))],
            };
            char buf[AIRSRT_ADDRESS_STR_MAX];
            struct airsrt_address out;

            airsrt_address_format(&a, buf, sizeof(buf));
            cr_assert_eq(airsrt_address_parse(&out, buf), 0, "\"%s\"", buf);
            assert_addr_eq(&out, &a);
        }
    }
}
