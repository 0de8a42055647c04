/*
 * fuzz/fuzz_address.c - airsrt_address_decode() and airsrt_address_parse()
 * on arbitrary input, and the formatter behind them.
 *
 * Feeds: the first 16 bytes (zero-padded) to decode; the whole input,
 * NUL-terminated, to parse; the first byte also picks a buffer length for
 * a truncated format.
 *
 * Asserts: whatever either accepts is null or valid; decode accepts
 * exactly what its model (null, or every field in range) accepts, and
 * encode gives back the same 16 bytes; parse accepts only the formatter's
 * own spelling (format(parse(s)) == s), and format → parse returns the
 * address; both leave the output alone when they refuse; a format into a
 * short buffer writes a prefix of the full text and never past len (the
 * buffer is an exact heap allocation).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "airsrt/address.h"

static const struct airsrt_address canary = { 1, 2, 3, 4, 5 };

static bool is_acceptable(const struct airsrt_address *a)
{
    return airsrt_address_is_null(a) || airsrt_address_validate(a) == 0;
}

/* Formats a, parses it back, and returns the text in out. */
static void check_format_round_trip(const struct airsrt_address *a,
                                    char out[AIRSRT_ADDRESS_STR_MAX])
{
    struct airsrt_address b = canary;
    int n = airsrt_address_format(a, out, AIRSRT_ADDRESS_STR_MAX);

    FUZZ_CHECK(n > 0 && n < (int)AIRSRT_ADDRESS_STR_MAX);
    FUZZ_CHECK((size_t)n == strlen(out));
    FUZZ_CHECK(airsrt_address_parse(&b, out) == 0);
    FUZZ_CHECK(airsrt_address_equal(a, &b));
}

static void check_truncated_format(const struct airsrt_address *a,
                                   const char *full, size_t len)
{
    char *buf = malloc(len + 1);    /* +1: malloc(0) may return NULL */
    int n;

    FUZZ_CHECK(buf != NULL);
    n = airsrt_address_format(a, len == 0 ? NULL : buf, len);
    FUZZ_CHECK(n == (int)strlen(full));
    if (len > 0) {
        size_t kept = (size_t)n < len ? (size_t)n : len - 1;

        FUZZ_CHECK(strlen(buf) == kept);
        FUZZ_CHECK(memcmp(buf, full, kept) == 0);
    }
    free(buf);
}

static void check_decode(const uint8_t wire[AIRSRT_ADDRESS_WIRE_SIZE],
                         size_t trunc_len)
{
    struct airsrt_address a = canary, model;
    uint8_t again[AIRSRT_ADDRESS_WIRE_SIZE];
    char text[AIRSRT_ADDRESS_STR_MAX];
    int rc = airsrt_address_decode(&a, wire);

    /* The wire layout, restated: node, worker u16; the rest u32. */
    model = (struct airsrt_address){
        .node = (uint16_t)(wire[0] | wire[1] << 8),
        .worker = (uint16_t)(wire[2] | wire[3] << 8),
        .incarnation = (uint32_t)wire[4] | (uint32_t)wire[5] << 8 |
                       (uint32_t)wire[6] << 16 | (uint32_t)wire[7] << 24,
        .slot = (uint32_t)wire[8] | (uint32_t)wire[9] << 8 |
                (uint32_t)wire[10] << 16 | (uint32_t)wire[11] << 24,
        .generation = (uint32_t)wire[12] | (uint32_t)wire[13] << 8 |
                      (uint32_t)wire[14] << 16 | (uint32_t)wire[15] << 24,
    };
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL);
        FUZZ_CHECK(!is_acceptable(&model));
        FUZZ_CHECK(airsrt_address_equal(&a, &canary));
        return;
    }
    FUZZ_CHECK(is_acceptable(&a));
    FUZZ_CHECK(airsrt_address_equal(&a, &model));
    airsrt_address_encode(&a, again);
    FUZZ_CHECK(memcmp(again, wire, sizeof(again)) == 0);
    check_format_round_trip(&a, text);
    check_truncated_format(&a, text, trunc_len);
}

static void check_parse(const char *s)
{
    struct airsrt_address a = canary;
    char text[AIRSRT_ADDRESS_STR_MAX];
    int rc = airsrt_address_parse(&a, s);

    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL);
        FUZZ_CHECK(airsrt_address_equal(&a, &canary));
        return;
    }
    FUZZ_CHECK(is_acceptable(&a));
    /* One spelling per address: what parse took is what format writes. */
    FUZZ_CHECK(airsrt_address_format(&a, text, sizeof(text)) ==
               (int)strlen(s));
    FUZZ_CHECK(strcmp(text, s) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t wire[AIRSRT_ADDRESS_WIRE_SIZE] = {0};
    char *s = malloc(size + 1);

    FUZZ_CHECK(s != NULL);
    memcpy(wire, data, size < sizeof(wire) ? size : sizeof(wire));
    check_decode(wire, size > 0 ? data[0] % AIRSRT_ADDRESS_STR_MAX : 0);
    memcpy(s, data, size);
    s[size] = '\0';
    check_parse(s);
    free(s);
    return 0;
}
