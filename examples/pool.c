/*
 * examples/pool.c - a dispatcher hands jobs to a pool of handlers spread
 * over worker processes, with each of the four strategies, and prints
 * who handled what.
 *
 *   handler     joins the pool "jobs" in pre_start; prints each job it
 *               handles and acknowledges it.
 *   dispatcher  waits until the pool has members=M members (default 2),
 *               then sends jobs=N jobs (default 8) with each strategy:
 *               round robin, random, least loaded, and consistent hash
 *               of a customer key (three customers: the jobs of one
 *               customer all reach the same handler). Once every job is
 *               acknowledged it prints how the jobs were spread, stops
 *               the handlers and itself, and its worker ends 0.
 *
 * Init arguments are KEY=VALUE items joined by ':'. All in one worker:
 *
 *   build/examples/pool --standalone handler handler handler \
 *       dispatcher=members=3:jobs=6
 *
 * Across processes, with airsrt-run (the handlers in two workers, the
 * dispatcher in a third; see examples/pool.ini):
 *
 *   cd examples && ../build/tools/airsrt-run pool.ini
 *
 * Least loaded sees a handler in another worker as of its last turn: a
 * burst sent at once may all go to the one that looked idle.
 *
 * The dispatcher waits for the members by looking again every
 * millisecond (a timer, airsrt_send_after) until they are there.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL        "jobs"
#define MAX_MEMBERS 16u
#define CUSTOMERS   3u

AIRSRT_MESSAGE(job, 1, {
    uint32_t seq;
    uint32_t strategy;          /* enum airsrt_pool_strategy */
    uint32_t customer;          /* the hash key, for AIRSRT_POOL_HASH */
    uint32_t reserved;
});
AIRSRT_MESSAGE(done, 2, { uint32_t seq; });
AIRSRT_MESSAGE(tick, 3, { uint32_t unused; });

static const char *const strategy_names[AIRSRT_POOL_STRATEGIES] = {
    "round_robin", "random", "least_loaded", "hash" };

/* ---- handler ---- */

static int handler_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t len)
{
    (void)state;
    (void)arg;
    (void)len;
    return airsrt_pool_join(ctx, POOL);
}

static int handler_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    const struct job *j = airsrt_msg_get(env, job);
    char me[AIRSRT_ADDRESS_STR_MAX];

    (void)state;
    if (j == NULL || j->strategy >= AIRSRT_POOL_STRATEGIES)
        return -EPROTO;
    airsrt_address_format(airsrt_self(ctx), me, sizeof(me));
    if (j->strategy == AIRSRT_POOL_HASH)
        printf("pool: %s in worker %u handled job %u (%s, customer-%u)\n",
               me, airsrt_worker_index(ctx), j->seq,
               strategy_names[j->strategy], j->customer);
    else
        printf("pool: %s in worker %u handled job %u (%s)\n", me,
               airsrt_worker_index(ctx), j->seq,
               strategy_names[j->strategy]);
    fflush(stdout);
    return airsrt_reply_msg(ctx, done, &(struct done){ .seq = j->seq });
}

/* ---- dispatcher ---- */

struct dispatcher {
    uint32_t want_members, jobs, acked;
    size_t nmembers;
    struct airsrt_address members[MAX_MEMBERS];
    uint32_t spread[AIRSRT_POOL_STRATEGIES][MAX_MEMBERS];
    uint32_t customer_at[CUSTOMERS];    /* member index + 1 of its hash
                                           jobs; 0 = none yet */
    bool has_customer_moved;            /* never, while members stay */
};

static int parse_args(struct dispatcher *d, const char *arg, size_t len)
{
    char text[64] = "", *save = NULL;

    if (len >= sizeof(text))
        return -EINVAL;
    memcpy(text, arg, len);
    d->want_members = 2;
    d->jobs = 8;
    for (char *kv = strtok_r(text, ":", &save); kv != NULL;
         kv = strtok_r(NULL, ":", &save)) {
        if (strncmp(kv, "members=", 8) == 0)
            d->want_members = (uint32_t)strtoul(kv + 8, NULL, 10);
        else if (strncmp(kv, "jobs=", 5) == 0)
            d->jobs = (uint32_t)strtoul(kv + 5, NULL, 10);
        else
            return -EINVAL;
    }
    if (d->want_members == 0 || d->want_members > MAX_MEMBERS ||
        d->jobs == 0 || d->jobs > 1000)
        return -EINVAL;
    return 0;
}

static size_t member_index(const struct dispatcher *d,
                           const struct airsrt_address *a)
{
    for (size_t i = 0; i < d->nmembers; i++)
        if (airsrt_address_equal(&d->members[i], a))
            return i;
    return MAX_MEMBERS;
}

/* Sends jobs with every strategy; the members are those of d. */
static int dispatch(struct airsrt_ctx *ctx, struct dispatcher *d)
{
    uint32_t seq = 0;

    for (uint32_t s = 0; s < AIRSRT_POOL_STRATEGIES; s++)
        for (uint32_t i = 0; i < d->jobs; i++, seq++) {
            struct job j = { .seq = seq, .strategy = s,
                             .customer = i % CUSTOMERS };
            char key[16];
            struct airsrt_address chosen;
            size_t at;
            int rc;

            snprintf(key, sizeof(key), "customer-%u", j.customer);
            rc = airsrt_pool_send(ctx, POOL, s, key, strlen(key), job_type,
                                  &j, sizeof(j), &chosen);
            if (rc < 0)
                return rc;
            at = member_index(d, &chosen);
            if (at == MAX_MEMBERS)
                return -EPROTO;     /* the pool changed under us */
            d->spread[s][at]++;
            if (s != AIRSRT_POOL_HASH)
                continue;
            if (d->customer_at[j.customer] != 0 &&
                d->customer_at[j.customer] != at + 1)
                d->has_customer_moved = true;
            d->customer_at[j.customer] = (uint32_t)at + 1;
        }
    return 0;
}

/* Waits for the members, then dispatches. */
static int dispatcher_poll(struct airsrt_ctx *ctx, struct dispatcher *d)
{
    ssize_t n = airsrt_pool_members(ctx, POOL, d->members, MAX_MEMBERS);

    if (n == -ENOENT || (n >= 0 && (size_t)n < d->want_members))
        return airsrt_send_after(ctx, airsrt_self(ctx), NULL, 1000000,
                                 tick_type, &(struct tick){ 0 },
                                 sizeof(struct tick), NULL);
    if (n < 0)
        return (int)n;
    d->nmembers = (size_t)n < MAX_MEMBERS ? (size_t)n : MAX_MEMBERS;
    return dispatch(ctx, d);
}

static int dispatcher_start(struct airsrt_ctx *ctx, void *state,
                            const void *arg, size_t len)
{
    struct dispatcher *d = state;
    int rc = parse_args(d, arg, len);

    return rc < 0 ? rc : dispatcher_poll(ctx, d);
}

static void report(const struct dispatcher *d)
{
    char who[AIRSRT_ADDRESS_STR_MAX];

    for (uint32_t s = 0; s < AIRSRT_POOL_STRATEGIES; s++) {
        printf("pool: %-12s", strategy_names[s]);
        for (size_t i = 0; i < d->nmembers; i++) {
            airsrt_address_format(&d->members[i], who, sizeof(who));
            printf(" %s %u", who, d->spread[s][i]);
        }
        printf("\n");
    }
    for (uint32_t c = 0; c < CUSTOMERS && c < d->jobs; c++) {
        airsrt_address_format(&d->members[d->customer_at[c] - 1], who,
                              sizeof(who));
        printf("pool: customer-%u %s to %s\n", c,
               d->has_customer_moved ? "last went" : "always went", who);
    }
    printf("pool: %u jobs handled by %zu members\n",
           d->jobs * AIRSRT_POOL_STRATEGIES, d->nmembers);
    fflush(stdout);
}

static int dispatcher_handle(struct airsrt_ctx *ctx, void *state,
                             const struct airsrt_envelope *env)
{
    struct dispatcher *d = state;

    if (env->type == tick_type)
        return dispatcher_poll(ctx, d);
    if (airsrt_msg_get(env, done) == NULL)
        return -EPROTO;
    if (++d->acked < d->jobs * AIRSRT_POOL_STRATEGIES)
        return 0;
    report(d);
    for (size_t i = 0; i < d->nmembers; i++)
        airsrt_stop(ctx, &d->members[i]);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static const struct airsrt_actor_type handler = {
    .name = "handler", .pre_start = handler_start,
    .handle = handler_handle,
};

static const struct airsrt_actor_type dispatcher = {
    .name = "dispatcher", .state_size = sizeof(struct dispatcher),
    .pre_start = dispatcher_start, .handle = dispatcher_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &handler, &dispatcher, NULL };

    return airsrt_worker_main(argc, argv, types);
}
