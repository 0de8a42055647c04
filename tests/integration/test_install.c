/*
 * tests/integration/test_install.c - what a user does with airsrt: make
 * install into a root, build a program against it with pkg-config, run
 * it. The program is the one in README.md's "Writing actors" (the block
 * after <!-- example: writing-actors -->), and what it must print and
 * return is the transcript after <!-- output: writing-actors -->, so the
 * README cannot drift from what the library does.
 *
 * The install runs make in the repository (found above the build tree of
 * this test binary) with B= that build tree, which must be up to date:
 * the test refuses to let make rebuild it (make check builds first).
 * The root is a directory in the build tree, removed by the suite's
 * .fini, and by make clean if a timeout kills the test first.
 *
 * Sanitizer builds install a library that needs its sanitizer's runtime,
 * which must come first in the program's link (ASan checks it at start):
 * the program is then built by the same compiler with the same
 * -fsanitize flag as this test. Coverage builds need nothing: the
 * shared library carries the gcov runtime it was linked with.
 *
 * Under make valgrind, memcheck follows children: make, pkg-config and
 * the compiler are not ours to check and should be skipped with
 * --trace-children-skip (they are exec'd directly, never through a
 * shell, so that one pattern each names them); the program itself runs
 * under memcheck like every other process.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/worker_harness.h"

#define EXAMPLE_MARK "<!-- example: writing-actors -->"
#define OUTPUT_MARK  "<!-- output: writing-actors -->"
#define MAX_ARGS     64

/* Set in this test process; removed by install_fini. */
static char g_root[PATH_MAX];

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void install_fini(void)
{
    if (g_root[0] != '\0')
        nftw(g_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    g_root[0] = '\0';
    harness_fini();
}

TestSuite(install, .fini = install_fini);

/* ---- the sanitizer this test was built with ---- */

/* GCC says nothing at compile time about -fsanitize=undefined; a weak
 * reference to a handler of its runtime is non-null exactly when that
 * runtime is linked in (clang links it whole). */
extern void __ubsan_handle_add_overflow(void *, void *, void *)
    __attribute__((weak));

#if defined(__SANITIZE_ADDRESS__)
#define HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAS_ASAN 1
#endif
#endif

static const char *sanitizer_flag(void)
{
#ifdef HAS_ASAN
    return "-fsanitize=address";
#else
    return __ubsan_handle_add_overflow != NULL ? "-fsanitize=undefined"
                                               : NULL;
#endif
}

/* The user's compiler, but for a sanitized library: the runtimes of
 * gcc and clang do not mix. */
static const char *compiler(void)
{
#ifdef __clang__
    if (sanitizer_flag() != NULL)
        return "clang";
#endif
    return "cc";
}

/* ---- files ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    for (;;) {
        char *more = realloc(buf, len + 4097);

        cr_assert_not_null(more);
        buf = more;
        size_t n = fread(buf + len, 1, 4096, f);

        len += n;
        if (n == 0)
            break;
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static void spew(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fputs(text, f) >= 0 && fclose(f) == 0, 1, "write %s", path);
}

/* snprintf that fails the test rather than cut a path short. */
static void fmt(char *buf, size_t len, const char *f, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    int n;

    va_start(ap, f);
    n = vsnprintf(buf, len, f, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < len, "path too long: %s", buf);
}

/* dir/rel in one of a few rotating buffers: for immediate use only. */
static const char *path_in(const char *dir, const char *rel)
{
    static char bufs[4][PATH_MAX];
    static int next;
    char *p = bufs[next++ % 4];

    fmt(p, PATH_MAX, "%s/%s", dir, rel);
    return p;
}

static bool is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- where things are ---- */

struct tree {
    char build[PATH_MAX];       /* absolute build tree of this binary */
    char repo[PATH_MAX];        /* the repository above it */
    const char *b;              /* B= for make: build, relative if inside */
};

static void find_tree(struct tree *t)
{
    char *slash;

    cr_assert_not_null(realpath(wh_build_path("."), t->build));
    strcpy(t->repo, t->build);
    for (;;) {
        if (is_file(path_in(t->repo, "GNUmakefile")) &&
            is_file(path_in(t->repo, "include/airsrt/airsrt.h")))
            break;
        slash = strrchr(t->repo, '/');
        cr_assert(slash != NULL && slash != t->repo,
                  "no repository above the build tree %s", t->build);
        *slash = '\0';
    }
    t->b = t->build;
    if (strncmp(t->build, t->repo, strlen(t->repo)) == 0 &&
        t->build[strlen(t->repo)] == '/')
        t->b = t->build + strlen(t->repo) + 1;
}

/* ---- running commands ---- */

struct run {
    const char *cwd;                /* NULL: ours */
    const char *const *env;         /* "NAME=value" to set, NULL-ended */
    const char *out, *err;          /* files for stdout, stderr */
};

static void redirect(const char *path, int fd)
{
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (f < 0 || dup2(f, fd) < 0)
        harness_exit(126);
    close(f);
}

/* Runs argv (searched in PATH, exec'd directly) and returns its exit
 * status, 128 + signal if one killed it. */
static int run(char *const argv[], const struct run *r)
{
    pid_t pid = harness_fork();

    if (pid == 0) {
        /* Variables of the make that runs this test (-j, jobserver
         * descriptors, its command line) are not the user's. */
        unsetenv("MAKEFLAGS");
        unsetenv("MFLAGS");
        unsetenv("MAKELEVEL");
        unsetenv("MAKEOVERRIDES");
        for (size_t i = 0; r->env != NULL && r->env[i] != NULL; i++)
            putenv((char *)r->env[i]);
        if (r->cwd != NULL && chdir(r->cwd) < 0)
            harness_exit(126);
        redirect(r->out, STDOUT_FILENO);
        redirect(r->err, STDERR_FILENO);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        harness_exit(127);
    }
    return wh_exit_status(pid);
}

/* Runs argv and fails the test, with its output, unless it exits 0. */
static void run_ok(const char *what, char *const argv[], const char *cwd,
                   const char *const *env)
{
    struct run r = { .cwd = cwd, .env = env,
                     .out = path_in(g_root, "cmd.out"),
                     .err = path_in(g_root, "cmd.err") };
    int status = run(argv, &r);

    if (status != 0) {
        char *out = slurp(r.out), *err = slurp(r.err);

        cr_assert_fail("%s exited %d\nstdout:\n%s\nstderr:\n%s", what, status, out,
                 err);
    }
}

/* ---- the install ---- */

static void make_root(const struct tree *t)
{
    fmt(g_root, sizeof(g_root), "%s/tests/integration/install-XXXXXX",
             t->build);
    cr_assert_not_null(mkdtemp(g_root), "mkdtemp: %s", strerror(errno));
}

/* Appends to argv what make install takes from the build tree: the
 * libraries, airsrt.pc and a tool per C file in tools/. Strings are
 * malloc'd. */
static int install_inputs(const struct tree *t, char **argv, int argc)
{
    static const char *const fixed[] = { "lib/libairsrt.a",
                                         "lib/libairsrt.so", "airsrt.pc" };
    glob_t g;

    for (size_t i = 0; i < 3; i++)
        cr_assert_geq(asprintf(&argv[argc++], "%s/%s", t->b, fixed[i]), 0);
    if (glob(path_in(t->repo, "tools/*.c"), 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && argc < MAX_ARGS - 1; i++)
            cr_assert_geq(asprintf(&argv[argc++], "%s/bin/%.*s", t->b,
                                   (int)strlen(strrchr(g.gl_pathv[i], '/')
                                               + 1) - 2,
                                   strrchr(g.gl_pathv[i], '/') + 1), 0);
    }
    globfree(&g);
    argv[argc] = NULL;
    return argc;
}

/* make install DESTDIR=root PREFIX=/usr, from the build tree as it is:
 * make -q first, so that a stale tree fails here instead of being
 * rebuilt without the flags it was built with. */
static void install(const struct tree *t)
{
    char b[2 * PATH_MAX], destdir[2 * PATH_MAX], *check[MAX_ARGS];
    char *inst[] = { "make", "-s", "--no-print-directory", "install", b,
                     destdir, "PREFIX=/usr", NULL };
    int n;

    make_root(t);
    fmt(b, sizeof(b), "B=%s", t->b);
    fmt(destdir, sizeof(destdir), "DESTDIR=%s", g_root);
    check[0] = "make";
    check[1] = "-q";
    check[2] = b;
    n = install_inputs(t, check, 3);
    run_ok("make -q (is the build tree up to date? run make first)", check,
           t->repo, NULL);
    for (int i = 3; i < n; i++)
        free(check[i]);
    run_ok("make install", inst, t->repo, NULL);
}

/* Every file of the repository matching pattern is installed at
 * root/dest/<its name>, with the same bytes (mode: executable or not). */
static void expect_installed(const struct tree *t, const char *pattern,
                             const char *dest, bool is_exec)
{
    glob_t g;

    cr_assert_eq(glob(path_in(t->repo, pattern), 0, NULL, &g), 0,
                 "nothing matches %s", pattern);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *name = strrchr(g.gl_pathv[i], '/') + 1;
        char want[3 * PATH_MAX];

        fmt(want, sizeof(want), "%s/%s/%s", g_root, dest, name);
        cr_assert(is_file(want), "%s not installed", want);
        cr_assert_eq(access(want, X_OK) == 0, is_exec, "%s: mode", want);
        if (!is_exec) {
            char *a = slurp(g.gl_pathv[i]), *b = slurp(want);

            cr_assert_str_eq(a, b, "%s differs from %s", want,
                             g.gl_pathv[i]);
            free(a);
            free(b);
        }
    }
    globfree(&g);
}

Test(install, puts_headers_libraries_pkg_config_tools_and_man_pages,
     .timeout = 120)
{
    struct tree t;
    glob_t g;
    char *pc;

    find_tree(&t);
    install(&t);
    expect_installed(&t, "include/airsrt/*.h", "usr/include/airsrt", false);
    cr_assert(is_file(path_in(g_root, "usr/lib/libairsrt.a")));
    cr_assert(is_file(path_in(g_root, "usr/lib/libairsrt.so")));
    pc = slurp(path_in(g_root, "usr/lib/pkgconfig/airsrt.pc"));
    cr_assert_not_null(strstr(pc, "prefix=/usr\n"), "airsrt.pc:\n%s", pc);
    cr_assert_not_null(strstr(pc, "-lairsrt"), "airsrt.pc:\n%s", pc);
    free(pc);
    /* Each tool under its name, each man page in its section. */
    cr_assert_eq(glob(path_in(t.repo, "tools/*.c"), 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char tool[NAME_MAX + 16];

        fmt(tool, sizeof(tool), "usr/bin/%s",
                 strrchr(g.gl_pathv[i], '/') + 1);
        tool[strlen(tool) - 2] = '\0';
        cr_assert_eq(access(path_in(g_root, tool), X_OK), 0, "%s", tool);
    }
    globfree(&g);
    for (char s = '1'; s <= '8'; s++) {
        char pattern[16], dest[32];

        fmt(pattern, sizeof(pattern), "man/*.%c", s);
        fmt(dest, sizeof(dest), "usr/share/man/man%c", s);
        if (glob(path_in(t.repo, pattern), 0, NULL, &g) == 0)
            expect_installed(&t, pattern, dest, false);
        globfree(&g);
    }
}

/* ---- the README's program ---- */

/* The fenced block after mark, which must open with fence. Returns its
 * lines, NUL-terminated, in a buffer the caller frees. */
static char *readme_block(const char *readme, const char *mark,
                          const char *fence)
{
    const char *p = strstr(readme, mark), *end;
    char *block;

    cr_assert_not_null(p, "README.md has no %s", mark);
    p += strlen(mark);
    cr_assert_eq(strncmp(p, "\n", 1), 0);
    p++;
    cr_assert_eq(strncmp(p, fence, strlen(fence)), 0,
                 "%s is not followed by %s", mark, fence);
    p += strlen(fence);
    cr_assert_eq(*p, '\n');
    p++;
    end = strstr(p, "\n```\n");
    cr_assert_not_null(end, "unterminated block after %s", mark);
    block = strndup(p, (size_t)(end - p) + 1);
    cr_assert_not_null(block);
    return block;
}

/* What the README's transcript says: how the program is run, what it
 * prints, and its exit status. */
struct transcript {
    char *text;                 /* owns the strings below */
    char *argv[MAX_ARGS];       /* after "./app" */
    int argc;
    const char *out;            /* expected stdout */
    int status;
};

static void parse_transcript(struct transcript *tr, char *text)
{
    char *run_line = strstr(text, "$ ./app "), *out_end, *status, *build;

    tr->text = text;
    build = strstr(text, "$ cc ");
    cr_assert_not_null(build, "the transcript shows no cc command");
    cr_assert_not_null(strstr(build, "$(pkg-config --cflags --libs airsrt)"),
                       "the cc command does not use pkg-config");
    cr_assert_not_null(run_line, "the transcript never runs ./app");
    run_line += strlen("$ ./app ");
    tr->out = strchr(run_line, '\n') + 1;
    *strchr(run_line, '\n') = '\0';
    cr_assert_eq(strpbrk(run_line, "'\"\\$`"), NULL,
                 "quoting in \"%s\": keep the command line plain", run_line);
    tr->argc = 0;
    for (char *s = strtok(run_line, " "); s != NULL; s = strtok(NULL, " ")) {
        cr_assert_lt(tr->argc, MAX_ARGS - 1);
        tr->argv[tr->argc++] = s;
    }
    tr->argv[tr->argc] = NULL;
    out_end = strstr(tr->out, "$ echo $?\n");
    cr_assert_not_null(out_end, "the transcript shows no exit status");
    status = out_end + strlen("$ echo $?\n");
    *out_end = '\0';
    tr->status = atoi(status);
}

static void build_example(const char *src, const char *app)
{
    char inc[2 * PATH_MAX], pcpath[2 * PATH_MAX], sysroot[2 * PATH_MAX];
    char *words, *argv[MAX_ARGS];
    const char *env[] = { pcpath, sysroot, NULL };
    char *pkg[] = { "pkg-config", "--cflags", "--libs", "airsrt", NULL };
    int argc = 0;

    /* As tests/install-check.sh did: the root's airsrt.pc, its paths
     * moved under the root. */
    fmt(pcpath, sizeof(pcpath), "PKG_CONFIG_PATH=%s/usr/lib/pkgconfig",
             g_root);
    fmt(sysroot, sizeof(sysroot), "PKG_CONFIG_SYSROOT_DIR=%s", g_root);
    run_ok("pkg-config", pkg, NULL, env);
    words = slurp(path_in(g_root, "cmd.out"));
    fmt(inc, sizeof(inc), "-I%s/usr/include", g_root);
    cr_assert_not_null(strstr(words, inc), "pkg-config said: %s", words);
    argv[argc++] = (char *)compiler();
    argv[argc++] = "-std=gnu17";
    argv[argc++] = "-Wall";
    argv[argc++] = "-Wextra";
    argv[argc++] = "-Werror";
    if (sanitizer_flag() != NULL)
        argv[argc++] = (char *)sanitizer_flag();
    argv[argc++] = "-o";
    argv[argc++] = (char *)app;
    argv[argc++] = (char *)src;
    for (char *s = strtok(words, " \n"); s != NULL; s = strtok(NULL, " \n")) {
        cr_assert_lt(argc, MAX_ARGS - 1);
        argv[argc++] = s;
    }
    argv[argc] = NULL;
    run_ok("cc app.c $(pkg-config --cflags --libs airsrt)", argv, NULL, NULL);
    free(words);
}

Test(install, readme_example_builds_with_pkg_config_and_runs,
     .timeout = 300)
{
    struct tree t;
    struct transcript tr;
    char *readme, *code, *argv[MAX_ARGS + 1], *out, *err;
    char ldpath[2 * PATH_MAX], src[2 * PATH_MAX], app[2 * PATH_MAX];
    const char *env[] = { ldpath, NULL };
    struct run r;
    int status;

    find_tree(&t);
    readme = slurp(path_in(t.repo, "README.md"));
    code = readme_block(readme, EXAMPLE_MARK, "```c");
    parse_transcript(&tr, readme_block(readme, OUTPUT_MARK, "```sh"));
    install(&t);
    fmt(src, sizeof(src), "%s/app.c", g_root);
    fmt(app, sizeof(app), "%s/app", g_root);
    spew(src, code);
    build_example(src, app);

    /* The shared library, from the root, as the user's loader finds it
     * once the root is /. */
    fmt(ldpath, sizeof(ldpath), "LD_LIBRARY_PATH=%s/usr/lib", g_root);
    argv[0] = app;
    memcpy(argv + 1, tr.argv, (size_t)(tr.argc + 1) * sizeof(char *));
    r = (struct run){ .env = env, .out = path_in(g_root, "app.out"),
                      .err = path_in(g_root, "app.err") };
    status = run(argv, &r);
    out = slurp(r.out);
    err = slurp(r.err);
    cr_assert_eq(status, tr.status, "exit %d, README says %d; stderr:\n%s",
                 status, tr.status, err);
    cr_assert_str_eq(out, tr.out, "stdout differs from README.md:\n%s\n"
                     "README.md says:\n%s", out, tr.out);
    cr_assert_str_eq(err, "", "it wrote to stderr:\n%s", err);
    free(out);
    free(err);
    free(code);
    free(tr.text);
    free(readme);
}
