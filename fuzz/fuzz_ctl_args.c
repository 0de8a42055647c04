/*
 * fuzz/fuzz_ctl_args.c - airsrt-ctl's command line parsing on arbitrary
 * arguments.
 *
 * Feeds: the input split at NUL bytes into up to 16 arguments after
 * "airsrt-ctl" (e.g. "-r", "demo", "send", "ledger", "0x10", "-").
 *
 * Asserts: parsing always returns; what it accepts names a known command
 * with a runtime (or is help), its options inside their documented
 * bounds (--top 1..100000, --interval 10..3600000 ms, --count
 * 0..1000000), the operands its command needs (a WORKER for actors and
 * postmortem; a NAME and a TYPE below the reserved range for send), no
 * option of another command (its field keeps its default); and every
 * refusal is a usage error (exit status 100) with a one-line reason.
 * The tool's parser (tools/ctl/args.c and the pieces it shares with
 * airsrt-inject, tools/common/args.c; libc only) is compiled in whole.
 */
#include "tools/common/args.c"
#include "tools/ctl/args.c"

#include "fuzz/fuzz_input.h"

#define MAX_ARGS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct ctl_opts *o)
{
    unsigned takes;

    FUZZ_CHECK((unsigned)o->cmd < CTL_NCMDS);
    if (o->cmd == CTL_HELP)
        return;
    takes = cmd_opts[o->cmd];
    FUZZ_CHECK(o->runtime != NULL);
    FUZZ_CHECK(o->top >= 1 && o->top <= CTL_TOP_MAX);
    FUZZ_CHECK(o->interval_ms >= CTL_INTERVAL_MIN &&
               o->interval_ms <= CTL_INTERVAL_MAX);
    FUZZ_CHECK(o->count <= CTL_COUNT_MAX);
    FUZZ_CHECK((takes & OPT_JSON) || !o->is_json);
    FUZZ_CHECK((takes & OPT_WAIT) || !o->is_wait);
    FUZZ_CHECK((takes & OPT_TOP) || o->top == CTL_TOP_DEFAULT);
    FUZZ_CHECK((takes & OPT_INTERVAL) || o->interval_ms == CTL_INTERVAL_DEFAULT);
    FUZZ_CHECK((takes & OPT_COUNT) || o->count == 0);
    FUZZ_CHECK((o->cmd == CTL_ACTORS || o->cmd == CTL_POSTMORTEM) ==
               (o->worker != NULL));
    FUZZ_CHECK((o->cmd == CTL_SEND) == (o->name != NULL));
    FUZZ_CHECK(o->type < AIRSRT_TYPE_RESERVED);
    FUZZ_CHECK(o->cmd == CTL_SEND || (o->type == 0 && o->payload == NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **argv, err[256];
    struct ctl_opts o;
    int argc, rc;

    argv = fuzz_argv(data, size, "airsrt-ctl", MAX_ARGS, &argc);
    if (argv == NULL)
        return 0;
    err[0] = '\0';
    rc = ctl_parse(argc, argv, &o, err, sizeof(err));
    if (rc == 0) {
        check_accepted(&o);
    } else {
        FUZZ_CHECK(rc == TOOL_EXIT_USAGE);
        FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    free(argv);
    return 0;
}
