/*
 * worker/worker.c - one worker's life: bind to the segment as worker
 * index, start the listed actors, run the event loop, shut down in order.
 *
 * A poll: read the control ring and the inbound rings, run actors with
 * mail, publish what was sent, and sleep if none of it found work. The
 * heartbeat in the self page moves at least every opts.heartbeat_ns, so a
 * supervisor can tell a hung worker from an idle one; at the same pace a
 * supervised worker checks that its supervisor is still its parent.
 *
 * Opening is split in two (new, bind) so that a spare process does all
 * it can before it knows which worker it will be.
 *
 * Shutdown (SIGTERM, AIRSRT_CTL_SHUTDOWN, an escalation past the top,
 * the last actor stopping, or the supervisor gone) stops every actor
 * children first, then tries for up to SHUTDOWN_FLUSH_NS to push what
 * waits in outboxes into rings that are full; what still does not fit is
 * counted as dead letters (unroutable) and said on stderr. Envelopes
 * still in our inbound rings stay there for the next incarnation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shm/doorbell.h"
#include "worker/worker_impl.h"

#define SHUTDOWN_FLUSH_NS 1000000000ull
#define FLUSH_RETRY_NS    100000L
#define MAX_TYPES         UINT16_MAX
/* Up to this many bytes of actors entries, a memset beats a syscall. */
#define STATS_MEMSET_MAX  16384u

bool airsrt__is_type_name(const char *s, size_t len)
{
    if (len == 0 || len > AIRSRT_TYPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_.-", s[i]) || s[i] == '\0')
            return false;
    return true;
}

static int check_types(const struct airsrt_actor_type *const *types,
                       uint32_t *count, char *err, size_t len)
{
    uint32_t n = 0;

    for (; types != NULL && types[n] != NULL; n++) {
        const struct airsrt_actor_type *t = types[n];

        if (n == MAX_TYPES) {
            snprintf(err, len, "more than %u actor types", MAX_TYPES);
            return -EINVAL;
        }
        if (t->name == NULL || t->handle == NULL ||
            !airsrt__is_type_name(t->name, strnlen(t->name,
                                                   AIRSRT_TYPE_NAME_MAX + 1))) {
            snprintf(err, len, "actor type %u: needs a name of 1 to %u of "
                     "A-Z a-z 0-9 _ . - and a handle callback", n,
                     AIRSRT_TYPE_NAME_MAX);
            return -EINVAL;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (strcmp(types[i]->name, t->name) == 0) {
                snprintf(err, len, "two actor types are named \"%s\"",
                         t->name);
                return -EINVAL;
            }
        }
    }
    *count = n;
    return 0;
}

/* Rewrites our self page: nothing of the previous incarnation's counters
 * remains (its crash report was read before we were started). After
 * stats_reset(). */
static void self_init(struct airsrt_worker *w)
{
    struct airsrt_worker_self *s = w->self;

    memset(s, 0, sizeof(*s));
    atomic_store_explicit(&s->heartbeat_ns, airsrt_now_ns(),
                          memory_order_relaxed);
    atomic_store_explicit(&s->state, AIRSRT_WORKER_STARTING,
                          memory_order_relaxed);
    atomic_store_explicit(&s->actors_high, 1, memory_order_relaxed);
    for (uint32_t i = 0; i < w->ntypes && i < AIRSRT_WORKER_TYPE_NAMES; i++)
        strlcpy(s->type_names[i], w->types[i]->name, sizeof(s->type_names[i]));
    atomic_store_explicit(&s->ntypes, w->ntypes, memory_order_relaxed);
    /* Last, with release (pairs with the acquire in airsrt__pool_scan()):
     * a reader that sees our incarnation here sees the actors region
     * stats_reset() cleared and the page rewritten above, never the
     * previous incarnation's entries under our incarnation. */
    atomic_store_explicit(&s->incarnation, w->incarnation,
                          memory_order_release);
}

/*
 * Zeroes the entries of our actors region that the previous incarnation
 * may have written: those below its actors_high (prev_high). Entries at
 * or above it are zero already. By induction: a fresh segment is zero,
 * an incarnation writes an entry only once actors_high covers it (in
 * slot_alloc), and actors_high is only lowered (self_init) after this
 * clearing is done, so an incarnation that dies midway leaves its
 * successor the same prev_high. The work is proportional to what was
 * used, not to actors_max: a restart must stay cheap. A large region is
 * punched out of the segment, which also gives its pages back; if the
 * kernel cannot, or for a few pages, it is cleared by hand.
 */
static void stats_reset(struct airsrt_worker *w, uint32_t prev_high)
{
    size_t page = w->shm->hdr->page_size;
    size_t used = (size_t)(prev_high > w->actors_max ? w->actors_max + 1
                                                     : prev_high) *
                  sizeof(struct airsrt_actor_stats);
    size_t span = (used + page - 1) / page * page;

    /* span <= actors_stride: the stride is whole pages. */
    if (used <= STATS_MEMSET_MAX || madvise(w->stats, span, MADV_REMOVE) < 0)
        memset(w->stats, 0, used);
}

/* The actor table's index and first chunk; the root is set up by bind. */
static int table_init(struct airsrt_worker *w)
{
    w->nchunks = (w->actors_max + AIRSRT_CHUNK_SIZE) >> AIRSRT_CHUNK_SHIFT;
    w->chunks = calloc(w->nchunks, sizeof(*w->chunks));
    if (w->chunks == NULL)
        return -ENOMEM;
    w->chunks[0] = calloc(AIRSRT_CHUNK_SIZE, sizeof(struct actor));
    if (w->chunks[0] == NULL)
        return -ENOMEM;
    return 0;
}

static void table_bind(struct airsrt_worker *w)
{
    struct actor *root = airsrt__actor_at(w, AIRSRT_ROOT_SLOT);

    root->lifecycle = AIRSRT_ACTOR_RUNNING;     /* may adopt children */
    root->addr = (struct airsrt_address){ .worker = (uint16_t)w->index,
                                          .incarnation = w->incarnation,
                                          .generation = 1 };
    w->high = 1;
}

static void opts_init(struct airsrt_worker_opts *o,
                      const struct airsrt_worker_opts *given)
{
    static const struct airsrt_worker_opts defaults = {
        .spin_ns = AIRSRT_SPIN_NS_DEFAULT };

    *o = given != NULL ? *given : defaults;
    if (o->heartbeat_ns == 0)
        o->heartbeat_ns = AIRSRT_HEARTBEAT_NS_DEFAULT;
    if (o->turn_budget == 0)
        o->turn_budget = AIRSRT_TURN_BUDGET_DEFAULT;
    if (o->outbox_max == 0)
        o->outbox_max = AIRSRT_OUTBOX_MAX_DEFAULT;
}

/* What new allocates and attaches; nothing of it names an index. */
static int prepare(struct airsrt_worker *w, char *err, size_t len)
{
    int rc = airsrt_registry_open(&w->reg, w->shm);

    if (rc == 0)
        rc = table_init(w);
    if (rc == 0)
        rc = airsrt__names_init(w);
    if (rc < 0) {
        snprintf(err, len, "cannot set up a worker: %s", strerror(-rc));
        return rc;
    }
    return airsrt__transport_init(w, err, len);
}

int airsrt__worker_new(struct airsrt_worker **out, struct airsrt_shm *shm,
                       const struct airsrt_actor_type *const *types,
                       const struct airsrt_worker_opts *opts, char *err,
                       size_t errlen)
{
    struct airsrt_worker *w;
    uint32_t ntypes;
    int rc;

    *out = NULL;
    rc = check_types(types, &ntypes, err, errlen);
    if (rc < 0)
        return rc;
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *w = (struct airsrt_worker){ .shm = shm, .index = UINT32_MAX,
        .nworkers = shm->params.nworkers,
        .payload_max = shm->params.payload_max,
        .actors_max = shm->params.actors_max, .types = types,
        .ntypes = ntypes, .exit_status = -1 };
    opts_init(&w->opts, opts);
    RB_INIT(&w->name_tree);
    w->root = (struct airsrt_ctx){ .w = w };
    rc = prepare(w, err, errlen);
    if (rc < 0) {
        airsrt__worker_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

void airsrt__worker_slot_name(const struct airsrt_shm *shm, uint32_t index,
                              char *buf, size_t len)
{
    const struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(shm, index);
    size_t n = sup != NULL ? strnlen(sup->name, sizeof(sup->name)) : 0;

    /* The supervisor wrote it before it started us; cut, never trusted
     * to be terminated. */
    if (n == 0 || n >= sizeof(sup->name) || n >= len) {
        snprintf(buf, len, "%u", index);
        return;
    }
    memcpy(buf, sup->name, n);
    buf[n] = '\0';
}

/* What bind needs of our slot: the incarnation the supervisor gave it. */
static int slot_claim(struct airsrt_worker *w, uint32_t index, char *err,
                      size_t len)
{
    struct airsrt_worker_sup *sup;
    uint32_t inc;

    if (w->index != UINT32_MAX) {
        snprintf(err, len, "worker %u is bound already", w->index);
        return -EBUSY;
    }
    sup = airsrt_shm_worker_sup(w->shm, index);
    if (sup == NULL) {
        snprintf(err, len, "worker index %u: the runtime has %u workers",
                 index, w->nworkers);
        return -EINVAL;
    }
    inc = atomic_load_explicit(&sup->incarnation, memory_order_relaxed);
    if (inc == 0) {
        snprintf(err, len, "worker slot %u has no incarnation: its "
                 "supervisor did not start it", index);
        return -ESRCH;
    }
    w->index = index;
    w->incarnation = inc;
    airsrt__worker_slot_name(w->shm, index, w->name, sizeof(w->name));
    return 0;
}

int airsrt__worker_bind(struct airsrt_worker *w, uint32_t index, char *err,
                        size_t errlen)
{
    uint32_t prev_high;
    int rc = slot_claim(w, index, err, errlen);

    if (rc < 0)
        return rc;
    w->self = airsrt_shm_worker_self(w->shm, index);
    w->stats = airsrt_shm_actor_stats(w->shm, index);
    w->bell = airsrt_shm_doorbell(w->shm, index);
    rc = airsrt_msgid_init(&w->ids, index, w->shm->hdr->epoch_ns);
    if (rc < 0) {
        snprintf(err, errlen, "cannot set up worker %u: %s", index,
                 strerror(-rc));
        return rc;
    }
    table_bind(w);
    rc = airsrt__transport_open(w, err, errlen);
    if (rc < 0)
        return rc;
    prev_high = atomic_load_explicit(&w->self->actors_high,
                                     memory_order_relaxed);
    stats_reset(w, prev_high);
    self_init(w);
    /* Our pool memberships (the actors region) and topic list (the self
     * page) are empty now: one announcement covers both. */
    airsrt__groups_announce(w);
    airsrt_doorbell_reset(w->bell);
    w->parent_checked_ns = airsrt_now_ns();
    return 0;
}

int airsrt__worker_open(struct airsrt_worker **out, struct airsrt_shm *shm,
                        uint32_t index,
                        const struct airsrt_actor_type *const *types,
                        const struct airsrt_worker_opts *opts, char *err,
                        size_t errlen)
{
    int rc;

    *out = NULL;
    if (index >= shm->params.nworkers) {
        snprintf(err, errlen, "worker index %u: the runtime has %u workers",
                 index, shm->params.nworkers);
        return -EINVAL;
    }
    rc = airsrt__worker_new(out, shm, types, opts, err, errlen);
    if (rc == 0)
        rc = airsrt__worker_bind(*out, index, err, errlen);
    if (rc < 0) {
        airsrt__worker_close(*out);
        *out = NULL;
    }
    return rc;
}

struct airsrt_ctx *airsrt__worker_ctx(struct airsrt_worker *w)
{
    return &w->root;
}

const struct airsrt_actor_type *
airsrt__worker_find_type(const struct airsrt_worker *w, const char *name)
{
    for (uint32_t i = 0; i < w->ntypes; i++)
        if (strcmp(w->types[i]->name, name) == 0)
            return w->types[i];
    return NULL;
}

static void type_list(const struct airsrt_worker *w, char *buf, size_t len)
{
    buf[0] = '\0';
    for (uint32_t i = 0; i < w->ntypes; i++) {
        if (i > 0)
            strlcat(buf, ", ", len);
        strlcat(buf, w->types[i]->name, len);
    }
}

int airsrt__worker_start(struct airsrt_worker *w,
                         const struct airsrt_start *list, size_t n,
                         char *err, size_t errlen)
{
    char types[256];

    for (size_t i = 0; i < n; i++) {
        if (airsrt__worker_find_type(w, list[i].type) == NULL) {
            type_list(w, types, sizeof(types));
            snprintf(err, errlen, "unknown actor type \"%s\"; this binary "
                     "has: %s", list[i].type, types);
            airsrt__worker_shutdown(w, AIRSRT_EXIT_USAGE);
            return AIRSRT_EXIT_USAGE;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct airsrt_spawn_opts o = {
            .arg = list[i].init, .arg_len = list[i].init_len,
            .name = list[i].name[0] ? list[i].name : NULL };
        int rc = airsrt_spawn(&w->root,
                              airsrt__worker_find_type(w, list[i].type), &o,
                              NULL);

        if (rc < 0) {
            snprintf(err, errlen, "cannot start actor %zu (%s%s%s): %s",
                     i + 1, list[i].type, list[i].name[0] ? "@" : "",
                     list[i].name, airsrt_strerror(rc));
            airsrt__worker_shutdown(w, AIRSRT_EXIT_START_FAILED);
            return AIRSRT_EXIT_START_FAILED;
        }
    }
    atomic_store_explicit(&w->self->state, AIRSRT_WORKER_RUNNING,
                          memory_order_relaxed);
    return 0;
}

void airsrt__worker_shutdown(struct airsrt_worker *w, int status)
{
    if (w->is_shutting_down)
        return;
    w->is_shutting_down = true;
    w->exit_request = status;
    atomic_store_explicit(&w->self->state, AIRSRT_WORKER_STOPPING,
                          memory_order_relaxed);
}

static int finish_shutdown(struct airsrt_worker *w)
{
    uint64_t deadline;
    struct timespec nap = { 0, FLUSH_RETRY_NS };

    airsrt__actor_stop_all(w);
    deadline = airsrt_now_ns() + SHUTDOWN_FLUSH_NS;
    for (;;) {
        airsrt__transport_flush(w);
        if (!airsrt__transport_is_backed_up(w))
            break;
        if (airsrt_now_ns() >= deadline) {
            uint64_t lost = airsrt__transport_give_up(w);

            fprintf(stderr, "airsrt worker %u: %llu envelopes could not be "
                    "sent before exit: their rings stayed full\n", w->index,
                    (unsigned long long)lost);
            break;
        }
        nanosleep(&nap, NULL);
    }
    atomic_store_explicit(&w->self->state, AIRSRT_WORKER_STOPPED,
                          memory_order_relaxed);
    w->exit_status = w->exit_request;
    return w->exit_status;
}

static bool is_stop_asked(const struct airsrt_worker *w)
{
    return w->opts.stop_flag != NULL && *w->opts.stop_flag != 0;
}

/*
 * True if our supervisor is gone: our parent is no longer the process
 * opts.supervisor_pid (the kernel gave us to another when it died). Asked
 * once a heartbeat, or at once (is_due) when a stop signal came, which
 * may be the SIGTERM its death sent us (PR_SET_PDEATHSIG): the parent has
 * changed by the time that signal is sent. Says so once.
 */
static bool is_supervisor_gone(struct airsrt_worker *w, bool is_due)
{
    if (w->opts.supervisor_pid == 0 || w->is_shutting_down)
        return false;
    if (!is_due && w->now_ns - w->parent_checked_ns < w->opts.heartbeat_ns)
        return false;
    w->parent_checked_ns = w->now_ns;
    if (getppid() == w->opts.supervisor_pid)
        return false;
    fprintf(stderr, "airsrt worker %s: supervisor (pid %d) is gone; "
            "shutting down\n", w->name, (int)w->opts.supervisor_pid);
    return true;
}

int airsrt__worker_poll(struct airsrt_worker *w, int64_t max_wait_ns)
{
    uint32_t took = 0, ran = 0;

    if (w->exit_status >= 0)
        return w->exit_status;
    w->now_ns = airsrt_now_ns();
    atomic_store_explicit(&w->self->heartbeat_ns, w->now_ns,
                          memory_order_relaxed);
    /* ---- inject: airsrt-inject kill-in-lock (worker/fault.c) ---- */
    airsrt__fault_poll(w);
    if (is_supervisor_gone(w, is_stop_asked(w)) || is_stop_asked(w))
        airsrt__worker_shutdown(w, AIRSRT_EXIT_OK);
    if (!w->is_shutting_down) {
        took = airsrt__transport_drain(w);
        /* Due timers, bounded, after the rings (a reply already there
         * settles its request before its timeout fires). */
        took += airsrt__timers_fire(w, w->now_ns, AIRSRT_TIMER_FIRE_BUDGET);
        ran = airsrt__run_actors(w, AIRSRT_POLL_BUDGET);
        if (airsrt__actor_has_stops(w))
            airsrt__actor_process_stops(w);
        if (w->alive == 0 && atomic_load_explicit(&w->self->actors_spawned,
                                                  memory_order_relaxed) != 0)
            airsrt__worker_shutdown(w, AIRSRT_EXIT_OK);
    }
    airsrt__transport_flush(w);
    if (w->is_shutting_down)
        return finish_shutdown(w);
    if (took == 0 && ran == 0 && w->runq_head == NULL)
        airsrt__idle_wait(w, max_wait_ns);
    return -1;
}

int airsrt__worker_run(struct airsrt_worker *w)
{
    int status;

    while ((status = airsrt__worker_poll(w, -1)) < 0)
        ;
    return status;
}

void airsrt__worker_close(struct airsrt_worker *w)
{
    if (w == NULL)
        return;
    airsrt__monitor_fini(w);
    airsrt__actor_table_fini(w);
    airsrt__timers_fini(w);
    airsrt__requests_fini(w);
    airsrt__transport_fini(w);
    airsrt__names_fini(w);
    airsrt__pools_fini(w);
    airsrt__topic_fini(w);
    airsrt__msgpool_fini(&w->pool);
    free(w);
}
