/*
 * fuzz/worker_rig.h - the stage the worker harnesses share: a runtime of
 * 2 workers in which worker 1 is opened in-process for each input and
 * the harness plays worker 0. It writes records into the data ring
 * 0 -> 1 and the control ring of worker 1, and reads what worker 1 sends
 * back on 1 -> 0.
 *
 * One segment for the process, its name unlinked as soon as it exists,
 * so that no run leaves one behind however it ends. The rings are
 * emptied before each input, so that every input starts alike and
 * replays the same way alone or after a million others.
 *
 * A process holds at most one rig (atexit() takes no argument). Header
 * only, and not named fuzz_*.c: fuzz/fuzz.mk builds each of those as a
 * harness of its own.
 */
#ifndef AIRSRT_FUZZ_WORKER_RIG_H
#define AIRSRT_FUZZ_WORKER_RIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz_input.h"
#include "worker/worker_impl.h"

/* Which of worker 1's inbound rings a record goes to. */
enum { FUZZ_RIG_DATA = 0, FUZZ_RIG_CTL = 1 };

struct fuzz_rig {
    bool is_ready;
    struct airsrt_shm shm;
    struct airsrt_ring ring[2];     /* producer of 0 -> 1, of ctl 1 */
    struct airsrt_ring back;        /* consumer of 1 -> 0 */
    /* Checks one envelope worker 1 sent worker 0: what may come back is
     * each harness's own property. */
    void (*take)(const struct airsrt_ring_view *v);
    struct airsrt_worker *w;        /* this input's worker 1 */
    int status;                     /* -1 while the worker runs */
};

static struct fuzz_rig *fuzz_rig_live;

static inline void fuzz_rig_release(void)
{
    airsrt_shm_detach(&fuzz_rig_live->shm);
}

/*
 * Creates the segment (2 workers, whatever else p says) named after
 * prefix and the pid, so that harnesses running side by side never meet,
 * and binds the rings. Both workers get incarnation 1: addresses the
 * harness makes up for worker 0 are then current ones. Aborts on failure:
 * without a segment no input means anything.
 */
static inline void
fuzz_rig_setup(struct fuzz_rig *g, const char *prefix,
               const struct airsrt_shm_params *p,
               void (*take)(const struct airsrt_ring_view *v))
{
    struct airsrt_shm_params params = *p;
    char name[64];

    params.nworkers = 2;
    snprintf(name, sizeof(name), "%s-%d", prefix, (int)getpid());
    if (airsrt_shm_create(&g->shm, name, &params) < 0) {
        fprintf(stderr, "%s\n", g->shm.err);
        abort();
    }
    /* Nothing to leave behind, however the process ends. */
    shm_unlink(g->shm.path);
    fuzz_rig_live = g;
    atexit(fuzz_rig_release);
    for (uint32_t w = 0; w < 2; w++)
        atomic_store(&airsrt_shm_worker_sup(&g->shm, w)->incarnation, 1);
    FUZZ_CHECK(airsrt_shm_data_ring(&g->shm, 0, 1,
                                    &g->ring[FUZZ_RIG_DATA]) == 0);
    FUZZ_CHECK(airsrt_shm_ctl_ring(&g->shm, 1, &g->ring[FUZZ_RIG_CTL]) == 0);
    FUZZ_CHECK(airsrt_shm_data_ring(&g->shm, 1, 0, &g->back) == 0);
    g->take = take;
    g->is_ready = true;
}

/* Empties a ring: positions, counters and bytes, as if new. */
static inline void fuzz_rig_ring_clear(struct airsrt_ring *r)
{
    atomic_store(&r->prod->tail, 0);
    atomic_store(&r->cons->head, 0);
    memset(&r->prod->stats, 0, sizeof(r->prod->stats));
    memset(&r->cons->stats, 0, sizeof(r->cons->stats));
    memset(r->buf, 0, r->capacity);
}

/* Empties the three rings and takes the harness's roles in them again:
 * the local positions must follow the shared ones just reset. */
static inline void fuzz_rig_reset(struct fuzz_rig *g)
{
    for (int i = 0; i < 2; i++)
        fuzz_rig_ring_clear(&g->ring[i]);
    fuzz_rig_ring_clear(&g->back);
    airsrt_ring_producer_attach(&g->ring[FUZZ_RIG_DATA]);
    airsrt_ring_producer_attach(&g->ring[FUZZ_RIG_CTL]);
    airsrt_ring_consumer_attach(&g->back);
}

/* Resets the rings and opens worker 1 with types and o; returns its
 * context, for spawning the input's actors. Aborts if it cannot open:
 * that is the harness's failure, not the input's. */
static inline struct airsrt_ctx *
fuzz_rig_open(struct fuzz_rig *g, const struct airsrt_actor_type *const *types,
              const struct airsrt_worker_opts *o)
{
    char err[256];

    fuzz_rig_reset(g);
    g->status = -1;
    if (airsrt__worker_open(&g->w, &g->shm, 1, types, o, err,
                            sizeof(err)) < 0) {
        fprintf(stderr, "open: %s\n", err);
        abort();
    }
    return airsrt__worker_ctx(g->w);
}

/* Reserves a record for len payload bytes in ring; returns the record,
 * with *e its envelope, or NULL if the ring is full. */
static inline struct airsrt_ring_rec *
fuzz_rig_reserve(struct fuzz_rig *g, int ring, uint32_t len,
                 struct airsrt_envelope **e)
{
    if (airsrt_ring_reserve(&g->ring[ring], len, e) < 0)
        return NULL;
    return (struct airsrt_ring_rec *)(void *)*e - 1;
}

/* Writes hdr and hdr->payload_len bytes of payload as one record and
 * publishes it. Returns the record, which stays writable: single-threaded,
 * worker 1 reads nothing before its next poll, so a harness may still
 * damage it. NULL if the ring is full: a real producer meets that too. */
static inline struct airsrt_ring_rec *
fuzz_rig_write(struct fuzz_rig *g, int ring, const struct airsrt_envelope *hdr,
               const void *payload)
{
    struct airsrt_envelope *e;
    struct airsrt_ring_rec *rec;

    rec = fuzz_rig_reserve(g, ring, hdr->payload_len, &e);
    if (rec == NULL)
        return NULL;
    memcpy(e, hdr, sizeof(*hdr));
    memcpy(e->payload, payload, hdr->payload_len);
    airsrt_ring_commit(&g->ring[ring]);
    airsrt_ring_publish(&g->ring[ring]);
    return rec;
}

/* Reads everything worker 1 sent worker 0, each through take, and gives
 * the room back, so that worker 1 never stalls on a full ring 1 -> 0. */
static inline void fuzz_rig_drain(struct fuzz_rig *g)
{
    struct airsrt_ring_view v[64];
    ssize_t n;

    while ((n = airsrt_ring_read(&g->back, v, 64)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            g->take(&v[i]);
        airsrt_ring_release_all(&g->back);
    }
    /* Worker 1 is a well-behaved producer. */
    FUZZ_CHECK(n == 0);
}

/* One poll of worker 1 unless it has ended, then a drain: a worker that
 * ended is never polled again, but what it sent is still read. */
static inline void fuzz_rig_poll(struct fuzz_rig *g)
{
    if (g->status < 0)
        g->status = airsrt__worker_poll(g->w, 0);
    fuzz_rig_drain(g);
}

/* Worker 1 has ended, or has nothing left to do: no input in its rings,
 * no actor to run, nothing held back for a full ring, and none of the
 * harness's own pending work (stops, timers: whatever its test waits
 * for). A poll would change nothing. */
static inline bool fuzz_rig_is_idle(struct fuzz_rig *g, uint64_t pending)
{
    struct airsrt_worker *w = g->w;

    return g->status >= 0 ||
           (!airsrt__transport_has_input(w) && w->runq_head == NULL &&
            pending == 0 && !airsrt__transport_is_backed_up(w));
}

#endif
