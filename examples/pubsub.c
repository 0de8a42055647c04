/*
 * examples/pubsub.c - a ticker publishes prices on the topic "prices";
 * listeners in other workers subscribe to it and print what they got.
 * Shows airsrt_subscribe, airsrt_publish and airsrt_topic_of: one copy
 * of each price crosses to each listening worker, which hands it to each
 * of its listeners.
 *
 *   build/bin/airsrt-run examples/pubsub.ini
 *
 * or in one process (the ticker's own worker fans out):
 *
 *   build/examples/pubsub --standalone listener=5,listener=5 \
 *       ticker=count=5:workers=1
 *
 * listener=N: subscribes, expects N prices, prints them in one line and
 * stops. ticker=count=N:workers=W: waits until W workers listen (it
 * publishes a hello until a publish reaches W), publishes N prices, and
 * stops. A worker whose actors have all stopped ends with status 0.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC       "prices"
#define LISTEN_MAX  64u

AIRSRT_MESSAGE(price, 1, { uint64_t seq; uint64_t cents; });
AIRSRT_MESSAGE(hello, 2, { uint32_t unused; });
AIRSRT_MESSAGE(tick, 3, { uint32_t unused; });

/* The spawn argument as text, cut to len - 1 bytes. */
static void arg_text(const void *arg, size_t n, char *text, size_t len)
{
    n = n < len ? n : len - 1;
    memcpy(text, arg, n);
    text[n] = '\0';
}

/* ---- listener ---- */

struct listener {
    uint32_t expect, got;
    uint64_t cents[LISTEN_MAX];
};

static int listener_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t len)
{
    struct listener *l = state;
    char text[16];

    arg_text(arg, len, text, sizeof(text));
    l->expect = (uint32_t)strtoul(text, NULL, 10);
    if (l->expect == 0 || l->expect > LISTEN_MAX)
        return -EINVAL;
    return airsrt_subscribe(ctx, TOPIC);
}

static void listener_print(struct airsrt_ctx *ctx, const struct listener *l)
{
    char line[LISTEN_MAX * 12 + 1];
    size_t used = 0;

    for (uint32_t i = 0; i < l->got; i++)
        used += (size_t)snprintf(line + used, sizeof(line) - used, " %" PRIu64
                                 ".%02" PRIu64, l->cents[i] / 100,
                                 l->cents[i] % 100);
    printf("pubsub: listener %u.%u got %u prices:%s\n",
           airsrt_worker_index(ctx), airsrt_self(ctx)->slot, l->got, line);
    fflush(stdout);
}

static int listener_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct listener *l = state;
    const struct price *p = airsrt_msg_get(env, price);
    uint32_t id;

    if (env->type == hello_type)
        return 0;
    if (p == NULL || airsrt_topic_id(ctx, TOPIC, &id) < 0 ||
        airsrt_topic_of(env) != id || p->seq != l->got)
        return -EPROTO;
    l->cents[l->got++] = p->cents;
    if (l->got < l->expect)
        return 0;
    listener_print(ctx, l);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

/* ---- ticker ---- */

struct ticker {
    uint32_t count, workers, sent;
    uint64_t cents;
};

static int ticker_parse(struct ticker *t, const void *arg, size_t len)
{
    char text[64];

    arg_text(arg, len, text, sizeof(text));
    t->count = 10;
    t->workers = 2;
    for (char *s = text, *kv; (kv = strsep(&s, ":")) != NULL;) {
        if (strncmp(kv, "count=", 6) == 0)
            t->count = (uint32_t)strtoul(kv + 6, NULL, 10);
        else if (strncmp(kv, "workers=", 8) == 0)
            t->workers = (uint32_t)strtoul(kv + 8, NULL, 10);
        else if (*kv != '\0')
            return -EINVAL;
    }
    return t->count > 0 && t->count <= LISTEN_MAX && t->workers > 0
               ? 0 : -EINVAL;
}

static int ticker_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct ticker *t = state;
    int rc = ticker_parse(t, arg, len);

    t->cents = 10000;
    return rc < 0 ? rc : airsrt_send_msg(ctx, airsrt_self(ctx), tick,
                                         &(struct tick){ 0 });
}

/* Until every listening worker has subscribed, a hello reaches fewer of
 * them: try again a millisecond later (a tick to ourselves every turn
 * would keep a core busy for nothing). Then one price per turn. */
static int ticker_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct ticker *t = state;
    int rc;

    if (env->type != tick_type)
        return -EPROTO;
    if (t->sent == 0) {
        rc = airsrt_publish(ctx, TOPIC, hello_type, &(struct hello){ 0 },
                            sizeof(struct hello));
        if (rc < 0 || (uint32_t)rc < t->workers)
            return airsrt_send_after(ctx, airsrt_self(ctx), NULL, 1000000,
                                     tick_type, &(struct tick){ 0 },
                                     sizeof(struct tick), NULL);
    }
    t->cents += (t->cents * 7 + t->sent * 13) % 300;
    rc = airsrt_publish(ctx, TOPIC, price_type,
                        &(struct price){ .seq = t->sent, .cents = t->cents },
                        sizeof(struct price));
    if (rc < 0)
        return rc;
    if (++t->sent < t->count)
        return airsrt_send_msg(ctx, airsrt_self(ctx), tick,
                               &(struct tick){ 0 });
    printf("pubsub: ticker published %u prices to %d workers\n", t->sent, rc);
    fflush(stdout);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static const struct airsrt_actor_type listener = {
    .name = "listener", .state_size = sizeof(struct listener),
    .pre_start = listener_start, .handle = listener_handle,
};

static const struct airsrt_actor_type ticker = {
    .name = "ticker", .state_size = sizeof(struct ticker),
    .pre_start = ticker_start, .handle = ticker_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &listener, &ticker, NULL };

    return airsrt_worker_main(argc, argv, types);
}
