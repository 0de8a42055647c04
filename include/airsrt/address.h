/*
 * airsrt/address.h - the address of one actor incarnation.
 *
 * An address names a worker (and the incarnation of that worker), an actor
 * slot inside it and the generation of that slot. Because both incarnation
 * and generation are part of it, an address outlives nothing: once the
 * actor stops or its worker restarts, the address is stale and an envelope
 * sent to it becomes a dead letter instead of reaching whoever took the
 * slot next. The node field is 0 on the local node; a gateway fills it for
 * remote addresses. Addresses hold no pointers and cross processes as bytes.
 *
 * All functions here are pure and may be called from any thread or process.
 */
#ifndef AIRSRT_ADDRESS_H
#define AIRSRT_ADDRESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AIRSRT_MAX_WORKERS       1024u         /* worker index < this */
#define AIRSRT_MAX_ACTOR_SLOT    0xFFFFFFu     /* slot <= this (2^24 - 1) */
#define AIRSRT_ADDRESS_WIRE_SIZE 16u           /* bytes of the encoded form */
#define AIRSRT_ADDRESS_STR_MAX   48u           /* printable form, with NUL */

/*
 * In memory, host order. The null address (all zero) means "nobody"
 * (no reply-to, no sender). A valid non-null address has incarnation >= 1
 * and generation >= 1: 0 is never handed out, so a zeroed slot in shared
 * memory can never match a live actor.
 */
struct airsrt_address {
    uint16_t node;          /* 0 = this node */
    uint16_t worker;        /* worker index, < AIRSRT_MAX_WORKERS */
    uint32_t incarnation;   /* of the worker, >= 1 */
    uint32_t slot;          /* actor slot in the worker, <= AIRSRT_MAX_ACTOR_SLOT */
    uint32_t generation;    /* of the slot, >= 1 */
};

#define AIRSRT_ADDRESS_NULL ((struct airsrt_address){0})

/* Inline: every envelope read from a ring checks three addresses, and an
 * out-of-line call over a freshly built copy stalled on store forwarding. */
static inline bool airsrt_address_is_null(const struct airsrt_address *a)
{
    return (a->node | a->worker | a->incarnation | a->slot |
            a->generation) == 0;
}

/* 0 if every field is in range, -EINVAL otherwise. The null address is
 * not valid: check airsrt_address_is_null() first where null is allowed. */
static inline int airsrt_address_validate(const struct airsrt_address *a)
{
    if (a->worker >= AIRSRT_MAX_WORKERS || a->incarnation == 0 ||
        a->slot > AIRSRT_MAX_ACTOR_SLOT || a->generation == 0)
        return -EINVAL;
    return 0;
}

bool airsrt_address_equal(const struct airsrt_address *a,
                          const struct airsrt_address *b);

/* Fixed little-endian wire form, AIRSRT_ADDRESS_WIRE_SIZE bytes. decode
 * returns 0, or -EINVAL if the bytes are not a valid or null address. */
void airsrt_address_encode(const struct airsrt_address *a,
                           uint8_t out[AIRSRT_ADDRESS_WIRE_SIZE]);
int airsrt_address_decode(struct airsrt_address *a,
                          const uint8_t in[AIRSRT_ADDRESS_WIRE_SIZE]);

/*
 * Printable form: "<worker.incarnation:slot.generation>", e.g. "<3.7:1042.2>",
 * with "node@" in front when node != 0 ("<2@3.7:1042.2>"); "<null>" for the
 * null address. format writes at most len bytes including the NUL and
 * returns the length it needed, like snprintf. parse accepts exactly that
 * form and returns 0, or -EINVAL for anything else.
 */
int airsrt_address_format(const struct airsrt_address *a, char *buf, size_t len);
int airsrt_address_parse(struct airsrt_address *a, const char *s);

#endif
