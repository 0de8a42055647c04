/*
 * tools/common/tool.h - what airsrt-ctl and airsrt-inject share: their
 * exit statuses, attaching to a runtime by name, and naming its workers,
 * each said the same way by both tools (runtime.c).
 *
 * A worker's slot name is read from the segment, which other processes
 * wrote: it is cut to its array and limited to the characters a config
 * group name and "[i]" can hold, so that it is safe in a line and in
 * JSON.
 */
#ifndef AIRSRT_TOOLS_COMMON_TOOL_H
#define AIRSRT_TOOLS_COMMON_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/segment.h"

/* Exit statuses (STYLE.md): done, the user's mistake, the system's. */
#define TOOL_EXIT_OK      0
#define TOOL_EXIT_USAGE   100
#define TOOL_EXIT_SYSTEM  111

#define TOOL_WORKER_NAME_MAX 64u        /* a slot name, NUL included */

/* Maps runtime `name`, read-only when is_ro. 0; else prints "prog: why"
 * and returns TOOL_EXIT_USAGE (a malformed name) or TOOL_EXIT_SYSTEM (no
 * such runtime, no permission, another layout version, a corrupt
 * segment). */
int tool_attach(struct airsrt_shm *shm, const char *prog, const char *name,
                bool is_ro);

/* Worker w's slot name ("group[i]"), "" if the slot has none. */
void tool_worker_name(const struct airsrt_shm *shm, uint32_t w,
                      char out[TOOL_WORKER_NAME_MAX]);

/* The index of WORKER as the user gave it: a decimal index or a slot
 * name. 0; else prints "prog: no worker ..." and returns
 * TOOL_EXIT_USAGE. */
int tool_worker_arg(const struct airsrt_shm *shm, const char *prog,
                    const char *spec, uint32_t *w);

#endif
