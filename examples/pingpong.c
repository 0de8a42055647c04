/*
 * examples/pingpong.c - two actors bounce a counter. The pinger sends a
 * ping to the name "pong", the ponger replies, ROUNDS times; then the
 * pinger prints the mean round trip and stops both, and the worker ends.
 * Shows actor types, typed messages, sends by name, replies, stopping.
 *
 *   build/examples/pingpong --standalone ponger@pong pinger=100000
 *
 * Under airsrt-run, with the two in different workers, the same code
 * crosses processes through the shared-memory rings.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

AIRSRT_MESSAGE(ping, 1, { uint64_t n; });
AIRSRT_MESSAGE(pong, 2, { uint64_t n; });
AIRSRT_MESSAGE(kick, 3, { uint32_t unused; });

struct pinger {
    uint64_t rounds, done, t0;
};

/* Sends the next ping; until the ponger has registered its name (it may
 * start later, in another worker), tries again on the next turn. */
static int ping_next(struct airsrt_ctx *ctx, struct pinger *p)
{
    int rc = airsrt_send_name_msg(ctx, "pong", ping,
                                  &(struct ping){ .n = p->done });

    if (rc == -ENOENT || rc == -EHOSTDOWN)
        rc = airsrt_send_msg(ctx, airsrt_self(ctx), kick, &(struct kick){ 0 });
    return rc < 0 ? rc : 0;
}

static int pinger_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct pinger *p = state;
    char text[24] = "1000";

    if (len > 0 && len < sizeof(text)) {
        memcpy(text, arg, len);
        text[len] = '\0';
    }
    p->rounds = strtoull(text, NULL, 10);
    if (p->rounds == 0)
        return -EINVAL;
    p->t0 = airsrt_now_ns();
    return ping_next(ctx, p);
}

static int pinger_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct pinger *p = state;
    const struct pong *reply = airsrt_msg_get(env, pong);

    if (env->type == kick_type)
        return ping_next(ctx, p);
    if (reply == NULL || reply->n != p->done)
        return -EPROTO;
    if (++p->done < p->rounds)
        return ping_next(ctx, p);
    printf("pingpong: %" PRIu64 " round trips, %.0f ns each\n", p->done,
           (double)(airsrt_now_ns() - p->t0) / (double)p->done);
    airsrt_stop(ctx, &env->sender);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static int ponger_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    const struct ping *p = airsrt_msg_get(env, ping);

    (void)state;
    if (p == NULL)
        return -EPROTO;
    return airsrt_reply_msg(ctx, pong, &(struct pong){ .n = p->n });
}

static const struct airsrt_actor_type pinger = {
    .name = "pinger", .state_size = sizeof(struct pinger),
    .pre_start = pinger_start, .handle = pinger_handle,
};

static const struct airsrt_actor_type ponger = {
    .name = "ponger", .handle = ponger_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &pinger, &ponger, NULL };

    return airsrt_worker_main(argc, argv, types);
}
