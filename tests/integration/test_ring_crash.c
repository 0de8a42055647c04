/*
 * tests/integration/test_ring_crash.c - rings between real processes,
 * killed with real SIGKILL at the worst moments: nothing partial is ever
 * visible, nothing earlier is lost, and a new incarnation carries on.
 * Also: many producers at full speed, doorbells that never lose a wake-up,
 * and garbage sprayed over a live ring.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/stdlib.h>

#include "shm/ring_impl.h"
#include "tests/lib/harness.h"

TestSuite(crash, .fini = harness_fini);
TestSuite(stream, .fini = harness_fini);
TestSuite(doorbell, .fini = harness_fini);

/* Reads one envelope and checks it is (producer, seq), whole. */
static void expect(struct airsrt_ring *c, uint32_t producer, uint64_t seq)
{
    struct airsrt_ring_view v;
    uint32_t p;
    uint64_t s;

    cr_assert_eq(airsrt_ring_read(c, &v, 1), 1, "missing %u/%lu", producer,
                 (unsigned long)seq);
    cr_assert(harness_env_check(v.env, v.payload_len, &p, &s), "torn record");
    cr_assert_eq(p, producer);
    cr_assert_eq(s, seq);
}

static void expect_empty(struct airsrt_ring *c)
{
    struct airsrt_ring_view v;

    cr_assert_eq(airsrt_ring_read(c, &v, 1), 0, "unexpected record");
}

/* Child side: stops half-way through a record, tells the parent, waits
 * for its SIGKILL. */
static void die_mid_record(struct airsrt_ring *r, int sig_fd, uint64_t seq)
{
    struct airsrt_envelope *e;
    struct harness_env h;

    harness_env_fill(&h, 0, seq, 200);
    if (airsrt_ring_reserve(r, 200, &e) < 0)
        harness_exit(3);
    memcpy(e, &h, AIRSRT_ENVELOPE_HDR_SIZE + 100);
    harness_signal(sig_fd);
    pause();
    harness_exit(4);
}

static void push_range(struct airsrt_ring *r, uint64_t from, uint64_t to,
                       int (*push)(struct airsrt_ring *,
                                   const struct airsrt_envelope *))
{
    struct harness_env h;

    for (uint64_t seq = from; seq < to; seq++) {
        harness_env_fill(&h, 0, seq, 200);
        if (push(r, &h.env) != 0)
            harness_exit(2);
    }
}

Test(crash, ctl_producer_killed_holding_lock_mid_record, .timeout = 10)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    int fds[2];
    pid_t pid;

    harness_segment(2, 0, false);
    harness_pipe(fds);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 1, &p), 0);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 1, &c), 0);
    airsrt_ring_consumer_attach(&c);
    pid = harness_fork();
    if (pid == 0) {
        push_range(&p, 0, 10, airsrt_ctl_push);
        if (airsrt__ctl_lock(&p) < 0)
            harness_exit(5);
        die_mid_record(&p, fds[1], 10);
    }
    harness_await(fds[0]);
    harness_kill(pid);
    /* Ten whole records, and not a byte of the eleventh. */
    for (uint64_t seq = 0; seq < 10; seq++)
        expect(&c, 0, seq);
    expect_empty(&c);
    /* The next producer takes over the lock and the ring goes on. */
    harness_env_fill(&h, 0, 11, 200);
    cr_assert_eq(airsrt_ctl_push(&p, &h.env), 0);
    cr_assert_eq(atomic_load(&p.prod->stats.recovered), 1);
    expect(&c, 0, 11);
    expect_empty(&c);
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), 0);
}

Test(crash, data_producer_killed_mid_record_next_incarnation_continues,
     .timeout = 10)
{
    struct airsrt_ring p, c;
    int fds[2];
    pid_t pid;

    harness_segment(2, 1 << 16, false);
    harness_pipe(fds);
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 1, 0, &p), 0);
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 1, 0, &c), 0);
    airsrt_ring_consumer_attach(&c);
    pid = harness_fork();
    if (pid == 0) {
        airsrt_ring_producer_attach(&p);
        push_range(&p, 0, 100, airsrt_ring_push);
        die_mid_record(&p, fds[1], 100);
    }
    harness_await(fds[0]);
    harness_kill(pid);
    for (uint64_t seq = 0; seq < 100; seq++)
        expect(&c, 0, seq);
    expect_empty(&c);
    airsrt_ring_release_all(&c);
    /* The next incarnation resumes at the published tail; pushing past
     * the ring's end proves it also wraps from there. */
    pid = harness_fork();
    if (pid == 0) {
        airsrt_ring_producer_attach(&p);
        push_range(&p, 100, 300, airsrt_ring_push);
        harness_exit(0);
    }
    for (uint64_t seq = 100; seq < 300; seq++) {
        while (!airsrt_ring_has_data(&c))
            ;
        expect(&c, 0, seq);
        airsrt_ring_release_all(&c);
    }
    cr_assert_eq(WEXITSTATUS(harness_wait(pid)), 0);
    expect_empty(&c);
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), 0);
}

/* Child consumer: reads and releases `released` records, then reads
 * `unreleased` more without releasing, tells the parent, waits to die. */
static void consume_then_die(struct airsrt_ring *c, uint64_t released,
                             uint64_t unreleased, int sig_fd)
{
    struct airsrt_ring_view v[16];
    uint64_t got = 0;
    ssize_t n;

    airsrt_ring_consumer_attach(c);
    while (got < released) {
        n = airsrt_ring_read(c, v, released - got < 16 ? released - got : 16);
        if (n < 0)
            harness_exit(3);
        got += (uint64_t)n;
        airsrt_ring_release_all(c);
    }
    for (got = 0; got < unreleased; got += (uint64_t)n)
        if ((n = airsrt_ring_read(c, v, unreleased - got)) < 0)
            harness_exit(4);
    harness_signal(sig_fd);
    pause();
    harness_exit(5);
}

Test(crash, consumer_killed_mid_batch_next_one_resumes_at_release,
     .timeout = 10)
{
    struct airsrt_ring p, c;
    int fds[2];
    pid_t pid;

    harness_segment(2, 1 << 16, false);
    harness_pipe(fds);
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 0, 1, &p), 0);
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 0, 1, &c), 0);
    airsrt_ring_producer_attach(&p);
    push_range(&p, 0, 100, airsrt_ring_push);
    pid = harness_fork();
    if (pid == 0)
        consume_then_die(&c, 40, 10, fds[1]);
    harness_await(fds[0]);
    harness_kill(pid);
    /* The unreleased batch (40..49) is seen again: at-least-once between
     * read and release. Nothing before it comes back, nothing is lost. */
    airsrt_ring_consumer_attach(&c);
    for (uint64_t seq = 40; seq < 100; seq++)
        expect(&c, 0, seq);
    expect_empty(&c);
}

/* ---- many producers, one consumer, full speed ---- */

#define PRODUCERS 4

/* Producer child: count sequenced envelopes, in batches of up to 32,
 * ringing the consumer's doorbell after each publication. */
static void produce_data(uint32_t me, uint64_t count)
{
    struct airsrt_ring r;
    struct airsrt_doorbell *bell = airsrt_shm_doorbell(&harness_shm, 0);
    struct harness_env h[32];
    const struct airsrt_envelope *envs[32];
    uint64_t seq = 0;
    ssize_t n;

    airsrt_shm_data_ring(&harness_shm, me, 0, &r);
    airsrt_ring_producer_attach(&r);
    while (seq < count) {
        size_t batch = count - seq < 32 ? count - seq : 1 + seq % 32;

        for (size_t i = 0; i < batch; i++) {
            harness_env_fill(&h[i], me, seq + i, 16 + (uint32_t)((seq + i) % 64));
            envs[i] = &h[i].env;
        }
        n = airsrt_ring_write_batch(&r, envs, batch);
        if (n < 0)
            harness_exit(2);
        if (n > 0)
            airsrt_doorbell_ring(bell);
        seq += (uint64_t)n;
    }
    harness_exit(0);
}

struct consumer {
    struct airsrt_ring rings[PRODUCERS + 1];
    uint32_t nrings;
};

static bool any_data(void *arg)
{
    struct consumer *k = arg;

    for (uint32_t i = 0; i < k->nrings; i++)
        if (airsrt_ring_has_data(&k->rings[i]))
            return true;
    return false;
}

/* Drains every ring until each producer's count arrived, checking that
 * each arrives exactly once and in order. */
static void consume_all(struct consumer *k, uint32_t first_producer,
                        uint64_t count)
{
    struct airsrt_doorbell *bell = airsrt_shm_doorbell(&harness_shm, 0);
    struct airsrt_ring_view v[64];
    uint64_t next[PRODUCERS + 1] = {0}, total = 0;
    uint32_t producer;
    uint64_t seq;

    while (total < count * PRODUCERS) {
        bool idle = true;

        for (uint32_t i = 0; i < k->nrings; i++) {
            ssize_t n = airsrt_ring_read(&k->rings[i], v, 64);

            cr_assert_geq(n, 0, "ring %u corrupt", i);
            for (ssize_t j = 0; j < n; j++) {
                cr_assert(harness_env_check(v[j].env, v[j].payload_len,
                                            &producer, &seq), "torn record");
                cr_assert(producer >= first_producer &&
                          producer < first_producer + PRODUCERS);
                cr_assert_eq(seq, next[producer - first_producer],
                             "producer %u: got %lu, expected %lu", producer,
                             (unsigned long)seq,
                             (unsigned long)next[producer - first_producer]);
                next[producer - first_producer]++;
            }
            if (n > 0) {
                airsrt_ring_release_all(&k->rings[i]);
                total += (uint64_t)n;
                idle = false;
            }
        }
        if (idle)
            cr_assert_geq(airsrt_doorbell_wait(bell, any_data, k, 200, -1), 0);
    }
    for (uint32_t i = 0; i < k->nrings; i++)
        cr_assert_not(airsrt_ring_has_data(&k->rings[i]), "extra records");
}

Test(stream, four_producers_through_data_rings_arrive_once_in_order,
     .timeout = 120)
{
    uint64_t count = harness_count(1000000);
    struct consumer k = { .nrings = PRODUCERS };
    pid_t pids[PRODUCERS];

    harness_segment(PRODUCERS + 1, 1 << 18, false);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        airsrt_shm_data_ring(&harness_shm, i + 1, 0, &k.rings[i]);
        airsrt_ring_consumer_attach(&k.rings[i]);
    }
    for (uint32_t i = 0; i < PRODUCERS; i++)
        if ((pids[i] = harness_fork()) == 0)
            produce_data(i + 1, count);
    consume_all(&k, 1, count);
    for (uint32_t i = 0; i < PRODUCERS; i++)
        cr_assert_eq(harness_wait(pids[i]), 0);
}

/* Producer child through the shared control ring of worker 0. */
static void produce_ctl(uint32_t me, uint64_t count)
{
    struct airsrt_ring r;
    struct airsrt_doorbell *bell = airsrt_shm_doorbell(&harness_shm, 0);
    struct harness_env h;
    int rc;

    airsrt_shm_ctl_ring(&harness_shm, 0, &r);
    for (uint64_t seq = 0; seq < count;) {
        harness_env_fill(&h, me, seq, 16 + (uint32_t)(seq % 64));
        rc = airsrt_ctl_push(&r, &h.env);
        if (rc == 0) {
            airsrt_doorbell_ring(bell);
            seq++;
        } else if (rc == -EAGAIN) {
            sched_yield();
        } else {
            harness_exit(2);
        }
    }
    harness_exit(0);
}

Test(stream, four_producers_through_control_ring_arrive_once_in_order,
     .timeout = 180)
{
    uint64_t count = harness_count(1000000);
    struct consumer k = { .nrings = 1 };
    pid_t pids[PRODUCERS];

    harness_segment(PRODUCERS + 1, 0, false);
    airsrt_shm_ctl_ring(&harness_shm, 0, &k.rings[0]);
    airsrt_ring_consumer_attach(&k.rings[0]);
    for (uint32_t i = 0; i < PRODUCERS; i++)
        if ((pids[i] = harness_fork()) == 0)
            produce_ctl(i + 1, count);
    consume_all(&k, 1, count);
    for (uint32_t i = 0; i < PRODUCERS; i++)
        cr_assert_eq(harness_wait(pids[i]), 0);
    cr_assert_eq(atomic_load(&k.rings[0].prod->stats.envelopes),
                 count * PRODUCERS);
}

/* ---- doorbells ---- */

struct sleeper {
    struct airsrt_ring in;
};

static bool has_in(void *arg)
{
    return airsrt_ring_has_data(&((struct sleeper *)arg)->in);
}

/* One side of a ping-pong where both sides sleep without spinning and
 * without timeout: a single lost wake-up hangs the test. */
static void bounce(uint32_t me, uint32_t peer, uint64_t rounds, bool serve)
{
    struct sleeper s;
    struct airsrt_ring out;
    struct airsrt_ring_view v;
    struct harness_env h;

    airsrt_shm_data_ring(&harness_shm, peer, me, &s.in);
    airsrt_shm_data_ring(&harness_shm, me, peer, &out);
    airsrt_ring_consumer_attach(&s.in);
    airsrt_ring_producer_attach(&out);
    airsrt_doorbell_reset(airsrt_shm_doorbell(&harness_shm, me));
    for (uint64_t i = 0; i < rounds; i++) {
        if (!serve) {
            harness_env_fill(&h, me, i, 16);
            if (airsrt_ring_push(&out, &h.env) != 0)
                harness_exit(2);
            airsrt_doorbell_ring(airsrt_shm_doorbell(&harness_shm, peer));
        }
        while (airsrt_ring_read(&s.in, &v, 1) == 0)
            if (airsrt_doorbell_wait(airsrt_shm_doorbell(&harness_shm, me),
                                     has_in, &s, 0, -1) < 0)
                harness_exit(3);
        airsrt_ring_release_all(&s.in);
        if (serve) {
            harness_env_fill(&h, me, i, 16);
            if (airsrt_ring_push(&out, &h.env) != 0)
                harness_exit(2);
            airsrt_doorbell_ring(airsrt_shm_doorbell(&harness_shm, peer));
        }
    }
    harness_exit(0);
}

Test(doorbell, ping_pong_asleep_never_loses_a_wakeup, .timeout = 60)
{
    uint64_t rounds = harness_count(100000);
    pid_t a, b;

    harness_segment(2, 1 << 16, false);
    if ((a = harness_fork()) == 0)
        bounce(0, 1, rounds, false);
    if ((b = harness_fork()) == 0)
        bounce(1, 0, rounds, true);
    cr_assert_eq(harness_wait(a), 0);
    cr_assert_eq(harness_wait(b), 0);
    /* They really slept: wakes went through the futex. */
    cr_assert_gt(atomic_load(&airsrt_shm_doorbell(&harness_shm, 1)->wakes), 0);
}

Test(doorbell, wait_times_out_without_work, .timeout = 5)
{
    struct sleeper s;

    harness_segment(2, 1 << 16, false);
    airsrt_shm_data_ring(&harness_shm, 1, 0, &s.in);
    airsrt_ring_consumer_attach(&s.in);
    cr_assert_eq(airsrt_doorbell_wait(airsrt_shm_doorbell(&harness_shm, 0),
                                      has_in, &s, 10, 1000000), 0);
    cr_assert_eq(atomic_load(&airsrt_shm_doorbell(&harness_shm, 0)->is_sleeping), 0);
}

/* ---- full ring with a timeout, and garbage on a live ring ---- */

Test(stream, push_timeout_succeeds_once_consumer_makes_room, .timeout = 10)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    struct airsrt_ring_view v;
    int fds[2];
    pid_t pid;

    harness_segment(2, 4096, false);
    harness_pipe(fds);
    airsrt_shm_data_ring(&harness_shm, 0, 1, &p);
    airsrt_shm_data_ring(&harness_shm, 0, 1, &c);
    airsrt_ring_producer_attach(&p);
    harness_env_fill(&h, 0, 0, 64);
    while (airsrt_ring_push(&p, &h.env) == 0)
        ;
    pid = harness_fork();
    if (pid == 0) {
        airsrt_ring_consumer_attach(&c);
        harness_signal(fds[1]);
        usleep(20000);
        if (airsrt_ring_read(&c, &v, 1) != 1)
            harness_exit(2);
        airsrt_ring_release_all(&c);
        harness_exit(0);
    }
    harness_await(fds[0]);
    cr_assert_eq(airsrt_ring_push_timeout(&p, &h.env, 5000000000ull), 0);
    cr_assert_eq(harness_wait(pid), 0);
}

/* Producer child for the garbage test: a steady stream, then a final
 * envelope with seq UINT64_MAX once the parent says stop. */
static void produce_until_told(struct airsrt_ring *p, int stop_fd)
{
    struct harness_env h;
    uint64_t seq = 0;
    char c;

    airsrt_ring_producer_attach(p);
    while (read(stop_fd, &c, 1) != 1) {
        harness_env_fill(&h, 7, seq, 100);
        if (airsrt_ring_push_timeout(p, &h.env, 1000000) == 0)
            seq++;
    }
    harness_env_fill(&h, 7, UINT64_MAX, 100);
    if (airsrt_ring_push_timeout(p, &h.env, 5000000000ull) != 0)
        harness_exit(2);
    harness_exit(0);
}

Test(stream, reader_survives_garbage_sprayed_over_live_ring, .timeout = 30)
{
    struct airsrt_ring p, c;
    struct airsrt_ring_view v[32];
    int fds[2];
    uint64_t last = 0, corrupt = 0, got = 0;
    bool done = false, told = false;
    int last_spray = 0;
    uint32_t producer;
    uint64_t seq;
    pid_t pid;

    harness_segment(2, 1 << 14, false);
    harness_pipe(fds);
    cr_assert_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    airsrt_shm_data_ring(&harness_shm, 1, 0, &p);
    airsrt_shm_data_ring(&harness_shm, 1, 0, &c);
    airsrt_ring_consumer_attach(&c);
    if ((pid = harness_fork()) == 0)
        produce_until_told(&p, fds[0]);
    for (int round = 0; !done; round++) {
        ssize_t n = airsrt_ring_read(&c, v, 32);

        if (n == -EBADMSG)
            corrupt++;
        for (ssize_t i = 0; i < n; i++) {
            /* What passes validation may still carry sprayed payload
             * bytes; only whole, checked envelopes count. */
            if (!harness_env_check(v[i].env, v[i].payload_len, &producer, &seq))
                continue;
            cr_assert_eq(producer, 7);
            if (seq == UINT64_MAX) {
                done = true;
                break;
            }
            cr_assert(got == 0 || seq > last, "order broken: %lu after %lu",
                      (unsigned long)seq, (unsigned long)last);
            last = seq;
            got++;
        }
        airsrt_ring_release_all(&c);
        /* Spray where the next unread record lies, so that each spray
         * is certain to be met by the reader. */
        if (corrupt < 5 && round - last_spray >= 1000 &&
            airsrt_ring_has_data(&c)) {
            uint64_t off = c.read & (c.capacity - 1);

            arc4random_buf(c.buf + off, c.capacity - off < 256 ?
                                        c.capacity - off : 256);
            last_spray = round;
        }
        if (corrupt >= 5 && !told) {
            harness_signal(fds[1]);
            told = true;
        }
        if (n == 0)
            sched_yield();
    }
    cr_assert_eq(harness_wait(pid), 0);
    cr_assert_geq(corrupt, 5);
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), corrupt);
    cr_assert_gt(got, 0);
}
