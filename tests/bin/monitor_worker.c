/*
 * tests/bin/monitor_worker.c - the worker binary of the monitor tests
 * that run a real system through airsrt-run (tests/integration/
 * test_monitor.c):
 *
 *   target               does nothing; give it a name to be found by
 *   watcher=NAME:PATH    resolves NAME (trying again until someone holds
 *                        it), monitors its holder, and appends to PATH
 *                        one line per event:
 *                          "watching <address>"
 *                          "down <reason name> <err> <ref ok: 1/0>"
 *
 * Never use it outside tests: the watcher naps in its handler while it
 * waits for the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "airsrt/airsrt.h"

#define T_TRY 1

static int ignore_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    (void)ctx, (void)state, (void)env;
    return 0;
}

static const struct airsrt_actor_type target = {
    .name = "target", .handle = ignore_handle,
};

struct watcher {
    char name[AIRSRT_NAME_MAX + 1];
    int fd;
    uint64_t ref;
};

static int say(const struct watcher *w, const char *line)
{
    size_t n = strlen(line);

    return write(w->fd, line, n) == (ssize_t)n ? 0 : -EIO;
}

static int watcher_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t len)
{
    struct watcher *w = state;
    char spec[4096], *colon;

    if (len == 0 || len >= sizeof(spec))
        return -EINVAL;
    memcpy(spec, arg, len);
    spec[len] = '\0';
    colon = strchr(spec, ':');
    if (colon == NULL || (size_t)(colon - spec) > AIRSRT_NAME_MAX)
        return -EINVAL;
    *colon = '\0';
    strcpy(w->name, spec);
    w->fd = open(colon + 1, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return -errno;
    return airsrt_send(ctx, airsrt_self(ctx), T_TRY, NULL, 0);
}

/* Until the name has a holder: nap, and try again. */
static int try_watch(struct airsrt_ctx *ctx, struct watcher *w)
{
    struct timespec nap = { 0, 2000000 };
    struct airsrt_address to;
    char line[128], addr[AIRSRT_ADDRESS_STR_MAX];
    int rc = airsrt_resolve(ctx, w->name, &to);

    if (rc == -ENOENT || rc == -EHOSTDOWN) {
        nanosleep(&nap, NULL);
        return airsrt_send(ctx, airsrt_self(ctx), T_TRY, NULL, 0);
    }
    if (rc == 0)
        rc = airsrt_monitor(ctx, &to, &w->ref);
    if (rc < 0)
        return rc;
    airsrt_address_format(&to, addr, sizeof(addr));
    snprintf(line, sizeof(line), "watching %s\n", addr);
    return say(w, line);
}

static int watcher_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    struct watcher *w = state;
    const struct airsrt_down *d = airsrt_down_get(env);
    char line[128];

    if (env->type == T_TRY)
        return try_watch(ctx, w);
    if (d == NULL)
        return 0;
    snprintf(line, sizeof(line), "down %s %d %d\n",
             airsrt_down_reason_name(d->reason), (int)d->err,
             env->correlation_id == w->ref);
    return say(w, line);
}

static void watcher_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    close(((struct watcher *)state)->fd);
}

static const struct airsrt_actor_type watcher = {
    .name = "watcher", .state_size = sizeof(struct watcher),
    .pre_start = watcher_start, .handle = watcher_handle,
    .post_stop = watcher_stop,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &target, &watcher, NULL };

    return airsrt_worker_main(argc, argv, types);
}
