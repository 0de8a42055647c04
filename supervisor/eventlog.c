/*
 * supervisor/eventlog.c - see eventlog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "supervisor/eventlog.h"

int airsrt_eventlog_open(struct airsrt_eventlog *log, const char *dest,
                         const char *runtime)
{
    memset(log, 0, sizeof(*log));
    strlcpy(log->runtime, runtime, sizeof(log->runtime));
    if (dest == NULL || dest[0] == '\0' || strcmp(dest, "stderr") == 0) {
        log->out = stderr;
    } else {
        int fd = open(dest, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

        if (fd < 0)
            return -errno;
        log->out = fdopen(fd, "a");
        if (log->out == NULL) {
            int rc = -errno;

            close(fd);
            return rc;
        }
        log->is_owned = true;
    }
    log->is_readable = isatty(fileno(log->out));
    return 0;
}

void airsrt_eventlog_close(struct airsrt_eventlog *log)
{
    if (log->is_owned && log->out != NULL)
        fclose(log->out);
    log->out = NULL;
}

static void put_string(FILE *f, const char *key, const char *s)
{
    fprintf(f, ",\"%s\":\"", key);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* "SIGKILL"; "SIG42" for one without a name. */
static const char *signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);

    if (abbrev != NULL)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "SIG%d", sig);
    return buf;
}

static void put_time(FILE *f, const char *fmt)
{
    struct timespec ts;
    struct tm tm;
    char buf[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, sizeof(buf), fmt, &tm);
    fprintf(f, "%s.%06ld", buf, ts.tv_nsec / 1000);
}

static void write_json(struct airsrt_eventlog *log,
                       const struct airsrt_event *ev)
{
    FILE *f = log->out;
    char sig[16];

    fputs("{\"time\":\"", f);
    put_time(f, "%Y-%m-%dT%H:%M:%S");
    fputs("Z\"", f);
    put_string(f, "event", ev->event);
    put_string(f, "runtime", log->runtime);
    if (ev->supervisor != NULL)
        put_string(f, "supervisor", ev->supervisor);
    if (ev->worker != NULL) {
        put_string(f, "worker", ev->worker);
        fprintf(f, ",\"index\":%" PRId32 ",\"incarnation\":%" PRIu32,
                ev->index, ev->incarnation);
    }
    if (ev->pid > 0)
        fprintf(f, ",\"pid\":%d", (int)ev->pid);
    if (ev->has_status)
        fprintf(f, ",\"status\":%d", ev->status);
    if (ev->signal != 0)
        put_string(f, "signal", signal_name(ev->signal, sig, sizeof(sig)));
    if (ev->restarts >= 0)
        fprintf(f, ",\"restarts\":%" PRId32, ev->restarts);
    if (ev->reason != NULL)
        put_string(f, "reason", ev->reason);
    if (ev->actor != NULL)
        put_string(f, "actor", ev->actor);
    if (ev->actor_type != NULL)
        put_string(f, "actor_type", ev->actor_type);
    if (ev->message_type >= 0)
        fprintf(f, ",\"message_type\":%" PRId64, ev->message_type);
    if (ev->message != NULL)
        put_string(f, "message", ev->message);
    fputs("}\n", f);
}

/* "12:00:01.234567 bank: worker_exited tellers[0] pid 12 signal SIGKILL" */
static void write_readable(struct airsrt_eventlog *log,
                           const struct airsrt_event *ev)
{
    FILE *f = log->out;
    char sig[16];

    put_time(f, "%H:%M:%S");
    fprintf(f, " %s: %s", log->runtime, ev->event);
    if (ev->worker != NULL)
        fprintf(f, " %s (#%" PRIu32 ")", ev->worker, ev->incarnation);
    else if (ev->supervisor != NULL)
        fprintf(f, " supervisor %s", ev->supervisor);
    if (ev->pid > 0)
        fprintf(f, " pid %d", (int)ev->pid);
    if (ev->has_status)
        fprintf(f, " status %d", ev->status);
    if (ev->signal != 0)
        fprintf(f, " signal %s", signal_name(ev->signal, sig, sizeof(sig)));
    if (ev->reason != NULL)
        fprintf(f, " (%s)", ev->reason);
    if (ev->actor != NULL)
        fprintf(f, " in %s%s%s", ev->actor, ev->actor_type ? " of type " : "",
                ev->actor_type ? ev->actor_type : "");
    if (ev->message_type >= 0)
        fprintf(f, " handling message type %#" PRIx64,
                (uint64_t)ev->message_type);
    if (ev->restarts > 0)
        fprintf(f, ", restarts %" PRId32, ev->restarts);
    if (ev->message != NULL)
        fprintf(f, ": %s", ev->message);
    fputc('\n', f);
}

void airsrt_eventlog_write(struct airsrt_eventlog *log,
                           const struct airsrt_event *ev)
{
    if (log->out == NULL)
        return;
    if (log->is_readable)
        write_readable(log, ev);
    else
        write_json(log, ev);
    fflush(log->out);
}
