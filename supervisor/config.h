/*
 * supervisor/config.h - the runtime's config file (INI, read with
 * libinih), loaded into plain structures the supervisor runs from.
 *
 * The format is documented for users in airsrt.ini(5) and the README:
 *
 *   [runtime]            once: name, ring sizes, payload maximum, event
 *                        log, heartbeat interval and hang timeout
 *   [supervisor NAME]    strategy, restart intensity, backoff, parent
 *   [worker NAME]        a group of `count` identical worker processes
 *
 * The tree: a supervisor without `parent` is the root (exactly one); a
 * worker group names its supervisor (default: the root). A supervisor's
 * children are the groups and supervisors that name it, in the order
 * their sections appear in the file; a group of count N is N children,
 * GROUP[0] .. GROUP[N-1]. Worker indexes in the segment are given depth
 * first in that order, so the tree's start order is the index order.
 *
 * Loading never starts anything and never changes anything outside the
 * structure: `airsrt-run --check FILE` is exactly a load.
 */
#ifndef AIRSRT_SUPERVISOR_CONFIG_H
#define AIRSRT_SUPERVISOR_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "airsrt/supervision.h"
#include "shm/segment.h"

#define AIRSRT_CONFIG_NAME_MAX   47u    /* supervisor and group names */
/* The bytes a supervisor or group name may hold. */
#define AIRSRT_CONFIG_NAME_CHARS "abcdefghijklmnopqrstuvwxyz" \
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
#define AIRSRT_CONFIG_ERR_MAX    512u
/* The longest start list (airsrt/worker.h) a worker can be given, NUL
 * included: a load refuses actor lines that would make a longer one. */
#define AIRSRT_CONFIG_START_LIST_MAX 8000u
/* Defaults of keys the file leaves out. */
#define AIRSRT_HEARTBEAT_MS_DEFAULT     100u
#define AIRSRT_HANG_TIMEOUT_MS_DEFAULT  5000u
#define AIRSRT_SHUTDOWN_MS_DEFAULT      5000u
#define AIRSRT_MAX_RESTARTS_DEFAULT     3u   /* OTP's intensity default is */
#define AIRSRT_MAX_SECONDS_DEFAULT      5u   /* 1 in 5 s; one crash then a
                                                second is common enough */

/* enum airsrt_strategy and enum airsrt_restart: airsrt/supervision.h,
 * the same words for worker processes here and for actors there. */

/* OTP's auto_shutdown: what a supervisor does when a significant child
 * (a transient or temporary group with significant = true) ends on its
 * own, normally. Past the root, shutting down ends the runtime, exit 0. */
enum airsrt_auto_shutdown {
    AIRSRT_AUTO_SHUTDOWN_NEVER = 0,
    AIRSRT_AUTO_SHUTDOWN_ANY,       /* any_significant */
    AIRSRT_AUTO_SHUTDOWN_ALL,       /* all_significant */
};

/* [runtime] */
struct airsrt_config_runtime {
    char name[AIRSRT_RUNTIME_NAME_MAX + 1];   /* required */
    /* ring_bytes, ctl_ring_bytes, payload_max, registry_capacity,
     * actors_max as the keys give them, 0 where absent (the segment's
     * defaults); nworkers is the tree's worker count. Checked with
     * airsrt_shm_params_check at load. flags: fault_injection = true
     * sets AIRSRT_SHM_F_FAULT_INJECTION (inject). */
    struct airsrt_shm_params shm;
    /* event_log = PATH (relative to the config file's folder) or
     * "stderr" (default): one JSON object per line. */
    char event_log[PATH_MAX];
    uint32_t heartbeat_ms;        /* how often an idle worker beats */
    uint32_t hang_timeout_ms;     /* a heartbeat older is a hang; > beat */
};

/* [supervisor NAME] */
struct airsrt_config_supervisor {
    char name[AIRSRT_CONFIG_NAME_MAX + 1];
    int parent;                   /* index in supervisors[], -1 = root */
    enum airsrt_strategy strategy;            /* default one_for_one */
    uint32_t max_restarts;        /* more than this many restarts ... */
    uint32_t max_seconds;         /* ... within this many: fail upward */
    /* Restart backoff: 0 = restart at once. The n-th consecutive restart
     * of one child waits min(initial * 2^(n-1), max) ms (max 0: 60000),
     * less up to jitter percent of it, drawn with arc4random. */
    uint32_t backoff_initial_ms;
    uint32_t backoff_max_ms;
    uint32_t backoff_jitter_pct;  /* 0 .. 100 */
    enum airsrt_auto_shutdown auto_shutdown;
    unsigned line;                /* of its section header */
};

/* One `actor =` line: a start-list entry (airsrt/worker.h) for every
 * worker of the group. "{i}" in it stands for the worker's index in its
 * group (0 .. count-1), so that each can register its own name. */
struct airsrt_config_actor {
    char *entry;                  /* as written, malloc'd */
    unsigned line;
};

/* [worker NAME]: a group of count identical workers. */
struct airsrt_config_group {
    char name[AIRSRT_CONFIG_NAME_MAX + 1];
    int supervisor;               /* index in supervisors[] */
    char binary[PATH_MAX];        /* resolved: absolute, or relative to
                                     the config file's folder */
    char **argv;                  /* argv[0] = binary as written, then
                                     args split at blanks; NULL-ended */
    uint32_t count;               /* default 1 */
    enum airsrt_restart restart;  /* default permanent */
    bool is_significant;          /* see auto_shutdown */
    uint32_t shutdown_ms;         /* SIGTERM, this long, then SIGKILL */
    bool has_spare;               /* keep one pre-forked spare ready */
    struct airsrt_config_actor *actors;
    size_t nactors;
    char **env;                   /* "KEY=value" strings, NULL-ended */
    size_t nenv;
    bool has_user, has_group;
    uid_t uid;                    /* user = NAME or number */
    gid_t gid;                    /* group = NAME or number; default: the
                                     user's primary group when user is set */
    /* Resource limits, applied as soft = hard; RLIM_INFINITY = not set.
     * limit_as and limit_nofile take K/M/G suffixes (powers of 1024). */
    rlim_t limit_as;              /* bytes of address space */
    rlim_t limit_nofile;          /* open files */
    rlim_t limit_cpu;             /* CPU seconds */
    unsigned line;                /* of its section header */
};

struct airsrt_config {
    char path[PATH_MAX];          /* as given, for messages */
    char dir[PATH_MAX];           /* its folder: relative paths start here */
    struct airsrt_config_runtime runtime;
    struct airsrt_config_supervisor *supervisors;   /* file order */
    size_t nsupervisors;
    int root;                     /* index of the root supervisor */
    struct airsrt_config_group *groups;             /* file order */
    size_t ngroups;
    uint32_t nworkers;            /* sum of the groups' counts */
};

/*
 * Loads the file at path into cfg (which it initializes; free it with
 * airsrt_config_free whatever the result). 0; -EINVAL: the file is wrong,
 * and err says "PATH:LINE: [SECTION] KEY: what is wrong" (the first
 * error; LINE and KEY left out where they mean nothing); -errno: it could
 * not be read, err says why.
 */
int airsrt_config_load(struct airsrt_config *cfg, const char *path,
                       char *err, size_t len);

/* As airsrt_config_load, from text in memory: path is only the name used
 * in messages, dir the folder relative paths start from. */
int airsrt_config_parse(struct airsrt_config *cfg, const char *text,
                        size_t size, const char *path, const char *dir,
                        char *err, size_t len);

/* Frees what a load allocated; safe on a failed or zeroed cfg. */
void airsrt_config_free(struct airsrt_config *cfg);

/*
 * The start list (airsrt/worker.h) for worker index i of group g: its
 * actor entries joined with ',' and "{i}" replaced. 0 or -ENOSPC when it
 * does not fit len bytes.
 */
int airsrt_config_start_list(const struct airsrt_config_group *g,
                             uint32_t i, char *buf, size_t len);

const char *airsrt_strategy_name(enum airsrt_strategy s);
const char *airsrt_restart_name(enum airsrt_restart r);

#endif
