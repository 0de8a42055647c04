/*
 * worker/names.c - registered names: binding actors to names in the shared
 * registry, and this worker's caches of it.
 *
 * Resolving a name in the registry costs a probe and a checksum, too much
 * for every send and delivery. So the worker keeps two caches: name ->
 * registry id (a tree, for sends by name) and id -> what the entry said
 * (an array, for both sends and deliveries). An id's cache is good while
 * the entry's generation is unchanged (shm/registry.h: every write
 * changes it), so a hit costs one acquire load. A cached name -> id is
 * checked against the hash of the name its entry holds, so an id that was
 * unregistered and taken by another name is noticed and resolved again.
 *
 * A worker's next incarnation takes over its previous incarnation's
 * names: registering a name still bound to our own worker index under
 * another incarnation (which is dead: one incarnation lives at a time)
 * unbinds it first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "worker/worker_impl.h"

#define RESOLVE_TRIES 64

static int node_cmp(const struct name_node *a, const struct name_node *b)
{
    return strcmp(a->name, b->name);
}

AIRSRT_RB_GENERATE_STATIC(name_tree, name_node, link, node_cmp)

static uint32_t name_hash(const char *s)
{
    uint32_t h = 0x811c9dc5u;

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 0x01000193u;
    return h;
}

int airsrt__names_init(struct airsrt_worker *w)
{
    if (w->names == NULL) {
        /* calloc of a large array maps zero pages: untouched ids cost
         * no memory. */
        w->names = calloc(w->reg.capacity, sizeof(*w->names));
        if (w->names == NULL)
            return -ENOMEM;
    }
    return 0;
}

static struct name_cache *cache_of(struct airsrt_worker *w, uint32_t id)
{
    if (airsrt__names_init(w) < 0)
        return NULL;
    if (id > w->names_high)
        w->names_high = id;
    return &w->names[id - 1];
}

/*
 * A dead incarnation's names are unbound by the supervisor's recovery,
 * which changes their entries' generations, so our caches would notice
 * anyway; dropping what we cached of that incarnation does not wait for
 * that, and costs only ids this worker has used. The last holder stays:
 * a send to a name nobody holds still goes to that worker, to wait for
 * its next incarnation (airsrt/message.h).
 */
void airsrt__names_forget_worker(struct airsrt_worker *w, uint32_t worker,
                                 uint32_t incarnation)
{
    for (uint32_t i = 0; w->names != NULL && i < w->names_high; i++) {
        struct name_cache *c = &w->names[i];

        if (c->is_name && c->addr.node == 0 && c->addr.worker == worker &&
            c->addr.incarnation <= incarnation &&
            !airsrt_address_is_null(&c->addr))
            c->generation = 0;      /* never an entry's: looked up again */
    }
}

/* Brings the cache of id up to date if its entry changed. 0 (a name in
 * use), -ENOENT (not one), -EAGAIN (being written or damaged: a writer
 * repairs it), -ENOMEM. */
static int cache_get(struct airsrt_worker *w, uint32_t id,
                     struct name_cache **out)
{
    struct airsrt_registry_record rec;
    struct name_cache *c;
    uint32_t gen;
    int rc;

    if (id == 0 || id > w->reg.capacity)
        return -ENOENT;
    c = cache_of(w, id);
    if (c == NULL)
        return -ENOMEM;
    *out = c;
    gen = airsrt_registry_generation(&w->reg, id);
    if (gen != 0 && (gen & 1) == 0 && gen == c->generation)
        return c->is_name ? 0 : -ENOENT;
    /* If the entry changes between the generation and the lookup, the
     * cache holds newer data under an older generation: it is only
     * refreshed once more. */
    rc = airsrt_registry_lookup(&w->reg, id, &rec);
    if (rc == -EAGAIN || rc == -EBADMSG)
        return -EAGAIN;
    c->generation = gen;
    if (rc < 0 || rec.kind != AIRSRT_REGISTRY_NAME) {
        c->is_name = false;
        return -ENOENT;
    }
    if (!c->is_name || c->hash != name_hash(rec.name)) {
        c->hash = name_hash(rec.name);
        c->last = AIRSRT_ADDRESS_NULL;  /* another name than before */
    }
    c->is_name = true;
    c->addr = rec.addr;
    if (!airsrt_address_is_null(&rec.addr))
        c->last = rec.addr;
    return 0;
}

int airsrt__names_lookup_id(struct airsrt_worker *w, uint32_t id,
                            struct airsrt_address *addr)
{
    struct name_cache *c;
    int rc = -EAGAIN;

    /* An entry caught mid-write is whole again in a moment; one a
     * writer died in stays torn until the next writer repairs it. */
    for (int i = 0; i < RESOLVE_TRIES && rc == -EAGAIN; i++)
        rc = cache_get(w, id, &c);
    if (rc == 0)
        *addr = c->addr;
    return rc;
}

int airsrt__names_resolve(struct airsrt_worker *w, const char *name,
                          uint32_t *id, struct airsrt_address *addr)
{
    int rc = -EAGAIN;

    for (int i = 0; i < RESOLVE_TRIES && rc == -EAGAIN; i++)
        rc = airsrt_registry_resolve(&w->reg, name, id, addr);
    return rc;
}

int airsrt__names_read(struct airsrt_worker *w, uint32_t id,
                       struct airsrt_registry_record *rec)
{
    int rc = -EAGAIN;

    for (int i = 0; i < RESOLVE_TRIES && rc == -EAGAIN; i++)
        rc = airsrt_registry_lookup(&w->reg, id, rec);
    return rc;
}

/* ---- groups: pools and topics ---- */

/* Pairs with the acquire loads of groups_epoch that start a rebuild
 * (pool.c members_rebuild(), topic.c peers_refresh()): a sender that
 * loads the new epoch sees every page written before this
 * (shm/registry.h, groups_epoch). */
void airsrt__groups_announce(struct airsrt_worker *w)
{
    atomic_fetch_add_explicit(&w->reg.hdr->groups_epoch, 1,
                              memory_order_release);
}

/* Whether entry id is group name of kind, and its generation as of
 * before the read. */
static int group_check(struct airsrt_worker *w, const char *name,
                       uint32_t kind, uint32_t id, uint32_t *gen)
{
    struct airsrt_registry_record rec;
    int rc;

    *gen = airsrt_registry_generation(&w->reg, id);
    rc = airsrt__names_read(w, id, &rec);
    if (rc == -ENOENT || rc == -EBADMSG)
        return -EAGAIN;     /* freed or scribbled since it was resolved */
    if (rc < 0)
        return rc;
    if (strncmp(rec.name, name, sizeof(rec.name)) != 0)
        return -EAGAIN;     /* its id moved on between the two reads */
    return rec.kind == kind ? 0 : -EEXIST;
}

int airsrt__names_group_id(struct airsrt_worker *w, const char *name,
                           uint32_t kind, bool is_create, uint32_t *id,
                           uint32_t *gen)
{
    static const struct airsrt_address nobody;
    int rc = airsrt__names_resolve(w, name, id, NULL);

    /* Registering takes the lock: only for a name that is not there. */
    if (rc == -ENOENT && is_create)
        rc = airsrt_registry_register(&w->reg, name, kind, &nobody, id);
    if (rc < 0)
        return rc;
    return group_check(w, name, kind, *id, gen);
}

int airsrt__names_route(struct airsrt_worker *w, const char *name,
                        uint32_t *id, struct airsrt_address *addr,
                        struct airsrt_address *last)
{
    struct name_node key, *node;
    struct name_cache *c;
    int rc;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    strlcpy(key.name, name, sizeof(key.name));
    node = RB_FIND(name_tree, &w->name_tree, &key);
    if (node != NULL) {
        rc = cache_get(w, node->id, &c);
        if (rc == 0 && c->hash == node->hash) {
            *id = node->id;
            *addr = c->addr;
            *last = c->last;
            return 0;
        }
        if (rc == -EAGAIN || rc == -ENOMEM)
            return rc;
        /* Its id now belongs to another name, or to none. */
        RB_REMOVE(name_tree, &w->name_tree, node);
        free(node);
    }
    rc = airsrt__names_resolve(w, name, id, addr);
    if (rc < 0)
        return rc;
    *last = *addr;
    node = malloc(sizeof(*node));
    if (node == NULL)
        return 0;   /* routed without the cache */
    memcpy(node->name, key.name, sizeof(node->name));
    node->id = *id;
    node->hash = name_hash(name);
    RB_INSERT(name_tree, &w->name_tree, node);
    if (cache_get(w, *id, &c) == 0 && c->hash == node->hash)
        *last = c->last;
    return 0;
}

/* Frees name from a dead incarnation of this worker. */
static bool take_over(struct airsrt_worker *w, const char *name)
{
    struct airsrt_address holder;
    uint32_t id;

    return airsrt__names_resolve(w, name, &id, &holder) == 0 &&
           holder.node == 0 && holder.worker == w->index &&
           holder.incarnation != w->incarnation &&
           !airsrt_address_is_null(&holder) &&
           airsrt_registry_unbind(&w->reg, id, &holder) == 0;
}

/* True if a already holds name. */
static bool holds(struct airsrt_worker *w, const struct actor *a,
                  const char *name)
{
    struct airsrt_registry_record rec;

    return airsrt_registry_lookup(&w->reg, a->name_id, &rec) == 0 &&
           strcmp(rec.name, name) == 0;
}

int airsrt__names_bind(struct airsrt_worker *w, struct actor *a,
                       const char *name)
{
    struct airsrt_address addr = a->addr;
    uint32_t id;
    int rc;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    if (a->name_id != 0)
        return holds(w, a, name) ? 0 : -EBUSY;
    rc = airsrt_registry_register(&w->reg, name, AIRSRT_REGISTRY_NAME, &addr,
                                  &id);
    if (rc == -EEXIST && take_over(w, name))
        rc = airsrt_registry_register(&w->reg, name, AIRSRT_REGISTRY_NAME,
                                      &addr, &id);
    if (rc < 0)
        return rc;
    a->name_id = id;
    atomic_store_explicit(&w->stats[a->addr.slot].name_id, id,
                          memory_order_relaxed);
    return 0;
}

void airsrt__names_unbind(struct airsrt_worker *w, struct actor *a)
{
    struct airsrt_address addr = a->addr;

    if (a->name_id == 0)
        return;
    /* -ESTALE: someone took it over already; nothing of ours to undo. */
    airsrt_registry_unbind(&w->reg, a->name_id, &addr);
    a->name_id = 0;
    atomic_store_explicit(&w->stats[a->addr.slot].name_id, 0, memory_order_relaxed);
}

int airsrt_register(struct airsrt_ctx *ctx, const char *name)
{
    if (ctx->a == NULL)
        return -EINVAL;
    return airsrt__names_bind(ctx->w, ctx->a, name);
}

int airsrt_unregister(struct airsrt_ctx *ctx, const char *name)
{
    struct airsrt_worker *w = ctx->w;
    struct airsrt_address holder;
    struct actor *a;
    uint32_t id;
    int rc;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    rc = airsrt__names_resolve(w, name, &id, &holder);
    if (rc == 0)
        rc = airsrt_registry_unregister(&w->reg, name);
    if (rc < 0)
        return rc;
    a = airsrt__actor_find(w, &holder);
    if (a != NULL && a->name_id == id) {
        a->name_id = 0;
        atomic_store_explicit(&w->stats[a->addr.slot].name_id, 0,
                              memory_order_relaxed);
    }
    return 0;
}

int airsrt_resolve(struct airsrt_ctx *ctx, const char *name,
                   struct airsrt_address *addr)
{
    struct airsrt_address holder;
    uint32_t id;
    int rc;

    if (airsrt_registry_name_validate(name) < 0)
        return -EINVAL;
    rc = airsrt__names_resolve(ctx->w, name, &id, &holder);
    if (rc < 0)
        return rc;
    if (airsrt_address_is_null(&holder))
        return -EHOSTDOWN;
    *addr = holder;
    return 0;
}

void airsrt__names_fini(struct airsrt_worker *w)
{
    struct name_node *node, *next;

    RB_FOREACH_SAFE(node, name_tree, &w->name_tree, next) {
        RB_REMOVE(name_tree, &w->name_tree, node);
        free(node);
    }
    free(w->names);
    w->names = NULL;
}
