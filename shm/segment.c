/*
 * shm/segment.c - create, attach, protect and destroy the runtime segment
 * (layout in segment.h).
 *
 * The header is untrusted for every attacher: it is checked field by field
 * and the layout it claims must equal the one recomputed from its
 * parameters. Creation leaves nothing behind when it fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shm/robust.h"
#include "shm/segment.h"

#define CONS_BLOCK ((uint64_t)sizeof(struct airsrt_ring_cons))
#define WORKER_SUP ((uint64_t)sizeof(struct airsrt_worker_sup))
#define DOORBELL   ((uint64_t)sizeof(struct airsrt_doorbell))

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return rc;
}

#define shm_fail(shm, rc, ...) fail((shm)->err, sizeof((shm)->err), rc, __VA_ARGS__)

static uint64_t round_up(uint64_t n, uint64_t to)
{
    return (n + to - 1) / to * to;
}

static bool is_pow2(uint32_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

int airsrt_shm_name_validate(const char *name)
{
    size_t n = strnlen(name, AIRSRT_RUNTIME_NAME_MAX + 1);

    if (n == 0 || n > AIRSRT_RUNTIME_NAME_MAX || name[0] == '.' ||
        name[0] == '-')
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_.-", name[i]))
            return -EINVAL;
    return 0;
}

uint64_t airsrt_realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *airsrt_postmortem_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [AIRSRT_PM_CRASHED] = "crashed",
        [AIRSRT_PM_HANG] = "hang",
        [AIRSRT_PM_ESCALATED] = "escalated",
    };

    return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

static int check_ring_bytes(const char *what, uint32_t bytes,
                            uint32_t payload_max, char *err, size_t len)
{
    if (!is_pow2(bytes) || bytes < AIRSRT_RING_MIN_CAPACITY ||
        bytes > AIRSRT_RING_MAX_CAPACITY)
        return fail(err, len, -EINVAL, "%s %u is not a power of two "
                    "between %u and %u", what, bytes,
                    AIRSRT_RING_MIN_CAPACITY, AIRSRT_RING_MAX_CAPACITY);
    if (payload_max > airsrt_ring_payload_limit(bytes))
        return fail(err, len, -EINVAL, "%s %u cannot hold two envelopes "
                    "of payload_max %u (at most %u)", what, bytes,
                    payload_max, airsrt_ring_payload_limit(bytes));
    return 0;
}

int airsrt_shm_params_check(struct airsrt_shm_params *p, char *err, size_t len)
{
    int rc;

    if (p->ring_bytes == 0)
        p->ring_bytes = AIRSRT_RING_BYTES_DEFAULT;
    if (p->ctl_ring_bytes == 0)
        p->ctl_ring_bytes = AIRSRT_CTL_RING_BYTES_DEFAULT;
    if (p->registry_capacity == 0)
        p->registry_capacity = AIRSRT_REGISTRY_CAP_DEFAULT;
    if (p->payload_max == 0)
        p->payload_max = AIRSRT_PAYLOAD_MAX_DEFAULT;
    if (p->actors_max == 0)
        p->actors_max = AIRSRT_ACTORS_MAX_DEFAULT;
    /* ---- inject: unknown flags are a corrupt or newer header ---- */
    if ((p->flags & ~AIRSRT_SHM_F_ALL) != 0)
        return fail(err, len, -EINVAL, "unknown segment flags 0x%x",
                    p->flags);
    if (p->nworkers == 0 || p->nworkers > AIRSRT_MAX_WORKERS)
        return fail(err, len, -EINVAL, "nworkers %u is not between 1 and %u",
                    p->nworkers, AIRSRT_MAX_WORKERS);
    if (p->registry_capacity > AIRSRT_REGISTRY_CAP_MAX)
        return fail(err, len, -EINVAL, "registry capacity %u exceeds %u",
                    p->registry_capacity, AIRSRT_REGISTRY_CAP_MAX);
    if (p->actors_max > AIRSRT_MAX_ACTOR_SLOT)
        return fail(err, len, -EINVAL, "actors_max %u exceeds %u",
                    p->actors_max, AIRSRT_MAX_ACTOR_SLOT);
    if (p->payload_max > AIRSRT_PAYLOAD_MAX_LIMIT)
        return fail(err, len, -EINVAL, "payload_max %u exceeds %u",
                    p->payload_max, AIRSRT_PAYLOAD_MAX_LIMIT);
    rc = check_ring_bytes("ring_bytes", p->ring_bytes, p->payload_max, err, len);
    if (rc == 0)
        rc = check_ring_bytes("ctl_ring_bytes", p->ctl_ring_bytes,
                              p->payload_max, err, len);
    return rc;
}

void airsrt_shm_layout_compute(const struct airsrt_shm_params *p,
                               uint32_t page, struct airsrt_shm_layout *l)
{
    uint64_t n = p->nworkers, off = round_up(sizeof(struct airsrt_shm_hdr), page);

    memset(l, 0, sizeof(*l));
    l->worker_sup_off = off;
    off += round_up(n * WORKER_SUP, page);
    l->worker_self_off = off;
    l->worker_self_stride = round_up(sizeof(struct airsrt_worker_self), page);
    off += n * l->worker_self_stride;
    l->ring_stride = page + (uint64_t)p->ring_bytes;
    l->outbound_off = off;
    l->outbound_stride = n * l->ring_stride;
    off += n * l->outbound_stride;
    l->inbound_off = off;
    l->inbound_stride = round_up((n + 1) * CONS_BLOCK, page);
    off += n * l->inbound_stride;
    l->ctl_off = off;
    l->ctl_stride = page + (uint64_t)p->ctl_ring_bytes;
    off += n * l->ctl_stride;
    l->doorbell_off = off;
    off += round_up(n * DOORBELL, page);
    l->registry_off = off;
    l->registry_size = round_up(sizeof(struct airsrt_registry_hdr) +
                                (uint64_t)p->registry_capacity *
                                sizeof(struct airsrt_registry_entry), page);
    off += l->registry_size;
    l->actors_off = off;
    l->actors_stride = round_up(((uint64_t)p->actors_max + 1) *
                                sizeof(struct airsrt_actor_stats), page);
    off += n * l->actors_stride;
    /* ---- airsrt-ctl: postmortem records ---- */
    l->postmortem_off = off;
    off += round_up(n * sizeof(struct airsrt_postmortem), page);
    l->total_size = off;
}

static void shm_reset(struct airsrt_shm *shm)
{
    memset(shm, 0, sizeof(*shm));
    shm->fd = -1;
}

static int set_path(struct airsrt_shm *shm, const char *name)
{
    if (airsrt_shm_name_validate(name) < 0)
        return shm_fail(shm, -EINVAL, "invalid runtime name \"%.*s\": use 1 "
                        "to %u of A-Z a-z 0-9 _ . -, not starting with . or -",
                        (int)AIRSRT_RUNTIME_NAME_MAX, name,
                        AIRSRT_RUNTIME_NAME_MAX);
    snprintf(shm->path, sizeof(shm->path), "/airsrt.%s", name);
    return 0;
}

static bool pid_is_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/*
 * The name is taken. Reclaim it if its owner is dead; refuse if it lives
 * or if it is not ours to judge. Two creators racing over one dead
 * segment could both unlink; the loser's O_EXCL then fails and it sees
 * the winner alive, so at worst one of them reports -EBUSY.
 */
static int reclaim_stale(struct airsrt_shm *shm)
{
    struct airsrt_shm_hdr pre;
    struct stat st;
    pid_t owner;
    int fd = shm_open(shm->path, O_RDONLY, 0), rc = 0;

    if (fd < 0)
        return errno == ENOENT ? 0 : shm_fail(shm, -errno, "%s exists and "
                                              "cannot be opened: %s",
                                              shm->path, strerror(errno));
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < 16 ||
        pread(fd, &pre, 16, 0) != 16 ||
        (pre.magic != AIRSRT_SHM_MAGIC && pre.magic != 0)) {
        rc = shm_fail(shm, -EEXIST, "%s exists and is not an airsrt segment; "
                      "remove /dev/shm%s if nothing uses it",
                      shm->path, shm->path);
        goto out;
    }
    owner = pre.owner_pid;
    if (pid_is_alive(owner)) {
        rc = shm_fail(shm, -EBUSY, "runtime %s is running: segment %s is "
                      "owned by live pid %d", shm->path + 8, shm->path,
                      (int)owner);
        goto out;
    }
    if (shm_unlink(shm->path) < 0 && errno != ENOENT)
        rc = shm_fail(shm, -errno, "cannot remove stale %s of dead pid %d: %s",
                      shm->path, (int)owner, strerror(errno));
out:
    close(fd);
    return rc;
}

static int check_tmpfs_room(struct airsrt_shm *shm, uint64_t size)
{
    struct statvfs vfs;

    if (fstatvfs(shm->fd, &vfs) == 0 && vfs.f_blocks != 0 &&
        size > (uint64_t)vfs.f_blocks * vfs.f_frsize)
        return shm_fail(shm, -ENOSPC, "segment needs %llu bytes but "
                        "/dev/shm holds only %llu; use smaller rings or "
                        "fewer workers", (unsigned long long)size,
                        (unsigned long long)vfs.f_blocks * vfs.f_frsize);
    return 0;
}

/* The control-ring locks and the registry (its lock, and every entry
 * empty with its checksum). */
static int init_locks(struct airsrt_shm *shm)
{
    int rc = airsrt_registry_init(airsrt_shm_registry(shm),
                                  shm->layout.registry_size,
                                  shm->params.registry_capacity);

    for (uint32_t w = 0; rc == 0 && w < shm->params.nworkers; w++) {
        struct airsrt_ring_prod *prod =
            (void *)(shm->base + shm->layout.ctl_off + w * shm->layout.ctl_stride);

        rc = airsrt_robust_init(&prod->lock);
    }
    return rc;
}

static void init_header(struct airsrt_shm *shm, const char *name,
                        uint32_t page)
{
    struct airsrt_shm_hdr *h = shm->hdr;

    h->version = AIRSRT_SHM_VERSION;
    h->page_size = page;
    h->created_realtime_ns = airsrt_realtime_ns();
    h->epoch_ns = airsrt_now_ns();
    h->params = shm->params;
    strlcpy(h->name, name, sizeof(h->name));
    h->layout = shm->layout;
}

static int create_once(struct airsrt_shm *shm, const char *name, uint32_t page)
{
    int rc;

    shm->fd = shm_open(shm->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (shm->fd < 0)
        return -errno;
    shm->is_owner = true;
    rc = check_tmpfs_room(shm, shm->size);
    if (rc == 0 && ftruncate(shm->fd, (off_t)shm->size) < 0)
        rc = shm_fail(shm, -errno, "cannot size %s to %zu bytes: %s",
                      shm->path, shm->size, strerror(errno));
    if (rc < 0)
        return rc;
    shm->base = mmap(NULL, shm->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                     shm->fd, 0);
    if (shm->base == MAP_FAILED) {
        shm->base = NULL;
        return shm_fail(shm, -errno, "cannot map %s: %s", shm->path,
                        strerror(errno));
    }
    shm->hdr = (struct airsrt_shm_hdr *)shm->base;
    /* First, so that a creator dying from here on leaves an owner pid
     * the next creator can find dead. */
    shm->hdr->owner_pid = getpid();
    init_header(shm, name, page);
    rc = init_locks(shm);
    if (rc < 0)
        return shm_fail(shm, rc, "cannot initialise locks: %s", strerror(-rc));
    /* Pairs with the acquire in map_and_check(): the header and locks
     * are complete before anyone can see the magic. */
    atomic_store_explicit(&shm->hdr->magic, AIRSRT_SHM_MAGIC,
                          memory_order_release);
    return 0;
}

int airsrt_shm_create(struct airsrt_shm *shm, const char *name,
                      const struct airsrt_shm_params *p)
{
    uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
    int rc;

    shm_reset(shm);
    rc = set_path(shm, name);
    if (rc < 0)
        return rc;
    shm->params = *p;
    rc = airsrt_shm_params_check(&shm->params, shm->err, sizeof(shm->err));
    if (rc < 0)
        return rc;
    airsrt_shm_layout_compute(&shm->params, page, &shm->layout);
    shm->size = shm->layout.total_size;
    rc = create_once(shm, name, page);
    if (rc == -EEXIST) {
        rc = reclaim_stale(shm);
        if (rc == 0) {
            rc = create_once(shm, name, page);
            if (rc == -EEXIST)
                rc = shm_fail(shm, rc, "%s was created again by someone "
                              "else while it was being reclaimed", shm->path);
        }
    }
    if (rc < 0 && shm->err[0] == '\0')
        shm_fail(shm, rc, "cannot create %s: %s", shm->path, strerror(-rc));
    if (rc < 0) {
        char err[sizeof(shm->err)];

        memcpy(err, shm->err, sizeof(err));
        if (shm->is_owner)
            shm_unlink(shm->path);
        airsrt_shm_detach(shm);
        memcpy(shm->err, err, sizeof(err));
    }
    return rc;
}

/* Checks everything the header claims against what this build computes. */
static int check_header(struct airsrt_shm *shm, uint64_t file_size)
{
    const struct airsrt_shm_hdr *h = shm->hdr;
    struct airsrt_shm_layout l;
    uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);

    /* Pairs with the release in create_once(). */
    if (atomic_load_explicit(&shm->hdr->magic, memory_order_acquire) !=
        AIRSRT_SHM_MAGIC)
        return shm_fail(shm, -EPROTO, "%s is not an airsrt segment (no "
                        "magic; maybe still being created)", shm->path);
    if (h->version != AIRSRT_SHM_VERSION)
        return shm_fail(shm, -EPROTONOSUPPORT, "%s has layout version %u; "
                        "this build reads version %u", shm->path,
                        h->version, AIRSRT_SHM_VERSION);
    if (file_size < sizeof(*h))
        return shm_fail(shm, -EPROTO, "%s is too small for its header",
                        shm->path);
    /* destroy() unlinks the name read from here: it must be a runtime
     * name, and when we came by name, the same one. */
    if (memchr(h->name, '\0', sizeof(h->name)) == NULL ||
        airsrt_shm_name_validate(h->name) < 0 ||
        (shm->path[0] == '/' && strcmp(shm->path + 8, h->name) != 0))
        return shm_fail(shm, -EPROTO, "%s has a corrupt header (name)",
                        shm->path);
    shm->params = h->params;
    if (h->page_size != page ||
        airsrt_shm_params_check(&shm->params, shm->err, sizeof(shm->err)) < 0 ||
        memcmp(&shm->params, &h->params, sizeof(shm->params)) != 0)
        return shm_fail(shm, -EPROTO, "%s has a corrupt header (sizes)",
                        shm->path);
    airsrt_shm_layout_compute(&shm->params, page, &l);
    if (memcmp(&l, &h->layout, sizeof(l)) != 0)
        return shm_fail(shm, -EPROTO, "%s has a corrupt header (layout)",
                        shm->path);
    if (l.total_size > file_size)
        return shm_fail(shm, -EPROTO, "%s is too small: %llu bytes, its "
                        "layout needs %llu", shm->path,
                        (unsigned long long)file_size,
                        (unsigned long long)l.total_size);
    shm->layout = l;
    return 0;
}

static int map_and_check(struct airsrt_shm *shm)
{
    struct stat st;
    int rc;

    if (fstat(shm->fd, &st) < 0)
        return shm_fail(shm, -errno, "cannot stat %s: %s", shm->path,
                        strerror(errno));
    if ((uint64_t)st.st_size < sizeof(struct airsrt_shm_hdr))
        return shm_fail(shm, -EPROTO, "%s is not an airsrt segment: too "
                        "small (%lld bytes)", shm->path, (long long)st.st_size);
    shm->size = (size_t)st.st_size;
    shm->base = mmap(NULL, shm->size,
                     shm->is_ro ? PROT_READ : PROT_READ | PROT_WRITE,
                     MAP_SHARED, shm->fd, 0);
    if (shm->base == MAP_FAILED) {
        shm->base = NULL;
        return shm_fail(shm, -errno, "cannot map %s: %s", shm->path,
                        strerror(errno));
    }
    shm->hdr = (struct airsrt_shm_hdr *)shm->base;
    rc = check_header(shm, (uint64_t)st.st_size);
    if (rc == 0)
        snprintf(shm->path, sizeof(shm->path), "/airsrt.%s", shm->hdr->name);
    return rc;
}

static int attach_name(struct airsrt_shm *shm, const char *name, bool is_ro)
{
    int rc;

    shm_reset(shm);
    shm->is_ro = is_ro;
    rc = set_path(shm, name);
    if (rc < 0)
        return rc;
    shm->fd = shm_open(shm->path, (is_ro ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
    if (shm->fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            return shm_fail(shm, rc, "no runtime named \"%s\" (no segment %s)",
                            name, shm->path);
        return shm_fail(shm, rc, "cannot open %s: %s", shm->path,
                        strerror(-rc));
    }
    rc = map_and_check(shm);
    if (rc < 0) {
        char err[sizeof(shm->err)];

        memcpy(err, shm->err, sizeof(err));
        airsrt_shm_detach(shm);
        memcpy(shm->err, err, sizeof(err));
    }
    return rc;
}

int airsrt_shm_attach(struct airsrt_shm *shm, const char *name)
{
    return attach_name(shm, name, false);
}

int airsrt_shm_attach_ro(struct airsrt_shm *shm, const char *name)
{
    return attach_name(shm, name, true);
}

int airsrt_shm_attach_fd(struct airsrt_shm *shm, int fd)
{
    int rc;

    shm_reset(shm);
    shm->fd = fd;
    snprintf(shm->path, sizeof(shm->path), "fd %d", fd);
    rc = map_and_check(shm);
    if (rc < 0) {
        char err[sizeof(shm->err)];

        memcpy(err, shm->err, sizeof(err));
        airsrt_shm_detach(shm);
        memcpy(shm->err, err, sizeof(err));
    }
    return rc;
}

void airsrt_shm_detach(struct airsrt_shm *shm)
{
    if (shm->base != NULL)
        munmap(shm->base, shm->size);
    if (shm->fd >= 0)
        close(shm->fd);
    shm_reset(shm);
}

int airsrt_shm_destroy(struct airsrt_shm *shm)
{
    int rc = 0;

    if (shm->path[0] == '/' && shm_unlink(shm->path) < 0)
        rc = -errno;
    airsrt_shm_detach(shm);
    return rc;
}

static int make_writable(struct airsrt_shm *shm, uint64_t off, uint64_t len)
{
    if (mprotect(shm->base + off, len, PROT_READ | PROT_WRITE) < 0)
        return -errno;
    return 0;
}

int airsrt_shm_protect_for_worker(struct airsrt_shm *shm, uint32_t w)
{
    const struct airsrt_shm_layout *l = &shm->layout;
    uint32_t n = shm->params.nworkers;
    int rc;

    if (w >= n)
        return -EINVAL;
    if (mprotect(shm->base, shm->size, PROT_READ) < 0)
        return -errno;
    rc = make_writable(shm, l->worker_self_off + w * l->worker_self_stride,
                       l->worker_self_stride);
    if (rc == 0)
        rc = make_writable(shm, l->outbound_off + w * l->outbound_stride,
                           l->outbound_stride);
    if (rc == 0)
        rc = make_writable(shm, l->inbound_off + w * l->inbound_stride,
                           l->inbound_stride);
    if (rc == 0)
        rc = make_writable(shm, l->doorbell_off,
                           l->registry_off - l->doorbell_off);
    if (rc == 0)
        rc = make_writable(shm, l->registry_off, l->registry_size);
    if (rc == 0)
        rc = make_writable(shm, l->actors_off + w * l->actors_stride,
                           l->actors_stride);
    return rc;
}

struct airsrt_worker_sup *airsrt_shm_worker_sup(const struct airsrt_shm *shm,
                                                uint32_t w)
{
    if (w >= shm->params.nworkers)
        return NULL;
    return (void *)(shm->base + shm->layout.worker_sup_off + w * WORKER_SUP);
}

struct airsrt_worker_self *airsrt_shm_worker_self(const struct airsrt_shm *shm,
                                                  uint32_t w)
{
    if (w >= shm->params.nworkers)
        return NULL;
    return (void *)(shm->base + shm->layout.worker_self_off +
                    w * shm->layout.worker_self_stride);
}

struct airsrt_doorbell *airsrt_shm_doorbell(const struct airsrt_shm *shm,
                                            uint32_t w)
{
    if (w >= shm->params.nworkers)
        return NULL;
    return (void *)(shm->base + shm->layout.doorbell_off + w * DOORBELL);
}

struct airsrt_registry_hdr *airsrt_shm_registry(const struct airsrt_shm *shm)
{
    return (void *)(shm->base + shm->layout.registry_off);
}

struct airsrt_actor_stats *airsrt_shm_actor_stats(const struct airsrt_shm *shm,
                                                  uint32_t w)
{
    if (w >= shm->params.nworkers)
        return NULL;
    return (void *)(shm->base + shm->layout.actors_off +
                    w * shm->layout.actors_stride);
}

struct airsrt_postmortem *airsrt_shm_postmortem(const struct airsrt_shm *shm,
                                                uint32_t w)
{
    if (w >= shm->params.nworkers)
        return NULL;
    return (void *)(shm->base + shm->layout.postmortem_off +
                    w * sizeof(struct airsrt_postmortem));
}

static struct airsrt_ring_cons *cons_block(const struct airsrt_shm *shm,
                                           uint32_t receiver, uint32_t index)
{
    return (void *)(shm->base + shm->layout.inbound_off +
                    receiver * shm->layout.inbound_stride + index * CONS_BLOCK);
}

int airsrt_shm_data_ring(const struct airsrt_shm *shm, uint32_t from,
                         uint32_t to, struct airsrt_ring *r)
{
    const struct airsrt_shm_layout *l = &shm->layout;
    uint8_t *prod;

    if (from >= shm->params.nworkers || to >= shm->params.nworkers)
        return -EINVAL;
    prod = shm->base + l->outbound_off + from * l->outbound_stride +
           to * l->ring_stride;
    return airsrt_ring_bind(r, (void *)prod, cons_block(shm, to, from),
                            prod + (l->ring_stride - shm->params.ring_bytes),
                            shm->params.ring_bytes, shm->params.payload_max);
}

int airsrt_shm_ctl_ring(const struct airsrt_shm *shm, uint32_t w,
                        struct airsrt_ring *r)
{
    const struct airsrt_shm_layout *l = &shm->layout;
    uint8_t *prod;

    if (w >= shm->params.nworkers)
        return -EINVAL;
    prod = shm->base + l->ctl_off + w * l->ctl_stride;
    return airsrt_ring_bind(r, (void *)prod,
                            cons_block(shm, w, shm->params.nworkers),
                            prod + (l->ctl_stride - shm->params.ctl_ring_bytes),
                            shm->params.ctl_ring_bytes, shm->params.payload_max);
}

int airsrt_shm_ctl_send(const struct airsrt_shm *shm, uint32_t w,
                        const struct airsrt_envelope *e)
{
    struct airsrt_ring r;
    int rc = airsrt_shm_ctl_ring(shm, w, &r);

    if (rc == 0)
        rc = airsrt_ctl_push(&r, e);
    if (rc == 0)
        airsrt_doorbell_ring(airsrt_shm_doorbell(shm, w));
    return rc;
}
