/*
 * tests/lib/json_check.h - is a text one well-formed JSON value (RFC
 * 8259)? For tests and fuzz harnesses alike: no Criterion, no
 * allocation, nothing but reading the text.
 *
 * Strict where a printer goes wrong: a string holds no raw control byte
 * and only JSON's escapes; a number follows JSON's grammar ("nan",
 * "inf", "0x1", "01", "1." are refused); an object's keys are strings.
 * Not checked: that bytes from 0x80 up form UTF-8, duplicate keys. The
 * walk recurses once per nesting level: meant for the documents tools
 * print, not for hostile depth.
 *
 *     json_check(text)           true if text is one value, with only
 *                                JSON whitespace around it
 *     json_check_value(p)        past the value at p (after whitespace),
 *                                or NULL if there is none
 */
#ifndef AIRSRT_TESTS_JSON_CHECK_H
#define AIRSRT_TESTS_JSON_CHECK_H

#include <stdbool.h>
#include <string.h>

static inline const char *json_check_value(const char *p);

static inline const char *json_check_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static inline bool json_check_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool json_check_is_hex(char c)
{
    return json_check_is_digit(c) || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static inline const char *json_check_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)       /* the text's end included */
            return NULL;
        if (*p != '\\')
            continue;
        if (*++p == 'u') {
            for (int i = 1; i <= 4; i++)
                if (!json_check_is_hex(p[i]))
                    return NULL;
            p += 4;
        } else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
            return NULL;
        }
    }
    return p + 1;
}

/* One digit or more. */
static inline const char *json_check_digits(const char *p)
{
    if (!json_check_is_digit(*p))
        return NULL;
    while (json_check_is_digit(*p))
        p++;
    return p;
}

static inline const char *json_check_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;                            /* then no other digit may follow */
    else if ((p = json_check_digits(p)) == NULL)
        return NULL;
    if (*p == '.' && (p = json_check_digits(p + 1)) == NULL)
        return NULL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        p = json_check_digits(p);
    }
    return p;
}

/* An object (close '}', is_obj) or an array (']') opening at p. */
static inline const char *json_check_list(const char *p, char close,
                                          bool is_obj)
{
    p = json_check_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (is_obj) {
            p = json_check_string(json_check_ws(p));
            if (p == NULL || *(p = json_check_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = json_check_value(p);
        if (p == NULL)
            return NULL;
        p = json_check_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static inline const char *json_check_value(const char *p)
{
    p = json_check_ws(p);
    if (*p == '{')
        return json_check_list(p, '}', true);
    if (*p == '[')
        return json_check_list(p, ']', false);
    if (*p == '"')
        return json_check_string(p);
    if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (*p == '-' || json_check_is_digit(*p))
        return json_check_number(p);
    return NULL;
}

static inline bool json_check(const char *text)
{
    const char *end = json_check_value(text);

    return end != NULL && *json_check_ws(end) == '\0';
}

#endif
