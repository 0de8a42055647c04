/*
 * tests/lib/integ_actors.c - the counter and the agent (see
 * integ_actors.h).
 *
 * They run inside worker processes, so they never call Criterion: what
 * goes wrong is recorded in their report for the test to assert on. A
 * callback never returns an error for the test's sake either: that would
 * restart the actor and blur what the test is looking at.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/integ_actors.h"
#include "tests/lib/integ_worker.h"

struct integ_shared *integ;

struct counter {
    struct integ_report *r;
};

struct agent {
    struct integ_report *r;
    uint64_t seq;                   /* of the next probe */
    uint64_t remaining;             /* of the stream under way */
    struct integ_cmd job;           /* that stream */
};

void integ_actors_setup(void)
{
    integ = wh_shared(sizeof(*integ));
}

struct integ_report *integ_report(uint32_t i)
{
    cr_assert_not_null(integ, "integ_actors_setup() not called");
    cr_assert_lt(i, INTEG_REPORTS);
    return &integ->reports[i];
}

/* ---- both types ---- */

/* The report named by a spawn argument, or NULL. */
static struct integ_report *report_of(const void *arg, size_t len)
{
    char text[16];
    char *end;
    unsigned long i;

    if (integ == NULL || len == 0 || len >= sizeof(text))
        return NULL;
    memcpy(text, arg, len);
    text[len] = '\0';
    i = strtoul(text, &end, 10);
    return *end == '\0' && i < INTEG_REPORTS ? &integ->reports[i] : NULL;
}

static int start(struct airsrt_ctx *ctx, struct integ_report **out,
                 const void *arg, size_t len)
{
    struct integ_report *r = report_of(arg, len);

    if (r == NULL)
        return -EINVAL;
    *out = r;
    r->self = *airsrt_self(ctx);
    atomic_store(&r->pid, (int32_t)getpid());
    /* Publishes self. */
    atomic_fetch_add(&r->starts, 1);
    return 0;
}

static void stopped(struct integ_report *r)
{
    atomic_store(&r->post_stop_pid, (int32_t)getpid());
    atomic_store(&r->post_stop_rank,
                 atomic_fetch_add(&integ->post_stop_rank, 1) + 1);
    atomic_fetch_add(&r->post_stops, 1);
}

static void record_error(struct integ_report *r, int rc)
{
    int32_t none = 0;

    atomic_compare_exchange_strong(&r->error, &none, (int32_t)rc);
}

/* ---- counter ---- */

static int counter_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                         size_t len)
{
    struct counter *c = state;

    return start(ctx, &c->r, arg, len);
}

/* Counts p where it arrived: this worker and incarnation. */
static void count_probe(struct airsrt_ctx *ctx, struct integ_report *r,
                        const struct airsrt_envelope *env,
                        const struct integ_probe *p)
{
    const struct airsrt_address *self = airsrt_self(ctx);
    uint64_t expected = atomic_load(&r->next_seq);

    if (p->seq < INTEG_SEQ_TRACK)
        r->msgid[p->seq] = env->message_id;
    if (p->seq != expected) {
        uint64_t none = 0;

        atomic_fetch_add(&r->out_of_order, 1);
        atomic_compare_exchange_strong(&r->first_bad_seq, &none, p->seq + 1);
    }
    /* After a gap, one count: the next in order follows this one. */
    atomic_store(&r->next_seq, p->seq + 1);
    if (self->worker < INTEG_WORKERS && self->incarnation < INTEG_INCARNATIONS)
        atomic_fetch_add(&r->received_at[self->worker][self->incarnation], 1);
    /* Last: a test that sees received move sees the rest. */
    atomic_fetch_add(&r->received, 1);
}

static int counter_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    struct counter *c = state;
    const struct integ_probe *p = airsrt_msg_get(env, integ_probe);
    int rc;

    if (p == NULL) {
        atomic_fetch_add(&c->r->unexpected, 1);
        return 0;
    }
    count_probe(ctx, c->r, env, p);
    if (p->want_ack) {
        rc = airsrt_reply_msg(ctx, integ_ack, &(struct integ_ack){ p->seq });
        if (rc < 0)
            record_error(c->r, rc);
    }
    return 0;
}

static void counter_stop(struct airsrt_ctx *ctx, void *state)
{
    struct counter *c = state;

    (void)ctx;
    stopped(c->r);
}

const struct airsrt_actor_type integ_counter = {
    .name = "counter", .state_size = sizeof(struct counter),
    .pre_start = counter_start, .handle = counter_handle,
    .post_stop = counter_stop,
};

/* ---- agent ---- */

static int agent_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                       size_t len)
{
    struct agent *a = state;

    return start(ctx, &a->r, arg, len);
}

static int send_probe(struct airsrt_ctx *ctx, struct agent *a)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;
    struct integ_probe p = { .seq = a->seq, .want_ack = a->job.want_ack };
    bool is_by_name = a->job.op == INTEG_OP_SEND_NAME;

    o.correlation_id = a->seq + 1;
    return airsrt_send_ex(ctx, is_by_name ? NULL : &a->job.to,
                          is_by_name ? a->job.name : NULL, &o,
                          integ_probe_type, &p, sizeof(p));
}

/*
 * Sends what it may of the stream this turn. A full ring ends the turn
 * (backpressure: the probe was queued), so does a full outbox (-EAGAIN:
 * it was not, and goes again); integ_more to itself brings the next turn.
 */
static int agent_stream(struct airsrt_ctx *ctx, struct agent *a)
{
    struct integ_report *r = a->r;
    int rc;

    for (uint32_t n = 0; a->remaining > 0 && n < INTEG_AGENT_BATCH; n++) {
        rc = send_probe(ctx, a);
        if (rc == -EAGAIN) {
            atomic_fetch_add(&r->eagain, 1);
            break;
        }
        if (rc < 0) {
            record_error(r, rc);
            a->remaining = 0;
            return 0;
        }
        a->seq++;
        a->remaining--;
        atomic_fetch_add(&r->sent, 1);
        if (rc == AIRSRT_SENT_BACKPRESSURE) {
            atomic_fetch_add(&r->backpressured, 1);
            break;
        }
    }
    if (a->remaining == 0)
        return 0;
    rc = airsrt_send_msg(ctx, airsrt_self(ctx), integ_more,
                         &(struct integ_more){ 0 });
    if (rc < 0)
        record_error(r, rc);
    return 0;
}

static int agent_spawn(struct airsrt_ctx *ctx, const struct integ_cmd *cmd)
{
    char arg[16], name[sizeof(cmd->name)];
    int len = snprintf(arg, sizeof(arg), "%u", cmd->report);
    struct airsrt_spawn_opts o = {
        .arg = arg, .arg_len = (size_t)len, .mailbox_bound = cmd->bound,
        .overflow = (enum airsrt_overflow)cmd->overflow };

    memcpy(name, cmd->name, sizeof(name));
    name[sizeof(name) - 1] = '\0';
    o.name = name[0] != '\0' ? name : NULL;
    return airsrt_spawn(ctx, &integ_counter, &o, NULL);
}

static void agent_command(struct airsrt_ctx *ctx, struct agent *a,
                          const struct integ_cmd *cmd)
{
    switch (cmd->op) {
    case INTEG_OP_SEND_NAME:
    case INTEG_OP_SEND_ADDR:
        if (a->remaining != 0) {
            record_error(a->r, -EBUSY);
            break;
        }
        a->job = *cmd;
        a->job.name[sizeof(a->job.name) - 1] = '\0';
        a->remaining = cmd->count;
        agent_stream(ctx, a);
        break;
    case INTEG_OP_STOP:
        atomic_store(&a->r->last_rc, airsrt_stop(ctx, &cmd->to));
        break;
    case INTEG_OP_SPAWN:
        atomic_store(&a->r->last_rc, agent_spawn(ctx, cmd));
        break;
    default:
        record_error(a->r, -EINVAL);
    }
    /* Last: the test waits for it, then reads the rest. */
    atomic_fetch_add(&a->r->commands, 1);
}

static void agent_rejected(struct integ_report *r,
                           const struct airsrt_envelope *env)
{
    const struct airsrt_rejected *rej =
        (const struct airsrt_rejected *)(const void *)env->payload;
    uint64_t seq;

    if (env->payload_len != sizeof(*rej) || rej->type != integ_probe_type ||
        rej->correlation_id == 0) {
        atomic_fetch_add(&r->rejected_bad, 1);
        return;
    }
    seq = rej->correlation_id - 1;
    if (seq < INTEG_SEQ_TRACK)
        r->rejected_msgid[seq] = rej->message_id;
    r->rejected_by = rej->recipient;
    atomic_fetch_add(&r->rejected, 1);
}

static int agent_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    struct agent *a = state;
    const struct integ_cmd *cmd = airsrt_msg_get(env, integ_cmd);

    if (cmd != NULL)
        agent_command(ctx, a, cmd);
    else if (env->type == integ_more_type)
        return agent_stream(ctx, a);
    else if (env->type == integ_ack_type)
        atomic_fetch_add(&a->r->acks, 1);
    else if (env->type == AIRSRT_MSG_REJECTED)
        agent_rejected(a->r, env);
    else
        atomic_fetch_add(&a->r->unexpected, 1);
    return 0;
}

static void agent_stop(struct airsrt_ctx *ctx, void *state)
{
    struct agent *a = state;

    (void)ctx;
    stopped(a->r);
}

const struct airsrt_actor_type integ_agent = {
    .name = "agent", .state_size = sizeof(struct agent),
    .pre_start = agent_start, .handle = agent_handle,
    .post_stop = agent_stop,
};

const struct airsrt_actor_type *const integ_types[] = {
    &integ_counter, &integ_agent, NULL };

/* ---- the test's side ---- */

struct airsrt_address integ_await_started(uint32_t i, uint32_t n)
{
    struct integ_report *r = integ_report(i);

    INTEG_AWAIT(atomic_load(&r->starts) >= n);
    return r->self;
}

void integ_command(uint32_t i, const struct integ_cmd *cmd)
{
    struct integ_report *r = integ_report(i);
    uint32_t before = atomic_load(&r->commands);
    struct airsrt_address agent;

    cr_assert_gt(atomic_load(&r->starts), 0, "agent %u never started", i);
    agent = r->self;
    integ_ctl_send(agent.worker, &agent, integ_cmd_type, cmd, sizeof(*cmd));
    INTEG_AWAIT(atomic_load(&r->commands) > before);
}

void integ_send_name(uint32_t agent, const char *name, uint64_t count)
{
    struct integ_cmd cmd = { .op = INTEG_OP_SEND_NAME, .count = count };

    cr_assert_lt(strlen(name), sizeof(cmd.name));
    strcpy(cmd.name, name);
    integ_command(agent, &cmd);
}

void integ_send_addr(uint32_t agent, const struct airsrt_address *to,
                     uint64_t count)
{
    struct integ_cmd cmd = { .op = INTEG_OP_SEND_ADDR, .count = count,
                             .to = *to };

    integ_command(agent, &cmd);
}

void integ_stop(uint32_t agent, const struct airsrt_address *who)
{
    struct integ_cmd cmd = { .op = INTEG_OP_STOP, .to = *who };

    integ_command(agent, &cmd);
    cr_assert_eq(atomic_load(&integ_report(agent)->last_rc), 0,
                 "airsrt_stop: %s",
                 airsrt_strerror(atomic_load(&integ_report(agent)->last_rc)));
}

struct airsrt_address integ_spawn(uint32_t agent, uint32_t report,
                                  uint32_t bound,
                                  enum airsrt_overflow overflow)
{
    struct integ_cmd cmd = { .op = INTEG_OP_SPAWN, .report = report,
                             .bound = bound, .overflow = overflow };
    uint32_t starts = atomic_load(&integ_report(report)->starts);

    integ_command(agent, &cmd);
    cr_assert_eq(atomic_load(&integ_report(agent)->last_rc), 0,
                 "airsrt_spawn: %s",
                 airsrt_strerror(atomic_load(&integ_report(agent)->last_rc)));
    return integ_await_started(report, starts + 1);
}
