/*
 * fuzz/fuzz_registry.c - a registry table whose bytes are the fuzzer's,
 * driven by a script of the calls workers and the supervisor make, with
 * scribbles and writers that die holding the lock in between.
 *
 * Feeds: a registry region of FUZZ_REG_CAP (64) entries, an exact heap
 * allocation, initialized by airsrt_registry_init() and then overwritten
 * past the lock's cache line by up to the whole rest of the region from
 * the input; the handle's capacity is the trusted 64, never the region's
 * word. Then operations from the input (enum fuzz_reg_op in
 * fuzz_registry.h). A writer that dies is a thread that takes the robust
 * lock, half-writes an entry and exits holding it: the next locker gets
 * EOWNERDEAD exactly as after a killed process (at most MAX_DEATHS per
 * input; later DIE operations do nothing).
 *
 * Asserts, always: no call reads or writes outside the region (ASan) or
 * fails to return; every call returns one of its documented codes, and
 * -EINVAL exactly when its arguments are invalid; what resolve and lookup
 * hand out is a valid name, an id in range and a null or valid address,
 * and lookup of a resolved id agrees with resolve; right after a
 * successful register, resolve and lookup give that name its id and
 * address; a writer leaves whole every entry it read: a register's probe
 * up to the name's slot (the whole table after -ENOSPC, and then every
 * entry is in use), an unbind's entry, an unregister's whole probe when
 * the name was not there (so that resolve then says absent, not unsure).
 * After unbind_incarnation no entry is torn and none readable as in use
 * is bound to that incarnation; more exactly, against a copy of the
 * region taken just before it, each entry went where the contract sends
 * it (torn ones, and corrupt ones whose raw holder is that incarnation,
 * cleared; those it holds unbound; every other byte unchanged, unless the
 * lock's owner had died and it swept first), and n, torn_cleared,
 * corrupt_repaired, owner_deaths and count moved by exactly that (count
 * only by a sweep). At the end airsrt_registry_sweep() is checked the
 * same way, after which every entry reads whole, count is exact, and a
 * register fails for room exactly when every slot is in use.
 * While the region is clean (no input bytes over it, no scribble yet),
 * also: every result is exactly what a model of names, ids and addresses
 * says, including the dead writers' entries (unreadable until the next
 * locker clears them) and every counter.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *
 *   off  size  field
 *     0  2     garbage length g, clamped to FUZZ_REG_GARBAGE_MAX
 *     2  g     bytes over the region from offset FUZZ_REG_LOCK_END
 *   2+g  9*k   operations: kind (mod FUZZ_REG_NOPS), u64 argument; as
 *              many as the input holds, at most MAX_OPS
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_registry.h"
#include "shm/registry.h"
#include "shm/robust.h"

#define CAP FUZZ_REG_CAP
#define MAX_OPS 256u
/* Each death costs a thread: more of them find nothing new, only slowly. */
#define MAX_DEATHS 8u
#define NO_SLOT (-1)

/* The model of a clean table: what each name holds. */
struct model_name {
    bool is_used;
    uint32_t kind;
    uint32_t slot;
    struct airsrt_address addr;
};

struct ctx {
    uint8_t *region;
    struct airsrt_registry reg;
    uint8_t *before;                /* the region just before a call */
    struct airsrt_registry before_reg;
    bool is_clean;
    struct model_name names[FUZZ_REG_VALID_NAMES];
    int owner[CAP];                 /* name index in each slot, or NO_SLOT */
    bool is_torn[CAP];              /* left odd by a dead writer */
    bool is_owner_dead;             /* exact, clean or not */
    unsigned deaths;
    uint64_t owner_deaths, torn_cleared;
};

static uint32_t fnv1a(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint32_t h = 0x811c9dc5u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x01000193u;
    return h;
}

static bool addr_ok(const struct airsrt_address *a)
{
    return airsrt_address_is_null(a) || airsrt_address_validate(a) == 0;
}

static uint32_t model_in_use(const struct ctx *c)
{
    uint32_t n = 0;

    for (uint32_t s = 0; s < CAP; s++)
        n += c->owner[s] != NO_SLOT;
    return n;
}

static bool model_has_torn(const struct ctx *c)
{
    for (uint32_t s = 0; s < CAP; s++)
        if (c->is_torn[s])
            return true;
    return false;
}

/* The sweep the dead writers force on the next locker. */
static void model_sweep(struct ctx *c)
{
    c->owner_deaths++;
    for (uint32_t s = 0; s < CAP; s++) {
        if (!c->is_torn[s])
            continue;
        c->is_torn[s] = false;
        c->torn_cleared++;
        if (c->owner[s] != NO_SLOT)
            c->names[c->owner[s]].is_used = false;
        c->owner[s] = NO_SLOT;
    }
}

/* A call with valid arguments, so one that takes the lock, is about to
 * run: returns whether it will find the owner dead, and so sweep first. */
static bool lock_taken(struct ctx *c)
{
    bool was_dead = c->is_owner_dead;

    if (was_dead && c->is_clean)
        model_sweep(c);
    c->is_owner_dead = false;
    return was_dead;
}

static void model_check_counters(const struct ctx *c)
{
    const struct airsrt_registry_hdr *h = c->reg.hdr;

    FUZZ_CHECK(atomic_load(&h->owner_deaths) == c->owner_deaths);
    FUZZ_CHECK(atomic_load(&h->torn_cleared) == c->torn_cleared);
    FUZZ_CHECK(atomic_load(&h->corrupt_repaired) == 0);
    FUZZ_CHECK(atomic_load(&h->corrupt_seen) == 0);
    FUZZ_CHECK(atomic_load(&h->count) == model_in_use(c));
}

/* Right after a register returned id for name: readers agree. */
static void check_registered(struct ctx *c, const char *name, uint32_t kind,
                             const struct airsrt_address *addr, uint32_t id)
{
    struct airsrt_registry_record rec;
    struct airsrt_address got;
    uint32_t got_id;

    FUZZ_CHECK(id >= 1 && id <= CAP);
    FUZZ_CHECK(airsrt_registry_resolve(&c->reg, name, &got_id, &got) == 0);
    FUZZ_CHECK(got_id == id && airsrt_address_equal(&got, addr));
    FUZZ_CHECK(airsrt_registry_lookup(&c->reg, id, &rec) == 0);
    FUZZ_CHECK(rec.id == id && rec.kind == kind);
    FUZZ_CHECK(strcmp(rec.name, name) == 0);
    FUZZ_CHECK(airsrt_address_equal(&rec.addr, addr));
}

/* Entry id reads whole: in use and well-formed, or free. */
static int check_whole(struct ctx *c, uint32_t id)
{
    struct airsrt_registry_record rec;
    int rc = airsrt_registry_lookup(&c->reg, id, &rec);

    FUZZ_CHECK(rc == 0 || rc == -ENOENT);
    return rc;
}

/* A writer repairs what its probe passes: every entry from name's home
 * slot up to slot last reads whole after it. */
static void check_probe_whole(struct ctx *c, const char *name, uint32_t last)
{
    /* Every slot is on every probe: this ends within CAP steps. */
    FUZZ_CHECK(last < CAP);
    for (uint32_t s = fnv1a(name, strlen(name)) % CAP;; s = (s + 1) % CAP) {
        check_whole(c, s + 1);
        if (s == last)
            return;
    }
}

/* After a register that took the lock, whatever the region held. */
static void check_register_repaired(struct ctx *c, const char *name, int rc,
                                    uint32_t id)
{
    uint32_t found;

    if (rc == 0) {
        check_probe_whole(c, name, id - 1);
    } else if (rc == -EEXIST) {
        /* Found whole on the probe: readers find it too, exactly. */
        FUZZ_CHECK(airsrt_registry_resolve(&c->reg, name, &found, NULL) == 0);
        check_probe_whole(c, name, found - 1);
    } else {
        /* No free slot on a probe of every slot: all read, all in use. */
        for (uint32_t s = 1; s <= CAP; s++)
            FUZZ_CHECK(check_whole(c, s) == 0);
    }
}

static void model_register(struct ctx *c, unsigned idx, uint32_t kind,
                           const struct airsrt_address *addr, int rc,
                           uint32_t id)
{
    struct model_name *m = &c->names[idx];

    if (m->is_used) {
        bool is_other = m->kind != kind ||
                        (!airsrt_address_is_null(&m->addr) &&
                         !airsrt_address_equal(&m->addr, addr));

        FUZZ_CHECK(rc == (is_other ? -EEXIST : 0));
        if (rc == 0) {
            FUZZ_CHECK(id == m->slot + 1);
            m->addr = *addr;
        }
        return;
    }
    FUZZ_CHECK(rc == (model_in_use(c) == CAP ? -ENOSPC : 0));
    if (rc == 0) {
        FUZZ_CHECK(c->owner[id - 1] == NO_SLOT && !c->is_torn[id - 1]);
        *m = (struct model_name){ true, kind, id - 1, *addr };
        c->owner[id - 1] = (int)idx;
    }
}

static void op_register(struct ctx *c, uint64_t arg)
{
    char name[FUZZ_REG_NAME_BUF];
    unsigned idx = (unsigned)(arg & 0xff) % FUZZ_REG_NAMES;
    uint32_t kind = (uint32_t)(arg >> 8) & 7, id = 0;
    struct airsrt_address addr = fuzz_reg_addr((uint16_t)(arg >> 16));
    bool is_valid = fuzz_reg_name_is_valid(idx) && addr_ok(&addr) &&
                    kind >= AIRSRT_REGISTRY_NAME &&
                    kind < AIRSRT_REGISTRY_KINDS;
    int rc;

    fuzz_reg_name(idx, name);
    if (is_valid)
        lock_taken(c);
    rc = airsrt_registry_register(&c->reg, name, kind, &addr, &id);
    FUZZ_CHECK((rc == -EINVAL) == !is_valid);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EEXIST || rc == -ENOSPC);
    if (is_valid)
        check_register_repaired(c, name, rc, id);
    if (c->is_clean && is_valid)
        model_register(c, idx, kind, &addr, rc, id);
    if (rc == 0)
        check_registered(c, name, kind, &addr, id);
}

static void model_unbind(struct ctx *c, uint32_t id,
                         const struct airsrt_address *addr, int rc)
{
    int owner = c->owner[id - 1];
    struct model_name *m = owner == NO_SLOT ? NULL : &c->names[owner];

    if (m == NULL) {
        FUZZ_CHECK(rc == -ENOENT);
    } else if (!airsrt_address_equal(&m->addr, addr)) {
        FUZZ_CHECK(rc == -ESTALE);
    } else {
        FUZZ_CHECK(rc == 0);
        m->addr = AIRSRT_ADDRESS_NULL;
    }
}

static void op_unbind(struct ctx *c, uint64_t arg)
{
    uint32_t id = (uint32_t)(arg & 0xff) % (CAP + 2);
    struct airsrt_address addr = fuzz_reg_addr((uint16_t)(arg >> 16));
    bool is_valid = id >= 1 && id <= CAP && !airsrt_address_is_null(&addr);
    int rc;

    if (is_valid)
        lock_taken(c);
    rc = airsrt_registry_unbind(&c->reg, id, &addr);
    FUZZ_CHECK((rc == -EINVAL) == !is_valid);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -ESTALE);
    /* It read its entry under the lock, repairing it if need be. */
    if (is_valid)
        FUZZ_CHECK(check_whole(c, id) == (rc == -ENOENT ? -ENOENT : 0));
    if (c->is_clean && is_valid)
        model_unbind(c, id, &addr, rc);
}

static void op_unregister(struct ctx *c, uint64_t arg)
{
    char name[FUZZ_REG_NAME_BUF];
    unsigned idx = (unsigned)(arg & 0xff) % FUZZ_REG_NAMES;
    bool is_valid = fuzz_reg_name_is_valid(idx);
    int rc;

    fuzz_reg_name(idx, name);
    if (is_valid)
        lock_taken(c);
    rc = airsrt_registry_unregister(&c->reg, name);
    FUZZ_CHECK((rc == -EINVAL) == !is_valid);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT);
    /* Not found: the writer walked the whole probe and repaired it, so
     * resolve walks only whole entries to the same end and is sure. (One
     * that removed the name stopped there: past it, an entry may still be
     * torn, or a sealed scribble may hold the name again.) */
    if (is_valid && (rc == -ENOENT || c->is_clean))
        FUZZ_CHECK(airsrt_registry_resolve(&c->reg, name, NULL, NULL) ==
                   -ENOENT);
    if (c->is_clean && is_valid) {
        struct model_name *m = &c->names[idx];

        FUZZ_CHECK(rc == (m->is_used ? 0 : -ENOENT));
        if (m->is_used)
            c->owner[m->slot] = NO_SLOT;
        m->is_used = false;
    }
}

/* Whatever a lookup hands out is whole and well-formed. */
static void check_record(const struct airsrt_registry_record *rec,
                         uint32_t id)
{
    size_t n = strnlen(rec->name, sizeof(rec->name));

    FUZZ_CHECK(rec->id == id);
    FUZZ_CHECK(rec->kind >= AIRSRT_REGISTRY_NAME &&
               rec->kind < AIRSRT_REGISTRY_KINDS);
    FUZZ_CHECK(n < sizeof(rec->name));
    FUZZ_CHECK(airsrt_registry_name_validate(rec->name) == 0);
    FUZZ_CHECK(addr_ok(&rec->addr));
}

static void model_resolve(const struct ctx *c, unsigned idx, int rc,
                          uint32_t id, const struct airsrt_address *addr)
{
    const struct model_name *m = &c->names[idx];
    bool may_retry = model_has_torn(c);

    if (m->is_used && c->is_torn[m->slot]) {
        FUZZ_CHECK(rc == -EAGAIN);
    } else if (m->is_used) {
        FUZZ_CHECK(rc == 0 || (may_retry && rc == -EAGAIN));
        FUZZ_CHECK(rc != 0 || (id == m->slot + 1 &&
                               airsrt_address_equal(addr, &m->addr)));
    } else {
        FUZZ_CHECK(rc == -ENOENT || (may_retry && rc == -EAGAIN));
    }
}

static void op_resolve(struct ctx *c, uint64_t arg)
{
    char name[FUZZ_REG_NAME_BUF];
    unsigned idx = (unsigned)(arg & 0xff) % FUZZ_REG_NAMES;
    struct airsrt_registry_record rec;
    struct airsrt_address addr;
    uint32_t id = 0;
    int rc;

    fuzz_reg_name(idx, name);
    rc = airsrt_registry_resolve(&c->reg, name, &id, &addr);
    FUZZ_CHECK((rc == -EINVAL) == !fuzz_reg_name_is_valid(idx));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -EAGAIN);
    if (rc == 0) {
        FUZZ_CHECK(id >= 1 && id <= CAP && addr_ok(&addr));
        /* Nobody writes in between: the entry still reads the same. */
        FUZZ_CHECK(airsrt_registry_lookup(&c->reg, id, &rec) == 0);
        check_record(&rec, id);
        FUZZ_CHECK(strcmp(rec.name, name) == 0);
        FUZZ_CHECK(airsrt_address_equal(&rec.addr, &addr));
    }
    if (c->is_clean && rc != -EINVAL)
        model_resolve(c, idx, rc, id, &addr);
}

static void model_lookup(const struct ctx *c, uint32_t id, int rc,
                         const struct airsrt_registry_record *rec)
{
    int owner = c->owner[id - 1];
    char name[FUZZ_REG_NAME_BUF];

    if (c->is_torn[id - 1]) {
        FUZZ_CHECK(rc == -EAGAIN);
        return;
    }
    FUZZ_CHECK(rc == (owner == NO_SLOT ? -ENOENT : 0));
    if (rc == 0) {
        fuzz_reg_name((unsigned)owner, name);
        FUZZ_CHECK(strcmp(rec->name, name) == 0);
        FUZZ_CHECK(rec->kind == c->names[owner].kind);
        FUZZ_CHECK(airsrt_address_equal(&rec->addr, &c->names[owner].addr));
    }
}

static void op_lookup(struct ctx *c, uint64_t arg)
{
    uint32_t id = (uint32_t)(arg & 0xff) % (CAP + 2);
    struct airsrt_registry_record rec;
    int rc = airsrt_registry_lookup(&c->reg, id, &rec);

    FUZZ_CHECK((rc == -EINVAL) == (id == 0 || id > CAP));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -EAGAIN ||
               rc == -EBADMSG);
    if (rc == 0)
        check_record(&rec, id);
    if (c->is_clean && rc != -EINVAL)
        model_lookup(c, id, rc, &rec);
}

/* Just after a sweep: every entry reads whole, count is exact and the
 * capacity word is the trusted one. Returns how many are in use. */
static uint32_t check_swept(struct ctx *c)
{
    uint32_t in_use = 0;

    for (uint32_t id = 1; id <= CAP; id++)
        in_use += check_whole(c, id) == 0;
    FUZZ_CHECK(atomic_load(&c->reg.hdr->count) == in_use);
    FUZZ_CHECK(c->reg.hdr->capacity == CAP);
    return in_use;
}

/* The contract of unbind_incarnation(w, inc), whatever the region held:
 * no entry is torn, and none readable as in use is bound to inc of w. */
static void check_unbound(struct ctx *c, uint32_t w, uint32_t inc)
{
    struct airsrt_registry_record rec;

    for (uint32_t id = 1; id <= CAP; id++) {
        FUZZ_CHECK((airsrt_registry_generation(&c->reg, id) & 1) == 0);
        if (airsrt_registry_lookup(&c->reg, id, &rec) != 0)
            continue;
        check_record(&rec, id);
        FUZZ_CHECK(!(rec.addr.node == 0 && rec.addr.worker == w &&
                     rec.addr.incarnation == inc));
    }
}

/* Keeps a copy of the region as it is before a call, to diff against. */
static void snapshot(struct ctx *c)
{
    memcpy(c->before, c->region, FUZZ_REG_REGION);
}

enum entry_state { ENTRY_FREE, ENTRY_USED, ENTRY_CORRUPT, ENTRY_TORN };

/* What a reader makes of entry id of reg (the copy: its lookups count
 * corrupt entries there, not in the region under test). */
static enum entry_state entry_state(const struct airsrt_registry *reg,
                                    uint32_t id,
                                    struct airsrt_registry_record *rec)
{
    int rc;

    if (airsrt_registry_generation(reg, id) & 1)
        return ENTRY_TORN;
    rc = airsrt_registry_lookup(reg, id, rec);
    FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG);
    return rc == 0 ? ENTRY_USED : rc == -ENOENT ? ENTRY_FREE : ENTRY_CORRUPT;
}

/* What a call that took the lock did, entry by entry. */
struct diff {
    uint64_t torn, repaired, unbound, in_use;
};

/* Cleared to a tombstone by a writer. */
static void check_tombstone(const struct ctx *c, uint32_t id)
{
    const struct airsrt_registry_entry *e = &c->reg.entries[id - 1];
    struct airsrt_registry_record rec;

    FUZZ_CHECK(airsrt_registry_lookup(&c->reg, id, &rec) == -ENOENT);
    FUZZ_CHECK(e->kind == AIRSRT_REGISTRY_TOMBSTONE);
}

/* An entry that was in use, now the same but unbound. */
static void check_now_unbound(const struct ctx *c, uint32_t id,
                              const struct airsrt_registry_record *was)
{
    struct airsrt_registry_record rec;

    FUZZ_CHECK(airsrt_registry_lookup(&c->reg, id, &rec) == 0);
    FUZZ_CHECK(rec.kind == was->kind && rec.id == id);
    FUZZ_CHECK(strcmp(rec.name, was->name) == 0);
    FUZZ_CHECK(airsrt_address_is_null(&rec.addr));
}

/*
 * Against the copy taken before a locked call: every torn entry was
 * cleared; every corrupt one too if is_full (a sweep), else only those
 * whose raw holder is inc of w; those in use and held by inc of w (none
 * when inc is 0) are unbound; every other entry is byte for byte as it
 * was. Fills d with what moved.
 */
static void diff_entries(struct ctx *c, uint32_t w, uint32_t inc,
                         bool is_full, struct diff *d)
{
    *d = (struct diff){ 0 };
    for (uint32_t id = 1; id <= CAP; id++) {
        const struct airsrt_registry_entry *e = &c->before_reg.entries[id - 1];
        struct airsrt_registry_record was;
        enum entry_state st = entry_state(&c->before_reg, id, &was);
        bool is_held = inc != 0 && e->addr.node == 0 &&
                       e->addr.worker == w && e->addr.incarnation == inc;
        bool is_read = st == ENTRY_TORN || is_full || is_held;

        if (is_read && (st == ENTRY_TORN || st == ENTRY_CORRUPT)) {
            check_tombstone(c, id);
            d->torn += st == ENTRY_TORN;
            d->repaired += st == ENTRY_CORRUPT;
            continue;
        }
        d->in_use += st == ENTRY_USED;
        if (st == ENTRY_USED && is_held) {
            check_now_unbound(c, id, &was);
            d->unbound++;
            continue;
        }
        FUZZ_CHECK(memcmp(e, &c->reg.entries[id - 1], sizeof(*e)) == 0);
    }
}

/* The header moved by exactly d: a sweep (is_full) recounts, nothing
 * else touches count; a scribbled capacity word is one more repair. */
static void check_header_moved(const struct ctx *c, const struct diff *d,
                               bool was_dead, bool is_full)
{
    const struct airsrt_registry_hdr *was = c->before_reg.hdr;
    const struct airsrt_registry_hdr *now = c->reg.hdr;
    uint64_t repaired = d->repaired + (was->capacity != CAP);

    FUZZ_CHECK(atomic_load(&now->owner_deaths) -
               atomic_load(&was->owner_deaths) == was_dead);
    FUZZ_CHECK(atomic_load(&now->torn_cleared) -
               atomic_load(&was->torn_cleared) == d->torn);
    FUZZ_CHECK(atomic_load(&now->corrupt_repaired) -
               atomic_load(&was->corrupt_repaired) == repaired);
    FUZZ_CHECK(atomic_load(&now->count) ==
               (is_full ? d->in_use : atomic_load(&was->count)));
    FUZZ_CHECK(now->capacity == CAP);
}

static void model_unbind_inc(struct ctx *c, uint32_t w, uint32_t inc,
                             ssize_t n)
{
    ssize_t want = 0;

    for (unsigned i = 0; i < FUZZ_REG_VALID_NAMES; i++) {
        struct model_name *m = &c->names[i];

        if (m->is_used && m->addr.node == 0 && m->addr.worker == w &&
            m->addr.incarnation == inc) {
            m->addr = AIRSRT_ADDRESS_NULL;
            want++;
        }
    }
    FUZZ_CHECK(n == want);
}

static void op_unbind_inc(struct ctx *c, uint64_t arg)
{
    uint32_t w = (uint32_t)(arg & 3) + (arg & 4 ? AIRSRT_MAX_WORKERS : 0);
    uint32_t inc = (uint32_t)(arg >> 8) & 3;
    bool is_valid = w < AIRSRT_MAX_WORKERS && inc != 0, was_dead = false;
    struct diff d;
    ssize_t n;

    if (is_valid) {
        snapshot(c);
        was_dead = lock_taken(c);
    }
    n = airsrt_registry_unbind_incarnation(&c->reg, w, inc);
    FUZZ_CHECK((n == -EINVAL) == !is_valid);
    FUZZ_CHECK(n == -EINVAL || (n >= 0 && n <= CAP));
    if (n >= 0) {
        check_unbound(c, w, inc);
        diff_entries(c, w, inc, was_dead, &d);
        FUZZ_CHECK((uint64_t)n == d.unbound);
        check_header_moved(c, &d, was_dead, was_dead);
    }
    if (c->is_clean && is_valid)
        model_unbind_inc(c, w, inc, n);
}

static void op_scribble(struct ctx *c, uint64_t arg)
{
    uint32_t word = (uint32_t)(arg >> 32);
    size_t off = FUZZ_REG_LOCK_END +
                 (size_t)(arg & 0xffff) % (FUZZ_REG_GARBAGE_MAX - 3);

    memcpy(c->region + off, &word, sizeof(word));
    c->is_clean = false;
}

/* Gives entry s the checksum of whatever it holds: garbage that passes
 * the checksum, so that only the shape checks stand in its way. */
static void op_seal(struct ctx *c, uint32_t s)
{
    struct airsrt_registry_entry *e = &c->reg.entries[s];

    e->checksum = fnv1a((uint8_t *)e + 8, sizeof(*e) - 8);
    atomic_store(&e->generation, atomic_load(&e->generation) & ~1u);
    c->is_clean = false;
}

struct dying_writer {
    struct airsrt_registry *reg;
    uint32_t slot;
    uint64_t junk;
};

/* A writer that dies mid-entry, holding the lock. */
static void *die_mid_entry(void *arg)
{
    struct dying_writer *d = arg;
    struct airsrt_registry_entry *e = &d->reg->entries[d->slot];
    bool owner_died;

    FUZZ_CHECK(airsrt_robust_lock(&d->reg->hdr->lock, &owner_died) == 0);
    atomic_fetch_or(&e->generation, 1u);
    memcpy((uint8_t *)e + 8 + d->junk % 100, &d->junk, 8);
    return NULL;
}

static void op_die(struct ctx *c, uint64_t arg)
{
    struct dying_writer d = { &c->reg, (uint32_t)(arg % CAP), arg >> 8 };
    pthread_t t;

    if (c->deaths++ >= MAX_DEATHS)
        return;
    FUZZ_CHECK(pthread_create(&t, NULL, die_mid_entry, &d) == 0);
    FUZZ_CHECK(pthread_join(t, NULL) == 0);
    c->is_owner_dead = true;
    c->is_torn[d.slot] = true;
}

static void apply(struct ctx *c, uint8_t kind, uint64_t arg)
{
    switch (kind % FUZZ_REG_NOPS) {
    case FUZZ_REG_REGISTER:
        op_register(c, arg);
        break;
    case FUZZ_REG_UNBIND:
        op_unbind(c, arg);
        break;
    case FUZZ_REG_UNREGISTER:
        op_unregister(c, arg);
        break;
    case FUZZ_REG_RESOLVE:
        op_resolve(c, arg);
        break;
    case FUZZ_REG_LOOKUP:
        op_lookup(c, arg);
        break;
    case FUZZ_REG_UNBIND_INC:
        op_unbind_inc(c, arg);
        break;
    case FUZZ_REG_SCRIBBLE:
        op_scribble(c, arg);
        break;
    case FUZZ_REG_SEAL:
        op_seal(c, (uint32_t)(arg % CAP));
        break;
    case FUZZ_REG_ODD:
        atomic_fetch_or(&c->reg.entries[arg % CAP].generation, 1u);
        c->is_clean = false;
        break;
    case FUZZ_REG_DIE:
        op_die(c, arg);
        break;
    default:
        FUZZ_CHECK(airsrt_registry_bind(&c->reg, c->region, FUZZ_REG_REGION,
                                        CAP) == 0);
        break;
    }
    if (c->is_clean)
        model_check_counters(c);
}

/* The script is over: a sweep repairs everything and recounts, and the
 * table then refuses a name for room exactly when every slot is in use. */
static void check_recovery(struct ctx *c)
{
    struct airsrt_address a = { .worker = 2, .incarnation = 1, .slot = 1,
                                .generation = 1 };
    uint32_t in_use, id;
    struct diff d;
    bool is_there, was_dead;
    ssize_t swept;
    int rc;

    snapshot(c);
    was_dead = lock_taken(c);
    swept = airsrt_registry_sweep(&c->reg);
    FUZZ_CHECK(swept >= 0 && swept <= CAP);
    diff_entries(c, 0, 0, true, &d);
    FUZZ_CHECK((uint64_t)swept == d.in_use);
    check_header_moved(c, &d, was_dead, true);
    in_use = check_swept(c);
    FUZZ_CHECK(in_use == swept);
    if (c->is_clean) {
        FUZZ_CHECK(in_use == model_in_use(c));
        model_check_counters(c);
    }
    /* Swept: nothing on any probe is unreadable, so resolve is exact. */
    rc = airsrt_registry_resolve(&c->reg, "final-name", NULL, NULL);
    FUZZ_CHECK(rc == 0 || rc == -ENOENT);
    is_there = rc == 0;
    rc = airsrt_registry_register(&c->reg, "final-name", AIRSRT_REGISTRY_NAME,
                                  &a, &id);
    if (is_there)
        FUZZ_CHECK(rc == 0 || rc == -EEXIST);
    else
        FUZZ_CHECK(rc == (in_use == CAP ? -ENOSPC : 0));
    if (rc == 0)
        check_registered(c, "final-name", AIRSRT_REGISTRY_NAME, &a, id);
}

static void setup(struct ctx *c, struct fuzz_in *in)
{
    size_t garbage = fuzz_u16(in);

    memset(c, 0, sizeof(*c));
    for (uint32_t s = 0; s < CAP; s++)
        c->owner[s] = NO_SLOT;
    c->region = aligned_alloc(64, FUZZ_REG_REGION);
    c->before = aligned_alloc(64, FUZZ_REG_REGION);
    FUZZ_CHECK(c->region != NULL && c->before != NULL);
    FUZZ_CHECK(airsrt_registry_init(c->region, FUZZ_REG_REGION, CAP) == 0);
    if (garbage > FUZZ_REG_GARBAGE_MAX)
        garbage = FUZZ_REG_GARBAGE_MAX;
    for (size_t i = 0; i < garbage; i++)
        c->region[FUZZ_REG_LOCK_END + i] = fuzz_u8(in);
    c->is_clean = garbage == 0;
    FUZZ_CHECK(airsrt_registry_bind(&c->reg, c->region, FUZZ_REG_REGION,
                                    CAP) == 0);
    FUZZ_CHECK(airsrt_registry_bind(&c->before_reg, c->before,
                                    FUZZ_REG_REGION, CAP) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    struct ctx *c = malloc(sizeof(*c));

    FUZZ_CHECK(c != NULL);
    setup(c, &in);
    for (unsigned i = 0; i < MAX_OPS && in.n > 0; i++) {
        uint8_t kind = fuzz_u8(&in);

        apply(c, kind, fuzz_u64(&in));
    }
    check_recovery(c);
    pthread_mutex_destroy(&c->reg.hdr->lock);
    free(c->region);
    free(c->before);
    free(c);
    return 0;
}
