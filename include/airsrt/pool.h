/*
 * airsrt/pool.h - pools: a named group of actors across workers, and
 * sends that pick one member of the group.
 *
 * An actor joins a pool by name; the pool exists from the first join on
 * (a registry entry of its own, whose id never changes) and may be empty.
 * Each actor is a member of at most one pool, until it leaves it or
 * stops; an actor that is restarted (AIRSRT_RESTART) stays a member. A
 * worker's next incarnation starts with no members: its actors join
 * again, typically in pre_start. Membership is published in the member's
 * worker pages, so joining and leaving cost no lock and no message.
 *
 * A sender keeps the members of each pool it uses until some worker
 * announces a change of memberships (the supervisor announces a worker
 * that died, before it reports it down); a member that stops between a
 * change and the sender noticing it gets the envelope as a dead letter
 * (stale), as any stale address does.
 *
 * All functions here may only be called from a callback, with its ctx.
 */
#ifndef AIRSRT_POOL_H
#define AIRSRT_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "airsrt/actor.h"

/* How airsrt_pool_send() picks the member. */
enum airsrt_pool_strategy {
    AIRSRT_POOL_ROUND_ROBIN = 0,    /* each member in turn, per sender */
    AIRSRT_POOL_RANDOM,             /* uniformly at random */
    AIRSRT_POOL_LEAST_LOADED,       /* the shallowest mailbox: exact for
                                       members in the sender's worker,
                                       as of their last turn elsewhere;
                                       ties go round robin */
    AIRSRT_POOL_HASH,               /* consistent hash of the key: the
                                       same key reaches the same member
                                       while it lives; a member joining
                                       or leaving moves only the keys it
                                       takes or had */
    AIRSRT_POOL_STRATEGIES
};

/*
 * The calling actor joins pool (a name as in airsrt/names.h; pools and
 * actor names share the registry, so a pool cannot take a name an actor
 * holds). 0, also if it is a member of pool already; -EINVAL bad name or
 * no calling actor; -EBUSY the actor is a member of another pool;
 * -EEXIST the name is an actor's or a topic's; -ENOSPC the registry is
 * full.
 */
int airsrt_pool_join(struct airsrt_ctx *ctx, const char *pool);

/* The calling actor leaves its pool. 0; -EINVAL no calling actor;
 * -ENOENT it is a member of none. */
int airsrt_pool_leave(struct airsrt_ctx *ctx);

/*
 * Sends an envelope of type with len bytes of payload to one member of
 * pool, picked by strategy s; key and key_len (the key's bytes) are used
 * by AIRSRT_POOL_HASH only, where key may be NULL only if key_len is 0.
 * Stores the member in *chosen if chosen is not NULL (also when the send
 * itself then fails). Returns as airsrt_send(), and -EINVAL bad name,
 * strategy or key; -ENOENT no such pool; -EHOSTDOWN the pool has no live
 * member.
 */
int airsrt_pool_send(struct airsrt_ctx *ctx, const char *pool,
                     enum airsrt_pool_strategy s, const void *key,
                     size_t key_len, uint32_t type, const void *payload,
                     uint32_t len, struct airsrt_address *chosen);

/*
 * The live members of pool as this worker sees them, in the canonical
 * order every sender uses (by address): up to max stored in out (out may
 * be NULL when max is 0). Returns how many there are (possibly more than
 * max); -EINVAL bad name; -ENOENT no such pool; -ENOMEM.
 */
ssize_t airsrt_pool_members(struct airsrt_ctx *ctx, const char *pool,
                            struct airsrt_address *out, size_t max);

#endif
