/*
 * tests/supervisor/test_eventlog.c - the event log: one JSON object per
 * line with the fields an event has, strings escaped, signals by name;
 * short readable lines for a terminal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "supervisor/eventlog.h"

static char path[] = "/tmp/airsrt-eventlog-XXXXXX";

static void log_open(struct airsrt_eventlog *log)
{
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(airsrt_eventlog_open(log, path, "bank"), 0);
}

static void log_read(char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    cr_assert_not_null(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
}

Test(eventlog, writes_one_json_object_per_line_with_the_given_fields)
{
    struct airsrt_eventlog log;
    struct airsrt_event ev = AIRSRT_EVENT_INIT;
    char buf[1024];

    log_open(&log);
    cr_assert_not(log.is_readable);
    ev.event = "worker_exited";
    ev.supervisor = "branch";
    ev.worker = "tellers[0]";
    ev.index = 2;
    ev.pid = 4242;
    ev.incarnation = 1;
    ev.signal = SIGKILL;
    ev.restarts = 0;
    ev.reason = "crashed";
    ev.actor = "bank.teller.0";
    ev.actor_type = "teller";
    ev.message_type = 9;
    airsrt_eventlog_write(&log, &ev);
    airsrt_eventlog_close(&log);
    log_read(buf, sizeof(buf));
    cr_assert_eq(strncmp(buf, "{\"time\":\"", 9), 0, "%s", buf);
    cr_assert(strstr(buf, "Z\",\"event\":\"worker_exited\",\"runtime\":\"bank\","
                          "\"supervisor\":\"branch\",\"worker\":\"tellers[0]\","
                          "\"index\":2,\"incarnation\":1,\"pid\":4242,"
                          "\"signal\":\"SIGKILL\",\"restarts\":0,"
                          "\"reason\":\"crashed\",\"actor\":\"bank.teller.0\","
                          "\"actor_type\":\"teller\",\"message_type\":9}\n")
              != NULL, "%s", buf);
    cr_assert_null(strstr(buf, "status"), "%s", buf);
}

Test(eventlog, escapes_what_it_did_not_write_itself)
{
    struct airsrt_eventlog log;
    struct airsrt_event ev = AIRSRT_EVENT_INIT;
    char buf[1024];

    log_open(&log);
    ev.event = "worker_exited";
    ev.actor = "a\"b\\c\nd\x01\xff";
    ev.has_status = true;
    ev.status = 3;
    airsrt_eventlog_write(&log, &ev);
    airsrt_eventlog_close(&log);
    log_read(buf, sizeof(buf));
    cr_assert(strstr(buf, "\"status\":3") != NULL, "%s", buf);
    cr_assert(strstr(buf, "\"actor\":\"a\\\"b\\\\c\\u000ad\\u0001\\u00ff\"")
              != NULL, "%s", buf);
    cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1, "one line");
}

Test(eventlog, writes_short_readable_lines_on_a_terminal)
{
    struct airsrt_eventlog log;
    struct airsrt_event ev = AIRSRT_EVENT_INIT;
    char buf[1024];

    log_open(&log);
    log.is_readable = true;     /* as isatty() would say on a terminal */
    ev.event = "worker_exited";
    ev.worker = "tellers[0]";
    ev.incarnation = 1;
    ev.pid = 77;
    ev.signal = SIGSEGV;
    ev.reason = "crashed";
    ev.actor = "bank.teller.0";
    ev.actor_type = "teller";
    ev.message_type = 9;
    airsrt_eventlog_write(&log, &ev);
    airsrt_eventlog_close(&log);
    log_read(buf, sizeof(buf));
    cr_assert(strstr(buf, " bank: worker_exited tellers[0] (#1) pid 77 signal "
                          "SIGSEGV (crashed) in bank.teller.0 of type teller "
                          "handling message type 0x9\n") != NULL, "%s", buf);
    cr_assert_null(strchr(buf, '{'), "%s", buf);
}

Test(eventlog, refuses_a_file_it_cannot_open)
{
    struct airsrt_eventlog log;

    cr_assert_eq(airsrt_eventlog_open(&log, "/nonexistent/dir/events", "x"),
                 -ENOENT);
}
