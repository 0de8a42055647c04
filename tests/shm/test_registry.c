/*
 * tests/shm/test_registry.c - the registry in one process: register,
 * resolve, lookup, unbind, unregister, stable ids, full tables, probe
 * chains with tombstones, and entries that are scribbled or torn.
 * Cross-process and crash behaviour: tests/integration/test_registry_crash.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <bsd/stdlib.h>

#include "shm/registry.h"
#include "tests/lib/harness.h"
#include "tests/lib/registry_util.h"

TestSuite(registry, .fini = harness_fini);

/* A segment whose registry has cap entries (0 = the default), and reg
 * bound to it. */
static void open_registry(uint32_t cap)
{
    struct airsrt_shm_params p = { .nworkers = 2, .ring_bytes = 4096,
                                   .ctl_ring_bytes = 4096,
                                   .registry_capacity = cap,
                                   .payload_max =
                                       airsrt_ring_payload_limit(4096) };

    cr_assert_eq(airsrt_shm_create(&harness_shm, harness_name("seg"), &p), 0,
                 "create: %s", harness_shm.err);
    shm_unlink(harness_shm.path);
    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
}

/* The documented home slot, computed independently: FNV-1a-32 mod cap. */
static uint32_t home_of(const char *name, uint32_t cap)
{
    uint32_t h = 0x811c9dc5u;

    for (const char *c = name; *c != '\0'; c++)
        h = (h ^ (uint8_t)*c) * 0x01000193u;
    return h % cap;
}

/* n names "c<i>" whose home slot is home, in names[n][16]. */
static void colliding_names(uint32_t home, uint32_t cap, char (*names)[16],
                            int n)
{
    int found = 0;

    for (unsigned i = 0; found < n; i++) {
        snprintf(names[found], 16, "c%u", i);
        if (home_of(names[found], cap) == home)
            found++;
    }
}

static struct airsrt_registry_entry *entry(uint32_t id)
{
    return &reg.entries[id - 1];
}

static uint64_t counter(_Atomic uint64_t *c)
{
    return atomic_load(c);
}

Test(registry, register_resolve_lookup_round_trip)
{
    struct airsrt_registry_record rec;
    struct airsrt_address a = at(1, 1, 5);
    uint32_t id;

    open_registry(0);
    id = reg_name("ledger", a);
    cr_assert_eq(id, home_of("ledger", reg.capacity) + 1);
    expect_resolves("ledger", id, a);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), 0);
    cr_assert_eq(rec.id, id);
    cr_assert_eq(rec.kind, AIRSRT_REGISTRY_NAME);
    cr_assert_str_eq(rec.name, "ledger");
    cr_assert(airsrt_address_equal(&rec.addr, &a));
    cr_assert_eq(atomic_load(&reg.hdr->count), 1);
    cr_assert_eq(airsrt_registry_resolve(&reg, "ledger2", NULL, NULL), -ENOENT);
}

Test(registry, reregistering_after_unbind_keeps_the_id)
{
    struct airsrt_registry_record rec;
    struct airsrt_address a1 = at(1, 1, 5), a2 = at(1, 2, 9);
    uint32_t id;

    open_registry(0);
    id = reg_name("ledger", a1);
    cr_assert_eq(airsrt_registry_unbind(&reg, id, &a1), 0);
    /* Unbound: still there, same id, nobody holds it. */
    expect_resolves("ledger", id, AIRSRT_ADDRESS_NULL);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), 0);
    cr_assert(airsrt_address_is_null(&rec.addr));
    cr_assert_str_eq(rec.name, "ledger");
    cr_assert_eq(reg_name("ledger", a2), id);
    expect_resolves("ledger", id, a2);
    cr_assert_eq(atomic_load(&reg.hdr->count), 1);
}

Test(registry, register_refuses_a_name_bound_elsewhere_or_of_another_kind)
{
    struct airsrt_address a1 = at(1, 1, 5), a2 = at(2, 1, 5);
    uint32_t id, other = 0;

    open_registry(0);
    id = reg_name("ledger", a1);
    cr_assert_eq(airsrt_registry_register(&reg, "ledger",
                                          AIRSRT_REGISTRY_NAME, &a2, &other),
                 -EEXIST);
    cr_assert_eq(airsrt_registry_register(&reg, "ledger",
                                          AIRSRT_REGISTRY_NAME,
                                          &AIRSRT_ADDRESS_NULL, &other),
                 -EEXIST);
    expect_resolves("ledger", id, a1);
    /* The same holder again is no conflict. */
    cr_assert_eq(reg_name("ledger", a1), id);
    cr_assert_eq(airsrt_registry_unbind(&reg, id, &a1), 0);
    cr_assert_eq(airsrt_registry_register(&reg, "ledger",
                                          AIRSRT_REGISTRY_POOL, &a2, &other),
                 -EEXIST);
    cr_assert_eq(other, 0);
}

Test(registry, register_with_null_address_reserves_an_unbound_id)
{
    uint32_t id, again;

    open_registry(0);
    id = reg_name("later", AIRSRT_ADDRESS_NULL);
    expect_resolves("later", id, AIRSRT_ADDRESS_NULL);
    again = reg_name("later", at(3, 1, 1));
    cr_assert_eq(again, id);
    expect_resolves("later", id, at(3, 1, 1));
}

Test(registry, rejects_invalid_names_kinds_addresses_and_ids)
{
    struct airsrt_address a = at(1, 1, 1), bad = at(1, 0, 1);
    struct airsrt_registry_record rec;
    char longest[AIRSRT_REGISTRY_NAME_MAX + 2];
    const char *names[] = { "", "has space", "tab\there", "del\x7f",
                            "high\x80", longest };
    uint32_t id;

    open_registry(0);
    memset(longest, 'x', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cr_assert_eq(airsrt_registry_register(&reg, names[i],
                                              AIRSRT_REGISTRY_NAME, &a, &id),
                     -EINVAL, "name %zu", i);
        cr_assert_eq(airsrt_registry_resolve(&reg, names[i], &id, NULL),
                     -EINVAL);
        cr_assert_eq(airsrt_registry_unregister(&reg, names[i]), -EINVAL);
    }
    /* 87 bytes is the longest name. */
    longest[AIRSRT_REGISTRY_NAME_MAX] = '\0';
    id = reg_name(longest, a);
    expect_resolves(longest, id, a);
    cr_assert_eq(airsrt_registry_register(&reg, "k", AIRSRT_REGISTRY_EMPTY,
                                          &a, &id), -EINVAL);
    cr_assert_eq(airsrt_registry_register(&reg, "k",
                                          AIRSRT_REGISTRY_TOMBSTONE, &a, &id),
                 -EINVAL);
    cr_assert_eq(airsrt_registry_register(&reg, "k", AIRSRT_REGISTRY_KINDS,
                                          &a, &id), -EINVAL);
    cr_assert_eq(airsrt_registry_register(&reg, "k", AIRSRT_REGISTRY_NAME,
                                          &bad, &id), -EINVAL);
    cr_assert_eq(airsrt_registry_unbind(&reg, 0, &a), -EINVAL);
    cr_assert_eq(airsrt_registry_unbind(&reg, reg.capacity + 1, &a), -EINVAL);
    cr_assert_eq(airsrt_registry_unbind(&reg, 1, &AIRSRT_ADDRESS_NULL),
                 -EINVAL);
    cr_assert_eq(airsrt_registry_lookup(&reg, 0, &rec), -EINVAL);
    cr_assert_eq(airsrt_registry_lookup(&reg, reg.capacity + 1, &rec),
                 -EINVAL);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, AIRSRT_MAX_WORKERS,
                                                    1), -EINVAL);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 0, 0), -EINVAL);
    cr_assert_eq(atomic_load(&reg.hdr->count), 1);
}

Test(registry, unbind_with_a_stale_address_does_nothing)
{
    struct airsrt_address old = at(1, 1, 5), now = at(1, 2, 5);
    uint32_t id;

    open_registry(0);
    id = reg_name("ledger", now);
    cr_assert_eq(airsrt_registry_unbind(&reg, id, &old), -ESTALE);
    expect_resolves("ledger", id, now);
    cr_assert_eq(airsrt_registry_unbind(&reg, id, &now), 0);
    cr_assert_eq(airsrt_registry_unbind(&reg, id, &now), -ESTALE);
    cr_assert_eq(airsrt_registry_unbind(&reg, id % reg.capacity + 1, &now),
                 -ENOENT);
}

Test(registry, unregister_frees_the_slot_for_another_name)
{
    struct airsrt_registry_record rec;
    char name[16];
    uint32_t ids[4], id;

    open_registry(4);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        ids[i] = reg_name(name, at(1, 1, (uint32_t)i));
    }
    cr_assert_eq(airsrt_registry_register(&reg, "fifth", AIRSRT_REGISTRY_NAME,
                                          &AIRSRT_ADDRESS_NULL, &id), -ENOSPC);
    cr_assert_eq(airsrt_registry_unregister(&reg, "n2"), 0);
    cr_assert_eq(airsrt_registry_unregister(&reg, "n2"), -ENOENT);
    cr_assert_eq(airsrt_registry_resolve(&reg, "n2", NULL, NULL), -ENOENT);
    cr_assert_eq(airsrt_registry_lookup(&reg, ids[2], &rec), -ENOENT);
    cr_assert_eq(atomic_load(&reg.hdr->count), 3);
    /* The tombstone is the only free slot, and it is free again. */
    cr_assert_eq(reg_name("fifth", at(2, 1, 1)), ids[2]);
    expect_resolves("fifth", ids[2], at(2, 1, 1));
    cr_assert_eq(atomic_load(&reg.hdr->count), 4);
}

Test(registry, full_table_returns_enospc_and_every_probe_terminates,
     .timeout = 10)
{
    char name[16];
    uint32_t ids[8], id;

    open_registry(8);
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        ids[i] = reg_name(name, at(1, 1, (uint32_t)i));
    }
    /* No EMPTY entry left to end a probe: it must stop after 8. */
    cr_assert_eq(airsrt_registry_register(&reg, "n8", AIRSRT_REGISTRY_NAME,
                                          &AIRSRT_ADDRESS_NULL, &id), -ENOSPC);
    cr_assert_eq(airsrt_registry_resolve(&reg, "absent", NULL, NULL), -ENOENT);
    cr_assert_eq(airsrt_registry_unregister(&reg, "absent"), -ENOENT);
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        expect_resolves(name, ids[i], at(1, 1, (uint32_t)i));
    }
    /* All tombstones: nothing ends a probe but its length either. */
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        cr_assert_eq(airsrt_registry_unregister(&reg, name), 0);
    }
    cr_assert_eq(airsrt_registry_resolve(&reg, "n3", NULL, NULL), -ENOENT);
    cr_assert_eq(airsrt_registry_unregister(&reg, "n3"), -ENOENT);
    reg_name("n8", at(1, 1, 8));
    cr_assert_eq(atomic_load(&reg.hdr->count), 1);
}

Test(registry, colliding_names_are_found_past_tombstones_and_wrap)
{
    char names[5][16];
    uint32_t ids[5];

    open_registry(16);
    /* Home slot 14: the chain wraps to slots 0, 1, 2. */
    colliding_names(14, 16, names, 5);
    for (int i = 0; i < 5; i++) {
        ids[i] = reg_name(names[i], at(1, 1, (uint32_t)i));
        cr_assert_eq(ids[i], (14u + (uint32_t)i) % 16 + 1, "%s", names[i]);
    }
    cr_assert_eq(airsrt_registry_unregister(&reg, names[1]), 0);
    cr_assert_eq(airsrt_registry_unregister(&reg, names[3]), 0);
    expect_resolves(names[0], ids[0], at(1, 1, 0));
    expect_resolves(names[2], ids[2], at(1, 1, 2));
    expect_resolves(names[4], ids[4], at(1, 1, 4));
    cr_assert_eq(airsrt_registry_resolve(&reg, names[3], NULL, NULL),
                 -ENOENT);
    /* A name already further along keeps its slot; a new one takes the
     * first tombstone. */
    cr_assert_eq(reg_name(names[4], at(1, 1, 4)), ids[4]);
    cr_assert_eq(reg_name(names[3], at(1, 1, 3)), ids[1]);
    expect_resolves(names[3], ids[1], at(1, 1, 3));
}

Test(registry, unbind_incarnation_unbinds_only_that_incarnation)
{
    struct airsrt_address remote = at(1, 1, 7);
    uint32_t a, b, c, d, e, f;

    open_registry(0);
    remote.node = 5;
    a = reg_name("w1i1-a", at(1, 1, 1));
    b = reg_name("w1i1-b", at(1, 1, 2));
    c = reg_name("w1i1-c", at(1, 1, 3));
    d = reg_name("w1i2", at(1, 2, 1));
    e = reg_name("w2i1", at(2, 1, 1));
    f = reg_name("remote", remote);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 3);
    expect_resolves("w1i1-a", a, AIRSRT_ADDRESS_NULL);
    expect_resolves("w1i1-b", b, AIRSRT_ADDRESS_NULL);
    expect_resolves("w1i1-c", c, AIRSRT_ADDRESS_NULL);
    expect_resolves("w1i2", d, at(1, 2, 1));
    expect_resolves("w2i1", e, at(2, 1, 1));
    expect_resolves("remote", f, remote);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 0);
    cr_assert_eq(atomic_load(&reg.hdr->count), 6);
}

/* Garbage over a whole entry, with an even generation: stable, corrupt. */
static void scribble(uint32_t id)
{
    arc4random_buf(entry(id), sizeof(struct airsrt_registry_entry));
    atomic_store(&entry(id)->generation, 1000);
}

Test(registry, scribbled_entry_is_not_followed_and_next_writer_repairs_it)
{
    struct airsrt_registry_record rec;
    struct airsrt_address a = at(1, 1, 5);
    uint32_t id;

    open_registry(0);
    id = reg_name("ledger", a);
    scribble(id);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), -EBADMSG);
    cr_assert_eq(airsrt_registry_resolve(&reg, "ledger", NULL, NULL), -ENOENT);
    cr_assert_eq(counter(&reg.hdr->corrupt_seen), 2);
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 0);
    /* The writer meets it on the name's probe, clears it, takes it. */
    cr_assert_eq(reg_name("ledger", a), id);
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 1);
    expect_resolves("ledger", id, a);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), 0);
}

Test(registry, corrupt_entry_in_a_chain_does_not_hide_names_after_it)
{
    char names[3][16];
    uint32_t ids[3];

    open_registry(16);
    colliding_names(3, 16, names, 3);
    for (int i = 0; i < 3; i++)
        ids[i] = reg_name(names[i], at(1, 1, (uint32_t)i));
    /* A stray memset: a zeroed entry fails its checksum, so it reads as
     * a tombstone, not as the EMPTY entry that would end the probe. */
    memset(entry(ids[0]), 0, sizeof(struct airsrt_registry_entry));
    scribble(ids[1]);
    expect_resolves(names[2], ids[2], at(1, 1, 2));
    cr_assert_eq(airsrt_registry_resolve(&reg, names[0], NULL, NULL),
                 -ENOENT);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 1);
    expect_resolves(names[2], ids[2], AIRSRT_ADDRESS_NULL);
    /* The next writer whose probe meets them repairs both. */
    reg_name(names[0], at(1, 2, 9));
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 2);
    expect_resolves(names[2], ids[2], AIRSRT_ADDRESS_NULL);
}

/* The checksum (FNV-1a-32 over bytes 8..119), computed independently. */
static void forge(uint32_t id, const struct airsrt_registry_record *r)
{
    uint32_t h = 0x811c9dc5u;
    const uint8_t *b = (const uint8_t *)r;

    for (size_t i = 0; i < sizeof(*r); i++)
        h = (h ^ b[i]) * 0x01000193u;
    memcpy((uint8_t *)entry(id) + 8, r, sizeof(*r));
    entry(id)->checksum = h;
}

Test(registry, entry_with_good_checksum_but_bad_shape_is_corrupt)
{
    struct airsrt_registry_record rec, bad;
    uint32_t id;

    open_registry(0);
    id = reg_name("ledger", at(1, 1, 5));
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), 0);
    /* A forged checksum is accepted for the real content... */
    forge(id, &rec);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &bad), 0);
    /* ...but not for an id of another slot, a worker out of range, an
     * unterminated name, or junk after the name. */
    bad = rec;
    bad.id = id + 1;
    forge(id, &bad);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &bad), -EBADMSG);
    bad = rec;
    bad.addr.worker = AIRSRT_MAX_WORKERS;
    forge(id, &bad);
    cr_assert_eq(airsrt_registry_resolve(&reg, "ledger", NULL, NULL), -ENOENT);
    bad = rec;
    memset(bad.name, 'x', sizeof(bad.name));
    forge(id, &bad);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &bad), -EBADMSG);
    bad = rec;
    bad.name[sizeof(bad.name) - 1] = 'x';
    forge(id, &bad);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &bad), -EBADMSG);
    bad = rec;
    bad.kind = AIRSRT_REGISTRY_KINDS;
    forge(id, &bad);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &bad), -EBADMSG);
    cr_assert_eq(counter(&reg.hdr->corrupt_seen), 5);
}

Test(registry, odd_generation_entry_is_skipped_by_readers)
{
    struct airsrt_registry_record rec;
    char names[3][16], elsewhere[1][16];
    uint32_t ids[2];

    open_registry(16);
    colliding_names(9, 16, names, 3);
    colliding_names(2, 16, elsewhere, 1);
    ids[0] = reg_name(names[0], at(1, 1, 0));
    ids[1] = reg_name(names[1], at(1, 1, 1));
    atomic_fetch_add(&entry(ids[0])->generation, 1);
    /* Being written: neither followed nor called absent. */
    cr_assert_eq(airsrt_registry_lookup(&reg, ids[0], &rec), -EAGAIN);
    cr_assert_eq(airsrt_registry_resolve(&reg, names[0], NULL, NULL),
                 -EAGAIN);
    cr_assert_eq(airsrt_registry_resolve(&reg, names[2], NULL, NULL),
                 -EAGAIN);
    expect_resolves(names[1], ids[1], at(1, 1, 1));
    cr_assert_eq(counter(&reg.hdr->corrupt_seen), 0);
    /* Under the lock an odd entry can only be a dead writer's. */
    reg_name(elsewhere[0], at(2, 1, 1));
    cr_assert_eq(counter(&reg.hdr->torn_cleared), 0);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 1);
    cr_assert_eq(counter(&reg.hdr->torn_cleared), 1);
    cr_assert_eq(airsrt_registry_resolve(&reg, names[0], NULL, NULL),
                 -ENOENT);
    cr_assert_eq(airsrt_registry_resolve(&reg, names[2], NULL, NULL),
                 -ENOENT);
    expect_resolves(names[1], ids[1], AIRSRT_ADDRESS_NULL);
}

Test(registry, garbage_everywhere_terminates_and_is_repaired, .timeout = 10)
{
    struct airsrt_registry_record rec;
    uint32_t id;

    open_registry(64);
    arc4random_buf(reg.entries, 64 * sizeof(struct airsrt_registry_entry));
    cr_assert_neq(airsrt_registry_resolve(&reg, "ledger", NULL, NULL), 0);
    for (uint32_t i = 1; i <= 64; i++)
        cr_assert_lt(airsrt_registry_lookup(&reg, i, &rec), 0);
    /* Every entry odd: readers give up on each, and still return. */
    for (uint32_t i = 1; i <= 64; i++)
        atomic_store(&entry(i)->generation, 2 * i + 1);
    cr_assert_eq(airsrt_registry_resolve(&reg, "ledger", NULL, NULL), -EAGAIN);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 0);
    cr_assert_eq(counter(&reg.hdr->torn_cleared), 64);
    cr_assert_eq(atomic_load(&reg.hdr->count), 0);
    id = reg_name("ledger", at(1, 1, 1));
    expect_resolves("ledger", id, at(1, 1, 1));
}

Test(registry, open_trusts_segment_params_not_the_capacity_word)
{
    struct airsrt_registry_record rec;

    open_registry(0);
    reg.hdr->capacity = UINT32_MAX;
    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    cr_assert_eq(reg.capacity, AIRSRT_REGISTRY_CAP_DEFAULT);
    cr_assert_eq(airsrt_registry_lookup(&reg, AIRSRT_REGISTRY_CAP_DEFAULT + 1,
                                        &rec), -EINVAL);
    reg_name("ledger", at(1, 1, 1));
    cr_assert_eq(reg.hdr->capacity, AIRSRT_REGISTRY_CAP_DEFAULT);
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 1);
}

Test(registry, bind_refuses_bad_regions)
{
    static alignas(64) uint8_t region[AIRSRT_REGISTRY_SIZE(4) + 64];
    struct airsrt_registry r;

    cr_assert_eq(airsrt_registry_init(region, AIRSRT_REGISTRY_SIZE(4), 4), 0);
    cr_assert_eq(airsrt_registry_bind(&r, region, AIRSRT_REGISTRY_SIZE(4), 4),
                 0);
    cr_assert_eq(airsrt_registry_bind(&r, region, AIRSRT_REGISTRY_SIZE(4) - 1,
                                      4), -EINVAL);
    cr_assert_eq(airsrt_registry_bind(&r, region + 8, AIRSRT_REGISTRY_SIZE(4),
                                      4), -EINVAL);
    cr_assert_eq(airsrt_registry_bind(&r, region, sizeof(region), 0), -EINVAL);
    cr_assert_eq(airsrt_registry_init(region, sizeof(region),
                                      AIRSRT_REGISTRY_CAP_MAX + 1), -EINVAL);
    pthread_mutex_destroy(&((struct airsrt_registry_hdr *)region)->lock);
}

Test(registry, segment_lays_out_entries_after_header_all_empty)
{
    struct airsrt_registry_record rec;
    const struct airsrt_shm_layout *l;

    open_registry(100);
    l = &harness_shm.layout;
    cr_assert_eq((uint8_t *)reg.hdr, harness_shm.base + l->registry_off);
    cr_assert_eq((uint8_t *)reg.entries, harness_shm.base + l->registry_off +
                                         AIRSRT_REGISTRY_ENTRIES_OFF);
    cr_assert_eq(AIRSRT_REGISTRY_ENTRIES_OFF, 128);
    cr_assert_geq(l->registry_size, AIRSRT_REGISTRY_SIZE(100));
    cr_assert_eq(reg.hdr->capacity, 100);
    for (uint32_t id = 1; id <= 100; id++) {
        cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), -ENOENT);
        cr_assert_eq(rec.kind, AIRSRT_REGISTRY_EMPTY);
        cr_assert_eq(atomic_load(&entry(id)->generation) % 2, 0);
    }
    cr_assert_eq(counter(&reg.hdr->corrupt_seen), 0);
}

/* Entry id, in use, forged with the id of another slot: corrupt, but its
 * raw holder is still the one it was registered with. */
static void forge_wrong_id(uint32_t id)
{
    struct airsrt_registry_record rec;

    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), 0);
    rec.id = id % reg.capacity + 1;
    forge(id, &rec);
    cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), -EBADMSG);
}

Test(registry, unbind_incarnation_leaves_corrupt_entries_it_does_not_hold)
{
    struct airsrt_registry_record rec;
    uint32_t held, held_bad, other, torn, again;

    open_registry(16);
    held = reg_name("held", at(1, 1, 1));
    held_bad = reg_name("held-bad", at(1, 1, 2));
    other = reg_name("other", at(2, 1, 1));
    torn = reg_name("torn", at(2, 1, 2));
    forge_wrong_id(held_bad);
    forge_wrong_id(other);
    atomic_fetch_add(&entry(torn)->generation, 1);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 1);
    expect_resolves("held", held, AIRSRT_ADDRESS_NULL);
    /* Read whole because incarnation 1 held it: repaired. */
    cr_assert_eq(airsrt_registry_lookup(&reg, held_bad, &rec), -ENOENT);
    cr_assert_eq(airsrt_registry_lookup(&reg, torn, &rec), -ENOENT);
    /* Not its own: left as it was, for the next writer. */
    cr_assert_eq(airsrt_registry_lookup(&reg, other, &rec), -EBADMSG);
    cr_assert_eq(counter(&reg.hdr->torn_cleared), 1);
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 1);
    /* Nor recounted: two names went, count says four until a sweep. */
    cr_assert_eq(atomic_load(&reg.hdr->count), 4);
    /* The writer whose probe meets it repairs it. */
    again = reg_name("other", at(2, 1, 1));
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 2);
    cr_assert_neq(airsrt_registry_lookup(&reg, other, &rec), -EBADMSG);
    expect_resolves("other", again, at(2, 1, 1));
}

Test(registry, sweep_repairs_every_entry_and_recounts)
{
    struct airsrt_registry_record rec;
    uint32_t ids[4], free_id = 0;
    char name[16];

    open_registry(16);
    for (uint32_t i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "n%u", i);
        ids[i] = reg_name(name, at(1, 1, i + 1));
    }
    for (uint32_t id = 1; free_id == 0; id++)
        if (airsrt_registry_lookup(&reg, id, &rec) == -ENOENT)
            free_id = id;
    forge_wrong_id(ids[1]);
    atomic_fetch_add(&entry(ids[2])->generation, 1);
    scribble(free_id);
    cr_assert_eq(airsrt_registry_sweep(&reg), 2);
    cr_assert_eq(atomic_load(&reg.hdr->count), 2);
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 2);
    cr_assert_eq(counter(&reg.hdr->torn_cleared), 1);
    /* Every entry whole: in use, or free. */
    for (uint32_t id = 1; id <= reg.capacity; id++) {
        int rc = airsrt_registry_lookup(&reg, id, &rec);

        cr_assert(rc == 0 || rc == -ENOENT, "entry %u: %d", id, rc);
    }
    expect_resolves("n0", ids[0], at(1, 1, 1));
    expect_resolves("n3", ids[3], at(1, 1, 4));
    /* A whole table: a sweep finds nothing to repair. */
    cr_assert_eq(airsrt_registry_sweep(&reg), 2);
    cr_assert_eq(counter(&reg.hdr->corrupt_repaired), 2);
    cr_assert_eq(counter(&reg.hdr->torn_cleared), 1);
    cr_assert_eq(counter(&reg.hdr->owner_deaths), 0);
}
