/*
 * tests/integration/test_registry_crash.c - the registry between real
 * processes: a writer killed with SIGKILL half-way through an entry while
 * it holds the lock, a writer stuck holding the lock, readers racing a
 * writer that rebinds, a worker's death and its next incarnation, and
 * writers registering at the same time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/registry.h"
#include "shm/robust.h"
#include "tests/lib/harness.h"
#include "tests/lib/registry_util.h"

TestSuite(registry_crash, .fini = harness_fini);

static void open_registry(void)
{
    harness_segment(4, 1 << 16, false);
    cr_assert_eq(airsrt_registry_open(&reg, &harness_shm), 0);
}

/* Child: takes the registry lock, tells the parent, waits for SIGKILL. */
static void hold_lock_until_killed(int sig_fd, uint32_t torn_id)
{
    struct airsrt_registry_entry *e;
    bool owner_died;

    if (airsrt_robust_lock(&reg.hdr->lock, &owner_died) < 0)
        harness_exit(2);
    if (torn_id != 0) {
        /* Half-way through rebinding: generation odd, half an address. */
        e = &reg.entries[torn_id - 1];
        atomic_fetch_add(&e->generation, 1);
        e->addr.worker = 3;
        e->addr.incarnation = 2;
    }
    harness_signal(sig_fd);
    pause();
    harness_exit(3);
}

Test(registry_crash, writer_killed_mid_entry_next_register_recovers,
     .timeout = 10)
{
    struct airsrt_registry_record rec;
    uint32_t keeper, torn, id;
    int fds[2];
    pid_t pid;

    open_registry();
    harness_pipe(fds);
    keeper = reg_name("keeper", at(1, 1, 1));
    torn = reg_name("ledger", AIRSRT_ADDRESS_NULL);
    pid = harness_fork();
    if (pid == 0)
        hold_lock_until_killed(fds[1], torn);
    harness_await(fds[0]);
    harness_kill(pid);
    /* Readers go on without the lock; the torn entry is never followed. */
    cr_assert_eq(airsrt_registry_lookup(&reg, torn, &rec), -EAGAIN);
    cr_assert_eq(airsrt_registry_resolve(&reg, "ledger", NULL, NULL),
                 -EAGAIN);
    expect_resolves("keeper", keeper, at(1, 1, 1));
    /* The next writer recovers the lock and clears the torn entry. */
    id = reg_name("other", at(2, 1, 1));
    cr_assert_eq(atomic_load(&reg.hdr->owner_deaths), 1);
    cr_assert_eq(atomic_load(&reg.hdr->torn_cleared), 1);
    cr_assert_eq(atomic_load(&reg.hdr->corrupt_repaired), 0);
    cr_assert_eq(atomic_load(&reg.hdr->count), 2);
    cr_assert_eq(airsrt_registry_lookup(&reg, torn, &rec), -ENOENT);
    cr_assert_eq(airsrt_registry_resolve(&reg, "ledger", NULL, NULL),
                 -ENOENT);
    expect_resolves("keeper", keeper, at(1, 1, 1));
    expect_resolves("other", id, at(2, 1, 1));
    id = reg_name("ledger", at(3, 2, 1));
    expect_resolves("ledger", id, at(3, 2, 1));
    cr_assert_eq(atomic_load(&reg.hdr->owner_deaths), 1);
}

Test(registry_crash, readers_do_not_wait_for_a_writer_stuck_holding_lock,
     .timeout = 10)
{
    struct airsrt_registry_record rec;
    struct airsrt_address holder;
    uint32_t id;
    int fds[2];
    pid_t pid;

    open_registry();
    harness_pipe(fds);
    id = reg_name("ledger", at(1, 1, 1));
    pid = harness_fork();
    if (pid == 0)
        hold_lock_until_killed(fds[1], 0);
    harness_await(fds[0]);
    for (int i = 0; i < 1000; i++) {
        expect_resolves("ledger", id, at(1, 1, 1));
        cr_assert_eq(airsrt_registry_lookup(&reg, id, &rec), 0);
    }
    harness_kill(pid);
    holder = at(1, 1, 1);
    cr_assert_eq(airsrt_registry_unbind(&reg, id, &holder), 0);
    cr_assert_eq(atomic_load(&reg.hdr->owner_deaths), 1);
    cr_assert_eq(atomic_load(&reg.hdr->torn_cleared), 0);
    expect_resolves("ledger", id, AIRSRT_ADDRESS_NULL);
}

/* A holder that hangs (stopped, stuck) must not hang every writer with
 * it, the supervisor least of all: they give up with -ETIMEDOUT. */
Test(registry_crash, writers_time_out_on_a_holder_that_hangs, .timeout = 20)
{
    struct airsrt_address a = at(1, 1, 1);
    uint32_t id;
    int fds[2];
    pid_t pid;

    open_registry();
    harness_pipe(fds);
    pid = harness_fork();
    if (pid == 0)
        hold_lock_until_killed(fds[1], 0);
    harness_await(fds[0]);
    cr_assert_eq(kill(pid, SIGSTOP), 0);
    cr_assert_eq(airsrt_registry_register(&reg, "ledger",
                                          AIRSRT_REGISTRY_NAME, &a, &id),
                 -ETIMEDOUT);
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), -ETIMEDOUT);
    harness_kill(pid);
    id = reg_name("ledger", a);
    expect_resolves("ledger", id, a);
    cr_assert_eq(atomic_load(&reg.hdr->owner_deaths), 1);
}

/* ---- readers racing a writer ---- */

#define HOT 8

/* The address the writer binds in round i: every field derived from i,
 * so a reader that mixed two rounds' fields cannot pass check_round(). */
static struct airsrt_address round_addr(uint64_t i)
{
    return (struct airsrt_address){
        .worker = (uint16_t)(1 + i % 3),
        .incarnation = (uint32_t)(i + 1),
        .slot = (uint32_t)(i * 7 % AIRSRT_MAX_ACTOR_SLOT),
        .generation = (uint32_t)(i * 2654435761u) | 1u,
    };
}

static bool check_round(int k, const struct airsrt_address *a)
{
    struct airsrt_address want;
    uint64_t i;

    if (airsrt_address_is_null(a))
        return true;
    i = (uint64_t)a->incarnation - 1;
    want = round_addr(i);
    return i % HOT == (uint64_t)k && airsrt_address_equal(a, &want);
}

static void hot_name(int k, char *buf, size_t len)
{
    snprintf(buf, len, "hot-%d", k);
}

/* True once fd is readable or hung up. */
static bool has_input(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) > 0;
}

/* Child: binds and unbinds the hot names round after round, until the
 * reader says stop. */
static void rebind_rounds(const uint32_t *ids, int stop_fd)
{
    char name[16];

    for (uint64_t i = 0; i % 256 != 0 || !has_input(stop_fd); i++) {
        struct airsrt_address a = round_addr(i);
        int k = (int)(i % HOT);
        uint32_t id;

        hot_name(k, name, sizeof(name));
        if (airsrt_registry_register(&reg, name, AIRSRT_REGISTRY_NAME, &a,
                                     &id) != 0 || id != ids[k])
            harness_exit(2);
        if (airsrt_registry_unbind(&reg, id, &a) != 0)
            harness_exit(3);
    }
    harness_exit(0);
}

struct tally {
    uint64_t bound, unbound, again;
};

static void read_once(int k, const uint32_t *ids, struct tally *t)
{
    struct airsrt_registry_record rec;
    struct airsrt_address a;
    char name[16];
    uint32_t id;
    int rc;

    hot_name(k, name, sizeof(name));
    rc = airsrt_registry_resolve(&reg, name, &id, &a);
    if (rc == -EAGAIN) {
        t->again++;
        return;
    }
    cr_assert_eq(rc, 0, "resolve %s: %d", name, rc);
    cr_assert_eq(id, ids[k]);
    cr_assert(check_round(k, &a), "torn address for %s", name);
    if (airsrt_address_is_null(&a))
        t->unbound++;
    else
        t->bound++;
    rc = airsrt_registry_lookup(&reg, ids[k], &rec);
    cr_assert(rc == 0 || rc == -EAGAIN, "lookup %u: %d", ids[k], rc);
    if (rc == 0) {
        cr_assert_str_eq(rec.name, name);
        cr_assert(check_round(k, &rec.addr), "torn record for %s", name);
    }
}

Test(registry_crash, readers_never_see_a_torn_entry_while_writer_rebinds,
     .timeout = 120)
{
    uint64_t reads = harness_count(1000000);
    struct tally t = { 0 };
    uint32_t ids[HOT];
    char name[16];
    int stop[2], ended[2];
    pid_t pid;

    open_registry();
    harness_pipe(stop);
    harness_pipe(ended);
    for (int k = 0; k < HOT; k++) {
        hot_name(k, name, sizeof(name));
        ids[k] = reg_name(name, AIRSRT_ADDRESS_NULL);
    }
    pid = harness_fork();
    if (pid == 0)
        rebind_rounds(ids, stop[0]);
    /* Only the writer holds this write end now: its exit hangs it up. */
    close(ended[1]);
    while (t.bound + t.unbound < reads || t.bound == 0 || t.unbound == 0) {
        cr_assert_not(has_input(ended[0]), "writer ended early");
        for (int k = 0; k < HOT; k++)
            read_once(k, ids, &t);
    }
    harness_signal(stop[1]);
    cr_assert_eq(harness_wait(pid), 0, "writer failed");
    cr_assert_eq(atomic_load(&reg.hdr->corrupt_seen), 0);
    cr_assert_eq(atomic_load(&reg.hdr->torn_cleared), 0);
    for (int k = 0; k < HOT; k++) {
        hot_name(k, name, sizeof(name));
        expect_resolves(name, ids[k], AIRSRT_ADDRESS_NULL);
    }
    cr_log_info("reads: %lu bound, %lu unbound, %lu retried later",
                (unsigned long)t.bound, (unsigned long)t.unbound,
                (unsigned long)t.again);
}

/* ---- a worker's death and its next incarnation ---- */

/* Child: worker 1, incarnation inc, registers its names; the first
 * incarnation then waits to be killed, the next one exits. */
static void worker_names(uint32_t inc, int sig_fd)
{
    char name[16];
    uint32_t id;

    for (uint32_t k = 0; k < 3; k++) {
        struct airsrt_address a = at(1, inc, k + 1);

        snprintf(name, sizeof(name), "svc-%u", k);
        if (airsrt_registry_register(&reg, name, AIRSRT_REGISTRY_NAME, &a,
                                     &id) != 0)
            harness_exit(2);
    }
    if (inc > 1)
        harness_exit(0);
    harness_signal(sig_fd);
    pause();
    harness_exit(3);
}

Test(registry_crash, next_incarnation_rebinds_the_ids_of_a_killed_worker,
     .timeout = 10)
{
    struct airsrt_address old;
    uint32_t ids[3];
    char name[16];
    int fds[2];
    pid_t pid;

    open_registry();
    harness_pipe(fds);
    reg_name("bystander", at(2, 1, 1));
    pid = harness_fork();
    if (pid == 0)
        worker_names(1, fds[1]);
    harness_await(fds[0]);
    harness_kill(pid);
    for (uint32_t k = 0; k < 3; k++) {
        snprintf(name, sizeof(name), "svc-%u", k);
        cr_assert_eq(airsrt_registry_resolve(&reg, name, &ids[k], NULL), 0);
    }
    /* The supervisor cleans up after incarnation 1... */
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 3);
    for (uint32_t k = 0; k < 3; k++) {
        snprintf(name, sizeof(name), "svc-%u", k);
        expect_resolves(name, ids[k], AIRSRT_ADDRESS_NULL);
    }
    /* ...and incarnation 2 gets the same ids back. */
    pid = harness_fork();
    if (pid == 0)
        worker_names(2, fds[1]);
    cr_assert_eq(harness_wait(pid), 0);
    for (uint32_t k = 0; k < 3; k++) {
        snprintf(name, sizeof(name), "svc-%u", k);
        expect_resolves(name, ids[k], at(1, 2, k + 1));
    }
    /* A late cleanup of incarnation 1 touches nothing of incarnation 2. */
    cr_assert_eq(airsrt_registry_unbind_incarnation(&reg, 1, 1), 0);
    old = at(1, 1, 1);
    cr_assert_eq(airsrt_registry_unbind(&reg, ids[0], &old), -ESTALE);
    cr_assert_eq(atomic_load(&reg.hdr->count), 4);
    cr_assert_eq(atomic_load(&reg.hdr->owner_deaths), 0);
}

/* ---- writers at the same time ---- */

#define WRITERS 4
#define NAMES_EACH 500

/* Child: registers its own names and races for "shared". Exit status 0:
 * won "shared", 1: lost it (-EEXIST), anything else: failure. */
static void register_many(uint16_t me)
{
    struct airsrt_address shared = at(me, 1, 0);
    char name[32];
    int rc, won = -1;
    uint32_t id;

    for (uint32_t i = 0; i < NAMES_EACH; i++) {
        struct airsrt_address a = at(me, 1, i + 1);

        if (i == NAMES_EACH / 2) {
            rc = airsrt_registry_register(&reg, "shared",
                                          AIRSRT_REGISTRY_NAME, &shared, &id);
            if (rc != 0 && rc != -EEXIST)
                harness_exit(2);
            won = rc == 0 ? 0 : 1;
        }
        snprintf(name, sizeof(name), "w%u-%u", me, i);
        if (airsrt_registry_register(&reg, name, AIRSRT_REGISTRY_NAME, &a,
                                     &id) != 0)
            harness_exit(3);
    }
    harness_exit(won);
}

Test(registry_crash, concurrent_writers_get_distinct_ids, .timeout = 60)
{
    static bool taken[AIRSRT_REGISTRY_CAP_DEFAULT + 1];
    struct airsrt_address holder;
    pid_t pids[WRITERS];
    int winners = 0;
    char name[32];
    uint32_t id;

    open_registry();
    for (uint16_t w = 0; w < WRITERS; w++)
        if ((pids[w] = harness_fork()) == 0)
            register_many(w + 1);
    for (uint16_t w = 0; w < WRITERS; w++) {
        int status = harness_wait(pids[w]);

        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1,
                  "writer %u: status %d", w, status);
        winners += WEXITSTATUS(status) == 0;
    }
    cr_assert_eq(winners, 1);
    cr_assert_eq(airsrt_registry_resolve(&reg, "shared", &id, &holder), 0);
    taken[id] = true;
    for (uint16_t w = 1; w <= WRITERS; w++) {
        for (uint32_t i = 0; i < NAMES_EACH; i++) {
            snprintf(name, sizeof(name), "w%u-%u", w, i);
            cr_assert_eq(airsrt_registry_resolve(&reg, name, &id, NULL), 0);
            cr_assert_not(taken[id], "id %u given twice", id);
            taken[id] = true;
        }
    }
    cr_assert_eq(atomic_load(&reg.hdr->count), WRITERS * NAMES_EACH + 1);
    cr_assert_eq(atomic_load(&reg.hdr->corrupt_seen), 0);
}
