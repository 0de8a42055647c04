/*
 * worker/pool.c - pools of actors (airsrt/pool.h): joining and leaving,
 * and sends that pick a member by round robin, random, least loaded or
 * consistent hash.
 *
 * A pool is a registry entry of kind AIRSRT_REGISTRY_POOL, bound to
 * nobody, whose id never changes. Its members are not in the registry:
 * each member's worker says so in the member's actors entry (pool_id,
 * shm/segment.h), which it alone writes, so joining takes no lock and a
 * worker that dies takes its memberships with it (its next incarnation
 * starts with a cleared region). Every change is announced by adding 1
 * to the registry's groups_epoch after the entry is written.
 *
 * A sender caches, per pool, the members it found by scanning every
 * worker's actors region, and keeps them while groups_epoch is the same:
 * the supervisor bumps it too, after it marked a dead worker's slot
 * (which the scan skips) and before it tells anyone. The list is sorted
 * by address, so every sender sees the same order; the consistent hash
 * is rendezvous hashing (the member with the highest hash of key and
 * address wins), which moves only the keys a joining member wins or a
 * leaving one had.
 *
 * What other workers wrote is untrusted: the scan is bounded by the
 * region this process computed, never by a count read from it, and only
 * valid addresses come out of it. Nothing here ever writes another
 * worker's pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "worker/worker_impl.h"

/* What this worker knows of one pool. members is good while is_valid and
 * groups_epoch == epoch. cursor is this sender's round-robin position. */
struct pool_node {
    RB_ENTRY(pool_node) link;
    uint32_t id;                    /* registry id */
    uint32_t reg_gen;               /* of its entry, read before the
                                       entry was: generations only grow,
                                       so one caught odd (mid-write)
                                       never matches again */
    uint64_t epoch;
    bool is_valid;
    size_t cursor;
    struct pool_members members;
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];
};

static int node_cmp(const struct pool_node *a, const struct pool_node *b)
{
    return strcmp(a->name, b->name);
}

AIRSRT_RB_GENERATE_STATIC(pool_tree, pool_node, link, node_cmp)

/* ---- announcing memberships ---- */

static void set_member(struct airsrt_worker *w, struct actor *a, uint32_t id)
{
    a->pool_id = id;
    atomic_store_explicit(&w->stats[a->addr.slot].pool_id, id,
                          memory_order_relaxed);
    airsrt__groups_announce(w);
}

void airsrt__pools_stopped(struct airsrt_worker *w, struct actor *a)
{
    if (a->pool_id != 0)
        set_member(w, a, 0);
}

/* ---- joining ---- */

int airsrt_pool_join(struct airsrt_ctx *ctx, const char *pool)
{
    struct airsrt_worker *w = ctx->w;
    struct actor *a = ctx->a;
    uint32_t id, gen;
    int rc;

    if (a == NULL || airsrt_registry_name_validate(pool) < 0)
        return -EINVAL;
    if (a->pool_id != 0) {
        /* Only looked up: a refused join must not leave a new pool
         * registered for ever. */
        rc = airsrt__names_group_id(w, pool, AIRSRT_REGISTRY_POOL, false,
                                    &id, &gen);
        if (rc == -ENOENT || (rc == 0 && id != a->pool_id))
            return -EBUSY;
        return rc;
    }
    rc = airsrt__names_group_id(w, pool, AIRSRT_REGISTRY_POOL, true, &id,
                                &gen);
    if (rc < 0)
        return rc;
    set_member(w, a, id);
    return 0;
}

int airsrt_pool_leave(struct airsrt_ctx *ctx)
{
    if (ctx->a == NULL)
        return -EINVAL;
    if (ctx->a->pool_id == 0)
        return -ENOENT;
    set_member(ctx->w, ctx->a, 0);
    return 0;
}

/* ---- finding members ---- */

static bool is_live_state(uint32_t s)
{
    return s == AIRSRT_ACTOR_STARTING || s == AIRSRT_ACTOR_RUNNING ||
           s == AIRSRT_ACTOR_STOPPING;
}

static int members_push(struct pool_members *m,
                        const struct airsrt_address *a)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct airsrt_address *v = reallocarray(m->v, cap, sizeof(*v));

        if (v == NULL)
            return -ENOMEM;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = *a;
    return 0;
}

int airsrt__pool_scan(const struct airsrt_actor_stats *entries,
                      uint32_t actors_max,
                      const struct airsrt_worker_self *self, uint32_t worker,
                      uint32_t incarnation, uint32_t pool_id,
                      struct pool_members *out)
{
    uint32_t high;

    /* Pairs with the release store that ends the worker's self_init()
     * (worker.c): seeing this incarnation, we see the entries its
     * previous one left cleared, and read actors_high after it. */
    if (pool_id == 0 || incarnation == 0 || worker >= AIRSRT_MAX_WORKERS ||
        atomic_load_explicit(&self->incarnation, memory_order_acquire) !=
            incarnation)
        return 0;
    high = atomic_load_explicit(&self->actors_high, memory_order_relaxed);
    if (actors_max > AIRSRT_MAX_ACTOR_SLOT)
        actors_max = AIRSRT_MAX_ACTOR_SLOT;
    if (high > actors_max + 1)
        high = actors_max + 1;
    for (uint32_t s = 1; s < high; s++) {
        const struct airsrt_actor_stats *e = &entries[s];
        struct airsrt_address a = {
            .worker = (uint16_t)worker, .incarnation = incarnation, .slot = s,
            .generation = atomic_load_explicit(&e->generation,
                                               memory_order_relaxed) };

        if (atomic_load_explicit(&e->pool_id, memory_order_relaxed) !=
                pool_id ||
            !is_live_state(atomic_load_explicit(&e->state,
                                                memory_order_relaxed)) ||
            airsrt_address_validate(&a) < 0)
            continue;
        if (members_push(out, &a) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The incarnation worker i's supervisor shows alive, or 0. */
static uint32_t worker_up(const struct airsrt_worker *w, uint32_t i)
{
    const struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(w->shm, i);
    uint32_t state;

    if (sup == NULL)
        return 0;
    state = atomic_load_explicit(&sup->state, memory_order_relaxed);
    if (state != AIRSRT_WORKER_STARTING && state != AIRSRT_WORKER_RUNNING &&
        state != AIRSRT_WORKER_STOPPING)
        return 0;
    return atomic_load_explicit(&sup->incarnation, memory_order_relaxed);
}

static int addr_cmp(const void *pa, const void *pb)
{
    const struct airsrt_address *a = pa, *b = pb;
    uint64_t ka = (uint64_t)a->node << 48 | (uint64_t)a->worker << 32 |
                  a->incarnation;
    uint64_t kb = (uint64_t)b->node << 48 | (uint64_t)b->worker << 32 |
                  b->incarnation;

    if (ka != kb)
        return ka < kb ? -1 : 1;
    ka = (uint64_t)a->slot << 32 | a->generation;
    kb = (uint64_t)b->slot << 32 | b->generation;
    return ka < kb ? -1 : ka > kb;
}

/* Scans every worker for the members of p, as of groups_epoch now. */
static int members_rebuild(struct airsrt_worker *w, struct pool_node *p)
{
    /* Pairs with the release in airsrt__groups_announce(): what was
     * announced up to this epoch is in the pages read below. */
    uint64_t epoch = atomic_load_explicit(&w->reg.hdr->groups_epoch,
                                          memory_order_acquire);

    p->members.n = 0;
    p->is_valid = false;
    for (uint32_t i = 0; i < w->nworkers; i++) {
        uint32_t inc = worker_up(w, i);
        int rc;

        if (inc == 0)
            continue;
        rc = airsrt__pool_scan(airsrt_shm_actor_stats(w->shm, i),
                               w->actors_max, airsrt_shm_worker_self(w->shm, i),
                               i, inc, p->id, &p->members);
        if (rc < 0)
            return rc;
    }
    if (p->members.n > 1)       /* v is NULL while nothing was found */
        qsort(p->members.v, p->members.n, sizeof(*p->members.v), addr_cmp);
    p->epoch = epoch;
    p->is_valid = true;
    return 0;
}

static int members_fresh(struct airsrt_worker *w, struct pool_node *p)
{
    if (p->is_valid &&
        atomic_load_explicit(&w->reg.hdr->groups_epoch,
                             memory_order_acquire) == p->epoch)
        return 0;
    return members_rebuild(w, p);
}

/* This worker's node for pool name, its id checked against the registry
 * (an id stays a pool's unless the pool is unregistered). */
static int node_get(struct airsrt_worker *w, const char *name,
                    struct pool_node **out)
{
    struct pool_node key, *p;
    uint32_t id, gen;
    int rc;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    strlcpy(key.name, name, sizeof(key.name));
    p = RB_FIND(pool_tree, &w->pool_tree, &key);
    if (p != NULL &&
        airsrt_registry_generation(&w->reg, p->id) == p->reg_gen) {
        *out = p;
        return 0;
    }
    rc = airsrt__names_group_id(w, name, AIRSRT_REGISTRY_POOL, false, &id,
                                &gen);
    if (rc == -EEXIST)
        rc = -ENOENT;       /* a name, but not a pool's */
    if (rc < 0)
        return rc;
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        memcpy(p->name, key.name, sizeof(p->name));
        RB_INSERT(pool_tree, &w->pool_tree, p);
    }
    if (p->id != id)
        p->is_valid = false;
    p->id = id;
    p->reg_gen = gen;
    *out = p;
    return 0;
}

void airsrt__pools_fini(struct airsrt_worker *w)
{
    struct pool_node *p, *next;

    RB_FOREACH_SAFE(p, pool_tree, &w->pool_tree, next) {
        RB_REMOVE(pool_tree, &w->pool_tree, p);
        free(p->members.v);
        free(p);
    }
}

ssize_t airsrt_pool_members(struct airsrt_ctx *ctx, const char *pool,
                            struct airsrt_address *out, size_t max)
{
    struct pool_node *p;
    int rc = node_get(ctx->w, pool, &p);

    if (rc == 0)
        rc = members_fresh(ctx->w, p);
    if (rc < 0)
        return rc;
    if (max > p->members.n)
        max = p->members.n;
    if (max > 0)
        memcpy(out, p->members.v, max * sizeof(*out));
    return (ssize_t)p->members.n;
}

/* ---- picking ---- */

/* The finalizer of splitmix64: every input bit moves every output bit. */
static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t key_hash(const void *key, size_t len)
{
    const uint8_t *k = key;
    uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a 64 */

    for (size_t i = 0; i < len; i++)
        h = (h ^ k[i]) * 0x100000001b3ull;
    return mix64(h ^ len);
}

/* The rendezvous weight of member a for a key of hash h: a function of
 * both alone, so every sender computes the same. */
static uint64_t weight(uint64_t h, const struct airsrt_address *a)
{
    uint64_t hi = (uint64_t)a->node << 48 | (uint64_t)a->worker << 32 |
                  a->incarnation;
    uint64_t lo = (uint64_t)a->slot << 32 | a->generation;

    return mix64(mix64(h ^ mix64(hi)) ^ lo);
}

/* Highest weight wins; ties (astronomically rare) go to the lower
 * address, which the sorted order puts first. */
static size_t pick_hash(const struct pool_members *m, const void *key,
                        size_t len)
{
    uint64_t h = key_hash(key, len), best = 0;
    size_t at = 0;

    for (size_t i = 0; i < m->n; i++) {
        uint64_t x = weight(h, &m->v[i]);

        if (i == 0 || x > best) {
            best = x;
            at = i;
        }
    }
    return at;
}

/* Mailbox depth of member a: exact for our own actors, as of its last
 * turn for another worker's; UINT32_MAX if it is gone. */
static uint32_t depth_of(const struct airsrt_worker *w,
                         const struct airsrt_address *a)
{
    const struct airsrt_actor_stats *e;
    struct actor *local;

    if (a->worker == w->index) {
        local = airsrt__actor_find(w, a);
        return local != NULL ? local->depth : UINT32_MAX;
    }
    /* The scan bounded slot by actors_max: e is in the region. */
    e = &airsrt_shm_actor_stats(w->shm, a->worker)[a->slot];
    if (atomic_load_explicit(&e->generation, memory_order_relaxed) !=
        a->generation)
        return UINT32_MAX;
    return atomic_load_explicit(&e->depth, memory_order_relaxed);
}

/* The shallowest, the first from the cursor on among equals. */
static size_t pick_least_loaded(const struct airsrt_worker *w,
                                const struct pool_node *p)
{
    size_t n = p->members.n, at = p->cursor % n;
    uint32_t best = depth_of(w, &p->members.v[at]);

    for (size_t k = 1; k < n && best > 0; k++) {
        size_t i = (p->cursor + k) % n;
        uint32_t d = depth_of(w, &p->members.v[i]);

        if (d < best) {
            best = d;
            at = i;
        }
    }
    return at;
}

static size_t pick(const struct airsrt_worker *w, struct pool_node *p,
                   enum airsrt_pool_strategy s, const void *key,
                   size_t key_len)
{
    size_t n = p->members.n, at;

    switch (s) {
    case AIRSRT_POOL_RANDOM:
        return arc4random_uniform((uint32_t)(n > UINT32_MAX ? UINT32_MAX
                                                            : n));
    case AIRSRT_POOL_HASH:
        return pick_hash(&p->members, key, key_len);
    case AIRSRT_POOL_LEAST_LOADED:
        at = pick_least_loaded(w, p);
        break;
    default:
        at = p->cursor % n;
        break;
    }
    p->cursor = at + 1;
    return at;
}

/* Picks a member of p. A worker's death needs no check here: the
 * supervisor marks its slot down, then bumps groups_epoch, and only then
 * tells anyone (supervisor/recovery.c), so the cache is stale as soon as
 * the death is known. */
static int choose(struct airsrt_worker *w, struct pool_node *p,
                  enum airsrt_pool_strategy s, const void *key,
                  size_t key_len, struct airsrt_address *to)
{
    int rc = members_fresh(w, p);

    if (rc < 0)
        return rc;
    if (p->members.n == 0)
        return -EHOSTDOWN;
    *to = p->members.v[pick(w, p, s, key, key_len)];
    return 0;
}

int airsrt_pool_send(struct airsrt_ctx *ctx, const char *pool,
                     enum airsrt_pool_strategy s, const void *key,
                     size_t key_len, uint32_t type, const void *payload,
                     uint32_t len, struct airsrt_address *chosen)
{
    struct airsrt_address to;
    struct pool_node *p;
    int rc;

    if ((unsigned)s >= AIRSRT_POOL_STRATEGIES ||
        (s == AIRSRT_POOL_HASH && key == NULL && key_len != 0))
        return -EINVAL;
    rc = node_get(ctx->w, pool, &p);
    if (rc == 0)
        rc = choose(ctx->w, p, s, key, key_len, &to);
    if (rc < 0)
        return rc;
    if (chosen != NULL)
        *chosen = to;
    return airsrt_send_ex(ctx, &to, NULL, NULL, type, payload, len);
}
