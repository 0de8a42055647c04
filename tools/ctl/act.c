/*
 * tools/ctl/act.c - the commands that act: send (one envelope through a
 * worker's control ring: the only one that writes the segment), stop
 * (SIGTERM to the supervisor) and watch (status, again and again).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "tools/ctl/ctl.h"

/* ---- send ---- */

/* The payload: the argument, or stdin up to payload_max bytes. *len is
 * its length; -EMSGSIZE if it is longer than payload_max. */
static int payload_get(const struct ctl_opts *o, uint32_t max, uint8_t *buf,
                       uint32_t *len)
{
    size_t n = 0;
    ssize_t r;

    *len = 0;
    if (o->payload == NULL)
        return 0;
    if (strcmp(o->payload, "-") != 0) {
        n = strlen(o->payload);
        if (n > max)
            return -EMSGSIZE;
        memcpy(buf, o->payload, n);
        *len = (uint32_t)n;
        return 0;
    }
    /* buf has max + 1 bytes: one more than fits tells "too big". */
    while (n <= max && (r = read(0, buf + n, max + 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        n += (size_t)r;
    }
    if (n > max)
        return -EMSGSIZE;
    *len = (uint32_t)n;
    return 0;
}

static int send_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "airsrt-ctl: " and the reason, one line on stderr; returns code. */
static int send_fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("airsrt-ctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* Resolves o->name: its id and holder. Exit status on failure. */
static int send_resolve(const struct airsrt_shm *shm, const char *name,
                        uint32_t *id, struct airsrt_address *holder)
{
    int rc = tool_name_resolve(shm, name, id, holder);

    if (rc == -EINVAL || rc == -ENOENT)
        return send_fail(TOOL_EXIT_USAGE, "no name \"%s\" in runtime \"%s\"",
                         name, shm->hdr->name);
    if (rc == -EHOSTDOWN)
        return send_fail(TOOL_EXIT_SYSTEM, "name \"%s\" is not bound to a "
                         "live actor (its holder may be restarting); try "
                         "again", name);
    if (rc < 0)
        return send_fail(TOOL_EXIT_SYSTEM, "name \"%s\" is being written in "
                         "the registry; try again", name);
    return 0;
}

int ctl_send(struct airsrt_shm *shm, const struct ctl_opts *o)
{
    uint32_t max = shm->params.payload_max, id, len;
    struct airsrt_address holder;
    struct airsrt_msgid_gen gen;
    struct airsrt_envelope *e;
    char worker[TOOL_WORKER_NAME_MAX];
    int rc;

    rc = send_resolve(shm, o->name, &id, &holder);
    if (rc != 0)
        return rc;
    e = calloc(1, airsrt_envelope_size(max) + 1);
    if (e == NULL)
        return send_fail(TOOL_EXIT_SYSTEM, "out of memory");
    rc = payload_get(o, max, e->payload, &len);
    if (rc == -EMSGSIZE) {
        fprintf(stderr, "airsrt-ctl: payload too big: runtime \"%s\" "
                "carries at most %" PRIu32 " bytes\n", shm->hdr->name, max);
        free(e);
        return TOOL_EXIT_USAGE;
    }
    if (rc < 0) {
        free(e);
        return send_fail(TOOL_EXIT_SYSTEM, "cannot read the payload: %s",
                         strerror(-rc));
    }
    airsrt_envelope_init(e, o->type, len);
    /* By name: the worker resolves it at delivery (DESIGN.md), so a
     * holder that moved meanwhile still gets it. */
    e->recipient_name = id;
    airsrt_msgid_init(&gen, AIRSRT_MSGID_ORIGIN_TOOL, shm->hdr->epoch_ns);
    e->message_id = airsrt_msgid_next(&gen);
    rc = airsrt_shm_ctl_send(shm, holder.worker, e);
    tool_worker_name(shm, holder.worker, worker);
    if (rc == 0)
        printf("sent message 0x%016" PRIx64 " to \"%s\" (id %" PRIu32
               ") through worker %s\n", e->message_id, o->name, id, worker);
    else
        fprintf(stderr, "airsrt-ctl: cannot send to \"%s\": control ring of "
                "%s %s\n", o->name, worker,
                rc == -EAGAIN ? "is full; try again" : strerror(-rc));
    free(e);
    return rc == 0 ? 0 : TOOL_EXIT_SYSTEM;
}

/* ---- stop ---- */

static bool segment_exists(const char *path)
{
    int fd = shm_open(path, O_RDONLY, 0);

    if (fd >= 0)
        close(fd);
    return fd >= 0 || errno != ENOENT;
}

int ctl_stop(const struct airsrt_shm *shm, const struct ctl_opts *o)
{
    pid_t pid = shm->hdr->owner_pid;

    if (!tool_pid_ok(pid)) {
        fprintf(stderr, "airsrt-ctl: runtime \"%s\" has no live supervisor "
                "(pid %d is gone)\n", shm->hdr->name, (int)pid);
        return TOOL_EXIT_SYSTEM;
    }
    if (kill(pid, SIGTERM) < 0) {
        fprintf(stderr, "airsrt-ctl: cannot signal supervisor pid %d: %s\n",
                (int)pid, strerror(errno));
        return TOOL_EXIT_SYSTEM;
    }
    printf("stopping runtime \"%s\" (supervisor pid %d)\n", shm->hdr->name,
           (int)pid);
    if (!o->is_wait)
        return 0;
    /* The supervisor removes the segment last: its name gone is the end.
     * We are not its parent and cannot reap it, so its pid may linger
     * as a zombie of somebody else. */
    fflush(stdout);
    while (segment_exists(shm->path) && tool_pid_ok(pid))
        usleep(10000);
    printf("runtime \"%s\" stopped\n", shm->hdr->name);
    return 0;
}

/* ---- watch ---- */

static volatile sig_atomic_t watch_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

/* Waits interval_ms for a key; true if it was q (or stdin ended). */
static bool wait_key(bool is_tty_in, uint32_t interval_ms)
{
    struct pollfd p = { .fd = 0, .events = POLLIN };
    char c;

    if (!is_tty_in) {
        usleep(interval_ms * 1000u);
        return false;
    }
    if (poll(&p, 1, (int)interval_ms) <= 0)
        return false;
    return read(0, &c, 1) <= 0 || c == 'q' || c == 'Q';
}

int ctl_watch(const struct airsrt_shm *shm, const struct ctl_opts *o)
{
    bool is_tty = isatty(1), is_tty_in = is_tty && isatty(0);
    struct sigaction sa = { .sa_handler = on_stop_signal };
    struct termios saved, raw;
    int code = 0;

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (is_tty_in && tcgetattr(0, &saved) == 0) {
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        tcsetattr(0, TCSANOW, &raw);
    } else {
        is_tty_in = false;
    }
    for (uint32_t i = 0; !watch_stop && (o->count == 0 || i < o->count); i++) {
        if (i > 0 && wait_key(is_tty_in, o->interval_ms))
            break;
        if (watch_stop)
            break;
        if (!tool_pid_ok(shm->hdr->owner_pid)) {
            fprintf(stderr, "airsrt-ctl: runtime \"%s\" ended\n",
                    shm->hdr->name);
            code = TOOL_EXIT_SYSTEM;
            break;
        }
        /* On a terminal, redraw in place like top; elsewhere one
         * snapshot after another, separated by a blank line. */
        fputs(is_tty ? "\033[H\033[2J" : (i > 0 ? "\n" : ""), stdout);
        ctl_show_status(shm, false, stdout);
        fflush(stdout);
    }
    if (is_tty_in)
        tcsetattr(0, TCSANOW, &saved);
    return code;
}
