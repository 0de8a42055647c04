/*
 * examples/reqreply.c - request and reply with timeouts, and timers.
 * A client asks the server registered as "calc" to square numbers, one
 * request at a time, each with a timeout. The server ignores every
 * DROP-th request, so those end in a timeout instead of a reply; after a
 * timeout the client waits a little (a timer) before it asks again. At
 * the end the client prints what came back, stops the server and
 * itself, and the workers end.
 *
 *   build/examples/reqreply --standalone server@calc=5 client=20:200
 *
 * server=DROP (0: answer everything); client=ROUNDS[:TIMEOUT_MS]
 * (default 20 rounds, 200 ms). Under airsrt-run (examples/reqreply.ini)
 * the two are in different workers, and the same code crosses processes.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

AIRSRT_MESSAGE(square, 1, { uint64_t n; });
AIRSRT_MESSAGE(squared, 2, { uint64_t n, square; });
AIRSRT_MESSAGE(next, 3, { uint32_t unused; });

#define BACKOFF_NS  5000000ull      /* after a timeout */
#define RETRY_NS    10000000ull     /* while "calc" is not registered */

struct client {
    uint64_t rounds, timeout_ns, sent, replies, timeouts, corr;
    struct airsrt_address server;
};

/* The start argument as text, "" if none or too long. */
static void arg_text(const void *arg, size_t len, char *buf, size_t size)
{
    buf[0] = '\0';
    if (len > 0 && len < size) {
        memcpy(buf, arg, len);
        buf[len] = '\0';
    }
}

static int ask(struct airsrt_ctx *ctx, struct client *c)
{
    const struct square q = { .n = c->sent };
    int rc = airsrt_request(ctx, NULL, "calc", square_type, &q, sizeof(q),
                            c->timeout_ns, &c->corr);

    if (rc == -ENOENT || rc == -EHOSTDOWN)     /* not started yet */
        return airsrt_send_after(ctx, airsrt_self(ctx), NULL, RETRY_NS,
                                 next_type, &(struct next){ 0 },
                                 sizeof(struct next), NULL);
    if (rc < 0)
        return rc;
    c->sent++;
    return 0;
}

static int client_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct client *c = state;
    char text[32], *end;

    arg_text(arg, len, text, sizeof(text));
    c->rounds = text[0] ? strtoull(text, &end, 10) : 20;
    c->timeout_ns = 200000000ull;
    if (text[0] && *end == ':')
        c->timeout_ns = strtoull(end + 1, NULL, 10) * 1000000ull;
    if (c->rounds == 0 || c->timeout_ns == 0)
        return -EINVAL;
    return ask(ctx, c);
}

static int finish(struct airsrt_ctx *ctx, struct client *c)
{
    printf("reqreply: %" PRIu64 " requests, %" PRIu64 " replies, %" PRIu64
           " timeouts\n", c->sent, c->replies, c->timeouts);
    fflush(stdout);
    if (!airsrt_address_is_null(&c->server))
        airsrt_stop(ctx, &c->server);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static int client_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct client *c = state;
    const struct squared *r = airsrt_msg_get(env, squared);

    if (env->type == next_type)
        return ask(ctx, c);
    if (env->correlation_id != c->corr)
        return -EPROTO;             /* never: one request at a time */
    if (r != NULL) {
        c->replies++;
        c->server = env->sender;
        if (c->replies <= 3)
            printf("reqreply: %" PRIu64 " squared is %" PRIu64 "\n", r->n,
                   r->square);
    } else if (env->type == AIRSRT_MSG_TIMEOUT) {
        c->timeouts++;
        printf("reqreply: request %" PRIu64 " timed out\n", c->sent - 1);
    } else {
        return -EPROTO;
    }
    if (c->sent == c->rounds)
        return finish(ctx, c);
    if (r == NULL)
        return airsrt_send_after(ctx, airsrt_self(ctx), NULL, BACKOFF_NS,
                                 next_type, &(struct next){ 0 },
                                 sizeof(struct next), NULL);
    return ask(ctx, c);
}

struct server {
    uint64_t drop;
};

static int server_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct server *s = state;
    char text[24];

    (void)ctx;
    arg_text(arg, len, text, sizeof(text));
    s->drop = strtoull(text, NULL, 10);
    return 0;
}

static int server_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    const struct server *s = state;
    const struct square *q = airsrt_msg_get(env, square);
    struct squared r;

    if (q == NULL)
        return -EPROTO;
    if (s->drop != 0 && (q->n + 1) % s->drop == 0)
        return 0;                   /* silence: the client times out */
    r = (struct squared){ .n = q->n, .square = q->n * q->n };
    return airsrt_reply_msg(ctx, squared, &r);
}

static const struct airsrt_actor_type client = {
    .name = "client", .state_size = sizeof(struct client),
    .pre_start = client_start, .handle = client_handle,
};

static const struct airsrt_actor_type server = {
    .name = "server", .state_size = sizeof(struct server),
    .pre_start = server_start, .handle = server_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &client, &server, NULL };

    return airsrt_worker_main(argc, argv, types);
}
