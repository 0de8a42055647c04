/*
 * tools/bench/seg.c - the tool's segments and the payload every workload
 * checks.
 *
 * One segment at a time, named after the tool's process ("bench-<pid>"),
 * created for a run and destroyed after it, whatever happened.
 *
 * Payloads are BENCH_PAYLOAD_LEN bytes: the sequence number in the first
 * word, filler, and seq ^ BENCH_SEQ_MIX in the last word. A lost,
 * repeated, reordered or torn envelope fails the check, and with it the
 * run: a figure is never printed over a wrong delivery.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools/bench/bench.h"

#define FILLER 0xA5

int bench_seg_create(struct airsrt_shm *shm, const struct airsrt_shm_params *p)
{
    char name[32];
    int rc;

    snprintf(name, sizeof(name), "bench-%ld", (long)getpid());
    rc = airsrt_shm_create(shm, name, p);
    if (rc < 0)
        fprintf(stderr, "airsrt-bench: cannot create segment: %s\n",
                shm->err);
    return rc;
}

void bench_seg_destroy(struct airsrt_shm *shm)
{
    char path[sizeof(shm->path)];
    int rc;

    memcpy(path, shm->path, sizeof(path));
    rc = airsrt_shm_destroy(shm);
    if (rc < 0)
        fprintf(stderr, "airsrt-bench: cannot remove segment %s: %s\n", path,
                strerror(-rc));
}

uint32_t bench_payload_max(uint32_t ring_bytes)
{
    uint32_t limit = airsrt_ring_payload_limit(ring_bytes);

    return limit < AIRSRT_PAYLOAD_MAX_DEFAULT ? limit
                                              : AIRSRT_PAYLOAD_MAX_DEFAULT;
}

void bench_payload_init(uint8_t *payload)
{
    memset(payload, FILLER, BENCH_PAYLOAD_LEN);
    bench_payload_set_seq(payload, 0);
}

void bench_payload_set_seq(uint8_t *payload, uint64_t seq)
{
    uint64_t last = seq ^ BENCH_SEQ_MIX;

    memcpy(payload, &seq, sizeof(seq));
    memcpy(payload + BENCH_PAYLOAD_LEN - sizeof(last), &last, sizeof(last));
}

int bench_payload_check(uint32_t type, const uint8_t *payload, uint32_t len,
                        uint32_t want, uint64_t seq, char *why, size_t n)
{
    uint64_t first, last;

    if (len != BENCH_PAYLOAD_LEN || type != want) {
        snprintf(why, n, "envelope %" PRIu64 " has type %#x and %u payload "
                 "bytes, expected %#x and %u", seq, type, len, want,
                 BENCH_PAYLOAD_LEN);
        return -EBADMSG;
    }
    memcpy(&first, payload, sizeof(first));
    memcpy(&last, payload + BENCH_PAYLOAD_LEN - sizeof(last), sizeof(last));
    if (first == seq && last == (seq ^ BENCH_SEQ_MIX))
        return 0;
    snprintf(why, n, "expected envelope %" PRIu64 ", got sequence %" PRIu64
             " (last word %#" PRIx64 ", expected %#" PRIx64 ")", seq, first,
             last, seq ^ BENCH_SEQ_MIX);
    return -EBADMSG;
}
