/*
 * tools/inject/args.c - airsrt-inject's command line (airsrt-inject(1)).
 *
 *   airsrt-inject -r RUNTIME COMMAND ARGS... [OPTIONS]
 *
 * Options may come before or after the command's arguments, as
 * "--opt VALUE" or "--opt=VALUE"; each command takes only its own, and
 * a second use of one is refused. A hand-written loop rather than
 * getopt: it keeps no global state, so the fuzz harness can call it
 * again and again. Calls nothing outside libc.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "airsrt/address.h"
#include "supervisor/config.h"
#include "tools/inject/inject.h"

const char *const inject_fault_names[FAULT_N] = {
    [FAULT_KILL] = "kill",
    [FAULT_STALL] = "stall",
    [FAULT_KILL_IN_LOCK] = "kill-in-lock",
    [FAULT_CORRUPT_RING] = "corrupt-ring",
};

/* Options, as bits of what a command takes. */
enum {
    OPT_SIGNAL = 1u << 0,
    OPT_FROM = 1u << 1,
    OPT_BYTES = 1u << 2,
    OPT_SEED = 1u << 3,
    OPT_TYPE = 1u << 4,
    OPT_MS = 1u << 5,
    OPT_DURATION = 1u << 6,
    OPT_RATE = 1u << 7,
    OPT_FAULTS = 1u << 8,
    OPT_WORKERS = 1u << 9,
    OPT_JSON = 1u << 10,
};

static const struct opt_name {
    const char *name;
    unsigned bit;
    bool has_value;
} opt_names[] = {
    { "signal", OPT_SIGNAL, true }, { "from", OPT_FROM, true },
    { "bytes", OPT_BYTES, true }, { "seed", OPT_SEED, true },
    { "type", OPT_TYPE, true }, { "ms", OPT_MS, true },
    { "duration", OPT_DURATION, true }, { "rate", OPT_RATE, true },
    { "faults", OPT_FAULTS, true }, { "workers", OPT_WORKERS, true },
    { "json", OPT_JSON, false },
};

static const struct cmd_spec {
    const char *name;
    enum inject_cmd cmd;
    unsigned npos;                /* positional arguments */
    unsigned opts;                /* options it takes */
    unsigned required;            /* options it needs */
    const char *synopsis;
} cmds[] = {
    { "kill", INJECT_KILL, 1, OPT_SIGNAL, 0, "kill WORKER [--signal SIG]" },
    { "stall", INJECT_STALL, 2, 0, 0, "stall WORKER MS" },
    { "kill-in-lock", INJECT_KILL_IN_LOCK, 1, 0, 0, "kill-in-lock WORKER" },
    { "corrupt-ring", INJECT_CORRUPT_RING, 1, OPT_FROM | OPT_BYTES | OPT_SEED,
      0, "corrupt-ring WORKER [--from W] [--bytes N] [--seed S]" },
    { "flood", INJECT_FLOOD, 2, OPT_TYPE, 0, "flood NAME N [--type T]" },
    { "exhaust", INJECT_EXHAUST, 1, OPT_MS, 0, "exhaust WORKER [--ms MS]" },
    { "chaos", INJECT_CHAOS, 0,
      OPT_DURATION | OPT_SEED | OPT_RATE | OPT_FAULTS | OPT_WORKERS | OPT_JSON,
      OPT_DURATION | OPT_SEED | OPT_RATE,
      "chaos --duration S --seed S --rate R [--faults LIST] "
      "[--workers LIST] [--json]" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct sig_name { const char *name; int sig; } sig_names[] = {
    { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
    { "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
    { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
    { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
    { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
    { "SYS", SIGSYS },
};

void inject_usage(FILE *f)
{
    fprintf(f, "usage: airsrt-inject -r RUNTIME COMMAND [ARGS] [OPTIONS]\n"
               "Injects faults into the running runtime RUNTIME "
               "(see airsrt-inject(1)).\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  %s\n", cmds[i].synopsis);
    fprintf(f, "WORKER is a slot name such as cons[1], or an index; SIG a "
               "name (KILL, TERM, SEGV...) or number;\n"
               "LIST is comma-separated; chaos faults: kill, stall, "
               "kill-in-lock, corrupt-ring.\n"
               "Exit: 0 done, 100 usage error, 111 system failure.\n");
}

/* Strict decimal: digits only, at most max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* Seconds with up to three decimals, into ms: "2", "0.5", "1.250". */
static bool parse_seconds_ms(const char *s, uint32_t max_ms, uint32_t *out)
{
    const char *dot = strchr(s, '.');
    char whole[16], frac[4] = "000";
    uint64_t w, f;
    size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);

    if (n == 0 || n >= sizeof(whole))
        return false;
    memcpy(whole, s, n);
    whole[n] = '\0';
    if (dot != NULL) {
        size_t fn = strlen(dot + 1);

        if (fn == 0 || fn > 3 || strspn(dot + 1, "0123456789") != fn)
            return false;
        memcpy(frac, dot + 1, fn);
    }
    if (!parse_u64(whole, max_ms / 1000, &w) || !parse_u64(frac, 999, &f))
        return false;
    if (w * 1000 + f > max_ms)
        return false;
    *out = (uint32_t)(w * 1000 + f);
    return true;
}

bool inject_worker_syntax_ok(const char *s)
{
    const char *open = strchr(s, '[');
    uint64_t v;
    size_t n;

    if (strnlen(s, INJECT_WORKER_MAX) >= INJECT_WORKER_MAX)
        return false;
    if (open == NULL)
        return parse_u64(s, AIRSRT_MAX_WORKERS - 1, &v);
    n = (size_t)(open - s);
    if (n == 0 || n > AIRSRT_CONFIG_NAME_MAX ||
        strspn(s, AIRSRT_CONFIG_NAME_CHARS) != n)
        return false;
    n = strlen(open + 1);
    if (n < 2 || open[n] != ']')
        return false;
    {
        char idx[8];

        if (n - 1 >= sizeof(idx))
            return false;
        memcpy(idx, open + 1, n - 1);
        idx[n - 1] = '\0';
        return parse_u64(idx, AIRSRT_MAX_WORKERS - 1, &v);
    }
}

int inject_signal_parse(const char *s)
{
    uint64_t v;

    if (parse_u64(s, 64, &v))
        return v >= 1 ? (int)v : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++)
        if (strcasecmp(s, sig_names[i].name) == 0)
            return sig_names[i].sig;
    return -1;
}

const char *inject_signal_name(int sig, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++)
        if (sig_names[i].sig == sig) {
            snprintf(buf, len, "SIG%s", sig_names[i].name);
            return buf;
        }
    snprintf(buf, len, "signal %d", sig);
    return buf;
}

int inject_faults_parse(const char *s, unsigned *mask, char *err, size_t len)
{
    const char *p = s;

    *mask = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        unsigned f = FAULT_N;

        for (unsigned i = 0; i < FAULT_N; i++)
            if (strlen(inject_fault_names[i]) == n &&
                strncmp(p, inject_fault_names[i], n) == 0)
                f = i;
        if (f == FAULT_N) {
            tool_usage_err(err, len, "--faults: \"%.*s\" is not a fault "
                           "(kill, stall, kill-in-lock, corrupt-ring)",
                           (int)(n > 40 ? 40 : n), p);
            return -1;
        }
        *mask |= 1u << f;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static int parse_workers(struct inject_opts *o, const char *s, char *err,
                         size_t len)
{
    const char *p = s;

    for (;;) {
        size_t n = strcspn(p, ",");

        if (o->nworkers == INJECT_LIST_MAX)
            return tool_usage_err(err, len, "--workers: more than %u "
                                  "workers", INJECT_LIST_MAX);
        if (n == 0 || n >= INJECT_WORKER_MAX)
            return tool_usage_err(err, len, "--workers: an empty or too "
                                  "long entry");
        memcpy(o->workers[o->nworkers], p, n);
        o->workers[o->nworkers][n] = '\0';
        if (!inject_worker_syntax_ok(o->workers[o->nworkers]))
            return tool_usage_err(err, len, "--workers: \"%.40s\" is not "
                                  "a worker (group[i] or an index)",
                                  o->workers[o->nworkers]);
        o->nworkers++;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static int set_option(struct inject_opts *o, unsigned bit, const char *v,
                      char *err, size_t len)
{
    uint64_t n;

    switch (bit) {
    case OPT_SIGNAL:
        o->signal = inject_signal_parse(v);
        if (o->signal < 0)
            return tool_usage_err(err, len, "--signal: \"%.40s\" is not a "
                                  "signal (a name such as KILL, or 1 to 64)",
                                  v);
        return 0;
    case OPT_FROM:
        if (!inject_worker_syntax_ok(v))
            return tool_usage_err(err, len, "--from: \"%.40s\" is not a "
                                  "worker (group[i] or an index)", v);
        strcpy(o->from, v);
        return 0;
    case OPT_BYTES:
        if (!parse_u64(v, INJECT_BYTES_MAX, &n) || n == 0)
            return tool_usage_err(err, len, "--bytes: \"%.40s\" is not 1 "
                                  "to %u", v, INJECT_BYTES_MAX);
        o->bytes = (uint32_t)n;
        return 0;
    case OPT_SEED:
        if (!parse_u64(v, UINT64_MAX, &o->seed))
            return tool_usage_err(err, len, "--seed: \"%.40s\" is not a "
                                  "decimal number", v);
        o->has_seed = true;
        return 0;
    case OPT_TYPE:
        if (tool_parse_type(v, &o->type) < 0)
            return tool_usage_err(err, len, "--type: \"%.40s\" is not a "
                                  "message type (0 to 0xfffeffff, decimal "
                                  "or 0x hex)", v);
        return 0;
    case OPT_MS:
        if (!parse_u64(v, INJECT_STALL_MS_MAX, &n) || n == 0)
            return tool_usage_err(err, len, "--ms: \"%.40s\" is not 1 to "
                                  "%u", v, INJECT_STALL_MS_MAX);
        o->ms = (uint32_t)n;
        return 0;
    case OPT_DURATION:
        if (!parse_seconds_ms(v, INJECT_DURATION_MAX, &o->duration_ms) ||
            o->duration_ms == 0)
            return tool_usage_err(err, len, "--duration: \"%.40s\" is not "
                                  "seconds above 0 (at most 86400, 3 "
                                  "decimals)", v);
        return 0;
    case OPT_RATE: {
        char *end;

        errno = 0;
        o->rate = strtod(v, &end);
        if (errno != 0 || end == v || *end != '\0' ||
            !isdigit((unsigned char)v[0]) || !(o->rate > 0.0) ||
            o->rate > INJECT_RATE_MAX)
            return tool_usage_err(err, len, "--rate: \"%.40s\" is not "
                                  "faults per second above 0 (at most "
                                  "1000)", v);
        return 0;
    }
    case OPT_FAULTS:
        if (inject_faults_parse(v, &o->faults, err, len) < 0)
            return TOOL_EXIT_USAGE;
        return 0;
    case OPT_WORKERS:
        return parse_workers(o, v, err, len);
    default:
        return 0;
    }
}

/* "--name[=value]" at argv[*i]: finds the option, takes its value. */
static int take_option(struct inject_opts *o, const struct cmd_spec *c,
                       int argc, char **argv, int *i, unsigned *seen,
                       char *err, size_t len)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *v = NULL;
    size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct opt_name *on = NULL;

    for (size_t k = 0; k < sizeof(opt_names) / sizeof(opt_names[0]); k++)
        if (strlen(opt_names[k].name) == n &&
            strncmp(arg, opt_names[k].name, n) == 0)
            on = &opt_names[k];
    if (on == NULL || (c->opts & on->bit) == 0)
        return tool_usage_err(err, len, "%s takes no option --%.*s",
                              c->name, (int)(n > 40 ? 40 : n), arg);
    if (*seen & on->bit)
        return tool_usage_err(err, len, "--%s given twice", on->name);
    *seen |= on->bit;
    if (!on->has_value) {
        if (eq != NULL)
            return tool_usage_err(err, len, "--%s takes no value", on->name);
        o->is_json = true;
        return 0;
    }
    if (eq != NULL)
        v = eq + 1;
    else if (*i + 1 < argc)
        v = argv[++*i];
    else
        return tool_usage_err(err, len, "--%s needs a value", on->name);
    return set_option(o, on->bit, v, err, len);
}

static int take_positional(struct inject_opts *o, const struct cmd_spec *c,
                           unsigned k, const char *v, char *err, size_t len)
{
    uint64_t n;

    if (k == 0 && c->cmd == INJECT_FLOOD) {
        if (strlen(v) >= INJECT_NAME_MAX || v[0] == '\0')
            return tool_usage_err(err, len, "flood: \"%.40s\" is not a "
                                  "name (1 to %u bytes)", v,
                                  AIRSRT_REGISTRY_NAME_MAX);
        strcpy(o->name, v);
        return 0;
    }
    if (k == 0) {
        if (!inject_worker_syntax_ok(v))
            return tool_usage_err(err, len, "%s: \"%.40s\" is not a "
                                  "worker (group[i] or an index)", c->name,
                                  v);
        strcpy(o->worker, v);
        return 0;
    }
    if (c->cmd == INJECT_STALL) {
        if (!parse_u64(v, INJECT_STALL_MS_MAX, &n) || n == 0)
            return tool_usage_err(err, len, "stall: \"%.40s\" is not 1 to "
                                  "%u ms", v, INJECT_STALL_MS_MAX);
        o->ms = (uint32_t)n;
        return 0;
    }
    if (!parse_u64(v, INJECT_FLOOD_MAX, &n) || n == 0)
        return tool_usage_err(err, len, "flood: \"%.40s\" is not a count "
                              "(1 to %llu)", v,
                              (unsigned long long)INJECT_FLOOD_MAX);
    o->count = n;
    return 0;
}

static int parse_command(int argc, char **argv, int i, struct inject_opts *o,
                         const struct cmd_spec *c, char *err, size_t len)
{
    unsigned npos = 0, seen = 0;
    int rc;

    o->cmd = c->cmd;
    for (i++; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            o->cmd = INJECT_HELP;
            return TOOL_EXIT_OK;
        }
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
            rc = take_option(o, c, argc, argv, &i, &seen, err, len);
        else if (npos < c->npos)
            rc = take_positional(o, c, npos++, argv[i], err, len);
        else
            rc = tool_usage_err(err, len, "%s: unexpected argument "
                                "\"%.40s\"", c->name, argv[i]);
        if (rc != 0)
            return rc;
    }
    if (npos < c->npos)
        return tool_usage_err(err, len, "usage: airsrt-inject -r RUNTIME "
                              "%s", c->synopsis);
    for (size_t k = 0; k < sizeof(opt_names) / sizeof(opt_names[0]); k++)
        if ((c->required & opt_names[k].bit) && !(seen & opt_names[k].bit))
            return tool_usage_err(err, len, "%s needs --%s", c->name,
                                  opt_names[k].name);
    return TOOL_EXIT_OK;
}

static void opts_init(struct inject_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->signal = SIGKILL;
    o->bytes = 64;
    o->type = 1;
}

int inject_args_parse(int argc, char **argv, struct inject_opts *o,
                      char *err, size_t len)
{
    int i = 1, rc;
    bool is_help;

    opts_init(o);
    rc = tool_parse_global(argc, argv, &i, &o->runtime, &is_help, err, len);
    if (rc != 0)
        return rc;
    if (is_help) {
        o->cmd = INJECT_HELP;
        return TOOL_EXIT_OK;
    }
    if (i < argc && argv[i][0] == '-')
        return tool_usage_err(err, len, "unknown option \"%.40s\"", argv[i]);
    if (i == argc)
        return tool_usage_err(err, len, "no command given");
    for (size_t k = 0; k < NCMDS; k++) {
        if (strcmp(argv[i], cmds[k].name) != 0)
            continue;
        if (o->runtime == NULL || o->runtime[0] == '\0')
            return tool_usage_err(err, len, "no runtime given (-r RUNTIME)");
        return parse_command(argc, argv, i, o, &cmds[k], err, len);
    }
    return tool_usage_err(err, len, "unknown command \"%.40s\"", argv[i]);
}
