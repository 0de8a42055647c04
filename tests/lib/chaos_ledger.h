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

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "airsrt/envelope.h"

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

/* True if L's header is one the code can index by (magic, counts within
 * the maxima, at least one actor per worker: chaos_worker.c divides by
 * cons_per_worker). Every other function here asks for a sane one. */
static inline bool chaos_ledger_is_sane(const struct chaos_ledger *L)
{
    return L->magic == CHAOS_MAGIC && L->nproducers >= 1 &&
           L->nproducers <= CHAOS_PRODUCERS_MAX && L->nconsumers >= 1 &&
           L->nconsumers <= CHAOS_CONSUMERS_MAX && L->prod_per_worker >= 1 &&
           L->cons_per_worker >= 1;
}

/* Stream number of (producer, consumer), below CHAOS_STREAMS_MAX in a
 * sane ledger. */
static inline uint32_t chaos_stream_of(const struct chaos_ledger *L,
                                       uint32_t producer, uint32_t consumer)
{
    return producer * L->nconsumers + consumer;
}

static inline uint64_t chaos_msg_check(uint32_t stream, uint64_t seq)
{
    uint64_t x = ((uint64_t)stream << 40) ^ seq ^ 0x9e3779b97f4a7c15ull;

    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 29);
}

/* Parses a spawn argument "W.K" into the actor's id W * per + K, below
 * max; -1 when malformed. */
static inline int chaos_parse_id(const void *arg, size_t len, uint32_t per,
                                 uint32_t max)
{
    char text[32], *dot, *end;
    unsigned long w, k;

    if (arg == NULL || len == 0 || len >= sizeof(text) || per == 0)
        return -1;
    memcpy(text, arg, len);
    text[len] = '\0';
    dot = strchr(text, '.');
    if (dot == NULL || dot == text || dot[1] < '0' || dot[1] > '9' ||
        text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    w = strtoul(text, &end, 10);
    if (end != dot || errno != 0 || w >= max)
        return -1;
    k = strtoul(dot + 1, &end, 10);
    if (*end != '\0' || errno != 0 || k >= per || w * per + k >= max)
        return -1;
    return (int)(w * per + k);
}

/* The stream of env if it is a well-formed CHAOS_T_DATA envelope for
 * consumer c of ledger L (its payload came through shared memory, and
 * is checked whole), its seq (1 .. CHAOS_SEQ_MAX - 1) in *seq; -1
 * otherwise, *seq untouched. */
static inline int chaos_msg_stream(const struct chaos_ledger *L, uint32_t c,
                                   const struct airsrt_envelope *env,
                                   uint64_t *seq)
{
    struct chaos_msg m;

    if (env->type != CHAOS_T_DATA || env->payload_len != sizeof(m))
        return -1;
    memcpy(&m, env->payload, sizeof(m));
    if (m.magic != CHAOS_MSG_MAGIC || L->nconsumers == 0 ||
        m.stream >= L->nproducers * L->nconsumers ||
        m.stream % L->nconsumers != c || m.seq == 0 ||
        m.seq >= CHAOS_SEQ_MAX || m.check != chaos_msg_check(m.stream, m.seq))
        return -1;
    *seq = m.seq;
    return (int)m.stream;
}

/* Producer: (published, pending] of stream was left uncertain by a
 * killed predecessor. */
static inline void chaos_log_resume(struct chaos_ledger *L, uint32_t stream,
                                    uint64_t published, uint64_t pending)
{
    uint32_t i = atomic_fetch_add(&L->nresumes, 1);
    struct chaos_resume *r;

    if (i >= CHAOS_RESUMES_MAX)
        return;
    r = &L->resumes[i];
    r->stream = stream;
    r->published = published;
    r->pending = pending;
    atomic_store_explicit(&r->is_valid, 1, memory_order_release);
}

/* Consumer: handled seq (1 .. CHAOS_SEQ_MAX - 1) of stream; is_first if
 * it is the first of the stream this process handled. */
static inline void chaos_record(struct chaos_ledger *L, uint32_t stream,
                                uint64_t seq, bool is_first)
{
    struct chaos_stream *s = &L->streams[stream];
    uint64_t last = atomic_load(&s->last);

    atomic_fetch_add(&L->counts[stream][seq], 1);
    if (seq != last + 1) {
        uint32_t i = atomic_fetch_add(&L->njumps, 1);

        if (i < CHAOS_JUMPS_MAX) {
            struct chaos_jump *j = &L->jumps[i];

            j->stream = stream;
            j->is_first = is_first;
            j->last = last;
            j->seq = seq;
            atomic_store_explicit(&j->is_valid, 1, memory_order_release);
        }
    }
    atomic_store(&s->last, seq);
    if (seq > atomic_load(&s->high))
        atomic_store(&s->high, seq);
    atomic_fetch_add(&s->handled, 1);
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
    /* Written by the test before any worker starts; checked anyway,
     * since every index and divisor is taken from it. */
    if (!chaos_ledger_is_sane(p)) {
        munmap(p, sizeof(struct chaos_ledger));
        return NULL;
    }
    return p;
}

#endif
