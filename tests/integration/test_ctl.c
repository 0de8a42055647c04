/*
 * tests/integration/test_ctl.c - airsrt-ctl against real systems started
 * through airsrt-run (tests/bin/ctl_worker): golden text for every
 * command with the volatile fields (pids, times, the runtime's name)
 * masked, --json parsed, send reaching the named actor, stop ending the
 * runtime cleanly, postmortem after a kill -9 in a known handler, watch
 * on a non-tty, and every error path with its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <criterion/criterion.h>

#include "shm/segment.h"
#include "tests/lib/harness.h"
#include "tests/lib/json_check.h"
#include "tests/lib/program.h"
#include "tests/lib/run_harness.h"
#include "tests/lib/worker_harness.h"

#define WAIT 20000
#define OUT 32768

static char out[OUT], err[8192], line[2048];

/* ---- running airsrt-ctl ---- */

/* Runs airsrt-ctl with the NULL-terminated args, stdin from `in` (NULL:
 * empty), as user nobody if as_nobody; stdout in out, stderr in err;
 * returns its exit status. */
static int ctl_as(bool as_nobody, const char *in, const char *first,
                  va_list ap)
{
    const char *args[24] = { first };
    struct program p = { .in = in, .as_nobody = as_nobody,
                         .out = out, .out_len = sizeof(out),
                         .err = err, .err_len = sizeof(err) };
    int n = 1;

    while (n < 23 && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    args[n] = NULL;
    return program_run(&p, wh_build_path("bin/airsrt-ctl"), args);
}

static int ctl_in(const char *in, const char *first, ...)
{
    va_list ap;
    int rc;

    va_start(ap, first);
    rc = ctl_as(false, in, first, ap);
    va_end(ap);
    return rc;
}

#define ctl(...) ctl_in(NULL, __VA_ARGS__, (const char *)NULL)

/* As ctl_in, as user nobody (65534): for root, who ignores modes. */
static int ctl_nobody(const char *first, ...)
{
    va_list ap;
    int rc;

    va_start(ap, first);
    rc = ctl_as(true, NULL, first, ap);
    va_end(ap);
    return rc;
}

/* ---- masking volatile text ---- */

/* Replaces group 1 of every match of pattern (or the whole match if it
 * has no group) in buf with token. */
static void mask(char *buf, size_t len, const char *pattern,
                 const char *token)
{
    char *res = malloc(len);
    size_t used = 0;
    regmatch_t m[2];
    regex_t re;
    const char *p = buf;

    cr_assert_not_null(res);
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    while (regexec(&re, p, 2, m, p == buf ? 0 : REG_NOTBOL) == 0 &&
           m[0].rm_eo > 0) {
        regmatch_t g = re.re_nsub >= 1 && m[1].rm_so >= 0 ? m[1] : m[0];

        used += (size_t)snprintf(res + used, len - used, "%.*s%s",
                                 (int)g.rm_so, p, token);
        p += g.rm_eo;
        if (used >= len)
            break;
    }
    if (used < len)
        snprintf(res + used, len - used, "%s", p);
    regfree(&re);
    strlcpy(buf, res, len);
    free(res);
}

/* The runtime's name, pids and times of status text. */
static void mask_status(char *buf)
{
    char layout[32];

    /* This build's layout version, and no other, reads as V. */
    snprintf(layout, sizeof(layout), "layout (%u) ", AIRSRT_SHM_VERSION);
    mask(buf, OUT, layout, "V");
    mask(buf, OUT, rh.name, "RT");
    mask(buf, OUT, "supervisor pid ([0-9]+)", "PID");
    mask(buf, OUT, "uptime ([0-9.]+s)", "T");
    mask(buf, OUT, "^ +[0-9]+  [^ ]+ +([0-9]+ +)", "PID      ");
    mask(buf, OUT, " ([0-9]+ms +)[^ ]+$", "BEAT    ");
}

/* The whole text is one well-formed JSON value (tests/lib/json_check.h). */
static void assert_json(const char *text)
{
    cr_assert(json_check(text), "not one JSON value: %s", text);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- the system under test ---- */

/* a[0], a[1]: a recorder named rec.{i}, a subscriber of "news", a member
 * of "crew"; b[0]: hang1 (a hang actor) and two members of "crew". */
static void start_system(const char *extra)
{
    const char *bin = wh_build_path("tests/bin/ctl_worker");
    char body[1024];

    snprintf(body, sizeof(body),
             "[supervisor top]\nmax_restarts = 10\n"
             "[worker a]\nbinary = %s\ncount = 2\n"
             "actor = rec@rec.{i}={DIR}/rec{i}.txt\n"
             "actor = sub=news\nactor = member=crew\n"
             "[worker b]\nbinary = %s\n"
             "actor = hang@hang1={DIR}/ready\n"
             "actor = member=crew\nactor = member=crew\n", bin, bin);
    rh_start(extra, body);
    rh_wait_event(line, sizeof(line), WAIT, 1, "\"event\":\"worker_started\"",
                  "\"worker\":\"b[0]\"", NULL);
}

/* Until every actor has started: 3 names bound, 4 pool members, 2
 * workers subscribed. */
static void wait_ready(void)
{
    for (int i = 0; i < 1000; i++) {
        bool ok = ctl("-r", rh.name, "pools", "--json") == 0 &&
                  strstr(out, "\"members\":4}") != NULL &&
                  ctl("-r", rh.name, "topics", "--json") == 0 &&
                  strstr(out, "\"workers\":[\"a[0]\",\"a[1]\"]") != NULL &&
                  ctl("-r", rh.name, "names", "--json") == 0 &&
                  count_of(out, "\"bound\":true") == 3;

        if (ok)
            return;
        usleep(20000);
    }
    cr_assert_fail("the system never got ready: %s", out);
}

static void file_wait(const char *path, const char *text)
{
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(path, "r");
        size_t n = 0;

        if (f != NULL) {
            n = fread(line, 1, sizeof(line) - 1, f);
            fclose(f);
        }
        line[n] = '\0';
        if (f != NULL && strstr(line, text) != NULL)
            return;
        usleep(20000);
    }
    cr_assert_fail("%s never held \"%s\" (has \"%s\")", path, text, line);
}

#define USAGE                                                               \
    "usage: airsrt-ctl -r RUNTIME COMMAND [ARGS]\n"                         \
    "  status [--json]              the runtime and each worker\n"          \
    "  names [--json]               registered names and holders\n"         \
    "  topics [--json]              topics and subscribing workers\n"       \
    "  pools [--json]               pools and members per worker\n"         \
    "  actors WORKER [--top N] [--json]\n"                                  \
    "                               busiest actors of a worker\n"           \
    "  watch [--interval MS] [--count N]\n"                                 \
    "                               status, refreshed\n"                    \
    "  send NAME TYPE [PAYLOAD | -] one envelope to a name\n"               \
    "  stop [--wait]                orderly shutdown\n"                     \
    "  postmortem WORKER [--json]   a worker's last death\n"                \
    "WORKER is group[i] or an index. Exit: 0 ok, 100 usage, 111 system.\n"

#define STATUS_HEAD                                                         \
    "runtime RT  layout V  supervisor pid PID  uptime T  workers 3\n"       \
    "IDX  WORKER       PID      STATE      INC  RST  ACTORS  INBOUND       " \
    "              IN       OUT   DEAD  BEAT    HANDLING\n"
#define STATUS_ROW(i, name)                                                 \
    "  " #i "  " name "         PID      running      1    0       3  "     \
    "0/3145728                    0         0      0  BEAT    -\n"
#define STATUS_TEXT                                                         \
    STATUS_HEAD STATUS_ROW(0, "a[0]") STATUS_ROW(1, "a[1]")                 \
    STATUS_ROW(2, "b[0]")

Test(ctl, status_prints_every_worker, .timeout = 60, .fini = rh_fini)
{
    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "status"), 0, "%s", err);
    mask_status(out);
    cr_assert_str_eq(out, STATUS_TEXT);
    cr_assert_str_eq(err, "");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, status_json_is_parseable_and_complete, .timeout = 60,
     .fini = rh_fini)
{
    char pid[64];

    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "status", "--json"), 0, "%s", err);
    assert_json(out);
    snprintf(pid, sizeof(pid), "\"supervisor_pid\":%d,", (int)rh.pid);
    cr_assert_not_null(strstr(out, pid), "%s", out);
    snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)rh_worker_pid(2));
    cr_assert_not_null(strstr(out, pid), "%s", out);
    cr_assert_not_null(strstr(out, "{\"runtime\":\""));
    snprintf(pid, sizeof(pid), "\"layout_version\":%u,", AIRSRT_SHM_VERSION);
    cr_assert_not_null(strstr(out, pid), "%s", out);
    cr_assert_eq(count_of(out, "\"state\":\"running\",\"incarnation\":1,"
                          "\"restarts\":0,\"actors_alive\":3,"), 3, "%s", out);
    cr_assert_eq(count_of(out, "\"inbound_capacity\":3145728,"), 3);
    cr_assert_eq(count_of(out, "\"dead_letters\":{\"stale\":0,\"expired\":0,"
                          "\"mailbox_full\":0,\"unbound\":0,\"stopped\":0,"
                          "\"unroutable\":0,\"late_reply\":0,"
                          "\"no_subscriber\":0}"), 3);
    cr_assert_eq(count_of(out, "\"heartbeat_age_ms\":"), 3);
    cr_assert_eq(count_of(out, "\"handling\":null}"), 3);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, names_topics_and_pools_list_the_registry, .timeout = 60,
     .fini = rh_fini)
{
    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "names"), 0, "%s", err);
    cr_assert_str_eq(out,
        "NAME                         ID  HOLDER               WORKER       STATE\n"
        "hang1                      1593  <2.1:1.1>            b[0]         bound\n"
        "rec.1                      3197  <1.1:1.1>            a[1]         bound\n"
        "rec.0                      3600  <0.1:1.1>            a[0]         bound\n");
    cr_assert_eq(ctl("-r", rh.name, "topics"), 0, "%s", err);
    cr_assert_str_eq(out,
        "TOPIC                        ID  WORKERS\n"
        "news                       3143  a[0],a[1]\n");
    cr_assert_eq(ctl("-r", rh.name, "pools"), 0, "%s", err);
    cr_assert_str_eq(out,
        "POOL                         ID  MEMBERS  WORKERS\n"
        "crew                        889        4  a[0]=1,a[1]=1,b[0]=2\n");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, names_topics_and_pools_json, .timeout = 60, .fini = rh_fini)
{
    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "names", "--json"), 0, "%s", err);
    assert_json(out);
    cr_assert_not_null(strstr(out, "{\"name\":\"rec.0\",\"id\":3600,"
                              "\"bound\":true,\"holder\":\"<0.1:1.1>\","
                              "\"worker\":\"a[0]\"}"), "%s", out);
    cr_assert_not_null(strstr(out, "],\"unreadable\":0}\n"), "%s", out);
    cr_assert_eq(ctl("-r", rh.name, "topics", "--json"), 0, "%s", err);
    assert_json(out);
    cr_assert_not_null(strstr(out, ",\"topics\":[{\"name\":\"news\","
                              "\"id\":3143,\"workers\":[\"a[0]\",\"a[1]\"]}]"),
                       "%s", out);
    cr_assert_eq(ctl("-r", rh.name, "pools", "--json"), 0, "%s", err);
    assert_json(out);
    cr_assert_not_null(strstr(out, ",\"pools\":[{\"name\":\"crew\",\"id\":889,"
                              "\"workers\":[{\"worker\":\"a[0]\",\"members\":1},"
                              "{\"worker\":\"a[1]\",\"members\":1},"
                              "{\"worker\":\"b[0]\",\"members\":2}],"
                              "\"members\":4}]"), "%s", out);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, names_topics_and_pools_say_when_there_are_none, .timeout = 60,
     .fini = rh_fini)
{
    char body[256];

    snprintf(body, sizeof(body), "[worker a]\nbinary = %s\nactor = idle\n",
             wh_build_path("tests/bin/ctl_worker"));
    rh_start(NULL, body);
    rh_wait_event(line, sizeof(line), WAIT, 1, "\"event\":\"worker_started\"",
                  NULL);
    cr_assert_eq(ctl("-r", rh.name, "names"), 0);
    cr_assert_str_eq(out, "no names\n");
    cr_assert_eq(ctl("-r", rh.name, "topics"), 0);
    cr_assert_str_eq(out, "no topics\n");
    cr_assert_eq(ctl("-r", rh.name, "pools"), 0);
    cr_assert_str_eq(out, "no pools\n");
    cr_assert_eq(ctl("-r", rh.name, "pools", "--json"), 0);
    assert_json(out);
    cr_assert(strstr(out, ",\"pools\":[],\"unreadable\":0}\n") != NULL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

#define ACTORS_HEAD                                                         \
    "ADDRESS              TYPE             NAME                 STATE       " \
    "DEPTH    HANDLED RESTARTS  LAST\n"

Test(ctl, actors_lists_the_busiest_first, .timeout = 60, .fini = rh_fini)
{
    char path[300];

    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "actors", "a[0]"), 0, "%s", err);
    mask(out, OUT, "  ([0-9]+ms|-)$", "LAST");
    cr_assert_str_eq(out,
        "worker a[0] (index 0, incarnation 1): 3 actors alive, top 3 by "
        "mailbox depth\n" ACTORS_HEAD
        "<0.1:1.1>            rec              rec.0                running "
        "        0          0        0  LAST\n"
        "<0.1:2.1>            sub              -                    running "
        "        0          0        0  LAST\n"
        "<0.1:3.1>            member           -                    running "
        "        0          0        0  LAST\n");
    /* Two envelopes to a[1]'s recorder: the busiest actor of a[1] by
     * handled count, so the only one --top 1 shows. */
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.1", "1", "x"), 0, "%s", err);
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.1", "2", "y"), 0, "%s", err);
    snprintf(path, sizeof(path), "%s/rec1.txt", rh.dir);
    file_wait(path, "type=0x2");
    for (int i = 0; i < 500; i++) {
        cr_assert_eq(ctl("-r", rh.name, "actors", "1", "--top", "1",
                         "--json"), 0, "%s", err);
        if (strstr(out, "\"handled\":2,") != NULL)
            break;
        usleep(20000);
    }
    assert_json(out);
    mask(out, OUT, "\"last_age_ms\":([0-9]+)", "0");
    mask(out, OUT, rh.name, "RT");
    cr_assert_str_eq(out,
        "{\"runtime\":\"RT\",\"worker\":\"a[1]\",\"index\":1,"
        "\"incarnation\":1,\"actors_alive\":3,\"actors\":[{\"address\":"
        "\"<1.1:1.1>\",\"slot\":1,\"type\":\"rec\",\"name\":\"rec.1\","
        "\"state\":\"running\",\"depth\":0,\"handled\":2,\"restarts\":0,"
        "\"last_age_ms\":0}]}\n");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, send_reaches_the_named_actor, .timeout = 60, .fini = rh_fini)
{
    char path[300];

    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.0", "0x10", "hello"), 0,
                 "%s", err);
    mask(out, OUT, "0x([0-9a-f]{16})", "ID");
    mask(out, OUT, rh.name, "RT");
    cr_assert_str_eq(out, "sent message 0xID to \"rec.0\" (id 3600) through "
                     "worker a[0]\n");
    cr_assert_eq(ctl_in("from stdin", "-r", rh.name, "send", "rec.0", "17",
                        "-", (const char *)NULL), 0, "%s", err);
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.0", "3"), 0, "%s", err);
    snprintf(path, sizeof(path), "%s/rec0.txt", rh.dir);
    file_wait(path, "type=0x3 ");
    cr_assert_str_eq(line, "type=0x10 len=5 payload=hello\n"
                     "type=0x11 len=10 payload=from stdin\n"
                     "type=0x3 len=0 payload=\n");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, send_message_ids_have_the_tool_origin, .timeout = 60,
     .fini = rh_fini)
{
    unsigned long long id;

    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.0", "1"), 0, "%s", err);
    cr_assert_eq(sscanf(out, "sent message 0x%llx", &id), 1);
    cr_assert_eq(airsrt_msgid_origin(id), AIRSRT_MSGID_ORIGIN_TOOL);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, stop_ends_the_runtime_and_leaves_nothing, .timeout = 60,
     .fini = rh_fini)
{
    pid_t pids[3];

    start_system(NULL);
    wait_ready();
    for (uint32_t w = 0; w < 3; w++)
        pids[w] = rh_worker_pid(w);
    cr_assert_eq(ctl("-r", rh.name, "stop"), 0, "%s", err);
    mask(out, OUT, rh.name, "RT");
    mask(out, OUT, "pid ([0-9]+)", "PID");
    cr_assert_str_eq(out, "stopping runtime \"RT\" (supervisor pid PID)\n");
    cr_assert_eq(rh_wait_exit(WAIT), 0);
    for (uint32_t w = 0; w < 3; w++)
        cr_assert(rh_pid_gone(pids[w]), "worker %u left behind", w);
    cr_assert_eq(ctl("-r", rh.name, "status"), 111);
}

Test(ctl, stop_wait_returns_once_the_segment_is_gone, .timeout = 60,
     .fini = rh_fini)
{
    char path[128];

    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "stop", "--wait"), 0, "%s", err);
    mask(out, OUT, rh.name, "RT");
    mask(out, OUT, "pid ([0-9]+)", "PID");
    cr_assert_str_eq(out, "stopping runtime \"RT\" (supervisor pid PID)\n"
                     "runtime \"RT\" stopped\n");
    snprintf(path, sizeof(path), "/airsrt.%s", rh.name);
    cr_assert_lt(shm_open(path, O_RDONLY, 0), 0);
    cr_assert_eq(rh_wait_exit(WAIT), 0);
}

Test(ctl, watch_prints_count_snapshots_on_a_non_tty, .timeout = 60,
     .fini = rh_fini)
{
    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "watch", "--count", "2", "--interval",
                     "50"), 0, "%s", err);
    mask_status(out);
    cr_assert_str_eq(out, STATUS_TEXT "\n" STATUS_TEXT);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, postmortem_says_when_no_death_is_recorded, .timeout = 60,
     .fini = rh_fini)
{
    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "b[0]"), 0, "%s", err);
    cr_assert_str_eq(out, "worker b[0] (index 2): no death recorded\n");
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "2", "--json"), 0);
    mask(out, OUT, rh.name, "RT");
    cr_assert_str_eq(out, "{\"runtime\":\"RT\",\"worker\":\"b[0]\","
                     "\"index\":2,\"deaths\":0,\"last\":null}\n");
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* Sends types 1, 2, 3 and then 7 to hang1, which blocks in its handler
 * on 7; kills its worker with SIGKILL there; waits for the restart. ids
 * gets the message ids airsrt-ctl printed, in order. */
static void kill_while_handling(unsigned long long ids[4])
{
    static const char *const types[4] = { "1", "2", "0x3", "7" };
    char path[300];
    pid_t pid;

    for (int i = 0; i < 4; i++) {
        cr_assert_eq(ctl("-r", rh.name, "send", "hang1", types[i],
                         i == 3 ? "boom" : "abc"), 0, "%s", err);
        cr_assert_eq(sscanf(out, "sent message 0x%llx", &ids[i]), 1);
    }
    snprintf(path, sizeof(path), "%s/ready", rh.dir);
    file_wait(path, "");
    pid = rh_worker_pid(2);
    cr_assert_gt(pid, 0);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    rh_wait_event(line, sizeof(line), WAIT, 1,
                  "\"event\":\"worker_restarted\"", "\"worker\":\"b[0]\"",
                  NULL);
}

Test(ctl, postmortem_names_the_actor_and_message_after_kill_9,
     .timeout = 60, .fini = rh_fini)
{
    unsigned long long ids[4];
    char expect[2048], row[4][200];

    start_system(NULL);
    wait_ready();
    kill_while_handling(ids);
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "b[0]"), 0, "%s", err);
    for (int i = 0; i < 4; i++)
        snprintf(row[i], sizeof(row[i]), "  AT           %-12s -         "
                 "           <2.1:1.1>            0x%016llx   %d\n",
                 i == 0 ? "0x1" : i == 1 ? "0x2" : i == 2 ? "0x3" : "0x7",
                 ids[i], i == 3 ? 4 : 3);
    snprintf(expect, sizeof(expect),
             "worker b[0] (index 2): 1 death recorded, the last:\n"
             "  incarnation 1, pid PID, killed by signal 9 (SIGKILL), "
             "crashed\n"
             "  died WHEN up\n"
             "  handling: actor hang1 <2.1:1.1> (type hang), message type "
             "0x7\n"
             "last 4 envelopes handled, oldest first:\n"
             "  AT           TYPE         SENDER               RECIPIENT   "
             "         MESSAGE_ID           LEN\n%s%s%s%s",
             row[0], row[1], row[2], row[3]);
    mask(out, OUT, "pid ([0-9]+)", "PID");
    mask(out, OUT, "died ([^ ]+ after [0-9.]+s) up", "WHEN");
    mask(out, OUT, "^  ([0-9]+ms +)", "AT           ");
    cr_assert_str_eq(out, expect);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, postmortem_json_lists_the_flight_recorder, .timeout = 60,
     .fini = rh_fini)
{
    unsigned long long ids[4];
    char want[256];
    const char *p;

    start_system(NULL);
    wait_ready();
    kill_while_handling(ids);
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "b[0]", "--json"), 0);
    assert_json(out);
    cr_assert_not_null(strstr(out, "\"deaths\":1,\"last\":{\"incarnation\":1,"
                              ), "%s", out);
    cr_assert_not_null(strstr(out, "\"status\":-1,\"signal\":9,\"reason\":"
                              "\"crashed\","), "%s", out);
    cr_assert_not_null(strstr(out, "\"handling\":{\"actor\":\"<2.1:1.1>\","
                              "\"actor_name\":\"hang1\",\"actor_type\":"
                              "\"hang\",\"message_type\":7}"), "%s", out);
    p = out;
    for (int i = 0; i < 4; i++) {
        snprintf(want, sizeof(want), ",\"type\":%d,\"sender\":null,"
                 "\"recipient\":\"<2.1:1.1>\",\"message_id\":%llu,"
                 "\"payload_len\":%d}", i == 3 ? 7 : i + 1, ids[i],
                 i == 3 ? 4 : 3);
        p = strstr(p, want);
        cr_assert_not_null(p, "entry %d out of order or missing: %s", i, out);
    }
    /* The status of the restarted worker shows the restart. */
    cr_assert_eq(ctl("-r", rh.name, "status", "--json"), 0);
    cr_assert_not_null(strstr(out, "\"name\":\"b[0]\",\"pid\":"));
    cr_assert_not_null(strstr(out, "\"incarnation\":2,\"restarts\":1,"));
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

Test(ctl, postmortem_of_a_death_between_handlers_shows_no_actor,
     .timeout = 60, .fini = rh_fini)
{
    char path[300];
    pid_t pid;

    start_system(NULL);
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.0", "5", "a"), 0, "%s", err);
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.0", "6", "bc"), 0, "%s",
                 err);
    snprintf(path, sizeof(path), "%s/rec0.txt", rh.dir);
    file_wait(path, "type=0x6");
    pid = rh_worker_pid(0);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    rh_wait_event(line, sizeof(line), WAIT, 1,
                  "\"event\":\"worker_restarted\"", "\"worker\":\"a[0]\"",
                  NULL);
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "0"), 0, "%s", err);
    mask(out, OUT, "pid ([0-9]+)", "PID");
    mask(out, OUT, "died ([^ ]+ after [0-9.]+s) up", "WHEN");
    mask(out, OUT, "^  ([0-9]+ms +)", "AT           ");
    mask(out, OUT, "0x([0-9a-f]{16})", "ID");
    cr_assert_str_eq(out,
        "worker a[0] (index 0): 1 death recorded, the last:\n"
        "  incarnation 1, pid PID, killed by signal 9 (SIGKILL), crashed\n"
        "  died WHEN up\n"
        "  handling: nothing (between handlers)\n"
        "last 2 envelopes handled, oldest first:\n"
        "  AT           TYPE         SENDER               RECIPIENT          "
        "  MESSAGE_ID           LEN\n"
        "  AT           0x5          -                    <0.1:1.1>          "
        "  0xID   1\n"
        "  AT           0x6          -                    <0.1:1.1>          "
        "  0xID   2\n");
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "0", "--json"), 0);
    assert_json(out);
    cr_assert_not_null(strstr(out, "\"handling\":null,\"flight\":[{"),
                       "%s", out);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}

/* ---- errors ---- */

Test(ctl, help_prints_usage_and_exits_0)
{
    cr_assert_eq(ctl("--help"), 0);
    cr_assert_str_eq(out, USAGE);
    cr_assert_str_eq(err, "");
    cr_assert_eq(ctl("-r", "x", "-h"), 0);
    cr_assert_str_eq(out, USAGE);
}

static void assert_usage_error(const char *first_line)
{
    char want[4096];

    snprintf(want, sizeof(want), "airsrt-ctl: %s\n" USAGE, first_line);
    cr_assert_str_eq(err, want);
    cr_assert_str_eq(out, "");
}

Test(ctl, usage_errors_exit_100)
{
    cr_assert_eq(ctl("status"), 100);
    assert_usage_error("which runtime? give -r NAME");
    cr_assert_eq(ctl("-r", "x"), 100);
    assert_usage_error("no command");
    cr_assert_eq(ctl("-r", "x", "frob"), 100);
    assert_usage_error("unknown command frob");
    cr_assert_eq(ctl("-x", "status"), 100);
    assert_usage_error("unknown option -x");
    cr_assert_eq(ctl("-r", "x", "status", "--top", "3"), 100);
    assert_usage_error("status: unknown option --top");
    cr_assert_eq(ctl("-r", "x", "actors"), 100);
    assert_usage_error("actors: missing WORKER");
    cr_assert_eq(ctl("-r", "x", "actors", "a[0]", "--top", "0"), 100);
    assert_usage_error("actors: --top takes a number from 1 to 100000, "
                       "not 0");
    cr_assert_eq(ctl("-r", "x", "watch", "--interval"), 100);
    assert_usage_error("watch: --interval needs a value");
    cr_assert_eq(ctl("-r", "x", "send", "n"), 100);
    assert_usage_error("send: missing TYPE");
    cr_assert_eq(ctl("-r", "x", "send", "n", "1", "p", "q"), 100);
    assert_usage_error("send: unexpected argument q");
}

Test(ctl, bad_types_exit_100)
{
    cr_assert_eq(ctl("-r", "x", "send", "n", "zz"), 100);
    assert_usage_error("send: type zz is not a number (decimal or 0x hex)");
    cr_assert_eq(ctl("-r", "x", "send", "n", "-1"), 100);
    assert_usage_error("send: unknown option -1");
    cr_assert_eq(ctl("-r", "x", "send", "n", "0xffff0001"), 100);
    assert_usage_error("send: type 0xffff0001 is reserved for the runtime or "
                       "too big (at most 0xfffeffff)");
    cr_assert_eq(ctl("-r", "x", "send", "n", "99999999999"), 100);
    assert_usage_error("send: type 99999999999 is reserved for the runtime "
                       "or too big (at most 0xfffeffff)");
    cr_assert_eq(ctl("-r", "x", "send", "n", "0x0x1"), 100);
    assert_usage_error("send: type 0x0x1 is not a number (decimal or 0x "
                       "hex)");
}

Test(ctl, no_such_runtime_exits_111, .fini = harness_fini)
{
    const char *name = harness_name("ctl-none");
    char want[256];

    cr_assert_eq(ctl("-r", name, "status"), 111);
    snprintf(want, sizeof(want), "airsrt-ctl: no runtime \"%s\" (no "
             "/dev/shm/airsrt.%s)\n", name, name);
    cr_assert_str_eq(err, want);
    cr_assert_str_eq(out, "");
    cr_assert_eq(ctl("-r", "bad name", "status"), 100);
    cr_assert_str_eq(err, "airsrt-ctl: invalid runtime name \"bad name\": use "
                     "1 to 63 of A-Z a-z 0-9 _ . -, not starting with . or "
                     "-\n");
}

/* A segment made by the test: a header of layout version `version`,
 * mode `mode`. Returns its name; the caller unlinks it. */
static const char *fake_segment(uint32_t version, mode_t mode)
{
    const char *name = harness_name("ctl-fake");
    struct airsrt_shm_hdr h = { .version = version, .owner_pid = 1 };
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "/airsrt.%s", name);
    fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0);
    atomic_store(&h.magic, AIRSRT_SHM_MAGIC);
    cr_assert_eq(ftruncate(fd, 65536), 0);
    cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
    return name;
}

static void fake_unlink(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "/airsrt.%s", name);
    shm_unlink(path);
}

Test(ctl, another_layout_version_exits_111, .fini = harness_fini)
{
    const char *name = fake_segment(AIRSRT_SHM_VERSION - 1, 0600);
    char want[256];
    int rc = ctl("-r", name, "status");

    fake_unlink(name);
    cr_assert_eq(rc, 111);
    snprintf(want, sizeof(want), "airsrt-ctl: /airsrt.%s has layout "
             "version %u; this build reads version %u\n", name,
             AIRSRT_SHM_VERSION - 1, AIRSRT_SHM_VERSION);
    cr_assert_str_eq(err, want);
}

/* As root, a mode can be ignored: the test then runs airsrt-ctl as
 * nobody, who cannot open a 0600 segment of root's. */
Test(ctl, no_permission_exits_111, .fini = harness_fini)
{
    bool is_root = geteuid() == 0;
    const char *name;
    char want[256];
    int rc;

    if (is_root && getenv("AIRSRT_UNDER_VALGRIND"))
        cr_skip_test("as nobody, valgrind cannot write its log");
    name = fake_segment(AIRSRT_SHM_VERSION, is_root ? 0600 : 0);

    rc = is_root ? ctl_nobody("-r", name, "status", (const char *)NULL)
                 : ctl("-r", name, "status");
    fake_unlink(name);
    if (is_root && rc == 127)   /* execv failed: a private build tree */
        cr_skip_test("user 65534 cannot run the build tree's binary here");
    cr_assert_eq(rc, 111);
    snprintf(want, sizeof(want), "airsrt-ctl: no permission to open runtime "
             "\"%s\" (/dev/shm/airsrt.%s): run as its owner\n", name, name);
    cr_assert_str_eq(err, want);
}

Test(ctl, runtime_errors_name_worker_and_payload, .timeout = 60,
     .fini = rh_fini)
{
    char big[1100];

    start_system("payload_max = 1024");
    wait_ready();
    cr_assert_eq(ctl("-r", rh.name, "actors", "nope"), 100);
    mask(err, sizeof(err), rh.name, "RT");
    cr_assert_str_eq(err, "airsrt-ctl: no worker \"nope\" in runtime \"RT\" "
                     "(give group[i] or an index below 3)\n");
    cr_assert_eq(ctl("-r", rh.name, "postmortem", "3"), 100);
    cr_assert_eq(ctl("-r", rh.name, "send", "nosuch", "1"), 100);
    mask(err, sizeof(err), rh.name, "RT");
    cr_assert_str_eq(err, "airsrt-ctl: no name \"nosuch\" in runtime "
                     "\"RT\"\n");
    memset(big, 'x', 1025);
    big[1025] = '\0';
    cr_assert_eq(ctl_in(big, "-r", rh.name, "send", "rec.0", "1", "-",
                        (const char *)NULL), 100);
    mask(err, sizeof(err), rh.name, "RT");
    cr_assert_str_eq(err, "airsrt-ctl: payload too big: runtime \"RT\" "
                     "carries at most 1024 bytes\n");
    cr_assert_eq(ctl("-r", rh.name, "send", "rec.0", "1", big), 100);
    big[1024] = '\0';
    cr_assert_eq(ctl_in(big, "-r", rh.name, "send", "rec.0", "1", "-",
                        (const char *)NULL), 0, "%s", err);
    cr_assert_eq(rh_stop(SIGTERM), 0);
}
