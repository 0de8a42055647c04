/*
 * tests/lib/program.h - running a built program from a test: its
 * arguments, stdin, environment and user; its stdout and stderr go to
 * memory files read after it ends, so no pipe needs draining while the
 * test waits and a chatty program can never block on a full one.
 *
 * Cleanup contract (as harness.h): the program is a harness_fork child,
 * so harness_fini kills it if the test ends first, and it dies with the
 * test process. Its descriptors are closed by program_wait.
 */
#ifndef AIRSRT_TESTS_PROGRAM_H
#define AIRSRT_TESTS_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct program {
    const char *const *env;     /* "NAME=value" added to ours, NULL-ended;
                                   NULL: none */
    const char *in;             /* its stdin; NULL: empty */
    bool as_nobody;             /* as user and group 65534: for root,
                                   who ignores file modes */
    char *out;                  /* its stdout, cut to out_len - 1 and
                                   NUL-ended; NULL: the test's stdout */
    size_t out_len;
    char *err;                  /* its stderr, the same way */
    size_t err_len;
    bool is_err_in_out;         /* its stderr into out too (err unused) */
    pid_t pid;                  /* set by program_start */
    int fd_out, fd_err;         /* program_start's memory files, or -1 */
};

/* Starts path with args (NULL-ended, argv[1] on) as p says; returns its
 * pid (also in p->pid). path may be wh_build_path's buffer. */
pid_t program_start(struct program *p, const char *path,
                    const char *const *args);

/* Waits for p's program to end and fills out and err. Returns its exit
 * status, or 128 + the signal that killed it. */
int program_wait(struct program *p);

/* program_start, then program_wait. */
int program_run(struct program *p, const char *path, const char *const *args);

#endif
