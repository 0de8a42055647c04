/*
 * tests/lib/chaos_check.h - the test's side of the chaos ledger
 * (chaos_ledger.h): creating it, and judging it once the traffic has
 * stopped and drained.
 *
 * The judgement follows the runtime's documented crash rules (README
 * "What a crash costs, and what it does not"): per stream, every seq
 * that reached a ring is handled, in order, except
 *   - after a consumer's restart, the first envelope of a stream may go
 *     back (the batch read but not released is read again: duplicates,
 *     at most AIRSRT_READ_BATCH) or forward (envelopes released into the
 *     dead process's mailbox died with it: "mailbox", at most window);
 *   - the unflushed tail of a killed producer's last poll never reached
 *     a ring ("unflushed"): it is not sent, so not lost;
 *   - on a stream whose ring was corrupted on purpose, seqs may be
 *     missing ("corrupt_lost").
 * Anything else is lost, an unexplained duplicate or an order violation.
 */
#ifndef AIRSRT_TESTS_CHAOS_CHECK_H
#define AIRSRT_TESTS_CHAOS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/lib/chaos_ledger.h"

struct chaos_params {
    uint32_t prod_workers, prod_per_worker;
    uint32_t cons_workers, cons_per_worker;
    uint32_t window, batch, tick_us;
};

struct chaos_figures {
    uint64_t sent;              /* seqs that reached a ring */
    uint64_t received;          /* envelopes handled, duplicates included */
    uint64_t lost;              /* in a ring, never handled, no excuse */
    uint64_t duplicated;        /* handled more than once (extra copies) */
    uint64_t dup_unexplained;   /* of those, outside a redelivered batch */
    uint64_t mailbox;           /* died in a killed consumer's mailbox */
    uint64_t unflushed;         /* died in a killed producer's last poll */
    uint64_t corrupt_lost;      /* missing on a deliberately corrupted ring */
    uint64_t order_violations;  /* departures from order with no excuse */
    uint64_t bad;               /* payloads that failed their check */
    uint64_t backpressure;      /* sends that found a ring full */
    uint64_t refused;           /* sends refused (name had no holder) */
    uint64_t max_redelivered;   /* largest batch read twice, per stream */
    uint64_t max_mailbox;       /* largest mailbox loss, per stream */
    uint32_t torn;              /* ledger entries a kill left half-made */
};

void chaos_ledger_unmap(struct chaos_ledger *L);

/* Sums of handled envelopes over the streams whose producer is in
 * producer worker pw (cons false) or whose consumer is in consumer worker
 * cw (cons true): "is that worker still serving". */
uint64_t chaos_worker_progress(const struct chaos_ledger *L, bool cons,
                               uint32_t worker);

/* True once every producer acked the stop and every stream's consumer
 * handled the last seq sent. */
bool chaos_is_drained(const struct chaos_ledger *L);

/* Judges the ledger (above) into *f: 0, or -EINVAL when it is not sane
 * (chaos_ledger_is_sane(); the functions above ask for a sane one).
 * is_corrupt[stream] marks streams whose ring was corrupted on purpose
 * (CHAOS_STREAMS_MAX entries); NULL for none. */
int chaos_judge(const struct chaos_ledger *L, const bool *is_corrupt,
                struct chaos_figures *f);

/* One line of figures, for the test's stderr. */
void chaos_format(const struct chaos_figures *f, char *out, size_t len);

#endif
