/*
 * tests/lib/program.c - running a built program from a test (program.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/lib/harness.h"
#include "tests/lib/program.h"
#include "tests/lib/worker_harness.h"

#define ARGS_MAX 32

/* A close-on-exec memory file; -1 when there is no buffer to fill. */
static int memory_file(const void *buf, const char *tag)
{
    int fd;

    if (buf == NULL)
        return -1;
    fd = memfd_create(tag, MFD_CLOEXEC);
    cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
    return fd;
}

pid_t program_start(struct program *p, const char *path,
                    const char *const *args)
{
    const char *argv[ARGS_MAX + 2] = { path };
    int fd_in = memory_file("", "in");
    size_t n = 0;

    while (args[n] != NULL) {
        cr_assert_lt(n, ARGS_MAX, "too many arguments for %s", path);
        argv[n + 1] = args[n];
        n++;
    }
    if (p->in != NULL)
        cr_assert_eq(pwrite(fd_in, p->in, strlen(p->in), 0),
                     (ssize_t)strlen(p->in));
    p->fd_out = memory_file(p->out, "out");
    p->fd_err = p->is_err_in_out ? -1 : memory_file(p->err, "err");
    p->pid = harness_fork();
    if (p->pid == 0) {
        dup2(fd_in, STDIN_FILENO);
        if (p->fd_out >= 0)
            dup2(p->fd_out, STDOUT_FILENO);
        if (p->is_err_in_out && p->fd_out >= 0)
            dup2(p->fd_out, STDERR_FILENO);
        else if (p->fd_err >= 0)
            dup2(p->fd_err, STDERR_FILENO);
        for (size_t i = 0; p->env != NULL && p->env[i] != NULL; i++)
            putenv((char *)p->env[i]);
        if (p->as_nobody && (setgid(65534) < 0 || setuid(65534) < 0))
            harness_exit(126);
        execv(argv[0], (char *const *)argv);
        harness_exit(127);
    }
    close(fd_in);
    return p->pid;
}

/* Removes the lines a coverage build's gcov runtime prints when it runs
 * as another user, who may not write the build's counter files: the
 * program's own stderr is what tests compare. */
static void drop_gcov_lines(char *buf)
{
    char *at = buf, *end;

    while (*at != '\0') {
        end = strchrnul(at, '\n');
        if (*end == '\n')
            end++;
        if (strncmp(at, "profiling:", 10) == 0)
            memmove(at, end, strlen(end) + 1);
        else
            at = end;
    }
}

static void memory_read(int fd, char *buf, size_t len)
{
    ssize_t n;

    if (fd < 0)
        return;
    n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

int program_wait(struct program *p)
{
    int status = wh_exit_status(p->pid);

    memory_read(p->fd_out, p->out, p->out_len);
    memory_read(p->fd_err, p->err, p->err_len);
    if (p->as_nobody && p->fd_err >= 0)
        drop_gcov_lines(p->err);
    p->fd_out = p->fd_err = -1;
    return status;
}

int program_run(struct program *p, const char *path, const char *const *args)
{
    program_start(p, path, args);
    return program_wait(p);
}
