/*
 * supervisor/config.c - the config file (format in config.h and
 * airsrt.ini(5)), read with libinih into struct airsrt_config.
 *
 * libinih splits lines into comments, section headers and KEY = VALUE;
 * everything else is here. Its handler is given no line number, a
 * section name cut at 49 bytes, and never hears of a section without
 * keys, so the reader that feeds it lines (one line per call) also reads
 * each section header itself, before libinih sees the line: it counts
 * lines, opens every section, empty or not, and checks its name.
 *
 * Errors. Loading stops at the first error found on a single line
 * (libinih is told to stop there too). Once the whole file is read, the
 * checks that need all of it run (required keys, names that refer to
 * sections, the tree, totals, ring sizes), and of what they find the
 * error at the earliest line is reported; errors of the whole file (no
 * [runtime], no [worker]) come last.
 *
 * A load writes nothing outside cfg and err: the libinih options it sets
 * for its own parse are put back before it returns. It reads the file
 * system (binaries, PATH) and the user and group databases, and is not
 * thread-safe (libinih's options are process-wide).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <ini.h>

#include "airsrt/address.h"
#include "airsrt/worker.h"
#include "shm/registry.h"
#include "supervisor/config.h"

#define LINE_BYTES_MAX  16000u        /* a line, without its "\r\n" */
#define FILE_BYTES_MAX  (1u << 20)
#define MS_MAX          3600000u      /* one hour */
#define NO_ERROR        UINT_MAX      /* err_order when nothing is wrong */
#define FILE_LEVEL      (UINT_MAX - 1) /* order of errors without a line */

enum sect_kind { SECT_NONE = 0, SECT_RUNTIME, SECT_SUPERVISOR, SECT_WORKER };

/* The keys of each section; the key tables are indexed by these. */
enum {
    RK_NAME, RK_RING_BYTES, RK_CTL_RING_BYTES, RK_PAYLOAD_MAX,
    RK_REGISTRY_CAPACITY, RK_ACTORS_MAX, RK_EVENT_LOG, RK_HEARTBEAT_MS,
    RK_HANG_TIMEOUT_MS,
    RK_FAULT_INJECTION,           /* inject */
    RK_N
};
enum {
    SK_PARENT, SK_STRATEGY, SK_MAX_RESTARTS, SK_MAX_SECONDS,
    SK_BACKOFF_INITIAL_MS, SK_BACKOFF_MAX_MS, SK_BACKOFF_JITTER,
    SK_AUTO_SHUTDOWN, SK_N
};
enum {
    GK_SUPERVISOR, GK_BINARY, GK_ARGS, GK_COUNT, GK_RESTART, GK_SIGNIFICANT,
    GK_SHUTDOWN_MS, GK_SPARE, GK_ACTOR, GK_ENV, GK_USER, GK_GROUP,
    GK_LIMIT_AS, GK_LIMIT_NOFILE, GK_LIMIT_CPU, GK_N
};
#define KEYS_MAX GK_N

struct parse;
struct key;
typedef int key_set_fn(struct parse *p, const struct key *k, void *obj,
                       const char *v);

/* One key of a section: how its value is read, and into which field of
 * the section's structure (off). */
struct key {
    const char *name;
    key_set_fn *set;
    size_t off;
    uint64_t min, max;            /* numbers */
    bool is_size;                 /* a number that takes K, M, G */
    bool is_repeatable;
    const char *const *words;     /* enums: the words, in enum order */
};

/* What a section said beyond its structure, until the whole file is
 * read: the line of each key (0 = absent; a repeated key's first), the
 * name it refers to (parent, supervisor), a group's words of args and
 * binary as written, and the user's primary group. */
struct sect_aux {
    unsigned lines[KEYS_MAX];
    char ref[AIRSRT_CONFIG_NAME_MAX + 1];
    char *binary;
    char **args;
    size_t nargs;
    bool has_user_gid;
    gid_t user_gid;
};

struct parse {
    struct airsrt_config *cfg;
    const char *text;
    size_t size, pos;
    size_t line_off;              /* where the current line starts */
    unsigned line;                /* the line libinih is handling */
    char *err;
    size_t errlen;
    unsigned err_order;           /* line of the error in err, or above */
    int rc;                       /* -EINVAL, or -ENOMEM */
    enum sect_kind kind;          /* of the current section */
    size_t cur;                   /* its index in supervisors or groups */
    struct sect_aux *aux;         /* its aux */
    struct sect_aux runtime;
    unsigned runtime_line;        /* of [runtime]; 0 = none yet */
    struct sect_aux *saux, *gaux; /* alongside supervisors, groups */
    size_t sup_cap, group_cap;
};

/* ---- messages ---- */

static int report(struct parse *p, unsigned line, const char *sect,
                  const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Records an error, "PATH:LINE: [SECTION] KEY: what", leaving out what
 * is NULL or 0, unless one at an earlier line is recorded: the earliest
 * wins, the first of a line wins. Always returns -EINVAL.
 */
static int report(struct parse *p, unsigned line, const char *sect,
                  const char *key, const char *fmt, ...)
{
    unsigned order = line > 0 ? line : FILE_LEVEL;
    size_t n;
    va_list ap;

    if (order >= p->err_order)
        return -EINVAL;
    p->err_order = order;
    p->rc = -EINVAL;
    if (p->errlen == 0)
        return -EINVAL;
    n = (size_t)snprintf(p->err, p->errlen, "%s", p->cfg->path);
    if (line > 0 && n < p->errlen)
        n += (size_t)snprintf(p->err + n, p->errlen - n, ":%u", line);
    if (n < p->errlen)
        n += (size_t)snprintf(p->err + n, p->errlen - n, ": %s%s%s%s",
                              sect ? sect : "", sect && key ? " " : "",
                              key ? key : "", sect || key ? ": " : "");
    if (n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int report_nomem(struct parse *p)
{
    report(p, p->line, NULL, NULL, "out of memory");
    p->rc = -ENOMEM;
    return -ENOMEM;
}

/* "[runtime]", "[supervisor NAME]", "[worker NAME]". */
static const char *label(const struct parse *p, enum sect_kind kind,
                         size_t i, char *buf, size_t len)
{
    if (kind == SECT_RUNTIME)
        snprintf(buf, len, "[runtime]");
    else if (kind == SECT_SUPERVISOR)
        snprintf(buf, len, "[supervisor %s]", p->cfg->supervisors[i].name);
    else
        snprintf(buf, len, "[worker %s]", p->cfg->groups[i].name);
    return buf;
}

#define LABEL_MAX (AIRSRT_CONFIG_NAME_MAX + 16)

/* An error at the current line, in the current section. */
static int fail_key(struct parse *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_key(struct parse *p, const char *key, const char *fmt, ...)
{
    char sect[LABEL_MAX], what[AIRSRT_CONFIG_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return report(p, p->line,
                  p->kind == SECT_NONE ? NULL
                                       : label(p, p->kind, p->cur, sect,
                                               sizeof(sect)),
                  key, "%s", what);
}

/* "a, b, c" from a NULL-ended list of words. */
static const char *word_list(const char *const *words, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; words[i] != NULL; i++) {
        if (i > 0)
            strlcat(buf, ", ", len);
        strlcat(buf, words[i], len);
    }
    return buf;
}

/* ---- values ---- */

static bool is_name(const char *s, size_t len)
{
    if (len == 0 || len > AIRSRT_CONFIG_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || strchr(AIRSRT_CONFIG_NAME_CHARS, s[i]) == NULL)
            return false;
    return true;
}

/*
 * A whole number of decimal digits, with one K, M or G (powers of 1024,
 * either case) after it if is_size. 0, -EINVAL (not a number), -EDOM (a
 * bad suffix), -ERANGE (past 2^64 - 1).
 */
static int parse_number(const char *v, bool is_size, uint64_t *out)
{
    const char *s = v;
    unsigned shift;
    uint64_t n = 0;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');

        if (n > (UINT64_MAX - d) / 10)
            return -ERANGE;
        n = n * 10 + d;
    }
    if (*s != '\0' && !is_size)
        return -EINVAL;
    if (*s != '\0' && (s[1] != '\0' || strchr("KkMmGg", *s) == NULL))
        return -EDOM;
    shift = *s == '\0' ? 0 : tolower((unsigned char)*s) == 'k' ? 10
          : tolower((unsigned char)*s) == 'm' ? 20 : 30;
    if (n > UINT64_MAX >> shift)
        return -ERANGE;
    *out = n << shift;
    return 0;
}

/* Reads key k's number from v into *out, in k's range. */
static int read_number(struct parse *p, const struct key *k, const char *v,
                       uint64_t *out)
{
    int rc = parse_number(v, k->is_size, out);

    if (rc == -EINVAL && k->is_size)
        return fail_key(p, k->name, "\"%.80s\" is not a size: a whole number "
                        "with an optional K, M or G", v);
    if (rc == -EINVAL)
        return fail_key(p, k->name, "\"%.80s\" is not a whole number", v);
    if (rc == -EDOM)
        return fail_key(p, k->name, "\"%.80s\" has a bad size suffix: use K, "
                        "M or G (powers of 1024)", v);
    if (rc < 0 || *out < k->min || *out > k->max)
        return fail_key(p, k->name, "\"%.80s\" is not between %llu and %llu",
                        v, (unsigned long long)k->min,
                        (unsigned long long)k->max);
    return 0;
}

static int set_u32(struct parse *p, const struct key *k, void *obj,
                   const char *v)
{
    uint64_t n;
    uint32_t n32;

    if (read_number(p, k, v, &n) < 0)
        return -EINVAL;
    n32 = (uint32_t)n;
    memcpy((char *)obj + k->off, &n32, sizeof(n32));
    return 0;
}

static int set_rlim(struct parse *p, const struct key *k, void *obj,
                    const char *v)
{
    uint64_t n;
    rlim_t r;

    if (read_number(p, k, v, &n) < 0)
        return -EINVAL;
    r = (rlim_t)n;
    memcpy((char *)obj + k->off, &r, sizeof(r));
    return 0;
}

/* Index of v in words, or -1 after reporting it. */
static int read_word(struct parse *p, const struct key *k, const char *v)
{
    char list[256];

    for (int i = 0; k->words[i] != NULL; i++)
        if (strcmp(v, k->words[i]) == 0)
            return i;
    fail_key(p, k->name, "\"%.80s\" is not one of %s", v,
             word_list(k->words, list, sizeof(list)));
    return -1;
}

/* Every enum of config.h is int-sized (no negative values, no more than
 * an int's). */
static_assert(sizeof(enum airsrt_strategy) == sizeof(int), "enum size");
static_assert(sizeof(enum airsrt_restart) == sizeof(int), "enum size");
static_assert(sizeof(enum airsrt_auto_shutdown) == sizeof(int), "enum size");

static int set_enum(struct parse *p, const struct key *k, void *obj,
                    const char *v)
{
    int i = read_word(p, k, v);

    if (i < 0)
        return -EINVAL;
    memcpy((char *)obj + k->off, &i, sizeof(i));
    return 0;
}

static const char *const bool_words[] = {
    "true", "false", "yes", "no", "1", "0", NULL
};

/* 1 or 0 for a word of bool_words (k->words), else -EINVAL with the
 * reason in p. */
static int read_bool(struct parse *p, const struct key *k, const char *v)
{
    int i = read_word(p, k, v);

    if (i < 0)
        return -EINVAL;
    return i % 2 == 0;            /* true, yes, 1 sit at even places */
}

static int set_bool(struct parse *p, const struct key *k, void *obj,
                    const char *v)
{
    int rc = read_bool(p, k, v);
    bool b = rc == 1;

    if (rc < 0)
        return rc;
    memcpy((char *)obj + k->off, &b, sizeof(b));
    return 0;
}

/* ---- [runtime] keys ---- */

static int set_runtime_name(struct parse *p, const struct key *k, void *obj,
                            const char *v)
{
    struct airsrt_config_runtime *rt = obj;

    if (airsrt_shm_name_validate(v) < 0)
        return fail_key(p, k->name, "\"%.80s\" is not a runtime name: 1 to "
                        "%u of A-Z a-z 0-9 _ . -, not starting with . or -",
                        v, AIRSRT_RUNTIME_NAME_MAX);
    strlcpy(rt->name, v, sizeof(rt->name));
    return 0;
}

static int set_event_log(struct parse *p, const struct key *k, void *obj,
                         const char *v)
{
    struct airsrt_config_runtime *rt = obj;
    size_t room = sizeof(rt->event_log);

    if (v[0] == '\0')
        return fail_key(p, k->name, "empty; give a path or stderr");
    /* A relative path is joined to the config's folder when opened. */
    if (v[0] != '/' && strcmp(v, "stderr") != 0)
        room -= strlen(p->cfg->dir) + 1;
    if (strlen(v) >= room)
        return fail_key(p, k->name, "\"%.80s...\" is too long a path", v);
    strlcpy(rt->event_log, v, sizeof(rt->event_log));
    return 0;
}

/* ---- inject: fault_injection = BOOL, a flag of the segment ---- */

static int set_fault_injection(struct parse *p, const struct key *k,
                               void *obj, const char *v)
{
    struct airsrt_config_runtime *rt = obj;
    int rc = read_bool(p, k, v);

    if (rc < 0)
        return rc;
    if (rc == 1)
        rt->shm.flags |= AIRSRT_SHM_F_FAULT_INJECTION;
    else
        rt->shm.flags &= ~AIRSRT_SHM_F_FAULT_INJECTION;
    return 0;
}

/* ---- [supervisor] and [worker] references ---- */

static int set_ref(struct parse *p, const struct key *k, void *obj,
                   const char *v)
{
    (void)obj;
    if (!is_name(v, strlen(v)))
        return fail_key(p, k->name, "\"%.80s\" is not a name: 1 to %u of "
                        "A-Z a-z 0-9 _ . -", v, AIRSRT_CONFIG_NAME_MAX);
    strlcpy(p->aux->ref, v, sizeof(p->aux->ref));
    return 0;
}

/* ---- [worker] keys ---- */

/* Why path is no executable file (a static string), or NULL. */
static const char *exec_problem(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return errno == ENOENT ? "does not exist" : strerror(errno);
    if (!S_ISREG(st.st_mode))
        return "is not a file";
    if (access(path, X_OK) < 0)
        return "is not executable";
    return NULL;
}

/* Searches PATH (as execvp would) for name, into out. */
static int path_search(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");

    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *d = path;; d++) {
        size_t dlen = strcspn(d, ":");

        /* An empty entry is the current folder. */
        if ((size_t)snprintf(out, len, "%.*s%s%s", (int)dlen, d,
                             dlen > 0 ? "/" : "", name) < len &&
            exec_problem(out) == NULL)
            return 0;
        d += dlen;
        if (*d == '\0')
            return -ENOENT;
    }
}

static int set_binary(struct parse *p, const struct key *k, void *obj,
                      const char *v)
{
    struct airsrt_config_group *g = obj;
    const char *why;
    int n;

    if (v[0] == '\0')
        return fail_key(p, k->name, "empty; give the worker's program");
    if (strchr(v, '/') == NULL) {
        if (path_search(v, g->binary, sizeof(g->binary)) < 0)
            return fail_key(p, k->name, "\"%.80s\" is not found in PATH", v);
    } else {
        n = v[0] == '/' ? snprintf(g->binary, sizeof(g->binary), "%s", v)
                        : snprintf(g->binary, sizeof(g->binary), "%s%s%s",
                                   p->cfg->dir,
                                   strcmp(p->cfg->dir, "/") != 0 ? "/" : "",
                                   v);
        if ((size_t)n >= sizeof(g->binary))
            return fail_key(p, k->name, "\"%.80s...\" is too long a path", v);
        why = exec_problem(g->binary);
        if (why != NULL && v[0] == '/')
            return fail_key(p, k->name, "\"%.200s\" %s", v, why);
        if (why != NULL)
            return fail_key(p, k->name, "\"%.200s\" (%.200s) %s", v,
                            g->binary, why);
    }
    p->aux->binary = strdup(v);
    return p->aux->binary == NULL ? report_nomem(p) : 0;
}

/* Appends s (taking it) to the NULL-ended *list of *n strings. */
static int list_push(char ***list, size_t *n, char *s)
{
    char **l;

    if (s == NULL)
        return -ENOMEM;
    l = realloc(*list, (*n + 2) * sizeof(*l));
    if (l == NULL) {
        free(s);
        return -ENOMEM;
    }
    l[(*n)++] = s;
    l[*n] = NULL;
    *list = l;
    return 0;
}

static void list_free(char **list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        free(list[i]);
    free(list);
}

/*
 * Splits v into words at blanks; a double-quoted stretch, blanks and all,
 * belongs to the word it is in ("" is an empty word). -EINVAL: a quote is
 * not closed.
 */
static int args_split(const char *v, char ***list, size_t *n)
{
    char *word = malloc(strlen(v) + 1);
    int rc = 0;

    if (word == NULL)
        return -ENOMEM;
    while (rc == 0) {
        bool is_quoted = false, has_word = false;
        size_t len = 0;

        while (isspace((unsigned char)*v))
            v++;
        for (; *v != '\0' && (is_quoted || !isspace((unsigned char)*v)); v++) {
            has_word = true;
            if (*v == '"')
                is_quoted = !is_quoted;
            else
                word[len++] = *v;
        }
        if (is_quoted)
            rc = -EINVAL;
        else if (!has_word)
            break;
        else
            rc = list_push(list, n, strndup(word, len));
    }
    free(word);
    return rc;
}

static int set_args(struct parse *p, const struct key *k, void *obj,
                    const char *v)
{
    int rc = args_split(v, &p->aux->args, &p->aux->nargs);

    (void)obj;
    if (rc == -EINVAL)
        return fail_key(p, k->name, "a \" is not closed");
    return rc < 0 ? report_nomem(p) : 0;
}

/*
 * Writes entry with every "{i}" replaced by i into buf (NUL-terminated
 * when len > 0, cut to fit); returns the length the whole would have.
 */
static size_t expand(const char *entry, uint32_t i, char *buf, size_t len)
{
    char num[16];
    size_t n = 0, numlen = (size_t)snprintf(num, sizeof(num), "%u", i);

    for (const char *s = entry; *s != '\0';) {
        bool is_i = strncmp(s, "{i}", 3) == 0;
        const char *piece = is_i ? num : s;
        size_t plen = is_i ? numlen : 1;

        for (size_t k = 0; k < plen; k++, n++)
            if (n + 1 < len)
                buf[n] = piece[k];
        s += is_i ? 3 : 1;
    }
    if (len > 0)
        buf[n < len ? n : len - 1] = '\0';
    return n;
}

static bool is_type_name(const char *s, size_t len)
{
    if (len == 0 || len > AIRSRT_TYPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (strchr(AIRSRT_CONFIG_NAME_CHARS, s[i]) == NULL)
            return false;
    return true;
}

static bool is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

static int why_set(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Says why in why; returns -EINVAL. */
static int why_set(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Checks the NAME of an entry, [s, s + len). */
static int entry_name_check(const char *s, size_t len, char *why,
                            size_t wlen)
{
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];

    strlcpy(name, s, len < sizeof(name) ? len + 1 : sizeof(name));
    if (len >= sizeof(name) || airsrt_registry_name_validate(name) < 0 ||
        strchr(name, '%') != NULL)
        return why_set(why, wlen, "name \"%.*s\" is not 1 to %u printable "
                       "ASCII bytes other than space , = %%",
                       (int)(len > 100 ? 100 : len), s,
                       AIRSRT_REGISTRY_NAME_MAX);
    return 0;
}

/* Checks the start-list entry e (TYPE[@NAME][=INIT], airsrt/worker.h,
 * "{i}" already replaced); the reason in why. */
static int entry_check(const char *e, char *why, size_t len)
{
    const char *eq = strchr(e, '='), *at, *s;
    size_t head = eq != NULL ? (size_t)(eq - e) : strlen(e), tlen;

    at = memchr(e, '@', head);
    tlen = at != NULL ? (size_t)(at - e) : head;
    if (e[0] == '\0')
        return why_set(why, len, "empty");
    if (strchr(e, ',') != NULL)
        return why_set(why, len, "',' would end the entry (one actor per "
                       "line; %%2C for a ',' in INIT)");
    if (!is_type_name(e, tlen))
        return why_set(why, len, "type \"%.*s\" is not 1 to %u of A-Z a-z "
                       "0-9 _ . -", (int)(tlen > 80 ? 80 : tlen), e,
                       AIRSRT_TYPE_NAME_MAX);
    if (at != NULL && entry_name_check(at + 1, head - tlen - 1, why, len) < 0)
        return -EINVAL;
    /* After a valid %XX, the search goes on past it. */
    for (s = eq; s != NULL && (s = strchr(s + 1, '%')) != NULL; s += 2)
        if (!is_hex(s[1]) || !is_hex(s[2]))
            return why_set(why, len, "a %% in INIT must be followed by two "
                           "hex digits (%%25 for %%)");
    return 0;
}

/* Checks entry as worker i of its group would get it. */
static int actor_check(const char *entry, uint32_t i, char *why, size_t len)
{
    size_t n = expand(entry, i, NULL, 0);
    char *e = malloc(n + 1);
    int rc;

    if (e == NULL)
        return -ENOMEM;
    expand(entry, i, e, n + 1);
    rc = entry_check(e, why, len);
    free(e);
    return rc;
}

static int set_actor(struct parse *p, const struct key *k, void *obj,
                     const char *v)
{
    struct airsrt_config_group *g = obj;
    struct airsrt_config_actor *a;
    char why[256];
    int rc = actor_check(v, 0, why, sizeof(why));

    if (rc == -ENOMEM)
        return report_nomem(p);
    if (rc < 0)
        return fail_key(p, k->name, "\"%.100s\": %s", v, why);
    a = realloc(g->actors, (g->nactors + 1) * sizeof(*a));
    if (a == NULL)
        return report_nomem(p);
    g->actors = a;
    a[g->nactors].entry = strdup(v);
    a[g->nactors].line = p->line;
    if (a[g->nactors].entry == NULL)
        return report_nomem(p);
    g->nactors++;
    return 0;
}

/* Variables the supervisor sets for every worker (airsrt/worker.h and
 * the supervisor's contract): a config must not set them. */
static const char *const env_reserved[] = {
    AIRSRT_ENV_FD, AIRSRT_ENV_WORKER, AIRSRT_ENV_ACTORS,
    AIRSRT_ENV_HEARTBEAT_MS, AIRSRT_ENV_READY_FD, AIRSRT_ENV_SPARE_FD,
    AIRSRT_ENV_EXIT_FD, NULL
};

static bool is_env_name(const char *s, size_t len)
{
    if (len == 0 || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

static int set_env(struct parse *p, const struct key *k, void *obj,
                   const char *v)
{
    struct airsrt_config_group *g = obj;
    size_t klen = strcspn(v, "=");

    if (v[klen] != '=' || !is_env_name(v, klen))
        return fail_key(p, k->name, "\"%.80s\" is not KEY=value, KEY of A-Z "
                        "a-z 0-9 _ not starting with a digit", v);
    for (size_t i = 0; env_reserved[i] != NULL; i++)
        if (strlen(env_reserved[i]) == klen &&
            memcmp(v, env_reserved[i], klen) == 0)
            return fail_key(p, k->name, "%s is set by the supervisor",
                            env_reserved[i]);
    for (size_t i = 0; i < g->nenv; i++)
        if (strncmp(g->env[i], v, klen + 1) == 0)
            return fail_key(p, k->name, "%.*s is set twice", (int)klen, v);
    return list_push(&g->env, &g->nenv, strdup(v)) < 0 ? report_nomem(p) : 0;
}

/* A user or group id written as a number: 0 .. 2^32 - 2 (-1 means none
 * to the kernel). -ENOENT: not a number. */
static int read_id(struct parse *p, const struct key *k, const char *v,
                   uint32_t *id)
{
    uint64_t n;
    int rc = parse_number(v, false, &n);

    if (rc == -EINVAL)
        return -ENOENT;
    if (rc < 0 || n >= UINT32_MAX)
        return fail_key(p, k->name, "\"%.80s\" is not between 0 and %u", v,
                        UINT32_MAX - 1);
    *id = (uint32_t)n;
    return 0;
}

static int set_user(struct parse *p, const struct key *k, void *obj,
                    const char *v)
{
    struct airsrt_config_group *g = obj;
    struct passwd *pw;
    uint32_t id = 0;
    int rc = read_id(p, k, v, &id);

    if (rc == -EINVAL)
        return rc;
    pw = rc == 0 ? getpwuid((uid_t)id) : getpwnam(v);
    if (rc < 0 && pw == NULL)
        return fail_key(p, k->name, "\"%.80s\" is not a user on this system",
                        v);
    g->has_user = true;
    g->uid = pw != NULL ? pw->pw_uid : (uid_t)id;
    p->aux->has_user_gid = pw != NULL;
    p->aux->user_gid = pw != NULL ? pw->pw_gid : 0;
    return 0;
}

static int set_group(struct parse *p, const struct key *k, void *obj,
                     const char *v)
{
    struct airsrt_config_group *g = obj;
    struct group *gr;
    uint32_t id = 0;
    int rc = read_id(p, k, v, &id);

    if (rc == -EINVAL)
        return rc;
    if (rc < 0) {
        gr = getgrnam(v);
        if (gr == NULL)
            return fail_key(p, k->name, "\"%.80s\" is not a group on this "
                            "system", v);
        id = gr->gr_gid;
    }
    g->has_group = true;
    g->gid = (gid_t)id;
    return 0;
}

/* ---- key tables ---- */

static const char *const strategy_words[] = {
    "one_for_one", "one_for_all", "rest_for_one", NULL
};
static const char *const restart_words[] = {
    "permanent", "transient", "temporary", NULL
};
static const char *const auto_shutdown_words[] = {
    "never", "any_significant", "all_significant", NULL
};

#define RT(f) offsetof(struct airsrt_config_runtime, f)
#define SV(f) offsetof(struct airsrt_config_supervisor, f)
#define GR(f) offsetof(struct airsrt_config_group, f)
/* A key read by its own function, a number, a size, an enum or bool. */
#define FN(n, fn)          { .name = n, .set = fn }
#define NUM(n, fn, o, lo, hi) \
    { .name = n, .set = fn, .off = o, .min = lo, .max = hi }
#define SIZE(n, fn, o, lo, hi) \
    { .name = n, .set = fn, .off = o, .min = lo, .max = hi, .is_size = true }
#define WORDS(n, fn, o, w) { .name = n, .set = fn, .off = o, .words = w }
#define MANY(n, fn)        { .name = n, .set = fn, .is_repeatable = true }

static const struct key runtime_keys[RK_N] = {
    [RK_NAME] = FN("name", set_runtime_name),
    [RK_RING_BYTES] = SIZE("ring_bytes", set_u32, RT(shm.ring_bytes), 1,
                           UINT32_MAX),
    [RK_CTL_RING_BYTES] = SIZE("ctl_ring_bytes", set_u32,
                               RT(shm.ctl_ring_bytes), 1, UINT32_MAX),
    [RK_PAYLOAD_MAX] = SIZE("payload_max", set_u32, RT(shm.payload_max), 1,
                            UINT32_MAX),
    [RK_REGISTRY_CAPACITY] = SIZE("registry_capacity", set_u32,
                                  RT(shm.registry_capacity), 1, UINT32_MAX),
    [RK_ACTORS_MAX] = SIZE("actors_max", set_u32, RT(shm.actors_max), 1,
                           UINT32_MAX),
    [RK_EVENT_LOG] = FN("event_log", set_event_log),
    [RK_HEARTBEAT_MS] = NUM("heartbeat_ms", set_u32, RT(heartbeat_ms), 1,
                            60000),
    [RK_HANG_TIMEOUT_MS] = NUM("hang_timeout_ms", set_u32,
                               RT(hang_timeout_ms), 1, MS_MAX),
    /* inject */
    [RK_FAULT_INJECTION] = { .name = "fault_injection",
                             .set = set_fault_injection,
                             .words = bool_words },
};

static const struct key supervisor_keys[SK_N] = {
    [SK_PARENT] = FN("parent", set_ref),
    [SK_STRATEGY] = WORDS("strategy", set_enum, SV(strategy),
                          strategy_words),
    [SK_MAX_RESTARTS] = NUM("max_restarts", set_u32, SV(max_restarts), 0,
                            100000),
    [SK_MAX_SECONDS] = NUM("max_seconds", set_u32, SV(max_seconds), 1,
                           86400),
    [SK_BACKOFF_INITIAL_MS] = NUM("backoff_initial_ms", set_u32,
                                  SV(backoff_initial_ms), 0, MS_MAX),
    [SK_BACKOFF_MAX_MS] = NUM("backoff_max_ms", set_u32, SV(backoff_max_ms),
                              0, MS_MAX),
    [SK_BACKOFF_JITTER] = NUM("backoff_jitter", set_u32,
                              SV(backoff_jitter_pct), 0, 100),
    [SK_AUTO_SHUTDOWN] = WORDS("auto_shutdown", set_enum, SV(auto_shutdown),
                               auto_shutdown_words),
};

static const struct key group_keys[GK_N] = {
    [GK_SUPERVISOR] = FN("supervisor", set_ref),
    [GK_BINARY] = FN("binary", set_binary),
    [GK_ARGS] = FN("args", set_args),
    [GK_COUNT] = NUM("count", set_u32, GR(count), 1, AIRSRT_MAX_WORKERS),
    [GK_RESTART] = WORDS("restart", set_enum, GR(restart), restart_words),
    [GK_SIGNIFICANT] = WORDS("significant", set_bool, GR(is_significant),
                             bool_words),
    [GK_SHUTDOWN_MS] = NUM("shutdown_ms", set_u32, GR(shutdown_ms), 0,
                           MS_MAX),
    [GK_SPARE] = WORDS("spare", set_bool, GR(has_spare), bool_words),
    [GK_ACTOR] = MANY("actor", set_actor),
    [GK_ENV] = MANY("env", set_env),
    [GK_USER] = FN("user", set_user),
    [GK_GROUP] = FN("group", set_group),
    /* A worker maps the whole segment, and needs descriptors 0 to 4. */
    [GK_LIMIT_AS] = SIZE("limit_as", set_rlim, GR(limit_as), 1u << 20,
                         1ull << 62),
    [GK_LIMIT_NOFILE] = SIZE("limit_nofile", set_rlim, GR(limit_nofile), 8,
                             1u << 30),
    [GK_LIMIT_CPU] = NUM("limit_cpu", set_rlim, GR(limit_cpu), 1,
                         UINT32_MAX),
};

static const struct key *section_keys(enum sect_kind kind, size_t *n)
{
    *n = kind == SECT_RUNTIME ? RK_N : kind == SECT_SUPERVISOR ? SK_N : GK_N;
    return kind == SECT_RUNTIME ? runtime_keys
         : kind == SECT_SUPERVISOR ? supervisor_keys : group_keys;
}

static void *section_obj(struct parse *p)
{
    if (p->kind == SECT_RUNTIME)
        return &p->cfg->runtime;
    if (p->kind == SECT_SUPERVISOR)
        return &p->cfg->supervisors[p->cur];
    return &p->cfg->groups[p->cur];
}

/* libinih's handler: one KEY = VALUE of the current section. */
static int on_key(void *user, const char *section, const char *name,
                  const char *value)
{
    struct parse *p = user;
    const struct key *keys;
    char list[256];
    size_t n, i;

    /* libinih cuts section at 49 bytes; the reader kept the whole. */
    (void)section;
    if (p->kind == SECT_NONE) {
        fail_key(p, name, "comes before any [section]");
        return 0;
    }
    keys = section_keys(p->kind, &n);
    for (i = 0; i < n && strcmp(name, keys[i].name) != 0; i++)
        ;
    if (i == n) {
        list[0] = '\0';
        for (size_t k = 0; k < n; k++) {
            strlcat(list, k > 0 ? ", " : "", sizeof(list));
            strlcat(list, keys[k].name, sizeof(list));
        }
        fail_key(p, name[0] != '\0' ? name : NULL, "%s; known: %s",
                 name[0] != '\0' ? "unknown key" : "no key before the '='",
                 list);
        return 0;
    }
    if (p->aux->lines[i] != 0 && !keys[i].is_repeatable) {
        fail_key(p, name, "set twice; first at line %u", p->aux->lines[i]);
        return 0;
    }
    if (p->aux->lines[i] == 0)
        p->aux->lines[i] = p->line;
    return keys[i].set(p, &keys[i], section_obj(p), value) == 0;
}

/* ---- sections ---- */

/* Index of the supervisor or group named name, or -1. */
static int find_supervisor(const struct airsrt_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsupervisors; i++)
        if (strcmp(cfg->supervisors[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int find_group(const struct airsrt_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ngroups; i++)
        if (strcmp(cfg->groups[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Doubles the room of a section array and its aux array (*cap of
 * each); either may have moved, even on failure. */
static int grow(void **arr, size_t elem, struct sect_aux **aux, size_t *cap)
{
    size_t cap2 = *cap == 0 ? 4 : *cap * 2;
    void *a = realloc(*arr, cap2 * elem);

    if (a == NULL)
        return -ENOMEM;
    *arr = a;
    a = realloc(*aux, cap2 * sizeof(**aux));
    if (a == NULL)
        return -ENOMEM;
    *aux = a;
    *cap = cap2;
    return 0;
}

/* Room for one more supervisor, with its aux. */
static int supervisor_reserve(struct parse *p)
{
    void *arr = p->cfg->supervisors;
    int rc;

    if (p->cfg->nsupervisors < p->sup_cap)
        return 0;
    rc = grow(&arr, sizeof(*p->cfg->supervisors), &p->saux, &p->sup_cap);
    p->cfg->supervisors = arr;
    return rc;
}

static int group_reserve(struct parse *p)
{
    void *arr = p->cfg->groups;
    int rc;

    if (p->cfg->ngroups < p->group_cap)
        return 0;
    rc = grow(&arr, sizeof(*p->cfg->groups), &p->gaux, &p->group_cap);
    p->cfg->groups = arr;
    return rc;
}

static void supervisor_defaults(struct airsrt_config_supervisor *s,
                                const char *name, unsigned line)
{
    memset(s, 0, sizeof(*s));
    strlcpy(s->name, name, sizeof(s->name));
    s->parent = -1;
    s->strategy = AIRSRT_ONE_FOR_ONE;
    s->max_restarts = AIRSRT_MAX_RESTARTS_DEFAULT;
    s->max_seconds = AIRSRT_MAX_SECONDS_DEFAULT;
    s->auto_shutdown = AIRSRT_AUTO_SHUTDOWN_NEVER;
    s->line = line;
}

static void group_defaults(struct airsrt_config_group *g, const char *name,
                           unsigned line)
{
    memset(g, 0, sizeof(*g));
    strlcpy(g->name, name, sizeof(g->name));
    g->supervisor = -1;
    g->count = 1;
    g->restart = AIRSRT_RESTART_PERMANENT;
    g->shutdown_ms = AIRSRT_SHUTDOWN_MS_DEFAULT;
    g->limit_as = g->limit_nofile = g->limit_cpu = RLIM_INFINITY;
    g->line = line;
}

/* Opens [supervisor name] or [worker name] at the current line. */
static int named_open(struct parse *p, enum sect_kind kind, const char *name)
{
    struct airsrt_config *cfg = p->cfg;
    bool is_sup = kind == SECT_SUPERVISOR;
    int dup = is_sup ? find_supervisor(cfg, name) : find_group(cfg, name);
    char sect[LABEL_MAX];

    /* A supervisor and a group may share a name: nothing refers to a
     * group by name, and the event log tells them apart. */
    snprintf(sect, sizeof(sect), "[%s %s]", is_sup ? "supervisor" : "worker",
             name);
    if (dup >= 0)
        return report(p, p->line, sect, NULL, "a second section of this "
                      "name; the first is at line %u",
                      is_sup ? cfg->supervisors[dup].line
                             : cfg->groups[dup].line);
    if ((is_sup ? cfg->nsupervisors : cfg->ngroups) >= AIRSRT_MAX_WORKERS)
        return report(p, p->line, sect, NULL, "more than %u [%s] sections",
                      AIRSRT_MAX_WORKERS, is_sup ? "supervisor" : "worker");
    if ((is_sup ? supervisor_reserve(p) : group_reserve(p)) < 0)
        return report_nomem(p);
    p->cur = is_sup ? cfg->nsupervisors++ : cfg->ngroups++;
    p->aux = is_sup ? &p->saux[p->cur] : &p->gaux[p->cur];
    memset(p->aux, 0, sizeof(*p->aux));
    if (is_sup)
        supervisor_defaults(&cfg->supervisors[p->cur], name, p->line);
    else
        group_defaults(&cfg->groups[p->cur], name, p->line);
    p->kind = kind;
    return 0;
}

/* The header [s, s + len) as written, for messages about it. */
static int fail_header(struct parse *p, const char *s, size_t len,
                       const char *what)
{
    char sect[100];

    snprintf(sect, sizeof(sect), "[%.*s%s]", (int)(len > 80 ? 80 : len), s,
             len > 80 ? "..." : "");
    return report(p, p->line, sect, NULL, "%s", what);
}

static bool is_word(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

/*
 * The header whose name is [s, s + len) (between the brackets), rest what
 * follows the ']'. The section is the current one from here on, until
 * the next header; keys in a section that failed to open are never read.
 */
static int runtime_open(struct parse *p, const char *s, size_t len,
                        bool has_name)
{
    if (has_name)
        return fail_header(p, s, len, "[runtime] takes no name");
    if (p->runtime_line != 0)
        return report(p, p->line, "[runtime]", NULL, "a second [runtime]; "
                      "the first is at line %u", p->runtime_line);
    p->runtime_line = p->line;
    p->kind = SECT_RUNTIME;
    p->aux = &p->runtime;
    return 0;
}

static int section_open(struct parse *p, const char *s, size_t len,
                        const char *rest)
{
    size_t wlen, off;
    char name[AIRSRT_CONFIG_NAME_MAX + 1], what[200];

    p->kind = SECT_NONE;
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    for (wlen = 0; wlen < len && !isspace((unsigned char)s[wlen]); wlen++)
        ;
    for (off = wlen; off < len && isspace((unsigned char)s[off]); off++)
        ;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest != '\0' && *rest != ';' && *rest != '#')
        return fail_header(p, s, len, "text after the ']'");
    if (is_word(s, wlen, "runtime"))
        return runtime_open(p, s, len, off < len);
    if (!is_word(s, wlen, "supervisor") && !is_word(s, wlen, "worker"))
        return fail_header(p, s, len, "unknown section; use [runtime], "
                           "[supervisor NAME] or [worker NAME]");
    if (off == len)
        return fail_header(p, s, len, "needs a name: [supervisor NAME] or "
                           "[worker NAME]");
    snprintf(what, sizeof(what), "\"%.*s\" is not a name: 1 to %u of A-Z "
             "a-z 0-9 _ . -", (int)(len - off > 80 ? 80 : len - off), s + off,
             AIRSRT_CONFIG_NAME_MAX);
    if (!is_name(s + off, len - off))
        return fail_header(p, s, len, what);
    strlcpy(name, s + off, len - off + 1);
    return named_open(p, is_word(s, wlen, "worker") ? SECT_WORKER
                                                    : SECT_SUPERVISOR, name);
}

/* Where libinih's section name ends: at ']' or at a ';' after a blank,
 * which starts a comment (libinih's own rule, which it applies next). */
static const char *header_end(const char *s)
{
    bool was_space = false;

    for (; *s != '\0' && *s != ']' && !(was_space && *s == ';'); s++)
        was_space = isspace((unsigned char)*s);
    return s;
}

/* The start of line's text as libinih sees it: past a UTF-8 byte-order
 * mark on line 1, and blanks. */
static const char *line_text(const struct parse *p, const char *line)
{
    if (p->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3;
    while (isspace((unsigned char)*line))
        line++;
    return line;
}

/* A line libinih is about to read: opens a section if it is a header. */
static int line_begin(struct parse *p, const char *line)
{
    const char *s = line_text(p, line), *end;

    if (*s != '[')
        return 0;
    end = header_end(s + 1);
    if (*end != ']')
        return 0;               /* libinih refuses it: syntax_error() */
    return section_open(p, s + 1, (size_t)(end - s - 1), end + 1);
}

/* libinih's reader: the next line of the text into buf, one per call. */
static char *read_line(char *buf, int num, void *stream)
{
    struct parse *p = stream;
    const char *s = p->text + p->pos, *nl;
    size_t left = p->size - p->pos, len, text;

    if (left == 0 || p->err_order != NO_ERROR)
        return NULL;
    nl = memchr(s, '\n', left);
    text = nl != NULL ? (size_t)(nl - s) : left;
    len = text + (nl != NULL);
    if (text > 0 && s[text - 1] == '\r')
        text--;
    p->line_off = p->pos;
    p->pos += len;
    p->line++;
    if (text > LINE_BYTES_MAX || len + 1 > (size_t)num) {
        fail_key(p, NULL, "longer than %u bytes", LINE_BYTES_MAX);
        return NULL;
    }
    if (memchr(s, '\0', len) != NULL) {
        fail_key(p, NULL, "holds a NUL byte");
        return NULL;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return line_begin(p, buf) < 0 ? NULL : buf;
}

/* libinih refused line: a header without ']', or no '=' in a key line. */
static void syntax_error(struct parse *p, unsigned line)
{
    const char *s = p->text + p->line_off, *nl;
    size_t len = p->size - p->line_off;
    char copy[100];

    /* The text is no string: it ends at size. */
    nl = memchr(s, '\n', len);
    len = nl != NULL ? (size_t)(nl - s) : len;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    p->line = line;
    snprintf(copy, sizeof(copy), "%.*s", (int)(len > 80 ? 80 : len), s);
    s = line_text(p, copy);
    if (*s == '[')
        fail_key(p, NULL, "no ']' closes the section header");
    else
        fail_key(p, NULL, "\"%s\" is not KEY = VALUE, [SECTION] or a "
                 "comment", s);
}

/* ---- the whole file ---- */

/* The later of two key lines (0 = absent) and that key's name. */
static unsigned later(unsigned a, const char *ka, unsigned b, const char *kb,
                      const char **key)
{
    *key = a >= b ? ka : kb;
    return a >= b ? a : b;
}

static void finish_runtime(struct parse *p)
{
    struct airsrt_config_runtime *rt = &p->cfg->runtime;
    const unsigned *lines = p->runtime.lines;
    const char *key;
    unsigned line;

    if (p->runtime_line == 0) {
        report(p, 0, NULL, NULL, "no [runtime] section; it names the "
               "runtime");
        return;
    }
    if (lines[RK_NAME] == 0)
        report(p, p->runtime_line, "[runtime]", "name", "missing (required)");
    if (rt->hang_timeout_ms <= rt->heartbeat_ms) {
        line = later(lines[RK_HEARTBEAT_MS], "heartbeat_ms",
                     lines[RK_HANG_TIMEOUT_MS], "hang_timeout_ms", &key);
        report(p, line, "[runtime]", key, "hang_timeout_ms %u is not above "
               "heartbeat_ms %u", rt->hang_timeout_ms, rt->heartbeat_ms);
    }
}

/* "a -> b -> a": the cycle through supervisor i, whose parents are all
 * known. */
static void cycle_text(const struct airsrt_config *cfg, int i, char *buf,
                       size_t len)
{
    int k = i;

    strlcpy(buf, cfg->supervisors[i].name, len);
    do {
        k = cfg->supervisors[k].parent;
        strlcat(buf, " -> ", len);
        strlcat(buf, cfg->supervisors[k].name, len);
    } while (k != i);
}

/* True if walking up from supervisor i comes back to it. */
static bool is_on_cycle(const struct airsrt_config *cfg, int i)
{
    int k = cfg->supervisors[i].parent;

    for (size_t steps = 0; k >= 0 && steps < cfg->nsupervisors; steps++) {
        if (k == i)
            return true;
        k = cfg->supervisors[k].parent;
    }
    return false;
}

static void finish_supervisors(struct parse *p)
{
    struct airsrt_config *cfg = p->cfg;
    char sect[LABEL_MAX], path[256];

    cfg->root = -1;
    for (size_t i = 0; i < cfg->nsupervisors; i++) {
        struct airsrt_config_supervisor *s = &cfg->supervisors[i];
        const struct sect_aux *aux = &p->saux[i];

        label(p, SECT_SUPERVISOR, i, sect, sizeof(sect));
        if (aux->lines[SK_PARENT] != 0) {
            s->parent = find_supervisor(cfg, aux->ref);
            if (s->parent < 0)
                report(p, aux->lines[SK_PARENT], sect, "parent",
                       "no [supervisor %s] in this file", aux->ref);
        } else if (cfg->root < 0) {
            cfg->root = (int)i;
        } else {
            report(p, s->line, sect, NULL, "a second root (no parent); "
                   "[supervisor %s] at line %u is the root",
                   cfg->supervisors[cfg->root].name,
                   cfg->supervisors[cfg->root].line);
        }
    }
    for (size_t i = 0; i < cfg->nsupervisors; i++) {
        if (!is_on_cycle(cfg, (int)i))
            continue;
        cycle_text(cfg, (int)i, path, sizeof(path));
        report(p, p->saux[i].lines[SK_PARENT],
               label(p, SECT_SUPERVISOR, i, sect, sizeof(sect)), "parent",
               "\"%s\" makes a cycle: %s", p->saux[i].ref, path);
    }
    /* Some supervisor has no parent, or one is unknown or on a cycle. */
    if (cfg->root < 0)
        report(p, 0, NULL, NULL, "no root [supervisor] (one without parent)");
}

/* The entries of g, as the group's last worker (the longest "{i}") gets
 * them: each still valid, and the start list within its maximum. */
static void finish_actors(struct parse *p, const struct airsrt_config_group *g,
                          const char *sect)
{
    size_t total = 0;
    char why[256];

    for (size_t k = 0; k < g->nactors; k++) {
        const struct airsrt_config_actor *a = &g->actors[k];
        int rc = actor_check(a->entry, g->count - 1, why, sizeof(why));

        if (rc == -ENOMEM) {
            report_nomem(p);
            return;
        }
        if (rc < 0) {
            report(p, a->line, sect, "actor", "\"%.100s\" in worker %u: %s",
                   a->entry, g->count - 1, why);
            return;
        }
        total += (k > 0) + expand(a->entry, g->count - 1, NULL, 0);
        if (total >= AIRSRT_CONFIG_START_LIST_MAX) {
            report(p, a->line, sect, "actor", "the start list grows past "
                   "%u bytes", AIRSRT_CONFIG_START_LIST_MAX - 1);
            return;
        }
    }
}

/* argv: the binary as written, then the words of args. */
static int group_argv(struct airsrt_config_group *g, struct sect_aux *aux)
{
    g->argv = calloc(aux->nargs + 2, sizeof(*g->argv));
    if (g->argv == NULL)
        return -ENOMEM;
    g->argv[0] = aux->binary;
    aux->binary = NULL;
    if (aux->nargs > 0)
        memcpy(&g->argv[1], aux->args, aux->nargs * sizeof(*aux->args));
    free(aux->args);
    aux->args = NULL;
    aux->nargs = 0;
    return 0;
}

static void finish_group(struct parse *p, size_t i)
{
    struct airsrt_config_group *g = &p->cfg->groups[i];
    struct sect_aux *aux = &p->gaux[i];
    const char *key;
    char sect[LABEL_MAX];
    unsigned line;

    label(p, SECT_WORKER, i, sect, sizeof(sect));
    if (aux->lines[GK_BINARY] == 0)
        report(p, g->line, sect, "binary", "missing (required)");
    else if (group_argv(g, aux) < 0)
        report_nomem(p);
    g->supervisor = aux->lines[GK_SUPERVISOR] != 0
                  ? find_supervisor(p->cfg, aux->ref) : p->cfg->root;
    if (aux->lines[GK_SUPERVISOR] != 0 && g->supervisor < 0)
        report(p, aux->lines[GK_SUPERVISOR], sect, "supervisor",
               "no [supervisor %s] in this file", aux->ref);
    if (g->is_significant && g->restart == AIRSRT_RESTART_PERMANENT) {
        line = later(aux->lines[GK_SIGNIFICANT], "significant",
                     aux->lines[GK_RESTART], "restart", &key);
        report(p, line, sect, key, "%s; only a transient or temporary "
               "group can be significant", line == aux->lines[GK_RESTART]
               ? "permanent, but significant = true"
               : "true, but the group is permanent");
    }
    if (g->has_user && !g->has_group && aux->has_user_gid)
        g->gid = aux->user_gid;
    else if (g->has_user && !g->has_group)
        report(p, aux->lines[GK_USER], sect, "user", "user %u has no "
               "account to take a primary group from; set group too",
               (unsigned)g->uid);
    finish_actors(p, g, sect);
}

/* True if msg names key as a word ('_' in key also matches ' ':
 * "registry capacity"). */
static bool mentions(const char *msg, const char *key)
{
    size_t n = strlen(key);

    for (const char *m = msg; *m != '\0'; m++) {
        size_t i = 0;

        while (i < n && (m[i] == key[i] || (key[i] == '_' && m[i] == ' ')))
            i++;
        if (i == n && (m == msg || !(isalnum((unsigned char)m[-1]) ||
                                     m[-1] == '_')) &&
            !(isalnum((unsigned char)m[n]) || m[n] == '_'))
            return true;
    }
    return false;
}

static void finish_totals(struct parse *p)
{
    struct airsrt_config *cfg = p->cfg;
    struct airsrt_shm_params params = cfg->runtime.shm;
    char why[AIRSRT_SHM_ERR_MAX], sect[LABEL_MAX];
    uint32_t sum = 0;
    unsigned line = 0;

    for (size_t i = 0; i < cfg->ngroups; i++) {
        const struct airsrt_config_group *g = &cfg->groups[i];
        unsigned count_line = p->gaux[i].lines[GK_COUNT];

        sum += g->count;
        if (sum > AIRSRT_MAX_WORKERS) {
            report(p, count_line != 0 ? count_line : g->line,
                   label(p, SECT_WORKER, i, sect, sizeof(sect)), "count",
                   "makes %u workers in all; at most %u", sum,
                   AIRSRT_MAX_WORKERS);
            return;
        }
    }
    if (cfg->ngroups == 0)
        report(p, 0, NULL, NULL, "no [worker] section; a runtime needs one");
    cfg->nworkers = cfg->runtime.shm.nworkers = sum;
    /* Sizes alone: the worker count is checked above. The error goes to
     * the last of the keys it names (or of all size keys): one of them
     * made the sizes wrong, since the defaults fit. */
    params.nworkers = 1;
    if (airsrt_shm_params_check(&params, why, sizeof(why)) == 0)
        return;
    for (int k = RK_RING_BYTES; k <= RK_ACTORS_MAX; k++)
        if (p->runtime.lines[k] > line && mentions(why, runtime_keys[k].name))
            line = p->runtime.lines[k];
    for (int k = RK_RING_BYTES; k <= RK_ACTORS_MAX && line == 0; k++)
        if (p->runtime.lines[k] > line)
            line = p->runtime.lines[k];
    report(p, line, "[runtime]", NULL, "%s", why);
}

static void finish(struct parse *p)
{
    struct airsrt_config *cfg = p->cfg;

    finish_runtime(p);
    /* No [supervisor] at all: the implicit root, of defaults. */
    if (cfg->nsupervisors == 0) {
        if (supervisor_reserve(p) < 0) {
            report_nomem(p);
            return;
        }
        supervisor_defaults(&cfg->supervisors[0], "root", 0);
        memset(&p->saux[0], 0, sizeof(p->saux[0]));
        cfg->nsupervisors = 1;
    }
    finish_supervisors(p);
    for (size_t i = 0; i < cfg->ngroups; i++)
        finish_group(p, i);
    finish_totals(p);
}

/* ---- libinih's options ---- */

struct ini_options {
    bool multiline, bom, inline_comments, use_stack, stop, no_value,
         realloc;
    int max_line;
    char *start_prefixes, *inline_prefixes;
};

static char start_prefixes[] = ";#";
static char inline_prefixes[] = ";";

/* Saves libinih's process-wide options into o and sets ours: lines up
 * to LINE_BYTES_MAX in a stack buffer, no continuation lines (an
 * indented key is a key), stop at the first error. */
static void ini_options_set(struct ini_options *o)
{
    *o = (struct ini_options){
        ini_allow_multiline, ini_allow_bom, ini_allow_inline_comments,
        ini_use_stack, ini_stop_on_first_error, ini_allow_no_value,
        ini_allow_realloc, ini_max_line, ini_start_comment_prefixes,
        ini_inline_comment_prefixes,
    };
    ini_allow_multiline = false;
    ini_allow_bom = true;
    ini_allow_inline_comments = true;
    ini_use_stack = true;
    ini_stop_on_first_error = true;
    ini_allow_no_value = false;
    ini_allow_realloc = false;
    ini_max_line = LINE_BYTES_MAX + 3;      /* "\r\n" and the NUL */
    ini_start_comment_prefixes = start_prefixes;
    ini_inline_comment_prefixes = inline_prefixes;
}

static void ini_options_restore(const struct ini_options *o)
{
    ini_allow_multiline = o->multiline;
    ini_allow_bom = o->bom;
    ini_allow_inline_comments = o->inline_comments;
    ini_use_stack = o->use_stack;
    ini_stop_on_first_error = o->stop;
    ini_allow_no_value = o->no_value;
    ini_allow_realloc = o->realloc;
    ini_max_line = o->max_line;
    ini_start_comment_prefixes = o->start_prefixes;
    ini_inline_comment_prefixes = o->inline_prefixes;
}

/* ---- entry points ---- */

static void config_init(struct airsrt_config *cfg, const char *path,
                        const char *dir)
{
    memset(cfg, 0, sizeof(*cfg));
    strlcpy(cfg->path, path, sizeof(cfg->path));
    strlcpy(cfg->dir, dir[0] != '\0' ? dir : ".", sizeof(cfg->dir));
    cfg->root = -1;
    strlcpy(cfg->runtime.event_log, "stderr", sizeof(cfg->runtime.event_log));
    cfg->runtime.heartbeat_ms = AIRSRT_HEARTBEAT_MS_DEFAULT;
    cfg->runtime.hang_timeout_ms = AIRSRT_HANG_TIMEOUT_MS_DEFAULT;
}

static void aux_free(struct sect_aux *aux, size_t n)
{
    for (size_t i = 0; aux != NULL && i < n; i++) {
        free(aux[i].binary);
        list_free(aux[i].args, aux[i].nargs);
    }
    free(aux);
}

int airsrt_config_parse(struct airsrt_config *cfg, const char *text,
                        size_t size, const char *path, const char *dir,
                        char *err, size_t len)
{
    struct parse p = {
        .cfg = cfg, .text = text, .size = size, .err = err, .errlen = len,
        .err_order = NO_ERROR,
    };
    struct ini_options saved;
    int rc;

    config_init(cfg, path, dir);
    if (len > 0)
        err[0] = '\0';
    ini_options_set(&saved);
    rc = ini_parse_stream(read_line, &p, on_key, &p);
    ini_options_restore(&saved);
    if (rc > 0 && p.err_order == NO_ERROR)
        syntax_error(&p, (unsigned)rc);
    else if (rc < 0 && p.err_order == NO_ERROR)
        report_nomem(&p);
    if (p.err_order == NO_ERROR)
        finish(&p);
    aux_free(p.saux, cfg->nsupervisors);
    aux_free(p.gaux, cfg->ngroups);
    /* An error with no room to say it is still an error. */
    return p.err_order == NO_ERROR ? 0 : p.rc != 0 ? p.rc : -EINVAL;
}

/* Reads the whole file at path into *text (malloc'd): 0, -EFBIG (too
 * large for a config), -errno. */
static int read_file(const char *path, char **text, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    size_t n = 0;
    ssize_t got = 1;
    char *buf;

    if (fd < 0)
        return -errno;
    buf = malloc(FILE_BYTES_MAX + 1);
    if (buf == NULL) {
        close(fd);
        return -ENOMEM;
    }
    while (got != 0 && n <= FILE_BYTES_MAX) {
        got = read(fd, buf + n, FILE_BYTES_MAX + 1 - n);
        if (got < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        n += got > 0 ? (size_t)got : 0;
    }
    close(fd);
    if (rc == 0 && n > FILE_BYTES_MAX)
        rc = -EFBIG;
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *text = buf;
    *size = n;
    return 0;
}

int airsrt_config_load(struct airsrt_config *cfg, const char *path,
                       char *err, size_t len)
{
    char dir[PATH_MAX], *text = NULL, *slash;
    size_t size = 0;
    int rc;

    config_init(cfg, path, ".");
    if (strlen(path) >= sizeof(dir)) {
        snprintf(err, len, "%.80s...: the path is too long", path);
        return -ENAMETOOLONG;
    }
    rc = read_file(path, &text, &size);
    if (rc < 0) {
        snprintf(err, len, "%s: %s", path, rc == -EFBIG
                 ? "larger than 1 MiB; not a config file" : strerror(-rc));
        return rc;
    }
    strlcpy(dir, path, sizeof(dir));
    slash = strrchr(dir, '/');
    if (slash == NULL)
        strlcpy(dir, ".", sizeof(dir));
    else
        slash[slash == dir] = '\0';     /* "/x.ini" is in "/" */
    rc = airsrt_config_parse(cfg, text, size, path, dir, err, len);
    free(text);
    return rc;
}

void airsrt_config_free(struct airsrt_config *cfg)
{
    for (size_t i = 0; cfg->groups != NULL && i < cfg->ngroups; i++) {
        struct airsrt_config_group *g = &cfg->groups[i];
        size_t argc = 0;

        while (g->argv != NULL && g->argv[argc] != NULL)
            argc++;
        list_free(g->argv, argc);
        list_free(g->env, g->nenv);
        for (size_t k = 0; k < g->nactors; k++)
            free(g->actors[k].entry);
        free(g->actors);
    }
    free(cfg->groups);
    free(cfg->supervisors);
    cfg->groups = NULL;
    cfg->supervisors = NULL;
    cfg->ngroups = cfg->nsupervisors = 0;
}

int airsrt_config_start_list(const struct airsrt_config_group *g,
                             uint32_t i, char *buf, size_t len)
{
    size_t off = 0;

    if (len == 0)
        return -ENOSPC;
    buf[0] = '\0';
    for (size_t k = 0; k < g->nactors; k++) {
        size_t n;

        if (k > 0 && off + 1 >= len)
            return -ENOSPC;
        if (k > 0)
            buf[off++] = ',';
        n = expand(g->actors[k].entry, i, buf + off, len - off);
        if (off + n >= len)
            return -ENOSPC;
        off += n;
    }
    buf[off] = '\0';
    return 0;
}

const char *airsrt_strategy_name(enum airsrt_strategy s)
{
    return (unsigned)s < 3 ? strategy_words[s] : "unknown";
}

const char *airsrt_restart_name(enum airsrt_restart r)
{
    return (unsigned)r < 3 ? restart_words[r] : "unknown";
}
