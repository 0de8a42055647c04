/*
 * tests/lib/run_harness.h - running whole systems through airsrt-run in
 * a test: a config written to a fresh folder, airsrt-run started from
 * the build tree, its JSON event log read back, and everything it
 * leaves behind (folder, segment) removed by rh_fini.
 *
 * In a config body, {BIN} stands for the built tests/bin/sv_worker and
 * {DIR} for the test's folder. The [runtime] section is written by
 * rh_start (name, event_log = events.jsonl, heartbeat_ms = 20,
 * hang_timeout_ms), so a body holds only supervisors and workers, plus
 * any [runtime] keys given in runtime_extra.
 *
 * Cleanup contract: suites name .fini = rh_fini. airsrt-run is a child
 * of the test (killed with it); its workers die with it (their
 * parent-death signal); rh_fini removes the segment and the folder.
 */
#ifndef AIRSRT_TESTS_RUN_HARNESS_H
#define AIRSRT_TESTS_RUN_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rh_run {
    pid_t pid;                    /* airsrt-run */
    char dir[256];
    char config[300];
    char events[300];
    char name[64];                /* the runtime's name */
};

extern struct rh_run rh;

/* Writes the config (see above) into a new folder, without starting. */
void rh_write(const char *runtime_extra, const char *body);

/* Starts airsrt-run --quiet on the config rh_write wrote (rh.pid). */
void rh_launch(void);

/* rh_write, then rh_launch. */
void rh_start(const char *runtime_extra, const char *body);

/* Runs airsrt-run with args (NULL-terminated, after argv[0]) to its end;
 * returns its exit status; its stderr (and stdout) in out, cut to len. */
int rh_run_tool(const char *const *args, char *out, size_t len);

/* Waits up to timeout_ms for the nth (1-based) event line containing
 * every one of the NULL-terminated strings in match (e.g.
 * "\"event\":\"worker_restarted\"", "\"worker\":\"a[0]\""); copies it
 * into line; fails the test on timeout. */
void rh_wait_event(char *line, size_t len, uint32_t timeout_ms, int nth, ...);

/* How many event lines contain every one of the strings (NULL-ended). */
int rh_count_events(const char *first, ...);

/* The event log's lines matching, in order, as one string (for asserting
 * an order): each matching line's value of field (e.g. "worker"),
 * separated by ' '. */
void rh_event_sequence(const char *event, const char *field, char *out,
                       size_t len);

/* An integer field of an event line; -1 when absent. */
long rh_field_long(const char *line, const char *field);

/* The value of a field of a JSON line into out (len bytes, cut to fit):
 * a string's characters between its quotes, escapes left as they are,
 * or a number's text; "" when the field is absent or its string is not
 * closed. */
void rh_field_str(const char *line, const char *field, char *out,
                  size_t len);

/* Worker w's pid as the segment says now (0 when not running). */
pid_t rh_worker_pid(uint32_t w);

/* Sends sig to airsrt-run and waits for its exit status (128 + signal
 * if it was killed). Asserts the segment is gone afterwards. */
int rh_stop(int sig);

/* Waits for airsrt-run to end on its own, at most timeout_ms. */
int rh_wait_exit(uint32_t timeout_ms);

/* True if the process pid no longer exists (and is no zombie of ours). */
bool rh_pid_gone(pid_t pid);

void rh_fini(void);

#endif
