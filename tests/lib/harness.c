/*
 * tests/lib/harness.c - shared test scaffolding (see harness.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/harness.h"

#define MAX_KIDS 64

struct airsrt_shm harness_shm = { .fd = -1 };
static pid_t kids[MAX_KIDS];
static int nkids;

const char *harness_name(const char *tag)
{
    static char name[64];

    snprintf(name, sizeof(name), "t%d-%s", (int)getpid(), tag);
    return name;
}

void harness_segment(uint32_t nworkers, uint32_t ring_bytes, bool keep_name)
{
    struct airsrt_shm_params p = { .nworkers = nworkers,
                                   .ring_bytes = ring_bytes };
    int rc;

    /* Small rings carry what they can; the default otherwise. */
    if (ring_bytes != 0 &&
        airsrt_ring_payload_limit(ring_bytes) < AIRSRT_PAYLOAD_MAX_DEFAULT)
        p.payload_max = airsrt_ring_payload_limit(ring_bytes);
    rc = airsrt_shm_create(&harness_shm, harness_name("seg"), &p);

    cr_assert_eq(rc, 0, "create: %s", harness_shm.err);
    if (!keep_name)
        shm_unlink(harness_shm.path);
}

pid_t harness_fork(void)
{
    pid_t parent = getpid(), pid;

    cr_assert_lt(nkids, MAX_KIDS);
    pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            harness_exit(99);
        nkids = 0;
        return 0;
    }
    kids[nkids++] = pid;
    return pid;
}

#ifdef AIRSRT_COVERAGE
extern void __gcov_dump(void); /* libgcov, linked by --coverage */
#endif

void harness_exit(int code)
{
#ifdef AIRSRT_COVERAGE
    __gcov_dump();
#endif
    _exit(code);
}

int harness_wait(pid_t pid)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = 0;
    return status;
}

void harness_kill(pid_t pid)
{
    int status;

    cr_assert_eq(kill(pid, SIGKILL), 0);
    status = harness_wait(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "status %#x", status);
}

void harness_fini(void)
{
    for (int i = 0; i < nkids; i++) {
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
        }
    }
    nkids = 0;
    if (harness_shm.base != NULL)
        airsrt_shm_destroy(&harness_shm);
}

uint64_t harness_count(uint64_t n)
{
    return getenv("AIRSRT_UNDER_VALGRIND") ? (n / 100 > 0 ? n / 100 : 1) : n;
}

static uint8_t filler(uint32_t producer, uint64_t seq, uint32_t i)
{
    return (uint8_t)(producer * 31u + seq * 7u + i);
}

void harness_env_fill(struct harness_env *h, uint32_t producer, uint64_t seq,
                      uint32_t payload_len)
{
    uint8_t *payload = h->env.payload;

    cr_assert(payload_len >= 12 &&
              payload_len <= sizeof(h->bytes) - sizeof(h->env));
    airsrt_envelope_init(&h->env, 42, payload_len);
    memcpy(payload, &producer, 4);
    memcpy(payload + 4, &seq, 8);
    for (uint32_t i = 12; i < payload_len; i++)
        payload[i] = filler(producer, seq, i);
}

bool harness_env_check(const struct airsrt_envelope *e, uint32_t payload_len,
                       uint32_t *producer, uint64_t *seq)
{
    if (e->type != 42 || payload_len < 12)
        return false;
    memcpy(producer, e->payload, 4);
    memcpy(seq, e->payload + 4, 8);
    for (uint32_t i = 12; i < payload_len; i++)
        if (e->payload[i] != filler(*producer, *seq, i))
            return false;
    return true;
}

void harness_pipe(int fds[2])
{
    cr_assert_eq(pipe(fds), 0);
}

void harness_signal(int fd)
{
    char c = 1;

    if (write(fd, &c, 1) != 1)
        harness_exit(98);
}

void harness_await(int fd)
{
    char c;

    cr_assert_eq(read(fd, &c, 1), 1, "peer died before signalling");
}
