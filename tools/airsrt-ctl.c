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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

/* The version in airsrt_shm_attach's "... has layout version N; ...". */
static unsigned long other_version(const char *err)
{
    const char *p = strstr(err, "layout version ");

    return p != NULL ? strtoul(p + 15, NULL, 10) : 0;
}

/* What attaching failed on, said for a person. */
static int attach_fail(const struct airsrt_shm *shm, const char *name, int rc)
{
    if (rc == -EINVAL) {
        fprintf(stderr, "airsrt-ctl: %s\n", shm->err);
        return CTL_EXIT_USAGE;
    }
    if (rc == -ENOENT)
        fprintf(stderr, "airsrt-ctl: no runtime \"%s\" (no /dev/shm/airsrt.%s)"
                "\n", name, name);
    else if (rc == -EACCES || rc == -EPERM)
        fprintf(stderr, "airsrt-ctl: no permission to open runtime \"%s\" "
                "(/dev/shm/airsrt.%s): run as its owner\n", name, name);
    else if (rc == -EPROTONOSUPPORT)
        fprintf(stderr, "airsrt-ctl: runtime \"%s\" has layout version %lu; "
                "this airsrt-ctl reads version %u\n", name,
                other_version(shm->err), AIRSRT_SHM_VERSION);
    else
        fprintf(stderr, "airsrt-ctl: %s\n", shm->err);
    return CTL_EXIT_SYSTEM;
}

static int worker_arg(const struct airsrt_shm *shm, const char *arg,
                      uint32_t *w)
{
    if (ctl_worker_find(shm, arg, w) == 0)
        return 0;
    fprintf(stderr, "airsrt-ctl: no worker \"%s\" in runtime \"%s\" (give "
            "group[i] or an index below %u)\n", arg, shm->hdr->name,
            shm->params.nworkers);
    return CTL_EXIT_USAGE;
}

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
        rc = worker_arg(shm, o->worker, &w);
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
        return CTL_EXIT_USAGE;
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
    rc = o.cmd == CTL_SEND ? airsrt_shm_attach(&shm, o.runtime)
                           : airsrt_shm_attach_ro(&shm, o.runtime);
    if (rc < 0)
        return attach_fail(&shm, o.runtime, rc);
    rc = run(&shm, &o);
    airsrt_shm_detach(&shm);
    if (fflush(stdout) != 0 && rc == 0)
        rc = CTL_EXIT_SYSTEM;
    return rc;
}
