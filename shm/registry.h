/*
 * shm/registry.h - the registry: names -> addresses, and the ids of pools
 * and topics, a fixed-capacity table in the segment's registry region.
 *
 * Any worker and the supervisor write it, one at a time, under one robust
 * mutex; anyone reads it lock-free. Readers never take the lock, so a
 * writer that dies holding it cannot stall delivery. Everything in the
 * region is untrusted for its reader, since every worker may write there:
 * no entry is followed unless it is whole, well-formed and checksummed,
 * every loop is bounded by the capacity the process got from the segment
 * parameters (never by the capacity word in the region), and a writer
 * repairs what it finds broken instead of trusting it.
 *
 * Region (offsets from the start of the registry region, capacity C):
 *
 *    off        size      what
 *      0        128       struct airsrt_registry_hdr
 *    128        C x 120   struct airsrt_registry_entry, slot s at
 *                         AIRSRT_REGISTRY_ENTRIES_OFF + 120 s
 *
 * Entries start right after the header, which is a whole number of cache
 * lines, so the region is AIRSRT_REGISTRY_SIZE(C) bytes and the segment
 * reserves it rounded up to a page.
 *
 * Stable ids: a name keeps its slot from registration until it is
 * explicitly unregistered, and its id is slot + 1 (0 is no id). When its
 * holder dies the entry is unbound (null address) but keeps its name and
 * id; the next incarnation's registration of the name binds the same id
 * again. That is why an envelope can carry a name's id across the death
 * of its holder. Known limit: unregistering frees the slot, and a later
 * name may take it and its id.
 *
 * Lookup by name: open addressing with linear probing from the home slot
 * FNV-1a-32(name) mod C. EMPTY ends a probe; TOMBSTONE (unregistered, or
 * repaired) does not. No entry ever becomes EMPTY again once used, so a
 * lock-free reader that stops at an EMPTY entry cannot miss a name
 * registered further along before it started. Every probe visits at most
 * C entries, whatever the table holds.
 */
#ifndef AIRSRT_SHM_REGISTRY_H
#define AIRSRT_SHM_REGISTRY_H

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "airsrt/address.h"

#define AIRSRT_REGISTRY_NAME_MAX 87u

/*
 * Region header.
 *
 *  off  field             written by                   ordering
 *    0  lock              writers                      robust, pshared
 *   64  capacity          the creator, before the      none: checked by
 *                         segment magic is published   writers, never used
 *   68  count             writers, under the lock      relaxed
 *   72  owner_deaths      writers, under the lock      relaxed
 *   80  corrupt_repaired  writers, under the lock      relaxed
 *   88  torn_cleared      writers, under the lock      relaxed
 *   96  corrupt_seen      readers, lock-free           relaxed fetch_add
 *  104  groups_epoch      any worker, lock-free;       release fetch_add
 *                         the supervisor after a death
 *
 * groups_epoch moves whenever a worker changes which topics it has
 * subscribers of or which of its actors are pool members (what it
 * publishes in its own pages). The worker writes those pages first, then
 * adds 1 with release; a sender that loads the epoch with acquire (pairs
 * with that release) and then reads the pages sees at least every change
 * published before that epoch, so a cache built after the load stays good
 * while the epoch is the same. A writer killed between the two leaves the
 * change unannounced until the next one; the supervisor bumps the epoch
 * once it has reaped a dead worker, and its successor announces its own
 * (empty) memberships when it binds. Garbage here costs a cache rebuild.
 * count is the number of entries in use (bound or not). Writers keep it
 * as they register and unregister; a torn or corrupt entry cleared in
 * passing is not subtracted (it may have held no name), so only a sweep
 * (airsrt_registry_sweep(), or the next locker after an owner died)
 * makes it exact again. The counters only grow, and are read by tools:
 * owner_deaths, lockers that found the previous owner dead;
 * corrupt_repaired, entries (and capacity words) a writer found with a bad
 * checksum or shape and cleared; torn_cleared, entries a writer found with
 * an odd generation and cleared; corrupt_seen, corrupt entries lock-free
 * readers refused to follow (the same entry may be counted by many
 * readers until a writer repairs it). A scribbled header costs accurate
 * counts, never memory safety: nothing here bounds a loop.
 */
struct airsrt_registry_hdr {
    pthread_mutex_t lock;
    alignas(64) uint32_t capacity;
    _Atomic uint32_t count;
    _Atomic uint64_t owner_deaths;
    _Atomic uint64_t corrupt_repaired;
    _Atomic uint64_t torn_cleared;
    _Atomic uint64_t corrupt_seen;
    _Atomic uint64_t groups_epoch;
};
static_assert(offsetof(struct airsrt_registry_hdr, capacity) == 64,
              "registry ABI");
static_assert(offsetof(struct airsrt_registry_hdr, corrupt_seen) == 96,
              "registry ABI");
static_assert(offsetof(struct airsrt_registry_hdr, groups_epoch) == 104,
              "registry ABI");
static_assert(sizeof(struct airsrt_registry_hdr) == 128, "registry ABI");

/*
 * Entry, slot s of the table.
 *
 *  off  field       meaning
 *    0  generation  odd while being written; only writers change it
 *    4  checksum    FNV-1a-32 over bytes 8..119 (kind, id, addr, name)
 *    8  kind        enum airsrt_registry_kind
 *   12  id          s + 1 while in use, else 0
 *   16  addr        holder of the name; null = unbound
 *   32  name        in use: a valid name, NUL-padded to 88 bytes;
 *                   otherwise all zero
 *
 * Every field but generation is the same as in struct
 * airsrt_registry_record, and the checksum is over exactly those bytes.
 * An EMPTY entry carries its checksum too (airsrt_registry_init writes
 * them all), so an entry zeroed by a stray memset is corrupt, not empty,
 * and cannot cut a probe chain.
 *
 * Writer, under the lock: generation made odd (relaxed store), then a
 * release fence, so that no later store is visible without the odd
 * generation; fields and checksum with relaxed single stores; generation
 * made even with a release store.
 * Reader, lock-free: generation with acquire (pairs with the writer's
 * release store: an even generation shows the fields of its write); odd
 * means retry; fields with relaxed single loads; an acquire fence (pairs
 * with the writer's release fence: a field from a newer write brings its
 * odd generation); generation again, changed means retry. After
 * AIRSRT_REGISTRY_READ_TRIES the reader gives up (-EAGAIN). A stable even
 * entry whose checksum or shape is wrong is corrupt: readers skip it (a
 * tombstone, for probing) and count it; the next writer that meets it
 * clears it to a tombstone.
 *
 * What a crash leaves behind: a writer killed mid-entry leaves that entry
 * with an odd generation and the lock owner-dead. The next locker (a
 * worker's register, or the supervisor's unbind_incarnation after the
 * death) sweeps the whole table and clears every odd entry to a
 * tombstone: that name loses its id and must be registered again. A
 * writer killed anywhere else leaves only whole entries.
 */
struct airsrt_registry_entry {
    _Atomic uint32_t generation;
    uint32_t checksum;
    uint32_t kind;
    uint32_t id;
    struct airsrt_address addr;
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];
};
static_assert(sizeof(struct airsrt_registry_entry) == 120, "registry ABI");
static_assert(offsetof(struct airsrt_registry_entry, name) == 32,
              "registry ABI");

#define AIRSRT_REGISTRY_ENTRIES_OFF (sizeof(struct airsrt_registry_hdr))
#define AIRSRT_REGISTRY_SIZE(cap)                                           \
    (AIRSRT_REGISTRY_ENTRIES_OFF +                                          \
     (uint64_t)(cap) * sizeof(struct airsrt_registry_entry))
static_assert(AIRSRT_REGISTRY_ENTRIES_OFF % 64 == 0, "registry ABI");

/* How often a lock-free reader tries an entry that is being written. */
#define AIRSRT_REGISTRY_READ_TRIES 4u

enum airsrt_registry_kind {
    AIRSRT_REGISTRY_EMPTY = 0,      /* never used: ends a probe */
    AIRSRT_REGISTRY_TOMBSTONE,      /* freed or repaired: probes go on */
    AIRSRT_REGISTRY_NAME,           /* an actor's name */
    AIRSRT_REGISTRY_POOL,           /* a pool of actors */
    AIRSRT_REGISTRY_TOPIC,          /* a pub/sub topic */
    AIRSRT_REGISTRY_KINDS
};

/* One entry as a reader saw it, whole. The bytes the checksum covers. */
struct airsrt_registry_record {
    uint32_t kind;
    uint32_t id;
    struct airsrt_address addr;
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];
};
static_assert(sizeof(struct airsrt_registry_record) == 112, "registry ABI");

/* A process's view of the registry. Not shared; capacity is trusted. */
struct airsrt_registry {
    struct airsrt_registry_hdr *hdr;
    struct airsrt_registry_entry *entries;
    uint32_t capacity;
};

struct airsrt_shm;

/*
 * Initializes a fresh region of size bytes for capacity entries: the
 * robust lock, the header, every entry EMPTY with its checksum. Only the
 * creator calls it, before anyone else can see the region. 0, -EINVAL
 * (capacity 0 or above AIRSRT_REGISTRY_CAP_MAX, region too small or not
 * 64-byte aligned) or -errno from the mutex.
 */
int airsrt_registry_init(void *region, size_t size, uint32_t capacity);

/*
 * Binds reg to a region of size bytes holding capacity entries; capacity
 * must come from a trusted place (the segment's validated parameters),
 * not from the region. A capacity word that disagrees is not refused (a
 * scribble must not lock every later worker out): the next writer
 * rewrites it. 0 or -EINVAL as for init.
 */
int airsrt_registry_bind(struct airsrt_registry *reg, void *region,
                         size_t size, uint32_t capacity);

/* Binds reg to the registry of an attached segment. */
int airsrt_registry_open(struct airsrt_registry *reg,
                         const struct airsrt_shm *shm);

/* 0 if name is a valid registry name: 1 to 87 bytes of printable ASCII
 * without spaces (0x21..0x7e), NUL-terminated; else -EINVAL. */
int airsrt_registry_name_validate(const char *name);

/*
 * Registers name as kind (NAME, POOL or TOPIC) held by addr, which is a
 * valid address or null (reserve the id, bound to nobody); stores its id.
 * A name that exists unbound, with the same kind, is bound to addr and
 * keeps its id; one already bound to addr stays so (0, same id).
 * -EINVAL: bad name, kind or address; -EEXIST: the name exists with
 * another kind or is bound to another address; -ENOSPC: no free slot on
 * its probe; -errno from the lock. Takes the lock: any worker or the
 * supervisor.
 */
int airsrt_registry_register(struct airsrt_registry *reg, const char *name,
                             uint32_t kind, const struct airsrt_address *addr,
                             uint32_t *id);

/*
 * Unbinds entry id if it is still bound to exactly addr (not null), so a
 * late cleanup never unbinds a newer incarnation. 0; -EINVAL: id 0 or
 * past the capacity, or addr null; -ENOENT: id not in use; -ESTALE: bound
 * to something else, or unbound. Takes the lock.
 */
int airsrt_registry_unbind(struct airsrt_registry *reg, uint32_t id,
                           const struct airsrt_address *addr);

/* Removes name: its slot becomes a tombstone and its id may be reused.
 * 0, -EINVAL bad name, -ENOENT no such name. Takes the lock. */
int airsrt_registry_unregister(struct airsrt_registry *reg, const char *name);

/*
 * Unbinds every entry bound to an actor of incarnation inc of local worker
 * w: the supervisor, after that worker died. Also clears every torn entry
 * (and, if the lock's owner died, sweeps the whole table, repairing what
 * is torn or corrupt and recounting). Otherwise it reads whole, and so
 * repairs, only torn entries and those whose raw holder is that
 * incarnation: a corrupt entry elsewhere stays for the next writer whose
 * probe meets it, and count is not recounted. Returns how many it
 * unbound, -EINVAL (w >= AIRSRT_MAX_WORKERS or inc 0) or -errno from the
 * lock.
 */
ssize_t airsrt_registry_unbind_incarnation(struct airsrt_registry *reg,
                                           uint32_t w, uint32_t inc);

/*
 * Sweeps the whole table: reads every entry whole, clearing each torn or
 * corrupt one to a tombstone (counted in torn_cleared or
 * corrupt_repaired), and recounts count. What the next locker after an
 * owner's death does; for tools and checks, since it costs a read of
 * every entry. Returns the number of names in use (bound or not) or
 * -errno from the lock. Takes the lock: the supervisor or a tool.
 */
ssize_t airsrt_registry_sweep(struct airsrt_registry *reg);

/*
 * Lock-free: finds name and stores its id and address (null when
 * unbound); either pointer may be NULL. 0; -EINVAL bad name; -ENOENT no
 * such name; -EAGAIN not found, but an entry on its probe was being
 * written (or was left torn by a dead writer) and could not be read: try
 * again later. Corrupt entries on the probe are skipped and counted. Any
 * process, any time.
 */
int airsrt_registry_resolve(const struct airsrt_registry *reg,
                            const char *name, uint32_t *id,
                            struct airsrt_address *addr);

/*
 * Lock-free: reads entry id whole into rec (address null when unbound;
 * rec means nothing on failure). 0; -EINVAL id 0 or past the capacity;
 * -ENOENT not in use; -EAGAIN being written or torn; -EBADMSG corrupt
 * (counted; not to be followed). Any process, any time.
 */
int airsrt_registry_lookup(const struct airsrt_registry *reg, uint32_t id,
                           struct airsrt_registry_record *rec);

/*
 * Lock-free: the generation of entry id (acquire), so that a reader can
 * cache what airsrt_registry_lookup() gave it and keep using it while the
 * generation stays the same and even: every write changes it. 0 for an id
 * 0 or past the capacity. Any process, any time.
 */
uint32_t airsrt_registry_generation(const struct airsrt_registry *reg,
                                    uint32_t id);

#endif
