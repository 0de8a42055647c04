/*
 * examples/supervision.c - actor-level supervision: a small tree of
 * supervisor actors in one worker, a child that fails every N messages,
 * and what the supervisors do about it.
 *
 *   app (top-level; its on_error escalates)
 *   `-- sv.top  one_for_one, at most MAX restarts in 5 s
 *       |-- flaky   permanent, named "sv.flaky": fails every EVERY-th
 *       |           message of each incarnation
 *       `-- inner   a nested supervisor (one_for_one)
 *           `-- driver  transient, named "sv.driver": sends MESSAGES
 *                       messages to "sv.flaky", one at a time
 *
 * Each restart of flaky prints a line. The driver sends the next message
 * when flaky acknowledges one, or when a new incarnation of flaky says it
 * is ready (the message that made the old one fail is not sent again).
 * When all are through, the driver prints a summary and stops app: the
 * worker ends with 0. If flaky needs more than MAX restarts within 5 s,
 * sv.top gives up, app escalates, and the worker ends with 112
 * (AIRSRT_EXIT_ESCALATED) for the OS-level supervisor to restart.
 *
 *   build/examples/supervision --standalone app@sv.app=every=3:messages=10
 *   build/examples/supervision --standalone app@sv.app=every=1:max=2
 *
 * examples/supervision.ini runs it under airsrt-run.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

AIRSRT_MESSAGE(work, 1, { uint32_t seq; });
AIRSRT_MESSAGE(ack, 2, { uint32_t seq; });
AIRSRT_MESSAGE(ready, 3, { uint32_t generation; });

struct settings {
    uint32_t every, messages, max;
};

/* "every=N:messages=M:max=R", each optional. */
static struct settings parse(const void *arg, size_t len)
{
    struct settings s = { .every = 3, .messages = 10, .max = 10 };
    char text[128] = "";
    char *save = NULL;

    if (len < sizeof(text))
        memcpy(text, arg, len);
    for (char *kv = strtok_r(text, ":", &save); kv != NULL;
         kv = strtok_r(NULL, ":", &save)) {
        unsigned long v = strtoul(strchr(kv, '=') ? strchr(kv, '=') + 1 : "",
                                  NULL, 10);

        if (strncmp(kv, "every=", 6) == 0 && v > 0)
            s.every = (uint32_t)v;
        else if (strncmp(kv, "messages=", 9) == 0 && v > 0)
            s.messages = (uint32_t)v;
        else if (strncmp(kv, "max=", 4) == 0)
            s.max = (uint32_t)v;
    }
    return s;
}

/* ---- flaky ---- */

struct flaky {
    uint32_t every, handled;
};

static uint32_t flaky_starts;   /* over all incarnations, in this process */

static int flaky_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                       size_t len)
{
    struct flaky *f = state;

    f->every = parse(arg, len).every;
    if (flaky_starts++ > 0) {
        printf("supervision: flaky restarted (restart %" PRIu32 ", "
               "generation %" PRIu32 ")\n", flaky_starts - 1,
               airsrt_self(ctx)->generation);
        fflush(stdout);
    }
    /* The driver starts after us the first time: then nobody hears. */
    airsrt_send_name_msg(ctx, "sv.driver", ready,
                         &(struct ready){ airsrt_self(ctx)->generation });
    return 0;
}

static int flaky_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    struct flaky *f = state;
    const struct work *w = airsrt_msg_get(env, work);

    if (w == NULL)
        return 0;
    if (++f->handled % f->every == 0) {
        printf("supervision: flaky fails on message %" PRIu32 "\n", w->seq);
        fflush(stdout);
        return -EIO;
    }
    return airsrt_reply_msg(ctx, ack, &(struct ack){ w->seq });
}

static const struct airsrt_actor_type flaky = {
    .name = "flaky", .state_size = sizeof(struct flaky),
    .pre_start = flaky_start, .handle = flaky_handle };

/* ---- driver ---- */

struct driver {
    uint32_t messages, next, acked;
};

static int drive(struct airsrt_ctx *ctx, struct driver *d)
{
    if (d->next >= d->messages)
        return 0;
    return airsrt_send_name_msg(ctx, "sv.flaky", work,
                                &(struct work){ d->next++ });
}

static int driver_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct driver *d = state;

    d->messages = parse(arg, len).messages;
    return drive(ctx, d);
}

/* Done: every message was acknowledged or failed its flaky. */
static void finish(struct airsrt_ctx *ctx, const struct driver *d)
{
    struct airsrt_address app;

    printf("supervision: %" PRIu32 " messages, %" PRIu32 " acknowledged, "
           "%" PRIu32 " restarts of flaky\n", d->messages, d->acked,
           flaky_starts - 1);
    fflush(stdout);
    if (airsrt_resolve(ctx, "sv.app", &app) == 0)
        airsrt_stop(ctx, &app);
}

static int driver_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct driver *d = state;
    const struct ack *a = airsrt_msg_get(env, ack);

    if (a != NULL)
        d->acked++;
    else if (airsrt_msg_get(env, ready) == NULL)
        return 0;
    /* Past the last message, an ack or a ready (the last one failed)
     * means it is through. */
    if (d->next >= d->messages) {
        finish(ctx, d);
        return 0;
    }
    return drive(ctx, d);
}

static const struct airsrt_actor_type driver = {
    .name = "driver", .state_size = sizeof(struct driver),
    .pre_start = driver_start, .handle = driver_handle };

/* ---- app: builds the tree ---- */

static int app_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                     size_t len)
{
    struct settings s = parse(arg, len);
    struct airsrt_spawn_opts flaky_opts = { .arg = arg, .arg_len = len,
                                            .name = "sv.flaky" };
    struct airsrt_spawn_opts driver_opts = { .arg = arg, .arg_len = len,
                                             .name = "sv.driver" };
    struct airsrt_child_spec inner_children[] = {
        { .id = "driver", .type = &driver, .opts = &driver_opts,
          .restart = AIRSRT_RESTART_TRANSIENT },
    };
    struct airsrt_supervisor_spec inner = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = 3,
        .period_ns = 5000000000u, .children = inner_children,
        .nchildren = 1 };
    struct airsrt_child_spec top_children[] = {
        { .id = "flaky", .type = &flaky, .opts = &flaky_opts,
          .restart = AIRSRT_RESTART_PERMANENT },
        { .id = "inner", .supervisor = &inner,
          .restart = AIRSRT_RESTART_PERMANENT },
    };
    struct airsrt_supervisor_spec top = {
        .strategy = AIRSRT_ONE_FOR_ONE, .max_restarts = s.max,
        .period_ns = 5000000000u, .children = top_children,
        .nchildren = 2 };

    (void)state;
    /* The spec lives on this stack: airsrt_supervise copies it. */
    return airsrt_supervise(ctx, &top, "sv.top", NULL);
}

static int app_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

/* sv.top gave up: the worker cannot help, let the OS-level tree. */
static enum airsrt_directive app_on_error(struct airsrt_ctx *ctx, void *state,
                                          const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    printf("supervision: sv.top gave up (%s); escalating\n",
           airsrt_strerror(f->err));
    fflush(stdout);
    return AIRSRT_ESCALATE;
}

static const struct airsrt_actor_type app = {
    .name = "app", .pre_start = app_start, .handle = app_handle,
    .on_error = app_on_error };

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &app, &flaky, &driver, NULL };

    return airsrt_worker_main(argc, argv, types);
}
