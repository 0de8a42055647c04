/*
 * fuzz/make_seeds.c - writes the seed corpora under fuzz/corpus/<target>/.
 *
 * Ring images and segments are made by the library itself (a producer
 * pushing real envelopes, airsrt_shm_create making a real segment), so a
 * seed is what the runtime really leaves in memory and the fuzzer starts
 * from deep inside the accepting paths. Run by fuzz/make-seeds.sh; the
 * output is committed, so this only runs again when a layout changes.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_registry.h"
#include "shm/ring.h"
#include "shm/segment.h"

#define SEED_MAX (64u * 1024u)

static const char *out_dir;

/* A seed under construction: bytes appended in input order. */
struct seed {
    uint8_t b[SEED_MAX];
    size_t n;
};

static void put(struct seed *s, uint64_t v, unsigned bytes)
{
    if (s->n + bytes > SEED_MAX) {
        fprintf(stderr, "make_seeds: seed over %u bytes\n", SEED_MAX);
        exit(1);
    }
    for (unsigned i = 0; i < bytes; i++)
        s->b[s->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct seed *s, const void *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put(s, ((const uint8_t *)p)[i], 1);
}

static void write_seed(const char *target, const char *name,
                       const void *p, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void save(const char *target, const char *name, const struct seed *s)
{
    write_seed(target, name, s->b, s->n);
}

/* An envelope with every field in use; payload bytes count up. */
static struct airsrt_envelope *make_env(uint32_t payload_len, uint64_t id)
{
    static union {
        struct airsrt_envelope e;
        uint8_t b[sizeof(struct airsrt_envelope) + 4096];
    } u;
    struct airsrt_address from = { 0, 1, 2, 100, 1 };
    struct airsrt_address to = { 0, 3, 7, 1042, 2 };
    struct airsrt_address reply = { 2, 3, 7, 1043, 9 };

    airsrt_envelope_init(&u.e, 0x100 + (uint32_t)id, payload_len);
    u.e.sender = from;
    u.e.recipient = to;
    airsrt_envelope_set_reply_to(&u.e, &reply, 1000 + id);
    u.e.message_id = id;
    for (uint32_t i = 0; i < payload_len; i++)
        u.e.payload[i] = (uint8_t)(i + id);
    return &u.e;
}

/* ---- fuzz_ring_read ---- */

struct ring_image {
    struct airsrt_ring_prod prod;
    struct airsrt_ring_cons cons;
    uint8_t buf[FUZZ_RING_CAP];
    uint64_t head, tail;
};

/* Pushes payload lengths lens[] into an empty ring whose positions start
 * at start, as a producer would. */
static void ring_fill(struct ring_image *im, uint64_t start,
                      const uint32_t *lens, size_t n)
{
    struct airsrt_ring r;

    memset(im, 0, sizeof(*im));
    atomic_store(&im->prod.tail, start);
    atomic_store(&im->cons.head, start);
    if (airsrt_ring_bind(&r, &im->prod, &im->cons, im->buf, FUZZ_RING_CAP,
                         airsrt_ring_payload_limit(FUZZ_RING_CAP)) < 0)
        exit(1);
    airsrt_ring_producer_attach(&r);
    for (size_t i = 0; i < n; i++)
        if (airsrt_ring_push(&r, make_env(lens[i], i + 1)) < 0) {
            fprintf(stderr, "make_seeds: ring image does not fit\n");
            exit(1);
        }
    im->head = start;
    im->tail = atomic_load(&im->prod.tail);
}

static void ring_seed(const char *name, const struct ring_image *im,
                      uint8_t flags, uint8_t batch, const uint64_t *ops,
                      uint8_t nops)
{
    static struct seed s;

    s.n = 0;
    put(&s, im->head, 8);
    put(&s, im->tail, 8);
    put(&s, flags, 1);
    put(&s, 0, 1);
    put(&s, batch, 1);
    put(&s, nops, 1);
    for (unsigned i = 0; i < nops; i++) {
        put(&s, ops[2 * i], 1);
        put(&s, ops[2 * i + 1], 8);
    }
    put_bytes(&s, im->buf, sizeof(im->buf));
    save("fuzz_ring_read", name, &s);
}

static void ring_read_seeds(void)
{
    static struct ring_image im;
    /* 136 bytes fit before the end, 200 do not: padding, then offset 0. */
    const uint32_t two[] = { 40, 100 };
    uint32_t many[24];
    const uint64_t lying[] = {
        FUZZ_RING_READ_ONE, 0,
        FUZZ_RING_TAIL_ADD, (uint64_t)-8,           /* torn: mid-record */
        FUZZ_RING_READ_ONE, 0,
        FUZZ_RING_DRAIN, 0,
        FUZZ_RING_TAIL_SET, 1ull << 40,             /* lying: far ahead */
        FUZZ_RING_DRAIN, 0,
        FUZZ_RING_REATTACH, 0,
        FUZZ_RING_DRAIN, 0,
    };
    const uint64_t scribble[] = {
        FUZZ_RING_DRAIN, 0,
        FUZZ_RING_HEAD_SET, 3,
        FUZZ_RING_REATTACH, 0,
        FUZZ_RING_DRAIN, 0,
    };
    uint64_t real_tail;
    ring_fill(&im, 3 * FUZZ_RING_CAP + 3904, two, 2);
    ring_seed("two-records-and-padding", &im, 8, 7, NULL, 0);
    ring_seed("two-records-torn-and-lying-tail", &im, 8, 0, lying,
              sizeof(lying) / sizeof(lying[0]) / 2);
    /* Tail published half-way into the second record, then made whole. */
    real_tail = im.tail;
    im.tail -= 96;
    ring_seed("two-records-torn-tail", &im, 8, 7,
              (const uint64_t[]){ FUZZ_RING_DRAIN, 0,
                                  FUZZ_RING_TAIL_SET, real_tail }, 2);
    im.tail = real_tail;
    /* The second record (at offset 0) claims an odd size. */
    im.buf[0] = 205;
    ring_seed("two-records-scribbled", &im, 0, 1, scribble,
              sizeof(scribble) / sizeof(scribble[0]) / 2);
    for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
        many[i] = (uint32_t)(i * 8) % 120;
    ring_fill(&im, 1000 * 8, many, sizeof(many) / sizeof(many[0]));
    ring_seed("full-ring-small-batches", &im, 8, 2, NULL, 0);
    ring_fill(&im, 0, NULL, 0);
    ring_seed("empty-ring", &im, 0, 7, NULL, 0);
}

/* ---- fuzz_envelope ---- */

static void envelope_seed(const char *name, uint8_t mode, uint64_t avail,
                          uint32_t payload_max,
                          const struct airsrt_envelope *e, size_t bytes)
{
    static struct seed s;

    s.n = 0;
    put(&s, mode, 1);
    put(&s, avail, 8);
    put(&s, payload_max, 4);
    put_bytes(&s, e, bytes);
    save("fuzz_envelope", name, &s);
}

static void envelope_seeds(void)
{
    struct airsrt_envelope *e = make_env(16, 1);
    size_t size = airsrt_envelope_size(16);

    envelope_seed("valid-exact-avail", 0, size, AIRSRT_PAYLOAD_MAX_DEFAULT,
                  e, size);
    envelope_seed("valid-payload-at-max", 0, size + 8, 16, e, size + 8);
    e->flags = 0x80;
    envelope_seed("unknown-flag", 0, size, AIRSRT_PAYLOAD_MAX_DEFAULT, e,
                  size);
    e = make_env(0, 2);
    e->priority = AIRSRT_PRIO_SYSTEM;
    e->sender = e->recipient = e->reply_to = AIRSRT_ADDRESS_NULL;
    envelope_seed("valid-no-payload-null-addresses", 0,
                  AIRSRT_ENVELOPE_HDR_SIZE, 0, e, AIRSRT_ENVELOPE_HDR_SIZE);
    e->payload_len = AIRSRT_PAYLOAD_MAX_LIMIT;
    envelope_seed("huge-avail-length-at-hard-limit", 1, UINT64_MAX,
                  UINT32_MAX, e, AIRSRT_ENVELOPE_HDR_SIZE);
}

/* ---- fuzz_address ---- */

static void address_seeds(void)
{
    const char *texts[][2] = {
        { "text-local", "<3.7:1042.2>" },
        { "text-remote", "<2@3.7:1042.2>" },
        { "text-null", "<null>" },
        { "text-longest", "<65535@1023.4294967295:16777215.4294967295>" },
        { "text-zeros", "<0.1:0.1>" },
    };
    const struct airsrt_address wire[] = {
        { 0, 3, 7, 1042, 2 },
        { 2, 3, 7, 1042, 2 },
        { UINT16_MAX, AIRSRT_MAX_WORKERS - 1, UINT32_MAX,
          AIRSRT_MAX_ACTOR_SLOT, UINT32_MAX },
    };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        write_seed("fuzz_address", texts[i][0], texts[i][1],
                   strlen(texts[i][1]));
    for (size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
        uint8_t b[AIRSRT_ADDRESS_WIRE_SIZE];
        char name[32];

        airsrt_address_encode(&wire[i], b);
        snprintf(name, sizeof(name), "wire-%zu", i);
        write_seed("fuzz_address", name, b, sizeof(b));
    }
}

/* ---- fuzz_ctl_ring ---- */

static void ctl_seed(const char *name, uint8_t pmax, const uint64_t *ops,
                     size_t nops)
{
    static struct seed s;

    s.n = 0;
    put(&s, pmax, 1);
    for (size_t i = 0; i < nops; i++) {
        put(&s, ops[2 * i], 1);
        put(&s, ops[2 * i + 1], 8);
    }
    save("fuzz_ctl_ring", name, &s);
}

#define CTL_SEED(name, pmax, ...)                                           \
    do {                                                                    \
        const uint64_t ops[] = { __VA_ARGS__ };                             \
        ctl_seed(name, pmax, ops, sizeof(ops) / sizeof(ops[0]) / 2);        \
    } while (0)

static void ctl_ring_seeds(void)
{
    /* Sizes 40, 100 and 1000 with payload_max 1024 (pmax byte 128). */
    CTL_SEED("push-read-release-wrap", 128,
             FUZZ_CTL_PUSH, 40, FUZZ_CTL_PUSH, 100, FUZZ_CTL_PUSH, 1000,
             FUZZ_CTL_READ, 7, FUZZ_CTL_RELEASE_ALL, 0,
             FUZZ_CTL_PUSH, 1000, FUZZ_CTL_PUSH, 1000, FUZZ_CTL_PUSH, 1000,
             FUZZ_CTL_READ, 7, FUZZ_CTL_RELEASE_SOME, 1,
             FUZZ_CTL_PUSH, 500, FUZZ_CTL_READ, 7, FUZZ_CTL_RELEASE_ALL, 0);
    CTL_SEED("read-reattach-redeliver", 0,
             FUZZ_CTL_PUSH, 8, FUZZ_CTL_PUSH, 16, FUZZ_CTL_PUSH, 24,
             FUZZ_CTL_READ, 1, FUZZ_CTL_RELEASE_SOME, 1,
             FUZZ_CTL_READ, 7, FUZZ_CTL_REATTACH, 0, FUZZ_CTL_READ, 7,
             FUZZ_CTL_RELEASE_ALL, 0);
    CTL_SEED("full-then-drained", 128,
             FUZZ_CTL_PUSH, 1000, FUZZ_CTL_PUSH, 1000, FUZZ_CTL_PUSH, 1000,
             FUZZ_CTL_PUSH, 1000, FUZZ_CTL_PUSH, 1000, FUZZ_CTL_PUSH, 2000,
             FUZZ_CTL_READ, 7, FUZZ_CTL_RELEASE_ALL, 0,
             FUZZ_CTL_PUSH, 1000);
    CTL_SEED("garbage-tail-then-recovery", 0,
             FUZZ_CTL_PUSH, 64, FUZZ_CTL_PUSH, 64,
             FUZZ_CTL_TAIL_WRITE, 1ull << 33, FUZZ_CTL_READ, 7,
             FUZZ_CTL_RELEASE_ALL, 0, FUZZ_CTL_PUSH, 64, FUZZ_CTL_READ, 7);
    CTL_SEED("garbage-record-and-head", 0,
             FUZZ_CTL_PUSH, 64, FUZZ_CTL_PUSH, 64,
             FUZZ_CTL_BUF_WRITE, (uint64_t)0xA15E7702u << 32 | 0x9c,
             FUZZ_CTL_HEAD_NUDGE, 8, FUZZ_CTL_REATTACH, 0,
             FUZZ_CTL_READ, 7, FUZZ_CTL_RELEASE_ALL, 0, FUZZ_CTL_PUSH, 0);
}

/* ---- fuzz_segment_attach ---- */

static void segment_seed(const char *name, const struct airsrt_shm *shm,
                         size_t len)
{
    write_seed("fuzz_segment_attach", name, shm->base, len);
}

static void segment_seeds(void)
{
    struct airsrt_shm_params p = { .nworkers = 1, .ring_bytes = 4096,
                                   .ctl_ring_bytes = 4096,
                                   .registry_capacity = 4,
                                   .payload_max = 1024,
                                   .actors_max = 16 };
    struct airsrt_shm shm;
    struct airsrt_ring r;

    if (airsrt_shm_create(&shm, "airsrt-fuzz-seed", &p) < 0) {
        fprintf(stderr, "make_seeds: %s\n", shm.err);
        exit(1);
    }
    if (shm.size > SEED_MAX) {
        fprintf(stderr, "make_seeds: segment of %zu bytes\n", shm.size);
        airsrt_shm_destroy(&shm);
        exit(1);
    }
    segment_seed("one-worker-empty", &shm, shm.size);
    segment_seed("header-page-only", &shm, 4096);
    airsrt_shm_data_ring(&shm, 0, 0, &r);
    airsrt_ring_producer_attach(&r);
    airsrt_ring_push(&r, make_env(40, 1));
    airsrt_ring_push(&r, make_env(1000, 2));
    airsrt_shm_ctl_ring(&shm, 0, &r);
    airsrt_ctl_push(&r, make_env(8, 3));
    segment_seed("one-worker-with-envelopes", &shm, shm.size);
    airsrt_shm_destroy(&shm);
}

/* ---- fuzz_registry ---- */

/*
 * A script under construction, and a registry beside it that the same
 * calls are made on, so that a seed can name the slot (id - 1) a name
 * really got: the harness's table starts the same way.
 */
struct reg_script {
    struct seed s;
    alignas(64) uint8_t region[FUZZ_REG_REGION];
    struct airsrt_registry reg;
};

static void reg_start(struct reg_script *r)
{
    if (airsrt_registry_init(r->region, sizeof(r->region), FUZZ_REG_CAP) < 0 ||
        airsrt_registry_bind(&r->reg, r->region, sizeof(r->region),
                             FUZZ_REG_CAP) < 0)
        exit(1);
    r->s.n = 0;
}

static void reg_op(struct reg_script *r, enum fuzz_reg_op op, uint64_t arg)
{
    put(&r->s, op, 1);
    put(&r->s, arg, 8);
}

/* The 16 argument bits fuzz_reg_addr() turns into this address. */
static uint16_t addr16(unsigned worker, unsigned inc, unsigned slot)
{
    return (uint16_t)((worker & 3) | (inc & 3) << 2 | (slot & 0x7ff) << 4);
}

/* Registers name idx in the script and beside it; returns its id. */
static uint32_t reg_add(struct reg_script *r, unsigned idx, unsigned kind,
                        uint16_t addr)
{
    char name[FUZZ_REG_NAME_BUF];
    struct airsrt_address a = fuzz_reg_addr(addr);
    uint32_t id = 0;

    reg_op(r, FUZZ_REG_REGISTER, fuzz_reg_arg(idx, kind, addr));
    fuzz_reg_name(idx, name);
    airsrt_registry_register(&r->reg, name, kind, &a, &id);
    return id;
}

/* Byte offset of entry field off in slot, as a SCRIBBLE argument. */
static uint64_t entry_at(uint32_t slot, uint32_t off)
{
    return AIRSRT_REGISTRY_ENTRIES_OFF - FUZZ_REG_LOCK_END +
           (uint64_t)slot * sizeof(struct airsrt_registry_entry) + off;
}

/* The region beside the script, as the garbage that opens a seed. */
static void reg_image(struct reg_script *r)
{
    struct seed ops = r->s;

    r->s.n = 0;
    put(&r->s, FUZZ_REG_GARBAGE_MAX, 2);
    put_bytes(&r->s, r->region + FUZZ_REG_LOCK_END, FUZZ_REG_GARBAGE_MAX);
    put_bytes(&r->s, ops.b, ops.n);
}

static void reg_round_trip(struct reg_script *r)
{
    uint32_t id3, id4;

    reg_start(r);
    put(&r->s, 0, 2);
    for (unsigned i = 0; i < 10; i++)
        reg_add(r, i, AIRSRT_REGISTRY_NAME + i % 3, addr16(1, 1, i + 1));
    for (unsigned i = 0; i < 12; i++)
        reg_op(r, FUZZ_REG_RESOLVE, i);
    id3 = reg_add(r, 3, AIRSRT_REGISTRY_NAME, addr16(1, 1, 4));
    id4 = reg_add(r, 4, AIRSRT_REGISTRY_POOL, addr16(1, 1, 5));
    reg_op(r, FUZZ_REG_LOOKUP, id3);
    reg_op(r, FUZZ_REG_UNBIND, fuzz_reg_arg(id3, 0, addr16(1, 1, 4)));
    reg_op(r, FUZZ_REG_UNBIND, fuzz_reg_arg(id4, 0, addr16(1, 2, 5)));
    reg_add(r, 3, AIRSRT_REGISTRY_NAME, addr16(1, 2, 4));
    reg_add(r, 4, AIRSRT_REGISTRY_POOL, addr16(2, 1, 5));
    reg_op(r, FUZZ_REG_UNREGISTER, 5);
    reg_op(r, FUZZ_REG_RESOLVE, 5);
    reg_add(r, 5, AIRSRT_REGISTRY_TOPIC, 0);
    reg_op(r, FUZZ_REG_UNBIND_INC, 1 | 1 << 8);
    reg_op(r, FUZZ_REG_RESOLVE, 0);
    reg_op(r, FUZZ_REG_LOOKUP, id3);
    reg_add(r, 96, AIRSRT_REGISTRY_NAME, addr16(1, 1, 1));
    reg_add(r, 99, AIRSRT_REGISTRY_NAME, addr16(1, 1, 1));
    save("fuzz_registry", "clean-round-trip", &r->s);
}

static void reg_full_table(struct reg_script *r)
{
    reg_start(r);
    put(&r->s, 0, 2);
    for (unsigned i = 0; i < FUZZ_REG_VALID_NAMES; i++)
        reg_add(r, i, AIRSRT_REGISTRY_NAME, addr16(i % 4, 1 + i % 3, i));
    for (unsigned i = 0; i < 20; i += 2)
        reg_op(r, FUZZ_REG_UNREGISTER, i);
    for (unsigned i = 70; i < 90; i++)
        reg_add(r, i, AIRSRT_REGISTRY_NAME, addr16(3, 3, i));
    for (unsigned i = 0; i < FUZZ_REG_VALID_NAMES; i += 5)
        reg_op(r, FUZZ_REG_RESOLVE, i);
    save("fuzz_registry", "clean-full-table", &r->s);
}

static void reg_writer_dies(struct reg_script *r)
{
    uint32_t ids[8];

    reg_start(r);
    put(&r->s, 0, 2);
    for (unsigned i = 0; i < 8; i++)
        ids[i] = reg_add(r, i, AIRSRT_REGISTRY_NAME, addr16(2, 1, i));
    reg_op(r, FUZZ_REG_DIE, (ids[2] - 1) | (uint64_t)0x1234 << 8);
    reg_op(r, FUZZ_REG_RESOLVE, 2);
    reg_op(r, FUZZ_REG_LOOKUP, ids[2]);
    reg_op(r, FUZZ_REG_RESOLVE, 3);
    reg_op(r, FUZZ_REG_DIE, (ids[5] - 1) | (uint64_t)40 << 8);
    reg_op(r, FUZZ_REG_LOOKUP, ids[5]);
    reg_add(r, 8, AIRSRT_REGISTRY_NAME, addr16(2, 1, 8));
    reg_op(r, FUZZ_REG_RESOLVE, 2);
    reg_add(r, 2, AIRSRT_REGISTRY_NAME, addr16(2, 2, 2));
    reg_op(r, FUZZ_REG_DIE, 0);
    reg_op(r, FUZZ_REG_UNBIND_INC, 2 | 1 << 8);
    save("fuzz_registry", "clean-writer-dies", &r->s);
}

/* A real table as the garbage, then damage the readers must not follow
 * and the writers must repair. */
static void reg_damaged_image(struct reg_script *r)
{
    uint32_t ids[31];

    reg_start(r);
    for (unsigned i = 0; i < 31; i++)
        ids[i] = reg_add(r, i, AIRSRT_REGISTRY_NAME + i % 3,
                         addr16(i % 4, 1 + i % 3, i));
    /* The image holds what they did: the script starts after them. */
    r->s.n = 0;
    reg_op(r, FUZZ_REG_SCRIBBLE, entry_at(ids[1] - 1, 16) | 0x7ull << 32);
    reg_op(r, FUZZ_REG_RESOLVE, 1);
    reg_op(r, FUZZ_REG_SEAL, ids[1] - 1);
    reg_op(r, FUZZ_REG_LOOKUP, ids[1]);
    reg_op(r, FUZZ_REG_ODD, ids[2] - 1);
    reg_op(r, FUZZ_REG_RESOLVE, 2);
    reg_op(r, FUZZ_REG_SCRIBBLE, entry_at(ids[3] - 1, 32) | 0x20ull << 32);
    reg_op(r, FUZZ_REG_SEAL, ids[3] - 1);
    reg_op(r, FUZZ_REG_RESOLVE, 3);
    reg_op(r, FUZZ_REG_SCRIBBLE, 0 | 0xffffull << 32);   /* capacity */
    reg_op(r, FUZZ_REG_REGISTER, fuzz_reg_arg(1, AIRSRT_REGISTRY_NAME,
                                              addr16(1, 2, 1)));
    reg_op(r, FUZZ_REG_RESOLVE, 4);
    reg_op(r, FUZZ_REG_UNBIND_INC, 1 | 2 << 8);
    reg_op(r, FUZZ_REG_DIE, ids[6] - 1);
    reg_op(r, FUZZ_REG_UNREGISTER, 6);
    reg_image(r);
    save("fuzz_registry", "image-damaged", &r->s);
}

/* Every entry zeroed but one further along a chain: zeroed entries are
 * corrupt, not empty, so the name past them is still found. */
static void reg_zeroed_image(struct reg_script *r)
{
    uint32_t id = 0;

    reg_start(r);
    for (unsigned i = 0; i < 40; i++)
        id = reg_add(r, i, AIRSRT_REGISTRY_NAME, addr16(1, 1, i));
    r->s.n = 0;
    for (uint32_t slot = 0; slot < FUZZ_REG_CAP; slot++)
        if (slot != id - 1)
            memset(r->region + AIRSRT_REGISTRY_ENTRIES_OFF +
                   slot * sizeof(struct airsrt_registry_entry), 0,
                   sizeof(struct airsrt_registry_entry));
    reg_op(r, FUZZ_REG_RESOLVE, 39);
    reg_op(r, FUZZ_REG_LOOKUP, id);
    reg_op(r, FUZZ_REG_RESOLVE, 0);
    reg_add(r, 0, AIRSRT_REGISTRY_NAME, addr16(1, 2, 0));
    reg_op(r, FUZZ_REG_UNBIND_INC, 1 | 1 << 8);
    reg_image(r);
    save("fuzz_registry", "image-zeroed-entries", &r->s);
}

static void registry_seeds(void)
{
    static struct reg_script r;

    reg_round_trip(&r);
    reg_full_table(&r);
    reg_writer_dies(&r);
    reg_damaged_image(&r);
    reg_zeroed_image(&r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
        return 100;
    }
    out_dir = argv[1];
    mkdir(out_dir, 0755);
    ring_read_seeds();
    envelope_seeds();
    address_seeds();
    ctl_ring_seeds();
    segment_seeds();
    registry_seeds();
    return 0;
}
