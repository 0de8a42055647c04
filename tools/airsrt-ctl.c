/*
 * tools/airsrt-ctl.c - look inside a running runtime (man airsrt-ctl):
 * status, names, topics, pools, actors, watch, postmortem read the
 * segment, which they map read-only; send writes one envelope to a
 * worker's control ring and stop signals the supervisor.
 *
 * Exit status: 0 done, 100 usage (bad command, option, worker, name,
 * type or payload), 111 system (no such runtime, another layout version,
 * no permission, a runtime that cannot take the command now).
 */
#include <stdio.h>

#include "tools/ctl/ctl.h"

static int run(struct airsrt_shm *shm, const struct ctl_opts *o)
{
    uint32_t w;
    int rc;

    switch (o->cmd) {
    case CTL_STATUS:
        return ctl_show_status(shm, o->is_json, stdout);
    case CTL_NAMES:
        return ctl_show_names(shm, o->is_json, stdout);
    case CTL_TOPICS:
        return ctl_show_topics(shm, o->is_json, stdout);
    case CTL_POOLS:
        return ctl_show_pools(shm, o->is_json, stdout);
    case CTL_ACTORS:
    case CTL_POSTMORTEM:
        rc = tool_worker_arg(shm, "airsrt-ctl", o->worker, &w);
        if (rc != 0)
            return rc;
        return o->cmd == CTL_ACTORS ?
               ctl_show_actors(shm, w, o->top, o->is_json, stdout) :
               ctl_show_postmortem(shm, w, o->is_json, stdout);
    case CTL_WATCH:
        return ctl_watch(shm, o);
    case CTL_SEND:
        return ctl_send(shm, o);
    case CTL_STOP:
        return ctl_stop(shm, o);
    default:
        return TOOL_EXIT_USAGE;
    }
}

int main(int argc, char **argv)
{
    struct airsrt_shm shm;
    struct ctl_opts o;
    char err[256];
    int rc;

    rc = ctl_parse(argc, argv, &o, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "airsrt-ctl: %s\n", err);
        ctl_usage(stderr);
        return rc;
    }
    if (o.cmd == CTL_HELP) {
        ctl_usage(stdout);
        return 0;
    }
    /* Read-only unless the command writes the segment. */
    rc = tool_attach(&shm, "airsrt-ctl", o.runtime, o.cmd != CTL_SEND);
    if (rc != 0)
        return rc;
    rc = run(&shm, &o);
    airsrt_shm_detach(&shm);
    if (fflush(stdout) != 0 && rc == 0)
        rc = TOOL_EXIT_SYSTEM;
    return rc;
}
