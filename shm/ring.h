/*
 * shm/ring.h - envelope rings in shared memory.
 *
 * Two kinds share one record format and one consumer:
 *
 *  - the data ring, one per ordered pair of workers: a single producer (the
 *    sender) and a single consumer (the receiver), lock-free;
 *  - the control ring, one per worker: many producers (the supervisor, the
 *    tools) serialised by a robust mutex, one lock-free consumer.
 *
 * The consumer never takes a lock, so a producer that dies holding the
 * control-ring lock cannot stall delivery. Neither side ever writes the
 * other's words: the producer writes records, its tail and its counters;
 * the consumer writes its head and its counters. That is what lets the
 * protection map give each side only its own pages, and it is why each side
 * repairs only its own words when it finds the other's scribbled.
 *
 * One writer stands outside that rule on purpose: airsrt-inject
 * corrupt-ring, running as the owner, scribbles over unread records of a
 * data ring while its consumer is stopped (SIGSTOP, seen in /proc before
 * it writes). Its producer may still be appending past the tail; the
 * scribble covers only bytes below the tail it read. What it leaves is
 * what any stray write leaves: records the consumer finds corrupt,
 * counts and skips (the reader's repair rules below).
 *
 * Records: an 8-byte header (size, tag) then the body, 8-byte aligned. size
 * counts the whole record. A record never straddles the end of the buffer:
 * when the next one does not fit, the producer fills the rest with a
 * padding record and starts again at offset 0.
 *
 * Positions (head, tail) are byte counts since the ring was created; they
 * never wrap (a healthy ring stays below 2^63 bytes), and
 * offset = position & (capacity - 1).
 * Invariant: head <= tail <= head + capacity, both multiples of 8. Either
 * word found breaking it (scribbled, or left by a crash) is repaired by
 * the rules in ring.c; until then the producer sees a full ring and the
 * consumer an empty one, never an out-of-bounds record.
 *
 * Publication: the producer writes whole records past tail, then stores
 * tail with release; the consumer loads tail with acquire, so every byte
 * below tail is whole when it reads it. The consumer stores head with
 * release once it is done with the bytes below head; the producer loads
 * head with acquire before it overwrites them.
 *
 * What a crash leaves behind: a producer that dies mid-record leaves bytes
 * past tail that nobody reads; its next incarnation (or the next locker of
 * a control ring) writes over them. A consumer that dies mid-batch leaves
 * head at its last release: its next incarnation reads again what it had
 * read but not released, so a batch may be seen twice (at-least-once
 * between read and release, never lost, never reordered).
 */
#ifndef AIRSRT_SHM_RING_H
#define AIRSRT_SHM_RING_H

#include <pthread.h>
#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "airsrt/envelope.h"

#define AIRSRT_RING_MIN_CAPACITY 4096u
#define AIRSRT_RING_MAX_CAPACITY (1u << 30)

/* Record header, at an 8-byte aligned offset in the ring buffer. */
struct airsrt_ring_rec {
    uint32_t size;   /* whole record, header included, multiple of 8 */
    uint32_t tag;    /* AIRSRT_REC_MAGIC | kind */
};
#define AIRSRT_REC_MAGIC      0xA15E7700u
#define AIRSRT_REC_PAD        (AIRSRT_REC_MAGIC | 0x01u)
#define AIRSRT_REC_ENVELOPE   (AIRSRT_REC_MAGIC | 0x02u)

/* Bytes a record holding an envelope with this payload takes. */
static inline uint64_t airsrt_ring_record_size(uint32_t payload_len)
{
    uint64_t n = sizeof(struct airsrt_ring_rec) + AIRSRT_ENVELOPE_HDR_SIZE +
                 (uint64_t)payload_len;
    return (n + 7) & ~(uint64_t)7;
}

/* Producer-side counters, written by the producer (under the lock for a
 * control ring), read by anyone. Updated once per publication. */
struct airsrt_ring_prod_stats {
    _Atomic uint64_t envelopes;     /* published */
    _Atomic uint64_t bytes;         /* published, records included */
    _Atomic uint64_t full_events;   /* writes refused for lack of space */
    _Atomic uint64_t recovered;     /* locks taken over from a dead owner,
                                       or a tail repaired */
};

/* Consumer-side counters, written by the consumer only. */
struct airsrt_ring_cons_stats {
    _Atomic uint64_t envelopes;     /* read */
    _Atomic uint64_t bytes;         /* read, records included */
    _Atomic uint64_t corruptions;   /* corrupt records or positions found */
    _Atomic uint64_t lost_bytes;    /* skipped by corruption resets */
};

/*
 * Producer block: first page of every data ring and control ring, in the
 * producer's pages. The buffer follows it at the next page.
 *
 *  off  field  written by                    read by    ordering
 *    0  lock   control-ring producers only   -          robust, pshared
 *   64  tail   producer (under lock if ctl)  consumer   release after records
 *  128  stats  producer                      anyone     relaxed
 */
struct airsrt_ring_prod {
    pthread_mutex_t lock;
    alignas(64) _Atomic uint64_t tail;
    alignas(64) struct airsrt_ring_prod_stats stats;
};
static_assert(sizeof(pthread_mutex_t) <= 64, "ring ABI: lock fits a line");

/*
 * Consumer block: 128 bytes in the receiver's inbound-heads pages.
 *
 *  off  field  written by  read by     ordering
 *    0  head   consumer    producers   release after the bytes are done
 *   64  stats  consumer    anyone      relaxed
 */
struct airsrt_ring_cons {
    alignas(64) _Atomic uint64_t head;
    alignas(64) struct airsrt_ring_cons_stats stats;
};
static_assert(sizeof(struct airsrt_ring_cons) == 128, "ring ABI");

/*
 * A process's handle on one ring: pointers into the segment plus the local
 * positions of whichever role this process plays. Not shared; one role per
 * handle (a process that both writes and reads a ring uses two handles).
 */
struct airsrt_ring {
    struct airsrt_ring_prod *prod;
    struct airsrt_ring_cons *cons;
    uint8_t *buf;
    uint64_t capacity;          /* power of two */
    uint32_t payload_max;
    /* producer */
    uint64_t tail;              /* next record goes here; >= published */
    uint64_t published;         /* last tail stored to prod->tail */
    uint64_t head_seen;         /* last head loaded; space is below it */
    uint64_t unpub_envelopes;
    /* consumer */
    uint64_t read;              /* next record to read */
    uint64_t released;          /* last head stored to cons->head */
    uint64_t tail_seen;         /* last valid tail loaded */
    uint64_t read_envelopes;    /* since the last release */
    uint64_t read_bytes;
    bool is_quarantined;        /* tail found implausible, already counted */
};

/* One envelope handed out by airsrt_ring_read(). env points into the ring
 * and stays valid until the consumer releases past end. payload_len is the
 * validated length: bound reads by it, never by env->payload_len, which a
 * misbehaving producer could change after validation. */
struct airsrt_ring_view {
    const struct airsrt_envelope *env;
    uint32_t payload_len;
    uint64_t end;               /* position just past this record */
};

/*
 * Binds r to a ring's blocks and buffer. capacity must be a power of two
 * between AIRSRT_RING_MIN_CAPACITY and AIRSRT_RING_MAX_CAPACITY and hold at
 * least two records of payload_max. -EINVAL otherwise.
 */
int airsrt_ring_bind(struct airsrt_ring *r, struct airsrt_ring_prod *prod,
                     struct airsrt_ring_cons *cons, uint8_t *buf,
                     uint64_t capacity, uint32_t payload_max);

/* Largest payload_max a ring of this capacity can carry. */
uint32_t airsrt_ring_payload_limit(uint64_t capacity);

/* ---- data ring producer (one process at a time) ---- */

/*
 * Takes the producer role: resumes at the shared tail. A tail that is
 * implausible against head (scribbled) is reset to head and counted as
 * recovered.
 */
void airsrt_ring_producer_attach(struct airsrt_ring *r);

/*
 * Reserves room for an envelope with payload_len bytes and returns where
 * to build it; it is invisible until airsrt_ring_commit() then a publish.
 * -EAGAIN: the ring is full (counted, never logged). -EMSGSIZE: payload_len
 * exceeds payload_max. Only one reservation may be open at a time.
 */
int airsrt_ring_reserve(struct airsrt_ring *r, uint32_t payload_len,
                        struct airsrt_envelope **out);

/* Ends the open reservation; its payload_len must not have grown. */
void airsrt_ring_commit(struct airsrt_ring *r);

/* Makes every committed record visible with one release store. Returns
 * true if anything new was published (the caller then rings the
 * receiver's doorbell). */
bool airsrt_ring_publish(struct airsrt_ring *r);

/* Reserve, copy, commit; not yet published. 0, -EAGAIN or -EMSGSIZE. */
int airsrt_ring_write(struct airsrt_ring *r, const struct airsrt_envelope *e);

/* Writes envelopes in order until one does not fit, then publishes them
 * all at once. Returns how many were written (0 if the ring was full), or
 * -EMSGSIZE if envs[0] is too big. */
ssize_t airsrt_ring_write_batch(struct airsrt_ring *r,
                                const struct airsrt_envelope *const *envs,
                                size_t n);

/* Write and publish one envelope. 0, -EAGAIN or -EMSGSIZE. */
int airsrt_ring_push(struct airsrt_ring *r, const struct airsrt_envelope *e);

/*
 * As airsrt_ring_push(), but waits up to timeout_ns for room (spinning
 * briefly, then sleeping in growing steps up to 1 ms). Publishes whatever
 * was committed before it waits. Returns -EAGAIN if still full at the
 * deadline: it never blocks forever and never overwrites.
 */
int airsrt_ring_push_timeout(struct airsrt_ring *r,
                             const struct airsrt_envelope *e,
                             uint64_t timeout_ns);

/* Bytes queued in r (published and not yet released) as a snapshot for
 * tools: relaxed loads of both words, so tail and head may be from
 * different moments; clamped to 0 .. capacity, since either word may be
 * scribbled. Any process, either role or none. */
uint64_t airsrt_ring_used(const struct airsrt_ring *r);

/* ---- control ring producers (any number of processes) ---- */

/* Locks, writes, publishes, unlocks. 0, -EAGAIN, -EMSGSIZE, or -errno
 * from the lock. A dead previous owner is recovered and counted. */
int airsrt_ctl_push(struct airsrt_ring *r, const struct airsrt_envelope *e);

/* ---- consumer (one process at a time, both kinds) ---- */

/* Takes the consumer role: resumes at the shared head. */
void airsrt_ring_consumer_attach(struct airsrt_ring *r);

/*
 * Reads up to max envelopes after the read position, validating each.
 * Returns how many were read (0: nothing new), or -EBADMSG when the next
 * record or the tail is corrupt: the corruption is counted and the read
 * position skips to the producer's tail (the lost bytes counted too), so
 * the next call goes on with what the producer writes next. The records
 * stay in place until released.
 */
ssize_t airsrt_ring_read(struct airsrt_ring *r, struct airsrt_ring_view *v,
                         size_t max);

/* Releases everything below pos (a view's end, at most the read
 * position) to the producer with one release store. */
void airsrt_ring_release(struct airsrt_ring *r, uint64_t pos);

/* Releases everything read so far. */
void airsrt_ring_release_all(struct airsrt_ring *r);

/* True if a record may be waiting past the read position (one acquire
 * load); for doorbell re-checks. */
bool airsrt_ring_has_data(const struct airsrt_ring *r);

#endif
