/*
 * fuzz/fuzz_pool_scan.c - the pool member scan (worker/pool.c) over a
 * worker's pages as anyone may have scribbled them: an actors region and
 * a self page of arbitrary bytes.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *
 *   off  size  field
 *     0  1     actors_max - 1 (mod MAX_ACTORS): the region holds
 *              actors_max + 1 entries, as the segment computes it
 *     1  2     worker index (raw: may be past AIRSRT_MAX_WORKERS)
 *     3  4     incarnation the supervisor shows (raw, may be 0)
 *     7  4     pool id looked for (raw, may be 0)
 *    11  1     bit 0: the self page shows that incarnation, else
 *    12  4     the raw incarnation it shows
 *    16  4     the self page's actors_high (raw)
 *    20  ...   the region's entries; what is left stays zero
 *
 * The scan reads only incarnation and actors_high of the self page:
 * every other byte of it is filled with 0xa5.
 *
 * Asserts: nothing is read outside the region or the page (ASan: both
 * are heap blocks of exactly their size); every address out is valid,
 * of that worker and incarnation, in a slot below the clamped
 * actors_high, with the generation its entry shows; at most one per
 * slot; and nothing comes out when the self page names another
 * incarnation or the pool id is 0.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "worker/worker_impl.h"

#define MAX_ACTORS 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct airsrt_actor_stats *entries,
                  uint32_t actors_max, const struct airsrt_worker_self *self,
                  uint32_t worker, uint32_t inc, uint32_t id,
                  const struct pool_members *m)
{
    uint32_t high = atomic_load(&self->actors_high);
    uint32_t last = 0;

    if (high > actors_max + 1)
        high = actors_max + 1;
    if (id == 0 || inc == 0 || atomic_load(&self->incarnation) != inc)
        FUZZ_CHECK(m->n == 0);
    FUZZ_CHECK(m->n <= actors_max);
    for (size_t i = 0; i < m->n; i++) {
        const struct airsrt_address *a = &m->v[i];

        FUZZ_CHECK(airsrt_address_validate(a) == 0);
        FUZZ_CHECK(a->node == 0 && a->worker == worker &&
                   a->incarnation == inc);
        FUZZ_CHECK(a->slot >= 1 && a->slot < high);
        FUZZ_CHECK(a->slot > last);     /* one per slot, in slot order */
        last = a->slot;
        FUZZ_CHECK(a->generation == atomic_load(&entries[a->slot].generation));
        FUZZ_CHECK(atomic_load(&entries[a->slot].pool_id) == id);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    uint32_t actors_max = fuzz_u8(&in) % MAX_ACTORS + 1;
    uint32_t worker = fuzz_u16(&in);
    uint32_t inc = fuzz_u32(&in);
    uint32_t id = fuzz_u32(&in);
    struct airsrt_worker_self *self = malloc(sizeof(*self));
    size_t region = (actors_max + 1) * sizeof(struct airsrt_actor_stats);
    struct airsrt_actor_stats *entries = malloc(region);
    struct pool_members m = { 0 };
    uint8_t sel = fuzz_u8(&in);
    uint32_t raw_inc = fuzz_u32(&in);

    FUZZ_CHECK(self != NULL && entries != NULL);
    memset(self, 0xa5, sizeof(*self));
    atomic_store(&self->incarnation, sel & 1 ? inc : raw_inc);
    atomic_store(&self->actors_high, fuzz_u32(&in));
    fuzz_bytes(&in, entries, region);
    FUZZ_CHECK(airsrt__pool_scan(entries, actors_max, self, worker, inc, id,
                                 &m) == 0);
    check(entries, actors_max, self, worker, inc, id, &m);
    free(m.v);
    free(entries);
    free(self);
    return 0;
}
