/*
 * tools/common/runtime.c - attaching to a runtime, naming its workers
 * and checking the pids it records, for airsrt-ctl and airsrt-inject
 * (tool.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm/registry.h"
#include "supervisor/config.h"
#include "tools/common/tool.h"

bool tool_pid_ok(pid_t pid)
{
    return pid > 1 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM);
}

int tool_attach(struct airsrt_shm *shm, const char *prog, const char *name,
                bool is_ro)
{
    int rc = is_ro ? airsrt_shm_attach_ro(shm, name)
                   : airsrt_shm_attach(shm, name);

    if (rc == 0)
        return TOOL_EXIT_OK;
    if (rc == -ENOENT)
        fprintf(stderr, "%s: no runtime \"%s\" (no /dev/shm/airsrt.%s)\n",
                prog, name, name);
    else if (rc == -EACCES || rc == -EPERM)
        fprintf(stderr, "%s: no permission to open runtime \"%s\" "
                "(/dev/shm/airsrt.%s): run as its owner\n", prog, name, name);
    else
        fprintf(stderr, "%s: %s\n", prog, shm->err);
    return rc == -EINVAL ? TOOL_EXIT_USAGE : TOOL_EXIT_SYSTEM;
}

void tool_worker_name(const struct airsrt_shm *shm, uint32_t w,
                      char out[TOOL_WORKER_NAME_MAX])
{
    const struct airsrt_worker_sup *ws = airsrt_shm_worker_sup(shm, w);
    size_t n = 0;

    for (; ws != NULL && n + 1 < TOOL_WORKER_NAME_MAX &&
           n < sizeof(ws->name) && ws->name[n] != '\0'; n++)
        out[n] = strchr(AIRSRT_CONFIG_NAME_CHARS "[]", ws->name[n]) != NULL ?
                 ws->name[n] : '?';
    out[n] = '\0';
}

int tool_worker_arg(const struct airsrt_shm *shm, const char *prog,
                    const char *spec, uint32_t *w)
{
    uint32_t n = shm->params.nworkers;
    char name[TOOL_WORKER_NAME_MAX], *end;
    unsigned long i;

    if (spec[0] >= '0' && spec[0] <= '9') {
        errno = 0;
        i = strtoul(spec, &end, 10);
        if (errno == 0 && *end == '\0' && i < n) {
            *w = (uint32_t)i;
            return TOOL_EXIT_OK;
        }
    } else {
        for (uint32_t k = 0; k < n; k++) {
            tool_worker_name(shm, k, name);
            if (name[0] != '\0' && strcmp(name, spec) == 0) {
                *w = k;
                return TOOL_EXIT_OK;
            }
        }
    }
    fprintf(stderr, "%s: no worker \"%s\" in runtime \"%s\" (give group[i] "
            "or an index below %u)\n", prog, spec, shm->hdr->name, n);
    return TOOL_EXIT_USAGE;
}

int tool_name_resolve(const struct airsrt_shm *shm, const char *name,
                      uint32_t *id, struct airsrt_address *holder)
{
    struct airsrt_registry reg;
    int rc = airsrt_registry_open(&reg, shm);

    if (rc == 0)
        rc = airsrt_registry_resolve(&reg, name, id, holder);
    if (rc < 0)
        return rc;
    /* The entry is checksummed, but the address in it is whatever its
     * writer put there: only ours to follow if it is whole and local. */
    if (airsrt_address_is_null(holder) ||
        airsrt_address_validate(holder) < 0 || holder->node != 0 ||
        holder->worker >= shm->params.nworkers)
        return -EHOSTDOWN;
    return 0;
}
