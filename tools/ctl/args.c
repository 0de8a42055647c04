/*
 * tools/ctl/args.c - airsrt-ctl's command line: -r NAME, a command, its
 * options and operands. Pure parsing, libc only: it never touches the
 * segment, so every check that needs the runtime (does the worker or the
 * name exist, does the payload fit) is left to the command.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

static const char *const cmd_names[CTL_NCMDS] = {
    [CTL_STATUS] = "status", [CTL_NAMES] = "names", [CTL_TOPICS] = "topics",
    [CTL_POOLS] = "pools", [CTL_ACTORS] = "actors", [CTL_WATCH] = "watch",
    [CTL_SEND] = "send", [CTL_STOP] = "stop",
    [CTL_POSTMORTEM] = "postmortem", [CTL_HELP] = "help",
};

/* Options each command takes. */
#define OPT_JSON     1u
#define OPT_TOP      2u
#define OPT_INTERVAL 4u
#define OPT_COUNT    8u
#define OPT_WAIT     16u

static const unsigned cmd_opts[CTL_NCMDS] = {
    [CTL_STATUS] = OPT_JSON, [CTL_NAMES] = OPT_JSON, [CTL_TOPICS] = OPT_JSON,
    [CTL_POOLS] = OPT_JSON, [CTL_ACTORS] = OPT_JSON | OPT_TOP,
    [CTL_WATCH] = OPT_INTERVAL | OPT_COUNT, [CTL_STOP] = OPT_WAIT,
    [CTL_POSTMORTEM] = OPT_JSON,
};

/* Operands: at least min, at most max. */
static const uint8_t cmd_min[CTL_NCMDS] = {
    [CTL_ACTORS] = 1, [CTL_SEND] = 2, [CTL_POSTMORTEM] = 1,
};
static const uint8_t cmd_max[CTL_NCMDS] = {
    [CTL_ACTORS] = 1, [CTL_SEND] = 3, [CTL_POSTMORTEM] = 1,
};

void ctl_usage(FILE *f)
{
    fputs("usage: airsrt-ctl -r RUNTIME COMMAND [ARGS]\n"
          "  status [--json]              the runtime and each worker\n"
          "  names [--json]               registered names and holders\n"
          "  topics [--json]              topics and subscribing workers\n"
          "  pools [--json]               pools and members per worker\n"
          "  actors WORKER [--top N] [--json]\n"
          "                               busiest actors of a worker\n"
          "  watch [--interval MS] [--count N]\n"
          "                               status, refreshed\n"
          "  send NAME TYPE [PAYLOAD | -] one envelope to a name\n"
          "  stop [--wait]                orderly shutdown\n"
          "  postmortem WORKER [--json]   a worker's last death\n"
          "WORKER is group[i] or an index. Exit: 0 ok, 100 usage, "
          "111 system.\n", f);
}

/* A decimal in [min, max], nothing else. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *v)
{
    char *end;
    unsigned long long n;

    if (s[0] < '0' || s[0] > '9')
        return -EINVAL;
    errno = 0;
    n = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return -ERANGE;
    *v = (uint32_t)n;
    return 0;
}

static int find_cmd(const char *s)
{
    for (int c = 0; c < CTL_HELP; c++)
        if (strcmp(s, cmd_names[c]) == 0)
            return c;
    return -1;
}

/* One option of the command at argv[*i]; moves *i past its value. */
static int parse_opt(int argc, char *const argv[], int *i,
                     struct ctl_opts *o, char *err, size_t len)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    unsigned takes = cmd_opts[o->cmd];
    uint32_t *dst = NULL, min = 0, max = 0;

    if (strcmp(a, "--json") == 0 && (takes & OPT_JSON))
        return o->is_json = true, 0;
    if (strcmp(a, "--wait") == 0 && (takes & OPT_WAIT))
        return o->is_wait = true, 0;
    if (strcmp(a, "--top") == 0 && (takes & OPT_TOP))
        dst = &o->top, min = 1, max = CTL_TOP_MAX;
    else if (strcmp(a, "--interval") == 0 && (takes & OPT_INTERVAL))
        dst = &o->interval_ms, min = CTL_INTERVAL_MIN, max = CTL_INTERVAL_MAX;
    else if (strcmp(a, "--count") == 0 && (takes & OPT_COUNT))
        dst = &o->count, min = 1, max = CTL_COUNT_MAX;
    else
        return tool_usage_err(err, len, "%s: unknown option %.64s",
                              cmd_names[o->cmd], a);
    if (v == NULL)
        return tool_usage_err(err, len, "%s: %s needs a value",
                              cmd_names[o->cmd], a);
    if (parse_u32(v, min, max, dst) < 0)
        return tool_usage_err(err, len, "%s: %s takes a number from %"
                              PRIu32 " to %" PRIu32 ", not %.64s",
                              cmd_names[o->cmd], a, min, max, v);
    (*i)++;
    return 0;
}

/* The operands of the command, in order. */
static int take_operand(struct ctl_opts *o, int n, const char *a, char *err,
                        size_t len)
{
    int rc;

    if (n >= cmd_max[o->cmd])
        return tool_usage_err(err, len, "%s: unexpected argument %.64s",
                              cmd_names[o->cmd], a);
    if (o->cmd == CTL_ACTORS || o->cmd == CTL_POSTMORTEM)
        o->worker = a;
    else if (n == 0)
        o->name = a;
    else if (n == 1 && (rc = tool_parse_type(a, &o->type)) < 0)
        return tool_usage_err(err, len, rc == -ERANGE ?
                              "send: type %.64s is reserved for the runtime "
                              "or too big (at most 0xfffeffff)" :
                              "send: type %.64s is not a number (decimal "
                              "or 0x hex)", a);
    else if (n == 2)
        o->payload = a;
    return 0;
}

int ctl_parse(int argc, char *const argv[], struct ctl_opts *o, char *err,
              size_t len)
{
    int i = 1, n = 0, c, rc;
    bool is_opts_done = false, is_help;

    memset(o, 0, sizeof(*o));
    o->top = CTL_TOP_DEFAULT;
    o->interval_ms = CTL_INTERVAL_DEFAULT;
    o->cmd = CTL_NCMDS;
    rc = tool_parse_global(argc, argv, &i, &o->runtime, &is_help, err, len);
    if (rc != 0)
        return rc;
    if (is_help) {
        o->cmd = CTL_HELP;
        return 0;
    }
    if (i < argc && argv[i][0] == '-')
        return tool_usage_err(err, len, "unknown option %.64s", argv[i]);
    if (o->runtime == NULL)
        return tool_usage_err(err, len, "which runtime? give -r NAME");
    if (i >= argc)
        return tool_usage_err(err, len, "no command");
    c = find_cmd(argv[i]);
    if (c < 0)
        return tool_usage_err(err, len, "unknown command %.64s", argv[i]);
    o->cmd = (enum ctl_cmd)c;
    for (i++; i < argc; i++) {
        const char *a = argv[i];

        /* "-" is send's stdin payload, not an option; "--" ends them. */
        if (!is_opts_done && strcmp(a, "--") == 0)
            is_opts_done = true;
        else if (!is_opts_done && a[0] == '-' && a[1] != '\0')
            rc = parse_opt(argc, argv, &i, o, err, len);
        else
            rc = take_operand(o, n++, a, err, len);
        if (rc != 0)
            return rc;
    }
    if (n < cmd_min[o->cmd])
        return tool_usage_err(err, len, "%s: missing %s", cmd_names[o->cmd],
                              o->cmd == CTL_SEND ?
                              (n == 0 ? "NAME and TYPE" : "TYPE") : "WORKER");
    return 0;
}
