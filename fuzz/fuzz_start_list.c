/*
 * fuzz/fuzz_start_list.c - airsrt__start_list_parse() on arbitrary bytes:
 * the start list a worker takes from AIRSRT_ACTORS or its command line.
 *
 * Feeds: the whole input, cut at its first NUL, as the list.
 *
 * Asserts: parsing returns 0 or -EINVAL; what it accepts is exactly what
 * a model of the grammar (airsrt/worker.h) accepts, entry for entry: a
 * type of 1..31 of [A-Za-z0-9_.-], a name that is a valid registry name
 * without ',' '=' '%', init bytes decoded from %XX; re-encoding an
 * accepted list and parsing it again gives the same list; a refusal
 * leaves no list and always says why; nothing leaks (ASan's leak check).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "worker/worker_impl.h"

#define TYPE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
                   "0123456789_.-"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The init text [s, s + len) decoded by the model; with e, compared
 * with the parser's bytes. */
static bool model_init(const char *s, size_t len, const struct airsrt_start *e)
{
    uint8_t *bytes = malloc(len + 1);
    size_t n = 0;
    bool ok = true;

    FUZZ_CHECK(bytes != NULL);
    for (size_t i = 0; ok && i < len; i++) {
        if (s[i] != '%') {
            bytes[n++] = (uint8_t)s[i];
        } else if (i + 2 < len && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            bytes[n++] = (uint8_t)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
            i += 2;
        } else {
            ok = false;
        }
    }
    if (ok && e != NULL) {
        FUZZ_CHECK(e->init_len == n);
        FUZZ_CHECK((e->init == NULL) == (n == 0));
        FUZZ_CHECK(n == 0 || memcmp(e->init, bytes, n) == 0);
    }
    free(bytes);
    return ok;
}

/* The model of one entry [s, s + len), checked against what the parser
 * made of it. Returns false where the model refuses it. */
static bool model_entry(const char *s, size_t len,
                        const struct airsrt_start *e)
{
    const char *eq = memchr(s, '=', len);
    size_t head = eq ? (size_t)(eq - s) : len;
    const char *at = memchr(s, '@', head);
    size_t type_len = at ? (size_t)(at - s) : head;
    const char *init = eq ? eq + 1 : s + len;

    if (type_len == 0 || type_len > AIRSRT_TYPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < type_len; i++)
        if (s[i] == '\0' || strchr(TYPE_CHARS, s[i]) == NULL)
            return false;
    if (at != NULL) {
        size_t name_len = head - type_len - 1;

        if (name_len == 0 || name_len > AIRSRT_REGISTRY_NAME_MAX)
            return false;
        for (size_t i = 0; i < name_len; i++)
            if (at[1 + i] < 0x21 || at[1 + i] > 0x7e || at[1 + i] == '%')
                return false;
    }
    if (!model_init(init, (size_t)(s + len - init), e))
        return false;
    if (e == NULL)
        return true;
    /* Accepted by both: the parser's entry is the model's. */
    FUZZ_CHECK(strlen(e->type) == type_len);
    FUZZ_CHECK(memcmp(e->type, s, type_len) == 0);
    FUZZ_CHECK(strlen(e->name) == (at ? head - type_len - 1 : 0));
    FUZZ_CHECK(at == NULL || memcmp(e->name, at + 1, strlen(e->name)) == 0);
    FUZZ_CHECK(at == NULL || airsrt_registry_name_validate(e->name) == 0);
    FUZZ_CHECK(strpbrk(e->name, ",=%") == NULL);
    return true;
}

/* Whether the model accepts the whole list; with l, checks each entry. */
static bool model_list(const char *s, const struct airsrt_start *l, size_t n)
{
    size_t i = 0;

    if (*s == '\0')
        return n == 0;
    for (const char *p = s;; i++) {
        size_t len = strcspn(p, ",");

        if (len == 0 || (l != NULL && i >= n) ||
            !model_entry(p, len, l ? &l[i] : NULL))
            return false;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    FUZZ_CHECK(l == NULL || i + 1 == n);
    return true;
}

/* Writes list back in the grammar: every byte that could be misread as
 * syntax, or is not printable, as %XX. */
static char *encode(const struct airsrt_start *l, size_t n)
{
    size_t cap = 1;
    char *out, *p;

    for (size_t i = 0; i < n; i++)
        cap += strlen(l[i].type) + strlen(l[i].name) + 3 * l[i].init_len + 3;
    out = p = malloc(cap);
    FUZZ_CHECK(out != NULL);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        p = stpcpy(p, l[i].type);
        if (l[i].name[0] != '\0') {
            *p++ = '@';
            p = stpcpy(p, l[i].name);
        }
        if (l[i].init_len > 0)
            *p++ = '=';
        for (size_t k = 0; k < l[i].init_len; k++) {
            uint8_t b = l[i].init[k];

            if (b <= 0x20 || b >= 0x7f || b == ',' || b == '%')
                p += sprintf(p, "%%%02X", b);
            else
                *p++ = (char)b;
        }
    }
    *p = '\0';
    return out;
}

static void check_same(const struct airsrt_start *a, size_t na,
                       const struct airsrt_start *b, size_t nb)
{
    FUZZ_CHECK(na == nb);
    for (size_t i = 0; i < na; i++) {
        FUZZ_CHECK(strcmp(a[i].type, b[i].type) == 0);
        FUZZ_CHECK(strcmp(a[i].name, b[i].name) == 0);
        FUZZ_CHECK(a[i].init_len == b[i].init_len);
        FUZZ_CHECK(a[i].init_len == 0 ||
                   memcmp(a[i].init, b[i].init, a[i].init_len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), err[512], *again;
    struct airsrt_start *l, *l2;
    size_t n, n2;
    int rc;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    err[0] = '\0';
    rc = airsrt__start_list_parse(s, &l, &n, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc < 0) {
        FUZZ_CHECK(l == NULL && n == 0);
        FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
        FUZZ_CHECK(!model_list(s, NULL, 0));
        free(s);
        return 0;
    }
    FUZZ_CHECK((l == NULL) == (n == 0));
    FUZZ_CHECK(model_list(s, l, n));
    again = encode(l, n);
    rc = airsrt__start_list_parse(again, &l2, &n2, err, sizeof(err));
    FUZZ_CHECK(rc == 0);
    check_same(l, n, l2, n2);
    airsrt__start_list_free(l2, n2);
    airsrt__start_list_free(l, n);
    free(again);
    free(s);
    return 0;
}
