/*
 * tests/worker/test_names.c - registered names seen from one in-process
 * worker: register, resolve and unregister, the errors of each (-EINVAL,
 * -ENOENT, -EEXIST, -EBUSY, -EHOSTDOWN), a name outliving its holder with
 * the same registry id, and what an envelope sent by name carries.
 *
 * airsrt_register needs a calling actor: the namer actor registers and
 * unregisters what the test sends it and logs the result.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tests/lib/unit_worker.h"

TestSuite(names, .fini = harness_fini);

enum { EV_RC = 1, EV_HANDLE };
enum { T_REG = 1, T_UNREG = 2, T_PLAIN = 3 };

static uint32_t seen_recipient_name;
static struct airsrt_address seen_recipient;

/* T_REG / T_UNREG: payload is the name; logs the result as EV_RC. */
static int namer_handle(struct airsrt_ctx *ctx, void *state,
                        const struct airsrt_envelope *env)
{
    char name[128];
    int rc;

    (void)state;
    if (env->type == T_PLAIN) {
        seen_recipient_name = env->recipient_name;
        seen_recipient = env->recipient;
        unit_log(EV_HANDLE, airsrt_self(ctx)->slot, 0);
        return 0;
    }
    cr_assert_lt(env->payload_len, sizeof(name));
    memcpy(name, env->payload, env->payload_len);
    name[env->payload_len] = '\0';
    rc = env->type == T_REG ? airsrt_register(ctx, name)
                            : airsrt_unregister(ctx, name);
    unit_log(EV_RC, airsrt_self(ctx)->slot, (uint64_t)(int64_t)rc);
    return 0;
}

static const struct airsrt_actor_type namer = {
    .name = "namer", .handle = namer_handle };
static const struct airsrt_actor_type *const types[] = { &namer, NULL };

/* Has a call type(name) and returns what it returned. */
static int ask(const struct airsrt_address *a, uint32_t type,
               const char *name)
{
    uint32_t before = unit_log_count(EV_RC, a->slot);

    cr_assert_eq(airsrt_send(unit_ctx(), a, type, name,
                             (uint32_t)strlen(name)), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_RC, a->slot), before + 1);
    for (uint32_t i = unit_nevents; i-- > 0;)
        if (unit_events[i].what == EV_RC && unit_events[i].who == a->slot)
            return (int)(int64_t)unit_events[i].value;
    cr_assert_fail("unreachable");
    return 0;
}

static uint32_t registry_id(const char *name)
{
    struct airsrt_address holder;
    uint32_t id = 0;

    cr_assert_eq(airsrt_registry_resolve(&unit_w->reg, name, &id, &holder),
                 0, "%s is not in the registry", name);
    return id;
}

static void expect_resolves(const char *name, const struct airsrt_address *a)
{
    struct airsrt_address got;

    cr_assert_eq(airsrt_resolve(unit_ctx(), name, &got), 0);
    cr_assert(airsrt_address_equal(&got, a), "%s resolves elsewhere", name);
}

Test(names, register_resolve_and_unregister_round_trip, .timeout = 30)
{
    struct airsrt_address a, got;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &namer, NULL);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "svc", &got), -ENOENT);
    cr_assert_eq(ask(&a, T_REG, "svc"), 0);
    expect_resolves("svc", &a);
    cr_assert_eq(atomic_load(&unit_stats(&a)->name_id), registry_id("svc"));
    cr_assert_eq(ask(&a, T_REG, "svc"), 0, "registering a held name again");
    cr_assert_eq(ask(&a, T_UNREG, "svc"), 0);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "svc", &got), -ENOENT);
    cr_assert_eq(atomic_load(&unit_stats(&a)->name_id), 0);
    cr_assert_eq(ask(&a, T_UNREG, "svc"), -ENOENT);
    /* Free of its old name, it may take another. */
    cr_assert_eq(ask(&a, T_REG, "other"), 0);
    expect_resolves("other", &a);
    unit_close();
}

Test(names, bad_names_and_a_missing_actor_are_einval, .timeout = 30)
{
    char longest[AIRSRT_NAME_MAX + 1], too_long[AIRSRT_NAME_MAX + 2];
    struct airsrt_address a, got;

    memset(longest, 'n', AIRSRT_NAME_MAX);
    longest[AIRSRT_NAME_MAX] = '\0';
    memset(too_long, 'n', AIRSRT_NAME_MAX + 1);
    too_long[AIRSRT_NAME_MAX + 1] = '\0';
    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &namer, NULL);
    cr_assert_eq(airsrt_register(unit_ctx(), "svc"), -EINVAL,
                 "the worker itself registered a name");
    cr_assert_eq(ask(&a, T_REG, "two words"), -EINVAL);
    cr_assert_eq(ask(&a, T_REG, too_long), -EINVAL);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "", &got), -EINVAL);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "a\tb", &got), -EINVAL);
    cr_assert_eq(airsrt_send_name(unit_ctx(), "two words", T_PLAIN, NULL, 0),
                 -EINVAL);
    cr_assert_eq(ask(&a, T_REG, longest), 0);
    expect_resolves(longest, &a);
    unit_close();
}

Test(names, send_to_an_unknown_name_is_enoent, .timeout = 30)
{
    struct airsrt_address got;

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &namer, NULL);
    cr_assert_eq(airsrt_send_name(unit_ctx(), "nobody", T_PLAIN, "x", 1),
                 -ENOENT);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "nobody", &got), -ENOENT);
    cr_assert_eq(atomic_load(&unit_w->self->envelopes_out), 0);
    unit_close();
}

Test(names, a_name_held_by_another_live_actor_is_eexist, .timeout = 30)
{
    struct airsrt_address a, b;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &namer, NULL);
    b = unit_spawn(unit_ctx(), &namer, NULL);
    cr_assert_eq(ask(&a, T_REG, "svc"), 0);
    cr_assert_eq(ask(&b, T_REG, "svc"), -EEXIST);
    expect_resolves("svc", &a);
    cr_assert_eq(atomic_load(&unit_stats(&b)->name_id), 0);
    unit_close();
}

Test(names, an_actor_holds_at_most_one_name, .timeout = 30)
{
    struct airsrt_address a, got;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &namer, NULL);
    cr_assert_eq(ask(&a, T_REG, "first"), 0);
    cr_assert_eq(ask(&a, T_REG, "second"), -EBUSY);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "second", &got), -ENOENT);
    cr_assert_eq(ask(&a, T_REG, "first"), 0);
    expect_resolves("first", &a);
    unit_close();
}

Test(names, a_stopped_holder_unbinds_the_name_which_keeps_its_id,
     .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "svc" };
    struct airsrt_address keep, a, b, got;
    uint32_t id;

    unit_open(types, 0, NULL);
    keep = unit_spawn(unit_ctx(), &namer, NULL);
    a = unit_spawn(unit_ctx(), &namer, &o);
    id = registry_id("svc");
    cr_assert_eq(atomic_load(&unit_stats(&a)->name_id), id);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(airsrt_resolve(unit_ctx(), "svc", &got), -EHOSTDOWN);
    cr_assert_eq(registry_id("svc"), id, "the unbound name lost its id");

    /* The next holder, by spawn option or by register, binds that id. */
    b = unit_spawn(unit_ctx(), &namer, &o);
    expect_resolves("svc", &b);
    cr_assert_eq(atomic_load(&unit_stats(&b)->name_id), id);
    cr_assert_eq(airsrt_stop(unit_ctx(), &b), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(ask(&keep, T_REG, "svc"), 0);
    expect_resolves("svc", &keep);
    cr_assert_eq(atomic_load(&unit_stats(&keep)->name_id), id);
    unit_close();
}

Test(names, an_envelope_sent_by_name_carries_the_id_not_an_address,
     .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "svc" };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    a = unit_spawn(unit_ctx(), &namer, &o);
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc", T_PLAIN, "x", 1), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_log_count(EV_HANDLE, a.slot), 1);
    cr_assert_eq(seen_recipient_name, registry_id("svc"));
    cr_assert(airsrt_address_is_null(&seen_recipient),
              "an envelope sent by name carries an address");
    unit_close();
}

Test(names, a_send_to_a_name_its_holder_left_is_an_unbound_dead_letter,
     .timeout = 30)
{
    struct airsrt_spawn_opts o = { .name = "svc" };
    struct airsrt_address a;

    unit_open(types, 0, NULL);
    unit_spawn(unit_ctx(), &namer, NULL);
    a = unit_spawn(unit_ctx(), &namer, &o);
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc", T_PLAIN, "x", 1), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(airsrt_stop(unit_ctx(), &a), 0);
    cr_assert_eq(unit_settle(), -1);
    /* This worker saw the last holder (itself): the envelope goes there
     * and finds nobody. */
    cr_assert_eq(airsrt_send_name(unit_ctx(), "svc", T_PLAIN, "y", 1), 0);
    cr_assert_eq(unit_settle(), -1);
    cr_assert_eq(unit_dead(AIRSRT_DL_UNBOUND), 1);
    cr_assert_eq(unit_log_count(EV_HANDLE, UNIT_ANY), 1);
    unit_close();
}
