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
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "worker/worker_impl.h"

#define SPIN_US_MAX       1000000u
#define HEARTBEAT_MS_MAX  60000u

static volatile sig_atomic_t g_stop;

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

/* Runs worker index of an attached segment until it ends. source names
 * where the start list came from, for messages. */
static int run_worker(const char *prog, struct airsrt_shm *shm,
                      uint32_t index, const char *source,
                      const struct airsrt_start *list, size_t n,
                      const struct airsrt_actor_type *const types[])
{
    struct airsrt_worker_opts opts;
    struct airsrt_worker *w;
    char err[512];
    int rc, status;

    if (opts_from_env(prog, &opts) < 0)
        return AIRSRT_EXIT_USAGE;
    rc = airsrt_shm_protect_for_worker(shm, index);
    if (rc < 0)
        return say(prog, AIRSRT_EXIT_SYSTEM, "cannot protect the segment "
                   "for worker %u: %s", index, strerror(-rc));
    rc = airsrt__worker_open(&w, shm, index, types, &opts, err, sizeof(err));
    if (rc < 0)
        return say(prog, rc == -ENOMEM ? AIRSRT_EXIT_SYSTEM
                                       : AIRSRT_EXIT_USAGE, "%s", err);
    install_signals();
    if (airsrt__worker_start(w, list, n, err, sizeof(err)) != 0)
        say(prog, 0, "%s: %s", source, err);
    status = airsrt__worker_run(w);
    if (status == AIRSRT_EXIT_ESCALATED)
        say(prog, 0, "an actor's failure escalated past the worker's "
            "top-level actors: exiting %d", status);
    airsrt__worker_close(w);
    return status;
}

static int supervised(const char *prog,
                      const struct airsrt_actor_type *const types[])
{
    const char *fd_s = getenv(AIRSRT_ENV_FD);
    const char *index_s = getenv(AIRSRT_ENV_WORKER);
    const char *actors = getenv(AIRSRT_ENV_ACTORS);
    struct airsrt_start *list;
    struct airsrt_shm shm;
    uint64_t fd, index;
    size_t n;
    char err[512];
    int status;

    if (parse_u64(fd_s, INT32_MAX, &fd) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s=\"%s\" is not a descriptor",
                   AIRSRT_ENV_FD, fd_s);
    if (index_s == NULL || parse_u64(index_s, AIRSRT_MAX_WORKERS - 1,
                                     &index) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s must be set to a worker "
                   "index below %u", AIRSRT_ENV_WORKER, AIRSRT_MAX_WORKERS);
    if (actors == NULL || *actors == '\0')
        return say(prog, AIRSRT_EXIT_USAGE, "%s names no actors to start",
                   AIRSRT_ENV_ACTORS);
    if (airsrt__start_list_parse(actors, &list, &n, err, sizeof(err)) < 0)
        return say(prog, AIRSRT_EXIT_USAGE, "%s: %s", AIRSRT_ENV_ACTORS, err);
    if (airsrt_shm_attach_fd(&shm, (int)fd) < 0) {
        airsrt__start_list_free(list, n);
        return say(prog, AIRSRT_EXIT_SYSTEM, "%s", shm.err);
    }
    if (index >= shm.params.nworkers)
        status = say(prog, AIRSRT_EXIT_USAGE, "%s=%s: the runtime has only "
                     "%u workers", AIRSRT_ENV_WORKER, index_s,
                     shm.params.nworkers);
    else
        status = run_worker(prog, &shm, (uint32_t)index, AIRSRT_ENV_ACTORS,
                            list, n, types);
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
    struct standalone_opts o = { .actors_max = 0 };
    struct airsrt_shm_params p = { .nworkers = 1 };
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
    status = run_worker(prog, &shm, 0, "actors", o.list, o.n, types);
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
        return supervised(prog, types);
    if (argc >= 2 && strcmp(argv[1], "--standalone") == 0)
        return standalone(prog, argc, argv, types);
    usage(prog, types);
    return AIRSRT_EXIT_USAGE;
}
