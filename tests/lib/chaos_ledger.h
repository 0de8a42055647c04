/*
 * tests/lib/chaos_ledger.h - the ledger of the sequenced-traffic system
 * (tests/bin/chaos_worker.c, tests/integration/test_chaos.c): a file
 * that the test creates and every worker maps shared, so that what a
 * worker recorded survives its SIGKILL.
 *
 * Streams: every producer actor sends numbered envelopes (seq 1, 2, ...)
 * by name to every consumer actor; stream = producer * nconsumers +
 * consumer. Each stream has exactly one writer per side at a time: the
 * producer actor (its incarnation of the moment) and the consumer actor.
 *
 * What the producer records, and why it is exact. A send that returns 0
 * wrote the record into the destination ring, but the worker publishes
 * it only at the end of its poll (worker/transport.c). So a seq is
 * `pending` when the send returned 0 and becomes `published` at the
 * producer's next tick, which runs in a later poll (a timer set in a
 * handler fires at the next poll at the earliest), after that flush.
 * A producer killed in between leaves (published, pending] uncertain:
 * flushed or not. Its next incarnation logs that range (struct
 * chaos_resume) and carries on after pending, never sending a seq twice;
 * the checker accepts a seq of such a range missing only if the range is
 * missing from that seq to its end (the unflushed tail of one poll).
 * Ticks send at most `window` seqs beyond what the consumer handled, so
 * rings never fill: a send that reports backpressure is counted and
 * fails the run (outboxes die with their worker, unaccounted).
 *
 * What the consumer records: a count per (stream, seq), and every
 * departure from seq == last + 1 (struct chaos_jump), flagged when it is
 * the first envelope of the stream its process handled. The README's
 * crash rules then say which departures are allowed: the first envelope
 * after a consumer restart may go back (the batch read but not released,
 * read again: at-least-once) or forward (envelopes released from the
 * ring into the dead process's mailbox died with it); nothing else.
 *
 * Memory ordering: fields are relaxed atomics, each meaningful alone;
 * a jump or resume entry is claimed with fetch_add and becomes valid
 * when is_valid is stored (release) after its fields. A writer killed
 * mid-entry leaves is_valid 0: the checker says so (it is not a loss).
 */
#ifndef AIRSRT_TESTS_CHAOS_LEDGER_H
#define AIRSRT_TESTS_CHAOS_LEDGER_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHAOS_MAGIC         0x4c53414843ull     /* "CHASL" */
#define CHAOS_ENV_LEDGER    "CHAOS_LEDGER"
#define CHAOS_PRODUCERS_MAX 16u
#define CHAOS_CONSUMERS_MAX 16u
#define CHAOS_STREAMS_MAX   (CHAOS_PRODUCERS_MAX * CHAOS_CONSUMERS_MAX)
#define CHAOS_SEQ_MAX       (1u << 18)          /* per stream */
#define CHAOS_JUMPS_MAX     8192u
#define CHAOS_RESUMES_MAX   4096u
/* Envelope types of the system. */
#define CHAOS_T_DATA        0x43480001u
#define CHAOS_T_TICK        0x43480002u

struct chaos_stream {
    /* producer side */
    _Atomic uint64_t pending;       /* last seq its send returned 0 for */
    _Atomic uint64_t published;     /* last seq surely flushed to a ring */
    _Atomic uint64_t backpressure;  /* sends that found the ring full */
    _Atomic uint64_t refused;       /* sends refused (-EHOSTDOWN ...) */
    /* consumer side */
    _Atomic uint64_t last;          /* seq of the last envelope handled */
    _Atomic uint64_t high;          /* highest seq handled */
    _Atomic uint64_t handled;       /* envelopes handled */
    _Atomic uint64_t bad;           /* payloads that failed their check */
};

struct chaos_jump {
    _Atomic uint32_t is_valid;
    uint32_t stream;
    uint32_t is_first;              /* first of the stream in its process */
    uint32_t reserved;
    uint64_t last;                  /* the stream's last seq before it */
    uint64_t seq;                   /* the seq handled */
};

struct chaos_resume {
    _Atomic uint32_t is_valid;
    uint32_t stream;
    uint64_t published;             /* (published, pending] is uncertain */
    uint64_t pending;
};

struct chaos_ledger {
    uint64_t magic;
    uint32_t nproducers;            /* producer actors, all workers */
    uint32_t nconsumers;            /* consumer actors, all workers */
    uint32_t prod_per_worker;
    uint32_t cons_per_worker;
    uint32_t window;                /* seqs in flight per stream, at most */
    uint32_t batch;                 /* seqs per stream per tick, at most */
    uint32_t tick_us;
    _Atomic uint32_t stop;          /* test: producers stop sending */
    _Atomic uint32_t stopped[CHAOS_PRODUCERS_MAX];  /* producer: acked */
    _Atomic uint64_t bad_payloads;  /* no stream could be named */
    _Atomic uint32_t njumps;        /* claimed entries, may exceed max */
    _Atomic uint32_t nresumes;
    struct chaos_stream streams[CHAOS_STREAMS_MAX];
    struct chaos_jump jumps[CHAOS_JUMPS_MAX];
    struct chaos_resume resumes[CHAOS_RESUMES_MAX];
    _Atomic uint8_t counts[CHAOS_STREAMS_MAX][CHAOS_SEQ_MAX];
};

/* The payload of CHAOS_T_DATA; check ties the fields together so that a
 * scribbled payload cannot pass. */
struct chaos_msg {
    uint32_t magic;
    uint32_t stream;
    uint64_t seq;
    uint64_t check;
};
#define CHAOS_MSG_MAGIC 0x6d736863u

static inline uint64_t chaos_msg_check(uint32_t stream, uint64_t seq)
{
    uint64_t x = ((uint64_t)stream << 40) ^ seq ^ 0x9e3779b97f4a7c15ull;

    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 29);
}

/* Maps the ledger file at path shared; NULL on failure. */
static inline struct chaos_ledger *chaos_ledger_map(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    void *p;

    if (fd < 0)
        return NULL;
    p = mmap(NULL, sizeof(struct chaos_ledger), PROT_READ | PROT_WRITE,
             MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    if (((struct chaos_ledger *)p)->magic != CHAOS_MAGIC) {
        munmap(p, sizeof(struct chaos_ledger));
        return NULL;
    }
    return p;
}

#endif
