/*
 * tests/lib/chaos_check.c - see chaos_check.h. Reads the ledger only
 * after the traffic stopped, but every field through its atomic: the
 * workers may still be shutting down. The ledger is bytes that other
 * processes wrote: every count and index in it is checked before use
 * (fuzz/fuzz_chaos_ledger.c). No Criterion here, so that the fuzz
 * harness can compile this file in whole.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/lib/chaos_check.h"

void chaos_ledger_unmap(struct chaos_ledger *L)
{
    if (L != NULL)
        munmap(L, sizeof(*L));
}

uint64_t chaos_worker_progress(const struct chaos_ledger *L, bool cons,
                               uint32_t worker)
{
    uint32_t per = cons ? L->cons_per_worker : L->prod_per_worker;
    uint64_t n = 0;

    for (uint32_t s = 0; s < L->nproducers * L->nconsumers; s++) {
        uint32_t who = cons ? s % L->nconsumers : s / L->nconsumers;

        if (who / per == worker)
            n += atomic_load(&L->streams[s].handled);
    }
    return n;
}

bool chaos_is_drained(const struct chaos_ledger *L)
{
    for (uint32_t p = 0; p < L->nproducers; p++)
        if (!atomic_load(&L->stopped[p]))
            return false;
    for (uint32_t s = 0; s < L->nproducers * L->nconsumers; s++)
        if (atomic_load(&L->streams[s].last) !=
            atomic_load(&L->streams[s].pending))
            return false;
    return true;
}

/* What the logs say about one stream. */
struct excuses {
    const struct chaos_ledger *L;
    uint32_t stream;
    bool is_corrupt;
};

static bool in_unflushed(const struct excuses *x, uint64_t seq)
{
    uint32_t n = atomic_load(&x->L->nresumes);

    for (uint32_t i = 0; i < n && i < CHAOS_RESUMES_MAX; i++) {
        const struct chaos_resume *r = &x->L->resumes[i];

        if (atomic_load_explicit(&r->is_valid, memory_order_acquire) &&
            r->stream == x->stream && seq > r->published && seq <= r->pending)
            return true;
    }
    return false;
}

/* Kind 1: seq in a mailbox range (last, seq) of a first-after-restart
 * jump forward; kind 2: in a redelivered range [seq, last]. */
static bool in_restart_range(const struct excuses *x, uint64_t seq, int kind)
{
    uint32_t n = atomic_load(&x->L->njumps);

    for (uint32_t i = 0; i < n && i < CHAOS_JUMPS_MAX; i++) {
        const struct chaos_jump *j = &x->L->jumps[i];

        if (!atomic_load_explicit(&j->is_valid, memory_order_acquire) ||
            j->stream != x->stream || !j->is_first)
            continue;
        if (kind == 1 && seq > j->last && seq < j->seq)
            return true;
        if (kind == 2 && seq >= j->seq && seq <= j->last)
            return true;
    }
    return false;
}

/* A forward jump not at a consumer restart: only a killed producer's
 * unflushed tail (its successor went on after pending) explains it. */
static bool jump_is_unflushed_tail(const struct excuses *x,
                                   const struct chaos_jump *j)
{
    uint32_t n = atomic_load(&x->L->nresumes);

    for (uint32_t i = 0; i < n && i < CHAOS_RESUMES_MAX; i++) {
        const struct chaos_resume *r = &x->L->resumes[i];

        if (atomic_load_explicit(&r->is_valid, memory_order_acquire) &&
            r->stream == j->stream && r->pending == j->seq - 1 &&
            r->published <= j->last)
            return true;
    }
    return false;
}

static void judge_jumps(const struct chaos_ledger *L, const bool *is_corrupt,
                        struct chaos_figures *f)
{
    uint32_t n = atomic_load(&L->njumps);

    if (n > CHAOS_JUMPS_MAX) {
        f->order_violations += n - CHAOS_JUMPS_MAX;    /* cannot tell */
        n = CHAOS_JUMPS_MAX;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct chaos_jump *j = &L->jumps[i];
        struct excuses x = { L, j->stream, false };

        if (!atomic_load_explicit(&j->is_valid, memory_order_acquire) ||
            j->stream >= L->nproducers * L->nconsumers) {
            f->torn++;
            continue;
        }
        x.is_corrupt = is_corrupt != NULL && is_corrupt[j->stream];
        if (j->is_first && j->seq <= j->last) {
            if (j->last - j->seq + 1 > f->max_redelivered)
                f->max_redelivered = j->last - j->seq + 1;
        } else if (j->is_first) {
            if (j->seq - j->last - 1 > f->max_mailbox)
                f->max_mailbox = j->seq - j->last - 1;
        } else if (j->seq <= j->last || (!x.is_corrupt &&
                                         !jump_is_unflushed_tail(&x, j))) {
            f->order_violations++;
        }
    }
}

static void judge_seq(const struct excuses *x, uint64_t seq,
                      struct chaos_figures *f)
{
    uint8_t c = atomic_load(&x->L->counts[x->stream][seq]);

    if (c > 1) {
        f->duplicated += c - 1u;
        if (!in_restart_range(x, seq, 2))
            f->dup_unexplained += c - 1u;
    }
    if (c != 0) {
        f->sent++;
        return;
    }
    if (in_unflushed(x, seq)) {
        f->unflushed++;
        return;
    }
    f->sent++;
    if (in_restart_range(x, seq, 1))
        f->mailbox++;
    else if (x->is_corrupt)
        f->corrupt_lost++;
    else
        f->lost++;
}

int chaos_judge(const struct chaos_ledger *L, const bool *is_corrupt,
                struct chaos_figures *f)
{
    memset(f, 0, sizeof(*f));
    if (!chaos_ledger_is_sane(L))
        return -EINVAL;
    f->bad = atomic_load(&L->bad_payloads);
    for (uint32_t s = 0; s < L->nproducers * L->nconsumers; s++) {
        const struct chaos_stream *st = &L->streams[s];
        struct excuses x = { L, s, is_corrupt != NULL && is_corrupt[s] };
        uint64_t end = atomic_load(&st->pending);

        if (atomic_load(&st->high) > end)
            end = atomic_load(&st->high);
        f->received += atomic_load(&st->handled);
        f->bad += atomic_load(&st->bad);
        f->backpressure += atomic_load(&st->backpressure);
        f->refused += atomic_load(&st->refused);
        for (uint64_t seq = 1; seq <= end && seq < CHAOS_SEQ_MAX; seq++)
            judge_seq(&x, seq, f);
    }
    judge_jumps(L, is_corrupt, f);
    return 0;
}

void chaos_format(const struct chaos_figures *f, char *out, size_t len)
{
    snprintf(out, len,
             "sent %llu received %llu lost %llu duplicated %llu "
             "(unexplained %llu, largest batch read twice %llu) "
             "mailbox %llu (largest %llu) unflushed %llu corrupt_lost %llu "
             "order_violations %llu bad %llu backpressure %llu refused %llu "
             "torn %u",
             (unsigned long long)f->sent, (unsigned long long)f->received,
             (unsigned long long)f->lost, (unsigned long long)f->duplicated,
             (unsigned long long)f->dup_unexplained,
             (unsigned long long)f->max_redelivered,
             (unsigned long long)f->mailbox,
             (unsigned long long)f->max_mailbox,
             (unsigned long long)f->unflushed,
             (unsigned long long)f->corrupt_lost,
             (unsigned long long)f->order_violations,
             (unsigned long long)f->bad,
             (unsigned long long)f->backpressure,
             (unsigned long long)f->refused, f->torn);
}
