/*
 * shm/registry.c - the registry table: register, unbind, unregister under
 * the robust lock; resolve and lookup lock-free (layout, orderings and
 * crash rules in registry.h).
 *
 * Readers never take the lock and never write an entry; writers repair
 * every torn or corrupt entry they meet instead of following it. Nothing
 * read from the region bounds a loop or indexes memory: every walk is
 * bounded by the capacity in the process-local handle.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "shm/cpu.h"
#include "shm/registry.h"
#include "shm/robust.h"
#include "shm/segment.h"
#include "shm/stat.h"

#define NO_SLOT UINT32_MAX
#define FNV_BASIS 0x811c9dc5u
#define FNV_PRIME 0x01000193u

/* Single relaxed accesses to the plain fields of an entry: they race with
 * the other side by design, and the generation says which reads count. */
#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static uint32_t fnv1a(uint32_t h, const void *p, size_t len)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

static uint32_t checksum(const struct airsrt_registry_record *r)
{
    return fnv1a(FNV_BASIS, r, sizeof(*r));
}

static uint32_t home_slot(const struct airsrt_registry *reg, const char *name)
{
    return fnv1a(FNV_BASIS, name, strlen(name)) % reg->capacity;
}

int airsrt_registry_name_validate(const char *name)
{
    size_t n = strnlen(name, AIRSRT_REGISTRY_NAME_MAX + 1);

    if (n == 0 || n > AIRSRT_REGISTRY_NAME_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 0x21 || name[i] > 0x7e)
            return -EINVAL;
    return 0;
}

static bool is_zero(const void *p, size_t len)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++)
        if (b[i] != 0)
            return false;
    return true;
}

/* An address an entry may hold: null (unbound) or valid. */
static bool addr_ok(const struct airsrt_address *a)
{
    return airsrt_address_is_null(a) || airsrt_address_validate(a) == 0;
}

static bool is_in_use(uint32_t kind)
{
    return kind >= AIRSRT_REGISTRY_NAME && kind < AIRSRT_REGISTRY_KINDS;
}

/* True if r is exactly what a writer would have put in slot: the shape
 * as well as the checksum, so that a scribble with a lucky checksum still
 * cannot hand out a bad name, id or address. */
static bool record_ok(const struct airsrt_registry_record *r, uint32_t sum,
                      uint32_t slot)
{
    size_t n;

    if (sum != checksum(r) || r->kind >= AIRSRT_REGISTRY_KINDS)
        return false;
    if (!is_in_use(r->kind))
        return r->id == 0 && airsrt_address_is_null(&r->addr) &&
               is_zero(r->name, sizeof(r->name));
    n = strnlen(r->name, sizeof(r->name));
    return r->id == slot + 1 && n < sizeof(r->name) &&
           airsrt_registry_name_validate(r->name) == 0 &&
           is_zero(r->name + n, sizeof(r->name) - n) && addr_ok(&r->addr);
}

/* A record with nothing but kind (EMPTY or TOMBSTONE). */
static void record_free(struct airsrt_registry_record *r, uint32_t kind)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
}

static void record_load(const struct airsrt_registry_entry *e,
                        struct airsrt_registry_record *r)
{
    r->kind = LOAD(e->kind);
    r->id = LOAD(e->id);
    r->addr.node = LOAD(e->addr.node);
    r->addr.worker = LOAD(e->addr.worker);
    r->addr.incarnation = LOAD(e->addr.incarnation);
    r->addr.slot = LOAD(e->addr.slot);
    r->addr.generation = LOAD(e->addr.generation);
    for (size_t i = 0; i < sizeof(r->name); i++)
        r->name[i] = LOAD(e->name[i]);
}

static void record_store(struct airsrt_registry_entry *e,
                         const struct airsrt_registry_record *r)
{
    STORE(e->kind, r->kind);
    STORE(e->id, r->id);
    STORE(e->addr.node, r->addr.node);
    STORE(e->addr.worker, r->addr.worker);
    STORE(e->addr.incarnation, r->addr.incarnation);
    STORE(e->addr.slot, r->addr.slot);
    STORE(e->addr.generation, r->addr.generation);
    for (size_t i = 0; i < sizeof(r->name); i++)
        STORE(e->name[i], r->name[i]);
}

static void backoff(unsigned attempt)
{
    for (unsigned i = 0; i < 1u << attempt; i++)
        airsrt__cpu_relax();
}

/*
 * Reads slot whole, in at most tries attempts: 0 with r filled; -EAGAIN
 * if the generation stayed odd or kept changing; -EBADMSG if the entry is
 * stable but not what a writer writes.
 */
static int entry_read(const struct airsrt_registry *reg, uint32_t slot,
                      struct airsrt_registry_record *r, unsigned tries)
{
    const struct airsrt_registry_entry *e = &reg->entries[slot];

    for (unsigned attempt = 0; attempt < tries; attempt++) {
        uint32_t gen, sum;

        if (attempt > 0)
            backoff(attempt);
        /* Pairs with the release store in entry_write_locked(): an even
         * generation shows every field of the write that made it. */
        gen = atomic_load_explicit(&e->generation, memory_order_acquire);
        if (gen & 1)
            continue;
        sum = LOAD(e->checksum);
        record_load(e, r);
        /* Pairs with the release fence in entry_write_locked(): had we
         * read a field of a newer write, we now see its odd generation. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->generation, memory_order_relaxed) != gen)
            continue;
        return record_ok(r, sum, slot) ? 0 : -EBADMSG;
    }
    return -EAGAIN;
}

/* The only way an entry changes (protocol in registry.h). */
static void entry_write_locked(struct airsrt_registry_entry *e,
                               const struct airsrt_registry_record *r)
{
    uint32_t odd = atomic_load_explicit(&e->generation,
                                        memory_order_relaxed) | 1u;

    atomic_store_explicit(&e->generation, odd, memory_order_relaxed);
    /* Pairs with the acquire fence in entry_read(): no field store below
     * is visible to a reader without the odd generation. */
    atomic_thread_fence(memory_order_release);
    record_store(e, r);
    STORE(e->checksum, checksum(r));
    atomic_store_explicit(&e->generation, odd + 1, memory_order_release);
}

static void count_corrupt_seen(const struct airsrt_registry *reg)
{
    atomic_fetch_add_explicit(&reg->hdr->corrupt_seen, 1,
                              memory_order_relaxed);
}

/* Entries in use; approximate only if a scribbler wrote it. */
static void names_add(struct airsrt_registry *reg, uint32_t delta)
{
    uint32_t n = atomic_load_explicit(&reg->hdr->count, memory_order_relaxed);

    atomic_store_explicit(&reg->hdr->count, n + delta, memory_order_relaxed);
}

/*
 * Reads slot under the lock. Nobody else writes entries now, so an odd or
 * moving generation is a dead writer's (or a scribbler's) and a bad entry
 * stays bad: either is cleared to a tombstone, counted, and returned as
 * such. r always ends up whole.
 */
static void entry_get_locked(struct airsrt_registry *reg, uint32_t slot,
                             struct airsrt_registry_record *r)
{
    int rc = entry_read(reg, slot, r, 1);

    if (rc == 0)
        return;
    airsrt__stat_add(rc == -EAGAIN ? &reg->hdr->torn_cleared
                                   : &reg->hdr->corrupt_repaired, 1);
    record_free(r, AIRSRT_REGISTRY_TOMBSTONE);
    entry_write_locked(&reg->entries[slot], r);
}

/*
 * Reads every entry whole, so that each torn or corrupt one is cleared,
 * and recounts the names in use: the one place count is made exact again
 * after repairs made in passing. Returns that count.
 */
static uint32_t sweep_locked(struct airsrt_registry *reg)
{
    struct airsrt_registry_record r;
    uint32_t in_use = 0;

    for (uint32_t slot = 0; slot < reg->capacity; slot++) {
        entry_get_locked(reg, slot, &r);
        in_use += is_in_use(r.kind);
    }
    atomic_store_explicit(&reg->hdr->count, in_use, memory_order_relaxed);
    return in_use;
}

/*
 * Unbinds the entries held by incarnation inc of local worker w, and
 * clears torn ones (odd generation), without reading the rest whole:
 * checking all of a 4096-entry table cost ~0.7 ms, which the supervisor
 * paid on every restart. Under the lock nobody else writes, so the raw
 * fields can be looked at directly; a candidate is then read whole
 * (which repairs it if it is broken) before it is changed. Scribbled
 * entries elsewhere are repaired by the next writer that meets them, as
 * always. Returns how many it unbound.
 */
static ssize_t unbind_incarnation_locked(struct airsrt_registry *reg,
                                         uint32_t w, uint32_t inc)
{
    struct airsrt_registry_record r;
    ssize_t unbound = 0;

    for (uint32_t slot = 0; slot < reg->capacity; slot++) {
        const struct airsrt_registry_entry *e = &reg->entries[slot];
        bool is_torn = atomic_load_explicit(&e->generation,
                                            memory_order_relaxed) & 1;

        if (!is_torn && (e->addr.node != 0 || e->addr.worker != w ||
                         e->addr.incarnation != inc))
            continue;
        entry_get_locked(reg, slot, &r);
        if (is_in_use(r.kind) && r.addr.node == 0 && r.addr.worker == w &&
            r.addr.incarnation == inc) {
            r.addr = AIRSRT_ADDRESS_NULL;
            entry_write_locked(&reg->entries[slot], &r);
            unbound++;
        }
    }
    return unbound;
}

static int registry_lock(struct airsrt_registry *reg)
{
    bool owner_died;
    int rc = airsrt_robust_lock(&reg->hdr->lock, &owner_died);

    if (rc < 0)
        return rc;
    if (owner_died) {
        /* The owner died holding the lock, maybe mid-entry: that entry's
         * generation is odd. Clear every such entry before relying on
         * the table. */
        airsrt__stat_add(&reg->hdr->owner_deaths, 1);
        sweep_locked(reg);
    }
    if (reg->hdr->capacity != reg->capacity) {
        /* Scribbled: only tools read it, but they should read the truth. */
        airsrt__stat_add(&reg->hdr->corrupt_repaired, 1);
        reg->hdr->capacity = reg->capacity;
    }
    return 0;
}

static void registry_unlock(struct airsrt_registry *reg)
{
    airsrt_robust_unlock(&reg->hdr->lock);
}

/*
 * Walks name's probe under the lock, repairing what it passes. Returns
 * true with *slot and r when the name is there; otherwise false with
 * *slot the first reusable slot on the probe, or NO_SLOT.
 */
static bool find_locked(struct airsrt_registry *reg, const char *name,
                        uint32_t *slot, struct airsrt_registry_record *r)
{
    uint32_t home = home_slot(reg, name), reuse = NO_SLOT;

    for (uint32_t i = 0; i < reg->capacity; i++) {
        uint32_t s = (uint32_t)(((uint64_t)home + i) % reg->capacity);

        entry_get_locked(reg, s, r);
        if (!is_in_use(r->kind)) {
            if (reuse == NO_SLOT)
                reuse = s;
            if (r->kind == AIRSRT_REGISTRY_EMPTY)
                break;
            continue;
        }
        if (strcmp(r->name, name) == 0) {
            *slot = s;
            return true;
        }
    }
    *slot = reuse;
    return false;
}

static int check_region(const void *region, size_t size, uint32_t capacity)
{
    if (capacity == 0 || capacity > AIRSRT_REGISTRY_CAP_MAX ||
        size < AIRSRT_REGISTRY_SIZE(capacity) ||
        (uintptr_t)region % alignof(struct airsrt_registry_hdr) != 0)
        return -EINVAL;
    return 0;
}

int airsrt_registry_bind(struct airsrt_registry *reg, void *region,
                         size_t size, uint32_t capacity)
{
    int rc = check_region(region, size, capacity);

    if (rc < 0)
        return rc;
    reg->hdr = region;
    reg->entries = (void *)((uint8_t *)region + AIRSRT_REGISTRY_ENTRIES_OFF);
    reg->capacity = capacity;
    return 0;
}

int airsrt_registry_open(struct airsrt_registry *reg,
                         const struct airsrt_shm *shm)
{
    return airsrt_registry_bind(reg, airsrt_shm_registry(shm),
                                shm->layout.registry_size,
                                shm->params.registry_capacity);
}

int airsrt_registry_init(void *region, size_t size, uint32_t capacity)
{
    struct airsrt_registry reg;
    struct airsrt_registry_record empty;
    int rc = airsrt_registry_bind(&reg, region, size, capacity);

    if (rc < 0)
        return rc;
    memset(region, 0, AIRSRT_REGISTRY_SIZE(capacity));
    rc = airsrt_robust_init(&reg.hdr->lock);
    if (rc < 0)
        return rc;
    reg.hdr->capacity = capacity;
    /* Without the lock: nobody else can see the region yet. */
    record_free(&empty, AIRSRT_REGISTRY_EMPTY);
    for (uint32_t slot = 0; slot < capacity; slot++)
        entry_write_locked(&reg.entries[slot], &empty);
    return 0;
}

static int check_binding(uint32_t kind, const struct airsrt_address *addr)
{
    if (!is_in_use(kind) || !addr_ok(addr))
        return -EINVAL;
    return 0;
}

static int register_locked(struct airsrt_registry *reg, const char *name,
                           uint32_t kind, const struct airsrt_address *addr,
                           uint32_t *id)
{
    struct airsrt_registry_record r;
    uint32_t slot;

    if (find_locked(reg, name, &slot, &r)) {
        if (r.kind != kind)
            return -EEXIST;
        if (!airsrt_address_is_null(&r.addr)) {
            if (!airsrt_address_equal(&r.addr, addr))
                return -EEXIST;
            *id = r.id;
            return 0;
        }
    } else if (slot == NO_SLOT) {
        return -ENOSPC;
    } else {
        memset(&r, 0, sizeof(r));
        r.kind = kind;
        r.id = slot + 1;
        memcpy(r.name, name, strlen(name));
        names_add(reg, 1);
    }
    r.addr = *addr;
    entry_write_locked(&reg->entries[slot], &r);
    *id = r.id;
    return 0;
}

int airsrt_registry_register(struct airsrt_registry *reg, const char *name,
                             uint32_t kind, const struct airsrt_address *addr,
                             uint32_t *id)
{
    int rc = airsrt_registry_name_validate(name);

    if (rc == 0)
        rc = check_binding(kind, addr);
    if (rc == 0)
        rc = registry_lock(reg);
    if (rc < 0)
        return rc;
    rc = register_locked(reg, name, kind, addr, id);
    registry_unlock(reg);
    return rc;
}

static int unbind_locked(struct airsrt_registry *reg, uint32_t slot,
                         const struct airsrt_address *addr)
{
    struct airsrt_registry_record r;

    entry_get_locked(reg, slot, &r);
    if (!is_in_use(r.kind))
        return -ENOENT;
    if (!airsrt_address_equal(&r.addr, addr))
        return -ESTALE;
    r.addr = AIRSRT_ADDRESS_NULL;
    entry_write_locked(&reg->entries[slot], &r);
    return 0;
}

int airsrt_registry_unbind(struct airsrt_registry *reg, uint32_t id,
                           const struct airsrt_address *addr)
{
    int rc;

    if (id == 0 || id > reg->capacity || airsrt_address_is_null(addr))
        return -EINVAL;
    rc = registry_lock(reg);
    if (rc < 0)
        return rc;
    rc = unbind_locked(reg, id - 1, addr);
    registry_unlock(reg);
    return rc;
}

static int unregister_locked(struct airsrt_registry *reg, const char *name)
{
    struct airsrt_registry_record r;
    uint32_t slot;

    if (!find_locked(reg, name, &slot, &r))
        return -ENOENT;
    record_free(&r, AIRSRT_REGISTRY_TOMBSTONE);
    entry_write_locked(&reg->entries[slot], &r);
    names_add(reg, (uint32_t)-1);
    return 0;
}

int airsrt_registry_unregister(struct airsrt_registry *reg, const char *name)
{
    int rc = airsrt_registry_name_validate(name);

    if (rc == 0)
        rc = registry_lock(reg);
    if (rc < 0)
        return rc;
    rc = unregister_locked(reg, name);
    registry_unlock(reg);
    return rc;
}

ssize_t airsrt_registry_unbind_incarnation(struct airsrt_registry *reg,
                                           uint32_t w, uint32_t inc)
{
    ssize_t n;
    int rc;

    if (w >= AIRSRT_MAX_WORKERS || inc == 0)
        return -EINVAL;
    rc = registry_lock(reg);
    if (rc < 0)
        return rc;
    n = unbind_incarnation_locked(reg, w, inc);
    registry_unlock(reg);
    return n;
}

ssize_t airsrt_registry_sweep(struct airsrt_registry *reg)
{
    ssize_t n;
    int rc = registry_lock(reg);

    if (rc < 0)
        return rc;
    /* If the owner had died, registry_lock() just swept: this second
     * pass finds nothing to repair, and is cheaper than telling. */
    n = sweep_locked(reg);
    registry_unlock(reg);
    return n;
}

int airsrt_registry_resolve(const struct airsrt_registry *reg,
                            const char *name, uint32_t *id,
                            struct airsrt_address *addr)
{
    struct airsrt_registry_record r;
    uint32_t home;
    bool is_unsure = false;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    home = home_slot(reg, name);
    for (uint32_t i = 0; i < reg->capacity; i++) {
        uint32_t s = (uint32_t)(((uint64_t)home + i) % reg->capacity);
        int rc = entry_read(reg, s, &r, AIRSRT_REGISTRY_READ_TRIES);

        /* An entry we cannot read may be the name: say so, not absent. */
        if (rc == -EAGAIN) {
            is_unsure = true;
            continue;
        }
        if (rc == -EBADMSG) {
            count_corrupt_seen(reg);
            continue;
        }
        if (r.kind == AIRSRT_REGISTRY_EMPTY)
            break;
        if (is_in_use(r.kind) && strcmp(r.name, name) == 0) {
            if (id != NULL)
                *id = r.id;
            if (addr != NULL)
                *addr = r.addr;
            return 0;
        }
    }
    return is_unsure ? -EAGAIN : -ENOENT;
}

int airsrt_registry_lookup(const struct airsrt_registry *reg, uint32_t id,
                           struct airsrt_registry_record *rec)
{
    int rc;

    if (id == 0 || id > reg->capacity)
        return -EINVAL;
    rc = entry_read(reg, id - 1, rec, AIRSRT_REGISTRY_READ_TRIES);
    if (rc == -EBADMSG)
        count_corrupt_seen(reg);
    if (rc == 0 && !is_in_use(rec->kind))
        rc = -ENOENT;
    return rc;
}

uint32_t airsrt_registry_generation(const struct airsrt_registry *reg,
                                    uint32_t id)
{
    if (id == 0 || id > reg->capacity)
        return 0;
    /* Pairs with the release store in entry_write_locked(). */
    return atomic_load_explicit(&reg->entries[id - 1].generation,
                                memory_order_acquire);
}
