/*
 * shm/address.c - actor addresses: validation, wire form, printable form.
 * Pure functions; decode and parse take untrusted input and check every
 * field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "airsrt/address.h"

bool airsrt_address_equal(const struct airsrt_address *a,
                          const struct airsrt_address *b)
{
    return a->node == b->node && a->worker == b->worker &&
           a->incarnation == b->incarnation && a->slot == b->slot &&
           a->generation == b->generation;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Wire: node u16, worker u16, incarnation u32, slot u32, generation u32. */
void airsrt_address_encode(const struct airsrt_address *a,
                           uint8_t out[AIRSRT_ADDRESS_WIRE_SIZE])
{
    put_le(out, a->node, 2);
    put_le(out + 2, a->worker, 2);
    put_le(out + 4, a->incarnation, 4);
    put_le(out + 8, a->slot, 4);
    put_le(out + 12, a->generation, 4);
}

int airsrt_address_decode(struct airsrt_address *a,
                          const uint8_t in[AIRSRT_ADDRESS_WIRE_SIZE])
{
    struct airsrt_address t = {
        .node = (uint16_t)get_le(in, 2),
        .worker = (uint16_t)get_le(in + 2, 2),
        .incarnation = (uint32_t)get_le(in + 4, 4),
        .slot = (uint32_t)get_le(in + 8, 4),
        .generation = (uint32_t)get_le(in + 12, 4),
    };

    if (!airsrt_address_is_null(&t) && airsrt_address_validate(&t) < 0)
        return -EINVAL;
    *a = t;
    return 0;
}

int airsrt_address_format(const struct airsrt_address *a, char *buf, size_t len)
{
    if (airsrt_address_is_null(a))
        return snprintf(buf, len, "<null>");
    if (a->node != 0)
        return snprintf(buf, len, "<%" PRIu16 "@%" PRIu16 ".%" PRIu32
                        ":%" PRIu32 ".%" PRIu32 ">", a->node, a->worker,
                        a->incarnation, a->slot, a->generation);
    return snprintf(buf, len, "<%" PRIu16 ".%" PRIu32 ":%" PRIu32 ".%" PRIu32
                    ">", a->worker, a->incarnation, a->slot, a->generation);
}

/* Reads a decimal number of at most max into *v, without sign, blanks or
 * leading zeros (so that each address has exactly one spelling). */
static const char *parse_num(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;
    const char *p = s;

    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (uint64_t)(*p - '0');
        if (n > max)
            return NULL;
    }
    *v = n;
    return p;
}

int airsrt_address_parse(struct airsrt_address *a, const char *s)
{
    struct airsrt_address t = {0};
    uint64_t v[5];
    const char *p = s;
    int i = 1;

    if (strcmp(s, "<null>") == 0) {
        *a = t;
        return 0;
    }
    if (*p++ != '<' || (p = parse_num(p, UINT32_MAX, &v[0])) == NULL)
        return -EINVAL;
    if (*p == '@') {                    /* the first number was the node */
        /* format writes no "0@": taking it would give node 0 a second
         * spelling. */
        if (v[0] == 0 || v[0] > UINT16_MAX ||
            (p = parse_num(p + 1, UINT32_MAX, &v[1])) == NULL)
            return -EINVAL;
        t.node = (uint16_t)v[0];
        v[0] = v[1];
    }
    for (const char *sep = ".:."; *sep != '\0'; sep++, i++)
        if (*p++ != *sep || (p = parse_num(p, UINT32_MAX, &v[i])) == NULL)
            return -EINVAL;
    if (p[0] != '>' || p[1] != '\0' || v[0] > UINT16_MAX)
        return -EINVAL;
    t.worker = (uint16_t)v[0];
    t.incarnation = (uint32_t)v[1];
    t.slot = (uint32_t)v[2];
    t.generation = (uint32_t)v[3];
    if (airsrt_address_validate(&t) < 0)
        return -EINVAL;
    *a = t;
    return 0;
}
