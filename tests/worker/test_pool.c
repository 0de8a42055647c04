/*
 * tests/worker/test_pool.c - actor pools seen from one in-process worker
 * with several members: what each strategy picks (round robin, random,
 * least loaded, consistent hash), how the consistent hash moves keys when
 * a member leaves or joins, membership ending on leave and on stop, and
 * the errors (-EINVAL, -EBUSY, -EEXIST, -ENOENT, -EHOSTDOWN).
 *
 * A member joins the pool named by its spawn argument in pre_start (no
 * argument: it joins nothing) and logs every envelope it handles under
 * its slot; T_LEAVE makes it leave.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

TestSuite(pool, .fini = harness_fini);

enum { EV_GOT = 1, EV_RC };
enum { T_WORK = 1, T_LEAVE = 2, T_QUIET = 3, T_FAIL = 4 };
/* T_QUIET: handled, not logged; T_FAIL: handle fails (restart) */

#define NKEYS 10000u

static int member_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    char name[AIRSRT_NAME_MAX + 1];

    (void)state;
    if (len == 0)
        return 0;
    cr_assert_lt(len, sizeof(name));
    memcpy(name, arg, len);
    name[len] = '\0';
    return airsrt_pool_join(ctx, name);
}

static int member_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)state;
    if (env->type == T_FAIL)
        return -EIO;
    if (env->type == T_LEAVE)
        unit_log(EV_RC, airsrt_self(ctx)->slot,
                 (uint64_t)(int64_t)airsrt_pool_leave(ctx));
    else if (env->type == T_WORK)
        unit_log(EV_GOT, airsrt_self(ctx)->slot, 0);
    return 0;
}

static const struct airsrt_actor_type member = {
    .name = "member", .pre_start = member_start, .handle = member_handle };
static const struct airsrt_actor_type *const types[] = { &member, NULL };

static struct airsrt_address spawn_member(const char *pool)
{
    struct airsrt_spawn_opts o = { .arg = pool,
                                   .arg_len = pool ? strlen(pool) : 0 };

    return unit_spawn(unit_ctx(), &member, &o);
}

static struct airsrt_address send_typed(enum airsrt_pool_strategy s,
                                        const void *key, size_t key_len,
                                        uint32_t type)
{
    struct airsrt_address chosen = AIRSRT_ADDRESS_NULL;

    cr_assert_eq(airsrt_pool_send(unit_ctx(), "workers", s, key, key_len,
                                  type, NULL, 0, &chosen), 0);
    return chosen;
}

static struct airsrt_address send_one(enum airsrt_pool_strategy s,
                                      const void *key, size_t key_len)
{
    return send_typed(s, key, key_len, T_WORK);
}

static size_t index_of(const struct airsrt_address *v, size_t n,
                       const struct airsrt_address *a)
{
    for (size_t i = 0; i < n; i++)
        if (airsrt_address_equal(&v[i], a))
            return i;
    cr_assert_fail("%u.%u:%u.%u is no member", a->worker, a->incarnation,
                   a->slot, a->generation);
    return 0;
}

Test(pool, join_publishes_membership_and_announces_it, .timeout = 30)
{
    struct airsrt_address a, got[2];
    struct airsrt_registry_record rec;
    struct airsrt_address holder;
    uint64_t before;
    uint32_t id;

    unit_open(types, 0, NULL);
    before = unit_groups_epoch();
    a = spawn_member("workers");
    cr_assert_gt(unit_groups_epoch(), before, "a join moved no epoch");
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "workers", &id,
                                         &holder), 0);
    cr_assert(airsrt_address_is_null(&holder), "a pool is bound to nobody");
    cr_assert_eq(airsrt_registry_lookup(&unit_w->reg, id, &rec), 0);
    cr_assert_eq(rec.kind, AIRSRT_REGISTRY_POOL);
    cr_assert_eq(atomic_load(&unit_stats(&a)->pool_id), id);
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 2), 1);
    cr_assert(airsrt_address_equal(&got[0], &a));
    unit_close();
}

Test(pool, round_robin_visits_each_member_once_per_cycle, .timeout = 30)
{
    struct airsrt_address m[5], got[5];

    unit_open(types, 0, NULL);
    for (int i = 0; i < 5; i++)
        m[i] = spawn_member("workers");
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 5), 5);
    for (int cycle = 0; cycle < 4; cycle++) {
        bool seen[5] = { false };

        for (int i = 0; i < 5; i++) {
            struct airsrt_address c = send_one(AIRSRT_POOL_ROUND_ROBIN,
                                               NULL, 0);
            size_t at = index_of(got, 5, &c);

            cr_assert_not(seen[at], "member %zu twice in cycle %d", at,
                          cycle);
            seen[at] = true;
            /* In the canonical (address) order, every cycle alike. */
            cr_assert_eq(at, (size_t)i);
        }
    }
    cr_assert_eq(unit_settle(), -1);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(unit_log_count(EV_GOT, m[i].slot), 4);
    unit_close();
}

Test(pool, random_covers_all_members, .timeout = 30)
{
    struct airsrt_address got[4];
    unsigned hits[4] = { 0 };

    unit_open(types, 0, NULL);
    for (int i = 0; i < 4; i++)
        spawn_member("workers");
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 4), 4);
    for (int i = 0; i < 400; i++) {
        struct airsrt_address c = send_one(AIRSRT_POOL_RANDOM, NULL, 0);

        hits[index_of(got, 4, &c)]++;
    }
    /* Each is missed 400 times in a row with probability (3/4)^400. */
    for (int i = 0; i < 4; i++)
        cr_assert_gt(hits[i], 0, "member %d never picked", i);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, UNIT_ANY), 400);
    unit_close();
}

Test(pool, least_loaded_picks_the_shallowest_mailbox, .timeout = 30)
{
    struct airsrt_address a, b, c, got;

    unit_open(types, 0, NULL);
    a = spawn_member("workers");
    b = spawn_member("workers");
    c = spawn_member("workers");
    /* Mailboxes of depth 3, 0, 1: nothing runs until the test polls. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(airsrt_send(unit_ctx(), &a, T_WORK, NULL, 0), 0);
    cr_assert_eq(airsrt_send(unit_ctx(), &c, T_WORK, NULL, 0), 0);

    got = send_one(AIRSRT_POOL_LEAST_LOADED, NULL, 0);
    cr_assert(airsrt_address_equal(&got, &b), "did not pick depth 0");
    /* Now 3, 1, 1: of the equals, the first after b, the last picked. */
    got = send_one(AIRSRT_POOL_LEAST_LOADED, NULL, 0);
    cr_assert(airsrt_address_equal(&got, &c), "tie not broken round robin");
    /* 3, 1, 2: b again. */
    got = send_one(AIRSRT_POOL_LEAST_LOADED, NULL, 0);
    cr_assert(airsrt_address_equal(&got, &b));
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 3);
    cr_assert_eq(unit_log_count(EV_GOT, b.slot), 2);
    cr_assert_eq(unit_log_count(EV_GOT, c.slot), 2);
    unit_close();
}

static struct airsrt_address key_owner(uint32_t key)
{
    char k[16];

    snprintf(k, sizeof(k), "key-%u", key);
    return send_typed(AIRSRT_POOL_HASH, k, strlen(k), T_QUIET);
}

/* Where every key goes now; settles, so mailboxes stay small. */
static void map_keys(struct airsrt_address *owner)
{
    for (uint32_t k = 0; k < NKEYS; k++)
        owner[k] = key_owner(k);
    cr_assert_eq(unit_settle(), -1);
}

Test(pool, hash_sends_the_same_key_to_the_same_member, .timeout = 60)
{
    struct airsrt_address first[64];
    bool used[6] = { false };
    struct airsrt_address got[6];

    unit_open(types, 0, NULL);
    for (int i = 0; i < 6; i++)
        spawn_member("workers");
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 6), 6);
    for (uint32_t k = 0; k < 64; k++) {
        first[k] = key_owner(k);
        used[index_of(got, 6, &first[k])] = true;
    }
    for (int round = 0; round < 3; round++)
        for (uint32_t k = 0; k < 64; k++) {
            struct airsrt_address again = key_owner(k);

            cr_assert(airsrt_address_equal(&again, &first[k]),
                      "key %u moved with no member change", k);
        }
    /* A key is not ignored: 64 keys spread over several members. */
    int nused = 0;
    for (int i = 0; i < 6; i++)
        nused += used[i];
    cr_assert_geq(nused, 3);
    /* A NULL key of length 0 is the empty key, accepted and hashed. */
    struct airsrt_address e1 = send_one(AIRSRT_POOL_HASH, NULL, 0);
    struct airsrt_address e2 = send_one(AIRSRT_POOL_HASH, "", 0);
    cr_assert(airsrt_address_equal(&e1, &e2));
    cr_assert_eq(unit_settle(), -1);
    unit_close();
}

Test(pool, hash_moves_only_the_keys_of_a_member_that_leaves_or_joins,
     .timeout = 120)
{
    static struct airsrt_address before[NKEYS], after[NKEYS];
    struct airsrt_address m[8], added;
    uint32_t moved = 0, had = 0;

    unit_open(types, 0, NULL);
    for (int i = 0; i < 8; i++)
        m[i] = spawn_member("workers");
    map_keys(before);

    /* Remove member 3 of 8. */
    cr_assert_eq(airsrt_stop(unit_ctx(), &m[3]), 0);
    cr_assert_eq(unit_settle(), -1);
    map_keys(after);
    for (uint32_t k = 0; k < NKEYS; k++) {
        bool was_on_it = airsrt_address_equal(&before[k], &m[3]);

        had += was_on_it;
        if (!airsrt_address_equal(&before[k], &after[k])) {
            moved++;
            cr_assert(was_on_it, "key %u moved off a member that stayed", k);
        }
        cr_assert_not(airsrt_address_equal(&after[k], &m[3]));
    }
    cr_assert_eq(moved, had, "not every key of the leaver moved");
    /* About 1/8 of the keys: far from none and from all. */
    cr_assert(moved > NKEYS / 16 && moved < NKEYS / 4, "moved %u", moved);

    /* Add one: keys move only to it. */
    memcpy(before, after, sizeof(before));
    added = spawn_member("workers");
    map_keys(after);
    moved = 0;
    for (uint32_t k = 0; k < NKEYS; k++)
        if (!airsrt_address_equal(&before[k], &after[k])) {
            moved++;
            cr_assert(airsrt_address_equal(&after[k], &added),
                      "key %u moved to a member that was there", k);
        }
    cr_assert(moved > NKEYS / 16 && moved < NKEYS / 4, "moved %u", moved);
    unit_close();
}

Test(pool, leave_and_stop_remove_a_member, .timeout = 30)
{
    struct airsrt_address a, b, c, got[3];
    uint64_t before;

    unit_open(types, 0, NULL);
    a = spawn_member("workers");
    b = spawn_member("workers");
    c = spawn_member("workers");
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 3), 3);

    before = unit_groups_epoch();
    cr_assert_eq(airsrt_send(unit_ctx(), &a, T_LEAVE, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_RC, a.slot), 1);
    cr_assert_eq(unit_events[unit_nevents - 1].value, 0);
    cr_assert_gt(unit_groups_epoch(), before);
    cr_assert_eq(atomic_load(&unit_stats(&a)->pool_id), 0);

    before = unit_groups_epoch();
    cr_assert_eq(airsrt_stop(unit_ctx(), &b), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_gt(unit_groups_epoch(), before,
                 "a member's stop was not announced");

    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 3), 1);
    cr_assert(airsrt_address_equal(&got[0], &c));
    for (int i = 0; i < 6; i++) {
        struct airsrt_address x = send_one(i % 2 ? AIRSRT_POOL_ROUND_ROBIN
                                                 : AIRSRT_POOL_LEAST_LOADED,
                                           NULL, 0);

        cr_assert(airsrt_address_equal(&x, &c));
    }
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_GOT, c.slot), 6);
    cr_assert_eq(unit_log_count(EV_GOT, a.slot), 0);
    /* Leaving twice: not a member any more. */
    cr_assert_eq(airsrt_send(unit_ctx(), &a, T_LEAVE, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_events[unit_nevents - 1].value,
                 (uint64_t)(int64_t)-ENOENT);
    unit_close();
}

Test(pool, a_restarted_member_stays_a_member, .timeout = 30)
{
    struct airsrt_address a, b, got[2];
    struct airsrt_ctx cb;
    uint32_t id;

    unit_open(types, 0, NULL);
    a = spawn_member("workers");
    /* b joined after its pre_start: its restart does not join again. */
    b = spawn_member(NULL);
    cb = unit_actor_ctx(&b);
    cr_assert_eq(airsrt_pool_join(&cb, "workers"), 0);
    id = atomic_load(&unit_stats(&a)->pool_id);
    cr_assert_eq(airsrt_send(unit_ctx(), &a, T_FAIL, NULL, 0), 0);
    cr_assert_eq(airsrt_send(unit_ctx(), &b, T_FAIL, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(atomic_load(&unit_stats(&a)->restarts), 1);
    cr_assert_eq(atomic_load(&unit_stats(&b)->restarts), 1);
    cr_assert_eq(atomic_load(&unit_stats(&a)->pool_id), id);
    cr_assert_eq(atomic_load(&unit_stats(&b)->pool_id), id);
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 2), 2);
    cr_assert(airsrt_address_equal(&got[0], &a));
    cr_assert(airsrt_address_equal(&got[1], &b));
    unit_close();
}

Test(pool, a_stopped_actor_does_not_leave_its_slot_a_member, .timeout = 30)
{
    struct airsrt_address a, b, got[2];

    unit_open(types, 0, NULL);
    spawn_member(NULL);     /* keeps the worker running */
    a = spawn_member("workers");
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    /* The next actor in the same slot joins nothing. */
    b = spawn_member(NULL);
    cr_assert_eq(b.slot, a.slot);
    cr_assert_eq(atomic_load(&unit_stats(&b)->pool_id), 0);
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", got, 2), 0);
    unit_close();
}

Test(pool, errors_name_what_is_wrong, .timeout = 30)
{
    struct airsrt_address a, b, chosen = AIRSRT_ADDRESS_NULL;
    struct airsrt_ctx ca, cb;
    uint32_t id, id_again;

    unit_open(types, 0, NULL);
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "nope", AIRSRT_POOL_RANDOM,
                                  NULL, 0, T_WORK, NULL, 0, &chosen),
                 -ENOENT);
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "nope", NULL, 0), -ENOENT);
    cr_assert_eq(airsrt_pool_join(unit_ctx(), "workers"), -EINVAL,
                 "the worker itself joined");
    cr_assert_eq(airsrt_pool_leave(unit_ctx()), -EINVAL);

    a = spawn_member("workers");
    b = unit_spawn(unit_ctx(), &member,
                   &(struct airsrt_spawn_opts){ .name = "alice" });
    ca = unit_actor_ctx(&a);
    cb = unit_actor_ctx(&b);
    cr_assert_eq(airsrt_pool_join(&ca, "workers"), 0, "joining again");
    cr_assert_eq(airsrt_pool_join(&ca, "others"), -EBUSY);
    cr_assert_eq(airsrt_pool_join(&cb, "alice"), -EEXIST);
    cr_assert_eq(airsrt_pool_join(&cb, "two words"), -EINVAL);
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "alice", AIRSRT_POOL_RANDOM,
                                  NULL, 0, T_WORK, NULL, 0, NULL), -ENOENT,
                 "an actor's name taken for a pool");
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "workers",
                                  AIRSRT_POOL_STRATEGIES, NULL, 0, T_WORK,
                                  NULL, 0, NULL), -EINVAL);
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "workers", AIRSRT_POOL_HASH,
                                  NULL, 3, T_WORK, NULL, 0, NULL), -EINVAL);
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "workers", AIRSRT_POOL_RANDOM,
                                  NULL, 0, AIRSRT_MSG_STOP, NULL, 0, NULL),
                 -EINVAL, "a reserved type went through a pool");

    /* No member left: the pool stays, with its id. */
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "workers", &id, NULL),
                 0);
    cr_assert_eq(airsrt_pool_leave(&ca), 0);
    cr_assert_eq(airsrt_pool_leave(&ca), -ENOENT);
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "workers", AIRSRT_POOL_RANDOM,
                                  NULL, 0, T_WORK, NULL, 0, NULL),
                 -EHOSTDOWN);
    cr_assert_eq(airsrt_pool_members(unit_ctx(), "workers", NULL, 0), 0);
    cr_assert_eq(airsrt_pool_join(&cb, "workers"), 0);
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "workers", &id_again,
                                         NULL), 0);
    cr_assert_eq(id_again, id, "the pool changed its registry id");
    cr_assert_eq(airsrt_pool_send(unit_ctx(), "workers", AIRSRT_POOL_RANDOM,
                                  NULL, 0, T_WORK, NULL, 0, &chosen), 0);
    cr_assert(airsrt_address_equal(&chosen, &b));
    cr_assert_eq(unit_settle(), -1);
    unit_close();
}

Test(pool, refused_join_leaves_no_new_pool_registered, .timeout = 30)
{
    struct airsrt_address a;
    struct airsrt_ctx ca;
    uint32_t id, count;

    unit_open(types, 0, NULL);
    a = spawn_member("workers");
    ca = unit_actor_ctx(&a);
    count = atomic_load(&unit_w->reg.hdr->count);
    cr_assert_eq(airsrt_pool_join(&ca, "others"), -EBUSY);
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "others", &id, NULL),
                 -ENOENT, "a refused join registered the pool");
    cr_assert_eq(atomic_load(&unit_w->reg.hdr->count), count);
    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, "workers", &id,
                                         NULL), 0);
    cr_assert_eq(atomic_load(&unit_stats(&a)->pool_id), id,
                 "the refused join moved the actor");
    cr_assert_eq(airsrt_pool_join(&ca, "workers"), 0, "joining again");
    unit_close();
}
