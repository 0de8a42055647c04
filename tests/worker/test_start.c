/*
 * tests/worker/test_start.c - the start list (airsrt/worker.h): every
 * valid form of an entry, lists, %XX decoding of init arguments, each
 * error with a message that names the entry, and airsrt__worker_start
 * spawning a parsed list in order on an in-process worker.
 *
 * The parser reads the environment: on error it must leave nothing
 * allocated (valgrind runs this suite) and say which entry is wrong.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

TestSuite(start, .fini = harness_fini);

static struct airsrt_start *list;
static size_t n;

/* Parses s, which must be valid; the entries in list[0 .. n). */
static void parse_ok(const char *s)
{
    char err[256] = "";
    int rc = airsrt__start_list_parse(s, &list, &n, err, sizeof(err));

    cr_assert_eq(rc, 0, "\"%s\": %s", s, err);
}

/* Parses s, which must be invalid with a message naming entry. */
static void parse_bad(const char *s, size_t entry)
{
    char err[256] = "", want[32];
    struct airsrt_start *l = (void *)&l;
    size_t k = 99;
    int rc = airsrt__start_list_parse(s, &l, &k, err, sizeof(err));

    cr_assert_eq(rc, -EINVAL, "\"%s\" parsed (%d)", s, rc);
    cr_assert_null(l, "\"%s\": a list despite the error", s);
    cr_assert_eq(k, 0);
    snprintf(want, sizeof(want), "entry %zu", entry);
    cr_assert_not_null(strstr(err, want), "\"%s\": \"%s\" does not name %s",
                       s, err, want);
}

static void done(void)
{
    airsrt__start_list_free(list, n);
    list = NULL;
    n = 0;
}

static void expect_entry(size_t i, const char *type, const char *name,
                         const void *init, size_t init_len)
{
    cr_assert_lt(i, n);
    cr_assert_str_eq(list[i].type, type, "entry %zu", i + 1);
    cr_assert_str_eq(list[i].name, name, "entry %zu", i + 1);
    cr_assert_eq(list[i].init_len, init_len, "entry %zu", i + 1);
    if (init_len == 0)
        cr_assert_null(list[i].init, "entry %zu", i + 1);
    else
        cr_assert_arr_eq(list[i].init, init, init_len, "entry %zu", i + 1);
}

Test(start, empty_string_is_a_list_of_no_entries)
{
    parse_ok("");
    cr_assert_eq(n, 0);
    cr_assert_null(list);
    done();
}

Test(start, parses_each_form_of_an_entry)
{
    parse_ok("ponger");
    cr_assert_eq(n, 1);
    expect_entry(0, "ponger", "", NULL, 0);
    done();
    parse_ok("ponger@pong");
    expect_entry(0, "ponger", "pong", NULL, 0);
    done();
    parse_ok("pinger=1000");
    expect_entry(0, "pinger", "", "1000", 4);
    done();
    parse_ok("pinger@ping=1000");
    expect_entry(0, "pinger", "ping", "1000", 4);
    done();
    /* Only the first '=' ends the head; the init keeps the rest. */
    parse_ok("kv@store=a=b@c");
    expect_entry(0, "kv", "store", "a=b@c", 5);
    done();
    parse_ok("t=");
    expect_entry(0, "t", "", NULL, 0);
    done();
}

Test(start, parses_a_list_in_order)
{
    parse_ok("a,b@bee,c=3,d.x-y_z@dee=4%2C5");
    cr_assert_eq(n, 4);
    expect_entry(0, "a", "", NULL, 0);
    expect_entry(1, "b", "bee", NULL, 0);
    expect_entry(2, "c", "", "3", 1);
    expect_entry(3, "d.x-y_z", "dee", "4,5", 3);
    done();
}

Test(start, decodes_percent_escapes_in_the_init_argument)
{
    static const uint8_t want[] = { 'a', ',', 'b', '%', 'c', 0x00, 0xff,
                                    0xAB, '=' };

    parse_ok("t=a%2Cb%25c%00%ff%aB%3d");
    expect_entry(0, "t", "", want, sizeof(want));
    done();
    /* %2C decoded is data, not a separator: still one entry. */
    parse_ok("t=%2C%2C");
    cr_assert_eq(n, 1);
    expect_entry(0, "t", "", ",,", 2);
    done();
}

Test(start, accepts_type_and_name_at_their_longest)
{
    char s[256], type[AIRSRT_TYPE_NAME_MAX + 1];
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];

    memset(type, 't', AIRSRT_TYPE_NAME_MAX);
    type[AIRSRT_TYPE_NAME_MAX] = '\0';
    memset(name, 'n', AIRSRT_REGISTRY_NAME_MAX);
    name[AIRSRT_REGISTRY_NAME_MAX] = '\0';
    snprintf(s, sizeof(s), "%s@%s", type, name);
    parse_ok(s);
    expect_entry(0, type, name, NULL, 0);
    done();
}

Test(start, an_empty_entry_is_an_error_naming_it)
{
    parse_bad(",a", 1);
    parse_bad("a,,b", 2);
    parse_bad("a,", 2);
    parse_bad(",", 1);
}

Test(start, a_bad_type_is_an_error_naming_the_entry)
{
    parse_bad("a b", 1);
    parse_bad("ok,a/b", 2);
    parse_bad("ok,ok,caf\xc3\xa9", 3);
    parse_bad("@name", 1);
    parse_bad("=init", 1);
    parse_bad("a%41", 1);
}

Test(start, a_type_too_long_is_an_error_naming_the_entry)
{
    char s[64];

    memset(s, 't', AIRSRT_TYPE_NAME_MAX + 1);
    s[AIRSRT_TYPE_NAME_MAX + 1] = '\0';
    parse_bad(s, 1);
}

Test(start, an_empty_or_bad_name_is_an_error_naming_the_entry)
{
    char s[256];

    parse_bad("t@", 1);
    parse_bad("ok,t@=x", 2);
    parse_bad("t@a%20b", 1);
    parse_bad("t@a%b=x", 1);
    parse_bad("t@a b", 1);
    snprintf(s, sizeof(s), "t@%0*d", (int)AIRSRT_REGISTRY_NAME_MAX + 1, 0);
    parse_bad(s, 1);
}

Test(start, a_bad_percent_escape_is_an_error_naming_the_entry)
{
    parse_bad("t=%G0", 1);
    parse_bad("ok,t=%0G", 2);
    parse_bad("t=%4", 1);
    parse_bad("t=abc%", 1);
    parse_bad("t=%%", 1);
}

/* ---- airsrt__worker_start ---- */

static char started[4][64];
static int nstarted;

static int logged_pre_start(struct airsrt_ctx *ctx, void *state,
                            const void *arg, size_t arg_len)
{
    struct airsrt_address held;

    (void)state;
    cr_assert_lt(nstarted, 4);
    snprintf(started[nstarted], sizeof(started[0]), "%.*s", (int)arg_len,
             arg ? (const char *)arg : "");
    nstarted++;
    if (arg_len == 4 && memcmp(arg, "fail", 4) == 0)
        return -EPERM;
    /* A name from the list is bound before pre_start runs. */
    if (airsrt_resolve(ctx, "named", &held) == 0 &&
        airsrt_address_equal(&held, airsrt_self(ctx)))
        strcat(started[nstarted - 1], "@named");
    return 0;
}

static int idle_handle(struct airsrt_ctx *ctx, void *state,
                       const struct airsrt_envelope *env)
{
    (void)ctx;
    (void)state;
    (void)env;
    return 0;
}

static const struct airsrt_actor_type logged = {
    .name = "logged", .pre_start = logged_pre_start,
    .handle = idle_handle };
static const struct airsrt_actor_type *const types[] = { &logged, NULL };

Test(start, worker_start_spawns_the_list_in_order, .timeout = 30)
{
    char err[256] = "";

    unit_open(types, 0, NULL);
    parse_ok("logged=one,logged@named=two,logged");
    cr_assert_eq(airsrt__worker_start(unit_w, list, n, err, sizeof(err)), 0,
                 "%s", err);
    done();
    cr_assert_eq(nstarted, 3);
    cr_assert_str_eq(started[0], "one");
    cr_assert_str_eq(started[1], "two@named");
    cr_assert_str_eq(started[2], "");
    cr_assert_eq(atomic_load(&unit_w->self->actors_alive), 3);
    cr_assert_eq(atomic_load(&unit_w->self->state), AIRSRT_WORKER_RUNNING);
    unit_close();
}

Test(start, worker_start_refuses_an_unknown_type_before_spawning,
     .timeout = 30)
{
    char err[256] = "";

    unit_open(types, 0, NULL);
    parse_ok("logged,ghost");
    cr_assert_eq(airsrt__worker_start(unit_w, list, n, err, sizeof(err)),
                 AIRSRT_EXIT_USAGE);
    done();
    cr_assert_not_null(strstr(err, "ghost"), "%s", err);
    cr_assert_not_null(strstr(err, "logged"), "the message does not list "
                       "the types this binary has: %s", err);
    cr_assert_eq(nstarted, 0);
    cr_assert_eq(wh_poll_until(unit_w, NULL, NULL, UNIT_SETTLE_MS),
                 AIRSRT_EXIT_USAGE);
    unit_close();
}

Test(start, worker_start_fails_when_a_pre_start_fails, .timeout = 30)
{
    char err[256] = "";

    unit_open(types, 0, NULL);
    parse_ok("logged=ok,logged=fail,logged=never");
    cr_assert_eq(airsrt__worker_start(unit_w, list, n, err, sizeof(err)),
                 AIRSRT_EXIT_START_FAILED);
    done();
    cr_assert_eq(nstarted, 2);
    cr_assert_not_null(strstr(err, "actor 2"), "%s", err);
    cr_assert_eq(wh_poll_until(unit_w, NULL, NULL, UNIT_SETTLE_MS),
                 AIRSRT_EXIT_START_FAILED);
    unit_close();
}
