/*
 * worker/worker_main.c - airsrt_worker_main(): a worker binary's main,
 * started by the supervisor (everything in the environment) or by hand
 * with --standalone (a private one-worker runtime). See airsrt/worker.h
 * for the interface and the exit statuses.
 *
 * Everything read from the environment and the command line is checked,
 * and every refusal says what was wrong on stderr, prefixed with the
 * program's name. SIGTERM and SIGINT only set a flag (the poll loop stops
 * the actors in order); the standalone runtime's segment is removed on
 * every way out but SIGKILL, and the next creator reclaims it then.
 *
 * Under a supervisor it also keeps the rest of the contract: the ready
 * byte, spare mode (everything but the index prepared before the wait,
 * so that a restart from a spare costs little past its line), dying with
 * the supervisor (PR_SET_PDEATHSIG and a parent check at open; worker.c
 * checks again every heartbeat), and the process title. It never runs an
 * actor once it knows the supervisor is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <bsd/unistd.h>

#include "worker/worker_impl.h"

#define SPIN_US_MAX       1000000u
#define HEARTBEAT_MS_MAX  60000u

static volatile sig_atomic_t g_stop;
static bool g_has_title;        /* setproctitle_init took our argv */

static void on_stop_signal(int sig)
{
    g_stop = sig;
}

static int say(const char *prog, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(const char *prog, int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

static void usage(const char *prog,
                  const struct airsrt_actor_type *const types[])
{
    fprintf(stderr,
            "%s is an airsrt worker: start it with airsrt-run and a config "
            "that names it,\nor alone, by hand:\n"
            "  %s --standalone [--runtime NAME] [--actors-max N] ACTOR...\n"
            "ACTOR is TYPE[@NAME][=INIT]; this binary's types:", prog, prog);
    for (size_t i = 0; types != NULL && types[i] != NULL; i++)
        fprintf(stderr, " %s", types[i]->name ? types[i]->name : "?");
    fputc('\n', stderr);
}

/* A decimal number without sign, blanks or suffix, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* An optional environment variable between min and max; *out keeps its
 * value when the variable is unset. */
static int env_number(const char *prog, const char *var, uint64_t min,
                      uint64_t max, uint64_t *out)
{
    const char *s = getenv(var);
    uint64_t v;

    if (s == NULL)
        return 0;
    if (parse_u64(s, max, &v) < 0 || v < min)
        return say(prog, -EINVAL, "%s=\"%s\" is not a number between %"
                   PRIu64 " and %" PRIu64, var, s, min, max);
    *out = v;
    return 0;
}

static int opts_from_env(const char *prog, struct airsrt_worker_opts *o)
{
    uint64_t spin_us = AIRSRT_SPIN_NS_DEFAULT / 1000;
    uint64_t beat_ms = AIRSRT_HEARTBEAT_NS_DEFAULT / 1000000;

    if (env_number(prog, AIRSRT_ENV_SPIN_US, 0, SPIN_US_MAX, &spin_us) < 0 ||
        env_number(prog, AIRSRT_ENV_HEARTBEAT_MS, 1, HEARTBEAT_MS_MAX,
                   &beat_ms) < 0)
        return -EINVAL;
    *o = (struct airsrt_worker_opts){ .spin_ns = spin_us * 1000,
                                      .heartbeat_ns = beat_ms * 1000000,
                                      .stop_flag = &g_stop };
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa = { .sa_handler = on_stop_signal };

    /* No SA_RESTART: a signal must end the doorbell's futex wait. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- what a supervisor asks of its workers (airsrt/worker.h) ---- */

/* Takes the process's argv and environment over for the title: the
 * title is written over their memory, whose strings setproctitle_init
 * copies first. Only the process's own argv (a test may call main with
 * its own array, maybe in read-only memory) is taken. Returns the
 * program's name to use from now on: argv[0] is about to be overwritten. */
static const char *title_init(int argc, char **argv, const char *prog)
{
    if (g_has_title || argc < 1 || argv[0] != program_invocation_name)
        return prog;
    setproctitle_init(argc, argv, environ);
    g_has_title = true;
    return getprogname();
}

/* "airsrt: RUNTIME/what" in ps, if the title is ours to set. */
static void title_set(const struct airsrt_shm *shm, const char *what)
{
    if (g_has_title)
        setproctitle("-airsrt: %.*s/%s", (int)AIRSRT_RUNTIME_NAME_MAX,
                     shm->hdr->name, what);
}

/*
 * True if our supervisor - the segment's owner - is still our parent.
 * Asks first for SIGTERM when the parent dies: a parent that dies after
 * that sends it, one that died before has handed us to another process
 * already. If it is gone, says so (as name) and the caller exits 0.
 */
static bool is_supervisor_here(const struct airsrt_shm *shm, const char *name)
{
    pid_t owner = shm->hdr->owner_pid;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == owner)
        return true;
    fprintf(stderr, "airsrt worker %s: supervisor (pid %d) is gone; "
            "shutting down\n", name, (int)owner);
    return false;
}

/* An optional variable naming an inherited descriptor: *fd = -1 when it
 * is unset. The descriptor is made close-on-exec: no program an actor
 * starts holds the supervisor's pipe open. */
static int env_descriptor(const char *prog, const char *var, int *fd)
{
    const char *s = getenv(var);
    uint64_t v;

    *fd = -1;
    if (s == NULL)
        return 0;
    if (parse_u64(s, INT32_MAX, &v) < 0 || fcntl((int)v, F_GETFD) < 0)
        return say(prog, -EINVAL, "%s=\"%s\" is not an open descriptor", var,
                   s);
    fcntl((int)v, F_SETFD, FD_CLOEXEC);
    *fd = (int)v;
    return 0;
}

/* Tells whoever waits on fd that every listed actor has started. */
static void ready_tell(int fd)
{
    static const char ready = 'R';

    /* Nobody reading (EPIPE: SIGPIPE is ignored) is the supervisor's
     * business: it kills a worker it stopped waiting for. */
    while (write(fd, &ready, 1) < 0 && errno == EINTR)
        ;
    close(fd);
}

/* How a worker was started, for run_worker. */
struct launch {
    const char *prog;
    const char *source;         /* where the start list came from */
    int ready_fd;               /* 'R' once started; -1: nobody waits */
    bool is_supervised;         /* set the title */
};

/* Makes w (new, not bound) worker index of its segment, starts the list
 * and runs it until it ends; returns its exit status. */
static int run_worker(const struct launch *l, struct airsrt_worker *w,
                      uint32_t index, const struct airsrt_start *list,
                      size_t n)
{
    char err[512];
    int rc, status;

    rc = airsrt_shm_protect_for_worker(w->shm, index);
    if (rc < 0)
        return say(l->prog, AIRSRT_EXIT_SYSTEM, "cannot protect the segment "
                   "for worker %u: %s", index, strerror(-rc));
    rc = airsrt__worker_bind(w, index, err, sizeof(err));
    if (rc < 0)
        return say(l->prog, rc == -ENOMEM ? AIRSRT_EXIT_SYSTEM
                                          : AIRSRT_EXIT_USAGE, "%s", err);
    if (l->is_supervised)
        title_set(w->shm, w->name);
    if (airsrt__worker_start(w, list, n, err, sizeof(err)) != 0) {
        say(l->prog, 0, "%s: %s", l->source, err);
        if (l->ready_fd >= 0)       /* no 'R': its end sees end of file */
            close(l->ready_fd);
    } else if (l->ready_fd >= 0) {
        ready_tell(l->ready_fd);
    }
    status = airsrt__worker_run(w);
    if (status == AIRSRT_EXIT_ESCALATED)
        say(l->prog, 0, "an actor's failure escalated past the worker's "
            "top-level actors: exiting %d", status);
    return status;
}

/* The worker's options, and its types checked, before it has an index.
 * supervised: it watches its parent. 0, or an exit status. */
static int worker_new(const char *prog, struct airsrt_shm *shm,
                      const struct airsrt_actor_type *const types[],
                      bool supervised, struct airsrt_worker **w)
{
    struct airsrt_worker_opts opts;
    char err[512];
    int rc;

    if (opts_from_env(prog, &opts) < 0)
        return AIRSRT_EXIT_USAGE;
    if (supervised)
        opts.supervisor_pid = shm->hdr->owner_pid;
    rc = airsrt__worker_new(w, shm, types, &opts, err, sizeof(err));
    if (rc < 0)
        return say(prog, rc == -ENOMEM ? AIRSRT_EXIT_SYSTEM
                                       : AIRSRT_EXIT_USAGE, "%s", err);
    return 0;
}

/* Worker index of an attached segment, as its supervisor started it. */
static int run_supervised(const char *prog, struct airsrt_shm *shm,
                          uint32_t index, int ready_fd,
                          const struct airsrt_start *list, size_t n,
                          const struct airsrt_actor_type *const types[])
{
    const struct launch l = { .prog = prog, .source = AIRSRT_ENV_ACTORS,
                              .ready_fd = ready_fd, .is_supervised = true };
    struct airsrt_worker *w;
    char name[AIRSRT_WORKER_NAME_MAX + 1];
    int status;

    install_signals();
    airsrt__worker_slot_name(shm, index, name, sizeof(name));
    if (!is_supervisor_here(shm, name))
        return AIRSRT_EXIT_OK;
    status = worker_new(prog, shm, types, true, &w);
    if (status != 0)
        return status;
    status = run_worker(&l, w, index, list, n);
    airsrt__worker_close(w);
    return status;
}

/* ---- spare ---- */

#define SPARE_LINE_MAX 16384u

/*
 * Waits for the spare's line on sock: 0 with it in buf, its '\n' made
 * the end of the string; -EPIPE at end of file, on SIGTERM or SIGINT,
 * or if no line fits buf. The stop signals are let in only inside the
 * wait (ppoll), so one that came before it is not slept through.
 */
static int spare_wait(int sock, char *buf, size_t len)
{
    sigset_t stops, old;
    size_t used = 0;
    int rc = -EPIPE;

    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_BLOCK, &stops, &old);
    while (g_stop == 0 && used + 1 < len) {
        struct pollfd p = { .fd = sock, .events = POLLIN };
        ssize_t got;
        char *nl;

        if (ppoll(&p, 1, NULL, &old) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got = read(sock, buf + used, len - 1 - used);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            break;
        nl = memchr(buf + used, '\n', (size_t)got);
        used += (size_t)got;
        if (nl != NULL) {
            *nl = '\0';
            rc = 0;
            break;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* "W" or "W ACTORS" (the line without its '\n'): the index, and the
 * start list if the line has one (else NULL). -EINVAL if malformed. */
static int spare_line_parse(char *line, uint64_t *index, const char **actors)
{
    char *space = strchr(line, ' ');

    *actors = NULL;
    if (space != NULL) {
        *space = '\0';
        if (space[1] != '\0')
            *actors = space + 1;
    }
    return parse_u64(line, AIRSRT_MAX_WORKERS - 1, index);
}

/* The spare, told its index, runs as that worker: with the start list of
 * its line (actors) or else of its environment (env_list). */
static int spare_become(const char *prog, struct airsrt_worker *w, int sock,
                        uint64_t index, const char *actors,
                        const struct airsrt_start *env_list, size_t env_n)
{
    struct launch l = { .prog = prog, .source = AIRSRT_ENV_ACTORS,
                        .ready_fd = sock, .is_supervised = true };
    struct airsrt_start *list;
    size_t n;
    char err[512];
    int status;

    if (index >= w->nworkers)
        return say(prog, AIRSRT_EXIT_USAGE, "spare told worker %" PRIu64
                   ": the runtime has only %u workers", index, w->nworkers);
    if (actors == NULL) {
        if (env_n == 0)
            return say(prog, AIRSRT_EXIT_USAGE, "%s names no actors to "
                       "start", AIRSRT_ENV_ACTORS);
        return run_worker(&l, w, (uint32_t)index, env_list, env_n);
    }
    if (airsrt__start_list_parse(actors, &list, &n, err, sizeof(err)) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "the spare's start list: %s",
                   err);
    l.source = "the spare's start list";
    status = run_worker(&l, w, (uint32_t)index, list, n);
    airsrt__start_list_free(list, n);
    return status;
}

/* Everything that does not need the index, then the wait for it. */
static int spare_run(const char *prog, struct airsrt_shm *shm, int sock,
                     const struct airsrt_actor_type *const types[])
{
    const char *env_actors = getenv(AIRSRT_ENV_ACTORS);
    struct airsrt_start *env_list = NULL;
    struct airsrt_worker *w;
    size_t env_n = 0;
    uint64_t index;
    const char *actors;
    char err[512], line[SPARE_LINE_MAX];
    int status;

    install_signals();
    if (!is_supervisor_here(shm, "spare"))
        return AIRSRT_EXIT_OK;
    if (env_actors != NULL && *env_actors != '\0' &&
        airsrt__start_list_parse(env_actors, &env_list, &env_n, err,
                                 sizeof(err)) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s: %s", AIRSRT_ENV_ACTORS, err);
    status = worker_new(prog, shm, types, true, &w);
    if (status == 0) {
        /* The protection map starts by making the whole segment
         * read-only: done now, it is one VMA change less on the way from
         * the line to ready (it fails only if the mapping is gone). A
         * spare writes nothing shared until it is told its index. */
        mprotect(shm->base, shm->size, PROT_READ);
        title_set(shm, "spare");
        /* End of file or a bad line: the supervisor is shutting down. */
        if (spare_wait(sock, line, sizeof(line)) == 0 &&
            spare_line_parse(line, &index, &actors) == 0)
            status = spare_become(prog, w, sock, index, actors, env_list,
                                  env_n);
        airsrt__worker_close(w);
    }
    airsrt__start_list_free(env_list, env_n);
    return status;
}

/* A spare process (airsrt/worker.h): AIRSRT_SPARE_FD instead of
 * AIRSRT_WORKER. */
static int spare(const char *prog, int fd, const char *index_s,
                 const struct airsrt_actor_type *const types[])
{
    struct airsrt_shm shm;
    int sock, status;

    if (index_s != NULL)
        return say(prog, AIRSRT_EXIT_USAGE, "%s and %s are both set: a "
                   "spare learns its index from its supervisor",
                   AIRSRT_ENV_SPARE_FD, AIRSRT_ENV_WORKER);
    if (env_descriptor(prog, AIRSRT_ENV_SPARE_FD, &sock) < 0)
        return AIRSRT_EXIT_USAGE;
    if (airsrt_shm_attach_fd(&shm, fd) < 0)
        return say(prog, AIRSRT_EXIT_SYSTEM, "%s", shm.err);
    status = spare_run(prog, &shm, sock, types);
    airsrt_shm_detach(&shm);
    return status;
}

/* AIRSRT_WORKER, AIRSRT_ACTORS and AIRSRT_READY_FD, checked: 0 with the
 * start list (free it), or an exit status. */
static int worker_env(const char *prog, uint64_t *index,
                      struct airsrt_start **list, size_t *n, int *ready_fd)
{
    const char *index_s = getenv(AIRSRT_ENV_WORKER);
    const char *actors = getenv(AIRSRT_ENV_ACTORS);
    char err[512];

    if (index_s == NULL || parse_u64(index_s, AIRSRT_MAX_WORKERS - 1,
                                     index) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s must be set to a worker "
                   "index below %u", AIRSRT_ENV_WORKER, AIRSRT_MAX_WORKERS);
    if (actors == NULL || *actors == '\0')
        return say(prog, AIRSRT_EXIT_USAGE, "%s names no actors to start",
                   AIRSRT_ENV_ACTORS);
    if (airsrt__start_list_parse(actors, list, n, err, sizeof(err)) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s: %s", AIRSRT_ENV_ACTORS, err);
    if (env_descriptor(prog, AIRSRT_ENV_READY_FD, ready_fd) < 0) {
        airsrt__start_list_free(*list, *n);
        return AIRSRT_EXIT_USAGE;
    }
    return 0;
}

static int supervised(const char *prog,
                      const struct airsrt_actor_type *const types[])
{
    const char *fd_s = getenv(AIRSRT_ENV_FD);
    struct airsrt_start *list = NULL;
    struct airsrt_shm shm;
    uint64_t fd, index = 0;
    size_t n = 0;
    int status, ready_fd = -1, exit_fd;

    if (parse_u64(fd_s, INT32_MAX, &fd) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s=\"%s\" is not a descriptor",
                   AIRSRT_ENV_FD, fd_s);
    /* Only checked and made close-on-exec: the supervisor watches its
     * other end for our death (airsrt/worker.h), so we never read or
     * write it, and exit_fd is not used again. It closes as we exit. */
    if (env_descriptor(prog, AIRSRT_ENV_EXIT_FD, &exit_fd) < 0)
        return AIRSRT_EXIT_USAGE;
    if (getenv(AIRSRT_ENV_SPARE_FD) != NULL)
        return spare(prog, (int)fd, getenv(AIRSRT_ENV_WORKER), types);
    status = worker_env(prog, &index, &list, &n, &ready_fd);
    if (status != 0)
        return status;
    if (airsrt_shm_attach_fd(&shm, (int)fd) < 0) {
        airsrt__start_list_free(list, n);
        return say(prog, AIRSRT_EXIT_SYSTEM, "%s", shm.err);
    }
    if (index >= shm.params.nworkers)
        status = say(prog, AIRSRT_EXIT_USAGE, "%s=%s: the runtime has only "
                     "%u workers", AIRSRT_ENV_WORKER,
                     getenv(AIRSRT_ENV_WORKER), shm.params.nworkers);
    else
        status = run_supervised(prog, &shm, (uint32_t)index, ready_fd, list,
                                n, types);
    airsrt__start_list_free(list, n);
    airsrt_shm_detach(&shm);
    return status;
}

/* ---- standalone ---- */

struct standalone_opts {
    char runtime[AIRSRT_RUNTIME_NAME_MAX + 1];
    uint32_t actors_max;
    struct airsrt_start *list;
    size_t n;
};

/* Appends the entries of one ACTOR argument to o->list. */
static int add_actors(const char *prog, struct standalone_opts *o,
                      const char *arg)
{
    struct airsrt_start *more, *all;
    size_t n;
    char err[512];

    if (airsrt__start_list_parse(arg, &more, &n, err, sizeof(err)) < 0)
        return say(prog, -EINVAL, "actor \"%s\": %s", arg, err);
    if (n == 0)     /* a worker without actors would idle forever */
        return say(prog, -EINVAL, "an ACTOR argument is empty");
    all = reallocarray(o->list, o->n + n, sizeof(*all));
    if (all == NULL) {
        airsrt__start_list_free(more, n);
        return say(prog, -ENOMEM, "out of memory");
    }
    memcpy(all + o->n, more, n * sizeof(*all));
    free(more);
    o->list = all;
    o->n += n;
    return 0;
}

/* "prog-pid", with what a runtime name cannot hold made '_'. */
static void default_runtime(const char *prog, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%d", prog, (int)getpid());
    for (char *p = buf; *p != '\0'; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_.-", *p) || (p == buf && (*p == '.' ||
                                                          *p == '-')))
            *p = '_';
}

static int parse_standalone(const char *prog, int argc, char **argv,
                            struct standalone_opts *o)
{
    static const struct option longs[] = {
        { "runtime", required_argument, NULL, 'r' },
        { "actors-max", required_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v;
    int c;

    default_runtime(prog, o->runtime, sizeof(o->runtime));
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longs, NULL)) != -1) {
        if (c == 'r' && airsrt_shm_name_validate(optarg) == 0) {
            strlcpy(o->runtime, optarg, sizeof(o->runtime));
        } else if (c == 'a' && parse_u64(optarg, AIRSRT_MAX_ACTOR_SLOT,
                                          &v) == 0 && v > 0) {
            o->actors_max = (uint32_t)v;
        } else {
            return say(prog, -EINVAL, "bad option \"%s\" (--runtime takes "
                       "a runtime name, --actors-max 1 to %u)",
                       argv[optind - 1], AIRSRT_MAX_ACTOR_SLOT);
        }
    }
    if (optind >= argc)
        return say(prog, -EINVAL, "--standalone needs at least one ACTOR");
    for (; optind < argc; optind++)
        if (add_actors(prog, o, argv[optind]) < 0)
            return -EINVAL;
    return 0;
}

/* The supervisor's part of worker 0: this process is its own supervisor. */
static void claim_slot(struct airsrt_shm *shm)
{
    struct airsrt_worker_sup *sup = airsrt_shm_worker_sup(shm, 0);

    atomic_store(&sup->pid, (int32_t)getpid());
    atomic_store(&sup->incarnation, 1);
    atomic_store(&sup->state, AIRSRT_WORKER_RUNNING);
    atomic_store(&sup->started_ns, airsrt_now_ns());
    strlcpy(sup->name, "standalone[0]", sizeof(sup->name));
}

static int standalone(const char *prog, int argc, char **argv,
                      const struct airsrt_actor_type *const types[])
{
    const struct launch l = { .prog = prog, .source = "actors",
                              .ready_fd = -1 };
    struct standalone_opts o = { .actors_max = 0 };
    struct airsrt_shm_params p = { .nworkers = 1 };
    struct airsrt_worker *w;
    struct airsrt_shm shm;
    int status;

    if (parse_standalone(prog, argc, argv, &o) < 0) {
        airsrt__start_list_free(o.list, o.n);
        usage(prog, types);
        return AIRSRT_EXIT_USAGE;
    }
    p.actors_max = o.actors_max;
    if (airsrt_shm_create(&shm, o.runtime, &p) < 0) {
        airsrt__start_list_free(o.list, o.n);
        return say(prog, AIRSRT_EXIT_SYSTEM, "%s", shm.err);
    }
    claim_slot(&shm);
    install_signals();
    status = worker_new(prog, &shm, types, false, &w);
    if (status == 0) {
        status = run_worker(&l, w, 0, o.list, o.n);
        airsrt__worker_close(w);
    }
    airsrt__start_list_free(o.list, o.n);
    airsrt_shm_destroy(&shm);
    return status;
}

int airsrt_worker_main(int argc, char **argv,
                       const struct airsrt_actor_type *const types[])
{
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    const char *prog = argc > 0 ? (slash ? slash + 1 : argv[0]) : "worker";

    if (getenv(AIRSRT_ENV_FD) != NULL)
        return supervised(title_init(argc, argv, prog), types);
    if (argc >= 2 && strcmp(argv[1], "--standalone") == 0)
        return standalone(prog, argc, argv, types);
    usage(prog, types);
    return AIRSRT_EXIT_USAGE;
}
