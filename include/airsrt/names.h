/*
 * airsrt/names.h - registered names: one runtime-wide table of names to
 * actor addresses, in shared memory.
 *
 * A name keeps its registry id for as long as it exists, through the
 * deaths of its holders: when the holder stops, the name is unbound, not
 * removed, and the next actor that registers it binds the same id. An
 * envelope sent to a name carries that id and is resolved when it is
 * delivered, so it reaches whoever holds the name then. A worker's next
 * incarnation takes over the names its previous incarnation held, so
 * names survive worker restarts. Known limit: after airsrt_unregister()
 * another name may take the freed id, and an envelope still in flight to
 * the old name would reach the new one; prefer to let names be unbound.
 *
 * Names are 1 to 87 bytes of printable ASCII without spaces. Each actor
 * holds at most one name. Callbacks only, with their ctx.
 */
#ifndef AIRSRT_NAMES_H
#define AIRSRT_NAMES_H

#include "airsrt/actor.h"

#define AIRSRT_NAME_MAX 87u

/*
 * Binds name to the calling actor until it stops. 0 (also if it already
 * holds it); -EINVAL bad name or no calling actor; -EBUSY the actor holds
 * another name; -EEXIST another live actor holds it; -ENOSPC the registry
 * is full.
 */
int airsrt_register(struct airsrt_ctx *ctx, const char *name);

/* Removes name from the registry (see the known limit above). 0; -EINVAL
 * bad name; -ENOENT no such name. */
int airsrt_unregister(struct airsrt_ctx *ctx, const char *name);

/* Stores the address that holds name now. 0; -EINVAL bad name; -ENOENT
 * no such name; -EHOSTDOWN the name exists but nobody holds it now. */
int airsrt_resolve(struct airsrt_ctx *ctx, const char *name,
                   struct airsrt_address *addr);

#endif
