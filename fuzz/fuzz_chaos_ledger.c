/*
 * fuzz/fuzz_chaos_ledger.c - the chaos tests' parsers of bytes other
 * processes wrote (tests/lib/chaos_ledger.h, tests/lib/chaos_check.c):
 * the judge of a ledger that killed workers wrote, the consumer's check
 * of a payload that came through shared memory, and the spawn argument
 * "W.K" of the chaos worker's actors.
 *
 * Feeds: the first byte (mod 4) picks the parser.
 *   0  spawn argument: per (u8), max (u8), then the argument's bytes.
 *   1  payload: nproducers (u8), nconsumers (u8), consumer (u8), type
 *      (u32), then up to 64 payload bytes (a valid check word is
 *      patched in when the next byte is odd, so that accepting paths
 *      are reached).
 *   2  ledger of any bytes: the header's counts (u8 each: nproducers,
 *      nconsumers, per worker twice), then operations until the input
 *      ends: set a stream's positions, add a jump or a resume entry (any
 *      stream number, valid or torn), set a count, or set the entry
 *      counters to any value. Positions are cut to 12 bits so that one
 *      input costs at most 256 x 4096 seq checks (the judge walks every
 *      seq).
 *   3  story: the header's counts (u8 each, brought into range), stream
 *      0's corrupt flag (bit 0 of a byte), then steps of 4 bytes (op, p,
 *      q, r) until the input ends or 256 runs were told. op % 8 says
 *      how the consumer of the stream goes on (enum run_kind: the next
 *      seq, a gap or a step back, each with or without a restart, or the
 *      gap a producer left unflushed when it died), p the gap or step, q
 *      the run's length, r the dead producer's last flush; 7 ends the
 *      stream with a tail of p % 64 seqs (lost, or unflushed when q is
 *      odd) and starts the next (corrupt when op bit 4 is set). Op bit 3
 *      first leaves a jump entry torn. The recorders the workers use
 *      (chaos_record, chaos_log_resume) write the ledger.
 *
 * Asserts: the argument parser returns -1 or an id below max; the
 * payload check returns -1, or a stream of that consumer below
 * nproducers x nconsumers and the payload's seq, a counted one. On a
 * ledger of any bytes the judge reads nothing outside it (ASan) and
 * returns 0 or -EINVAL; figures of garbage mean nothing, so none is
 * checked. On a story the judge returns 0 and exactly the figures the
 * crash rules (chaos_check.h) give the story, counted from its steps
 * by the harness: a gap is mailbox at a restart, unflushed after a
 * producer's death, else lost (corrupt_lost on a corrupted stream, and
 * then no order violation); a step back is duplicates, explained at a
 * restart; every departure from order without a restart is one order
 * violation; and a torn entry is torn.
 */
#include <assert.h>

#include "tests/lib/chaos_check.c"

#include "fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct chaos_ledger *L;

static void fuzz_arg(struct fuzz_in *in)
{
    uint32_t per = fuzz_u8(in), max = fuzz_u8(in);
    int id = chaos_parse_id(in->p, in->n, per, max);

    FUZZ_CHECK(id == -1 || (id >= 0 && (uint32_t)id < max));
}

static void fuzz_payload(struct fuzz_in *in)
{
    union {
        struct airsrt_envelope env;
        uint8_t bytes[sizeof(struct airsrt_envelope) + 64];
    } u;
    uint64_t seq = 0;
    uint32_t c, len;
    int s;

    memset(&u, 0, sizeof(u));
    L->nproducers = fuzz_u8(in) % (CHAOS_PRODUCERS_MAX + 1);
    L->nconsumers = fuzz_u8(in) % (CHAOS_CONSUMERS_MAX + 1);
    c = fuzz_u8(in);
    u.env.type = fuzz_u32(in);
    len = in->n < 64 ? (uint32_t)in->n : 64;
    memcpy(u.env.payload, in->p, len);
    u.env.payload_len = len;
    if (len == sizeof(struct chaos_msg) && (in->p[len - 1] & 1)) {
        struct chaos_msg m;

        memcpy(&m, u.env.payload, sizeof(m));
        m.check = chaos_msg_check(m.stream, m.seq);
        memcpy(u.env.payload, &m, sizeof(m));
    }
    s = chaos_msg_stream(L, c, &u.env, &seq);
    FUZZ_CHECK(s == -1 || (s >= 0 && (uint32_t)s <
                                         L->nproducers * L->nconsumers &&
                           (uint32_t)s % L->nconsumers == c));
    /* The seq out is the payload's, within what the ledger counts. */
    FUZZ_CHECK(s == -1 ||
               (seq >= 1 && seq < CHAOS_SEQ_MAX &&
                memcmp(&seq, u.env.payload + offsetof(struct chaos_msg, seq),
                       sizeof(seq)) == 0));
}

/* One operation of a ledger script. */
static void ledger_op(struct fuzz_in *in)
{
    uint8_t op = fuzz_u8(in) % 6;

    if (op == 0) {
        struct chaos_stream *s = &L->streams[fuzz_u8(in)];

        atomic_store(&s->pending, fuzz_u16(in) & 4095u);
        atomic_store(&s->published, fuzz_u16(in) & 4095u);
        atomic_store(&s->high, fuzz_u16(in) & 4095u);
        atomic_store(&s->last, fuzz_u16(in) & 4095u);
    } else if (op == 1) {
        uint32_t i = atomic_fetch_add(&L->njumps, 1) % CHAOS_JUMPS_MAX;
        struct chaos_jump *j = &L->jumps[i];

        j->stream = fuzz_u16(in);
        j->is_first = fuzz_u8(in) & 1;
        j->last = fuzz_u16(in) & 4095u;
        j->seq = fuzz_u16(in) & 4095u;
        atomic_store(&j->is_valid, fuzz_u8(in) & 1);
    } else if (op == 2) {
        uint32_t i = atomic_fetch_add(&L->nresumes, 1) % CHAOS_RESUMES_MAX;
        struct chaos_resume *r = &L->resumes[i];

        r->stream = fuzz_u16(in);
        r->published = fuzz_u16(in) & 4095u;
        r->pending = fuzz_u16(in) & 4095u;
        atomic_store(&r->is_valid, fuzz_u8(in) & 1);
    } else if (op == 3) {
        uint8_t s = fuzz_u8(in);

        atomic_store(&L->counts[s][fuzz_u16(in) & 4095u], fuzz_u8(in));
    } else if (op == 4) {
        atomic_store(&L->njumps, fuzz_u32(in));
    } else {
        atomic_store(&L->nresumes, fuzz_u32(in));
    }
}

/* Mode 2: a ledger of any bytes. The judge must stay inside it (ASan)
 * and refuse a header it cannot walk; the figures of garbage mean
 * nothing, so none is checked. */
static void fuzz_ledger(struct fuzz_in *in)
{
    struct chaos_figures f;
    int rc;

    L->nproducers = fuzz_u8(in);
    L->nconsumers = fuzz_u8(in);
    L->prod_per_worker = fuzz_u8(in);
    L->cons_per_worker = fuzz_u8(in);
    while (in->n > 0)
        ledger_op(in);
    rc = chaos_judge(L, NULL, &f);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
}

/* ---- mode 3: a story, and the figures it must be judged to ---- */

#define STORY_RUNS 256u         /* runs per input, all streams together */
#define STORY_GAP  64u          /* seqs a gap or a tail spans, at most */
#define STORY_LEN  256u         /* seqs a run handles, at most */
static_assert(STORY_RUNS * (STORY_GAP + STORY_LEN) + STORY_GAP <
              CHAOS_SEQ_MAX, "a story stays within the seqs counted");

/* How the consumer of a stream goes on after its last run. */
enum run_kind {
    RUN_ON,                     /* the next seq */
    RUN_RESTARTED,              /* the next seq, in a new process */
    RUN_SKIP,                   /* seqs missing, no restart */
    RUN_RESTARTED_SKIP,         /* seqs died in the dead one's mailbox */
    RUN_BACK,                   /* seqs again, no restart */
    RUN_RESTARTED_BACK,         /* the batch read, not released, again */
    RUN_PRODUCER_DIED,          /* seqs a dead producer never flushed */
    RUN_NEXT_STREAM,            /* this stream's tail, then the next one */
};

/*
 * One stream's consumer so far: its last run handled a..b. Every run
 * starts past every earlier gap and ends at or past b, and a step back
 * covers only the last run's fresh seqs (those no earlier run handled):
 * so a seq is missing only in the gap that made it, and handled twice
 * at most, by the step back that made it so. Each figure then follows
 * from the runs alone.
 */
struct story {
    uint32_t stream;
    bool is_corrupt, has_run;
    uint64_t a, b, fresh;
};

/* The consumer handles a..a+len-1; is_first on the first if it was
 * restarted. */
static void story_handle(struct story *st, uint64_t a, uint64_t len,
                         bool is_restarted, struct chaos_figures *want)
{
    uint64_t b = a + len - 1;

    for (uint64_t seq = a; seq <= b; seq++)
        chaos_record(L, st->stream, seq, is_restarted && seq == a);
    st->fresh = a > st->b ? len : b - st->b;
    st->a = a;
    st->b = b;
    st->has_run = true;
    want->received += len;
}

static void story_gap(struct story *st, enum run_kind kind, uint64_t n,
                      uint8_t r, struct chaos_figures *want)
{
    if (kind == RUN_RESTARTED_SKIP) {
        want->mailbox += n;
        if (n > want->max_mailbox)
            want->max_mailbox = n;
    } else if (kind == RUN_PRODUCER_DIED) {
        /* Its successor logs what the dead one may not have flushed:
         * from a seq of the last run on, to the gap's end. */
        chaos_log_resume(L, st->stream, st->b - r % (st->b - st->a + 1),
                         st->b + n);
        want->unflushed += n;
    } else if (st->is_corrupt) {
        want->corrupt_lost += n;
    } else {
        want->lost += n;
        want->order_violations++;
    }
}

static void story_back(enum run_kind kind, uint64_t n,
                       struct chaos_figures *want)
{
    want->duplicated += n;
    if (kind == RUN_BACK) {
        want->dup_unexplained += n;
        want->order_violations++;
    } else if (n > want->max_redelivered) {
        want->max_redelivered = n;
    }
}

/* One more run of kind (not RUN_NEXT_STREAM); p, q and r choose its
 * gap or step back, its length, and the dead producer's last flush. */
static void story_run(struct story *st, enum run_kind kind, uint8_t p,
                      uint8_t q, uint8_t r, struct chaos_figures *want)
{
    bool is_restarted = kind == RUN_RESTARTED ||
                        kind == RUN_RESTARTED_SKIP ||
                        kind == RUN_RESTARTED_BACK;
    uint64_t a = st->b + 1, len = 1 + q % STORY_LEN, n;

    if (!st->has_run) {
        /* The first envelope of the stream in its process: whatever
         * came before it died in a mailbox. */
        is_restarted = true;
        kind = kind == RUN_SKIP || kind == RUN_PRODUCER_DIED
                   ? RUN_RESTARTED_SKIP : RUN_RESTARTED;
    }
    if ((kind == RUN_BACK || kind == RUN_RESTARTED_BACK) && st->fresh == 0)
        kind = RUN_ON;
    if (kind == RUN_SKIP || kind == RUN_RESTARTED_SKIP ||
        kind == RUN_PRODUCER_DIED) {
        n = 1 + p % STORY_GAP;
        story_gap(st, kind, n, r, want);
        a += n;
    } else if (kind == RUN_BACK || kind == RUN_RESTARTED_BACK) {
        n = 1 + p % st->fresh;
        story_back(kind, n, want);
        a -= n;
        len = len < n ? n : len;
    }
    story_handle(st, a, len, is_restarted, want);
}

/* The producer sent t more seqs than the consumer handled: lost, or
 * never flushed by a producer that died (q odd). */
static void story_end(struct story *st, uint8_t p, uint8_t q, uint8_t r,
                      struct chaos_figures *want)
{
    struct chaos_stream *s = &L->streams[st->stream];
    uint64_t t = p % STORY_GAP, end = st->b + t, published = end;

    if (q & 1) {
        published = st->has_run ? st->b - r % (st->b - st->a + 1) : 0;
        if (t > 0)
            chaos_log_resume(L, st->stream, published, end);
        want->unflushed += t;
    } else if (st->is_corrupt) {
        want->corrupt_lost += t;
    } else {
        want->lost += t;
    }
    want->sent += end;
    atomic_store(&s->pending, end);
    atomic_store(&s->published, published);
}

static void check_figures(const struct chaos_figures *f,
                          const struct chaos_figures *want)
{
#define FIGURE_IS(field) FUZZ_CHECK(f->field == want->field)
    FIGURE_IS(sent);
    FIGURE_IS(received);
    FIGURE_IS(lost);
    FIGURE_IS(duplicated);
    FIGURE_IS(dup_unexplained);
    FIGURE_IS(mailbox);
    FIGURE_IS(unflushed);
    FIGURE_IS(corrupt_lost);
    FIGURE_IS(order_violations);
    FIGURE_IS(bad);
    FIGURE_IS(backpressure);
    FIGURE_IS(refused);
    FIGURE_IS(max_redelivered);
    FIGURE_IS(max_mailbox);
    FIGURE_IS(torn);
#undef FIGURE_IS
}

/* Mode 3: the recorders (chaos_record, chaos_log_resume) write a story
 * of the streams in order, and the judge must find exactly the figures
 * the story adds up to. */
static void fuzz_story(struct fuzz_in *in)
{
    static bool is_corrupt[CHAOS_STREAMS_MAX];
    struct chaos_figures f, want = { 0 };
    struct story st = { 0 };
    uint32_t nstreams, runs = 0;
    bool is_open = true;

    L->nproducers = 1 + fuzz_u8(in) % CHAOS_PRODUCERS_MAX;
    L->nconsumers = 1 + fuzz_u8(in) % CHAOS_CONSUMERS_MAX;
    L->prod_per_worker = 1 + fuzz_u8(in) % L->nproducers;
    L->cons_per_worker = 1 + fuzz_u8(in) % L->nconsumers;
    nstreams = L->nproducers * L->nconsumers;
    memset(is_corrupt, 0, sizeof(is_corrupt));
    is_corrupt[0] = st.is_corrupt = fuzz_u8(in) & 1;
    while (is_open && runs < STORY_RUNS && in->n > 0) {
        uint8_t op = fuzz_u8(in), p = fuzz_u8(in), q = fuzz_u8(in);
        uint8_t r = fuzz_u8(in);

        if (op & 8) {
            /* A consumer killed between claiming a jump entry and
             * making it valid. */
            atomic_fetch_add(&L->njumps, 1);
            want.torn++;
        }
        if (op % 8 != RUN_NEXT_STREAM) {
            story_run(&st, (enum run_kind)(op % 8), p, q, r, &want);
            runs++;
            continue;
        }
        story_end(&st, p, q, r, &want);
        is_open = st.stream + 1 < nstreams;
        st = (struct story){ .stream = st.stream + 1,
                             .is_corrupt = (op & 16) != 0 };
        if (is_open)
            is_corrupt[st.stream] = st.is_corrupt;
    }
    if (is_open)
        story_end(&st, 0, 0, 0, &want);
    want.sent -= want.unflushed;
    FUZZ_CHECK(chaos_judge(L, is_corrupt, &f) == 0);
    check_figures(&f, &want);
}

/* Every input starts from an empty ledger. Counts are cleared by giving
 * their pages back; madvise() takes only whole pages and counts does not
 * start on one, so the bytes before its first whole page are zeroed. */
static void ledger_clear(void)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t at = ((uintptr_t)L->counts + page - 1) & ~(page - 1);

    memset(L, 0, at - (uintptr_t)L);
    if (madvise((void *)at, (uintptr_t)(L + 1) - at, MADV_DONTNEED) < 0)
        abort();
    L->magic = CHAOS_MAGIC;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint8_t mode = fuzz_u8(&in) % 4;

    if (L == NULL) {
        /* Sparse: only the pages an input touches cost memory. */
        L = mmap(NULL, sizeof(*L), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (L == MAP_FAILED)
            abort();
    }
    ledger_clear();
    if (mode == 0)
        fuzz_arg(&in);
    else if (mode == 1)
        fuzz_payload(&in);
    else if (mode == 2)
        fuzz_ledger(&in);
    else
        fuzz_story(&in);
    return 0;
}
