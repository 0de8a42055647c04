/*
 * tests/supervisor/test_config.c - the config loader: every key and its
 * default, the tree and its indexes, "{i}" and start lists, and every
 * error with its exact message (the first one in the file).
 *
 * Files go into a fresh folder per test (removed by the suite's fini);
 * most texts are parsed from memory as "t.ini" so that messages are
 * fixed strings. Nothing here forks or makes a segment.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/config.h"

static char dir[64];
static struct airsrt_config cfg;
static char err[AIRSRT_CONFIG_ERR_MAX];

static void setup(void)
{
    strcpy(dir, "/tmp/airsrt-config-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    airsrt_config_free(&cfg);
    if (dir[0] != '\0')
        nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(config, .init = setup, .fini = teardown);

/* dir/name with text and mode; returns its path (static). */
static const char *put_file(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
    return path;
}

/* Parses text as "t.ini" in dir. */
static int parse(const char *text)
{
    return airsrt_config_parse(&cfg, text, strlen(text), "t.ini", dir, err,
                               sizeof(err));
}

static void parse_ok(const char *text)
{
    int rc = parse(text);

    cr_assert_eq(rc, 0, "rc %d: %s", rc, err);
    cr_assert_str_empty(err);
}

/* Parses text and asserts the one error message want (printf format). */
static void parse_fails(const char *text, const char *want, ...)
    __attribute__((format(printf, 2, 3)));

static void parse_fails(const char *text, const char *want, ...)
{
    char expect[AIRSRT_CONFIG_ERR_MAX];
    va_list ap;
    int rc;

    va_start(ap, want);
    vsnprintf(expect, sizeof(expect), want, ap);
    va_end(ap);
    rc = parse(text);
    cr_assert_eq(rc, -EINVAL, "rc %d for:\n%s", rc, text);
    cr_assert_str_eq(err, expect);
}

#define RT "[runtime]\nname = bank\n"
#define W  "[worker w]\nbinary = /bin/true\n"

/* ---- keys and defaults ---- */

Test(config, loads_smallest_config_with_defaults)
{
    const struct airsrt_config_group *g;
    const struct airsrt_config_supervisor *s;

    parse_ok(RT W);
    cr_assert_str_eq(cfg.path, "t.ini");
    cr_assert_str_eq(cfg.dir, dir);
    cr_assert_str_eq(cfg.runtime.name, "bank");
    cr_assert_str_eq(cfg.runtime.event_log, "stderr");
    cr_assert_eq(cfg.runtime.heartbeat_ms, AIRSRT_HEARTBEAT_MS_DEFAULT);
    cr_assert_eq(cfg.runtime.hang_timeout_ms, AIRSRT_HANG_TIMEOUT_MS_DEFAULT);
    cr_assert_eq(cfg.runtime.shm.ring_bytes, 0);
    cr_assert_eq(cfg.runtime.shm.ctl_ring_bytes, 0);
    cr_assert_eq(cfg.runtime.shm.payload_max, 0);
    cr_assert_eq(cfg.runtime.shm.registry_capacity, 0);
    cr_assert_eq(cfg.runtime.shm.actors_max, 0);
    cr_assert_eq(cfg.runtime.shm.nworkers, 1);
    cr_assert_eq(cfg.nworkers, 1);
    /* The implicit root. */
    cr_assert_eq(cfg.nsupervisors, 1);
    cr_assert_eq(cfg.root, 0);
    s = &cfg.supervisors[0];
    cr_assert_str_eq(s->name, "root");
    cr_assert_eq(s->parent, -1);
    cr_assert_eq(s->line, 0);
    cr_assert_eq(s->strategy, AIRSRT_ONE_FOR_ONE);
    cr_assert_eq(s->max_restarts, AIRSRT_MAX_RESTARTS_DEFAULT);
    cr_assert_eq(s->max_seconds, AIRSRT_MAX_SECONDS_DEFAULT);
    cr_assert_eq(s->backoff_initial_ms, 0);
    cr_assert_eq(s->backoff_max_ms, 0);
    cr_assert_eq(s->backoff_jitter_pct, 0);
    cr_assert_eq(s->auto_shutdown, AIRSRT_AUTO_SHUTDOWN_NEVER);
    cr_assert_eq(cfg.ngroups, 1);
    g = &cfg.groups[0];
    cr_assert_str_eq(g->name, "w");
    cr_assert_eq(g->line, 3);
    cr_assert_eq(g->supervisor, 0);
    cr_assert_str_eq(g->binary, "/bin/true");
    cr_assert_str_eq(g->argv[0], "/bin/true");
    cr_assert_null(g->argv[1]);
    cr_assert_eq(g->count, 1);
    cr_assert_eq(g->restart, AIRSRT_RESTART_PERMANENT);
    cr_assert(!g->is_significant);
    cr_assert_eq(g->shutdown_ms, AIRSRT_SHUTDOWN_MS_DEFAULT);
    cr_assert(!g->has_spare);
    cr_assert_eq(g->nactors, 0);
    cr_assert_eq(g->nenv, 0);
    cr_assert(!g->has_user && !g->has_group);
    cr_assert_eq(g->limit_as, RLIM_INFINITY);
    cr_assert_eq(g->limit_nofile, RLIM_INFINITY);
    cr_assert_eq(g->limit_cpu, RLIM_INFINITY);
}

Test(config, parses_every_runtime_key)
{
    parse_ok("[runtime]\n"
             "name = bank-2.prod_x\n"
             "ring_bytes = 2M\n"
             "ctl_ring_bytes = 128k\n"
             "payload_max = 4096\n"
             "registry_capacity = 8K\n"
             "actors_max = 1000\n"
             "event_log = logs/events.jsonl\n"
             "heartbeat_ms = 20\n"
             "hang_timeout_ms = 250\n" W);
    cr_assert_str_eq(cfg.runtime.name, "bank-2.prod_x");
    cr_assert_eq(cfg.runtime.shm.ring_bytes, 2u << 20);
    cr_assert_eq(cfg.runtime.shm.ctl_ring_bytes, 128u << 10);
    cr_assert_eq(cfg.runtime.shm.payload_max, 4096);
    cr_assert_eq(cfg.runtime.shm.registry_capacity, 8192);
    cr_assert_eq(cfg.runtime.shm.actors_max, 1000);
    /* Kept as written: the supervisor joins it to dir when it opens it. */
    cr_assert_str_eq(cfg.runtime.event_log, "logs/events.jsonl");
    cr_assert_eq(cfg.runtime.heartbeat_ms, 20);
    cr_assert_eq(cfg.runtime.hang_timeout_ms, 250);
}

Test(config, parses_every_supervisor_key)
{
    const struct airsrt_config_supervisor *s;

    parse_ok(RT "[supervisor top]\n"
             "[supervisor s]\n"
             "parent = top\n"
             "strategy = rest_for_one\n"
             "max_restarts = 0\n"
             "max_seconds = 60\n"
             "backoff_initial_ms = 10\n"
             "backoff_max_ms = 1000\n"
             "backoff_jitter = 100\n"
             "auto_shutdown = all_significant\n" W);
    cr_assert_eq(cfg.nsupervisors, 2);
    s = &cfg.supervisors[1];
    cr_assert_str_eq(s->name, "s");
    cr_assert_eq(s->line, 4);
    cr_assert_eq(s->parent, 0);
    cr_assert_eq(s->strategy, AIRSRT_REST_FOR_ONE);
    cr_assert_eq(s->max_restarts, 0);
    cr_assert_eq(s->max_seconds, 60);
    cr_assert_eq(s->backoff_initial_ms, 10);
    cr_assert_eq(s->backoff_max_ms, 1000);
    cr_assert_eq(s->backoff_jitter_pct, 100);
    cr_assert_eq(s->auto_shutdown, AIRSRT_AUTO_SHUTDOWN_ALL);
}

Test(config, parses_every_enum_word)
{
    parse_ok(RT "[supervisor a]\nstrategy = one_for_one\n"
             "auto_shutdown = never\n"
             "[supervisor b]\nparent = a\nstrategy = one_for_all\n"
             "auto_shutdown = any_significant\n"
             "[worker p]\nbinary = /bin/true\nrestart = permanent\n"
             "[worker t]\nbinary = /bin/true\nrestart = transient\n"
             "[worker x]\nbinary = /bin/true\nrestart = temporary\n");
    cr_assert_eq(cfg.supervisors[0].strategy, AIRSRT_ONE_FOR_ONE);
    cr_assert_eq(cfg.supervisors[0].auto_shutdown, AIRSRT_AUTO_SHUTDOWN_NEVER);
    cr_assert_eq(cfg.supervisors[1].strategy, AIRSRT_ONE_FOR_ALL);
    cr_assert_eq(cfg.supervisors[1].auto_shutdown, AIRSRT_AUTO_SHUTDOWN_ANY);
    cr_assert_eq(cfg.groups[0].restart, AIRSRT_RESTART_PERMANENT);
    cr_assert_eq(cfg.groups[1].restart, AIRSRT_RESTART_TRANSIENT);
    cr_assert_eq(cfg.groups[2].restart, AIRSRT_RESTART_TEMPORARY);
    cr_assert_str_eq(airsrt_strategy_name(AIRSRT_ONE_FOR_ONE), "one_for_one");
    cr_assert_str_eq(airsrt_strategy_name(AIRSRT_ONE_FOR_ALL), "one_for_all");
    cr_assert_str_eq(airsrt_strategy_name(AIRSRT_REST_FOR_ONE),
                     "rest_for_one");
    cr_assert_str_eq(airsrt_restart_name(AIRSRT_RESTART_TRANSIENT),
                     "transient");
    cr_assert_str_eq(airsrt_restart_name(AIRSRT_RESTART_TEMPORARY),
                     "temporary");
    cr_assert_str_eq(airsrt_restart_name((enum airsrt_restart)7), "unknown");
    cr_assert_str_eq(airsrt_strategy_name((enum airsrt_strategy)7), "unknown");
}

Test(config, parses_every_worker_key)
{
    const struct airsrt_config_group *g;

    parse_ok(RT "[supervisor s]\n"
             "[worker w]\n"
             "supervisor = s\n"
             "binary = /bin/true\n"
             "args = --name \"two words\" x\"y z\"w \"\" last\n"
             "count = 3\n"
             "restart = transient\n"
             "significant = true\n"
             "shutdown_ms = 0\n"
             "spare = yes\n"
             "actor = ledger@ledger\n"
             "actor = account@acct-{i}=init%2C{i}\n"
             "env = LANG=C\n"
             "env = EMPTY=\n"
             "user = root\n"
             "group = root\n"
             "limit_as = 2G\n"
             "limit_nofile = 1K\n"
             "limit_cpu = 30\n");
    g = &cfg.groups[0];
    cr_assert_eq(g->supervisor, 0);
    cr_assert_str_eq(g->argv[0], "/bin/true");
    cr_assert_str_eq(g->argv[1], "--name");
    cr_assert_str_eq(g->argv[2], "two words");
    cr_assert_str_eq(g->argv[3], "xy zw");
    cr_assert_str_eq(g->argv[4], "");
    cr_assert_str_eq(g->argv[5], "last");
    cr_assert_null(g->argv[6]);
    cr_assert_eq(g->count, 3);
    cr_assert_eq(cfg.nworkers, 3);
    cr_assert_eq(g->restart, AIRSRT_RESTART_TRANSIENT);
    cr_assert(g->is_significant);
    cr_assert_eq(g->shutdown_ms, 0);
    cr_assert(g->has_spare);
    cr_assert_eq(g->nactors, 2);
    cr_assert_str_eq(g->actors[0].entry, "ledger@ledger");
    cr_assert_eq(g->actors[0].line, 13);
    cr_assert_str_eq(g->actors[1].entry, "account@acct-{i}=init%2C{i}");
    cr_assert_eq(g->actors[1].line, 14);
    cr_assert_eq(g->nenv, 2);
    cr_assert_str_eq(g->env[0], "LANG=C");
    cr_assert_str_eq(g->env[1], "EMPTY=");
    cr_assert_null(g->env[2]);
    cr_assert(g->has_user && g->has_group);
    cr_assert_eq(g->uid, 0);
    cr_assert_eq(g->gid, 0);
    cr_assert_eq(g->limit_as, 2ull << 30);
    cr_assert_eq(g->limit_nofile, 1024);
    cr_assert_eq(g->limit_cpu, 30);
}

Test(config, takes_the_users_primary_group_and_numeric_ids)
{
    parse_ok(RT "[worker a]\nbinary = /bin/true\nuser = root\n"
             "[worker b]\nbinary = /bin/true\nuser = 0\n"
             "[worker c]\nbinary = /bin/true\ngroup = 4321\n"
             "[worker d]\nbinary = /bin/true\nuser = 4321\ngroup = 0\n");
    cr_assert(cfg.groups[0].has_user && !cfg.groups[0].has_group);
    cr_assert_eq(cfg.groups[0].uid, 0);
    cr_assert_eq(cfg.groups[0].gid, 0);
    cr_assert(cfg.groups[1].has_user);
    cr_assert_eq(cfg.groups[1].uid, 0);
    cr_assert(!cfg.groups[2].has_user && cfg.groups[2].has_group);
    cr_assert_eq(cfg.groups[2].gid, 4321);
    /* A number without an account is fine once the group is given. */
    cr_assert_eq(cfg.groups[3].uid, 4321);
    cr_assert_eq(cfg.groups[3].gid, 0);
}

Test(config, accepts_every_boolean_spelling)
{
    static const char *const words[] = { "true", "yes", "1", "false", "no",
                                         "0" };
    char text[256];

    for (int i = 0; i < 6; i++) {
        snprintf(text, sizeof(text), RT W "spare = %s\n", words[i]);
        parse_ok(text);
        cr_assert_eq(cfg.groups[0].has_spare, i < 3, "%s", words[i]);
        airsrt_config_free(&cfg);
    }
}

Test(config, accepts_comments_blanks_crlf_bom_indent_and_colon)
{
    parse_ok("\xEF\xBB\xBF; a comment\r\n"
             "# another\r\n"
             "\r\n"
             "  [runtime]   ; trailing comment\r\n"
             "\tname=bank\r\n"
             "   heartbeat_ms : 10 ; ten\r\n"
             "[ worker   w ]\r\n"
             "    binary = /bin/true\r\n"
             "    count = 2 ; indented keys are keys, not continuations\r\n");
    cr_assert_str_eq(cfg.runtime.name, "bank");
    cr_assert_eq(cfg.runtime.heartbeat_ms, 10);
    cr_assert_str_eq(cfg.groups[0].name, "w");
    cr_assert_eq(cfg.groups[0].line, 7);
    cr_assert_eq(cfg.groups[0].count, 2);
}

Test(config, keeps_long_lines_and_names_whole)
{
    char text[12000], name[AIRSRT_CONFIG_NAME_MAX + 1];
    size_t n;

    /* libinih alone would cut a section name at 49 bytes and a line at
     * 200. */
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    n = (size_t)snprintf(text, sizeof(text), RT "[supervisor %s]\n"
                         "[worker %s]\nbinary = /bin/true\nsupervisor = %s\n"
                         "args = ", name, name, name);
    memset(text + n, 'a', 10000);
    strcpy(text + n + 10000, "\n");
    parse_ok(text);
    cr_assert_str_eq(cfg.supervisors[0].name, name);
    cr_assert_str_eq(cfg.groups[0].name, name);
    cr_assert_eq(cfg.groups[0].supervisor, 0);
    cr_assert_eq(strlen(cfg.groups[0].argv[1]), 10000);
}

Test(config, restores_libinih_options)
{
    bool multiline = ini_allow_multiline, stop = ini_stop_on_first_error;
    int max_line = ini_max_line;

    parse_ok(RT W);
    airsrt_config_free(&cfg);
    parse("[runtime\n");
    cr_assert_eq(ini_allow_multiline, multiline);
    cr_assert_eq(ini_stop_on_first_error, stop);
    cr_assert_eq(ini_max_line, max_line);
}

/* ---- binaries ---- */

Test(config, resolves_relative_binary_against_config_folder)
{
    char want[256], path[256];

    snprintf(path, sizeof(path), "%s/bin", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    put_file("bin/w", "#!/bin/sh\n", 0755);
    put_file("sys.ini", RT "[worker w]\nbinary = bin/w\nargs = -v\n", 0644);
    snprintf(path, sizeof(path), "%s/sys.ini", dir);
    cr_assert_eq(airsrt_config_load(&cfg, path, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_str_eq(cfg.path, path);
    cr_assert_str_eq(cfg.dir, dir);
    snprintf(want, sizeof(want), "%s/bin/w", dir);
    cr_assert_str_eq(cfg.groups[0].binary, want);
    cr_assert_str_eq(cfg.groups[0].argv[0], "bin/w");
    cr_assert_str_eq(cfg.groups[0].argv[1], "-v");
}

Test(config, searches_path_for_a_bare_binary_name)
{
    char want[256], path[300];

    put_file("prog", "#!/bin/sh\n", 0755);
    put_file("notexec", "#!/bin/sh\n", 0644);
    snprintf(path, sizeof(path), "/nonexistent:%s:/bin", dir);
    cr_assert_eq(setenv("PATH", path, 1), 0);
    parse_ok(RT "[worker w]\nbinary = prog\n");
    snprintf(want, sizeof(want), "%s/prog", dir);
    cr_assert_str_eq(cfg.groups[0].binary, want);
    cr_assert_str_eq(cfg.groups[0].argv[0], "prog");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w]\nbinary = notexec\n",
                "t.ini:4: [worker w] binary: \"notexec\" is not found in "
                "PATH");
}

Test(config, loads_from_a_file_in_the_current_folder)
{
    char old[256];

    cr_assert_not_null(getcwd(old, sizeof(old)));
    put_file("here.ini", RT W, 0644);
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(airsrt_config_load(&cfg, "here.ini", err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_str_eq(cfg.dir, ".");
    cr_assert_eq(chdir(old), 0);
}

Test(config, load_reports_unreadable_files)
{
    char path[256], want[300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/none.ini", dir);
    cr_assert_eq(airsrt_config_load(&cfg, path, err, sizeof(err)), -ENOENT);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    cr_assert_str_eq(err, want);
    cr_assert_eq(airsrt_config_load(&cfg, dir, err, sizeof(err)), -EISDIR);
    snprintf(want, sizeof(want), "%s: Is a directory", dir);
    cr_assert_str_eq(err, want);
    snprintf(path, sizeof(path), "%s/big.ini", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 17000; i++)     /* 63 bytes each: past 1 MiB */
        fprintf(f, "; %-60s\n", "a comment line");
    fclose(f);
    cr_assert_eq(airsrt_config_load(&cfg, path, err, sizeof(err)), -EFBIG);
    snprintf(want, sizeof(want), "%s: larger than 1 MiB; not a config file",
             path);
    cr_assert_str_eq(err, want);
}

Test(config, load_refuses_a_path_too_long)
{
    char path[PATH_MAX + 1];

    memset(path, 'p', PATH_MAX);
    path[PATH_MAX] = '\0';
    cr_assert_eq(airsrt_config_load(&cfg, path, err, sizeof(err)),
                 -ENAMETOOLONG);
    cr_assert_str_eq(err, "ppppppppppppppppppppppppppppppppppppppppppppppppppp"
                     "ppppppppppppppppppppppppppppp...: the path is too long");
}

/* ---- the tree ---- */

Test(config, builds_the_tree_in_file_order)
{
    parse_ok(RT
             "[supervisor top]\nstrategy = one_for_all\n"      /* 3 */
             "[worker ledger]\nbinary = /bin/true\ncount = 2\n"  /* 5 */
             "[worker accounts]\nsupervisor = acc\n"             /* 8 */
             "binary = /bin/true\ncount = 4\n"
             "[supervisor acc]\nparent = top\n"                  /* 12 */
             "[worker audit]\nbinary = /bin/true\n");            /* 14 */
    cr_assert_eq(cfg.nsupervisors, 2);
    cr_assert_eq(cfg.root, 0);
    cr_assert_str_eq(cfg.supervisors[0].name, "top");
    cr_assert_eq(cfg.supervisors[0].parent, -1);
    cr_assert_eq(cfg.supervisors[0].line, 3);
    cr_assert_str_eq(cfg.supervisors[1].name, "acc");
    cr_assert_eq(cfg.supervisors[1].parent, 0);
    cr_assert_eq(cfg.supervisors[1].line, 12);
    cr_assert_eq(cfg.ngroups, 3);
    cr_assert_str_eq(cfg.groups[0].name, "ledger");
    cr_assert_eq(cfg.groups[0].supervisor, 0);
    cr_assert_eq(cfg.groups[0].line, 5);
    /* A group may name a supervisor defined further down. */
    cr_assert_str_eq(cfg.groups[1].name, "accounts");
    cr_assert_eq(cfg.groups[1].supervisor, 1);
    cr_assert_eq(cfg.groups[1].line, 8);
    cr_assert_eq(cfg.groups[2].supervisor, 0);
    cr_assert_eq(cfg.groups[2].line, 14);
    cr_assert_eq(cfg.nworkers, 7);
    cr_assert_eq(cfg.runtime.shm.nworkers, 7);
}

Test(config, finds_the_root_anywhere_in_the_file)
{
    parse_ok(RT "[supervisor leaf]\nparent = mid\n"
             "[supervisor mid]\nparent = top\n"
             "[supervisor top]\n"
             "[worker w]\nbinary = /bin/true\nsupervisor = leaf\n");
    cr_assert_eq(cfg.root, 2);
    cr_assert_eq(cfg.supervisors[0].parent, 1);
    cr_assert_eq(cfg.supervisors[1].parent, 2);
    cr_assert_eq(cfg.supervisors[2].parent, -1);
    cr_assert_eq(cfg.groups[0].supervisor, 0);
}

Test(config, lets_a_supervisor_and_a_group_share_a_name)
{
    parse_ok(RT "[supervisor accounts]\n"
             "[worker accounts]\nbinary = /bin/true\n");
    cr_assert_str_eq(cfg.supervisors[0].name, "accounts");
    cr_assert_str_eq(cfg.groups[0].name, "accounts");
}

Test(config, names_the_implicit_root_root)
{
    parse_ok(RT W "supervisor = root\n");
    cr_assert_eq(cfg.groups[0].supervisor, 0);
}

Test(config, takes_up_to_max_workers_in_all)
{
    parse_ok(RT "[worker a]\nbinary = /bin/true\ncount = 1000\n"
             "[worker b]\nbinary = /bin/true\ncount = 24\n");
    cr_assert_eq(cfg.nworkers, AIRSRT_MAX_WORKERS);
}

/* ---- "{i}" and start lists ---- */

Test(config, start_list_replaces_i_with_the_workers_index)
{
    char buf[256];

    parse_ok(RT W "count = 12\n"
             "actor = ledger@ledger\n"
             "actor = account@acct-{i}=n%3D{i}{i}\n"
             "actor = pinger\n");
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 0, buf,
                                          sizeof(buf)), 0);
    cr_assert_str_eq(buf, "ledger@ledger,account@acct-0=n%3D00,pinger");
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 11, buf,
                                          sizeof(buf)), 0);
    cr_assert_str_eq(buf, "ledger@ledger,account@acct-11=n%3D1111,pinger");
}

Test(config, start_list_is_empty_without_actors)
{
    char buf[4] = "xyz";

    parse_ok(RT W);
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 0, buf,
                                          sizeof(buf)), 0);
    cr_assert_str_empty(buf);
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 0, buf, 0),
                 -ENOSPC);
}

Test(config, start_list_returns_enospc_when_it_does_not_fit)
{
    const char *want = "ab@x-7,cd";
    char buf[16];

    parse_ok(RT W "count = 8\nactor = ab@x-{i}\nactor = cd\n");
    for (size_t len = 1; len <= strlen(want); len++)
        cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 7, buf, len),
                     -ENOSPC, "len %zu", len);
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 7, buf,
                                          strlen(want) + 1), 0);
    cr_assert_str_eq(buf, want);
}

Test(config, accepts_a_start_list_up_to_its_maximum)
{
    char text[AIRSRT_CONFIG_START_LIST_MAX + 256], *buf;
    size_t n;

    /* One entry of exactly AIRSRT_CONFIG_START_LIST_MAX - 1 bytes. */
    n = (size_t)snprintf(text, sizeof(text), RT W "actor = t=");
    memset(text + n, 'x', AIRSRT_CONFIG_START_LIST_MAX - 3);
    strcpy(text + n + AIRSRT_CONFIG_START_LIST_MAX - 3, "\n");
    parse_ok(text);
    buf = malloc(AIRSRT_CONFIG_START_LIST_MAX);
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 0, buf,
                                          AIRSRT_CONFIG_START_LIST_MAX), 0);
    cr_assert_eq(strlen(buf), AIRSRT_CONFIG_START_LIST_MAX - 1);
    free(buf);
}

/* The text between ".SH EXAMPLE" and the first ".EE" after it in
 * man/airsrt.ini.5, found above the test binary, unescaped. */
static char *man_example(void)
{
    char path[PATH_MAX], line[256];
    char *text = calloc(1, 8192);
    bool is_in = false, is_section = false;
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 20);
    FILE *f = NULL;

    cr_assert(n > 0 && text != NULL);
    path[n] = '\0';
    while (f == NULL && strrchr(path, '/') != NULL) {
        strcpy(strrchr(path, '/'), "/man/airsrt.ini.5");
        f = fopen(path, "r");
        *strrchr(path, '/') = '\0';
        *strrchr(path, '/') = '\0';
    }
    cr_assert_not_null(f, "man/airsrt.ini.5 not found above the test");
    while (fgets(line, sizeof(line), f) != NULL) {
        is_section |= strcmp(line, ".SH EXAMPLE\n") == 0;
        if (is_section && strcmp(line, ".EE\n") == 0)
            break;
        if (is_in)
            strcat(text, line);
        is_in |= is_section && strcmp(line, ".EX\n") == 0;
    }
    fclose(f);
    for (char *s = strstr(text, "\\-"); s != NULL; s = strstr(s, "\\-"))
        memmove(s, s + 1, strlen(s));
    cr_assert_null(strchr(text, '\\'), "roff left in:\n%s", text);
    return text;
}

Test(config, loads_the_man_page_example)
{
    char path[256], list[128], *text = man_example();

    snprintf(path, sizeof(path), "%s/build", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    strcat(path, "/examples");
    cr_assert_eq(mkdir(path, 0755), 0);
    put_file("build/examples/bank", "#!/bin/sh\n", 0755);
    put_file("bank.ini", text, 0644);
    free(text);
    snprintf(path, sizeof(path), "%s/bank.ini", dir);
    cr_assert_eq(airsrt_config_load(&cfg, path, err, sizeof(err)), 0, "%s",
                 err);
    /* The tree the page describes. */
    cr_assert_str_eq(cfg.runtime.name, "bank");
    cr_assert_eq(cfg.nsupervisors, 2);
    cr_assert_str_eq(cfg.supervisors[cfg.root].name, "top");
    cr_assert_eq(cfg.supervisors[cfg.root].strategy, AIRSRT_REST_FOR_ONE);
    cr_assert_eq(cfg.supervisors[cfg.root].auto_shutdown,
                 AIRSRT_AUTO_SHUTDOWN_ANY);
    cr_assert_eq(cfg.supervisors[1].parent, cfg.root);
    cr_assert_eq(cfg.ngroups, 3);
    cr_assert_eq(cfg.nworkers, 7);
    cr_assert_eq(cfg.groups[0].supervisor, 1);
    cr_assert_eq(cfg.groups[1].supervisor, 1);
    cr_assert_eq(cfg.groups[2].supervisor, cfg.root);
    cr_assert(cfg.groups[2].is_significant);
    cr_assert_eq(airsrt_config_start_list(&cfg.groups[0], 2, list,
                                          sizeof(list)), 0);
    cr_assert_str_eq(list, "accounts@bank.shard.2=shard=2:shards=4");
}

/* ---- errors: lines and sections ---- */

Test(config, refuses_an_unknown_section)
{
    parse_fails(RT W "[workers x]\n",
                "t.ini:5: [workers x]: unknown section; use [runtime], "
                "[supervisor NAME] or [worker NAME]");
}

Test(config, refuses_an_unknown_key)
{
    parse_fails(RT W "cont = 3\n",
                "t.ini:5: [worker w] cont: unknown key; known: supervisor, "
                "binary, args, count, restart, significant, shutdown_ms, "
                "spare, actor, env, user, group, limit_as, limit_nofile, "
                "limit_cpu");
    airsrt_config_free(&cfg);
    parse_fails("[runtime]\nName = x\n",
                "t.ini:2: [runtime] Name: unknown key; known: name, "
                "ring_bytes, ctl_ring_bytes, payload_max, registry_capacity, "
                "actors_max, event_log, heartbeat_ms, hang_timeout_ms, "
                "fault_injection");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor s]\nbinary = /bin/true\n",
                "t.ini:4: [supervisor s] binary: unknown key; known: parent, "
                "strategy, max_restarts, max_seconds, backoff_initial_ms, "
                "backoff_max_ms, backoff_jitter, auto_shutdown");
    airsrt_config_free(&cfg);
    parse_fails(RT "= 3\n",
                "t.ini:3: [runtime]: no key before the '='; known: name, "
                "ring_bytes, ctl_ring_bytes, payload_max, registry_capacity, "
                "actors_max, event_log, heartbeat_ms, hang_timeout_ms, "
                "fault_injection");
}

Test(config, refuses_a_key_before_any_section)
{
    parse_fails("name = bank\n" RT W,
                "t.ini:1: name: comes before any [section]");
}

Test(config, refuses_bad_section_headers)
{
    char name[AIRSRT_CONFIG_NAME_MAX + 2], text[128];

    parse_fails(RT "[worker]\n",
                "t.ini:3: [worker]: needs a name: [supervisor NAME] or "
                "[worker NAME]");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor a b]\n",
                "t.ini:3: [supervisor a b]: \"a b\" is not a name: 1 to 47 "
                "of A-Z a-z 0-9 _ . -");
    airsrt_config_free(&cfg);
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(text, sizeof(text), RT "[worker %s]\n", name);
    parse_fails(text, "t.ini:3: [worker %s]: \"%s\" is not a name: 1 to 47 "
                "of A-Z a-z 0-9 _ . -", name, name);
    airsrt_config_free(&cfg);
    parse_fails("[runtime bank]\n",
                "t.ini:1: [runtime bank]: [runtime] takes no name");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w] binary = x\n",
                "t.ini:3: [worker w]: text after the ']'");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w\n",
                "t.ini:3: [runtime]: no ']' closes the section header");
    airsrt_config_free(&cfg);
    parse_fails("[worker w ; c]\n",
                "t.ini:1: no ']' closes the section header");
}

Test(config, refuses_a_line_that_is_no_key_value)
{
    parse_fails(RT "binary /bin/true\n",
                "t.ini:3: [runtime]: \"binary /bin/true\" is not KEY = "
                "VALUE, [SECTION] or a comment");
    airsrt_config_free(&cfg);
    parse_fails(RT "  binary\r\n",
                "t.ini:3: [runtime]: \"binary\" is not KEY = VALUE, "
                "[SECTION] or a comment");
}

Test(config, refuses_duplicate_sections)
{
    parse_fails(RT W "[worker x]\nbinary = /bin/true\n[worker w]\n",
                "t.ini:7: [worker w]: a second section of this name; the "
                "first is at line 3");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor s]\n[supervisor s]\n",
                "t.ini:4: [supervisor s]: a second section of this name; the "
                "first is at line 3");
    airsrt_config_free(&cfg);
    parse_fails(RT W "[runtime]\n",
                "t.ini:5: [runtime]: a second [runtime]; the first is at "
                "line 1");
}

Test(config, refuses_a_key_set_twice)
{
    parse_fails(RT W "count = 2\ncount = 3\n",
                "t.ini:6: [worker w] count: set twice; first at line 5");
}

Test(config, refuses_a_line_too_long_or_with_nul)
{
    char *text = malloc(17000);
    size_t n = (size_t)snprintf(text, 17000, RT W "args = ");
    char nul[] = RT "event_log = a\0b\n";

    memset(text + n, 'a', 16001 - 7);
    strcpy(text + n + 16001 - 7, "\r\n");
    parse_fails(text, "t.ini:5: [worker w]: longer than 16000 bytes");
    airsrt_config_free(&cfg);
    /* 16000 bytes and "\r\n" fit. */
    text[n + 16000 - 7] = '\0';
    strcat(text, "\r\n");
    parse_ok(text);
    free(text);
    airsrt_config_free(&cfg);
    cr_assert_eq(airsrt_config_parse(&cfg, nul, sizeof(nul) - 1, "t.ini", dir,
                                     err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, "t.ini:3: [runtime]: holds a NUL byte");
}

Test(config, reports_the_first_error_of_a_line)
{
    parse_fails(RT "[worker w]\ncount = 0\nrestart = sometimes\n",
                "t.ini:4: [worker w] count: \"0\" is not between 1 and 1024");
}

Test(config, reports_the_earliest_of_the_whole_file_checks)
{
    /* The unknown parent (line 4) is found after the missing binary
     * (line 5), and is earlier. */
    parse_fails(RT "[supervisor s]\nparent = nope\n[worker w]\n",
                "t.ini:4: [supervisor s] parent: no [supervisor nope] in "
                "this file");
}

Test(config, reports_an_error_even_without_room_for_it)
{
    cr_assert_eq(airsrt_config_parse(&cfg, "x", 1, "t.ini", dir, err, 0),
                 -EINVAL);
}

/* ---- errors: values ---- */

Test(config, refuses_numbers_out_of_range)
{
    parse_fails(RT W "count = 0\n",
                "t.ini:5: [worker w] count: \"0\" is not between 1 and 1024");
    airsrt_config_free(&cfg);
    parse_fails(RT W "count = 1025\n",
                "t.ini:5: [worker w] count: \"1025\" is not between 1 and "
                "1024");
    airsrt_config_free(&cfg);
    parse_fails(RT "heartbeat_ms = 0\n" W,
                "t.ini:3: [runtime] heartbeat_ms: \"0\" is not between 1 "
                "and 60000");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor s]\nbackoff_jitter = 101\n",
                "t.ini:4: [supervisor s] backoff_jitter: \"101\" is not "
                "between 0 and 100");
    airsrt_config_free(&cfg);
    parse_fails(RT "ring_bytes = 4G\n",
                "t.ini:3: [runtime] ring_bytes: \"4G\" is not between 1 and "
                "4294967295");
    airsrt_config_free(&cfg);
    parse_fails(RT W "limit_cpu = 99999999999999999999999\n",
                "t.ini:5: [worker w] limit_cpu: \"99999999999999999999999\" "
                "is not between 1 and 4294967295");
    airsrt_config_free(&cfg);
    parse_fails(RT W "limit_as = 17179869184G\n",
                "t.ini:5: [worker w] limit_as: \"17179869184G\" is not "
                "between 1048576 and 4611686018427387904");
    airsrt_config_free(&cfg);
    parse_fails(RT W "limit_nofile = 16777216G\n",
                "t.ini:5: [worker w] limit_nofile: \"16777216G\" is not "
                "between 8 and 1073741824");
}

Test(config, refuses_words_where_numbers_go)
{
    parse_fails(RT W "count = 3x\n",
                "t.ini:5: [worker w] count: \"3x\" is not a whole number");
    airsrt_config_free(&cfg);
    parse_fails(RT W "shutdown_ms = -1\n",
                "t.ini:5: [worker w] shutdown_ms: \"-1\" is not a whole "
                "number");
    airsrt_config_free(&cfg);
    parse_fails(RT W "count =\n",
                "t.ini:5: [worker w] count: \"\" is not a whole number");
}

Test(config, refuses_bad_sizes)
{
    parse_fails(RT "ring_bytes = 64T\n",
                "t.ini:3: [runtime] ring_bytes: \"64T\" has a bad size "
                "suffix: use K, M or G (powers of 1024)");
    airsrt_config_free(&cfg);
    parse_fails(RT "payload_max = 64KB\n",
                "t.ini:3: [runtime] payload_max: \"64KB\" has a bad size "
                "suffix: use K, M or G (powers of 1024)");
    airsrt_config_free(&cfg);
    parse_fails(RT W "limit_as = M\n",
                "t.ini:5: [worker w] limit_as: \"M\" is not a size: a whole "
                "number with an optional K, M or G");
}

Test(config, refuses_enum_words_it_does_not_know)
{
    parse_fails("[runtime]\nname = demo\n"
                "[worker accounts]\nbinary = /bin/true\ncount = 2\n"
                "restart = sometimes\n",
                "t.ini:6: [worker accounts] restart: \"sometimes\" is not "
                "one of permanent, transient, temporary");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor s]\nstrategy = one-for-one\n",
                "t.ini:4: [supervisor s] strategy: \"one-for-one\" is not "
                "one of one_for_one, one_for_all, rest_for_one");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor s]\nauto_shutdown = always\n",
                "t.ini:4: [supervisor s] auto_shutdown: \"always\" is not "
                "one of never, any_significant, all_significant");
    airsrt_config_free(&cfg);
    parse_fails(RT W "spare = TRUE\n",
                "t.ini:5: [worker w] spare: \"TRUE\" is not one of true, "
                "false, yes, no, 1, 0");
}

Test(config, refuses_bad_runtime_names_and_event_logs)
{
    parse_fails("[runtime]\nname = -bank\n",
                "t.ini:2: [runtime] name: \"-bank\" is not a runtime name: 1 "
                "to 63 of A-Z a-z 0-9 _ . -, not starting with . or -");
    airsrt_config_free(&cfg);
    parse_fails("[runtime]\nname = a/b\n",
                "t.ini:2: [runtime] name: \"a/b\" is not a runtime name: 1 "
                "to 63 of A-Z a-z 0-9 _ . -, not starting with . or -");
    airsrt_config_free(&cfg);
    parse_fails(RT "event_log =\n",
                "t.ini:3: [runtime] event_log: empty; give a path or stderr");
}

Test(config, refuses_an_event_log_path_too_long)
{
    char *text = malloc(PATH_MAX + 100);
    size_t n = (size_t)snprintf(text, PATH_MAX + 100, RT "event_log = ");

    memset(text + n, 'a', PATH_MAX - 1);
    strcpy(text + n + PATH_MAX - 1, "\n");
    parse_fails(text, "t.ini:3: [runtime] event_log: \"%.80s...\" is too "
                "long a path", text + n);
    free(text);
}

Test(config, refuses_references_that_are_no_names)
{
    parse_fails(RT W "supervisor = a b\n",
                "t.ini:5: [worker w] supervisor: \"a b\" is not a name: 1 to "
                "47 of A-Z a-z 0-9 _ . -");
}

Test(config, refuses_an_unclosed_quote_in_args)
{
    parse_fails(RT W "args = --name \"two words\n",
                "t.ini:5: [worker w] args: a \" is not closed");
}

Test(config, refuses_bad_env_entries)
{
    parse_fails(RT W "env = 1A=b\n",
                "t.ini:5: [worker w] env: \"1A=b\" is not KEY=value, KEY of "
                "A-Z a-z 0-9 _ not starting with a digit");
    airsrt_config_free(&cfg);
    parse_fails(RT W "env = A-B=1\n",
                "t.ini:5: [worker w] env: \"A-B=1\" is not KEY=value, KEY of "
                "A-Z a-z 0-9 _ not starting with a digit");
    airsrt_config_free(&cfg);
    parse_fails(RT W "env = NOVALUE\n",
                "t.ini:5: [worker w] env: \"NOVALUE\" is not KEY=value, KEY "
                "of A-Z a-z 0-9 _ not starting with a digit");
    airsrt_config_free(&cfg);
    parse_fails(RT W "env = AIRSRT_WORKER=3\n",
                "t.ini:5: [worker w] env: AIRSRT_WORKER is set by the "
                "supervisor");
    airsrt_config_free(&cfg);
    parse_fails(RT W "env = AIRSRT_READY_FD=3\n",
                "t.ini:5: [worker w] env: AIRSRT_READY_FD is set by the "
                "supervisor");
    airsrt_config_free(&cfg);
    parse_fails(RT W "env = A=1\nenv = AB=2\nenv = A=3\n",
                "t.ini:7: [worker w] env: A is set twice");
}

Test(config, refuses_unknown_users_and_groups)
{
    parse_fails(RT W "user = no-such-user-here\n",
                "t.ini:5: [worker w] user: \"no-such-user-here\" is not a "
                "user on this system");
    airsrt_config_free(&cfg);
    parse_fails(RT W "group = no-such-group-here\n",
                "t.ini:5: [worker w] group: \"no-such-group-here\" is not a "
                "group on this system");
    airsrt_config_free(&cfg);
    parse_fails(RT W "user = 4294967295\n",
                "t.ini:5: [worker w] user: \"4294967295\" is not between 0 "
                "and 4294967294");
    airsrt_config_free(&cfg);
    parse_fails(RT W "group = 4294967296\n",
                "t.ini:5: [worker w] group: \"4294967296\" is not between 0 "
                "and 4294967294");
    airsrt_config_free(&cfg);
    parse_fails(RT W "user = 54321\n",
                "t.ini:5: [worker w] user: user 54321 has no account to take "
                "a primary group from; set group too");
}

/* ---- errors: actors ---- */

Test(config, refuses_bad_actor_entries)
{
    parse_fails(RT W "actor =\n", "t.ini:5: [worker w] actor: \"\": empty");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = led ger\n",
                "t.ini:5: [worker w] actor: \"led ger\": type \"led ger\" is "
                "not 1 to 31 of A-Z a-z 0-9 _ . -");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = @name\n",
                "t.ini:5: [worker w] actor: \"@name\": type \"\" is not 1 to "
                "31 of A-Z a-z 0-9 _ . -");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = t234567890123456789012345678901x\n",
                "t.ini:5: [worker w] actor: \"t2345678901234567890123456789"
                "01x\": type \"t234567890123456789012345678901x\" is not 1 "
                "to 31 of A-Z a-z 0-9 _ . -");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = t@a b\n",
                "t.ini:5: [worker w] actor: \"t@a b\": name \"a b\" is not 1 "
                "to 87 printable ASCII bytes other than space , = %%");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = t@a%41\n",
                "t.ini:5: [worker w] actor: \"t@a%%41\": name \"a%%41\" is "
                "not 1 to 87 printable ASCII bytes other than space , = %%");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = t@=x\n",
                "t.ini:5: [worker w] actor: \"t@=x\": name \"\" is not 1 to "
                "87 printable ASCII bytes other than space , = %%");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = t=50%\n",
                "t.ini:5: [worker w] actor: \"t=50%%\": a %% in INIT must be "
                "followed by two hex digits (%%25 for %%)");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = t=%4g\n",
                "t.ini:5: [worker w] actor: \"t=%%4g\": a %% in INIT must be "
                "followed by two hex digits (%%25 for %%)");
    airsrt_config_free(&cfg);
    parse_fails(RT W "actor = a,b\n",
                "t.ini:5: [worker w] actor: \"a,b\": ',' would end the entry "
                "(one actor per line; %%2C for a ',' in INIT)");
}

Test(config, checks_actor_names_for_the_groups_last_worker)
{
    /* "n-", the index, 84 bytes: 87 for workers 0 to 9, 88 (one too
     * many) for worker 10. */
    char text[512], name[90];

    memset(name, 'x', 84);
    name[84] = '\0';
    snprintf(text, sizeof(text), RT W "count = 11\nactor = t@n-{i}%s\n", name);
    parse_fails(text, "t.ini:6: [worker w] actor: \"t@n-{i}%s\" in worker 10: "
                "name \"n-10%s\" is not 1 to 87 printable ASCII bytes other "
                "than space , = %%", name, name);
    airsrt_config_free(&cfg);
    snprintf(text, sizeof(text), RT W "count = 10\nactor = t@n-{i}%s\n", name);
    parse_ok(text);
}

Test(config, refuses_a_start_list_past_its_maximum)
{
    char text[AIRSRT_CONFIG_START_LIST_MAX + 256];
    size_t n;

    /* Two entries that make AIRSRT_CONFIG_START_LIST_MAX bytes. */
    n = (size_t)snprintf(text, sizeof(text), RT W "actor = a\nactor = t=");
    memset(text + n, 'x', AIRSRT_CONFIG_START_LIST_MAX - 4);
    strcpy(text + n + AIRSRT_CONFIG_START_LIST_MAX - 4, "\n");
    parse_fails(text, "t.ini:6: [worker w] actor: the start list grows past "
                "%u bytes", AIRSRT_CONFIG_START_LIST_MAX - 1);
}

/* ---- errors: required keys, binaries ---- */

Test(config, refuses_missing_required_keys)
{
    parse_fails("[runtime]\nheartbeat_ms = 10\n" W,
                "t.ini:1: [runtime] name: missing (required)");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w]\ncount = 2\n",
                "t.ini:3: [worker w] binary: missing (required)");
    airsrt_config_free(&cfg);
    parse_fails(W, "t.ini: no [runtime] section; it names the runtime");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor s]\n",
                "t.ini: no [worker] section; a runtime needs one");
    airsrt_config_free(&cfg);
    parse_fails("", "t.ini: no [runtime] section; it names the runtime");
}

Test(config, refuses_binaries_that_cannot_run)
{
    char path[PATH_MAX + 100], text[PATH_MAX + 200];

    put_file("plain", "data\n", 0644);
    parse_fails(RT "[worker w]\nbinary = /no/such/prog\n",
                "t.ini:4: [worker w] binary: \"/no/such/prog\" does not "
                "exist");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w]\nbinary = ./prog\n",
                "t.ini:4: [worker w] binary: \"./prog\" (%s/./prog) does "
                "not exist", dir);
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w]\nbinary = ./plain\n",
                "t.ini:4: [worker w] binary: \"./plain\" (%s/./plain) is not "
                "executable", dir);
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w]\nbinary = /\n",
                "t.ini:4: [worker w] binary: \"/\" is not a file");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker w]\nbinary =\n",
                "t.ini:4: [worker w] binary: empty; give the worker's "
                "program");
    airsrt_config_free(&cfg);
    cr_assert_eq(setenv("PATH", "/nonexistent", 1), 0);
    parse_fails(RT "[worker w]\nbinary = true\n",
                "t.ini:4: [worker w] binary: \"true\" is not found in PATH");
    airsrt_config_free(&cfg);
    memset(path, 'p', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    cr_assert_eq(setenv("PATH", path, 1), 0);
    parse_fails(RT "[worker w]\nbinary = true\n",
                "t.ini:4: [worker w] binary: \"true\" is not found in PATH");
    airsrt_config_free(&cfg);
    path[0] = '.';
    path[1] = '/';
    snprintf(text, sizeof(text), RT "[worker w]\nbinary = %s\n", path);
    parse_fails(text, "t.ini:4: [worker w] binary: \"%.80s...\" is too long "
                "a path", path);
}

Test(config, searches_the_default_path_without_path)
{
    cr_assert_eq(unsetenv("PATH"), 0);
    parse_ok(RT "[worker w]\nbinary = true\n");
    cr_assert_str_eq(cfg.groups[0].binary, "/usr/bin/true");
}

/* ---- errors: the tree ---- */

Test(config, refuses_unknown_parents_and_supervisors)
{
    parse_fails(RT "[supervisor s]\nparent = nope\n" W,
                "t.ini:4: [supervisor s] parent: no [supervisor nope] in "
                "this file");
    airsrt_config_free(&cfg);
    parse_fails(RT W "supervisor = nope\n",
                "t.ini:5: [worker w] supervisor: no [supervisor nope] in "
                "this file");
    airsrt_config_free(&cfg);
    /* A group is not a supervisor. */
    parse_fails(RT W "[supervisor s]\nparent = w\n",
                "t.ini:6: [supervisor s] parent: no [supervisor w] in this "
                "file");
}

Test(config, refuses_a_cycle_in_the_tree)
{
    parse_fails(RT "[supervisor top]\n"
                "[supervisor a]\nparent = b\n"
                "[supervisor b]\nparent = c\n"
                "[supervisor c]\nparent = a\n" W,
                "t.ini:5: [supervisor a] parent: \"b\" makes a cycle: "
                "a -> b -> c -> a");
    airsrt_config_free(&cfg);
    parse_fails(RT "[supervisor top]\n[supervisor a]\nparent = a\n" W,
                "t.ini:5: [supervisor a] parent: \"a\" makes a cycle: a -> a");
    airsrt_config_free(&cfg);
    /* No root at all: every supervisor has a parent. */
    parse_fails(RT "[supervisor a]\nparent = b\n[supervisor b]\nparent = a\n"
                W, "t.ini:4: [supervisor a] parent: \"b\" makes a cycle: "
                "a -> b -> a");
}

Test(config, refuses_two_roots)
{
    parse_fails(RT "[supervisor a]\n" W "[supervisor b]\n",
                "t.ini:6: [supervisor b]: a second root (no parent); "
                "[supervisor a] at line 3 is the root");
}

Test(config, refuses_significant_on_a_permanent_group)
{
    parse_fails(RT W "significant = true\n",
                "t.ini:5: [worker w] significant: true, but the group is "
                "permanent; only a transient or temporary group can be "
                "significant");
    airsrt_config_free(&cfg);
    parse_fails(RT W "significant = yes\nrestart = permanent\n",
                "t.ini:6: [worker w] restart: permanent, but significant = "
                "true; only a transient or temporary group can be "
                "significant");
    airsrt_config_free(&cfg);
    parse_ok(RT W "significant = yes\nrestart = temporary\n");
}

Test(config, refuses_a_hang_timeout_not_above_the_heartbeat)
{
    parse_fails(RT "heartbeat_ms = 5000\n" W,
                "t.ini:3: [runtime] heartbeat_ms: hang_timeout_ms 5000 is "
                "not above heartbeat_ms 5000");
    airsrt_config_free(&cfg);
    parse_fails(RT "heartbeat_ms = 50\nhang_timeout_ms = 40\n" W,
                "t.ini:4: [runtime] hang_timeout_ms: hang_timeout_ms 40 is "
                "not above heartbeat_ms 50");
    airsrt_config_free(&cfg);
    /* Judged on the final values, not line by line. */
    parse_ok(RT "heartbeat_ms = 6000\nhang_timeout_ms = 7000\n" W);
}

Test(config, refuses_ring_sizes_the_segment_rejects)
{
    parse_fails(RT "ring_bytes = 5000\n" W,
                "t.ini:3: [runtime]: ring_bytes 5000 is not a power of two "
                "between 4096 and 1073741824");
    airsrt_config_free(&cfg);
    parse_fails(RT "ring_bytes = 4K\nactors_max = 10\n" W,
                "t.ini:3: [runtime]: ring_bytes 4096 cannot hold two "
                "envelopes of payload_max 65536 (at most 1952)");
    airsrt_config_free(&cfg);
    /* The message names ring_bytes and payload_max: the later of them. */
    parse_fails(RT "payload_max = 8K\nactors_max = 10\nring_bytes = 8K\n"
                "ctl_ring_bytes = 64K\n" W,
                "t.ini:5: [runtime]: ring_bytes 8192 cannot hold two "
                "envelopes of payload_max 8192 (at most 4000)");
    airsrt_config_free(&cfg);
    parse_fails(RT "registry_capacity = 2M\n" W,
                "t.ini:3: [runtime]: registry capacity 2097152 exceeds "
                "1048576");
    airsrt_config_free(&cfg);
    /* Judged on the final values: the payload fits once it is given. */
    parse_ok(RT "ring_bytes = 4K\npayload_max = 1K\n" W);
}

Test(config, refuses_more_than_max_workers_in_all)
{
    parse_fails(RT "[worker a]\nbinary = /bin/true\ncount = 1000\n"
                "[worker b]\nbinary = /bin/true\ncount = 20\n"
                "[worker c]\nbinary = /bin/true\ncount = 5\n",
                "t.ini:11: [worker c] count: makes 1025 workers in all; at "
                "most 1024");
    airsrt_config_free(&cfg);
    parse_fails(RT "[worker a]\nbinary = /bin/true\ncount = 1024\n"
                "[worker b]\nbinary = /bin/true\n",
                "t.ini:6: [worker b] count: makes 1025 workers in all; at "
                "most 1024");
}

Test(config, refuses_more_sections_than_workers)
{
    size_t cap = (AIRSRT_MAX_WORKERS + 1) * 24 + 64, n;
    char *text = malloc(cap);

    n = (size_t)snprintf(text, cap, RT);
    for (unsigned i = 0; i <= AIRSRT_MAX_WORKERS; i++)
        n += (size_t)snprintf(text + n, cap - n, "[supervisor s%u]\n", i);
    parse_fails(text, "t.ini:%u: [supervisor s1024]: more than 1024 "
                "[supervisor] sections", AIRSRT_MAX_WORKERS + 3);
    free(text);
}

/* ---- freeing ---- */

Test(config, free_is_safe_on_a_zeroed_or_freed_config)
{
    struct airsrt_config zero;

    memset(&zero, 0, sizeof(zero));
    airsrt_config_free(&zero);
    parse_ok(RT W "actor = a\nenv = A=1\nargs = x y\n");
    airsrt_config_free(&cfg);
    airsrt_config_free(&cfg);
    cr_assert_null(cfg.groups);
    cr_assert_eq(cfg.ngroups, 0);
}

/* ---- inject: [runtime] fault_injection ---- */

Test(config, fault_injection_is_off_by_default_and_sets_the_segment_flag)
{
    parse_ok(RT W);
    cr_assert_eq(cfg.runtime.shm.flags, 0);
    airsrt_config_free(&cfg);
    parse_ok(RT "fault_injection = true\n" W);
    cr_assert_eq(cfg.runtime.shm.flags, AIRSRT_SHM_F_FAULT_INJECTION);
    airsrt_config_free(&cfg);
    parse_ok(RT "fault_injection = no\n" W);
    cr_assert_eq(cfg.runtime.shm.flags, 0);
}

Test(config, fault_injection_accepts_every_boolean_spelling)
{
    static const char *const words[] = { "true", "yes", "1", "false", "no",
                                         "0" };
    char text[256];

    for (int i = 0; i < 6; i++) {
        snprintf(text, sizeof(text), RT "fault_injection = %s\n" W,
                 words[i]);
        parse_ok(text);
        cr_assert_eq(cfg.runtime.shm.flags,
                     i < 3 ? AIRSRT_SHM_F_FAULT_INJECTION : 0u, "%s",
                     words[i]);
        airsrt_config_free(&cfg);
    }
}

Test(config, refuses_a_bad_fault_injection_value)
{
    parse_fails(RT "fault_injection = on\n" W,
                "t.ini:3: [runtime] fault_injection: \"on\" is not one of "
                "true, false, yes, no, 1, 0");
}
