/*
 * examples/monitor.c - an overseer watches its jobs and is told, once
 * each, how they ended. It spawns three jobs and monitors each: one
 * finishes and stops itself (DOWN normal), one fails and its on_error
 * stops it (DOWN failed, with the error), one it forgets with
 * airsrt_demonitor() before stopping it (no DOWN). It also watches the
 * address of the finished job again, once that job is gone (DOWN
 * no_actor). Each DOWN is matched to its monitor by ref (its
 * correlation_id): one for an unknown ref, a second one for the same
 * monitor, or one for the forgotten job is an error that ends the worker
 * (escalated). Then it prints a summary, stops, and the worker ends.
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
AIRSRT_MESSAGE(done, 2, { uint32_t unused; });  /* to the overseer */

/* Jobs by what they do; the monitors are one per job, then REWATCH. */
enum { FINISH = 0, FAIL = 1, IDLE = 2, JOBS = 3, REWATCH = JOBS, REFS };

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

/* refs[m] is monitor m's ref (0 = not set yet), is_down[m] whether its
 * DOWN came. IDLE's ref is kept after it is forgotten: to catch a DOWN
 * for it. */
struct overseer {
    struct airsrt_address jobs[JOBS];
    uint64_t refs[REFS];
    bool is_down[REFS];
    uint32_t downs;
};

/* The DOWN reason each monitor must end with (none for IDLE). */
static const uint32_t expected_reason[REFS] = {
    [FINISH] = AIRSRT_DOWN_NORMAL, [FAIL] = AIRSRT_DOWN_FAILED,
    [IDLE] = AIRSRT_DOWN_REASONS, [REWATCH] = AIRSRT_DOWN_NO_ACTOR,
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
    return rc;
}

/* Which monitor DOWN d (of ref) is for, or -1 if it is none we expect:
 * an unknown ref, a second DOWN, the forgotten IDLE, the wrong reason. */
static int monitor_of(const struct overseer *o, uint64_t ref,
                      const struct airsrt_down *d)
{
    for (int m = 0; m < REFS; m++)
        if (ref != 0 && o->refs[m] == ref)
            return o->is_down[m] || d->reason != expected_reason[m] ? -1
                                                                    : m;
    return -1;
}

static int overseer_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    struct overseer *o = state;
    const struct airsrt_down *d = airsrt_down_get(env);
    char who[AIRSRT_ADDRESS_STR_MAX];
    int m;

    if (airsrt_msg_get(env, done) != NULL) {
        printf("monitor: %" PRIu32 " DOWNs, one per monitor\n", o->downs);
        fflush(stdout);
        return airsrt_stop(ctx, airsrt_self(ctx));
    }
    if (d == NULL)
        return 0;
    airsrt_address_format(&d->target, who, sizeof(who));
    printf("monitor: %s down: %s (err %" PRId32 ")\n", who,
           airsrt_down_reason_name(d->reason), d->err);
    m = monitor_of(o, env->correlation_id, d);
    if (m < 0) {
        printf("monitor: error: unexpected DOWN, ref %" PRIu64 "\n",
               env->correlation_id);
        fflush(stdout);
        return -EPROTO;
    }
    o->is_down[m] = true;
    o->downs++;
    if (m == FINISH)    /* gone now: watching it again says so at once */
        return airsrt_monitor(ctx, &d->target, &o->refs[REWATCH]);
    if (o->downs < REFS - 1)    /* all but IDLE's */
        return 0;
    /* DOWNs come at system priority, ahead of done: one more DOWN
     * already queued is still checked before the summary. */
    return airsrt_send_msg(ctx, airsrt_self(ctx), done,
                           &(struct done){ 0 });
}

/* A broken promise of the monitors: end the worker, loudly. */
static enum airsrt_directive overseer_on_error(struct airsrt_ctx *ctx,
                                               void *state,
                                               const struct airsrt_failure *f)
{
    (void)ctx, (void)state, (void)f;
    return AIRSRT_ESCALATE;
}

static const struct airsrt_actor_type overseer = {
    .name = "overseer", .state_size = sizeof(struct overseer),
    .pre_start = overseer_start, .handle = overseer_handle,
    .on_error = overseer_on_error,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &overseer, &job, NULL };

    return airsrt_worker_main(argc, argv, types);
}
