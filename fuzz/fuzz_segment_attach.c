/*
 * fuzz/fuzz_segment_attach.c - a worker attaching an inherited segment
 * descriptor whose contents are the fuzzer's.
 *
 * Feeds: the input, byte for byte, as the whole file behind a memfd,
 * handed to airsrt_shm_attach_fd(). When the header is accepted, every
 * ring it lays out (all data rings and control rings, up to 8 workers) is
 * bound and read by a consumer, and every per-worker region is touched.
 *
 * Asserts: attach only accepts (0) or refuses (-errno, with a reason in
 * shm.err); it never crashes, whatever the header says. An accepted
 * segment's layout lies inside the file: each region and ring the
 * accessors hand out can be read and its consumer block written without a
 * fault, and the consumers terminate; the protection map for the last
 * worker succeeds and leaves its own page and actors region writable.
 * The descriptor is owned by attach from the call on: closed on refusal,
 * closed by detach on success.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_ring_check.h"
#include "shm/segment.h"

#define MAX_WORKERS_READ 8u
#define MAX_VIEWS 8u

static bool fd_is_closed(int fd)
{
    return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static int memfd_with(const uint8_t *data, size_t size)
{
    int fd = memfd_create("airsrt-fuzz", MFD_CLOEXEC);

    FUZZ_CHECK(fd >= 0);
    while (size > 0) {
        ssize_t n = write(fd, data, size);

        FUZZ_CHECK(n > 0);
        data += n;
        size -= (size_t)n;
    }
    return fd;
}

static void check_inside(const struct airsrt_shm *shm, const void *p,
                         uint64_t len)
{
    const volatile uint8_t *b = p;
    uint8_t sink;

    FUZZ_CHECK(p != NULL && len > 0);
    FUZZ_CHECK((const uint8_t *)p >= shm->base && len <= shm->size &&
               (uint64_t)((const uint8_t *)p - shm->base) <= shm->size - len);
    /* A read at each end faults if the mapping is not really there. */
    sink = b[0];
    sink = b[len - 1];
    (void)sink;
}

/* A consumer on a bound ring: must stay in the segment and terminate. */
static void read_ring(const struct airsrt_shm *shm, struct airsrt_ring *r)
{
    struct airsrt_ring_view v[MAX_VIEWS];
    unsigned limit = (unsigned)(r->capacity / FUZZ_MIN_ENV_RECORD) + 4;

    check_inside(shm, r->prod, sizeof(*r->prod));
    check_inside(shm, r->cons, sizeof(*r->cons));
    check_inside(shm, r->buf, r->capacity);
    airsrt_ring_consumer_attach(r);
    for (unsigned calls = 0;; calls++) {
        uint64_t before = r->read;
        ssize_t n;

        FUZZ_CHECK(calls < limit);
        n = airsrt_ring_read(r, v, MAX_VIEWS);
        if (n == 0)
            break;
        fuzz_check_batch(r, v, n, MAX_VIEWS, before);
        airsrt_ring_release_all(r);
    }
}

static void exercise(const struct airsrt_shm *shm)
{
    uint32_t n = shm->params.nworkers;
    struct airsrt_ring r;

    FUZZ_CHECK(n >= 1 && n <= AIRSRT_MAX_WORKERS);
    FUZZ_CHECK(shm->layout.total_size <= shm->size);
    check_inside(shm, shm->hdr, sizeof(*shm->hdr));
    check_inside(shm, airsrt_shm_registry(shm), shm->layout.registry_size);
    FUZZ_CHECK(airsrt_shm_worker_sup(shm, n) == NULL);
    FUZZ_CHECK(airsrt_shm_actor_stats(shm, n) == NULL);
    FUZZ_CHECK(airsrt_shm_data_ring(shm, n, 0, &r) == -EINVAL);
    if (n > MAX_WORKERS_READ)
        n = MAX_WORKERS_READ;
    for (uint32_t w = 0; w < n; w++) {
        check_inside(shm, airsrt_shm_worker_sup(shm, w),
                     sizeof(struct airsrt_worker_sup));
        check_inside(shm, airsrt_shm_worker_self(shm, w),
                     sizeof(struct airsrt_worker_self));
        check_inside(shm, airsrt_shm_doorbell(shm, w),
                     sizeof(struct airsrt_doorbell));
        check_inside(shm, airsrt_shm_actor_stats(shm, w),
                     ((uint64_t)shm->params.actors_max + 1) *
                     sizeof(struct airsrt_actor_stats));
        FUZZ_CHECK(airsrt_shm_ctl_ring(shm, w, &r) == 0);
        read_ring(shm, &r);
        for (uint32_t to = 0; to < n; to++) {
            FUZZ_CHECK(airsrt_shm_data_ring(shm, w, to, &r) == 0);
            read_ring(shm, &r);
        }
    }
}

/* The protection map of an accepted layout lies inside the mapping, and
 * leaves the worker its own page and actors region writable. */
static void protect(struct airsrt_shm *shm)
{
    uint32_t w = shm->params.nworkers - 1;
    volatile uint8_t *self, *stats;

    FUZZ_CHECK(airsrt_shm_protect_for_worker(shm, w) == 0);
    self = (volatile uint8_t *)airsrt_shm_worker_self(shm, w);
    self[0] = self[0];
    stats = (volatile uint8_t *)airsrt_shm_actor_stats(shm, w);
    stats[0] = stats[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct airsrt_shm shm;
    int fd = memfd_with(data, size);
    int rc = airsrt_shm_attach_fd(&shm, fd);

    if (rc < 0) {
        FUZZ_CHECK(shm.err[0] != '\0');
        FUZZ_CHECK(shm.base == NULL && shm.fd == -1);
        FUZZ_CHECK(fd_is_closed(fd));
        return 0;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(shm.fd == fd && shm.size == size);
    exercise(&shm);
    protect(&shm);
    airsrt_shm_detach(&shm);
    FUZZ_CHECK(fd_is_closed(fd));
    return 0;
}
