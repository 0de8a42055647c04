/*
 * shm/ring.c - data rings (SPSC, lock-free) and control rings (MPSC under a
 * robust mutex), sharing one record format and one consumer. The layout,
 * the orderings and what a crash leaves behind are documented in ring.h.
 *
 * The consumer must never trust the producer's bytes: every record and
 * every position it loads is checked before use, and no input can make it
 * crash or loop. A bad record or tail is counted and skipped, never
 * followed.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "shm/cpu.h"
#include "shm/ring.h"
#include "shm/ring_impl.h"
#include "shm/robust.h"
#include "shm/stat.h"

#define REC_HDR ((uint64_t)sizeof(struct airsrt_ring_rec))

/*
 * Positions never wrap: a healthy ring stays below POS_MAX (2^63 bytes,
 * 29 years at 10 GB/s). A repair only ever adopts a position below
 * POS_ADOPT, so a repaired ring has that much headroom again and garbage
 * near 2^64 cannot make positions wrap.
 */
#define POS_MAX   (1ull << 63)
#define POS_ADOPT (1ull << 62)

/* head and tail that can belong to a healthy ring. */
static inline bool positions_plausible(uint64_t head, uint64_t tail,
                                       uint64_t capacity)
{
    return ((head | tail) & 7) == 0 && tail < POS_MAX && head <= tail &&
           tail - head <= capacity;
}

/* A word the other side may adopt when the two disagree. */
static inline bool is_adoptable(uint64_t pos)
{
    return (pos & 7) == 0 && pos < POS_ADOPT;
}

uint32_t airsrt_ring_payload_limit(uint64_t capacity)
{
    /* Two records must fit so that a record and the padding before it
     * always fit in an empty ring: padding is only written when it is
     * shorter than the record after it. */
    uint64_t limit = capacity / 2 - REC_HDR - AIRSRT_ENVELOPE_HDR_SIZE;

    return limit > AIRSRT_PAYLOAD_MAX_LIMIT ? AIRSRT_PAYLOAD_MAX_LIMIT
                                            : (uint32_t)(limit & ~7ull);
}

int airsrt_ring_bind(struct airsrt_ring *r, struct airsrt_ring_prod *prod,
                     struct airsrt_ring_cons *cons, uint8_t *buf,
                     uint64_t capacity, uint32_t payload_max)
{
    if (capacity < AIRSRT_RING_MIN_CAPACITY ||
        capacity > AIRSRT_RING_MAX_CAPACITY ||
        (capacity & (capacity - 1)) != 0 ||
        payload_max > airsrt_ring_payload_limit(capacity))
        return -EINVAL;
    memset(r, 0, sizeof(*r));
    r->prod = prod;
    r->cons = cons;
    r->buf = buf;
    r->capacity = capacity;
    r->payload_max = payload_max;
    return 0;
}

/* ---- producer ---- */

/*
 * Repair rules when head and tail disagree (scribbled, or left torn by a
 * crash). Each side writes only its own word, and both must converge:
 *  - the producer attaching adopts head if it is adoptable (the consumer
 *    owns where reading resumes), else keeps its own tail if that is,
 *    else starts at 0;
 *  - the consumer attaching adopts tail, else keeps its head, else 0;
 *  - a live consumer restores its own word when it finds it changed, and
 *    stays quarantined while the tail is implausible, waiting for the
 *    producer to adopt its head; but a head the producer would never
 *    adopt (a healthy ring passes POS_ADOPT soon after a repair adopted
 *    a word just below it) cannot be waited on: then it restarts as an
 *    attaching consumer does;
 *  - a live producer restores its own word too, and restarts at head when
 *    the two disagree and head is adoptable, else waits (full ring).
 * Whichever side attaches second then finds a word to adopt, a quarantined
 * consumer's read position (so its head) is always adoptable, and local
 * positions are always 8-aligned, so no write leaves the buffer.
 */
void airsrt_ring_producer_attach(struct airsrt_ring *r)
{
    /* We are the only writer of tail now, so a relaxed load is ours. */
    uint64_t tail = atomic_load_explicit(&r->prod->tail, memory_order_relaxed);
    /* Pairs with the release in airsrt_ring_release(). */
    uint64_t head = atomic_load_explicit(&r->cons->head, memory_order_acquire);

    if (!positions_plausible(head, tail, r->capacity)) {
        /* Nothing past a bad head can be trusted: start over there, and
         * the consumer's next read sees an empty ring. */
        tail = is_adoptable(head) ? head : is_adoptable(tail) ? tail : 0;
        atomic_store_explicit(&r->prod->tail, tail, memory_order_release);
        airsrt__stat_add(&r->prod->stats.recovered, 1);
    }
    r->tail = r->published = tail;
    /* An implausible head reads as a full ring: ring_claim() then reloads
     * and re-checks it before every write. */
    r->head_seen = positions_plausible(head, tail, r->capacity) ?
                   head : tail - r->capacity;
    r->unpub_envelopes = 0;
}

/*
 * Slow path of ring_claim(): loads the consumer's head. Also mends our own
 * tail if someone scribbled it (a quarantined consumer cannot make room
 * until we do), and restarts the ring at head when head and our tail
 * disagree (repair rules above; what we had past head is lost, counted).
 * Returns false while head is not even adoptable: the ring reads as full
 * until the consumer repairs it, so no unread record is overwritten.
 */
static bool ring_reload_head(struct airsrt_ring *r)
{
    /* Pairs with the release in airsrt_ring_release(): the consumer is
     * done with every byte below head. */
    uint64_t head = atomic_load_explicit(&r->cons->head, memory_order_acquire);

    if (atomic_load_explicit(&r->prod->tail, memory_order_relaxed) !=
        r->published) {
        atomic_store_explicit(&r->prod->tail, r->published,
                              memory_order_release);
        airsrt__stat_add(&r->prod->stats.recovered, 1);
    }
    if (!positions_plausible(head, r->published, r->capacity)) {
        if (!is_adoptable(head))
            return false;
        r->tail = r->published = head;
        r->unpub_envelopes = 0;
        atomic_store_explicit(&r->prod->tail, head, memory_order_release);
        airsrt__stat_add(&r->prod->stats.recovered, 1);
    }
    r->head_seen = head;
    return true;
}

/*
 * Finds room for a record of payload_len after r->tail, writing the padding
 * record first if it must wrap. Does not count a full ring: callers that
 * retry count once.
 */
static int ring_claim(struct airsrt_ring *r, uint32_t payload_len,
                      struct airsrt_envelope **out)
{
    uint64_t size = airsrt_ring_record_size(payload_len), off, pad;
    struct airsrt_ring_rec *rec;

    if (payload_len > r->payload_max)
        return -EMSGSIZE;
    for (int reloaded = 0;; reloaded++) {
        off = r->tail & (r->capacity - 1);
        pad = r->capacity - off < size ? r->capacity - off : 0;
        if (r->tail + pad + size - r->head_seen <= r->capacity)
            break;
        if (reloaded || !ring_reload_head(r))
            return -EAGAIN;
    }
    if (pad) {
        rec = (struct airsrt_ring_rec *)(r->buf + off);
        rec->size = (uint32_t)pad;
        rec->tag = AIRSRT_REC_PAD;
        r->tail += pad;
    }
    rec = (struct airsrt_ring_rec *)(r->buf + (r->tail & (r->capacity - 1)));
    rec->size = (uint32_t)size;
    rec->tag = AIRSRT_REC_ENVELOPE;
    *out = (struct airsrt_envelope *)(rec + 1);
    (*out)->payload_len = payload_len;
    return 0;
}

int airsrt_ring_reserve(struct airsrt_ring *r, uint32_t payload_len,
                        struct airsrt_envelope **out)
{
    int rc = ring_claim(r, payload_len, out);

    if (rc == -EAGAIN)
        airsrt__stat_add(&r->prod->stats.full_events, 1);
    return rc;
}

void airsrt_ring_commit(struct airsrt_ring *r)
{
    const struct airsrt_ring_rec *rec =
        (const void *)(r->buf + (r->tail & (r->capacity - 1)));

    r->tail += rec->size;
    r->unpub_envelopes++;
}

bool airsrt_ring_publish(struct airsrt_ring *r)
{
    if (r->tail == r->published)
        return false;
    /* Pairs with the acquire in ring_load_tail(): every record below the
     * new tail is whole. */
    atomic_store_explicit(&r->prod->tail, r->tail, memory_order_release);
    airsrt__stat_add(&r->prod->stats.envelopes, r->unpub_envelopes);
    airsrt__stat_add(&r->prod->stats.bytes, r->tail - r->published);
    r->published = r->tail;
    r->unpub_envelopes = 0;
    return true;
}

/* Copies e into the reservation dst made for len bytes, and commits. */
static void ring_fill(struct airsrt_ring *r, struct airsrt_envelope *dst,
                      const struct airsrt_envelope *e, uint32_t len)
{
    memcpy(dst, e, airsrt_envelope_size(len));
    dst->payload_len = len;
    airsrt_ring_commit(r);
}

/* Callers read e->payload_len once: e may sit in another ring, whose
 * writer could change it between the reservation and the copy. */
int airsrt_ring_write(struct airsrt_ring *r, const struct airsrt_envelope *e)
{
    uint32_t len = AIRSRT_READ_ONCE(e->payload_len);
    struct airsrt_envelope *dst;
    int rc = airsrt_ring_reserve(r, len, &dst);

    if (rc == 0)
        ring_fill(r, dst, e, len);
    return rc;
}

ssize_t airsrt_ring_write_batch(struct airsrt_ring *r,
                                const struct airsrt_envelope *const *envs,
                                size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++) {
        rc = airsrt_ring_write(r, envs[i]);
        if (rc < 0)
            break;
    }
    airsrt_ring_publish(r);
    if (i == 0 && rc == -EMSGSIZE)
        return rc;
    return (ssize_t)i;
}

int airsrt_ring_push(struct airsrt_ring *r, const struct airsrt_envelope *e)
{
    int rc = airsrt_ring_write(r, e);

    if (rc == 0)
        airsrt_ring_publish(r);
    return rc;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ns };

    nanosleep(&ts, NULL);
}

int airsrt_ring_push_timeout(struct airsrt_ring *r,
                             const struct airsrt_envelope *e,
                             uint64_t timeout_ns)
{
    uint64_t deadline = airsrt_now_ns() + timeout_ns, nap = 1000;
    uint32_t len = AIRSRT_READ_ONCE(e->payload_len);
    struct airsrt_envelope *dst;
    int rc;

    /* The consumer cannot make room while it cannot see our records. */
    airsrt_ring_publish(r);
    for (unsigned round = 0;; round++) {
        rc = ring_claim(r, len, &dst);
        if (rc != -EAGAIN)
            break;
        if (round == 0)
            airsrt__stat_add(&r->prod->stats.full_events, 1);
        if (airsrt_now_ns() >= deadline)
            return -EAGAIN;
        if (round < 64) {
            airsrt__cpu_relax();
        } else {
            sleep_ns(nap);
            nap = nap * 2 > 1000000 ? 1000000 : nap * 2;
        }
    }
    if (rc < 0)
        return rc;
    ring_fill(r, dst, e, len);
    airsrt_ring_publish(r);
    return 0;
}

/* ---- control ring producers ---- */

int airsrt__ctl_lock(struct airsrt_ring *r)
{
    bool owner_died;
    int rc = airsrt_robust_lock(&r->prod->lock, &owner_died);

    if (rc < 0)
        return rc;
    if (owner_died) {
        /* The owner died holding the lock, maybe mid-record. tail moves
         * only after a record is whole, so its bytes past tail are just
         * overwritten by us. */
        airsrt__stat_add(&r->prod->stats.recovered, 1);
    }
    /* The lock's acquire makes the previous holder's tail visible. */
    airsrt_ring_producer_attach(r);
    return 0;
}

void airsrt__ctl_unlock(struct airsrt_ring *r)
{
    airsrt_robust_unlock(&r->prod->lock);
}

int airsrt_ctl_push(struct airsrt_ring *r, const struct airsrt_envelope *e)
{
    int rc = airsrt__ctl_lock(r);

    if (rc < 0)
        return rc;
    rc = airsrt_ring_push(r, e);
    airsrt__ctl_unlock(r);
    return rc;
}

/* ---- consumer ---- */

/* Moves every consumer position to head, shared word included. The word
 * is stored only if it changes, so attaching a healthy ring writes nothing
 * to shared memory (we are its only writer: relaxed is ours). */
static void consumer_resume_at(struct airsrt_ring *r, uint64_t head)
{
    if (atomic_load_explicit(&r->cons->head, memory_order_relaxed) != head)
        atomic_store_explicit(&r->cons->head, head, memory_order_release);
    r->read = r->released = r->tail_seen = head;
}

void airsrt_ring_consumer_attach(struct airsrt_ring *r)
{
    /* We are the only writer of head now. */
    uint64_t head = atomic_load_explicit(&r->cons->head, memory_order_relaxed);
    /* Pairs with the release in airsrt_ring_publish(). */
    uint64_t tail = atomic_load_explicit(&r->prod->tail, memory_order_acquire);

    if (!positions_plausible(head, tail, r->capacity)) {
        /* Whatever lies between a bad head and tail cannot be told from
         * garbage. Resume at tail (see the repair rules above). */
        head = is_adoptable(tail) ? tail : is_adoptable(head) ? head : 0;
        airsrt__stat_add(&r->cons->stats.corruptions, 1);
    }
    consumer_resume_at(r, head);
    r->read_envelopes = r->read_bytes = 0;
    r->is_quarantined = false;
}

bool airsrt_ring_has_data(const struct airsrt_ring *r)
{
    /* Pairs with the release in airsrt_ring_publish(). */
    uint64_t tail = atomic_load_explicit(&r->prod->tail, memory_order_acquire);

    return tail > r->read &&
           positions_plausible(r->released, tail, r->capacity);
}

/* Our own head word is only ever written by us; if it no longer says what
 * we stored, someone scribbled on it and the producer may misjudge space. */
static void repair_head(struct airsrt_ring *r)
{
    if (atomic_load_explicit(&r->cons->head, memory_order_relaxed) !=
        r->released) {
        atomic_store_explicit(&r->cons->head, r->released,
                              memory_order_release);
        airsrt__stat_add(&r->cons->stats.corruptions, 1);
    }
}

/*
 * The tail is implausible or behind our read position. The producer mends
 * the ring by restarting at our head, which it does only if that head is
 * adoptable: a healthy ring that went past POS_ADOPT must restart itself,
 * at tail or 0 as on attach, or each side waits for the other forever.
 * read never moves while quarantined and released <= read, so once read
 * is adoptable, every head we may publish until the tail is sane is too.
 */
static void consumer_quarantine_positions(struct airsrt_ring *r,
                                          uint64_t tail)
{
    if (is_adoptable(r->read)) {
        /* The producer needs a sane head to repair at all. */
        repair_head(r);
        return;
    }
    consumer_resume_at(r, is_adoptable(tail) ? tail : 0);
}

/*
 * Loads the producer's tail. Returns 1 if it moved past our read position,
 * 0 if there is nothing new, -EBADMSG the first time it is implausible
 * (the ring stays quarantined, and silent, until the producer repairs it).
 */
static int ring_load_tail(struct airsrt_ring *r)
{
    /* Pairs with the release in airsrt_ring_publish(): every record below
     * tail is whole. */
    uint64_t tail = atomic_load_explicit(&r->prod->tail, memory_order_acquire);

    if (!positions_plausible(r->released, tail, r->capacity) ||
        tail < r->read) {
        consumer_quarantine_positions(r, tail);
        if (r->is_quarantined)
            return 0;
        r->is_quarantined = true;
        airsrt__stat_add(&r->cons->stats.corruptions, 1);
        return -EBADMSG;
    }
    r->is_quarantined = false;
    r->tail_seen = tail;
    if (tail == r->read) {
        repair_head(r);
        return 0;
    }
    return 1;
}

/* Checks the record at the read position; returns its size, or 0 if it is
 * corrupt. A valid envelope record fills *v. */
static uint64_t check_record(const struct airsrt_ring *r,
                             struct airsrt_ring_view *v)
{
    uint64_t off = r->read & (r->capacity - 1);
    const struct airsrt_ring_rec *rec = (const void *)(r->buf + off);
    uint64_t size = AIRSRT_READ_ONCE(rec->size);
    uint32_t tag = AIRSRT_READ_ONCE(rec->tag);
    int len;

    if (size < REC_HDR || (size & 7) || size > r->tail_seen - r->read ||
        size > r->capacity - off)
        return 0;
    if (tag == AIRSRT_REC_PAD) {
        /* Padding only ever fills the buffer up to its end. */
        v->env = NULL;
        return off + size == r->capacity ? size : 0;
    }
    if (tag != AIRSRT_REC_ENVELOPE)
        return 0;
    len = airsrt_envelope_validate((const void *)(rec + 1), size - REC_HDR,
                                   r->payload_max);
    if (len < 0 || airsrt_ring_record_size((uint32_t)len) != size)
        return 0;
    v->env = (const void *)(rec + 1);
    v->payload_len = (uint32_t)len;
    v->end = r->read + size;
    return size;
}

ssize_t airsrt_ring_read(struct airsrt_ring *r, struct airsrt_ring_view *v,
                         size_t max)
{
    size_t n = 0;
    uint64_t size;
    int rc;

    if (r->read == r->tail_seen || r->is_quarantined) {
        rc = ring_load_tail(r);
        if (rc <= 0)
            return rc;
    }
    while (n < max && r->read < r->tail_seen) {
        size = check_record(r, &v[n]);
        if (size == 0)
            goto corrupt;
        r->read += size;
        r->read_bytes += size;
        if (v[n].env != NULL) {
            r->read_envelopes++;
            n++;
        }
    }
    return (ssize_t)n;
corrupt:
    /* Hand out the good records first; the next call reports this one. */
    if (n > 0)
        return (ssize_t)n;
    airsrt__stat_add(&r->cons->stats.corruptions, 1);
    airsrt__stat_add(&r->cons->stats.lost_bytes, r->tail_seen - r->read);
    r->read = r->tail_seen;
    return -EBADMSG;
}

void airsrt_ring_release(struct airsrt_ring *r, uint64_t pos)
{
    if (pos > r->read || pos <= r->released)
        return;
    /* Pairs with the acquire in ring_claim(): the producer may overwrite
     * everything below head as soon as it sees it. */
    atomic_store_explicit(&r->cons->head, pos, memory_order_release);
    r->released = pos;
    airsrt__stat_add(&r->cons->stats.envelopes, r->read_envelopes);
    airsrt__stat_add(&r->cons->stats.bytes, r->read_bytes);
    r->read_envelopes = r->read_bytes = 0;
}

void airsrt_ring_release_all(struct airsrt_ring *r)
{
    airsrt_ring_release(r, r->read);
}

uint64_t airsrt_ring_used(const struct airsrt_ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->prod->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->cons->head, memory_order_relaxed);

    if (tail < head)
        return 0;
    return tail - head > r->capacity ? r->capacity : tail - head;
}
