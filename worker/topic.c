/*
 * worker/topic.c - pub/sub (airsrt/topic.h): this worker's subscribers,
 * the list of its topics in its self page, publishing, and the fan-out of
 * what other workers published to it.
 *
 * Local state, one thread: a node per topic this worker has seen (by
 * subscribing or publishing), in two trees (by registry id, by name);
 * each node keeps its subscribers in subscription order (a TAILQ), and
 * each subscribing actor lists its subscriptions (struct actor
 * topic_subs), so that a stop unsubscribes it without a scan. A
 * subscription node belongs to both lists at once and is freed when it
 * leaves them.
 *
 * Shared state: the ids of the topics this worker has subscribers of, in
 * its self page under a seqlock (struct airsrt_worker_topics in
 * shm/segment.h), then a bump of the registry's groups_epoch. A
 * publisher keeps, per topic, the other workers that list it, built
 * while the epoch stayed the same; it never trusts another worker's list
 * beyond its array, and a list it cannot read whole counts as listing
 * every topic (a needless copy costs a dead letter there; a missed one
 * would lose a publish).
 *
 * Never: run a callback (a fan-out only fills mailboxes, so no list can
 * change while it is walked), or send a topic envelope to a worker that
 * does not list the topic, but when its list could not be read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>

#include "airsrt/topic.h"
#include "worker/worker_impl.h"

static_assert(AIRSRT_TOPICS_PER_WORKER == AIRSRT_WORKER_TOPICS_MAX,
              "the public limit is the size of the shared list");

/* Tries to read a worker's list whole before giving up on it. A writer
 * rewrites at most 66 words, so only a writer descheduled mid-update (or
 * dead) outlasts them. */
#define PAGE_READ_TRIES 16u

/* One actor's subscription to one topic: on the topic's list (in
 * subscription order) and on the actor's. */
struct topic_sub {
    TAILQ_ENTRY(topic_sub) in_topic;
    LIST_ENTRY(topic_sub) in_actor;
    struct topic *topic;
    struct airsrt_address addr;     /* the subscriber */
};

/*
 * A topic known here. generation is its registry entry's when the entry
 * was last seen to be this topic: while it is the same, id still names
 * it. peers are the other workers that listed it when groups_epoch was
 * peers_epoch (is_peers_valid: every list was read whole).
 */
struct topic {
    RB_ENTRY(topic) by_id;
    RB_ENTRY(topic) by_name;
    uint32_t id;
    uint32_t generation;
    TAILQ_HEAD(topic_sub_head, topic_sub) subs;
    uint32_t nsubs;
    uint32_t npeers;
    uint32_t *peers;                /* room for nworkers; NULL until the
                                       first publish */
    uint64_t peers_epoch;
    bool is_peers_valid;
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];
};

static int id_cmp(const struct topic *a, const struct topic *b)
{
    return (a->id > b->id) - (a->id < b->id);
}

static int name_cmp(const struct topic *a, const struct topic *b)
{
    return strcmp(a->name, b->name);
}

AIRSRT_RB_GENERATE_STATIC(topic_id_tree, topic, by_id, id_cmp)
AIRSRT_RB_GENERATE_STATIC(topic_name_tree, topic, by_name, name_cmp)

/* ---- the shared list ---- */

int airsrt__topic_page_read(const struct airsrt_worker_topics *p,
                            uint32_t ids[AIRSRT_WORKER_TOPICS_MAX])
{
    for (uint32_t t = 0; t < PAGE_READ_TRIES; t++) {
        /* Pairs with the release store that ends page_publish(): an even
         * seq shows the list it closed. */
        uint32_t s1 = atomic_load_explicit(&p->seq, memory_order_acquire);
        uint32_t n;

        if (s1 & 1u)
            continue;
        n = atomic_load_explicit(&p->ntopics, memory_order_relaxed);
        if (n > AIRSRT_WORKER_TOPICS_MAX)
            n = AIRSRT_WORKER_TOPICS_MAX;
        for (uint32_t i = 0; i < n; i++)
            ids[i] = atomic_load_explicit(&p->ids[i], memory_order_relaxed);
        /* Pairs with the release fence in page_publish(): an id from a
         * newer update brings its odd seq. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&p->seq, memory_order_relaxed) == s1)
            return (int)n;
    }
    return -EAGAIN;
}

/* Rewrites our list from the topics with subscribers here, then tells
 * every publisher through the epoch (shm/registry.h groups_epoch). */
static void page_publish(struct airsrt_worker *w)
{
    struct airsrt_worker_topics *p = &w->self->topics;
    uint32_t seq = (atomic_load_explicit(&p->seq, memory_order_relaxed) + 1u) |
                   1u;
    uint32_t n = 0;
    struct topic *t;

    atomic_store_explicit(&p->seq, seq, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    RB_FOREACH(t, topic_id_tree, &w->topics) {
        if (t->nsubs > 0 && n < AIRSRT_WORKER_TOPICS_MAX)
            atomic_store_explicit(&p->ids[n++], t->id, memory_order_relaxed);
    }
    atomic_store_explicit(&p->ntopics, n, memory_order_relaxed);
    atomic_store_explicit(&p->seq, seq + 1u, memory_order_release);
    airsrt__groups_announce(w);     /* after the list */
}

/* ---- topics by name ---- */

/* Whether t's registry entry is still the topic t->name: 0 (its
 * generation refreshed), -EAGAIN, or -ESTALE. */
static int topic_check(struct airsrt_worker *w, struct topic *t)
{
    uint32_t id, gen;
    int rc;

    if (airsrt_registry_generation(&w->reg, t->id) == t->generation)
        return 0;
    rc = airsrt__names_group_id(w, t->name, AIRSRT_REGISTRY_TOPIC, false,
                                &id, &gen);
    if (rc == -EAGAIN)
        return rc;
    if (rc < 0 || id != t->id)
        return -ESTALE;
    t->generation = gen;
    return 0;
}

static void topic_free(struct airsrt_worker *w, struct topic *t)
{
    RB_REMOVE(topic_id_tree, &w->topics, t);
    RB_REMOVE(topic_name_tree, &w->topic_names, t);
    free(t->peers);
    free(t);
}

/* A node for topic name, from the registry (registered first if
 * create). */
static int topic_add(struct airsrt_worker *w, const char *name, bool create,
                     struct topic **out)
{
    struct topic *t;
    uint32_t id, gen;
    int rc = airsrt__names_group_id(w, name, AIRSRT_REGISTRY_TOPIC, create,
                                    &id, &gen);

    if (rc < 0)
        return rc;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    strlcpy(t->name, name, sizeof(t->name));
    TAILQ_INIT(&t->subs);
    t->id = id;
    t->generation = gen;
    if (RB_INSERT(topic_id_tree, &w->topics, t) != NULL) {
        free(t);
        return -EEXIST; /* its id was another topic's: unregistered */
    }
    RB_INSERT(topic_name_tree, &w->topic_names, t);
    *out = t;
    return 0;
}

/*
 * The topic called name, from this worker's trees while its registry
 * entry has not changed, else from the registry (registered first if
 * create). -EINVAL bad name; -ENOENT no such topic (not create);
 * -EEXIST not a topic; -ENOSPC registry full; -EAGAIN being written;
 * -ENOMEM.
 */
static int topic_get(struct airsrt_worker *w, const char *name, bool create,
                     struct topic **out)
{
    struct topic key, *t;
    int rc;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    strlcpy(key.name, name, sizeof(key.name));
    t = RB_FIND(topic_name_tree, &w->topic_names, &key);
    if (t != NULL) {
        rc = topic_check(w, t);
        if (rc != -ESTALE || t->nsubs > 0) {
            *out = t;
            return rc == -ESTALE ? -EEXIST : rc;
        }
        topic_free(w, t);
    }
    return topic_add(w, name, create, out);
}

int airsrt_topic_id(struct airsrt_ctx *ctx, const char *topic, uint32_t *id)
{
    struct topic *t;
    int rc = topic_get(ctx->w, topic, false, &t);

    if (rc == 0)
        *id = t->id;
    return rc;
}

/* ---- subscribing ---- */

static struct topic_sub *sub_find(const struct actor *a,
                                  const struct topic *t)
{
    struct topic_sub *s;

    LIST_FOREACH(s, &a->topic_subs, in_actor) {
        if (s->topic == t)
            return s;
    }
    return NULL;
}

int airsrt_subscribe(struct airsrt_ctx *ctx, const char *topic)
{
    struct airsrt_worker *w = ctx->w;
    struct topic_sub *s;
    struct topic *t;
    int rc;

    if (ctx->a == NULL)
        return -EINVAL;
    rc = topic_get(w, topic, true, &t);
    if (rc < 0)
        return rc;
    if (sub_find(ctx->a, t) != NULL)
        return 0;
    if (t->nsubs == 0 && w->topics_live >= AIRSRT_WORKER_TOPICS_MAX)
        return -ENOSPC;
    s = malloc(sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->topic = t;
    s->addr = ctx->a->addr;
    TAILQ_INSERT_TAIL(&t->subs, s, in_topic);
    LIST_INSERT_HEAD(&ctx->a->topic_subs, s, in_actor);
    if (t->nsubs++ == 0) {
        w->topics_live++;
        page_publish(w);
    }
    return 0;
}

/* Takes s off both lists; the topic's first subscriber makes it listed,
 * its last one unlisted. */
static void sub_remove(struct airsrt_worker *w, struct topic_sub *s)
{
    struct topic *t = s->topic;

    TAILQ_REMOVE(&t->subs, s, in_topic);
    LIST_REMOVE(s, in_actor);
    free(s);
    if (--t->nsubs == 0) {
        w->topics_live--;
        page_publish(w);
    }
}

int airsrt_unsubscribe(struct airsrt_ctx *ctx, const char *topic)
{
    struct airsrt_worker *w = ctx->w;
    struct topic key, *t;
    struct topic_sub *s;

    if (ctx->a == NULL || airsrt_registry_name_validate(topic) < 0)
        return -EINVAL;
    /* A topic with a subscriber here is in the tree: no registry read. */
    strlcpy(key.name, topic, sizeof(key.name));
    t = RB_FIND(topic_name_tree, &w->topic_names, &key);
    s = t != NULL ? sub_find(ctx->a, t) : NULL;
    if (s == NULL)
        return -ENOENT;
    sub_remove(w, s);
    return 0;
}

void airsrt__topic_drop_actor(struct airsrt_worker *w, struct actor *a)
{
    while (!LIST_EMPTY(&a->topic_subs))
        sub_remove(w, LIST_FIRST(&a->topic_subs));
}

/* ---- fan-out in this worker ---- */

/* A copy of m, or NULL (out of memory). */
static struct msg *msg_copy(struct airsrt_worker *w, const struct msg *m)
{
    struct msg *c = airsrt__msg_alloc(&w->pool, m->env.payload_len);

    if (c != NULL)
        memcpy(&c->env, &m->env, airsrt_envelope_size(m->env.payload_len));
    return c;
}

/* Hands m, or a copy of it, to each subscriber of t (>= 1) in order; m
 * is consumed. A copy that cannot be made is counted as an unroutable
 * dead letter: that subscriber misses it. */
static void fan_out(struct airsrt_worker *w, struct topic *t, struct msg *m)
{
    struct topic_sub *s, *last = TAILQ_LAST(&t->subs, topic_sub_head);

    TAILQ_FOREACH(s, &t->subs, in_topic) {
        struct actor *a = airsrt__actor_find(w, &s->addr);
        struct msg *c = s == last ? m : msg_copy(w, m);

        if (c == NULL) {
            airsrt__stat_add(&w->self->dead_letters[AIRSRT_DL_UNROUTABLE], 1);
            continue;
        }
        c->env.recipient = s->addr;
        if (a == NULL)
            airsrt__dead_letter(w, c, AIRSRT_DL_STALE);
        else if (airsrt__mailbox_put(w, a, c) == -ENOBUFS)
            airsrt__dead_letter(w, c, AIRSRT_DL_MAILBOX_FULL);
    }
}

void airsrt__topic_arrived(struct airsrt_worker *w, struct msg *m)
{
    struct airsrt_registry_record rec;
    struct topic key = { .id = m->env.recipient_name }, *t;

    if (!airsrt_address_is_null(&m->env.recipient)) {
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
        return;
    }
    /* Only a registered topic gets a node with subscribers, so an id
     * found with subscribers needs no registry read. */
    t = RB_FIND(topic_id_tree, &w->topics, &key);
    if (t != NULL && t->nsubs > 0) {
        fan_out(w, t, m);
        return;
    }
    if (airsrt_registry_lookup(&w->reg, key.id, &rec) == 0 &&
        rec.kind == AIRSRT_REGISTRY_TOPIC)
        airsrt__dead_letter(w, m, AIRSRT_DL_NO_SUBSCRIBER);
    else
        airsrt__dead_letter(w, m, AIRSRT_DL_UNROUTABLE);
}

/* ---- publishing ---- */

static bool ids_have(const uint32_t *ids, int n, uint32_t id)
{
    for (int i = 0; i < n; i++) {
        if (ids[i] == id)
            return true;
    }
    return false;
}

/* Rebuilds t's peers unless the epoch says they are still right. */
static int peers_refresh(struct airsrt_worker *w, struct topic *t)
{
    /* Pairs with the release in airsrt__groups_announce(): every list
     * announced by this epoch is visible to the reads below. */
    uint64_t epoch = atomic_load_explicit(&w->reg.hdr->groups_epoch,
                                          memory_order_acquire);
    uint32_t ids[AIRSRT_WORKER_TOPICS_MAX];
    bool is_whole = true;

    if (t->is_peers_valid && t->peers_epoch == epoch)
        return 0;
    if (t->peers == NULL) {
        t->peers = calloc(w->nworkers, sizeof(*t->peers));
        if (t->peers == NULL)
            return -ENOMEM;
    }
    t->npeers = 0;
    for (uint32_t i = 0; i < w->nworkers; i++) {
        int n;

        if (i == w->index)
            continue;
        n = airsrt__topic_page_read(&airsrt_shm_worker_self(w->shm, i)->topics,
                                    ids);
        if (n < 0)
            is_whole = false;
        if (n < 0 || ids_have(ids, n, t->id))
            t->peers[t->npeers++] = i;
    }
    t->peers_epoch = epoch;
    t->is_peers_valid = is_whole;
    return 0;
}

/* A copy of m to worker to's ring (or its outbox), as a forward is
 * sent. A copy that cannot be queued is a dead letter here. True if it
 * was queued. */
static bool send_copy(struct airsrt_worker *w, uint32_t to,
                      const struct msg *m)
{
    struct msg *c;

    if (airsrt__transport_copy(w, to, &m->env) >= 0)
        return true;
    c = msg_copy(w, m);
    if (c == NULL)
        airsrt__stat_add(&w->self->dead_letters[AIRSRT_DL_UNROUTABLE], 1);
    else
        airsrt__dead_letter(w, c, AIRSRT_DL_UNROUTABLE);
    return false;
}

int airsrt_publish(struct airsrt_ctx *ctx, const char *topic, uint32_t type,
                   const void *payload, uint32_t len)
{
    struct airsrt_worker *w = ctx->w;
    struct topic *t;
    struct msg *m;
    int rc, reached = 0;

    if (type >= AIRSRT_TYPE_RESERVED || (payload == NULL && len != 0))
        return -EINVAL;
    if (len > w->payload_max)
        return -EMSGSIZE;
    rc = topic_get(w, topic, false, &t);
    if (rc == 0)
        rc = peers_refresh(w, t);
    if (rc < 0)
        return rc == -ENOENT ? 0 : rc;
    /* Built once: copied to each peer's ring, then handed to the local
     * subscribers. */
    m = airsrt__msg_build(w, type, AIRSRT_PRIO_NORMAL, &ctx->self, NULL, 0,
                          payload, len);
    if (m == NULL)
        return -ENOMEM;
    m->env.flags = AIRSRT_ENV_F_TOPIC;
    m->env.recipient_name = t->id;
    m->env.message_id = airsrt_msgid_next(&w->ids);
    for (uint32_t i = 0; i < t->npeers; i++)
        reached += send_copy(w, t->peers[i], m);
    if (t->nsubs > 0) {
        fan_out(w, t, m);
        reached++;
    } else {
        airsrt__msg_free(&w->pool, m);
    }
    airsrt__stat_add(&w->self->envelopes_out, (uint64_t)reached);
    return reached;
}

/* Each subscription is freed from its topic's list: the actors' lists
 * may be gone already (airsrt__actor_table_fini). */
void airsrt__topic_fini(struct airsrt_worker *w)
{
    struct topic *t, *next;
    struct topic_sub *s;

    RB_FOREACH_SAFE(t, topic_id_tree, &w->topics, next) {
        while ((s = TAILQ_FIRST(&t->subs)) != NULL) {
            TAILQ_REMOVE(&t->subs, s, in_topic);
            free(s);
        }
        topic_free(w, t);
    }
}
