/*
 * worker/request.c - requests waiting for their replies (airsrt/request.h):
 * a red-black tree by correlation id of the requests this worker's
 * actors sent, each with the timer of its timeout.
 *
 * Exactly one of reply and timeout reaches the caller, because both go
 * through this table and the first one removes the entry: a reply is
 * delivered only if it finds its entry (and then cancels the timer, so
 * the timeout is never sent), and a timeout fires only while its timer
 * is armed (and then removes the entry, so a later reply finds none and
 * is a late reply). Both happen on the worker's one thread.
 *
 * The table is process memory: a worker that dies forgets its requests,
 * and what comes back for them later is a late reply for its successor
 * (correlation ids are unique in the runtime, so a successor's own
 * request never matches one of its predecessor's).
 */
#include <errno.h>
#include <stdlib.h>

#include "worker/worker_impl.h"

/* A request waiting for its reply: in w->requests while it waits, and
 * its timer armed for exactly that long. */
struct request_node {
    RB_ENTRY(request_node) link;
    uint64_t corr;                      /* key */
    uint64_t timer;                     /* its timeout */
    struct airsrt_address caller;
};

static int request_cmp(const struct request_node *a,
                       const struct request_node *b)
{
    return a->corr < b->corr ? -1 : a->corr > b->corr;
}

AIRSRT_RB_GENERATE_STATIC(request_tree, request_node, link, request_cmp)

static struct request_node *find(struct airsrt_worker *w, uint64_t corr)
{
    struct request_node key = { .corr = corr };

    return RB_FIND(request_tree, &w->requests, &key);
}

static void forget(struct airsrt_worker *w, struct request_node *n)
{
    RB_REMOVE(request_tree, &w->requests, n);
    w->nrequests--;
    free(n);
}

/* Arms the timeout of a request about to be sent: the entry, and the
 * timer, neither visible to a reply until the send succeeded. */
static int arm(struct airsrt_ctx *ctx, struct request_node **out,
               uint64_t corr, uint32_t type, uint64_t timeout_ns)
{
    struct airsrt_timeout t = { .correlation_id = corr, .type = type };
    struct request_node *n = malloc(sizeof(*n));
    struct msg *m;
    int rc;

    if (n == NULL)
        return -ENOMEM;
    /* The timeout the caller gets if no reply comes first: from the
     * caller to itself, of system priority, so a full bounded mailbox
     * keeps it. */
    m = airsrt__msg_build(ctx->w, AIRSRT_MSG_TIMEOUT, AIRSRT_PRIO_SYSTEM,
                          &ctx->self, &ctx->self, corr, &t, sizeof(t));
    if (m == NULL) {
        free(n);
        return -ENOMEM;
    }
    rc = airsrt__timer_arm(ctx->w, m, NULL, timeout_ns, &n->timer);
    if (rc < 0) {
        free(n);
        return rc;
    }
    n->corr = corr;
    n->caller = ctx->self;
    *out = n;
    return 0;
}

int airsrt_request(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                   const char *name, uint32_t type, const void *payload,
                   uint32_t len, uint64_t timeout_ns, uint64_t *corr)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;
    struct airsrt_worker *w = ctx->w;
    struct request_node *n;
    int rc;

    if (ctx->a == NULL)
        return -EINVAL;
    o.reply_to = ctx->self;
    o.correlation_id = airsrt_msgid_next(&w->ids);
    rc = arm(ctx, &n, o.correlation_id, type, timeout_ns);
    if (rc < 0)
        return rc;
    /* A timer fires only in a later poll and a reply is delivered only
     * after this callback returns: the entry is in before either. */
    rc = airsrt__send_flagged(ctx, to, name, &o, type, payload, len,
                              AIRSRT_ENV_F_REQUEST);
    if (rc < 0) {
        airsrt__timer_disarm(w, n->timer);
        free(n);
        return rc;
    }
    RB_INSERT(request_tree, &w->requests, n);
    w->nrequests++;
    if (corr != NULL)
        *corr = o.correlation_id;
    return rc;
}

bool airsrt__request_take_reply(struct airsrt_worker *w,
                                const struct actor *a, const struct msg *m)
{
    struct request_node *n = find(w, m->env.correlation_id);

    /* The id of another actor's request is no reply to this one. */
    if (n == NULL || !airsrt_address_equal(&n->caller, &a->addr))
        return false;
    airsrt__timer_disarm(w, n->timer);
    forget(w, n);
    return true;
}

void airsrt__request_expire(struct airsrt_worker *w, uint64_t corr)
{
    struct request_node *n = find(w, corr);

    if (n != NULL)
        forget(w, n);
}

void airsrt__requests_fini(struct airsrt_worker *w)
{
    struct request_node *n, *next;

    RB_FOREACH_SAFE(n, request_tree, &w->requests, next)
        forget(w, n);
}
