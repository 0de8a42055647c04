/*
 * fuzz/fuzz_worker_args.c - how airsrt_worker_main() reads its command
 * line (--standalone) and its environment, on arbitrary arguments and
 * variables.
 *
 * Feeds: byte 0 says which variables are set, bit i for the i-th of
 * AIRSRT_FD, AIRSRT_WORKER, AIRSRT_ACTORS, AIRSRT_SPIN_US,
 * AIRSRT_HEARTBEAT_MS, and bit 5 runs main with argc 0. The rest of the
 * input, split at NUL bytes, gives the values of the set variables in that
 * order (empty once it runs out), then up to 16 arguments, argv[0] first.
 *
 * worker/worker_main.c is compiled into the harness with
 * airsrt_shm_create() and airsrt_shm_attach_fd() replaced by stand-ins
 * that note their arguments and fail, so no segment is ever made and no
 * descriptor touched: main returns once it has parsed everything. Its
 * stderr goes to a stream that keeps what was written.
 *
 * Asserts: main returns AIRSRT_EXIT_USAGE, or AIRSRT_EXIT_SYSTEM from a
 * stand-in, and writes a message that starts with the program's name
 * either way. Supervised (AIRSRT_FD set), it attaches exactly when
 * AIRSRT_FD is a decimal up to INT32_MAX (and then that descriptor),
 * AIRSRT_WORKER a decimal below AIRSRT_MAX_WORKERS and AIRSRT_ACTORS a
 * non-empty start list the parser accepts. Standalone, it creates a
 * runtime exactly when parse_standalone() accepts the arguments, and then
 * one of one worker, with a valid runtime name and actors_max in range;
 * what parse_standalone() accepts has at least one actor, each of a
 * well-formed type. opts_from_env() accepts exactly unset variables or
 * decimals in range, and converts them to ns. Nothing leaks.
 */
#include <stdio.h>

#include "fuzz/fuzz_input.h"

static FILE *fuzz_err;

/* Everything worker_main.c calls these names goes to the stand-ins
 * below, declarations in shm/segment.h included. */
#undef stderr
#define stderr fuzz_err
#define airsrt_worker_main fuzz_worker_main
#define airsrt_shm_create fuzz_shm_create
#define airsrt_shm_attach_fd fuzz_shm_attach_fd
#include "worker/worker_main.c"
#undef airsrt_shm_attach_fd
#undef airsrt_shm_create
#undef airsrt_worker_main
#undef stderr
#define stderr stderr

#define MAX_ARGS 16
#define NVARS    5

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vars[NVARS] = {
    AIRSRT_ENV_FD, AIRSRT_ENV_WORKER, AIRSRT_ENV_ACTORS, AIRSRT_ENV_SPIN_US,
    AIRSRT_ENV_HEARTBEAT_MS,
};

/* ---- what main wrote, and what the stand-ins were asked ---- */

static char said[256];
static size_t said_len;

static ssize_t keep_write(void *cookie, const char *buf, size_t len)
{
    (void)cookie;
    for (size_t i = 0; i < len && said_len < sizeof(said) - 1; i++)
        said[said_len++] = buf[i];
    said[said_len] = '\0';
    return (ssize_t)len;
}

static struct {
    int creates, attaches;
    int fd;
    char name[AIRSRT_RUNTIME_NAME_MAX + 2];
    struct airsrt_shm_params params;
} asked;

int fuzz_shm_create(struct airsrt_shm *shm, const char *name,
                    const struct airsrt_shm_params *p)
{
    asked.creates++;
    snprintf(asked.name, sizeof(asked.name), "%s", name);
    asked.params = *p;
    memset(shm, 0, sizeof(*shm));
    snprintf(shm->err, sizeof(shm->err), "fuzz: no segment for %s", name);
    return -EPERM;
}

int fuzz_shm_attach_fd(struct airsrt_shm *shm, int fd)
{
    asked.attaches++;
    asked.fd = fd;
    memset(shm, 0, sizeof(*shm));
    snprintf(shm->err, sizeof(shm->err), "fuzz: not attaching fd %d", fd);
    return -EPERM;
}

static void reset(void)
{
    memset(&asked, 0, sizeof(asked));
    said_len = 0;
    said[0] = '\0';
    /* glibc keeps where it was inside an argument between getopt calls
     * (a cluster like "-xy"), pointing into the previous input's freed
     * argv. A worker parses once per process; the harness must reset it
     * the documented way, optind = 0, before each parse. */
    optind = 0;
    getopt(1, (char *[]){ "x", NULL }, "");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const cookie_io_functions_t io = { .write = keep_write };

    (void)argc;
    (void)argv;
    fuzz_err = fopencookie(NULL, "w", io);
    if (fuzz_err == NULL)
        abort();
    setvbuf(fuzz_err, NULL, _IONBF, 0);
    return 0;
}

/* Sets variable i to val, or unsets it (NULL). Not setenv(): glibc
 * keeps every value setenv was ever given, and millions of runs would
 * hit the fuzzer's memory limit. putenv() takes our buffer as it is. */
static void set_var(int i, const char *val)
{
    static char *buf[NVARS];
    static size_t cap[NVARS];
    size_t need;

    unsetenv(vars[i]);
    if (val == NULL)
        return;
    need = strlen(vars[i]) + strlen(val) + 2;
    if (need > cap[i]) {
        free(buf[i]);
        buf[i] = malloc(need);
        cap[i] = buf[i] != NULL ? need : 0;
        if (buf[i] == NULL)
            abort();
    }
    snprintf(buf[i], cap[i], "%s=%s", vars[i], val);
    putenv(buf[i]);
}

/* ---- models ---- */

/* A decimal without sign, blanks or suffix, at most max. */
static bool model_number(const char *s, uint64_t max, uint64_t *out)
{
    unsigned __int128 v = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return false;
    }
    *out = (uint64_t)v;
    return true;
}

static bool model_start_list(const char *s)
{
    struct airsrt_start *l;
    size_t n;
    char err[256];

    if (s == NULL || *s == '\0' ||
        airsrt__start_list_parse(s, &l, &n, err, sizeof(err)) < 0)
        return false;
    airsrt__start_list_free(l, n);
    return true;
}

/* ---- checks ---- */

static void check_env_opts(const char *const val[NVARS])
{
    struct airsrt_worker_opts o;
    uint64_t spin = AIRSRT_SPIN_NS_DEFAULT / 1000;
    uint64_t beat = AIRSRT_HEARTBEAT_NS_DEFAULT / 1000000;
    bool ok = (val[3] == NULL || (model_number(val[3], SPIN_US_MAX, &spin))) &&
              (val[4] == NULL ||
               (model_number(val[4], HEARTBEAT_MS_MAX, &beat) && beat >= 1));
    int rc;

    reset();
    rc = opts_from_env("w", &o);
    FUZZ_CHECK(rc == (ok ? 0 : -EINVAL));
    if (ok) {
        FUZZ_CHECK(o.spin_ns == spin * 1000);
        FUZZ_CHECK(o.heartbeat_ns == beat * 1000000);
        FUZZ_CHECK(o.stop_flag == &g_stop);
        FUZZ_CHECK(said_len == 0);
    } else {
        FUZZ_CHECK(strncmp(said, "w: ", 3) == 0);
    }
}

/* parse_standalone() alone; returns whether it accepted. */
static bool check_standalone_parse(int argc, char **argv)
{
    struct standalone_opts o = { .actors_max = 0 };
    int rc;

    reset();
    rc = parse_standalone("w", argc, argv, &o);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc == 0) {
        FUZZ_CHECK(airsrt_shm_name_validate(o.runtime) == 0);
        FUZZ_CHECK(o.actors_max <= AIRSRT_MAX_ACTOR_SLOT);
        FUZZ_CHECK(o.n >= 1 && o.list != NULL);
        for (size_t i = 0; i < o.n; i++)
            FUZZ_CHECK(o.list[i].type[0] != '\0' &&
                       strlen(o.list[i].type) <= AIRSRT_TYPE_NAME_MAX);
    } else {
        FUZZ_CHECK(strncmp(said, "w: ", 3) == 0);
    }
    airsrt__start_list_free(o.list, o.n);
    return rc == 0;
}

static void check_main(int argc, char **argv, const char *const val[NVARS])
{
    static const struct airsrt_actor_type dummy = { .name = "t" };
    static const struct airsrt_actor_type *const types[] = { &dummy, NULL };
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    const char *prog = argc > 0 ? (slash ? slash + 1 : argv[0]) : "worker";
    bool is_standalone = val[0] == NULL && argc >= 2 &&
                         strcmp(argv[1], "--standalone") == 0;
    bool parses = is_standalone && check_standalone_parse(argc, argv);
    uint64_t fd = 0, index;
    bool attaches = val[0] != NULL &&
                    model_number(val[0], INT32_MAX, &fd) &&
                    model_number(val[1], AIRSRT_MAX_WORKERS - 1, &index) &&
                    model_start_list(val[2]);
    int status;

    reset();
    status = fuzz_worker_main(argc, argv, types);
    FUZZ_CHECK(status == AIRSRT_EXIT_USAGE || status == AIRSRT_EXIT_SYSTEM);
    FUZZ_CHECK(strncmp(said, prog, strlen(prog) < sizeof(said) - 1 ?
                                   strlen(prog) : sizeof(said) - 1) == 0);
    FUZZ_CHECK(said_len > strlen(prog) || said_len == sizeof(said) - 1);
    FUZZ_CHECK(asked.attaches == (attaches ? 1 : 0));
    FUZZ_CHECK(!attaches || asked.fd == (int)fd);
    FUZZ_CHECK(asked.creates == (parses ? 1 : 0));
    if (parses) {
        FUZZ_CHECK(airsrt_shm_name_validate(asked.name) == 0);
        FUZZ_CHECK(asked.params.nworkers == 1);
        FUZZ_CHECK(asked.params.actors_max <= AIRSRT_MAX_ACTOR_SLOT);
    }
    FUZZ_CHECK(status == (attaches || parses ? AIRSRT_EXIT_SYSTEM
                                             : AIRSRT_EXIT_USAGE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *val[NVARS] = { NULL };
    uint8_t mask = size > 0 ? data[0] : 0;
    char **field, **argv;
    int n, j = 0, argc;

    /* The fields after the mask byte: the set variables', then argv. */
    field = fuzz_argv(data + (size > 0), size - (size > 0), NULL,
                      NVARS + MAX_ARGS, &n);
    if (field == NULL)
        return 0;
    for (int i = 0; i < NVARS; i++)
        if (mask & (1u << i))
            val[i] = j < n ? field[j++] : "";
    argv = field + j;
    argc = n - j < MAX_ARGS ? n - j : MAX_ARGS;
    if (mask & 0x20)
        argc = 0;
    argv[argc] = NULL;
    for (int i = 0; i < NVARS; i++)
        set_var(i, val[i]);
    check_env_opts(val);
    check_main(argc, argv, val);
    free(field);
    return 0;
}
