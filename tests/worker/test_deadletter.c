/*
 * tests/worker/test_deadletter.c - envelopes that cannot be delivered, in
 * one in-process worker: stale addresses (never reaching the slot's next
 * actor), counts per reason, the dead-letter actor and what it receives
 * (reason, original header, payload cut to payload_max), dead letters of
 * dead letters only counted, and the texts of reasons and error codes.
 *
 * The dead-letter actor is always spawned before the first dead letter:
 * while nobody holds its name the worker looks it up again only every
 * so often, by design.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "tests/lib/unit_worker.h"

TestSuite(deadletter, .fini = harness_fini);

enum { EV_HANDLE = 1 };
enum { T_SEQ = 7, T_BYTES = 33 };

static int recorder_handle(struct airsrt_ctx *ctx, void *state,
                           const struct airsrt_envelope *env)
{
    (void)state;
    unit_log(EV_HANDLE, airsrt_self(ctx)->slot, env->type);
    return 0;
}

static const struct airsrt_actor_type recorder = {
    .name = "recorder", .handle = recorder_handle };

/* ---- the dead-letter actor: keeps what it was sent ---- */

#define DL_KEEP 8

struct dl_seen {
    uint32_t type, len;
    struct airsrt_dead_letter head;
    bool has_original;
    struct {                            /* the original's header */
        uint32_t type, payload_len;
        uint64_t correlation_id;
        struct airsrt_address recipient;
    } orig;
    uint8_t orig_payload[512];
};

static struct dl_seen dl_seen[DL_KEEP];
static uint32_t dl_count;

static int dl_handle(struct airsrt_ctx *ctx, void *state,
                     const struct airsrt_envelope *env)
{
    const struct airsrt_envelope *orig;
    struct dl_seen *s;

    (void)ctx;
    (void)state;
    if (dl_count++ >= DL_KEEP)
        return 0;
    s = &dl_seen[dl_count - 1];
    s->type = env->type;
    s->len = env->payload_len;
    if (env->payload_len >= sizeof(s->head))
        memcpy(&s->head, env->payload, sizeof(s->head));
    orig = airsrt_dead_letter_original(env->payload, env->payload_len);
    s->has_original = orig != NULL;
    if (orig != NULL) {
        uint32_t room = env->payload_len - sizeof(s->head) -
                        AIRSRT_ENVELOPE_HDR_SIZE;

        s->orig.type = orig->type;
        s->orig.payload_len = orig->payload_len;
        s->orig.correlation_id = orig->correlation_id;
        s->orig.recipient = orig->recipient;
        memcpy(s->orig_payload, orig->payload,
               room < sizeof(s->orig_payload) ? room
                                              : sizeof(s->orig_payload));
    }
    return 0;
}

static const struct airsrt_actor_type dl_actor = {
    .name = "dl_actor", .handle = dl_handle };

static const struct airsrt_actor_type *const types[] = {
    &recorder, &dl_actor, NULL };

static struct airsrt_address spawn_dead_letter_actor(uint32_t bound)
{
    struct airsrt_spawn_opts o = { .name = AIRSRT_DEAD_LETTER_NAME,
                                   .mailbox_bound = bound };

    return unit_spawn(unit_ctx(), &dl_actor, &o);
}

/* An address that was live and is stale now (a keeper stays alive). */
static struct airsrt_address stale_address(void)
{
    struct airsrt_address a = unit_spawn(unit_ctx(), &recorder, NULL);

    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    return a;
}

Test(deadletter, send_to_a_stopped_actor_is_estale_and_counted_stale,
     .timeout = 30)
{
    struct airsrt_address gone;

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &recorder, NULL);
    gone = stale_address();
    cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_SEQ, "x", 1), -ESTALE);
    cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_SEQ, "y", 1), -ESTALE);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 2);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_out), 0);
    unit_close();
}

Test(deadletter, a_stale_address_never_reaches_the_next_actor_in_its_slot,
     .timeout = 30)
{
    struct airsrt_address gone, next;

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &recorder, NULL);
    gone = stale_address();
    next = unit_spawn(unit_ctx(), &recorder, NULL);
    cr_assert_eq(next.slot, gone.slot, "the slot was not reused");
    cr_assert_gt(next.generation, gone.generation);

    cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_SEQ, "x", 1), -ESTALE);
    cr_assert_eq(airsrt_stop(unit_ctx(), &gone), -ESTALE);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_HANDLE, next.slot), 0,
                 "an envelope for the old actor reached the new one");
    cr_assert_eq(unit_state(&next), AIRSRT_ACTOR_RUNNING,
                 "a stop of the old actor stopped the new one");
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 1);

    cr_assert_eq(airsrt_send(unit_ctx(), &next, T_SEQ, "x", 1), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_HANDLE, next.slot), 1);
    unit_close();
}

Test(deadletter, dead_letters_are_counted_per_reason, .timeout = 30)
{
    struct airsrt_spawn_opts bounded = { .mailbox_bound = 1 };
    struct airsrt_spawn_opts named = { .name = "svc" };
    struct airsrt_send_opts expiring = { .ttl_ns = 1 };
    struct timespec nap = { 0, 2000000 };
    struct airsrt_address gone, full, holder, doomed;
    static const uint64_t want[AIRSRT_DL_REASONS] = {
        [AIRSRT_DL_STALE] = 1, [AIRSRT_DL_EXPIRED] = 2,
        [AIRSRT_DL_MAILBOX_FULL] = 3, [AIRSRT_DL_UNBOUND] = 4,
        [AIRSRT_DL_STOPPED] = 5, [AIRSRT_DL_UNROUTABLE] = 0 };

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &recorder, NULL);
    gone = stale_address();
    full = unit_spawn(unit_ctx(), &recorder, &bounded);
    holder = unit_spawn(unit_ctx(), &recorder, &named);
    doomed = unit_spawn(unit_ctx(), &recorder, NULL);

    cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_SEQ, NULL, 0), -ESTALE);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(airsrt_send_ex(unit_ctx(), &doomed, NULL, &expiring,
                                    T_SEQ, NULL, 0), 0);
    nanosleep(&nap, NULL);
    cr_assert_eq(unit_settle(), -1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(airsrt_send(unit_ctx(), &full, T_SEQ, NULL, 0), 0);
    /* Handled: this worker now knows the name's last holder. */
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc", T_SEQ, NULL, 0), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(airsrt_stop(unit_ctx(), &holder), 0);
    cr_assert_eq(unit_settle(), -1);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(airsrt_send_name(unit_ctx(), "svc", T_SEQ, NULL, 0), 0);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(airsrt_send(unit_ctx(), &doomed, T_SEQ, NULL, 0), 0);
    cr_assert_eq(airsrt_stop(unit_ctx(), &doomed), 0);
    cr_assert_eq(unit_settle(), -1);

    for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++)
        cr_assert_eq(unit_dead(r), want[r], "%s: %lu, not %lu",
                     airsrt_dead_letter_reason_name(r),
                     (unsigned long)unit_dead(r), (unsigned long)want[r]);
    unit_close();
}

Test(deadletter, the_dead_letter_actor_gets_the_reason_and_the_original,
     .timeout = 30)
{
    struct airsrt_send_opts expiring = { .ttl_ns = 1,
                                         .correlation_id = 99 };
    struct timespec nap = { 0, 2000000 };
    struct airsrt_address gone, live;

    unit_open(types, 0, NULL);
    spawn_dead_letter_actor(0);
    gone = stale_address();
    live = unit_spawn(unit_ctx(), &recorder, NULL);
    cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_BYTES, "hello", 5),
                 -ESTALE);
    cr_assert_eq(airsrt_send_ex(unit_ctx(), &live, NULL, &expiring, T_SEQ,
                                "late", 4), 0);
    nanosleep(&nap, NULL);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(dl_count, 2);
    cr_assert_eq(dl_seen[0].type, AIRSRT_MSG_DEAD_LETTER);
    cr_assert_eq(dl_seen[0].head.reason, AIRSRT_DL_STALE);
    cr_assert_eq(dl_seen[0].head.worker, 0);
    cr_assert_eq(dl_seen[0].head.original_len, 5);
    cr_assert(dl_seen[0].has_original);
    cr_assert_eq(dl_seen[0].orig.type, T_BYTES);
    cr_assert_eq(dl_seen[0].orig.payload_len, 5);
    cr_assert(airsrt_address_equal(&dl_seen[0].orig.recipient, &gone));
    cr_assert_arr_eq(dl_seen[0].orig_payload, "hello", 5);

    cr_assert_eq(dl_seen[1].head.reason, AIRSRT_DL_EXPIRED);
    cr_assert_eq(dl_seen[1].orig.type, T_SEQ);
    cr_assert_eq(dl_seen[1].orig.correlation_id, 99);
    cr_assert_arr_eq(dl_seen[1].orig_payload, "late", 4);
    /* Forwarding does not change the counts. */
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 1);
    cr_assert_eq(unit_dead(AIRSRT_DL_EXPIRED), 1);
    unit_close();
}

Test(deadletter, the_forwarded_original_is_cut_to_fit_payload_max,
     .timeout = 30)
{
    struct airsrt_shm_params p = { .payload_max = 256 };
    const uint32_t head = sizeof(struct airsrt_dead_letter) +
                          AIRSRT_ENVELOPE_HDR_SIZE;
    uint8_t payload[200];
    struct airsrt_address gone;

    for (uint32_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 13 + 5);
    unit_open_with(types, &p, NULL);
    spawn_dead_letter_actor(0);
    gone = stale_address();
    cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_BYTES, payload,
                             sizeof(payload)), -ESTALE);
    cr_assert_eq(unit_settle(), -1);

    cr_assert_eq(dl_count, 1);
    cr_assert_eq(dl_seen[0].len, 256, "the dead letter is not payload_max "
                 "long: %u", dl_seen[0].len);
    cr_assert_eq(dl_seen[0].head.original_len, sizeof(payload));
    cr_assert_eq(dl_seen[0].orig.payload_len, 256 - head);
    cr_assert_arr_eq(dl_seen[0].orig_payload, payload, 256 - head);
    unit_close();
}

Test(deadletter, a_dead_letter_of_a_dead_letter_is_only_counted,
     .timeout = 30)
{
    struct airsrt_address gone, dl;

    unit_open(types, 0, NULL);
    /* Room for one: the second and third forwards are dropped by its
     * mailbox, and those drops must not be forwarded again. */
    dl = spawn_dead_letter_actor(1);
    gone = stale_address();
    for (int i = 0; i < 3; i++)
        cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_SEQ, NULL, 0),
                     -ESTALE);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(dl_count, 1);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 3);
    cr_assert_eq(unit_dead(AIRSRT_DL_MAILBOX_FULL), 2);
    cr_assert_eq(atomic_load(&unit_stats(&dl)->handled), 1);
    unit_close();
}

Test(deadletter, mail_left_in_a_stopping_dead_letter_actor_is_only_counted,
     .timeout = 30)
{
    struct airsrt_address gone, dl;

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &recorder, NULL);
    dl = spawn_dead_letter_actor(0);
    gone = stale_address();
    for (int i = 0; i < 2; i++)
        cr_assert_eq(airsrt_send(unit_ctx(), &gone, T_SEQ, NULL, 0),
                     -ESTALE);
    cr_assert_eq(airsrt_stop(unit_ctx(), &dl), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(dl_count, 0);
    cr_assert_eq(unit_dead(AIRSRT_DL_STALE), 2);
    cr_assert_eq(unit_dead(AIRSRT_DL_STOPPED), 2);
    cr_assert_eq(unit_dead(AIRSRT_DL_UNBOUND), 0);
    unit_close();
}

Test(deadletter, reason_names_are_the_documented_texts)
{
    static const char *const want[AIRSRT_DL_REASONS] = {
        [AIRSRT_DL_STALE] = "stale", [AIRSRT_DL_EXPIRED] = "expired",
        [AIRSRT_DL_MAILBOX_FULL] = "mailbox_full",
        [AIRSRT_DL_UNBOUND] = "unbound", [AIRSRT_DL_STOPPED] = "stopped",
        [AIRSRT_DL_UNROUTABLE] = "unroutable",
        [AIRSRT_DL_LATE_REPLY] = "late_reply",
        [AIRSRT_DL_NO_SUBSCRIBER] = "no_subscriber" };

    for (unsigned r = 0; r < AIRSRT_DL_REASONS; r++)
        cr_assert_str_eq(airsrt_dead_letter_reason_name(r), want[r]);
    cr_assert_str_eq(airsrt_dead_letter_reason_name(AIRSRT_DL_REASONS),
                     "unknown");
    cr_assert_str_eq(airsrt_dead_letter_reason_name(UINT_MAX), "unknown");
}

Test(deadletter, strerror_explains_runtime_codes_and_falls_back)
{
    static const int codes[] = {
        -EINVAL, -EMSGSIZE, -ENOENT, -EHOSTDOWN, -ESTALE, -ENOBUFS,
        -EAGAIN, -EHOSTUNREACH, -ENOMEM, -EDESTADDRREQ, -EEXIST, -EBUSY,
        -ENOSPC, AIRSRT_SENT_BACKPRESSURE, 0 };

    cr_assert_str_eq(airsrt_strerror(-ENOENT), "no such name");
    cr_assert_str_eq(airsrt_strerror(-EPERM), strerror(EPERM));
    cr_assert_str_eq(airsrt_strerror(-EIO), strerror(EIO));
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *s = airsrt_strerror(codes[i]);

        cr_assert_not_null(s);
        cr_assert_gt(strlen(s), 0, "empty text for %d", codes[i]);
    }
    /* Runtime meanings differ from the libc texts they replace. */
    cr_assert_str_neq(airsrt_strerror(-ESTALE), strerror(ESTALE));
    cr_assert_str_neq(airsrt_strerror(-EHOSTDOWN), strerror(EHOSTDOWN));
    cr_assert_not_null(airsrt_strerror(12345));
}

Test(deadletter, strerror_is_never_null_even_for_int_min)
{
    /* "Never NULL" holds for every int; -INT_MIN does not exist. */
    cr_assert_not_null(airsrt_strerror(INT_MIN));
    cr_assert_not_null(airsrt_strerror(-INT_MAX));
}
