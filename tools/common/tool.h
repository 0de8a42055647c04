/*
 * tools/common/tool.h - what airsrt-ctl and airsrt-inject share: their
 * exit statuses, the pieces of their command lines (args.c, libc only),
 * attaching to a runtime by name, and naming its workers, each said the
 * same way by both tools (runtime.c).
 *
 * A worker's slot name is read from the segment, which other processes
 * wrote: it is cut to its array and limited to the characters a config
 * group name and "[i]" can hold, so that it is safe in a line and in
 * JSON.
 */
#ifndef AIRSRT_TOOLS_COMMON_TOOL_H
#define AIRSRT_TOOLS_COMMON_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/segment.h"

/* Exit statuses (STYLE.md): done, the user's mistake, the system's. */
#define TOOL_EXIT_OK      0
#define TOOL_EXIT_USAGE   100
#define TOOL_EXIT_SYSTEM  111

#define TOOL_WORKER_NAME_MAX 64u        /* a slot name, NUL included */

/* ---- args.c: the command line, libc only ---- */

/* Formats a usage error into err (len bytes): one line, no program
 * name, no newline, each control byte of it '?'. Returns
 * TOOL_EXIT_USAGE. */
int tool_usage_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The options before the command, from argv[*i] on: -r NAME,
 * --runtime NAME, --runtime=NAME (the last one wins, into *runtime,
 * which points into argv), -h and --help (*is_help, and nothing after
 * it is read). Stops at the first other argument, leaving *i there: the
 * tool says how it takes one that starts with '-'. 0, or
 * TOOL_EXIT_USAGE with the reason in err. */
int tool_parse_global(int argc, char *const argv[], int *i,
                      const char **runtime, bool *is_help, char *err,
                      size_t len);

/* A message type a tool may send: decimal or 0x hex digits only, below
 * the runtime's reserved range (AIRSRT_TYPE_RESERVED). 0, -EINVAL (not
 * such a number) or -ERANGE (reserved or too big). */
int tool_parse_type(const char *s, uint32_t *type);

/* ---- runtime.c ---- */

/* True if pid, read from the segment, names a process the tool may
 * signal or wait on: above 1 (a scribbled 0 or -1 would make kill()
 * signal a whole group or every process, 1 is init), not the tool
 * itself, and alive. Alive includes one that kill(pid, 0) refuses with
 * EPERM: it exists, and the kill that follows then fails and says why,
 * instead of the tool claiming it is gone. Call it before every kill()
 * and every "is it still there" check. */
bool tool_pid_ok(pid_t pid);

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

/* Resolves registered name `name` to its registry id and its holder,
 * which is then a valid address of an actor on this node, in a worker
 * this runtime has. Does not wait and prints nothing. 0; -EINVAL not a
 * well-formed name; -ENOENT no such name; -EAGAIN its entry is being
 * written; -EHOSTDOWN nobody holds it now, or its holder is not such an
 * address (a torn or scribbled entry); another -errno if the registry
 * cannot be opened. */
int tool_name_resolve(const struct airsrt_shm *shm, const char *name,
                      uint32_t *id, struct airsrt_address *holder);

#endif
