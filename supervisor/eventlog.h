/*
 * supervisor/eventlog.h - the supervisor's event log: every lifecycle
 * event of the tree, one JSON object per line, to the configured file or
 * to stderr. On a terminal it writes short readable lines instead, so
 * that a person running airsrt-run by hand can follow it; a file or a
 * pipe always gets JSON, which scripts and tests read.
 *
 * A JSON line carries the fields that mean something for its event, in
 * this order: time (UTC, RFC 3339 with microseconds), event, runtime,
 * supervisor, worker, index, pid, incarnation, status or signal,
 * restarts, reason, actor, actor_type, message_type, message. Strings are
 * escaped; nothing a worker wrote is printed unescaped.
 */
#ifndef AIRSRT_SUPERVISOR_EVENTLOG_H
#define AIRSRT_SUPERVISOR_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct airsrt_eventlog {
    FILE *out;
    bool is_owned;        /* opened by us: closed by close */
    bool is_readable;     /* a terminal: short lines, not JSON */
    char runtime[64];
};

/* One event. Fields left 0 / NULL are left out (index and incarnation
 * are printed when worker is set; status when has_status, signal when
 * nonzero). */
struct airsrt_event {
    const char *event;        /* "worker_started", "worker_exited", ... */
    const char *supervisor;
    const char *worker;       /* "group[i]" */
    int32_t index;            /* worker index in the segment */
    pid_t pid;
    uint32_t incarnation;
    bool has_status;
    int status;               /* exit status */
    int signal;               /* terminating signal */
    int32_t restarts;         /* -1: leave out */
    const char *reason;
    const char *actor;        /* crash report: what it was handling */
    const char *actor_type;
    int64_t message_type;     /* -1: leave out */
    const char *message;      /* free text */
};
#define AIRSRT_EVENT_INIT { .index = -1, .restarts = -1, .message_type = -1 }

/* Opens dest: "stderr" (or empty) or a file path, appended to, created
 * 0644. 0 or -errno. */
int airsrt_eventlog_open(struct airsrt_eventlog *log, const char *dest,
                         const char *runtime);
void airsrt_eventlog_close(struct airsrt_eventlog *log);

/* Writes one event and flushes it. Errors writing are ignored: the log
 * must never stop the supervisor. */
void airsrt_eventlog_write(struct airsrt_eventlog *log,
                           const struct airsrt_event *ev);

#endif
