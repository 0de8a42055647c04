/*
 * tests/lib/unit_worker.c - in-process workers and an event log for the
 * worker suites (see unit_worker.h).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

struct airsrt_worker *unit_w;
struct unit_event unit_events[UNIT_LOG_MAX];
uint32_t unit_nevents;

struct airsrt_worker *unit_open(const struct airsrt_actor_type *const *types,
                                uint32_t actors_max,
                                const struct airsrt_worker_opts *opts)
{
    struct airsrt_shm_params p = { .actors_max = actors_max };

    return unit_open_with(types, &p, opts);
}

struct airsrt_worker *
unit_open_with(const struct airsrt_actor_type *const *types,
               const struct airsrt_shm_params *params,
               const struct airsrt_worker_opts *opts)
{
    cr_assert_null(unit_w, "one worker per test");
    wh_runtime(1, params);
    unit_w = wh_open(0, types, opts);
    return unit_w;
}

struct airsrt_ctx *unit_ctx(void)
{
    cr_assert_not_null(unit_w);
    return airsrt__worker_ctx(unit_w);
}

static bool is_quiet(void *arg)
{
    const struct airsrt_worker *w = arg;

    return w->queued == 0 && w->runq_head == NULL && w->nstops == 0;
}

int unit_settle(void)
{
    cr_assert_not_null(unit_w);
    return wh_poll_until(unit_w, is_quiet, unit_w, UNIT_SETTLE_MS);
}

void unit_close(void)
{
    wh_close(unit_w);
    unit_w = NULL;
}

struct airsrt_address unit_spawn(struct airsrt_ctx *ctx,
                                 const struct airsrt_actor_type *type,
                                 const struct airsrt_spawn_opts *opts)
{
    struct airsrt_address a;
    int rc = airsrt_spawn(ctx, type, opts, &a);

    cr_assert_eq(rc, 0, "spawn %s: %s", type->name, airsrt_strerror(rc));
    return a;
}

int unit_send_seq(struct airsrt_ctx *ctx, const struct airsrt_address *to,
                  uint32_t type, uint64_t seq, uint8_t prio)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;

    o.priority = prio;
    return airsrt_send_ex(ctx, to, NULL, &o, type, &seq, sizeof(seq));
}

uint64_t unit_seq(const struct airsrt_envelope *env)
{
    uint64_t seq;

    cr_assert_eq(env->payload_len, sizeof(seq), "payload of %u bytes",
                 env->payload_len);
    memcpy(&seq, env->payload, sizeof(seq));
    return seq;
}

uint64_t unit_dead(unsigned reason)
{
    cr_assert_lt(reason, AIRSRT_DL_REASONS);
    return atomic_load(&unit_w->self->dead_letters[reason]);
}

const struct airsrt_actor_stats *unit_stats(const struct airsrt_address *a)
{
    cr_assert(a->slot >= 1 && a->slot <= unit_w->actors_max);
    return &unit_w->stats[a->slot];
}

unsigned unit_state(const struct airsrt_address *a)
{
    return atomic_load(&unit_stats(a)->state);
}

struct airsrt_ctx unit_actor_ctx(const struct airsrt_address *a)
{
    struct actor *x;

    cr_assert_not_null(unit_w);
    x = airsrt__actor_find(unit_w, a);
    cr_assert_not_null(x, "%u.%u:%u.%u is no live actor", a->worker,
                       a->incarnation, a->slot, a->generation);
    return airsrt__actor_ctx(unit_w, x);
}

uint64_t unit_groups_epoch(void)
{
    cr_assert_not_null(unit_w);
    return atomic_load(&unit_w->reg.hdr->groups_epoch);
}

void unit_log(uint32_t what, uint32_t who, uint64_t value)
{
    cr_assert_lt(unit_nevents, UNIT_LOG_MAX, "event log full");
    unit_events[unit_nevents++] = (struct unit_event){ what, who, value };
}

uint32_t unit_log_select(uint32_t what, struct unit_event *out, uint32_t max)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < unit_nevents; i++) {
        if (unit_events[i].what != what)
            continue;
        if (n < max)
            out[n] = unit_events[i];
        n++;
    }
    return n;
}

uint32_t unit_log_count(uint32_t what, uint32_t who)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < unit_nevents; i++)
        n += unit_events[i].what == what &&
             (who == UNIT_ANY || unit_events[i].who == who);
    return n;
}
