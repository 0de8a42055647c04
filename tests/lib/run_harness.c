/*
 * tests/lib/run_harness.c - see run_harness.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/harness.h"
#include "tests/lib/program.h"
#include "tests/lib/run_harness.h"
#include "tests/lib/worker_harness.h"

struct rh_run rh;

/* Copies body into f, replacing {BIN} and {DIR}. */
static void put_body(FILE *f, const char *body)
{
    const char *bin = wh_build_path("tests/bin/sv_worker");

    for (const char *p = body; *p;) {
        if (strncmp(p, "{BIN}", 5) == 0) {
            fputs(bin, f);
            p += 5;
        } else if (strncmp(p, "{DIR}", 5) == 0) {
            fputs(rh.dir, f);
            p += 5;
        } else {
            fputc(*p++, f);
        }
    }
}

void rh_write(const char *runtime_extra, const char *body)
{
    /* Valgrind makes every start slower: the hang timeout must allow it. */
    unsigned hang = getenv("AIRSRT_UNDER_VALGRIND") ? 20000 : 2000;
    FILE *f;

    snprintf(rh.dir, sizeof(rh.dir), "/tmp/airsrt-run-XXXXXX");
    cr_assert_not_null(mkdtemp(rh.dir));
    snprintf(rh.config, sizeof(rh.config), "%s/system.ini", rh.dir);
    snprintf(rh.events, sizeof(rh.events), "%s/events.jsonl", rh.dir);
    snprintf(rh.name, sizeof(rh.name), "%s", harness_name("run"));
    f = fopen(rh.config, "w");
    cr_assert_not_null(f);
    if (runtime_extra == NULL)
        runtime_extra = "";
    fprintf(f, "[runtime]\nname = %s\nevent_log = events.jsonl\n"
               "heartbeat_ms = 20\n%s\n", rh.name, runtime_extra);
    if (strstr(runtime_extra, "hang_timeout_ms") == NULL)
        fprintf(f, "hang_timeout_ms = %u\n", hang);
    put_body(f, body);
    fclose(f);
}

void rh_start(const char *runtime_extra, const char *body)
{
    rh_write(runtime_extra, body);
    rh_launch();
}

void rh_launch(void)
{
    rh.pid = harness_fork();
    if (rh.pid == 0) {
        const char *run = wh_build_path("bin/airsrt-run");

        execl(run, run, "--quiet", rh.config, (char *)NULL);
        harness_exit(127);
    }
}

int rh_run_tool(const char *const *args, char *out, size_t len)
{
    struct program p = { .out = out, .out_len = len, .is_err_in_out = true };

    return program_run(&p, wh_build_path("bin/airsrt-run"), args);
}

static char *read_events(void)
{
    FILE *f = fopen(rh.events, "r");
    char *buf = NULL;
    size_t size = 0;

    if (f == NULL)
        return strdup("");
    if (getdelim(&buf, &size, '\0', f) < 0) {
        free(buf);
        buf = strdup("");
    }
    fclose(f);
    return buf;
}

static bool line_has_all(const char *line, va_list ap)
{
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        if (strstr(line, s) == NULL)
            return false;
    return true;
}

/* The nth line of the log matching the va_list; false if none yet. */
static bool find_line(int nth, char *out, size_t len, va_list ap)
{
    char *all = read_events(), *save = NULL;
    bool found = false;

    for (char *line = strtok_r(all, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        va_list copy;
        bool has;

        va_copy(copy, ap);
        has = line_has_all(line, copy);
        va_end(copy);
        if (has && --nth == 0) {
            snprintf(out, len, "%s", line);
            found = true;
            break;
        }
    }
    free(all);
    return found;
}

void rh_wait_event(char *line, size_t len, uint32_t timeout_ms, int nth, ...)
{
    uint64_t deadline = airsrt_now_ns() + (uint64_t)timeout_ms * 1000000u;

    for (;;) {
        va_list ap;
        bool found;

        va_start(ap, nth);
        found = find_line(nth, line, len, ap);
        va_end(ap);
        if (found)
            return;
        if (airsrt_now_ns() > deadline) {
            char *all = read_events();

            cr_log_error("event log so far:\n%s", all);
            free(all);
            cr_assert_fail("no event #%d as awaited within %u ms", nth,
                           timeout_ms);
        }
        usleep(5000);
    }
}

int rh_count_events(const char *first, ...)
{
    char *all = read_events(), *save = NULL;
    int n = 0;

    for (char *l = strtok_r(all, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        va_list ap;

        va_start(ap, first);
        if (strstr(l, first) != NULL && line_has_all(l, ap))
            n++;
        va_end(ap);
    }
    free(all);
    return n;
}

long rh_field_long(const char *line, const char *field)
{
    char key[64];
    const char *p;

    snprintf(key, sizeof(key), "\"%s\":", field);
    p = strstr(line, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

void rh_field_str(const char *line, const char *field, char *out,
                  size_t len)
{
    char key[64];
    const char *p, *end;

    snprintf(key, sizeof(key), "\"%s\":", field);
    p = strstr(line, key);
    out[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(key);
    if (*p == '"') {
        /* The event log escapes a quote inside a string (\"): the
         * value ends at the first quote no backslash precedes. */
        for (end = ++p; *end != '\0' && *end != '"'; end++)
            if (*end == '\\' && end[1] != '\0')
                end++;
        if (*end != '"')
            return;
    } else {
        end = p + strspn(p, "+-.0123456789eE");
    }
    snprintf(out, len, "%.*s", (int)(end - p), p);
}

void rh_event_sequence(const char *event, const char *field, char *out,
                       size_t len)
{
    char *all = read_events(), *save = NULL, key[64], ev[96];
    size_t n = 0;

    out[0] = '\0';
    snprintf(key, sizeof(key), "\"%s\":\"", field);
    snprintf(ev, sizeof(ev), "\"event\":\"%s\"", event);
    for (char *l = strtok_r(all, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        const char *v = strstr(l, key), *end;

        if (strstr(l, ev) == NULL || v == NULL)
            continue;
        v += strlen(key);
        end = strchr(v, '"');
        if (end == NULL)
            continue;
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%.*s",
                              n ? " " : "", (int)(end - v), v);
    }
    free(all);
}

pid_t rh_worker_pid(uint32_t w)
{
    struct airsrt_shm shm = { 0 };
    pid_t pid;

    cr_assert_eq(airsrt_shm_attach(&shm, rh.name), 0, "%s", shm.err);
    pid = atomic_load(&airsrt_shm_worker_sup(&shm, w)->pid);
    airsrt_shm_detach(&shm);
    return pid;
}

static bool segment_exists(void)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "/airsrt.%s", rh.name);
    fd = shm_open(path, O_RDONLY, 0);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

int rh_wait_exit(uint32_t timeout_ms)
{
    uint64_t deadline = airsrt_now_ns() + (uint64_t)timeout_ms * 1000000u;
    int status;

    for (;;) {
        pid_t r = waitpid(rh.pid, &status, WNOHANG);

        if (r == rh.pid)
            break;
        cr_assert_eq(r, 0, "waitpid: %s", strerror(errno));
        cr_assert_lt(airsrt_now_ns(), deadline, "airsrt-run did not end");
        usleep(5000);
    }
    rh.pid = 0;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int rh_stop(int sig)
{
    int code;

    kill(rh.pid, sig);
    code = rh_wait_exit(30000);
    if (sig == SIGTERM || sig == SIGINT)
        cr_expect(!segment_exists(), "segment left behind");
    return code;
}

bool rh_pid_gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

void rh_fini(void)
{
    char path[128], cmd[400];

    if (rh.pid > 0)
        kill(rh.pid, SIGKILL);
    harness_fini();
    if (rh.name[0] != '\0') {
        snprintf(path, sizeof(path), "/airsrt.%s", rh.name);
        shm_unlink(path);
    }
    if (rh.dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rh.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "rh_fini: could not remove %s\n", rh.dir);
    }
}
