/*
 * tests/integration/test_pool.c - a pool whose members live in two
 * forked worker processes, used by a dispatcher in a third:
 *
 *  - round robin from the dispatcher reaches every member in both
 *    workers, each equally;
 *  - after one member worker is killed with SIGKILL (and the supervisor's
 *    part played as supervisor/recovery.c plays it: its names unbound,
 *    its slot marked crashed, groups_epoch bumped, then
 *    AIRSRT_CTL_WORKER_DOWN sent to the dispatcher's worker), its members
 *    are gone from the pool, sends reach only the survivors, and no
 *    consistent-hash key of a surviving member moves; the epoch alone
 *    drops them from a dispatcher's cache, before the notice arrives;
 *  - the restarted worker's members join again, and keys move only to
 *    them.
 *
 * The test drives the dispatcher through its worker's control ring
 * (struct pool_cmd) and reads what members and dispatcher report in
 * memory shared with the workers (struct pool_shared).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/integ_worker.h"

TestSuite(integ_pool, .fini = harness_fini);

#define NMEMBERS 4u         /* 0, 1 in worker 0; 2, 3 in worker 1 */
#define NKEYS    1000u
#define POOL     "jobs"

enum { W_A = 0, W_B = 1, W_DISPATCH = 2 };
enum { OP_SEND = 1, OP_MEMBERS };

AIRSRT_MESSAGE(pool_cmd, 0x72000001, {
    uint32_t op;            /* OP_SEND: count sends by strategy */
    uint32_t strategy;      /* enum airsrt_pool_strategy */
    uint32_t count;         /* <= NKEYS; key k is "key-<k>" */
    uint32_t reserved;
});
AIRSRT_MESSAGE(pool_job, 0x72000002, { uint64_t key; });

struct pool_shared {
    /* members, by report index */
    struct airsrt_address self[NMEMBERS];   /* as of its last pre_start */
    _Atomic uint32_t starts[NMEMBERS];      /* publishes self */
    _Atomic uint64_t received[NMEMBERS];
    _Atomic uint64_t unexpected;
    /* the dispatcher */
    struct airsrt_address dispatcher;
    _Atomic uint32_t dispatcher_starts;     /* publishes dispatcher */
    _Atomic uint32_t commands;              /* handled; publishes below */
    _Atomic int32_t error;                  /* first send error */
    int64_t members;                        /* OP_MEMBERS result */
    struct airsrt_address chosen[NKEYS];    /* OP_SEND, by key */
};

static struct pool_shared *sh;

static int member_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    uint32_t *me = state;
    char text[8] = { 0 };

    cr_assert(len > 0 && len < sizeof(text));
    memcpy(text, arg, len);
    *me = (uint32_t)strtoul(text, NULL, 10);
    cr_assert_lt(*me, NMEMBERS);
    sh->self[*me] = *airsrt_self(ctx);
    atomic_fetch_add(&sh->starts[*me], 1);
    return airsrt_pool_join(ctx, POOL);
}

static int member_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    const uint32_t *me = state;

    (void)ctx;
    if (airsrt_msg_get(env, pool_job) != NULL)
        atomic_fetch_add(&sh->received[*me], 1);
    else
        atomic_fetch_add(&sh->unexpected, 1);
    return 0;
}

static void run_sends(struct airsrt_ctx *ctx, const struct pool_cmd *c)
{
    for (uint32_t k = 0; k < c->count && k < NKEYS; k++) {
        struct pool_job job = { .key = k };
        char key[16];
        int rc;

        snprintf(key, sizeof(key), "key-%u", k);
        rc = airsrt_pool_send(ctx, POOL, c->strategy, key, strlen(key),
                              pool_job_type, &job, sizeof(job),
                              &sh->chosen[k]);
        if (rc < 0 && atomic_load(&sh->error) == 0)
            atomic_store(&sh->error, rc);
    }
}

static int dispatcher_start(struct airsrt_ctx *ctx, void *state,
                            const void *arg, size_t len)
{
    (void)state;
    (void)arg;
    (void)len;
    sh->dispatcher = *airsrt_self(ctx);
    atomic_fetch_add(&sh->dispatcher_starts, 1);
    return 0;
}

static int dispatcher_handle(struct airsrt_ctx *ctx, void *state,
                             const struct airsrt_envelope *env)
{
    const struct pool_cmd *c = airsrt_msg_get(env, pool_cmd);

    (void)state;
    if (c == NULL) {
        atomic_fetch_add(&sh->unexpected, 1);
        return 0;
    }
    if (c->op == OP_SEND)
        run_sends(ctx, c);
    else
        sh->members = airsrt_pool_members(ctx, POOL, NULL, 0);
    atomic_fetch_add(&sh->commands, 1);
    return 0;
}

static const struct airsrt_actor_type member = {
    .name = "member", .state_size = sizeof(uint32_t),
    .pre_start = member_start, .handle = member_handle };
static const struct airsrt_actor_type dispatcher = {
    .name = "dispatcher", .pre_start = dispatcher_start,
    .handle = dispatcher_handle };
static const struct airsrt_actor_type *const types[] = { &member,
                                                         &dispatcher, NULL };

static void command(uint32_t op, enum airsrt_pool_strategy s, uint32_t count)
{
    struct pool_cmd c = { .op = op, .strategy = s, .count = count };
    uint32_t before = atomic_load(&sh->commands);

    integ_ctl_send(W_DISPATCH, &sh->dispatcher, pool_cmd_type, &c,
                   sizeof(c));
    INTEG_AWAIT(atomic_load(&sh->commands) > before);
    cr_assert_eq(atomic_load(&sh->error), 0, "pool send: %s",
                 airsrt_strerror(atomic_load(&sh->error)));
}

static int64_t members_seen(void)
{
    command(OP_MEMBERS, 0, 0);
    return sh->members;
}

static uint64_t received_total(void)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < NMEMBERS; i++)
        n += atomic_load(&sh->received[i]);
    return n;
}

/* Starts the members of worker w (2 each) and waits for their pre_start
 * in incarnation inc. */
static pid_t start_members(uint32_t w, uint32_t inc)
{
    pid_t pid = wh_fork_worker(w, types, w == W_A ? "member=0,member=1"
                                                  : "member=2,member=3");

    for (uint32_t i = 2 * w; i < 2 * w + 2; i++)
        INTEG_AWAIT(atomic_load(&sh->starts[i]) >= inc);
    return pid;
}

/* Member index of address a, which must be a member's current one. */
static uint32_t member_of(const struct airsrt_address *a)
{
    for (uint32_t i = 0; i < NMEMBERS; i++)
        if (airsrt_address_equal(&sh->self[i], a))
            return i;
    cr_assert_fail("%u.%u:%u.%u is no current member", a->worker,
                   a->incarnation, a->slot, a->generation);
    return 0;
}

/* The supervisor's part after worker w's incarnation inc died, up to
 * its notice, in the order of supervisor/recovery.c: the names unbound,
 * the slot marked crashed, then groups_epoch bumped (release). */
static void mark_dead(uint32_t w, uint32_t inc)
{
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(&harness_shm, w);
    struct airsrt_registry reg;

    cr_assert_not_null(sup);
    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
    cr_assert_geq(airsrt_registry_unbind_incarnation(&reg, w, inc), 0);
    atomic_store(&sup->state, AIRSRT_WORKER_CRASHED);
    atomic_fetch_add_explicit(&reg.hdr->groups_epoch, 1,
                              memory_order_release);
}

/* Its notice, after mark_dead(): to the dispatcher's worker. */
static void worker_down(uint32_t w, uint32_t inc)
{
    struct airsrt_worker_down d = { .worker = w, .incarnation = inc,
                                    .status = -1, .signal = 9 };

    integ_ctl_send(W_DISPATCH, NULL, AIRSRT_CTL_WORKER_DOWN, &d, sizeof(d));
}

Test(integ_pool, members_across_workers_survive_a_kill_as_specified,
     .timeout = 180)
{
    static struct airsrt_address before[NKEYS];
    pid_t pa, pb, pd;
    uint64_t got_before[NMEMBERS];
    uint32_t moved = 0;

    wh_runtime(3, NULL);
    sh = wh_shared(sizeof(*sh));
    pa = start_members(W_A, 1);
    pb = start_members(W_B, 1);
    pd = wh_fork_worker(W_DISPATCH, types, "dispatcher");
    INTEG_AWAIT(atomic_load(&sh->dispatcher_starts) == 1);
    cr_assert_eq(members_seen(), NMEMBERS);

    /* Round robin reaches every member in both workers, equally. */
    command(OP_SEND, AIRSRT_POOL_ROUND_ROBIN, 400);
    INTEG_AWAIT(received_total() == 400);
    for (uint32_t i = 0; i < NMEMBERS; i++)
        cr_assert_eq(atomic_load(&sh->received[i]), 100, "member %u", i);

    command(OP_SEND, AIRSRT_POOL_HASH, NKEYS);
    memcpy(before, sh->chosen, sizeof(before));
    INTEG_AWAIT(received_total() == 400 + NKEYS);

    /* Worker B dies; the supervisor's part: recover, then tell the rest. */
    harness_kill(pb);
    mark_dead(W_B, 1);
    worker_down(W_B, 1);
    cr_assert_eq(members_seen(), 2, "the dead worker's members stayed");

    for (uint32_t i = 0; i < NMEMBERS; i++)
        got_before[i] = atomic_load(&sh->received[i]);
    command(OP_SEND, AIRSRT_POOL_HASH, NKEYS);
    for (uint32_t k = 0; k < NKEYS; k++) {
        cr_assert_eq(sh->chosen[k].worker, W_A, "key %u sent to the dead", k);
        if (before[k].worker == W_A)
            cr_assert(airsrt_address_equal(&sh->chosen[k], &before[k]),
                      "key %u of a surviving member moved", k);
    }
    INTEG_AWAIT(atomic_load(&sh->received[0]) + atomic_load(&sh->received[1])
                == got_before[0] + got_before[1] + NKEYS);
    command(OP_SEND, AIRSRT_POOL_LEAST_LOADED, 100);
    command(OP_SEND, AIRSRT_POOL_RANDOM, 100);
    INTEG_AWAIT(atomic_load(&sh->received[0]) + atomic_load(&sh->received[1])
                == got_before[0] + got_before[1] + NKEYS + 200);

    /* B's next incarnation: its members join again, and keys move only
     * to them. */
    command(OP_SEND, AIRSRT_POOL_HASH, NKEYS);
    memcpy(before, sh->chosen, sizeof(before));
    wh_incarnate(W_B, 2);
    pb = start_members(W_B, 2);
    INTEG_AWAIT(members_seen() == NMEMBERS);
    command(OP_SEND, AIRSRT_POOL_HASH, NKEYS);
    for (uint32_t k = 0; k < NKEYS; k++)
        if (!airsrt_address_equal(&sh->chosen[k], &before[k])) {
            moved++;
            cr_assert_eq(sh->chosen[k].worker, W_B, "key %u", k);
            cr_assert_eq(sh->chosen[k].incarnation, 2, "key %u", k);
            member_of(&sh->chosen[k]);
        }
    cr_assert_gt(moved, 0, "no key went to the new members");
    INTEG_AWAIT(received_total() == 400 + 4 * NKEYS + 200);
    cr_assert_eq(atomic_load(&sh->unexpected), 0);
    for (uint32_t w = 0; w < 3; w++)
        cr_assert_eq(integ_dead_letters_all(w), 0, "worker %u", w);

    for (uint32_t w = 0; w < 3; w++)
        integ_ctl_shutdown(w);
    cr_assert_eq(integ_exit_status(pa), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pb), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pd), AIRSRT_EXIT_OK);
}

Test(integ_pool, recovery_drops_the_cached_members_before_worker_down,
     .timeout = 120)
{
    pid_t pa, pb, pd;

    /* The dispatcher used the pool before the death: its cache holds B's
     * members until the supervisor's epoch bump, which comes before its
     * AIRSRT_CTL_WORKER_DOWN. */
    wh_runtime(3, NULL);
    sh = wh_shared(sizeof(*sh));
    pa = start_members(W_A, 1);
    pb = start_members(W_B, 1);
    pd = wh_fork_worker(W_DISPATCH, types, "dispatcher");
    INTEG_AWAIT(atomic_load(&sh->dispatcher_starts) == 1);
    cr_assert_eq(members_seen(), NMEMBERS);
    harness_kill(pb);
    /* Dead, not yet recovered: nothing told the dispatcher. */
    cr_assert_eq(members_seen(), NMEMBERS);
    mark_dead(W_B, 1);
    cr_assert_eq(members_seen(), 2, "the epoch bump left B's members");
    worker_down(W_B, 1);
    cr_assert_eq(members_seen(), 2);

    /* Every strategy now reaches worker A only. */
    for (int s = 0; s < AIRSRT_POOL_STRATEGIES; s++) {
        command(OP_SEND, (enum airsrt_pool_strategy)s, 50);
        for (uint32_t k = 0; k < 50; k++)
            cr_assert_eq(sh->chosen[k].worker, W_A, "strategy %d", s);
    }
    INTEG_AWAIT(atomic_load(&sh->received[0]) +
                atomic_load(&sh->received[1]) == 200);
    cr_assert_eq(integ_dead_letters_all(W_A), 0);
    cr_assert_eq(integ_dead_letters_all(W_DISPATCH), 0);

    integ_ctl_shutdown(W_A);
    integ_ctl_shutdown(W_DISPATCH);
    cr_assert_eq(integ_exit_status(pa), AIRSRT_EXIT_OK);
    cr_assert_eq(integ_exit_status(pd), AIRSRT_EXIT_OK);
}
