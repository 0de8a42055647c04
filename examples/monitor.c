/*
 * examples/monitor.c - an overseer watches its jobs and is told, once
 * each, how they ended. It spawns three jobs and monitors each: one
 * finishes and stops itself (DOWN normal), one fails and its on_error
 * stops it (DOWN failed, with the error), one it forgets with
 * airsrt_demonitor() before stopping it (no DOWN). It also watches the
 * address of the finished job again, once that job is gone (DOWN
 * no_actor). Then it prints a summary, stops, and the worker ends.
 * Shows airsrt_monitor, airsrt_demonitor, airsrt_down_get and the
 * reasons.
 *
 *   build/examples/monitor --standalone overseer
 *
 * Under airsrt-run the target of a monitor may live in another worker:
 * the same calls, and a DOWN worker_died when that worker dies.
 */
#include <airsrt/airsrt.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

AIRSRT_MESSAGE(work, 1, { uint32_t how; });     /* to a job */

enum { FINISH = 0, FAIL = 1, IDLE = 2, JOBS = 3 };

static int job_handle(struct airsrt_ctx *ctx, void *state,
                      const struct airsrt_envelope *env)
{
    const struct work *w = airsrt_msg_get(env, work);

    (void)state;
    if (w == NULL || w->how == IDLE)
        return 0;
    if (w->how == FAIL)
        return -EIO;
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static enum airsrt_directive job_on_error(struct airsrt_ctx *ctx,
                                          void *state,
                                          const struct airsrt_failure *f)
{
    (void)ctx, (void)state, (void)f;
    return AIRSRT_STOP;
}

static const struct airsrt_actor_type job = {
    .name = "job", .handle = job_handle, .on_error = job_on_error,
};

struct overseer {
    struct airsrt_address jobs[JOBS];
    uint64_t refs[JOBS];
    uint32_t downs, expected;
    bool is_rewatched;
};

static int overseer_start(struct airsrt_ctx *ctx, void *state,
                          const void *arg, size_t len)
{
    struct overseer *o = state;
    int rc;

    (void)arg, (void)len;
    for (uint32_t i = 0; i < JOBS; i++) {
        rc = airsrt_spawn(ctx, &job, NULL, &o->jobs[i]);
        if (rc == 0)
            rc = airsrt_monitor(ctx, &o->jobs[i], &o->refs[i]);
        if (rc == 0)
            rc = airsrt_send_msg(ctx, &o->jobs[i], work,
                                 &(struct work){ .how = i });
        if (rc < 0)
            return rc;
    }
    /* Forgotten: its stop below sends us nothing. */
    rc = airsrt_demonitor(ctx, o->refs[IDLE]);
    if (rc == 0)
        rc = airsrt_stop(ctx, &o->jobs[IDLE]);
    o->expected = 2;
    return rc;
}

static int overseer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct overseer *o = state;
    const struct airsrt_down *d = airsrt_down_get(env);
    char who[AIRSRT_ADDRESS_STR_MAX];
    uint64_t ref;

    if (d == NULL)
        return 0;
    airsrt_address_format(&d->target, who, sizeof(who));
    printf("monitor: %s down: %s (err %" PRId32 ")\n", who,
           airsrt_down_reason_name(d->reason), d->err);
    o->downs++;
    if (d->reason == AIRSRT_DOWN_NORMAL && !o->is_rewatched) {
        /* Gone now: watching it again says so at once. */
        o->is_rewatched = true;
        o->expected++;
        return airsrt_monitor(ctx, &d->target, &ref);
    }
    if (o->downs < o->expected)
        return 0;
    printf("monitor: %" PRIu32 " DOWNs, one per monitor\n", o->downs);
    fflush(stdout);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

static const struct airsrt_actor_type overseer = {
    .name = "overseer", .state_size = sizeof(struct overseer),
    .pre_start = overseer_start, .handle = overseer_handle,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &overseer, &job, NULL };

    return airsrt_worker_main(argc, argv, types);
}
