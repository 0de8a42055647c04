/*
 * tools/airsrt-run.c - runs a system: reads its config (airsrt.ini(5)),
 * creates the runtime and supervises its workers until SIGTERM, SIGINT,
 * an auto_shutdown or the root supervisor giving up.
 *
 *   airsrt-run [--quiet] CONFIG     run it
 *   airsrt-run --check CONFIG       only validate it
 *
 * Exit statuses: 0 orderly end; 100 usage or config error; 111 a system
 * failure (the segment, fork); 112 the root supervisor gave up (restart
 * intensity); 113 a child failed to start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/config.h"
#include "supervisor/supervisor.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: airsrt-run [--quiet] CONFIG\n"
               "       airsrt-run --check CONFIG\n"
               "Runs the actor system CONFIG describes (see airsrt.ini(5)),"
               " until SIGTERM or SIGINT.\n"
               "  --check   validate CONFIG and exit, starting nothing\n"
               "  --quiet   no summary at the end\n");
}

static int run(const struct airsrt_config *cfg, bool is_quiet)
{
    struct airsrt_supervisor *s;
    char err[AIRSRT_CONFIG_ERR_MAX], why[256];
    int rc = airsrt_supervisor_open(&s, cfg, err, sizeof(err));

    if (rc < 0) {
        fprintf(stderr, "airsrt-run: %s\n", err);
        return AIRSRT_RUN_EXIT_SYSTEM;
    }
    rc = airsrt_supervisor_run(s, why, sizeof(why));
    if (!is_quiet)
        airsrt_supervisor_summary(s, stderr);
    fprintf(stderr, "airsrt-run: runtime %s stopped: %s%s\n",
            cfg->runtime.name, why, rc == 0 ? "" : " (failure)");
    airsrt_supervisor_close(s);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "check", no_argument, NULL, 'c' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct airsrt_config cfg;
    char err[AIRSRT_CONFIG_ERR_MAX];
    bool is_check = false, is_quiet = false;
    int c, rc;

    while ((c = getopt_long(argc, argv, "cqh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': is_check = true; break;
        case 'q': is_quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return AIRSRT_RUN_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "airsrt-run: %s\n", optind == argc ?
                "no config file given" : "one config file, please");
        usage(stderr);
        return AIRSRT_RUN_EXIT_USAGE;
    }
    rc = airsrt_config_load(&cfg, argv[optind], err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "airsrt-run: %s\n", err);
        airsrt_config_free(&cfg);
        return AIRSRT_RUN_EXIT_USAGE;
    }
    if (is_check) {
        printf("%s: ok: runtime %s, %zu supervisor%s, %u worker%s\n",
               argv[optind], cfg.runtime.name, cfg.nsupervisors,
               cfg.nsupervisors == 1 ? "" : "s", cfg.nworkers,
               cfg.nworkers == 1 ? "" : "s");
        rc = 0;
    } else {
        rc = run(&cfg, is_quiet);
    }
    airsrt_config_free(&cfg);
    return rc;
}
