/*
 * examples/backpressure.c - a fast producer, a slow consumer whose mailbox
 * is bounded, and what each overflow policy does with the excess.
 *
 * The producer spawns the consumer as its child with a mailbox of BOUND
 * envelopes and the policy its start argument names, then sends COUNT
 * items in bursts of BURST, one burst per turn. After each burst it
 * sends itself a tick: a turn only handles what was queued when it began,
 * so the tick waits behind the consumer, which gets its turn first. A
 * worker runs one actor at a time, so a whole burst lands before the
 * consumer takes anything: every burst overflows the mailbox.
 *
 *   drop_newest  the arriving item is dropped; the send still returns 0
 *   drop_oldest  the oldest queued item is dropped to make room
 *   reject       the send returns -ENOBUFS and nothing is queued: the
 *                producer keeps the item, ends its burst and sends it
 *                again next turn, so nothing is lost
 *
 * A send that returns AIRSRT_SENT_BACKPRESSURE was queued behind a full
 * ring to another worker: the producer ends its burst there too (in this
 * one-worker demo it never happens). When every item is out, the producer
 * lets the consumer have one more turn to empty its mailbox, then sends
 * it a report of its counts; the consumer prints the last line and stops
 * the producer, which stops its children first, and the worker ends.
 * Each drop and each rejection is also a dead letter (mailbox_full) in
 * the worker's statistics; the line shows what the two actors know.
 *
 *   build/examples/backpressure --standalone producer=drop_newest
 *   build/examples/backpressure --standalone producer=reject:5000
 *
 * The start argument is POLICY[:COUNT] (COUNT 1 to 10000000, default
 * 1000). The output, e.g.:
 *
 *   backpressure: drop_oldest, mailbox of 4, bursts of 16: sent 1000,
 *   handled 252, dropped 748, rejected 0
 *
 * (on one line). Exit status 0; AIRSRT_EXIT_START_FAILED (113) when the
 * start argument is not one of these, since the producer's pre_start
 * refuses it.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUND      4u           /* the consumer's mailbox, envelopes */
#define BURST      16u          /* items the producer sends per turn */
#define COUNT_MAX  10000000u
#define WORK       20000u       /* rounds of busy work per item */

AIRSRT_MESSAGE(item, 1, { uint64_t seq; });
AIRSRT_MESSAGE(tick, 2, { uint32_t unused; });
AIRSRT_MESSAGE(report, 3, {
    uint64_t sent, rejected, backpressured;
    char policy[16];
});

static const char *const policy_names[] = {
    [AIRSRT_OVERFLOW_DROP_NEWEST] = "drop_newest",
    [AIRSRT_OVERFLOW_DROP_OLDEST] = "drop_oldest",
    [AIRSRT_OVERFLOW_REJECT] = "reject",
};

/* ---- consumer ---- */

struct consumer {
    uint64_t handled;
    uint64_t last_seq;          /* FIFO: every item after the one before */
    uint64_t checksum;
};

/* Stands for real work: what makes this consumer slow. */
static uint64_t work(uint64_t x)
{
    for (uint32_t i = 0; i < WORK; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* Items sent but never handled were dropped by the mailbox: the only
 * way one can go missing between two actors of one worker. */
static int consumer_finish(struct airsrt_ctx *ctx, struct consumer *c,
                           const struct report *r)
{
    printf("backpressure: %.15s, mailbox of %u, bursts of %u: sent %" PRIu64
           ", handled %" PRIu64 ", dropped %" PRIu64 ", rejected %" PRIu64
           "%s\n", r->policy, BOUND, BURST, r->sent, c->handled,
           r->sent - c->handled, r->rejected,
           r->backpressured ? " (some sent behind a full ring)" : "");
    /* Stopping the parent stops its children first: this actor too. */
    return airsrt_stop(ctx, airsrt_parent(ctx));
}

static int consumer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct consumer *c = state;
    const struct item *it = airsrt_msg_get(env, item);
    const struct report *r = airsrt_msg_get(env, report);

    if (r != NULL)
        return consumer_finish(ctx, c, r);
    if (it == NULL || it->seq <= c->last_seq)
        return -EPROTO;
    c->last_seq = it->seq;
    c->checksum += work(it->seq);
    c->handled++;
    return 0;
}

static const struct airsrt_actor_type consumer = {
    .name = "consumer", .state_size = sizeof(struct consumer),
    .handle = consumer_handle,
};

/* ---- producer ---- */

struct producer {
    struct airsrt_address consumer;
    enum airsrt_overflow policy;
    uint64_t count;
    uint64_t next;              /* seq of the next item to send, from 1 */
    uint64_t rejected, backpressured;
    bool is_draining;           /* all sent; the consumer's last turn */
};

/* POLICY[:COUNT] into p; -EINVAL if it is neither. */
static int parse_arg(struct producer *p, const char *arg, size_t len)
{
    char text[48], *colon, *end;

    if (len == 0 || len >= sizeof(text))
        return -EINVAL;
    memcpy(text, arg, len);
    text[len] = '\0';
    p->count = 1000;
    colon = strchr(text, ':');
    if (colon != NULL) {
        *colon = '\0';
        p->count = strtoull(colon + 1, &end, 10);
        if (*end != '\0' || p->count == 0 || p->count > COUNT_MAX)
            return -EINVAL;
    }
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(text, policy_names[i]) == 0) {
            p->policy = (enum airsrt_overflow)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* The next turn: once every other actor with mail has had one. */
static int tick_later(struct airsrt_ctx *ctx)
{
    return airsrt_send_msg(ctx, airsrt_self(ctx), tick, &(struct tick){ 0 });
}

static int producer_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t len)
{
    struct producer *p = state;
    struct airsrt_spawn_opts o = { .mailbox_bound = BOUND };
    int rc = parse_arg(p, arg, len);

    if (rc < 0) {
        fprintf(stderr, "backpressure: the start argument is POLICY[:COUNT]"
                " with POLICY drop_newest, drop_oldest or reject and COUNT"
                " 1 to %u\n", COUNT_MAX);
        return rc;
    }
    o.overflow = p->policy;
    rc = airsrt_spawn(ctx, &consumer, &o, &p->consumer);
    if (rc < 0)
        return rc;
    p->next = 1;
    return tick_later(ctx);
}

/* Sends up to BURST items; stops early when the consumer or the way to
 * it pushes back. */
static int send_burst(struct airsrt_ctx *ctx, struct producer *p)
{
    for (uint32_t i = 0; i < BURST && p->next <= p->count; i++) {
        int rc = airsrt_send_msg(ctx, &p->consumer, item,
                                 &(struct item){ .seq = p->next });

        if (rc == -ENOBUFS) {
            p->rejected++;          /* not queued: send it again later */
            break;
        }
        if (rc == -EAGAIN)
            break;                  /* the outbox is full: later */
        if (rc < 0)
            return rc;
        p->next++;
        if (rc == AIRSRT_SENT_BACKPRESSURE) {
            p->backpressured++;     /* queued, but slow down */
            break;
        }
    }
    return 0;
}

/* What the producer knows, for the consumer to print. */
static int send_report(struct airsrt_ctx *ctx, struct producer *p)
{
    struct report r = { .sent = p->count, .rejected = p->rejected,
                        .backpressured = p->backpressured };

    snprintf(r.policy, sizeof(r.policy), "%s", policy_names[p->policy]);
    return airsrt_send_msg(ctx, &p->consumer, report, &r);
}

static int producer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct producer *p = state;
    int rc;

    if (airsrt_msg_get(env, tick) == NULL)
        return -EPROTO;
    if (p->is_draining) {
        /* The consumer has had its turn since the last burst: its
         * mailbox is empty, so the counts cannot be dropped. */
        rc = send_report(ctx, p);
        return rc == -ENOBUFS ? tick_later(ctx) : rc < 0 ? rc : 0;
    }
    rc = send_burst(ctx, p);
    if (rc < 0)
        return rc;
    p->is_draining = p->next > p->count;
    return tick_later(ctx);
}

static const struct airsrt_actor_type producer = {
    .name = "producer", .state_size = sizeof(struct producer),
    .pre_start = producer_start, .handle = producer_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &producer, &consumer, NULL };

    return airsrt_worker_main(argc, argv, types);
}
