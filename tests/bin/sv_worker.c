/*
 * tests/bin/sv_worker.c - the worker binary the supervisor's integration
 * tests run through airsrt-run. Its actor types each do one thing a test
 * needs from a worker process:
 *
 *   echo            replies to every envelope with its type and payload
 *   sink=PATH       appends the sequence number (u64 payload) of every
 *                   envelope of type 1 to PATH, one line each
 *   sender=NAME:N[:MS]  waits MS ms, sends envelopes 1..N of type 1 to
 *                   NAME, then stops
 *   bomb            kills its process with SIGSEGV in its first handler
 *   stubborn        blocks SIGTERM, so only SIGKILL ends its worker
 *   getenv=NAME:PATH  writes NAME=value of its environment to PATH
 *   failstart       its pre_start fails (the worker exits 113)
 *   crasher=MS:HOW  after MS ms ends its worker process: HOW is a signal
 *                   number (killed by it) or xN (exit status N)
 *
 * Never use it outside tests: crasher ends the process from a signal
 * handler on purpose.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "airsrt/airsrt.h"

static int echo_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)state;
    return airsrt_reply(ctx, env->type, env->payload, env->payload_len);
}

/* For the types that only act in pre_start. */
static int ignore_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx, (void)state, (void)env;
    return 0;
}

static const struct airsrt_actor_type echo = {
    .name = "echo", .handle = echo_handle,
};

struct sink { int fd; };

static int sink_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    struct sink *s = state;
    char path[4096];

    (void)ctx;
    if (len == 0 || len >= sizeof(path))
        return -EINVAL;
    memcpy(path, arg, len);
    path[len] = '\0';
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return s->fd < 0 ? -errno : 0;
}

static int sink_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct sink *s = state;
    uint64_t seq;
    char line[32];
    int n;

    (void)ctx;
    if (env->type != 1 || env->payload_len != sizeof(seq))
        return 0;
    memcpy(&seq, env->payload, sizeof(seq));
    n = snprintf(line, sizeof(line), "%" PRIu64 "\n", seq);
    return write(s->fd, line, (size_t)n) == n ? 0 : -EIO;
}

static void sink_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    close(((struct sink *)state)->fd);
}

static const struct airsrt_actor_type sink = {
    .name = "sink", .state_size = sizeof(struct sink),
    .pre_start = sink_start, .handle = sink_handle, .post_stop = sink_stop,
};

static int sender_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    char spec[256], *colon, *delay;
    unsigned long n;

    (void)state;
    if (len == 0 || len >= sizeof(spec))
        return -EINVAL;
    memcpy(spec, arg, len);
    spec[len] = '\0';
    colon = strchr(spec, ':');
    if (colon == NULL)
        return -EINVAL;
    *colon = '\0';
    n = strtoul(colon + 1, NULL, 10);
    delay = strchr(colon + 1, ':');
    if (delay != NULL)
        usleep((useconds_t)strtoul(delay + 1, NULL, 10) * 1000);
    for (uint64_t seq = 1; seq <= n; seq++) {
        int rc = airsrt_send_name(ctx, spec, 1, &seq, sizeof(seq));

        if (rc < 0)
            return rc;
    }
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static const struct airsrt_actor_type sender = {
    .name = "sender", .pre_start = sender_start,
    .handle = ignore_handle,
};

static int failstart_start(struct airsrt_ctx *ctx, void *state,
                           const void *arg, size_t len)
{
    (void)ctx, (void)state, (void)arg, (void)len;
    return -EINVAL;
}

static const struct airsrt_actor_type failstart = {
    .name = "failstart", .pre_start = failstart_start,
    .handle = ignore_handle,
};

static int bomb_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)ctx, (void)state, (void)env;
    signal(SIGSEGV, SIG_DFL);
    kill(getpid(), SIGSEGV);
    return 0;
}

static const struct airsrt_actor_type bomb = {
    .name = "bomb", .handle = bomb_handle,
};

static int stubborn_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t len)
{
    sigset_t term;

    (void)ctx, (void)state, (void)arg, (void)len;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    return -sigprocmask(SIG_BLOCK, &term, NULL);
}

static const struct airsrt_actor_type stubborn = {
    .name = "stubborn", .pre_start = stubborn_start,
    .handle = ignore_handle,
};

static int getenv_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    char spec[512], *path;
    const char *value;
    FILE *f;

    (void)ctx, (void)state;
    if (len == 0 || len >= sizeof(spec))
        return -EINVAL;
    memcpy(spec, arg, len);
    spec[len] = '\0';
    path = strchr(spec, ':');
    if (path == NULL)
        return -EINVAL;
    *path++ = '\0';
    value = getenv(spec);
    f = fopen(path, "w");
    if (f == NULL)
        return -errno;
    fprintf(f, "%s=%s\n", spec, value ? value : "(unset)");
    return fclose(f) == 0 ? 0 : -EIO;
}

static const struct airsrt_actor_type getenv_type = {
    .name = "getenv", .pre_start = getenv_start, .handle = ignore_handle,
};

/* What the SIGALRM handler does: a signal to die of, or an exit status. */
static volatile sig_atomic_t crash_signal, crash_status;

static void on_alarm(int sig)
{
    (void)sig;
    if (crash_signal != 0) {
        signal(crash_signal, SIG_DFL);
        kill(getpid(), crash_signal);
    }
    _exit(crash_status);
}

static int crasher_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t len)
{
    char spec[64], *how;
    struct itimerval it = { 0 };
    long ms;

    (void)ctx, (void)state;
    if (len == 0 || len >= sizeof(spec))
        return -EINVAL;
    memcpy(spec, arg, len);
    spec[len] = '\0';
    how = strchr(spec, ':');
    if (how == NULL)
        return -EINVAL;
    ms = strtol(spec, NULL, 10);
    if (how[1] == 'x')
        crash_status = (sig_atomic_t)strtol(how + 2, NULL, 10);
    else
        crash_signal = (sig_atomic_t)strtol(how + 1, NULL, 10);
    signal(SIGALRM, on_alarm);
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    return setitimer(ITIMER_REAL, &it, NULL) < 0 ? -errno : 0;
}

static const struct airsrt_actor_type crasher = {
    .name = "crasher", .pre_start = crasher_start,
    .handle = ignore_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &echo, &sink, &sender, &failstart, &crasher, &bomb, &stubborn,
        &getenv_type, NULL,
    };

    return airsrt_worker_main(argc, argv, types);
}
