/*
 * tools/bench/report.c - how figures are printed: an aligned table with
 * the setup above it, or one JSON object, and the description of the
 * machine they were taken on. A figure is the median, min and max of its
 * runs; a target, when there is one, is printed next to it with whether
 * the median meets it, so that a reader sees both the figure and the
 * aim, never a verdict instead of the figure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tools/bench/bench.h"

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

void bench_report_setup(struct bench_report *rep, const char *key,
                        const char *fmt, ...)
{
    char val[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (!rep->is_json) {
        printf("%-10s %s\n", key, val);
        return;
    }
    printf("%s\n    ", rep->is_first ? "" : ",");
    json_string(key);
    printf(": ");
    json_string(val);
    rep->is_first = false;
}

void bench_report_begin(struct bench_report *rep, const char *name,
                        const char *summary)
{
    rep->is_first = true;
    rep->is_in_results = false;
    if (rep->is_json) {
        printf("{\n  \"workload\": ");
        json_string(name);
        printf(",\n  \"setup\": {");
        return;
    }
    printf("airsrt-bench %s: %s\n", name, summary);
}

void bench_report_section(struct bench_report *rep, const char *title)
{
    if (!rep->is_json) {
        printf("\n%-48s %10s %10s %10s\n", title, "median", "min", "max");
        return;
    }
    if (!rep->is_in_results) {
        printf("\n  },\n  \"results\": [");
        rep->is_in_results = true;
        rep->is_first = true;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median, min and max of the runs' values; sorts v. */
static void summarize(double *v, uint32_t n, double out[3])
{
    qsort(v, n, sizeof(*v), cmp_double);
    out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[1] = v[0];
    out[2] = v[n - 1];
}

static bool target_met(const struct bench_target *t, double median)
{
    return strcmp(t->op, "<=") == 0 ? median <= t->value : median >= t->value;
}

static void report_row_json(struct bench_report *rep, const char *key,
                            const char *unit, const double *v, uint32_t n,
                            const double s[3], const struct bench_target *t)
{
    printf("%s\n    {\"name\": ", rep->is_first ? "" : ",");
    json_string(key);
    printf(", \"unit\": ");
    json_string(unit);
    printf(", \"median\": %.6g, \"min\": %.6g, \"max\": %.6g, \"runs\": [",
           s[0], s[1], s[2]);
    for (uint32_t i = 0; i < n; i++)
        printf("%s%.6g", i ? ", " : "", v[i]);
    printf("]");
    if (t != NULL) {
        printf(", \"target\": {\"op\": ");
        json_string(t->op);
        printf(", \"value\": %.6g, \"met\": %s}", t->value,
               target_met(t, s[0]) ? "true" : "false");
    }
    printf("}");
    rep->is_first = false;
}

void bench_report_row(struct bench_report *rep, const char *key,
                      const char *label, const char *unit, int decimals,
                      double *v, uint32_t n, const struct bench_target *t)
{
    double raw[BENCH_MAX_RUNS], s[3];

    memcpy(raw, v, n * sizeof(*v));
    summarize(v, n, s);
    if (rep->is_json) {
        report_row_json(rep, key, unit, raw, n, s, t);
    } else {
        printf("  %-46s %10.*f %10.*f %10.*f", label, decimals, s[0],
               decimals, s[1], decimals, s[2]);
        if (t != NULL)
            printf("   target %s %g: %s", t->op, t->value,
                   target_met(t, s[0]) ? "met" : "MISSED");
        putchar('\n');
    }
    fflush(stdout);
}

void bench_report_end(struct bench_report *rep)
{
    if (!rep->is_json)
        return;
    if (!rep->is_in_results)
        printf("\n  },\n  \"results\": [");
    printf("\n  ]\n}\n");
}

/* ---- the machine ---- */

static void cpu_model(char *buf, size_t len)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");

    snprintf(buf, len, "unknown");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *colon = strchr(line, ':');

        if (strncmp(line, "model name", 10) != 0 || colon == NULL)
            continue;
        colon += strspn(colon + 1, " \t") + 1;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, len, "%s", colon);
        break;
    }
    fclose(f);
}

/* The first line of a small file, or "unknown". */
static void first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");

    snprintf(buf, len, "unknown");
    if (f == NULL)
        return;
    if (fgets(buf, (int)len, f) != NULL)
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

#if defined(__clang__) || !defined(__GNUC__)
#define COMPILER __VERSION__
#else
#define COMPILER "gcc " __VERSION__
#endif

void bench_report_machine(struct bench_report *rep)
{
    char model[256], clk[64], load[128];
    struct utsname u;

    cpu_model(model, sizeof(model));
    /* The clock behind CLOCK_MONOTONIC: a slow one inflates latencies. */
    first_line("/sys/devices/system/clocksource/clocksource0/"
               "current_clocksource", clk, sizeof(clk));
    /* Other work on the machine moves every figure: say how much. */
    first_line("/proc/loadavg", load, sizeof(load));
    bench_report_setup(rep, "cpu", "%s", model);
    bench_report_setup(rep, "cpus", "%ld online",
                       sysconf(_SC_NPROCESSORS_ONLN));
    if (uname(&u) == 0)
        bench_report_setup(rep, "kernel", "%s %s %s", u.sysname, u.release,
                           u.machine);
    bench_report_setup(rep, "compiler", "%s", COMPILER);
    bench_report_setup(rep, "clock", "CLOCK_MONOTONIC, clocksource %s", clk);
    bench_report_setup(rep, "load", "%s (/proc/loadavg at start)", load);
}

/* ---- percentiles ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

void bench_sort_u64(uint64_t *v, uint64_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
}

double bench_percentile(const uint64_t *v, uint64_t n, uint64_t q)
{
    uint64_t rank = (n * q + 9999) / 10000;

    return (double)v[rank > 0 ? rank - 1 : 0];
}
