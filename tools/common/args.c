/*
 * tools/common/args.c - the command-line pieces airsrt-ctl and
 * airsrt-inject share (tool.h): their usage-error line, their options
 * before the command, and a message type. libc only, and no state: the
 * fuzz harnesses of both parsers compile this file in whole and call it
 * again and again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airsrt/message.h"
#include "tools/common/tool.h"

int tool_usage_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    /* It quotes the user's words, which may hold any byte: keep it one
     * printable line. */
    for (char *p = err; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return TOOL_EXIT_USAGE;
}

int tool_parse_global(int argc, char *const argv[], int *i,
                      const char **runtime, bool *is_help, char *err,
                      size_t len)
{
    *is_help = false;
    for (; *i < argc; (*i)++) {
        const char *a = argv[*i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *is_help = true;
            return 0;
        }
        if (strcmp(a, "-r") == 0 || strcmp(a, "--runtime") == 0) {
            if (*i + 1 >= argc)
                return tool_usage_err(err, len, "%s needs a runtime name",
                                      a);
            *runtime = argv[++*i];
        } else if (strncmp(a, "--runtime=", 10) == 0) {
            *runtime = a + 10;
        } else {
            return 0;
        }
    }
    return 0;
}

int tool_parse_type(const char *s, uint32_t *type)
{
    bool is_hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = is_hex ? s + 2 : s;
    size_t n = strspn(digits, is_hex ? "0123456789abcdefABCDEF"
                                     : "0123456789");
    unsigned long long v;

    /* Digits only: strtoull alone would take spaces, a sign, and a
     * second "0x" after the first. */
    if (n == 0 || digits[n] != '\0')
        return -EINVAL;
    errno = 0;
    v = strtoull(digits, NULL, is_hex ? 16 : 10);
    if (errno != 0 || v >= AIRSRT_TYPE_RESERVED)
        return -ERANGE;
    *type = (uint32_t)v;
    return 0;
}
