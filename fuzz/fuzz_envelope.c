/*
 * fuzz/fuzz_envelope.c - airsrt_envelope_validate() on arbitrary headers,
 * arbitrary avail and arbitrary payload_max.
 *
 * Feeds: the envelope bytes in an exact heap allocation, with avail either
 * truthful (at most the bytes there are) or, when a whole header is there,
 * any 64-bit value (validate reads only the header).
 *
 * Asserts: validate returns a length or -EBADMSG and nothing else; an
 * accepted length equals the header's payload_len, is at most payload_max
 * and the hard limit, and header + length fits avail (ASan checks the
 * payload is really readable when avail is truthful); and it accepts
 * exactly what a field-by-field model of the header's rules accepts.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *
 *   off  size  field
 *     0  1     mode: bit 0 avail is any value (needs >= 88 envelope bytes)
 *     1  8     avail (truthful mode: taken modulo envelope bytes + 1)
 *     9  4     payload_max
 *    13  rest  envelope bytes
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "airsrt/envelope.h"

/* The address rule of address.h, restated: null, or every field in range. */
static bool model_address_ok(const struct airsrt_address *a)
{
    bool is_null = a->node == 0 && a->worker == 0 && a->incarnation == 0 &&
                   a->slot == 0 && a->generation == 0;

    return is_null || (a->worker < AIRSRT_MAX_WORKERS && a->incarnation >= 1 &&
                       a->slot <= AIRSRT_MAX_ACTOR_SLOT && a->generation >= 1);
}

/* The header's rules, restated from envelope.h, one per line. */
static bool model_accepts(const struct airsrt_envelope *e, size_t avail,
                          uint32_t payload_max)
{
    if (avail < AIRSRT_ENVELOPE_HDR_SIZE)
        return false;
    return e->payload_len <= payload_max &&
           e->payload_len <= AIRSRT_PAYLOAD_MAX_LIMIT &&
           e->payload_len <= avail - AIRSRT_ENVELOPE_HDR_SIZE &&
           e->priority <= AIRSRT_PRIO_SYSTEM &&
           (e->flags & ~AIRSRT_ENV_F_ALL) == 0 && e->reserved == 0 &&
           model_address_ok(&e->sender) && model_address_ok(&e->recipient) &&
           model_address_ok(&e->reply_to);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint8_t mode = fuzz_u8(&in);
    uint64_t avail = fuzz_u64(&in);
    uint32_t payload_max = fuzz_u32(&in);
    /* At least one byte, so that the pointer is a real allocation. */
    uint8_t *bytes = malloc(in.n + 1);
    const struct airsrt_envelope *e = (const void *)bytes;
    bool is_truthful = !(mode & 1) || in.n < AIRSRT_ENVELOPE_HDR_SIZE;
    int rc;

    FUZZ_CHECK(bytes != NULL);
    memcpy(bytes, in.p, in.n);
    if (is_truthful)
        avail %= (uint64_t)in.n + 1;
    rc = airsrt_envelope_validate(e, (size_t)avail, payload_max);
    if (rc < 0) {
        FUZZ_CHECK(rc == -EBADMSG);
        FUZZ_CHECK(!model_accepts(e, (size_t)avail, payload_max));
    } else {
        volatile uint8_t sink = 0;

        FUZZ_CHECK(model_accepts(e, (size_t)avail, payload_max));
        FUZZ_CHECK((uint32_t)rc == e->payload_len);
        FUZZ_CHECK((uint32_t)rc <= payload_max);
        FUZZ_CHECK((uint32_t)rc <= AIRSRT_PAYLOAD_MAX_LIMIT);
        FUZZ_CHECK(airsrt_envelope_size((uint32_t)rc) <= avail);
        if (is_truthful)
            for (int i = 0; i < rc; i++)
                sink ^= e->payload[i];
        (void)sink;
    }
    free(bytes);
    return 0;
}
