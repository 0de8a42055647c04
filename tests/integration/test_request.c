/*
 * tests/integration/test_request.c - request and reply across two
 * forked worker processes (airsrt/request.h): a client in worker 0
 * asks a server in worker 1. Replies cross the rings and reach the
 * client; a silent server gives timeouts; a server that answers after
 * the timeout makes a late_reply dead letter in the client's worker,
 * never a handle; a server whose worker is killed (SIGKILL) while it
 * holds a request still leaves the client exactly one timeout.
 *
 * The server holds a request (blocks in handle) until the test releases
 * it: that is how a reply is made to come after its timeout, by order,
 * not by timing.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "tests/lib/integ_worker.h"

TestSuite(integ_request, .fini = harness_fini);

enum { T_GO = 0x72000001, T_REQ = 0x72000002, T_REP = 0x72000003 };
enum server_mode { MODE_REPLY = 0, MODE_MUTE, MODE_HOLD };

#define CORRS 128u

struct go {
    uint64_t timeout_ns;
    uint32_t count;
    uint32_t reserved;
};

/* Written by the workers, read by the test. */
struct shared {
    struct airsrt_address client;       /* published by client_started */
    _Atomic uint32_t client_started;
    _Atomic uint32_t mode;              /* enum server_mode */
    _Atomic uint32_t release;           /* MODE_HOLD: reply now */
    _Atomic uint32_t holding;           /* the server holds a request */
    _Atomic uint64_t requests;          /* the server handled */
    _Atomic uint64_t replied;           /* the server replied */
    _Atomic uint64_t sent;              /* the client requested */
    _Atomic int32_t send_error;
    _Atomic uint64_t replies;           /* the client handled */
    _Atomic uint64_t timeouts;
    _Atomic uint64_t both;              /* a corr settled twice */
    _Atomic uint64_t strangers;         /* a corr the client never sent */
    uint64_t corr[CORRS];
    _Atomic uint8_t settled[CORRS];
};

static struct shared *sh;

static int client_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    (void)state;
    (void)arg;
    (void)len;
    sh->client = *airsrt_self(ctx);
    atomic_store(&sh->client_started, 1);
    return 0;
}

static int client_go(struct airsrt_ctx *ctx, const struct airsrt_envelope *env)
{
    struct go g;

    if (env->payload_len != sizeof(g))
        return -EPROTO;
    memcpy(&g, env->payload, sizeof(g));
    for (uint32_t i = 0; i < g.count; i++) {
        uint64_t n = atomic_load(&sh->sent);
        int rc = airsrt_request(ctx, NULL, "rserver", T_REQ, &n, sizeof(n),
                                g.timeout_ns, &sh->corr[n % CORRS]);

        if (rc < 0) {
            atomic_store(&sh->send_error, rc);
            return 0;
        }
        atomic_fetch_add(&sh->sent, 1);
    }
    return 0;
}

/* Marks the request of corr settled; counts one settled twice. */
static void settle(uint64_t corr)
{
    uint64_t sent = atomic_load(&sh->sent);

    for (uint64_t i = 0; i < sent && i < CORRS; i++) {
        if (sh->corr[i] == corr) {
            if (atomic_fetch_add(&sh->settled[i], 1) != 0)
                atomic_fetch_add(&sh->both, 1);
            return;
        }
    }
    atomic_fetch_add(&sh->strangers, 1);
}

static int client_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)state;
    if (env->type == T_GO)
        return client_go(ctx, env);
    settle(env->correlation_id);
    if (env->type == T_REP)
        atomic_fetch_add(&sh->replies, 1);
    else if (env->type == AIRSRT_MSG_TIMEOUT)
        atomic_fetch_add(&sh->timeouts, 1);
    return 0;
}

/* MODE_HOLD: blocks the worker until released (a test may kill it
 * meanwhile); bounded, so a broken test cannot hang a worker forever. */
static void hold(void)
{
    struct timespec ms = { 0, 1000000 };

    atomic_store(&sh->holding, 1);
    for (int i = 0; i < 60000 && !atomic_load(&sh->release); i++)
        nanosleep(&ms, NULL);
    atomic_store(&sh->holding, 0);
}

static int server_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    uint32_t mode = atomic_load(&sh->mode);
    int rc;

    (void)state;
    atomic_fetch_add(&sh->requests, 1);
    if (mode == MODE_MUTE)
        return 0;
    if (mode == MODE_HOLD)
        hold();
    rc = airsrt_reply(ctx, T_REP, env->payload, env->payload_len);
    if (rc >= 0)
        atomic_fetch_add(&sh->replied, 1);
    return rc < 0 ? rc : 0;
}

static const struct airsrt_actor_type client = {
    .name = "rclient", .pre_start = client_start, .handle = client_handle };
static const struct airsrt_actor_type server = {
    .name = "rserver", .handle = server_handle };
static const struct airsrt_actor_type *const types[] = {
    &client, &server, NULL };

struct sys {
    pid_t pid0, pid1;
};

static struct sys start(enum server_mode mode)
{
    struct sys s;

    wh_runtime(2, NULL);
    sh = wh_shared(sizeof(*sh));
    atomic_store(&sh->mode, mode);
    s.pid1 = wh_fork_worker(1, types, "rserver@rserver");
    integ_await_name("rserver", 1, 1, NULL);
    s.pid0 = wh_fork_worker(0, types, "rclient");
    INTEG_AWAIT(atomic_load(&sh->client_started) == 1);
    return s;
}

static void request(uint32_t count, uint64_t timeout_ns)
{
    struct go g = { .timeout_ns = timeout_ns, .count = count };

    integ_ctl_send(0, &sh->client, T_GO, &g, sizeof(g));
}

static void stop(pid_t pid, uint32_t w)
{
    integ_ctl_shutdown(w);
    cr_assert_eq(integ_exit_status(pid), AIRSRT_EXIT_OK);
}

static void expect_clean_client(void)
{
    cr_assert_eq(atomic_load(&sh->send_error), 0);
    cr_assert_eq(atomic_load(&sh->both), 0, "a request settled twice");
    cr_assert_eq(atomic_load(&sh->strangers), 0);
}

Test(integ_request, replies_cross_workers_to_the_caller, .timeout = 120)
{
    struct sys s = start(MODE_REPLY);

    request(100, 30000000000ull);
    INTEG_AWAIT(atomic_load(&sh->replies) == 100);
    cr_assert_eq(atomic_load(&sh->timeouts), 0);
    cr_assert_eq(atomic_load(&sh->replied), 100);
    expect_clean_client();
    cr_assert_eq(integ_dead_letters_all(0), 0);
    cr_assert_eq(integ_dead_letters_all(1), 0);
    stop(s.pid0, 0);
    stop(s.pid1, 1);
}

Test(integ_request, silent_server_gives_each_request_a_timeout,
     .timeout = 120)
{
    struct sys s = start(MODE_MUTE);

    request(3, 20000000);
    INTEG_AWAIT(atomic_load(&sh->timeouts) == 3);
    INTEG_AWAIT(atomic_load(&sh->requests) == 3);
    cr_assert_eq(atomic_load(&sh->replies), 0);
    expect_clean_client();
    stop(s.pid0, 0);
    stop(s.pid1, 1);
}

Test(integ_request, late_reply_is_counted_and_never_reaches_handle,
     .timeout = 120)
{
    struct sys s = start(MODE_HOLD);

    request(1, 10000000);
    INTEG_AWAIT(atomic_load(&sh->holding) == 1);
    INTEG_AWAIT(atomic_load(&sh->timeouts) == 1);
    atomic_store(&sh->release, 1);
    INTEG_AWAIT(atomic_load(&sh->replied) == 1);
    INTEG_AWAIT(integ_dead_letters(0, AIRSRT_DL_LATE_REPLY) == 1);
    cr_assert_eq(atomic_load(&sh->replies), 0);
    cr_assert_eq(atomic_load(&sh->timeouts), 1);
    cr_assert_eq(integ_dead_letters_all(0), 1);
    expect_clean_client();
    stop(s.pid0, 0);
    stop(s.pid1, 1);
}

Test(integ_request, server_killed_holding_a_request_leaves_one_timeout,
     .timeout = 120)
{
    struct sys s = start(MODE_HOLD);

    request(1, 50000000);
    INTEG_AWAIT(atomic_load(&sh->holding) == 1);
    harness_kill(s.pid1);
    INTEG_AWAIT(atomic_load(&sh->timeouts) == 1);
    cr_assert_eq(atomic_load(&sh->replies), 0);
    expect_clean_client();
    cr_assert_eq(atomic_load(&integ_self(0)->state), AIRSRT_WORKER_RUNNING);
    stop(s.pid0, 0);
}
