/*
 * worker/start.c - the start list: which actors a worker starts, as the
 * supervisor writes it into AIRSRT_ACTORS (grammar in airsrt/worker.h):
 *
 *   list  = [ entry *( "," entry ) ]
 *   entry = type [ "@" name ] [ "=" init ]
 *
 * Input from the environment or the command line: every byte is checked,
 * every error says which entry and what is wrong, and nothing is left
 * allocated on failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker_impl.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the init text [s, s + len) of entry into e->init. */
static int parse_init(struct airsrt_start *e, const char *s, size_t len,
                      size_t entry, char *err, size_t errlen)
{
    size_t n = 0;

    if (len == 0)
        return 0;
    e->init = malloc(len);
    if (e->init == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < len; i++) {
        int hi, lo;

        if (s[i] != '%') {
            e->init[n++] = (uint8_t)s[i];
            continue;
        }
        hi = i + 1 < len ? hex_digit(s[i + 1]) : -1;
        lo = i + 2 < len ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "entry %zu: a %% in the init argument "
                     "must be followed by two hex digits (%%25 for %%)",
                     entry);
            return -EINVAL;
        }
        e->init[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    e->init_len = n;
    return 0;
}

/* The type [s, s + len) of entry. */
static int parse_type(struct airsrt_start *e, const char *s, size_t len,
                      size_t entry, char *err, size_t errlen)
{
    if (!airsrt__is_type_name(s, len)) {
        snprintf(err, errlen, "entry %zu: actor type \"%.*s\" is not 1 to "
                 "%u of A-Z a-z 0-9 _ . -", entry, (int)(len > 64 ? 64 : len),
                 s, AIRSRT_TYPE_NAME_MAX);
        return -EINVAL;
    }
    memcpy(e->type, s, len);
    e->type[len] = '\0';
    return 0;
}

/* The name [s, s + len) of entry. */
static int parse_name(struct airsrt_start *e, const char *s, size_t len,
                      size_t entry, char *err, size_t errlen)
{
    if (len == 0 || len > AIRSRT_REGISTRY_NAME_MAX) {
        snprintf(err, errlen, "entry %zu: the name after @ must be 1 to %u "
                 "bytes", entry, AIRSRT_REGISTRY_NAME_MAX);
        return -EINVAL;
    }
    memcpy(e->name, s, len);
    e->name[len] = '\0';
    if (airsrt_registry_name_validate(e->name) < 0 ||
        memchr(s, '%', len) != NULL) {
        snprintf(err, errlen, "entry %zu: name \"%s\" may only hold "
                 "printable ASCII other than space , = %%", entry, e->name);
        return -EINVAL;
    }
    return 0;
}

/* One entry, the text [s, s + len). */
static int parse_entry(struct airsrt_start *e, const char *s, size_t len,
                       size_t entry, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', len);
    size_t head = eq ? (size_t)(eq - s) : len;
    const char *at = memchr(s, '@', head);
    size_t type_len = at ? (size_t)(at - s) : head;
    int rc;

    if (len == 0) {
        snprintf(err, errlen, "entry %zu is empty", entry);
        return -EINVAL;
    }
    rc = parse_type(e, s, type_len, entry, err, errlen);
    if (rc == 0 && at != NULL)
        rc = parse_name(e, at + 1, head - type_len - 1, entry, err, errlen);
    if (rc == 0 && eq != NULL)
        rc = parse_init(e, eq + 1, len - head - 1, entry, err, errlen);
    return rc;
}

int airsrt__start_list_parse(const char *s, struct airsrt_start **list,
                             size_t *n, char *err, size_t errlen)
{
    size_t count = 1, i = 0;
    struct airsrt_start *l;
    int rc = 0;

    *list = NULL;
    *n = 0;
    if (*s == '\0')
        return 0;
    for (const char *p = s; *p != '\0'; p++)
        count += *p == ',';
    l = calloc(count, sizeof(*l));
    if (l == NULL) {
        snprintf(err, errlen, "out of memory for %zu actors", count);
        return -ENOMEM;
    }
    for (const char *p = s; rc == 0 && i < count; i++) {
        size_t len = strcspn(p, ",");

        rc = parse_entry(&l[i], p, len, i + 1, err, errlen);
        p += len + 1;
    }
    if (rc < 0) {
        airsrt__start_list_free(l, count);
        return rc;
    }
    *list = l;
    *n = count;
    return 0;
}

void airsrt__start_list_free(struct airsrt_start *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        free(list[i].init);
    free(list);
}
