/*
 * fuzz/fuzz_chaos_ledger.c - the chaos tests' parsers of bytes other
 * processes wrote (tests/lib/chaos_ledger.h, tests/lib/chaos_check.c):
 * the judge of a ledger that killed workers wrote, the consumer's check
 * of a payload that came through shared memory, and the spawn argument
 * "W.K" of the chaos worker's actors.
 *
 * Feeds: the first byte picks the parser.
 *   0  spawn argument: per (u8), max (u8), then the argument's bytes.
 *   1  payload: nproducers (u8), nconsumers (u8), consumer (u8), type
 *      (u32), then up to 64 payload bytes (a valid check word is
 *      patched in when the next byte is odd, so that accepting paths
 *      are reached).
 *   2  ledger: the header's counts (u8 each: nproducers, nconsumers, per
 *      worker twice), then operations until the input ends: set a
 *      stream's positions, add a jump or a resume entry (any stream
 *      number, valid or torn), set a count, or set the entry counters
 *      to any value. Positions are cut to 12 bits so that one input
 *      costs at most 256 x 4096 seq checks (the judge walks every seq).
 *
 * Asserts: the argument parser returns -1 or an id below max; the
 * payload check returns -1 or a stream of that consumer below
 * nproducers x nconsumers; the judge returns -EINVAL exactly for a
 * header it cannot walk, and otherwise figures that add up (every seq
 * up to a stream's end is sent or unflushed, losses of every kind are
 * among the sent, unexplained duplicates among the duplicates).
 */
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

static void fuzz_ledger(struct fuzz_in *in)
{
    struct chaos_figures f;
    uint64_t ends = 0;
    int rc;

    L->nproducers = fuzz_u8(in);
    L->nconsumers = fuzz_u8(in);
    L->prod_per_worker = fuzz_u8(in);
    L->cons_per_worker = fuzz_u8(in);
    while (in->n > 0)
        ledger_op(in);
    rc = chaos_judge(L, NULL, &f);
    FUZZ_CHECK((rc == 0) == chaos_ledger_is_sane(L));
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL);
        return;
    }
    for (uint32_t s = 0; s < L->nproducers * L->nconsumers; s++) {
        uint64_t end = atomic_load(&L->streams[s].pending);

        if (atomic_load(&L->streams[s].high) > end)
            end = atomic_load(&L->streams[s].high);
        ends += end;
    }
    FUZZ_CHECK(f.sent + f.unflushed == ends);
    FUZZ_CHECK(f.lost + f.mailbox + f.corrupt_lost <= f.sent);
    FUZZ_CHECK(f.dup_unexplained <= f.duplicated);
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
    uint8_t mode = fuzz_u8(&in) % 3;

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
    else
        fuzz_ledger(&in);
    return 0;
}
