/*
 * supervisor/tree.c - the supervision tree, as OTP defines it:
 *
 *  - children start in config order, depth first, each once the one
 *    before is ready; they stop in reverse order;
 *  - one_for_one restarts the child that died; one_for_all stops the
 *    others in reverse order and restarts all; rest_for_one stops those
 *    started after it, in reverse order, and restarts it and them;
 *  - permanent children are always restarted, transient ones only after
 *    an abnormal exit, temporary ones never (not even when a sibling's
 *    restart stopped them);
 *  - more than max_restarts restarts within max_seconds: the supervisor
 *    stops its children and fails, and its parent treats that as the
 *    abnormal exit of a (permanent) child; past the root the runtime
 *    shuts down;
 *  - auto_shutdown: a significant child that ends on its own (transient:
 *    normally; temporary: in any way) shuts its supervisor down when any
 *    (any_significant) or the last (all_significant) such child ended.
 *    The root shutting down ends the runtime with exit 0; another
 *    supervisor that shuts down stays down, as a transient child would.
 *
 * A child that fails to start during a restart counts as one more
 * restart, and is tried again until the intensity gives out. A restart
 * backoff, when configured, delays the start (never the stop) phase;
 * the loop runs it when due (sv_tree_run_due).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "supervisor/supervisor_impl.h"
#include "worker/restart_rules.h"

static void node_child_ended(struct airsrt_supervisor *s, struct sv_node *n,
                             uint32_t pos, bool is_abnormal);
static int node_start(struct airsrt_supervisor *s, struct sv_node *n,
                      uint32_t *failed);

/* ---- building ---- */

/* Children of node i in file order: sections that name it, by line. */
struct order { unsigned line; bool is_sup; uint32_t idx; };

static int by_line(const void *a, const void *b)
{
    const struct order *x = a, *y = b;

    return (x->line > y->line) - (x->line < y->line);
}

static int node_build(struct airsrt_supervisor *s, int i, uint32_t *next_w)
{
    const struct airsrt_config *cfg = s->cfg;
    struct sv_node *n = &s->nodes[i];
    struct order *o = calloc(cfg->nsupervisors + cfg->ngroups, sizeof(*o));
    size_t no = 0, nchildren = 0;

    if (o == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < cfg->nsupervisors; k++)
        if (cfg->supervisors[k].parent == i && (int)k != i)
            o[no++] = (struct order){ cfg->supervisors[k].line, true,
                                      (uint32_t)k };
    for (size_t g = 0; g < cfg->ngroups; g++)
        if (cfg->groups[g].supervisor == i) {
            o[no++] = (struct order){ cfg->groups[g].line, false,
                                      (uint32_t)g };
            nchildren += cfg->groups[g].count - 1;
        }
    qsort(o, no, sizeof(*o), by_line);
    n->children = calloc(no + nchildren + 1, sizeof(*n->children));
    if (n->children == NULL) {
        free(o);
        return -ENOMEM;
    }
    for (size_t k = 0; k < no; k++) {
        if (o[k].is_sup) {
            int rc;

            s->nodes[o[k].idx].pos = (uint32_t)n->nchildren;
            n->children[n->nchildren++] = (struct sv_child){ true, o[k].idx };
            rc = node_build(s, (int)o[k].idx, next_w);
            if (rc < 0) {
                free(o);
                return rc;
            }
            continue;
        }
        for (uint32_t gi = 0; gi < cfg->groups[o[k].idx].count; gi++) {
            struct sv_worker *wk = &s->workers[*next_w];

            wk->w = (*next_w)++;
            wk->group = (int)o[k].idx;
            wk->gi = gi;
            wk->sup = i;
            wk->pos = (uint32_t)n->nchildren;
            wk->exitfd = -1;
            snprintf(wk->name, sizeof(wk->name), "%s[%u]",
                     cfg->groups[o[k].idx].name, gi);
            n->children[n->nchildren++] = (struct sv_child){ false, wk->w };
        }
    }
    free(o);
    return 0;
}

int sv_tree_build(struct airsrt_supervisor *s)
{
    const struct airsrt_config *cfg = s->cfg;
    uint32_t next_w = 0;

    s->nodes = calloc(cfg->nsupervisors, sizeof(*s->nodes));
    s->workers = calloc(cfg->nworkers, sizeof(*s->workers));
    s->spares = calloc(cfg->ngroups + 1, sizeof(*s->spares));
    if (s->nodes == NULL || s->workers == NULL || s->spares == NULL)
        return -ENOMEM;
    for (size_t g = 0; g < cfg->ngroups; g++)
        s->spares[g].exitfd = s->spares[g].sock = -1;
    for (size_t i = 0; i < cfg->nsupervisors; i++) {
        s->nodes[i].cfg = &cfg->supervisors[i];
        s->nodes[i].index = (int)i;
        s->nodes[i].restarts_ns = calloc(cfg->supervisors[i].max_restarts + 1,
                                         sizeof(uint64_t));
        if (s->nodes[i].restarts_ns == NULL)
            return -ENOMEM;
    }
    return node_build(s, cfg->root, &next_w);
}

void sv_tree_free(struct airsrt_supervisor *s)
{
    for (size_t i = 0; s->nodes != NULL && i < s->cfg->nsupervisors; i++) {
        free(s->nodes[i].children);
        free(s->nodes[i].restarts_ns);
    }
    free(s->nodes);
    free(s->workers);
    free(s->spares);
}

/* ---- children ---- */

static const struct airsrt_config_group *group_of(struct airsrt_supervisor *s,
                                                  const struct sv_child *c)
{
    return c->is_sup ? NULL : &s->cfg->groups[s->workers[c->idx].group];
}

/* Supervisors are permanent children of their parent. */
static enum airsrt_restart child_restart(struct airsrt_supervisor *s,
                                         const struct sv_child *c)
{
    const struct airsrt_config_group *g = group_of(s, c);

    return g ? g->restart : AIRSRT_RESTART_PERMANENT;
}

static bool child_is_running(struct airsrt_supervisor *s,
                             const struct sv_child *c)
{
    return c->is_sup ? s->nodes[c->idx].is_running
                     : s->workers[c->idx].state == SV_RUNNING;
}

static void child_stop(struct airsrt_supervisor *s, const struct sv_child *c)
{
    if (c->is_sup) {
        struct sv_node *n = &s->nodes[c->idx];

        n->restart_at_ns = 0;
        if (n->is_running)
            sv_node_stop(s, n);
        return;
    }
    struct sv_worker *wk = &s->workers[c->idx];
    struct sv_exit ex;

    wk->restart_at_ns = 0;
    if (wk->state != SV_RUNNING)
        return;
    sv_worker_stop(s, wk, &ex);
    sv_recover(s, wk, &ex, "worker_stopped");
}

/* 0, or -1 when a worker (reported) failed to start: *failed is the
 * position of the child that failed, in the node being started. */
static int child_start(struct airsrt_supervisor *s, struct sv_node *n,
                       uint32_t pos, bool is_restart)
{
    const struct sv_child *c = &n->children[pos];
    uint32_t ignored;

    if (c->is_sup) {
        sv_note(s, "supervisor_started", s->nodes[c->idx].cfg->name, NULL);
        return node_start(s, &s->nodes[c->idx], &ignored) < 0 ? -1 : 0;
    }
    struct sv_worker *wk = &s->workers[c->idx];
    struct sv_exit ex;

    wk->restart_at_ns = 0;
    if (is_restart)
        wk->restarts++;
    if (sv_worker_start(s, wk, &ex) < 0) {
        sv_recover(s, wk, &ex, "worker_start_failed");
        return -1;
    }
    sv_event(s, is_restart ? "worker_restarted" : "worker_started", wk, NULL,
             NULL);
    return 0;
}

/* Starts n's children in order; on a failure, stops those it started and
 * returns -1 with the failed child's position in *failed. */
static int node_start(struct airsrt_supervisor *s, struct sv_node *n,
                      uint32_t *failed)
{
    n->is_running = true;
    n->nrestarts = 0;     /* a (re)started supervisor has no history */
    for (uint32_t pos = 0; pos < n->nchildren; pos++) {
        if (s->is_stopping)
            return 0;
        if (child_start(s, n, pos, false) < 0) {
            *failed = pos;
            sv_node_stop(s, n);
            return -1;
        }
    }
    return 0;
}

void sv_node_stop(struct airsrt_supervisor *s, struct sv_node *n)
{
    for (uint32_t pos = n->nchildren; pos-- > 0;)
        child_stop(s, &n->children[pos]);
    n->is_running = false;
}

int sv_tree_start(struct airsrt_supervisor *s)
{
    struct sv_node *root = &s->nodes[s->cfg->root];
    uint32_t failed;

    if (node_start(s, root, &failed) < 0) {
        char why[160];

        snprintf(why, sizeof(why), "a child of supervisor %s failed to start",
                 root->cfg->name);
        sv_shutdown(s, AIRSRT_RUN_EXIT_START_FAILED, why);
        return AIRSRT_RUN_EXIT_START_FAILED;
    }
    return 0;
}

/* ---- restarts ---- */

/* ms to wait before the start phase of a restart caused by child c. */
static uint64_t backoff_ms(struct airsrt_supervisor *s, struct sv_node *n,
                           const struct sv_child *c, uint64_t now)
{
    const struct airsrt_config_supervisor *sc = n->cfg;
    struct sv_worker *wk;
    uint64_t ms;

    if (sc->backoff_initial_ms == 0 || c->is_sup)
        return 0;
    wk = &s->workers[c->idx];
    /* A child that ran longer than the intensity period starts over. */
    if (now - wk->started_ns > (uint64_t)sc->max_seconds * 1000000000u)
        wk->backoff_n = 0;
    ms = (uint64_t)sc->backoff_initial_ms << (wk->backoff_n < 20 ? wk->backoff_n : 20);
    wk->backoff_n++;
    /* No maximum given: a minute, so that the doubling stays sane. */
    if (ms > (sc->backoff_max_ms != 0 ? sc->backoff_max_ms : 60000u))
        ms = sc->backoff_max_ms != 0 ? sc->backoff_max_ms : 60000u;
    if (sc->backoff_jitter_pct != 0)
        ms -= arc4random_uniform((uint32_t)(ms * sc->backoff_jitter_pct / 100)
                                 + 1);
    return ms;
}

static void child_mark_due(struct airsrt_supervisor *s, const struct sv_child *c,
                           uint64_t at)
{
    if (c->is_sup)
        s->nodes[c->idx].restart_at_ns = at;
    else
        s->workers[c->idx].restart_at_ns = at;
}

/*
 * One restart of the children [first, end) of n for the death of the
 * child at pos: stop the others in reverse order, then start them all in
 * order (or mark them due after the backoff). 0, or -1 with *failed set.
 */
static int strategy_apply(struct airsrt_supervisor *s, struct sv_node *n,
                          uint32_t pos, uint32_t *failed)
{
    uint32_t first, end;
    uint64_t now = airsrt_now_ns(), delay;
    bool *again = calloc(n->nchildren, sizeof(bool));

    if (again == NULL)
        return 0;
    airsrt__strategy_range(n->cfg->strategy, pos, (uint32_t)n->nchildren,
                           &first, &end);
    for (uint32_t k = end; k-- > first;) {
        const struct sv_child *c = &n->children[k];

        /* Restarted: the dead child, and the others that were running
         * and are not temporary. */
        again[k] = k == pos || (child_is_running(s, c) &&
                                child_restart(s, c) != AIRSRT_RESTART_TEMPORARY);
        if (k != pos)
            child_stop(s, c);
    }
    delay = backoff_ms(s, n, &n->children[pos], now);
    for (uint32_t k = first; k < end && !s->is_stopping; k++) {
        if (!again[k])
            continue;
        if (delay > 0) {
            child_mark_due(s, &n->children[k], now + delay * 1000000u);
        } else if (child_start(s, n, k, true) < 0) {
            *failed = k;
            free(again);
            return -1;
        }
    }
    free(again);
    return 0;
}

static void node_give_up(struct airsrt_supervisor *s, struct sv_node *n)
{
    char why[160];

    snprintf(why, sizeof(why), "more than %u restarts in %u s",
             n->cfg->max_restarts, n->cfg->max_seconds);
    sv_note(s, "supervisor_gave_up", n->cfg->name, why);
    sv_node_stop(s, n);
    if (n->cfg->parent < 0) {
        char msg[256];

        snprintf(msg, sizeof(msg), "root supervisor %s gave up: %s",
                 n->cfg->name, why);
        sv_shutdown(s, AIRSRT_RUN_EXIT_GAVE_UP, msg);
        return;
    }
    node_child_ended(s, &s->nodes[n->cfg->parent], n->pos, true);
}

static void node_restart(struct airsrt_supervisor *s, struct sv_node *n,
                         uint32_t pos)
{
    uint32_t failed;

    while (!s->is_stopping) {
        if (!airsrt__intensity_allows(n->restarts_ns, &n->nrestarts,
                                      n->cfg->max_restarts,
                                      (uint64_t)n->cfg->max_seconds *
                                          1000000000u,
                                      airsrt_now_ns())) {
            node_give_up(s, n);
            return;
        }
        if (strategy_apply(s, n, pos, &failed) == 0)
            return;
        pos = failed;
    }
}

static bool any_significant_running(struct airsrt_supervisor *s,
                                    const struct sv_node *n)
{
    for (uint32_t k = 0; k < n->nchildren; k++) {
        const struct airsrt_config_group *g = group_of(s, &n->children[k]);

        if (g != NULL && g->is_significant &&
            child_is_running(s, &n->children[k]))
            return true;
    }
    return false;
}

/* A significant child ended on its own: true if n shut down for it. */
static bool auto_shutdown(struct airsrt_supervisor *s, struct sv_node *n)
{
    enum airsrt_auto_shutdown a = n->cfg->auto_shutdown;

    if (a == AIRSRT_AUTO_SHUTDOWN_NEVER ||
        (a == AIRSRT_AUTO_SHUTDOWN_ALL && any_significant_running(s, n)))
        return false;
    sv_note(s, "supervisor_auto_shutdown", n->cfg->name,
            "a significant child ended");
    sv_node_stop(s, n);
    if (n->cfg->parent < 0)
        sv_shutdown(s, 0, "auto_shutdown: a significant child ended");
    return true;
}

static void node_child_ended(struct airsrt_supervisor *s, struct sv_node *n,
                             uint32_t pos, bool is_abnormal)
{
    const struct sv_child *c = &n->children[pos];
    const struct airsrt_config_group *g = group_of(s, c);
    enum airsrt_restart rt = child_restart(s, c);
    bool is_done = rt == AIRSRT_RESTART_TEMPORARY ||
                   (rt == AIRSRT_RESTART_TRANSIENT && !is_abnormal);

    if (s->is_stopping || !n->is_running)
        return;
    if (is_done && g != NULL && g->is_significant && auto_shutdown(s, n))
        return;
    if (!is_done)
        node_restart(s, n, pos);
}

void sv_tree_child_died(struct airsrt_supervisor *s, struct sv_worker *wk,
                        const struct sv_exit *ex)
{
    sv_recover(s, wk, ex, "worker_exited");
    node_child_ended(s, &s->nodes[wk->sup], wk->pos, !sv_exit_is_normal(ex));
}

/* Starts what is due under n, in tree order; returns the earliest
 * restart still pending (0 = none). */
static uint64_t node_run_due(struct airsrt_supervisor *s, struct sv_node *n,
                             uint64_t now)
{
    uint64_t next = 0;

    for (uint32_t k = 0; k < n->nchildren && !s->is_stopping; k++) {
        const struct sv_child *c = &n->children[k];
        uint64_t at = c->is_sup ? s->nodes[c->idx].restart_at_ns
                                : s->workers[c->idx].restart_at_ns;

        if (at != 0 && at <= now) {
            if (child_start(s, n, k, true) < 0)
                node_restart(s, n, k);
            continue;
        }
        if (at != 0 && (next == 0 || at < next))
            next = at;
        if (c->is_sup && s->nodes[c->idx].is_running) {
            uint64_t sub = node_run_due(s, &s->nodes[c->idx], now);

            if (sub != 0 && (next == 0 || sub < next))
                next = sub;
        }
    }
    return next;
}

int sv_tree_run_due(struct airsrt_supervisor *s, uint64_t now)
{
    uint64_t next = node_run_due(s, &s->nodes[s->cfg->root], now);

    if (next == 0)
        return -1;
    return (int)((next - now) / 1000000u) + 1;
}
