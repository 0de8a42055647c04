/*
 * worker/worker_impl.h - the actor host's private structures, shared by
 * the files of worker/ and by the tests and the benchmark, which drive a
 * worker in-process. Not part of any public API.
 *
 * Everything here lives in one worker process and is touched by its one
 * thread only: no field needs a lock or an atomic. What other processes
 * see goes through shared memory (the worker's self page, its actors
 * region, its rings), written only where the comments say.
 *
 * Ownership: a struct msg belongs to exactly one place at a time - the
 * pool, one mailbox lane, one outbox, or the code handling it. An actor's
 * state and spawn argument belong to its slot while it lives.
 */
#ifndef AIRSRT_WORKER_IMPL_H
#define AIRSRT_WORKER_IMPL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>

#include "airsrt/airsrt.h"
#include "shm/registry.h"
#include "shm/ring.h"
#include "shm/segment.h"
#include "shm/stat.h"

/* RB_GENERATE_STATIC without libbsd's __unused, which its cdefs.h leaves
 * undefined on Linux (where glibc has struct members of that name): the
 * same static functions, marked unused the compiler's way. */
#define AIRSRT_RB_GENERATE_STATIC(name, type, field, cmp) \
    RB_GENERATE_INTERNAL(name, type, field, cmp, __attribute__((unused)) static)

#define AIRSRT_LANES          4u        /* one per enum airsrt_priority */
#define AIRSRT_POOL_CLASSES   40u
#define AIRSRT_CHUNK_SHIFT    12u       /* actors per table chunk: 4096 */
#define AIRSRT_CHUNK_SIZE     (1u << AIRSRT_CHUNK_SHIFT)
#define AIRSRT_ROOT_SLOT      0u        /* the worker itself: parent of the
                                           top-level actors */

/* Defaults of struct airsrt_worker_opts. */
#define AIRSRT_SPIN_NS_DEFAULT      50000u
#define AIRSRT_HEARTBEAT_NS_DEFAULT 100000000u
#define AIRSRT_TURN_BUDGET_DEFAULT  64u
#define AIRSRT_POLL_BUDGET          4096u   /* envelopes handled per poll */
#define AIRSRT_READ_BATCH           256u    /* envelopes per ring read */
#define AIRSRT_OUTBOX_MAX_DEFAULT   (1u << 20)

/*
 * An envelope queued in this process: in a mailbox lane, an outbox, or
 * being handled. env.payload_len is always the length the pool sized the
 * node for, checked when the envelope came from shared memory.
 */
struct msg {
    struct msg *next;
    uint32_t cls;                   /* pool size class */
    uint32_t reserved;
    struct airsrt_envelope env;     /* then env.payload_len bytes */
};

/* Per-process pool of msg nodes by size class (msgpool.c). */
struct msg_pool {
    struct msg *free[AIRSRT_POOL_CLASSES];
    uint32_t nfree[AIRSRT_POOL_CLASSES];
};

struct topic_sub;

/*
 * One actor slot. Slot numbers are the slot field of addresses; slot 0 is
 * the root (the worker itself, never freed). A free slot keeps its
 * generation (the next actor gets generation + 1) and is chained through
 * next_sibling.
 *
 * The run queue links actors through runq_next while is_queued is set. A
 * slot may be freed and reused while it is still queued: the queue entry
 * then serves the new actor, and the scheduler runs a popped actor only
 * if it is running and has mail.
 */
struct actor {
    struct msg *head[AIRSRT_LANES];     /* lanes by priority, FIFO each */
    struct msg *tail[AIRSRT_LANES];
    const struct airsrt_actor_type *type;
    void *state;
    struct actor *runq_next;
    void *arg;                          /* copy of the spawn argument */
    struct airsrt_address addr;         /* its own; a free slot keeps its
                                           last actor's (generation >= 1
                                           once used). Copied whole, never
                                           rebuilt field by field: a copy
                                           of fields just stored one by one
                                           stalls on store forwarding. */
    uint32_t arg_len;
    uint32_t depth;                     /* envelopes in all lanes */
    uint32_t bound;                     /* 0 = unbounded */
    uint32_t parent;                    /* slots; 0 = root / none */
    uint32_t first_child;               /* the youngest child */
    uint32_t next_sibling;              /* older sibling; free-list link */
    uint32_t prev_sibling;              /* younger sibling */
    uint32_t name_id;                   /* registry id held, 0 = none */
    uint32_t restarts;
    uint32_t handled_unpub;             /* handled since last published */
    uint16_t type_index;
    uint8_t lifecycle;                  /* enum airsrt_actor_state */
    uint8_t overflow;                   /* enum airsrt_overflow */
    uint8_t lane_mask;                  /* bit p: lane p has mail */
    bool is_queued;                     /* on the run queue */
    bool is_stop_pending;               /* on the stop list */
    bool is_stop_failed;                /* that stop is a failure */
    /* ---- pool.c ---- */
    uint32_t pool_id;                   /* registry id of its pool, 0 =
                                           none; mirrored in its actors
                                           entry */
    /* ---- monitor.c ---- */
    struct actor_monitors *monitors;    /* NULL: watches and is watched
                                           by nobody */
    /* ---- topic.c ---- */
    LIST_HEAD(, topic_sub) topic_subs;  /* its subscriptions; emptied
                                           when it stops, so a reused
                                           slot starts with none */
};

/*
 * Another worker, seen from this one: the ring it sends us (we consume)
 * and the ring we send it (we produce), its doorbell, and the outbox that
 * keeps, in order, what did not fit its ring.
 */
struct peer {
    struct airsrt_ring in;
    struct airsrt_ring out;
    struct airsrt_doorbell *bell;
    struct msg *outbox_head, *outbox_tail;
    uint32_t outbox_len;
    bool is_dirty;          /* on the dirty list: records to publish or an
                               outbox to drain */
    bool is_in_attached;    /* in: positions taken (at first read) */
    bool is_out_attached;   /* out: positions taken (at first send) */
};

/* ---- monitor.c: monitors our actors set, by ref ---- */
struct mon_ref;
RB_HEAD(mon_tree, mon_ref);

/* What this worker knows of a registry id (names.c). */
struct name_cache {
    uint32_t generation;            /* of the entry when cached; 0 = none */
    uint32_t hash;                  /* of its name then */
    bool is_name;                   /* the entry was a NAME in use */
    struct airsrt_address addr;     /* its holder then; null = unbound */
    struct airsrt_address last;     /* its last holder seen by this worker */
};

/* name -> registry id, for sends by name (names.c). */
struct name_node {
    RB_ENTRY(name_node) link;
    uint32_t id;
    uint32_t hash;
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];
};
RB_HEAD(name_tree, name_node);

/* ---- pool.c ---- */

/* A growable list of pool members (addresses). */
struct pool_members {
    struct airsrt_address *v;
    size_t n, cap;
};

/* pool name -> registry id and cached members (pool.c). */
struct pool_node;
RB_HEAD(pool_tree, pool_node);
/* ---- topic.c: pub/sub (the node types are private to topic.c) ---- */
struct topic;
RB_HEAD(topic_id_tree, topic);
RB_HEAD(topic_name_tree, topic);
/* ---- timer.c ---- */

/*
 * A pending timer, by index (its id's low half - 1). While pending: m is
 * the envelope to send (owned here), name a malloc'd copy of the name it
 * goes to (NULL: to m->env.recipient), pos its place in the heap. While
 * free: m is NULL and pos links the free list (index + 1, 0 = end). gen
 * is its id's high half; it moves on at every reuse, and a record whose
 * gen would wrap is retired, never reused: no id repeats.
 */
struct timer_rec {
    struct msg *m;
    char *name;
    uint32_t pos;
    uint32_t gen;
};

/* A heap entry: due time, then the order set (FIFO among equal due
 * times), then which record. */
struct timer_ent {
    uint64_t due_ns;
    uint64_t seq;
    uint32_t rec;
    uint32_t reserved;
};

/* A 4-ary min-heap of entries by (due_ns, seq) over a table of records. */
struct timer_heap {
    struct timer_ent *heap;
    struct timer_rec *recs;
    uint32_t n, heap_cap;
    uint32_t nrecs, recs_cap;
    uint32_t free_rec;                  /* index + 1 of a free record */
    uint64_t seq;                       /* entries ever set */
};

/* ---- request.c: requests waiting, by correlation id ---- */
struct request_node;
RB_HEAD(request_tree, request_node);

/* Worker tuning; NULL opts mean every default. A zero field takes its
 * default, but for spin_ns, where 0 means: sleep at once. */
struct airsrt_worker_opts {
    uint64_t spin_ns;               /* idle polling before sleeping */
    uint64_t heartbeat_ns;          /* longest sleep */
    uint32_t turn_budget;           /* envelopes per actor turn */
    uint32_t outbox_max;            /* envelopes per destination worker */
    const volatile sig_atomic_t *stop_flag; /* nonzero: shut down */
    int32_t supervisor_pid;         /* nonzero: our parent must be this
                                       process; checked every heartbeat,
                                       and if it is gone, shut down */
};

/* The context callbacks get (actor.h): which actor runs, and on what. */
struct airsrt_ctx {
    struct airsrt_worker *w;
    struct actor *a;                        /* NULL: the worker itself */
    const struct airsrt_envelope *env;      /* in handle, else NULL */
    struct airsrt_address self;             /* null for the worker */
};

#define AIRSRT_WORKER_NAME_MAX 63u      /* as struct airsrt_worker_sup */

struct airsrt_worker {
    struct airsrt_shm *shm;                 /* attached; not owned */
    struct airsrt_worker_opts opts;
    uint32_t index, nworkers, incarnation;  /* index: UINT32_MAX until
                                               bound */
    char name[AIRSRT_WORKER_NAME_MAX + 1];  /* its slot's, for messages */
    uint32_t payload_max;
    struct airsrt_worker_self *self;        /* shared: our page */
    struct airsrt_actor_stats *stats;       /* shared: our actors region */
    struct airsrt_doorbell *bell;           /* shared: ours */
    struct airsrt_registry reg;
    struct airsrt_msgid_gen ids;
    const struct airsrt_actor_type *const *types;
    uint32_t ntypes;

    /* actor table: chunks of AIRSRT_CHUNK_SIZE, allocated on first use */
    struct actor **chunks;
    uint32_t nchunks;
    uint32_t actors_max;                    /* highest usable slot */
    uint32_t high;                          /* next never-used slot */
    uint32_t free_slot;                     /* free list head, 0 = empty */
    uint32_t alive;                         /* actors not free */

    struct actor *runq_head, *runq_tail;
    uint64_t queued;                        /* envelopes in all mailboxes */
    uint32_t *stops;                        /* slots to stop at the next
                                               safe point */
    uint32_t nstops, stops_cap;
    bool is_stop_scan_due;                  /* the list had no memory:
                                               scan the table for them */

    struct msg_pool pool;

    struct peer *peers;                     /* by worker index */
    uint32_t *dirty;                        /* peers to flush */
    uint32_t ndirty;
    struct airsrt_ring ctl;                 /* our control ring, consumer */

    struct name_cache *names;               /* by registry id - 1 */
    uint32_t names_high;                    /* ids above were never
                                               cached */
    struct name_tree name_tree;
    uint64_t dl_name_checked_ns;            /* dead-letter name lookup */
    bool is_in_dead_letter;                 /* forwarding one now */

    /* ---- pool.c ---- */
    struct pool_tree pool_tree;             /* pools this worker used */

    uint64_t now_ns;                        /* start of this poll */
    uint64_t parent_checked_ns;             /* opts.supervisor_pid */
    uint64_t worker_downs;                  /* AIRSRT_CTL_WORKER_DOWN
                                               taken */
    /* ---- monitor.c ---- */
    struct mon_tree mon_refs;               /* monitors set here, by ref */
    struct mon_dead *mon_dead;              /* by worker index: its last
                                               incarnation announced dead;
                                               NULL until the first */
    uint64_t mon_dropped;                   /* DOWN for a monitor no longer
                                               here, DEMONITOR for none */
    uint32_t mon_remote_watchers;           /* watched-side entries whose
                                               watcher is elsewhere */
    bool is_shutting_down;
    int exit_request;                       /* status once shut down */
    int exit_status;                        /* -1 while running */
    struct airsrt_ctx root;                 /* ctx with no actor */

    /* ---- topic.c ---- */
    struct topic_id_tree topics;            /* every topic known here */
    struct topic_name_tree topic_names;     /* the same, by name */
    uint32_t topics_live;                   /* topics with subscribers
                                               here: our list's length */
    /* ---- supervision.c ---- */
    struct airsrt_address *sup_pending;     /* supervisors with children
                                               that ended, to act on at
                                               the next safe point */
    uint32_t nsup_pending, sup_pending_cap;
    bool is_supervising;                    /* acting on them now */
    bool is_sup_scan_due;                   /* the list had no memory:
                                               scan the table for them */
    /* ---- timer.c, request.c ---- */
    struct timer_heap timers;
    struct request_tree requests;
    uint32_t nrequests;
};

/* ---- worker.c: lifecycle of the worker ---- */

/*
 * Opening a worker is two steps, so that a spare (airsrt/worker.h) can
 * take the first long before it knows its index, and the second, on the
 * restart path, costs little.
 *
 * airsrt__worker_new: everything that does not depend on the index: the
 * type table, options, the registry, the actor table's first chunk, the
 * per-peer and name caches. Nothing in the segment is written. types is
 * NULL-terminated. 0 or -errno with the reason in err.
 *
 * airsrt__worker_bind, once per worker: binds it to index, whose slot's
 * incarnation the supervisor has set: takes the consumer of its inbound
 * rings and control ring (resuming where its previous incarnation left
 * off) and the producer of its outbound rings, clears the actors entries
 * its previous incarnation used and rewrites its self page. 0 or -errno
 * with the reason in err; close the worker either way.
 *
 * airsrt__worker_open: both.
 */
int airsrt__worker_new(struct airsrt_worker **out, struct airsrt_shm *shm,
                       const struct airsrt_actor_type *const *types,
                       const struct airsrt_worker_opts *opts, char *err,
                       size_t errlen);
int airsrt__worker_bind(struct airsrt_worker *w, uint32_t index, char *err,
                        size_t errlen);
int airsrt__worker_open(struct airsrt_worker **out, struct airsrt_shm *shm,
                        uint32_t index,
                        const struct airsrt_actor_type *const *types,
                        const struct airsrt_worker_opts *opts, char *err,
                        size_t errlen);

/* Worker index's name in its slot (struct airsrt_worker_sup), or the
 * index in decimal if the slot has none, cut to len - 1 bytes. */
void airsrt__worker_slot_name(const struct airsrt_shm *shm, uint32_t index,
                              char *buf, size_t len);

/* The worker's own context (no actor): spawn and send from outside. */
struct airsrt_ctx *airsrt__worker_ctx(struct airsrt_worker *w);

/* True if the len bytes at s are an actor type's name: 1 to
 * AIRSRT_TYPE_NAME_MAX of [A-Za-z0-9_.-] (airsrt/actor.h). */
bool airsrt__is_type_name(const char *s, size_t len);

/* Finds an actor type by name; NULL if this worker has none. */
const struct airsrt_actor_type *
airsrt__worker_find_type(const struct airsrt_worker *w, const char *name);

/* One turn of the event loop: drains the control and inbound rings, runs
 * actors, flushes, and sleeps up to max_wait_ns (< 0: up to the heartbeat)
 * if there was nothing to do. Returns -1 while the worker runs, else its
 * exit status (AIRSRT_EXIT_*). */
int airsrt__worker_poll(struct airsrt_worker *w, int64_t max_wait_ns);

/* ---- inject: the fault hook (worker/fault.c) ----
 * Honors a fault request for this incarnation when the segment allows
 * fault injection; otherwise returns at once. Called once a poll. */
void airsrt__fault_poll(struct airsrt_worker *w);

/* Polls until the worker ends; returns its exit status. */
int airsrt__worker_run(struct airsrt_worker *w);

/* Asks the worker to stop every actor and end with status. */
void airsrt__worker_shutdown(struct airsrt_worker *w, int status);

/* Frees everything; stops nothing (call after run, or instead of bind). */
void airsrt__worker_close(struct airsrt_worker *w);

/* ---- start.c: the start list (airsrt/worker.h) ---- */

struct airsrt_start {
    char type[AIRSRT_TYPE_NAME_MAX + 1];
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];    /* "" = none */
    uint8_t *init;                              /* malloc'd, or NULL */
    size_t init_len;
};

/* Parses a start list. 0 with *list (free with airsrt__start_list_free)
 * and *n, or -EINVAL with the reason in err. */
int airsrt__start_list_parse(const char *s, struct airsrt_start **list,
                             size_t *n, char *err, size_t errlen);
void airsrt__start_list_free(struct airsrt_start *list, size_t n);

/* Spawns the list in order as top-level actors. 0, else an exit status
 * (AIRSRT_EXIT_USAGE unknown type, AIRSRT_EXIT_START_FAILED) with the
 * reason in err. */
int airsrt__worker_start(struct airsrt_worker *w,
                         const struct airsrt_start *list, size_t n,
                         char *err, size_t errlen);

/* ---- msgpool.c ---- */

struct msg *airsrt__msg_alloc(struct msg_pool *p, uint32_t payload_len);
void airsrt__msg_free(struct msg_pool *p, struct msg *m);
void airsrt__msgpool_fini(struct msg_pool *p);

/* ---- actor.c: the actor table and lifecycle ---- */

static inline struct actor *airsrt__actor_at(const struct airsrt_worker *w,
                                             uint32_t slot)
{
    return &w->chunks[slot >> AIRSRT_CHUNK_SHIFT]
                     [slot & (AIRSRT_CHUNK_SIZE - 1)];
}

/* The live actor addr names in this worker, or NULL if it is stale. */
struct actor *airsrt__actor_find(const struct airsrt_worker *w,
                                 const struct airsrt_address *addr);

/* The context of a callback of a. */
static inline struct airsrt_ctx airsrt__actor_ctx(struct airsrt_worker *w,
                                                  struct actor *a)
{
    return (struct airsrt_ctx){ .w = w, .a = a, .self = a->addr };
}

/* Marks a for stopping at the next safe point (failed: as Failed). */
void airsrt__actor_request_stop(struct airsrt_worker *w, struct actor *a,
                                bool failed);

/* True if stops wait for the next safe point. */
bool airsrt__actor_has_stops(const struct airsrt_worker *w);

/* Stops every actor on the stop list, children first. */
void airsrt__actor_process_stops(struct airsrt_worker *w);

/* Stops every actor: the top-level ones youngest first. */
void airsrt__actor_stop_all(struct airsrt_worker *w);

/* a's handle returned err for env: applies on_error's directive. */
void airsrt__actor_fail(struct airsrt_worker *w, struct actor *a, int err,
                        const struct airsrt_envelope *env);

/* Writes a's counters to its actors entry (once per turn). */
void airsrt__actor_publish(struct airsrt_worker *w, struct actor *a);

void airsrt__actor_table_fini(struct airsrt_worker *w);

/* Ends a and everything under it now (children first), a not failed.
 * Only at a safe point, and never for an actor whose callback runs. */
void airsrt__actor_stop_now(struct airsrt_worker *w, struct actor *a);

/* ---- supervision.c: supervisor actors (airsrt/supervision.h) ---- */

/* True if a's parent is a supervisor: its failures are the supervisor's
 * to handle, and its own on_error is not asked. */
bool airsrt__supervision_is_supervised(const struct airsrt_worker *w,
                                       const struct actor *a);

/* Called by finish_one for every actor that ends: if its parent is a
 * supervisor, notes the exit for the next safe point. */
void airsrt__supervision_child_ended(struct airsrt_worker *w,
                                     const struct actor *a, bool failed);

/* At a safe point: lets every supervisor with noted exits restart (or
 * give up). Called at the end of airsrt__actor_process_stops. */
void airsrt__supervision_run_pending(struct airsrt_worker *w);

void airsrt__supervision_fini(struct airsrt_worker *w);

/* ---- mailbox.c ---- */

/*
 * Puts m in a's mailbox under its bound and overflow policy. Returns 0
 * (queued, or dropped by policy: a dead letter), or -ENOBUFS (refused by
 * AIRSRT_OVERFLOW_REJECT; m is still the caller's).
 */
int airsrt__mailbox_put(struct airsrt_worker *w, struct actor *a,
                        struct msg *m);

/* The next envelope by priority, or NULL. */
struct msg *airsrt__mailbox_take(struct airsrt_worker *w, struct actor *a);

/* Turns everything in a's mailbox into dead letters of reason. */
void airsrt__mailbox_drain(struct airsrt_worker *w, struct actor *a,
                           unsigned reason);

/* ---- scheduler.c ---- */

void airsrt__runq_push(struct airsrt_worker *w, struct actor *a);

/* Runs actors with mail, round robin, up to budget envelopes in all.
 * Returns how many it handled. */
uint32_t airsrt__run_actors(struct airsrt_worker *w, uint32_t budget);

/* Sleeps until there is work, a signal, or max_wait_ns (spinning first). */
void airsrt__idle_wait(struct airsrt_worker *w, int64_t max_wait_ns);

/* ---- send.c: building and routing envelopes ---- */

/* Routes an envelope that arrived from a ring (copied into m): to a local
 * mailbox, on to a name's holder, or to the dead letters. Envelopes to
 * nobody are commands, taken from the control ring only. */
void airsrt__route_arrived(struct airsrt_worker *w, struct msg *m,
                           bool is_ctl);

/* What a send is refused for at once, whatever its options and target:
 * -EINVAL not exactly one of to and name, or no payload for len bytes;
 * -EMSGSIZE len above payload_max; else 0. Inline: every send runs it. */
static inline int airsrt__send_check_args(const struct airsrt_worker *w,
                                          const struct airsrt_address *to,
                                          const char *name,
                                          const void *payload, uint32_t len)
{
    if ((to == NULL) == (name == NULL) || (payload == NULL && len != 0))
        return -EINVAL;
    return len > w->payload_max ? -EMSGSIZE : 0;
}

/* What a send to address to is refused for at once: 0, -EINVAL (null,
 * malformed, no such worker) or -EHOSTUNREACH (another node). */
int airsrt__send_check_address(const struct airsrt_worker *w,
                               const struct airsrt_address *to);

/* Sends a runtime envelope (a reserved type, system priority) to an
 * address, from ctx->self: airsrt_stop() of a remote actor, monitors'
 * MONITOR, DEMONITOR and DOWN. */
int airsrt__send_system(struct airsrt_ctx *ctx,
                        const struct airsrt_address *to, uint32_t type,
                        uint64_t correlation_id, const void *payload,
                        uint32_t len);

/* send_checked with envelope flags (AIRSRT_ENV_F_REQUEST): request.c. */
int airsrt__send_flagged(struct airsrt_ctx *ctx,
                         const struct airsrt_address *to, const char *name,
                         const struct airsrt_send_opts *opts, uint32_t type,
                         const void *payload, uint32_t len, uint8_t flags);

/* A node with an envelope the runtime makes itself (a timer's, a
 * request's timeout, a DOWN): type and priority, from sender to `to`
 * (NULL: nobody, for a timer sent by name), correlation_id, len bytes of
 * payload copied (payload may be NULL if len is 0); every other field 0:
 * no flags, name, reply_to, message id or deadline. NULL without
 * memory. */
struct msg *airsrt__msg_build(struct airsrt_worker *w, uint32_t type,
                              uint8_t priority,
                              const struct airsrt_address *sender,
                              const struct airsrt_address *to,
                              uint64_t correlation_id, const void *payload,
                              uint32_t len);

/* Sends m, a whole envelope but for its route and message id, to name
 * if not NULL, else to m->env.recipient, as airsrt_send_ex() would now
 * (a fired timer). m is consumed: sent, delivered, or a dead letter. */
void airsrt__send_built(struct airsrt_worker *w, struct msg *m,
                        const char *name);

/* Sends a dead-letter payload to the actor holding
 * AIRSRT_DEAD_LETTER_NAME, as the worker. */
int airsrt__send_dead_letter(struct airsrt_worker *w, const void *payload,
                             uint32_t len);

/* ---- transport.c: rings and outboxes ---- */

/* Allocates the per-peer state (before the index is known). */
int airsrt__transport_init(struct airsrt_worker *w, char *err, size_t len);

/* Binds the rings with every other worker and the control ring, each in
 * our role, resuming where the previous incarnation stopped: the control
 * ring now, the others at their first use. After
 * airsrt__transport_init. */
int airsrt__transport_open(struct airsrt_worker *w, char *err, size_t len);

/*
 * Room for an envelope of len bytes (already checked against payload_max)
 * to worker to: in its ring when nothing waits in its outbox and the ring
 * has room, else a node at the end of its outbox. Returns 0 (ring) or
 * AIRSRT_SENT_BACKPRESSURE (outbox) with *e where to build it; the caller
 * then fills it and passes that return to airsrt__transport_commit().
 * -EAGAIN: the outbox is at opts.outbox_max; -ENOMEM.
 */
int airsrt__transport_claim(struct airsrt_worker *w, uint32_t to,
                            uint32_t len, struct airsrt_envelope **e);
void airsrt__transport_commit(struct airsrt_worker *w, uint32_t to,
                              struct airsrt_envelope *e, int how);

/* Claims, copies env (payload_len trusted: local memory), commits. */
int airsrt__transport_copy(struct airsrt_worker *w, uint32_t to,
                           const struct airsrt_envelope *env);

/* Reads every inbound ring and the control ring once. Returns how many
 * envelopes it took. */
uint32_t airsrt__transport_drain(struct airsrt_worker *w);

/* Publishes what was written and drains outboxes; rings doorbells. */
void airsrt__transport_flush(struct airsrt_worker *w);

/* True if a ring holds envelopes we have not read. */
bool airsrt__transport_has_input(struct airsrt_worker *w);

/* True while some outbox holds envelopes. */
bool airsrt__transport_is_backed_up(const struct airsrt_worker *w);

/* True if a receiver released room in a ring our outbox waits on. */
bool airsrt__transport_has_room(const struct airsrt_worker *w);

/* Turns what still waits in outboxes into dead letters (unroutable): the
 * worker ends and their rings stayed full. Returns how many. */
uint64_t airsrt__transport_give_up(struct airsrt_worker *w);

void airsrt__transport_fini(struct airsrt_worker *w);

/* ---- names.c ---- */

/* Registers name for actor a (spawn option or airsrt_register). */
int airsrt__names_bind(struct airsrt_worker *w, struct actor *a,
                       const char *name);

/* Unbinds a's name, if any (a stops). */
void airsrt__names_unbind(struct airsrt_worker *w, struct actor *a);

/* Who holds registry id now: 0 with *addr (null = unbound); -ENOENT not
 * a name in use; -EAGAIN torn (after a few tries). */
int airsrt__names_lookup_id(struct airsrt_worker *w, uint32_t id,
                            struct airsrt_address *addr);

/* For a send to name: its id, its holder now (null = unbound) and its
 * last holder known here, through this worker's caches. 0, -EINVAL bad
 * name, -ENOENT no such name, -EAGAIN being written. */
int airsrt__names_route(struct airsrt_worker *w, const char *name,
                        uint32_t *id, struct airsrt_address *addr,
                        struct airsrt_address *last);

/* The registry's resolve of name and its lookup of entry id, retried a
 * while if the entry is being written: -EAGAIN only if it stays torn
 * (its writer died in it). Otherwise as airsrt_registry_resolve and
 * airsrt_registry_lookup. */
int airsrt__names_resolve(struct airsrt_worker *w, const char *name,
                          uint32_t *id, struct airsrt_address *addr);
int airsrt__names_read(struct airsrt_worker *w, uint32_t id,
                       struct airsrt_registry_record *rec);

/*
 * Adds 1 to the registry's groups_epoch (release): after this worker
 * rewrote what it publishes of its pools and topics (actors entries'
 * pool_id, the topic list of its self page); and once at bind, after the
 * actors region was cleared and the self page rewritten (its topic list
 * empty), so that senders stop counting on the members and subscribers
 * of its previous incarnation.
 */
void airsrt__groups_announce(struct airsrt_worker *w);

/*
 * The registry id of group name (kind AIRSRT_REGISTRY_POOL or
 * AIRSRT_REGISTRY_TOPIC, bound to nobody) and its entry's generation as
 * of before the entry was read; registered first if is_create and the
 * name does not exist. 0; -ENOENT no such name (not is_create); -EEXIST
 * the name is of another kind; -EAGAIN torn, or changed while read;
 * -ENOSPC and -errno as airsrt_registry_register.
 */
int airsrt__names_group_id(struct airsrt_worker *w, const char *name,
                           uint32_t kind, bool is_create, uint32_t *id,
                           uint32_t *gen);

/* Allocates the id cache ahead of the first send (it maps zero pages:
 * ids never used cost no memory). -ENOMEM. */
int airsrt__names_init(struct airsrt_worker *w);

/* Worker `worker`'s incarnation `incarnation` died: every cached holder
 * in that worker of that incarnation or an older one is looked up again
 * at its next use. */
void airsrt__names_forget_worker(struct airsrt_worker *w, uint32_t worker,
                                 uint32_t incarnation);

void airsrt__names_fini(struct airsrt_worker *w);

/* ---- pool.c: actor pools (airsrt/pool.h) ---- */

/*
 * Appends to out the members of pool pool_id that one worker's pages
 * show: entries [1, actors_high) of its actors region (entries, which
 * holds actors_max + 1 of them) that are live and name pool_id, as
 * addresses of worker index `worker` and incarnation `incarnation` (the
 * one its supervisor shows running). Nothing if the self page names
 * another incarnation. The pages are untrusted: actors_high is clamped
 * to the region, and only valid addresses come out. 0 or -ENOMEM (out
 * then holds what was found so far).
 */
int airsrt__pool_scan(const struct airsrt_actor_stats *entries,
                      uint32_t actors_max,
                      const struct airsrt_worker_self *self, uint32_t worker,
                      uint32_t incarnation, uint32_t pool_id,
                      struct pool_members *out);

/* a stops: it leaves its pool, if any (announced). */
void airsrt__pools_stopped(struct airsrt_worker *w, struct actor *a);

void airsrt__pools_fini(struct airsrt_worker *w);

/* ---- topic.c: pub/sub (airsrt/topic.h) ---- */

/* Routes an AIRSRT_ENV_F_TOPIC envelope that arrived from a ring: a copy
 * to each local subscriber, else a dead letter (no subscriber, or
 * unroutable if it names no topic or has a recipient). */
void airsrt__topic_arrived(struct airsrt_worker *w, struct msg *m);

/* Unsubscribes a, which stops, from every topic. */
void airsrt__topic_drop_actor(struct airsrt_worker *w, struct actor *a);

/*
 * Reads a worker's topic list (untrusted shared memory) into ids, whose
 * room is AIRSRT_WORKER_TOPICS_MAX: the number of ids (0 ..
 * AIRSRT_WORKER_TOPICS_MAX), or -EAGAIN if no whole copy could be read in
 * a few tries (being written, or its writer died mid-write). Never reads
 * outside *p, never loops unbounded.
 */
int airsrt__topic_page_read(const struct airsrt_worker_topics *p,
                            uint32_t ids[AIRSRT_WORKER_TOPICS_MAX]);

/* Frees every topic and subscription, also after the actor table is
 * gone (worker close). */
void airsrt__topic_fini(struct airsrt_worker *w);

/* ---- monitor.c ---- */

/* True for the type ids of airsrt/monitor.h. */
static inline bool airsrt__monitor_is_type(uint32_t type)
{
    return type >= AIRSRT_MSG_MONITOR_FIRST && type <= AIRSRT_MSG_MONITOR_LAST;
}

/* Takes m, of a monitor type, that arrived from a ring: MONITOR and
 * DEMONITOR for our actors, DOWN for our watchers (delivered only while
 * its monitor is here). Anything malformed is a dead letter. */
void airsrt__monitor_arrived(struct airsrt_worker *w, struct msg *m);

/* a's last failure was err (kept for a DOWN FAILED if it ends). */
void airsrt__monitor_note_error(struct actor *a, int err);

/* a ends (failed or not): its watchers get DOWN, its monitors go. */
void airsrt__monitor_actor_ended(struct airsrt_worker *w, struct actor *a,
                                 bool failed);

/* The supervisor announced worker's incarnation dead, ended as err (as
 * struct airsrt_down's WORKER_DIED). */
void airsrt__monitor_worker_down(struct airsrt_worker *w, uint32_t worker,
                                 uint32_t incarnation, int32_t err);

/* Frees every monitor without telling anyone (the worker is closed);
 * before airsrt__actor_table_fini. */
void airsrt__monitor_fini(struct airsrt_worker *w);
/* ---- timer.c ---- */

/* Sets a timer that sends m (built, message id unset; owned by the
 * timer from now on, also on error: then freed) to name if not NULL
 * (copied), else to m->env.recipient, delay_ns from now. 0 with *id, or
 * -ENOMEM. */
int airsrt__timer_arm(struct airsrt_worker *w, struct msg *m,
                      const char *name, uint64_t delay_ns, uint64_t *id);

/* Cancels timer id whatever set it: 0, or -ENOENT not pending. */
int airsrt__timer_disarm(struct airsrt_worker *w, uint64_t id);

/* Fires up to budget timers due at now_ns, earliest first. Returns how
 * many. */
uint32_t airsrt__timers_fire(struct airsrt_worker *w, uint64_t now_ns,
                             uint32_t budget);

/* When the next timer is due; UINT64_MAX if none is pending. */
uint64_t airsrt__timers_next_due(const struct airsrt_worker *w);

/* Frees every pending timer, unsent. */
void airsrt__timers_fini(struct airsrt_worker *w);

/* ---- request.c ---- */

/* Envelope m with AIRSRT_ENV_F_REPLY is about to be delivered to live
 * actor a: true if a request of a waits for it (the request is settled:
 * its timeout cancelled), false if not (a late reply). */
bool airsrt__request_take_reply(struct airsrt_worker *w,
                                const struct actor *a, const struct msg *m);

/* The timeout of request corr is due: forgets the request. */
void airsrt__request_expire(struct airsrt_worker *w, uint64_t corr);

void airsrt__requests_fini(struct airsrt_worker *w);

/* ---- deadletter.c ---- */

/* Counts m as a dead letter of reason, forwards it to the dead-letter
 * actor if there is one, and frees it. */
void airsrt__dead_letter(struct airsrt_worker *w, struct msg *m,
                         unsigned reason);

#endif
