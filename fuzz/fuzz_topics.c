/*
 * fuzz/fuzz_topics.c - airsrt__topic_page_read() on arbitrary bytes: a
 * worker's topic list (struct airsrt_worker_topics, shm/segment.h) as
 * another worker, or a scribble, may have left it in its self page.
 *
 * Feeds: the first 264 bytes of the input (zero-padded) as the list, in
 * a heap block of exactly its size, read into an id array of exactly
 * AIRSRT_WORKER_TOPICS_MAX entries, so that ASan sees any read or write
 * past either.
 *
 * Asserts: the reader returns -EAGAIN exactly when seq is odd (nothing
 * changes the page while it reads), else the count clamped to
 * AIRSRT_WORKER_TOPICS_MAX; the ids it gives are those of the page, in
 * its order, and it writes no entry past the count it returns; it
 * returns at all (libFuzzer's -timeout catches a loop).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "worker/worker_impl.h"

#define CANARY 0xC0FFEE11u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    struct airsrt_worker_topics *p = malloc(sizeof(*p));
    uint32_t *ids = malloc(AIRSRT_WORKER_TOPICS_MAX * sizeof(*ids));
    uint32_t seq, n;
    int rc;

    FUZZ_CHECK(p != NULL && ids != NULL);
    fuzz_bytes(&in, p, sizeof(*p));
    for (uint32_t i = 0; i < AIRSRT_WORKER_TOPICS_MAX; i++)
        ids[i] = CANARY;
    seq = atomic_load(&p->seq);
    n = atomic_load(&p->ntopics);
    if (n > AIRSRT_WORKER_TOPICS_MAX)
        n = AIRSRT_WORKER_TOPICS_MAX;

    rc = airsrt__topic_page_read(p, ids);
    if (seq & 1u) {
        FUZZ_CHECK(rc == -EAGAIN);
    } else {
        FUZZ_CHECK(rc == (int)n);
        for (uint32_t i = 0; i < n; i++)
            FUZZ_CHECK(ids[i] == atomic_load(&p->ids[i]));
    }
    for (uint32_t i = rc > 0 ? (uint32_t)rc : 0; i < AIRSRT_WORKER_TOPICS_MAX;
         i++)
        FUZZ_CHECK(ids[i] == CANARY);
    free(ids);
    free(p);
    return 0;
}
