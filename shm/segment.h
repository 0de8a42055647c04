/*
 * shm/segment.h - the runtime's shared-memory segment: layout, creation,
 * attachment, and the protection map.
 *
 * One segment per runtime, named "/airsrt.<runtime>", mode 0600, created
 * O_EXCL by the supervisor. Workers get it as an inherited descriptor;
 * tools attach by name. Nothing in it is a pointer: every region sits at
 * an offset recorded in the header, and every attacher recomputes the
 * layout from the header's parameters and refuses a header that disagrees,
 * so no offset read from shared memory is ever followed unchecked.
 *
 * Regions, each page-aligned so that the protection map can give a worker
 * exactly its own pages (N = nworkers, P = page size):
 *
 *   header        1 page     supervisor      struct airsrt_shm_hdr
 *   worker_sup    N x 128 B  supervisor      state, pid, incarnation
 *   worker_self   N x P      worker w        heartbeat, stats, "handling"
 *   outbound[s]   N rings    sender s        prod block (P) + buffer, for
 *                                            the ring s -> r at index r
 *   inbound[r]    (N+1)x128  receiver r      consumer blocks: index s for
 *                                            ring s -> r, index N for r's
 *                                            control ring
 *   control[r]    P + bytes  supervisor, tools  prod block + buffer
 *   doorbells     N x 64 B   everyone        futex words
 *   registry      hdr + cap  everyone        under its robust mutex
 *   actors[w]     (A+1)x40 B worker w        per-actor counters, by slot
 *                                            (A = actors_max)
 *   postmortem    N x 968 B  supervisor      last death of each worker
 *                                            (struct airsrt_postmortem);
 *                                            read-only to workers
 *
 * Pages nobody touches cost no memory, so N^2 rings are cheap until used.
 */
#ifndef AIRSRT_SHM_SEGMENT_H
#define AIRSRT_SHM_SEGMENT_H

#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "airsrt/address.h"
#include "shm/doorbell.h"
#include "shm/registry.h"
#include "shm/ring.h"

#define AIRSRT_SHM_MAGIC          0x3130545253524941ull /* "AIRSRT01" */
#define AIRSRT_SHM_VERSION        4u
#define AIRSRT_RUNTIME_NAME_MAX   63u
#define AIRSRT_SHM_PATH_MAX       (AIRSRT_RUNTIME_NAME_MAX + 9u)
#define AIRSRT_SHM_ERR_MAX        256u
#define AIRSRT_DEAD_LETTER_REASONS 8u
#define AIRSRT_WORKER_TYPE_NAMES  64u   /* actor type names a worker shows */
#define AIRSRT_TYPE_NAME_MAX      31u

/* Sizes chosen at creation. A zero field takes the default below. */
struct airsrt_shm_params {
    uint32_t nworkers;            /* 1 .. AIRSRT_MAX_WORKERS */
    uint32_t ring_bytes;          /* per data ring; power of two */
    uint32_t ctl_ring_bytes;      /* per control ring; power of two */
    uint32_t registry_capacity;   /* entries */
    uint32_t payload_max;         /* largest payload any ring carries */
    uint32_t actors_max;          /* actor slots per worker, 1 ..
                                     AIRSRT_MAX_ACTOR_SLOT */
    /* ---- inject: AIRSRT_SHM_F_*, fixed at creation like the sizes ---- */
    uint32_t flags;
};
/* [runtime] fault_injection = true (airsrt.ini(5)): workers honor the
 * fault requests of struct airsrt_worker_sup (airsrt-inject(1)). In the
 * header page, which no worker can write, so only the supervisor's
 * config can turn it on. */
#define AIRSRT_SHM_F_FAULT_INJECTION 0x1u
#define AIRSRT_SHM_F_ALL             AIRSRT_SHM_F_FAULT_INJECTION
#define AIRSRT_RING_BYTES_DEFAULT      (1u << 20)
#define AIRSRT_CTL_RING_BYTES_DEFAULT  (256u << 10)
#define AIRSRT_REGISTRY_CAP_DEFAULT    4096u
#define AIRSRT_REGISTRY_CAP_MAX        (1u << 20)
#define AIRSRT_ACTORS_MAX_DEFAULT      65536u

/* Offsets and strides in bytes from the start of the segment. */
struct airsrt_shm_layout {
    uint64_t worker_sup_off;
    uint64_t worker_self_off, worker_self_stride;
    uint64_t outbound_off, outbound_stride, ring_stride;
    uint64_t inbound_off, inbound_stride;
    uint64_t ctl_off, ctl_stride;
    uint64_t doorbell_off;
    uint64_t registry_off, registry_size;
    uint64_t actors_off, actors_stride;
    uint64_t postmortem_off;      /* airsrt-ctl: N x struct airsrt_postmortem */
    uint64_t total_size;
};

/*
 * Header, offset 0. Written by the creator before it stores magic (with
 * release) and never changed after, but for nothing: attachers load magic
 * with acquire and then read the rest. The first 16 bytes (magic, version,
 * owner_pid) keep their place in every layout version, so that a segment
 * of another version can still be identified and its owner found.
 *
 * owner_pid is the creator, and the creator is the parent of every worker
 * it starts (the supervisor forks them itself): a worker whose getppid()
 * differs from owner_pid knows its supervisor is gone. A dead owner_pid
 * is what lets the next creator reclaim a leftover segment.
 */
struct airsrt_shm_hdr {
    _Atomic uint64_t magic;
    uint32_t version;
    int32_t owner_pid;
    uint32_t page_size;
    uint32_t reserved;
    uint64_t created_realtime_ns;
    uint64_t epoch_ns;            /* CLOCK_MONOTONIC at creation */
    struct airsrt_shm_params params;
    char name[AIRSRT_RUNTIME_NAME_MAX + 1];
    struct airsrt_shm_layout layout;
};
static_assert(offsetof(struct airsrt_shm_hdr, owner_pid) == 12, "shm ABI");

enum airsrt_worker_state {
    AIRSRT_WORKER_EMPTY = 0,
    AIRSRT_WORKER_STARTING,
    AIRSRT_WORKER_RUNNING,
    AIRSRT_WORKER_STOPPING,
    AIRSRT_WORKER_STOPPED,
    AIRSRT_WORKER_CRASHED,
};

/* Supervisor-written part of a worker slot (but fault_request, which a
 * tool writes); read-only to workers. Each field is its own relaxed
 * atomic: readers (workers, tools) take a snapshot and no field promises
 * anything about another. The supervisor never crashes without its
 * workers following it, so nothing here is left half-updated for a
 * survivor. incarnation is stored before the worker's process is
 * started (fork, or for a spare the write of its go line, orders the
 * store before the worker's load); the worker reads it once, when it
 * opens, and it must not change while that incarnation lives. */
struct airsrt_worker_sup {
    alignas(64) _Atomic uint32_t state;       /* enum airsrt_worker_state */
    _Atomic int32_t pid;
    _Atomic uint32_t incarnation;             /* >= 1 once started */
    _Atomic uint32_t restarts;
    _Atomic uint64_t started_ns;
    char name[64];                            /* "group[i]", NUL-terminated */
    /* ---- inject: a fault request (airsrt-inject kill-in-lock) ----
     * (incarnation << 32) | enum airsrt_fault_request, stored (relaxed:
     * nothing else rides on it) by a tool running as the owner; 0 =
     * none. The worker of that incarnation honors it only when the
     * header's params carry AIRSRT_SHM_F_FAULT_INJECTION
     * (worker/fault.c). Nobody clears it: naming the incarnation is what
     * keeps the next one from dying of it too. No envelope can reach it:
     * only a process with the segment mapped writable (the owner's uid)
     * writes this page. */
    _Atomic uint64_t fault_request;
};
static_assert(sizeof(struct airsrt_worker_sup) == 128, "shm ABI");

/* ---- inject: what a fault request asks of its worker ---- */
enum airsrt_fault_request {
    AIRSRT_FAULT_NONE = 0,
    /* Take the registry's robust lock, then die by SIGKILL holding it.
     * The registry lock is the one a worker can hold: its own control
     * ring's lock sits in pages the protection map leaves read-only to
     * it (only the supervisor and the tools produce there). */
    AIRSRT_FAULT_DIE_IN_REGISTRY_LOCK = 1,
};

/*
 * The topics a worker has local subscribers of (airsrt/topic.h), in its
 * self page, so that a publisher knows which workers to send a copy to.
 *
 *  off  field    written by        read by      ordering
 *    0  seq      the worker alone  publishers   seqlock, see below
 *    4  ntopics  the worker alone  publishers   relaxed, under seq
 *    8  ids[]    the worker alone  publishers   relaxed, under seq
 *
 * ids[0 .. ntopics) are registry ids of AIRSRT_REGISTRY_TOPIC entries,
 * in no particular order. Writer: seq made odd (relaxed), a release
 * fence, ntopics and ids with relaxed stores, seq made even with a
 * release store; then the registry header's groups_epoch is bumped
 * (release, shm/registry.h), which is what tells publishers to read the
 * page again. Reader (worker/topic.c airsrt__topic_page_read): seq with
 * acquire (pairs with the release store), odd means retry; ntopics,
 * clamped to AIRSRT_WORKER_TOPICS_MAX, and ids with relaxed loads; an
 * acquire fence (pairs with the release fence); seq again, changed means
 * retry; a bounded number of tries. The page is untrusted: a reader never
 * believes ntopics past the array.
 *
 * What a crash leaves behind: a writer killed mid-update leaves seq odd
 * and readers give up on the page (and send to it anyway, see topic.c);
 * the worker's next incarnation rewrites the page empty when it binds and
 * bumps the epoch.
 *
 * That rewrite (self_init, worker/worker.c) zeroes the whole self page,
 * seq included, outside the seqlock: seq starts again from 0, so its
 * values repeat across incarnations, and a publisher that loaded seq
 * before the rewrite and loads it again after the new incarnation's
 * first updates can find it unchanged and accept a list mixed from the
 * two. The damage is transient: the epoch bump that follows makes every
 * publisher read the page again.
 */
#define AIRSRT_WORKER_TOPICS_MAX 64u
struct airsrt_worker_topics {
    _Atomic uint32_t seq;
    _Atomic uint32_t ntopics;
    _Atomic uint32_t ids[AIRSRT_WORKER_TOPICS_MAX];
};
static_assert(sizeof(struct airsrt_worker_topics) == 264, "shm ABI");

/* ---- airsrt-ctl: flight recorder ---- */
/*
 * The flight recorder: the last AIRSRT_FLIGHT_ENTRIES envelopes a worker
 * handled, at the end of its self page, so that the report of a crash
 * can show what led to it (airsrt-ctl postmortem).
 *
 *  off  field       written by        read by              ordering
 *    0  count       the worker alone  supervisor, tools    release store
 *    8  entries[]   the worker alone  supervisor, tools    relaxed
 *
 * count is how many envelopes were ever recorded this incarnation; the
 * entry of the n-th (0-based) is entries[n % AIRSRT_FLIGHT_ENTRIES].
 * Writer (worker/scheduler.c handle_one, the hot path): the entry's
 * fields with relaxed stores, then count + 1 with a release store; no
 * lock, no fence, no read-modify-write. Reader: count with acquire
 * (pairs with that release: entries below count are written), then the
 * last min(count, K - 1) entries with relaxed loads. A reader of a live
 * worker may see an entry being overwritten (mixed fields): the record
 * is exact only once the writer is gone, which is when the supervisor
 * copies it into the postmortem record. Everything here is untrusted
 * for its reader: count is clamped to K, addresses are validated before
 * they are printed, lengths are only printed.
 *
 * handled_ns is the worker's poll clock (CLOCK_MONOTONIC at the start
 * of the poll that handled it), not a fresh reading per envelope: a
 * clock read per message would cost more than the rest of the record.
 * sender holds a struct airsrt_address as two words, so that each store
 * is a single relaxed atomic.
 *
 * An envelope is recorded just before its handler runs, so the newest
 * entry of a worker that died in a handler (is_handling) is the envelope
 * that was being handled.
 *
 * What a crash leaves behind: the entries as they were, with the last
 * count published; a worker killed mid-record leaves entry count % K
 * mixed. Once K or more were recorded that slot also held the oldest
 * counted entry, so readers show at most the last K - 1: the mixed one
 * is never shown. The next incarnation
 * zeroes the page (and so the recorder) before it runs an actor.
 */
#define AIRSRT_FLIGHT_ENTRIES 16u
struct airsrt_flight_entry {
    _Atomic uint64_t handled_ns;
    _Atomic uint64_t message_id;
    _Atomic uint32_t type;
    _Atomic uint32_t payload_len;
    _Atomic uint64_t sender[2];               /* struct airsrt_address */
    _Atomic uint32_t recipient_slot;          /* the actor that handled it */
    _Atomic uint32_t recipient_generation;
};
static_assert(sizeof(struct airsrt_flight_entry) == 48, "shm ABI");

struct airsrt_flight_recorder {
    _Atomic uint64_t count;
    struct airsrt_flight_entry entries[AIRSRT_FLIGHT_ENTRIES];
};
static_assert(sizeof(struct airsrt_flight_recorder) == 776, "shm ABI");

/* Worker-written part of a worker slot, one page per worker, writable by
 * that worker alone; each field a relaxed atomic, read as a snapshot. A
 * crashed worker leaves it as it was at the crash: that is how a crash
 * report names what the worker was handling. While is_handling is 1,
 * handling_actor and handling_type name the handler running; otherwise
 * they are stale (the last turn's). handling_actor is not atomic, so read
 * it only once the pid says the writer is gone. The next incarnation
 * rewrites the page whole before it runs an actor: the supervisor reads
 * the report before it starts that incarnation, or loses it.
 *
 * outbox_envelopes is derived from the worker's outboxes once per poll.
 *
 * envelopes_in counts envelopes put in a mailbox here (local or from a
 * ring), envelopes_out those sent from here; dead_letters is indexed by
 * enum airsrt_dead_letter_reason (airsrt/deadletter.h). actors_high is
 * one past the highest actor slot used this incarnation: entries of the
 * actors region at or above it are zero (see the actors region).
 * type_names[i] names the actor type an actors entry with type i has
 * (NUL-terminated, cut to AIRSRT_TYPE_NAME_MAX). */
struct airsrt_worker_self {
    _Atomic uint64_t heartbeat_ns;            /* CLOCK_MONOTONIC */
    _Atomic uint32_t incarnation;             /* of the writer */
    _Atomic uint32_t is_handling;             /* 1 while in a handler */
    struct airsrt_address handling_actor;
    _Atomic uint32_t handling_type;
    _Atomic uint32_t state;                   /* enum airsrt_worker_state,
                                                 as the worker sees itself */
    _Atomic uint64_t envelopes_in;
    _Atomic uint64_t envelopes_out;
    _Atomic uint64_t dead_letters[AIRSRT_DEAD_LETTER_REASONS];
    _Atomic uint32_t actors_alive;
    _Atomic uint32_t actors_high;
    _Atomic uint64_t actors_spawned;
    _Atomic uint64_t actor_failures;          /* handler or pre_start errors */
    _Atomic uint64_t actor_restarts;
    _Atomic uint64_t forwarded;               /* sent on to a name's holder */
    _Atomic uint64_t backpressure;            /* sends that found a ring full */
    _Atomic uint64_t outbox_envelopes;        /* held for full rings now */
    _Atomic uint32_t ntypes;
    uint32_t reserved;
    char type_names[AIRSRT_WORKER_TYPE_NAMES][AIRSRT_TYPE_NAME_MAX + 1];
    /* ---- topic.c ---- */
    struct airsrt_worker_topics topics;
    /* ---- airsrt-ctl: flight recorder (scheduler.c) ---- */
    struct airsrt_flight_recorder flight;
};

/*
 * Per-actor counters: entry s of worker w's actors region describes actor
 * slot s (entry 0 is never used). Written by worker w alone, each field
 * with a relaxed store, never read back by it; tools read a snapshot, in
 * which fields may come from different moments. The scheduler publishes
 * depth, handled and last_ns once per turn of the actor, not per message,
 * so they lag by at most one turn.
 *
 *  off  field       meaning
 *    0  generation  of the slot's actor (its address); 0 = never used
 *    4  state       enum airsrt_actor_state (airsrt/actor.h)
 *    5  reserved
 *    6  type        index into the worker's type_names
 *    8  depth       mailbox depth after its last turn
 *   12  name_id     registry id of its registered name, 0 = none
 *   16  restarts    since it was spawned
 *   20  pool_id     registry id of the pool it is a member of, 0 =
 *                   none (airsrt/pool.h)
 *   24  handled     envelopes handled since it was spawned
 *   32  last_ns     CLOCK_MONOTONIC of its last turn, 0 = none yet
 *
 * pool_id is written on join and leave and cleared when the actor stops,
 * before the worker adds 1 to the registry's groups_epoch (release; see
 * shm/registry.h), so that senders that read the epoch with acquire see
 * it. The members of pool P, as senders find them (worker/pool.c), are
 * the entries that name P and are live: state starting, running or
 * stopping, and generation not 0 (a sender's copy of the address carries
 * it, and the entry speaks for that member only while it matches); in a
 * worker whose supervisor part (struct airsrt_worker_sup) shows state
 * starting, running or stopping and the same incarnation as its self
 * page. Two orderings make that test sound:
 *  - a worker resets its actors region (see below) before it stores
 *    self->incarnation, with release; readers load self->incarnation
 *    with acquire (pairs with that store) before they read the entries,
 *    so entries read under a matching incarnation are that
 *    incarnation's, not its predecessor's;
 *  - after a death the supervisor stores state CRASHED or STOPPED in the
 *    supervisor part before its release fetch_add of groups_epoch
 *    (supervisor/recovery.c), so a sender that loads the new epoch with
 *    acquire no longer takes the dead worker's entries for members.
 *
 * What a crash leaves behind: whatever the entries said. Entries at or
 * above the worker's actors_high (struct airsrt_worker_self) are zero: an
 * incarnation writes an entry only once actors_high covers it, and its
 * successor zeroes the entries below that actors_high before it lowers
 * actors_high or spawns anything.
 */
struct airsrt_actor_stats {
    _Atomic uint32_t generation;
    _Atomic uint8_t state;
    uint8_t reserved;
    _Atomic uint16_t type;
    _Atomic uint32_t depth;
    _Atomic uint32_t name_id;
    _Atomic uint32_t restarts;
    _Atomic uint32_t pool_id;
    _Atomic uint64_t handled;
    _Atomic uint64_t last_ns;
};
static_assert(sizeof(struct airsrt_actor_stats) == 40, "shm ABI");
static_assert(offsetof(struct airsrt_actor_stats, handled) == 24, "shm ABI");
static_assert(offsetof(struct airsrt_actor_stats, pool_id) == 20, "shm ABI");

/* ---- airsrt-ctl: postmortem records ---- */
/*
 * The postmortem record of worker w: its last death (not a normal exit),
 * one per worker slot in the postmortem region, so that airsrt-ctl
 * postmortem can show it after the restart has rewritten the self page.
 *
 * Written by the supervisor alone (supervisor/recovery.c), after the
 * worker's process is gone and before its next incarnation is started,
 * from the dead incarnation's self page (still as the crash left it) and
 * from how the process ended. Read by tools, lock-free, with a seqlock:
 * the writer makes seq odd (relaxed), a release fence, the fields with
 * plain stores, seq even with a release store; the reader loads seq
 * with acquire (odd: retry), copies the record, an acquire fence, seq
 * again (changed: retry), a bounded number of tries. deaths counts the
 * records ever written for this slot; 0 means no death recorded.
 *
 *  field         meaning
 *  seq           seqlock, see above
 *  deaths        records written so far
 *  incarnation   of the worker that died
 *  pid           its process id
 *  status        exit status, or -1 when a signal ended it
 *  signal        the signal that ended it, or 0
 *  reason        enum airsrt_postmortem_reason
 *  is_handling   1 if it died inside a handler: actor, actor_type,
 *                actor_name and message_type then name it; else they
 *                are empty (actor null)
 *  died_ns       CLOCK_REALTIME when the supervisor learnt of the death
 *  uptime_ns     how long that incarnation had run
 *  flight        copy of its flight recorder (see above)
 *
 * Untrusted for tools like any shared memory: strings are read up to
 * their array's end, counts clamped, addresses validated.
 * What a crash leaves behind: the supervisor dying mid-write leaves seq
 * odd; its workers follow it, but the segment stays until a rerun
 * reclaims it, and a tool reading it meanwhile gives up on that record
 * after its tries.
 */
enum airsrt_postmortem_reason {
    AIRSRT_PM_CRASHED = 0,          /* a signal or a non-zero exit status */
    AIRSRT_PM_HANG,                 /* killed by the supervisor, heartbeat */
    AIRSRT_PM_ESCALATED,            /* actor supervision gave up */
};

/* "crashed", "hang" or "escalated": how airsrt-ctl shows a reason and
 * the event log names the death. "?" for any other value: tools read it
 * from shared memory. */
const char *airsrt_postmortem_reason_name(uint32_t reason);

struct airsrt_postmortem {
    _Atomic uint32_t seq;
    _Atomic uint32_t deaths;
    uint32_t incarnation;
    int32_t pid;
    int32_t status;
    int32_t signal;
    uint32_t reason;
    uint32_t is_handling;
    uint64_t died_ns;
    uint64_t uptime_ns;
    struct airsrt_address actor;
    uint32_t message_type;
    uint32_t reserved;
    char actor_type[AIRSRT_TYPE_NAME_MAX + 1];
    char actor_name[AIRSRT_REGISTRY_NAME_MAX + 1];
    struct airsrt_flight_recorder flight;
};
static_assert(sizeof(struct airsrt_postmortem) == 968, "shm ABI");
static_assert(offsetof(struct airsrt_postmortem, flight) == 192, "shm ABI");

/* A process's view of a segment. Not shared. */
struct airsrt_shm {
    uint8_t *base;
    size_t size;
    int fd;
    bool is_owner;                /* created it: destroy unlinks it */
    bool is_ro;                   /* airsrt-ctl: attached read-only */
    struct airsrt_shm_hdr *hdr;
    struct airsrt_shm_params params;    /* validated copies */
    struct airsrt_shm_layout layout;
    char path[AIRSRT_SHM_PATH_MAX + 1];
    char err[AIRSRT_SHM_ERR_MAX];       /* why the last call failed */
};

/* CLOCK_REALTIME in ns: the wall clock, for times people read (the
 * header's created_realtime_ns, a postmortem's died_ns); airsrt_now_ns()
 * is the clock of deadlines. */
uint64_t airsrt_realtime_ns(void);

/* 0 if name is a valid runtime name (1-63 of [A-Za-z0-9_.-], not starting
 * with '.' or '-'), else -EINVAL. */
int airsrt_shm_name_validate(const char *name);

/* Fills zero fields of p with defaults and checks it: 0 or -EINVAL, with
 * the reason in err. */
int airsrt_shm_params_check(struct airsrt_shm_params *p, char *err, size_t len);

/* Computes the layout of p (already checked) for this page size. */
void airsrt_shm_layout_compute(const struct airsrt_shm_params *p,
                               uint32_t page_size,
                               struct airsrt_shm_layout *l);

/*
 * Creates the segment of runtime name, sized and laid out from p, owned by
 * this process. A leftover segment whose owner is dead is reclaimed; one
 * whose owner lives is refused with -EBUSY. On failure nothing is left
 * behind and shm->err says why.
 */
int airsrt_shm_create(struct airsrt_shm *shm, const char *name,
                      const struct airsrt_shm_params *p);

/* Attaches by name (tools; needs the owner's uid). -ENOENT: no such
 * runtime; -EPROTO: not an airsrt segment, or too small; -EPROTONOSUPPORT:
 * another layout version. shm->err says which. */
int airsrt_shm_attach(struct airsrt_shm *shm, const char *name);

/* airsrt-ctl: as airsrt_shm_attach, but opens and maps the segment
 * read-only, for tools that only look: a stray store faults. -EACCES:
 * no permission on the segment. */
int airsrt_shm_attach_ro(struct airsrt_shm *shm, const char *name);

/* Attaches an inherited descriptor (workers); takes ownership of fd. */
int airsrt_shm_attach_fd(struct airsrt_shm *shm, int fd);

/* Unmaps and closes. Safe on a zeroed or failed shm. */
void airsrt_shm_detach(struct airsrt_shm *shm);

/* Unlinks the name (any attacher may; the owner does at shutdown) and
 * detaches. */
int airsrt_shm_destroy(struct airsrt_shm *shm);

/*
 * The protection map: maps the whole segment read-only for this process,
 * then gives write access back to what worker w must write: its outbound
 * rings, its inbound consumer blocks, its worker_self page, its actors
 * region, the doorbells and the registry. A stray write anywhere else
 * (the postmortem records included) faults in w. 0 or -errno.
 */
int airsrt_shm_protect_for_worker(struct airsrt_shm *shm, uint32_t w);

/* Region accessors; NULL or -EINVAL for an index out of range. */
struct airsrt_worker_sup *airsrt_shm_worker_sup(const struct airsrt_shm *shm,
                                                uint32_t w);
struct airsrt_worker_self *airsrt_shm_worker_self(const struct airsrt_shm *shm,
                                                  uint32_t w);
struct airsrt_doorbell *airsrt_shm_doorbell(const struct airsrt_shm *shm,
                                            uint32_t w);
struct airsrt_registry_hdr *airsrt_shm_registry(const struct airsrt_shm *shm);
/* Entry 0 of worker w's actors region (actors_max + 1 entries). */
struct airsrt_actor_stats *airsrt_shm_actor_stats(const struct airsrt_shm *shm,
                                                  uint32_t w);

/* airsrt-ctl: worker w's postmortem record; NULL past nworkers. */
struct airsrt_postmortem *airsrt_shm_postmortem(const struct airsrt_shm *shm,
                                                uint32_t w);

/* Binds r to the data ring from -> to; the caller then attaches a role. */
int airsrt_shm_data_ring(const struct airsrt_shm *shm, uint32_t from,
                         uint32_t to, struct airsrt_ring *r);

/* Binds r to worker w's control ring. */
int airsrt_shm_ctl_ring(const struct airsrt_shm *shm, uint32_t w,
                        struct airsrt_ring *r);

/* Pushes e on worker w's control ring (airsrt_ctl_push: takes its robust
 * lock) and, once it is there, rings w's doorbell so that a sleeping
 * worker reads it. 0, -EINVAL no such worker, or as airsrt_ctl_push. */
int airsrt_shm_ctl_send(const struct airsrt_shm *shm, uint32_t w,
                        const struct airsrt_envelope *e);

#endif
