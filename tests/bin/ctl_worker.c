/*
 * tests/bin/ctl_worker.c - the worker binary of airsrt-ctl's integration
 * tests (tests/integration/test_ctl.c). Actor types:
 *
 *   rec=PATH     appends "type=0xT len=N payload=BYTES" for every
 *                envelope it handles to PATH, one line each
 *   hang=PATH    on type 7, creates PATH and then blocks in its handler
 *                forever (the test kills the worker with SIGKILL while
 *                it handles); other types are handled and ignored
 *   sub=TOPIC    subscribes to TOPIC
 *   member=POOL  joins POOL
 *   idle         does nothing
 *
 * Never use it outside tests: hang blocks a worker on purpose.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "airsrt/airsrt.h"

#define CTL_HANG_TYPE 7u

struct file_state { int fd; char path[512]; };

/* Copies the spawn argument, a path or a name, NUL-terminated. */
static int arg_copy(char *out, size_t room, const void *arg, size_t len)
{
    if (len == 0 || len >= room)
        return -EINVAL;
    memcpy(out, arg, len);
    out[len] = '\0';
    return 0;
}

static int rec_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    struct file_state *s = state;
    int rc = arg_copy(s->path, sizeof(s->path), arg, len);

    (void)ctx;
    if (rc < 0)
        return rc;
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return s->fd < 0 ? -errno : 0;
}

static int rec_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    struct file_state *s = state;
    char line[256];
    int n;

    (void)ctx;
    n = snprintf(line, sizeof(line), "type=0x%" PRIx32 " len=%" PRIu32
                 " payload=%.*s\n", env->type, env->payload_len,
                 (int)(env->payload_len < 128 ? env->payload_len : 128),
                 (const char *)env->payload);
    if (n >= (int)sizeof(line))
        n = (int)sizeof(line) - 1;
    return write(s->fd, line, (size_t)n) == n ? 0 : -EIO;
}

static void rec_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    close(((struct file_state *)state)->fd);
}

static const struct airsrt_actor_type rec = {
    .name = "rec", .state_size = sizeof(struct file_state),
    .pre_start = rec_start, .handle = rec_handle, .post_stop = rec_stop,
};

static int hang_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                      size_t len)
{
    struct file_state *s = state;

    (void)ctx;
    s->fd = -1;
    return arg_copy(s->path, sizeof(s->path), arg, len);
}

static int hang_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    struct file_state *s = state;
    int fd;

    (void)ctx;
    if (env->type != CTL_HANG_TYPE)
        return 0;
    fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
    for (;;)
        pause();
}

static const struct airsrt_actor_type hang = {
    .name = "hang", .state_size = sizeof(struct file_state),
    .pre_start = hang_start, .handle = hang_handle,
};

static int ignore_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx, (void)state, (void)env;
    return 0;
}

static int sub_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    char topic[128];
    int rc = arg_copy(topic, sizeof(topic), arg, len);

    (void)state;
    return rc < 0 ? rc : airsrt_subscribe(ctx, topic);
}

static const struct airsrt_actor_type sub = {
    .name = "sub", .pre_start = sub_start, .handle = ignore_handle,
};

static int member_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    char pool[128];
    int rc = arg_copy(pool, sizeof(pool), arg, len);

    (void)state;
    return rc < 0 ? rc : airsrt_pool_join(ctx, pool);
}

static const struct airsrt_actor_type member = {
    .name = "member", .pre_start = member_start, .handle = ignore_handle,
};

static const struct airsrt_actor_type idle = {
    .name = "idle", .handle = ignore_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &rec, &hang, &sub, &member, &idle, NULL,
    };

    return airsrt_worker_main(argc, argv, types);
}
