/*
 * fuzz/fuzz_config.c - airsrt_config_parse() on arbitrary bytes: the
 * config file airsrt-run is given.
 *
 * Feeds: the whole input as the file's text (NUL bytes and all), named
 * "fuzz.ini", in the folder "/" (so "bin/true" is a binary that exists).
 *
 * Asserts: parsing returns 0 or -EINVAL. A refusal says why in one line
 * that starts with the path (and, when it names a line, one of the
 * input's lines). An accepted config is self-consistent: one root, every
 * parent and supervisor index in range, no cycle, counts of 1 or more
 * summing to nworkers (at most AIRSRT_MAX_WORKERS), hang timeout above
 * the heartbeat, sizes the segment accepts, every group with a binary
 * and a NULL-ended argv and env, and every group's start list, for its
 * first and last worker, made whole by airsrt_config_start_list (or
 * -ENOSPC from a buffer one byte short) and taken by the worker's own
 * start-list parser, entry for entry. Parsing the same bytes again
 * gives the same answer; libinih's options are as they were; free leaves
 * nothing behind (ASan's leak check).
 */
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "supervisor/config.h"
#include "worker/worker_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned count_lines(const uint8_t *data, size_t size)
{
    unsigned n = size > 0;

    for (size_t i = 0; i + 1 < size; i++)
        n += data[i] == '\n';
    return n;
}

static void check_refusal(const char *err, const uint8_t *data, size_t size)
{
    const char *p = err + strlen("fuzz.ini");
    unsigned long line;

    FUZZ_CHECK(strncmp(err, "fuzz.ini", strlen("fuzz.ini")) == 0);
    FUZZ_CHECK(strlen(err) < AIRSRT_CONFIG_ERR_MAX);
    FUZZ_CHECK(strchr(err, '\n') == NULL);
    FUZZ_CHECK(*p == ':');
    FUZZ_CHECK(p[1] != '\0');
    if (p[1] == ' ')
        return;
    line = strtoul(p + 1, NULL, 10);
    FUZZ_CHECK(line >= 1 && line <= count_lines(data, size));
}

static void check_tree(const struct airsrt_config *cfg)
{
    size_t roots = 0;

    FUZZ_CHECK(cfg->nsupervisors >= 1);
    FUZZ_CHECK(cfg->root >= 0 && (size_t)cfg->root < cfg->nsupervisors);
    for (size_t i = 0; i < cfg->nsupervisors; i++) {
        int k = cfg->supervisors[i].parent;
        size_t steps = 0;

        roots += k == -1;
        /* Walking up ends at the root within nsupervisors steps. */
        while (k != -1) {
            FUZZ_CHECK(k >= 0 && (size_t)k < cfg->nsupervisors);
            FUZZ_CHECK(++steps < cfg->nsupervisors);
            k = cfg->supervisors[k].parent;
        }
        FUZZ_CHECK(cfg->supervisors[i].backoff_jitter_pct <= 100);
    }
    FUZZ_CHECK(roots == 1);
    FUZZ_CHECK(cfg->supervisors[cfg->root].parent == -1);
}

/* Worker i's start list is whole, and the worker's own parser takes it,
 * one entry per actor line. */
static void check_start_list(const struct airsrt_config_group *g, uint32_t i)
{
    char *buf = malloc(AIRSRT_CONFIG_START_LIST_MAX), err[512];
    struct airsrt_start *list;
    size_t len, n;

    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(airsrt_config_start_list(g, i, buf,
                                        AIRSRT_CONFIG_START_LIST_MAX) == 0);
    len = strlen(buf);
    FUZZ_CHECK((len == 0) == (g->nactors == 0));
    FUZZ_CHECK(strstr(buf, "{i}") == NULL);
    FUZZ_CHECK(airsrt_config_start_list(g, i, buf, len) == -ENOSPC);
    FUZZ_CHECK(airsrt_config_start_list(g, i, buf, len + 1) == 0);
    FUZZ_CHECK(airsrt__start_list_parse(buf, &list, &n, err,
                                        sizeof(err)) == 0);
    FUZZ_CHECK(n == g->nactors);
    airsrt__start_list_free(list, n);
    free(buf);
}

static void check_group(const struct airsrt_config *cfg,
                        const struct airsrt_config_group *g)
{
    size_t n = 0;

    FUZZ_CHECK(g->supervisor >= 0 &&
               (size_t)g->supervisor < cfg->nsupervisors);
    FUZZ_CHECK(g->count >= 1 && g->count <= AIRSRT_MAX_WORKERS);
    FUZZ_CHECK(g->binary[0] != '\0');
    FUZZ_CHECK(g->argv != NULL && g->argv[0] != NULL);
    while (g->argv[n] != NULL)
        n++;
    FUZZ_CHECK(g->nenv == 0 || g->env[g->nenv] == NULL);
    for (size_t k = 0; k < g->nenv; k++)
        FUZZ_CHECK(strchr(g->env[k], '=') != NULL);
    FUZZ_CHECK(!(g->is_significant &&
                 g->restart == AIRSRT_RESTART_PERMANENT));
    check_start_list(g, 0);
    check_start_list(g, g->count - 1);
}

static void check_config(const struct airsrt_config *cfg)
{
    struct airsrt_shm_params p = cfg->runtime.shm;
    char why[AIRSRT_SHM_ERR_MAX];
    uint32_t sum = 0;

    FUZZ_CHECK(airsrt_shm_name_validate(cfg->runtime.name) == 0);
    FUZZ_CHECK(cfg->runtime.hang_timeout_ms > cfg->runtime.heartbeat_ms);
    FUZZ_CHECK(cfg->runtime.event_log[0] != '\0');
    check_tree(cfg);
    FUZZ_CHECK(cfg->ngroups >= 1);
    for (size_t g = 0; g < cfg->ngroups; g++) {
        check_group(cfg, &cfg->groups[g]);
        sum += cfg->groups[g].count;
    }
    FUZZ_CHECK(sum == cfg->nworkers && sum <= AIRSRT_MAX_WORKERS);
    FUZZ_CHECK(cfg->runtime.shm.nworkers == sum);
    FUZZ_CHECK(airsrt_shm_params_check(&p, why, sizeof(why)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct airsrt_config cfg;
    char err[AIRSRT_CONFIG_ERR_MAX], err2[AIRSRT_CONFIG_ERR_MAX];
    int max_line = ini_max_line, rc, rc2;
    bool multiline = ini_allow_multiline;

    rc = airsrt_config_parse(&cfg, (const char *)data, size, "fuzz.ini", "/",
                             err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    FUZZ_CHECK(ini_max_line == max_line);
    FUZZ_CHECK(ini_allow_multiline == multiline);
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        check_config(&cfg);
    } else {
        check_refusal(err, data, size);
    }
    airsrt_config_free(&cfg);
    rc2 = airsrt_config_parse(&cfg, (const char *)data, size, "fuzz.ini", "/",
                              err2, sizeof(err2));
    FUZZ_CHECK(rc2 == rc);
    FUZZ_CHECK(strcmp(err, err2) == 0);
    airsrt_config_free(&cfg);
    return 0;
}
