/*
 * examples/bank.c - a small bank whose books must balance through a
 * worker crash: the demo behind `make run` (examples/demo.ini).
 *
 *   accounts  a shard of the accounts, registered as bank.shard.I. A
 *             transfer is debited by the shard that owns its source
 *             account, which then sends a credit to the shard that owns
 *             the target, by name; a transfer that the balance does not
 *             cover is refused. Answers audits with its sums.
 *   teller    a steady stream of random transfers, paced to a rate and
 *             eased off when a ring pushes back; pause and resume. With
 *             chaos=MS, teller 0 kills its own worker (SIGKILL) MS after
 *             it starts, in its worker's first incarnation only.
 *   auditor   audits every shard every second and prints a line; at the
 *             close it pauses the tellers, waits until the books settle
 *             (no money in flight, two audits alike) and checks that
 *             the money total is what the shards started with. PASS:
 *             it stops, and its worker ends 0. FAIL: it escalates, and
 *             its worker ends AIRSRT_EXIT_ESCALATED (112).
 *   metronome the auditor's child: the bank's clock. It beats every few
 *             ms to the auditor and the tellers, which act on the beat.
 *
 * Money moves only as a debit and, later, the credit it sent: the sum of
 * the balances plus what is in flight (debited, not yet credited) never
 * changes. Shows typed messages, sends by name across workers, requests
 * matched by correlation id, backpressure, and a crash the supervisor
 * repairs without the books noticing.
 *
 * Init arguments are KEY=VALUE items joined by ':' (decimal numbers):
 *
 *   accounts  shard=I shards=N [accounts=100 balance=1000 lose=0]
 *   teller    id=I shards=N [accounts=100 rate=20000 amount=100 chaos=0]
 *   auditor   shards=N tellers=T [every=1000 close=9000 patience=5000
 *             beat=5]
 *
 * (accounts: per shard; rate: transfers per second; amount: the largest
 * transfer; every, close, patience, beat: ms; lose=K makes a shard drop
 * K credits, a bug on purpose.) All in one worker, by hand:
 *
 *   build/examples/bank --standalone \
 *       accounts@bank.shard.0=shard=0:shards=2 \
 *       accounts@bank.shard.1=shard=1:shards=2 \
 *       teller@bank.teller.0=id=0:shards=2 \
 *       auditor=shards=2:tellers=1:every=500:close=3000
 *
 * There the auditor, when it has its verdict, stops the whole bank, so
 * the worker ends by itself; under airsrt-run it stops only itself and
 * the config's auto_shutdown ends the runtime.
 *
 * The metronome keeps time with a timer (airsrt_send_after); everything
 * else waits for its beats.
 */
#include <airsrt/airsrt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSHARDS_MAX   1024u
#define NTELLERS_MAX  1024u
#define ACCOUNTS_MAX  1000000u
#define BURST_MAX     1024u         /* transfers a teller sends per beat */
#define SETTLE_EVERY_NS 100000000u  /* audits while settling: 100 ms */
#define NS_PER_MS     1000000u
#define ARG_MAX       256u
#define NKEYS(keys)   (sizeof(keys) / sizeof((keys)[0]))
/* What the auditor's handle returns when the books do not balance. */
#define BANK_E_UNBALANCED (-ENOTRECOVERABLE)

AIRSRT_MESSAGE(transfer, 1, {
    uint32_t from, to;          /* account numbers, 0 .. shards*accounts-1 */
    uint64_t amount;
    uint64_t id;                /* teller id << 48 | its sequence */
});
AIRSRT_MESSAGE(credit, 2, { uint32_t to, reserved; uint64_t amount; });
AIRSRT_MESSAGE(audit, 3, { uint32_t unused; });
AIRSRT_MESSAGE(audit_report, 4, {
    uint32_t shard, incarnation;    /* incarnation of the shard's worker */
    uint64_t balance, initial;      /* sum now, sum at start */
    uint64_t out, in;               /* money debited, money credited */
    uint64_t transfers, refused;    /* debits done, debits refused */
    uint64_t handled;               /* envelopes the shard handled */
});
AIRSRT_MESSAGE(tick, 5, { uint32_t unused; });
AIRSRT_MESSAGE(pause, 6, { uint32_t unused; });
AIRSRT_MESSAGE(resume, 7, { uint32_t unused; });
AIRSRT_MESSAGE(paused, 8, {
    uint32_t teller, incarnation;
    uint64_t sent, eased;           /* in this incarnation */
});
AIRSRT_MESSAGE(beat, 9, { uint64_t seq; });

/* ---- shared helpers ---- */

/* One KEY=VALUE an actor accepts: a number between min and max. */
struct init_key {
    const char *key;
    uint64_t *value;            /* keeps its default if the key is absent */
    uint64_t min, max;
};

static int parse_item(const char *who, char *item, const struct init_key *o,
                      size_t n)
{
    char *eq = strchr(item, '='), *end;

    if (eq != NULL) {
        *eq = '\0';
        for (size_t i = 0; i < n; i++) {
            uint64_t v;

            if (strcmp(item, o[i].key) != 0)
                continue;
            v = strtoull(eq + 1, &end, 10);
            if (eq[1] < '0' || eq[1] > '9' || *end != '\0' || v < o[i].min ||
                v > o[i].max) {
                fprintf(stderr, "bank: %s: %s=\"%s\" is not a number from "
                        "%" PRIu64 " to %" PRIu64 "\n", who, item, eq + 1,
                        o[i].min, o[i].max);
                return -EINVAL;
            }
            *o[i].value = v;
            return 0;
        }
    }
    fprintf(stderr, "bank: %s: \"%s\" is not one of", who, item);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s=N", o[i].key);
    fputc('\n', stderr);
    return -EINVAL;
}

/* Parses the init argument "KEY=VALUE:KEY=VALUE..." into o[0..n). */
static int parse_options(const char *who, const void *arg, size_t len,
                         const struct init_key *o, size_t n)
{
    char text[ARG_MAX], *save = NULL;

    if (len >= sizeof(text)) {
        fprintf(stderr, "bank: %s: the init argument is longer than %u "
                "bytes\n", who, ARG_MAX - 1);
        return -EINVAL;
    }
    memcpy(text, arg, len);
    text[len] = '\0';
    for (char *item = strtok_r(text, ":", &save); item != NULL;
         item = strtok_r(NULL, ":", &save))
        if (parse_item(who, item, o, n) < 0)
            return -EINVAL;
    return 0;
}

static void shard_name(char *buf, size_t len, uint64_t shard)
{
    snprintf(buf, len, "bank.shard.%" PRIu64, shard);
}

static void teller_name(char *buf, size_t len, uint64_t teller)
{
    snprintf(buf, len, "bank.teller.%" PRIu64, teller);
}

/* A tick to ourselves in delay_ns. */
static int tick_later(struct airsrt_ctx *ctx, uint64_t delay_ns)
{
    return airsrt_send_after(ctx, airsrt_self(ctx), NULL, delay_ns, tick_type,
                             &(struct tick){ 0 }, sizeof(struct tick), NULL);
}

static double seconds_since(uint64_t t0, uint64_t now)
{
    return (double)(now - t0) / 1e9;
}

/* ---- accounts: one shard of the ledger ---- */

struct shard {
    uint64_t *balance;          /* naccounts balances, malloc'd */
    uint64_t index, nshards, naccounts, opening, lose;
    uint64_t out, in, transfers, refused, handled;
};

static int shard_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                       size_t len)
{
    struct shard *s = state;
    const struct init_key o[] = {
        { "shard", &s->index, 0, NSHARDS_MAX - 1 },
        { "shards", &s->nshards, 1, NSHARDS_MAX },
        { "accounts", &s->naccounts, 1, ACCOUNTS_MAX },
        { "balance", &s->opening, 0, UINT32_MAX },
        { "lose", &s->lose, 0, UINT32_MAX },
    };

    (void)ctx;
    s->nshards = 1;
    s->naccounts = 100;
    s->opening = 1000;
    if (parse_options("accounts", arg, len, o, NKEYS(o)) < 0)
        return -EINVAL;
    if (s->index >= s->nshards) {
        fprintf(stderr, "bank: accounts: shard=%" PRIu64 " but shards=%"
                PRIu64 "\n", s->index, s->nshards);
        return -EINVAL;
    }
    s->balance = malloc(s->naccounts * sizeof(*s->balance));
    if (s->balance == NULL)
        return -ENOMEM;
    for (uint64_t i = 0; i < s->naccounts; i++)
        s->balance[i] = s->opening;
    return 0;
}

static void shard_stop(struct airsrt_ctx *ctx, void *state)
{
    struct shard *s = state;

    (void)ctx;
    free(s->balance);
    s->balance = NULL;
}

/* The balance of account a if this shard owns it, else NULL. */
static uint64_t *shard_account(struct shard *s, uint32_t a)
{
    uint64_t first = s->index * s->naccounts;

    if (a < first || a - first >= s->naccounts)
        return NULL;
    return &s->balance[a - first];
}

/* Takes the amount out of the source account and sends it to the shard
 * of the target as a credit. The credit is sent before the debit: a
 * send that fails leaves the money where it was. */
static int shard_transfer(struct airsrt_ctx *ctx, struct shard *s,
                          const struct transfer *t)
{
    uint64_t *from = shard_account(s, t->from);
    struct credit c = { .to = t->to, .amount = t->amount };
    char name[AIRSRT_NAME_MAX + 1];
    int rc;

    if (from == NULL || t->to >= s->nshards * s->naccounts ||
        t->to == t->from || t->amount == 0)
        return -EPROTO;
    if (*from < t->amount) {
        s->refused++;
        return 0;
    }
    shard_name(name, sizeof(name), t->to / s->naccounts);
    rc = airsrt_send_name_msg(ctx, name, credit, &c);
    if (rc < 0) {
        s->refused++;
        return 0;
    }
    *from -= t->amount;
    s->out += t->amount;
    s->transfers++;
    return 0;
}

static int shard_credit(struct shard *s, const struct credit *c)
{
    uint64_t *to = shard_account(s, c->to);

    if (to == NULL)
        return -EPROTO;
    s->in += c->amount;
    if (s->lose > 0) {
        s->lose--;              /* the planted bug: the money vanishes */
        return 0;
    }
    *to += c->amount;
    return 0;
}

static int shard_audit(struct airsrt_ctx *ctx, struct shard *s)
{
    struct audit_report r = {
        .shard = (uint32_t)s->index,
        .incarnation = airsrt_self(ctx)->incarnation,
        .initial = s->opening * s->naccounts,
        .out = s->out, .in = s->in, .transfers = s->transfers,
        .refused = s->refused, .handled = s->handled,
    };

    for (uint64_t i = 0; i < s->naccounts; i++)
        r.balance += s->balance[i];
    return airsrt_reply_msg(ctx, audit_report, &r);
}

static int shard_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    struct shard *s = state;
    const struct transfer *t = airsrt_msg_get(env, transfer);
    const struct credit *c = airsrt_msg_get(env, credit);

    s->handled++;
    if (t != NULL)
        return shard_transfer(ctx, s, t);
    if (c != NULL)
        return shard_credit(s, c);
    if (airsrt_msg_get(env, audit) != NULL)
        return shard_audit(ctx, s);
    return -EPROTO;
}

/* The ledger lives in this actor's state: a restart would reset the
 * balances and make money out of nothing. A bad request is skipped. */
static enum airsrt_directive shard_error(struct airsrt_ctx *ctx, void *state,
                                         const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    (void)f;
    return AIRSRT_RESUME;
}

static const struct airsrt_actor_type accounts = {
    .name = "accounts", .state_size = sizeof(struct shard),
    .pre_start = shard_start, .handle = shard_handle,
    .post_stop = shard_stop, .on_error = shard_error,
};

/* ---- teller: the stream of transfers ---- */

struct teller {
    uint64_t id, nshards, naccounts, rate, amount, chaos_ms;
    uint64_t t0;
    uint64_t base_ns, base_sent;    /* the schedule: rate from here */
    uint64_t sent, eased;
    bool is_paused;
};

static int teller_start(struct airsrt_ctx *ctx, void *state, const void *arg,
                        size_t len)
{
    struct teller *t = state;
    const struct init_key o[] = {
        { "id", &t->id, 0, NTELLERS_MAX - 1 },
        { "shards", &t->nshards, 1, NSHARDS_MAX },
        { "accounts", &t->naccounts, 1, ACCOUNTS_MAX },
        { "rate", &t->rate, 1, 10000000 },
        { "amount", &t->amount, 1, UINT32_MAX },
        { "chaos", &t->chaos_ms, 0, 86400000 },
    };

    (void)ctx;
    t->nshards = 1;
    t->naccounts = 100;
    t->rate = 20000;
    t->amount = 100;
    if (parse_options("teller", arg, len, o, NKEYS(o)) < 0)
        return -EINVAL;
    if (t->nshards * t->naccounts < 2) {
        fprintf(stderr, "bank: teller: a transfer needs two accounts\n");
        return -EINVAL;
    }
    t->t0 = t->base_ns = airsrt_now_ns();
    return 0;
}

/* Starts the schedule afresh from now: a teller that fell behind, or
 * was told to slow down, does not try to catch up. */
static void teller_rebase(struct teller *t, uint64_t now)
{
    t->base_ns = now;
    t->base_sent = t->sent;
}

/* Transfers due by now on the schedule. */
static uint64_t teller_due(const struct teller *t, uint64_t now)
{
    uint64_t owed = (uint64_t)((double)(now - t->base_ns) *
                               (double)t->rate / 1e9);

    return owed > t->sent - t->base_sent ? owed - (t->sent - t->base_sent)
                                         : 0;
}

/* A random transfer between two different accounts. */
static struct transfer teller_draw(struct teller *t)
{
    uint32_t total = (uint32_t)(t->nshards * t->naccounts);
    struct transfer x = {
        .from = arc4random_uniform(total),
        .to = arc4random_uniform(total - 1),
        .amount = 1 + arc4random_uniform((uint32_t)t->amount),
        .id = t->id << 48 | (t->sent & 0xFFFFFFFFFFFFull),
    };

    if (x.to >= x.from)
        x.to++;
    return x;
}

/* Sends up to n transfers; eases off (ends the burst, forgets what is
 * owed) when a ring pushes back or a shard is not there right now. */
static int teller_burst(struct airsrt_ctx *ctx, struct teller *t, uint64_t n,
                        uint64_t now)
{
    char name[AIRSRT_NAME_MAX + 1];

    for (uint64_t i = 0; i < n; i++) {
        struct transfer x = teller_draw(t);
        int rc;

        shard_name(name, sizeof(name), x.from / t->naccounts);
        rc = airsrt_send_name_msg(ctx, name, transfer, &x);
        if (rc == -EAGAIN || rc == -ENOENT || rc == -EHOSTDOWN) {
            t->eased++;
            teller_rebase(t, now);
            return 0;
        }
        if (rc < 0)
            return rc;
        t->sent++;
        if (rc == AIRSRT_SENT_BACKPRESSURE) {
            t->eased++;
            teller_rebase(t, now);
            return 0;
        }
    }
    return 0;
}

/* The "kill in the middle" of the demo: once, in the worker's first
 * incarnation, so the restarted teller carries on. */
static void teller_chaos(struct airsrt_ctx *ctx, const struct teller *t,
                         uint64_t now)
{
    if (t->chaos_ms == 0 || t->id != 0 ||
        airsrt_self(ctx)->incarnation != 1 ||
        now - t->t0 < t->chaos_ms * NS_PER_MS)
        return;
    printf("chaos: killing teller worker pid %d\n", (int)getpid());
    fflush(stdout);
    kill(getpid(), SIGKILL);
}

/* A beat of the metronome: send what is due on the schedule. */
static int teller_beat(struct airsrt_ctx *ctx, struct teller *t)
{
    uint64_t now = airsrt_now_ns(), due;
    int rc;

    if (t->is_paused)
        return 0;
    teller_chaos(ctx, t, now);
    due = teller_due(t, now);
    if (due == 0)
        return 0;
    rc = teller_burst(ctx, t, due < BURST_MAX ? due : BURST_MAX, now);
    if (rc == 0 && due > BURST_MAX)
        teller_rebase(t, now);
    return rc;
}

/* Stops sending and says so, with what this incarnation sent. */
static int teller_pause(struct airsrt_ctx *ctx, struct teller *t)
{
    struct paused p = { .teller = (uint32_t)t->id,
                        .incarnation = airsrt_self(ctx)->incarnation,
                        .sent = t->sent, .eased = t->eased };

    t->is_paused = true;
    return airsrt_reply_msg(ctx, paused, &p);
}

static int teller_handle(struct airsrt_ctx *ctx, void *state,
                         const struct airsrt_envelope *env)
{
    struct teller *t = state;

    if (airsrt_msg_get(env, beat) != NULL)
        return teller_beat(ctx, t);
    if (airsrt_msg_get(env, pause) != NULL)
        return teller_pause(ctx, t);
    if (airsrt_msg_get(env, resume) != NULL) {
        t->is_paused = false;
        teller_rebase(t, airsrt_now_ns());
        return 0;
    }
    return -EPROTO;
}

static const struct airsrt_actor_type teller = {
    .name = "teller", .state_size = sizeof(struct teller),
    .pre_start = teller_start, .handle = teller_handle,
};

/* ---- metronome: the bank's clock ---- */

/* Its spawn argument, from the auditor (same process: plain bytes). */
struct metronome_arg {
    uint64_t period_ns;
    uint64_t ntellers;
};

struct metronome {
    struct metronome_arg arg;
    uint64_t next_ns, seq;
};

static int metronome_start(struct airsrt_ctx *ctx, void *state,
                           const void *arg, size_t len)
{
    struct metronome *m = state;

    if (len != sizeof(m->arg))
        return -EINVAL;
    memcpy(&m->arg, arg, len);
    m->next_ns = airsrt_now_ns() + m->arg.period_ns;
    return tick_later(ctx, m->arg.period_ns);
}

/* One beat: to its parent, the auditor, and to every teller by name (a
 * teller that is not there now, restarting, gets the next one). */
static void metronome_beat(struct airsrt_ctx *ctx, struct metronome *m)
{
    struct beat b = { .seq = ++m->seq };
    char name[AIRSRT_NAME_MAX + 1];

    airsrt_send_msg(ctx, airsrt_parent(ctx), beat, &b);
    for (uint64_t i = 0; i < m->arg.ntellers; i++) {
        teller_name(name, sizeof(name), i);
        airsrt_send_name_msg(ctx, name, beat, &b);
    }
}

/* A tick: beat if it is time (a timer never fires early, but may fire
 * late on a busy worker), and set the timer for the next beat. */
static int metronome_handle(struct airsrt_ctx *ctx, void *state,
                            const struct airsrt_envelope *env)
{
    struct metronome *m = state;
    uint64_t now = airsrt_now_ns();

    if (airsrt_msg_get(env, tick) == NULL)
        return -EPROTO;
    if (now >= m->next_ns) {
        metronome_beat(ctx, m);
        /* Beats missed while the worker was busy are not made up. */
        m->next_ns = now - m->next_ns < m->arg.period_ns
                         ? m->next_ns + m->arg.period_ns
                         : now + m->arg.period_ns;
    }
    return tick_later(ctx, m->next_ns > now ? m->next_ns - now : 0);
}

static const struct airsrt_actor_type metronome = {
    .name = "metronome", .state_size = sizeof(struct metronome),
    .pre_start = metronome_start, .handle = metronome_handle,
};

/* ---- auditor: the books must balance ---- */

/* The sums of one audit round over every shard. */
struct tally {
    uint64_t balance, initial, out, in, transfers, refused, handled;
    uint64_t restarts;          /* worker incarnations past the first */
};

enum phase { OPEN, SETTLING, CLOSED };

struct auditor {
    uint64_t nshards, ntellers, every_ms, close_ms, patience_ms, beat_ms;
    uint64_t t0, round_ns, deadline_ns;     /* round_ns: the last round's
                                               start (or t0) */
    uint64_t round;                 /* correlation id of audits sent */
    uint64_t *answered;             /* per shard: last round it answered */
    uint32_t *teller_inc;           /* per teller: 0 until it paused */
    uint64_t nanswered;
    struct tally now, last;         /* this round; the last complete one */
    bool has_last;
    enum phase phase;
};

static void auditor_free(struct auditor *a)
{
    free(a->answered);
    free(a->teller_inc);
    a->answered = NULL;
    a->teller_inc = NULL;
}

/* The auditor's clock, and the tellers': its child, so that it stops
 * when the auditor does. */
static int auditor_spawn_metronome(struct airsrt_ctx *ctx,
                                   const struct auditor *a)
{
    struct metronome_arg m = { .period_ns = a->beat_ms * NS_PER_MS,
                               .ntellers = a->ntellers };
    struct airsrt_spawn_opts o = { .arg = &m, .arg_len = sizeof(m) };

    return airsrt_spawn(ctx, &metronome, &o, NULL);
}

static int auditor_start(struct airsrt_ctx *ctx, void *state,
                         const void *arg, size_t len)
{
    struct auditor *a = state;
    const struct init_key o[] = {
        { "shards", &a->nshards, 1, NSHARDS_MAX },
        { "tellers", &a->ntellers, 0, NTELLERS_MAX },
        { "every", &a->every_ms, 10, 3600000 },
        { "close", &a->close_ms, 0, 86400000 },
        { "patience", &a->patience_ms, 100, 3600000 },
        { "beat", &a->beat_ms, 1, 1000 },
    };
    int rc;

    a->nshards = 1;
    a->every_ms = 1000;
    a->close_ms = 9000;
    a->patience_ms = 5000;
    a->beat_ms = 5;
    if (parse_options("auditor", arg, len, o, NKEYS(o)) < 0)
        return -EINVAL;
    /* ntellers + 1: a calloc of 0 bytes may return NULL. */
    a->answered = calloc(a->nshards, sizeof(*a->answered));
    a->teller_inc = calloc(a->ntellers + 1, sizeof(*a->teller_inc));
    rc = a->answered && a->teller_inc ? auditor_spawn_metronome(ctx, a)
                                      : -ENOMEM;
    if (rc < 0) {
        auditor_free(a);        /* post_stop does not run after this */
        return rc;
    }
    a->t0 = a->round_ns = airsrt_now_ns();
    printf("bank: auditing %" PRIu64 " shards and %" PRIu64 " tellers every "
           "%.1f s; the books close at t=%.1f s\n", a->nshards, a->ntellers,
           (double)a->every_ms / 1e3, (double)a->close_ms / 1e3);
    return 0;
}

static void auditor_stop(struct airsrt_ctx *ctx, void *state)
{
    (void)ctx;
    auditor_free(state);
}

/* Asks every shard for its sums, under a new correlation id; replies to
 * older rounds are ignored when they come. */
static void auditor_ask_shards(struct airsrt_ctx *ctx, struct auditor *a)
{
    struct airsrt_send_opts o = AIRSRT_SEND_OPTS_INIT;
    char name[AIRSRT_NAME_MAX + 1];

    o.correlation_id = ++a->round;
    a->nanswered = 0;
    a->now = (struct tally){ 0 };
    for (uint64_t i = 0; i < a->nshards; i++) {
        shard_name(name, sizeof(name), i);
        /* A shard that is not there now misses this round: say so when
         * the round is over, and go on. */
        airsrt_send_ex(ctx, NULL, name, &o, audit_type,
                       &(struct audit){ 0 }, sizeof(struct audit));
    }
}

/* Pauses every teller; asked again each round while the books settle,
 * since a teller restarted meanwhile starts unpaused. */
static void auditor_pause_tellers(struct airsrt_ctx *ctx, struct auditor *a)
{
    char name[AIRSRT_NAME_MAX + 1];

    for (uint64_t i = 0; i < a->ntellers; i++) {
        teller_name(name, sizeof(name), i);
        airsrt_send_name_msg(ctx, name, pause, &(struct pause){ 0 });
    }
}

static int64_t in_flight(const struct tally *t)
{
    return (int64_t)(t->out - t->in);
}

static void auditor_print_round(const struct auditor *a, uint64_t now)
{
    printf("bank: t=%4.1fs  transfers %9" PRIu64 "  refused %7" PRIu64
           "  in flight %7" PRId64 "  envelopes %9" PRIu64 "\n",
           seconds_since(a->t0, now), a->now.transfers, a->now.refused,
           in_flight(&a->now), a->now.handled);
}

/* The tellers' restarts, known from the incarnation each paused in. */
static uint64_t teller_restarts(const struct auditor *a)
{
    uint64_t n = 0;

    for (uint64_t i = 0; i < a->ntellers; i++)
        n += a->teller_inc[i] > 1 ? a->teller_inc[i] - 1 : 0;
    return n;
}

static void auditor_print_summary(const struct auditor *a, uint64_t now,
                                  bool is_settled, bool is_pass)
{
    const struct tally *t = &a->now;
    uint64_t tellers = teller_restarts(a);

    printf("bank: t=%.1fs  the books are closed\n"
           "bank:   transfers done     %" PRIu64 " (%" PRIu64 " refused: "
           "not enough money)\n"
           "bank:   envelopes handled  %" PRIu64 " by %" PRIu64 " shards\n"
           "bank:   worker restarts    %" PRIu64 " (shards %" PRIu64
           ", tellers %" PRIu64 ")\n"
           "bank:   money expected     %" PRIu64 "\n"
           "bank:   money found        %" PRIu64 "\n",
           seconds_since(a->t0, now), t->transfers, t->refused, t->handled,
           a->nshards, t->restarts + tellers, t->restarts, tellers,
           t->initial, t->balance);
    if (is_pass)
        printf("bank:   invariant          PASS: no money made or lost\n");
    else if (!is_settled)
        printf("bank:   invariant          FAIL: the books did not settle "
               "(in flight %" PRId64 ")\n", in_flight(t));
    else if (t->balance < t->initial)
        printf("bank:   invariant          FAIL: %" PRIu64 " lost\n",
               t->initial - t->balance);
    else
        printf("bank:   invariant          FAIL: %" PRIu64 " made\n",
               t->balance - t->initial);
}

/* Alone in its runtime (--standalone), the bank ends with the audit:
 * nobody else would stop the shards and tellers. */
static void auditor_stop_bank(struct airsrt_ctx *ctx, const struct auditor *a)
{
    char name[AIRSRT_NAME_MAX + 1];
    struct airsrt_address who;

    for (uint64_t i = 0; i < a->nshards + a->ntellers; i++) {
        if (i < a->nshards)
            shard_name(name, sizeof(name), i);
        else
            teller_name(name, sizeof(name), i - a->nshards);
        if (airsrt_resolve(ctx, name, &who) == 0)
            airsrt_stop(ctx, &who);
    }
}

/* The verdict on a round: PASS when the books settled and balance.
 * PASS stops the auditor (and, alone, the bank); FAIL is returned as an
 * error that escalates past the worker's top. */
static int auditor_close(struct airsrt_ctx *ctx, struct auditor *a,
                         uint64_t now, bool is_settled)
{
    bool is_pass = is_settled && a->now.balance == a->now.initial;

    a->phase = CLOSED;
    auditor_print_summary(a, now, is_settled, is_pass);
    fflush(stdout);
    if (!is_pass)
        return BANK_E_UNBALANCED;
    if (airsrt_worker_count(ctx) == 1)
        auditor_stop_bank(ctx, a);
    return airsrt_stop(ctx, airsrt_self(ctx));
}

/* Alike in what moves money; handled is not compared: the audits
 * themselves add to it. */
static bool tally_equal(const struct tally *x, const struct tally *y)
{
    return x->balance == y->balance && x->out == y->out && x->in == y->in &&
           x->transfers == y->transfers && x->refused == y->refused;
}

static bool tellers_all_paused(const struct auditor *a)
{
    for (uint64_t i = 0; i < a->ntellers; i++)
        if (a->teller_inc[i] == 0)
            return false;
    return true;
}

/* Every shard answered this round. The books are settled when nothing
 * is in flight and nothing moved since the last round: then no credit
 * can be on its way between two shards' answers. */
static int auditor_round_done(struct airsrt_ctx *ctx, struct auditor *a)
{
    uint64_t now = airsrt_now_ns();
    bool is_settled;

    if (a->phase == OPEN) {
        auditor_print_round(a, now);
        return 0;
    }
    is_settled = in_flight(&a->now) == 0 && a->has_last &&
                 tally_equal(&a->now, &a->last) && tellers_all_paused(a);
    a->last = a->now;
    a->has_last = true;
    return is_settled ? auditor_close(ctx, a, now, true) : 0;
}

static int auditor_report(struct airsrt_ctx *ctx, struct auditor *a,
                          const struct airsrt_envelope *env,
                          const struct audit_report *r)
{
    struct tally *t = &a->now;

    if (a->phase == CLOSED || env->correlation_id != a->round ||
        r->shard >= a->nshards || a->answered[r->shard] == a->round)
        return 0;               /* late, or not ours */
    a->answered[r->shard] = a->round;
    t->balance += r->balance;
    t->initial += r->initial;
    t->out += r->out;
    t->in += r->in;
    t->transfers += r->transfers;
    t->refused += r->refused;
    t->handled += r->handled;
    t->restarts += r->incarnation > 1 ? r->incarnation - 1 : 0;
    if (++a->nanswered == a->nshards)
        return auditor_round_done(ctx, a);
    return 0;
}

/* When the next round is due: every every_ms while the books are open;
 * while they settle, SETTLE_EVERY_NS after a round that was answered,
 * every_ms after one that was not (its answers may still come). */
static uint64_t auditor_next_ns(const struct auditor *a)
{
    uint64_t every = a->every_ms * NS_PER_MS;

    if (a->phase == SETTLING && a->nanswered == a->nshards &&
        every > SETTLE_EVERY_NS)
        every = SETTLE_EVERY_NS;
    return a->round_ns + every;
}

/* Closing time: the tellers are paused, and the rounds come faster. */
static void auditor_begin_settling(struct auditor *a, uint64_t now)
{
    printf("bank: t=%4.1fs  closing the books: pausing the tellers\n",
           seconds_since(a->t0, now));
    a->phase = SETTLING;
    a->deadline_ns = now + a->patience_ms * NS_PER_MS;
}

/* A round is due: report the last one if it went unanswered, settle at
 * the close, give up when settling takes longer than patience_ms. */
static int auditor_round(struct airsrt_ctx *ctx, struct auditor *a,
                         uint64_t now)
{
    if (a->round > 0 && a->nanswered < a->nshards && a->phase == OPEN)
        printf("bank: t=%4.1fs  audit: %" PRIu64 " of %" PRIu64 " shards "
               "answered in time\n", seconds_since(a->t0, now),
               a->nanswered, a->nshards);
    if (a->phase == OPEN && now - a->t0 >= a->close_ms * NS_PER_MS)
        auditor_begin_settling(a, now);
    if (a->phase == SETTLING) {
        if (now >= a->deadline_ns) {
            printf("bank: t=%4.1fs  the books did not settle within %.1f s"
                   "\n", seconds_since(a->t0, now),
                   (double)a->patience_ms / 1e3);
            a->now = a->last;
            return auditor_close(ctx, a, now, false);
        }
        auditor_pause_tellers(ctx, a);
    }
    a->round_ns = now;
    auditor_ask_shards(ctx, a);
    return 0;
}

static int auditor_beat(struct airsrt_ctx *ctx, struct auditor *a)
{
    uint64_t now = airsrt_now_ns();

    if (a->phase == CLOSED || now < auditor_next_ns(a))
        return 0;
    return auditor_round(ctx, a, now);
}

static int auditor_handle(struct airsrt_ctx *ctx, void *state,
                          const struct airsrt_envelope *env)
{
    struct auditor *a = state;
    const struct audit_report *r = airsrt_msg_get(env, audit_report);
    const struct paused *p = airsrt_msg_get(env, paused);

    if (r != NULL)
        return auditor_report(ctx, a, env, r);
    if (p != NULL) {
        if (p->teller < a->ntellers)
            a->teller_inc[p->teller] = p->incarnation;
        return 0;
    }
    if (airsrt_msg_get(env, beat) != NULL)
        return auditor_beat(ctx, a);
    return -EPROTO;
}

/* Unbalanced books end the auditor's worker with AIRSRT_EXIT_ESCALATED,
 * so that airsrt-run (or whoever started it) sees the failure. */
static enum airsrt_directive auditor_error(struct airsrt_ctx *ctx,
                                           void *state,
                                           const struct airsrt_failure *f)
{
    (void)ctx;
    (void)state;
    return f->err == BANK_E_UNBALANCED ? AIRSRT_ESCALATE : AIRSRT_RESUME;
}

static const struct airsrt_actor_type auditor = {
    .name = "auditor", .state_size = sizeof(struct auditor),
    .pre_start = auditor_start, .handle = auditor_handle,
    .post_stop = auditor_stop, .on_error = auditor_error,
};

int main(int argc, char **argv)
{
    static const struct airsrt_actor_type *const types[] = {
        &accounts, &teller, &auditor, &metronome, NULL };

    /* One line at a time, even into a pipe: a worker may die by SIGKILL
     * (the chaos teller does it on purpose) with nothing left behind. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    return airsrt_worker_main(argc, argv, types);
}
