/*
 * tests/lib/registry_util.c - registry assertions (see registry_util.h).
 */
#include <criterion/criterion.h>

#include "tests/lib/registry_util.h"

struct airsrt_registry reg;

struct airsrt_address at(uint16_t worker, uint32_t inc, uint32_t slot)
{
    return (struct airsrt_address){ .worker = worker, .incarnation = inc,
                                    .slot = slot, .generation = 1 };
}

uint32_t reg_name(const char *name, struct airsrt_address a)
{
    uint32_t id = 0;
    int rc = airsrt_registry_register(&reg, name, AIRSRT_REGISTRY_NAME, &a,
                                      &id);

    cr_assert_eq(rc, 0, "register %s: %d", name, rc);
    cr_assert(id >= 1 && id <= reg.capacity);
    return id;
}

void expect_resolves(const char *name, uint32_t id,
                            struct airsrt_address a)
{
    struct airsrt_address got;
    uint32_t got_id;
    int rc = airsrt_registry_resolve(&reg, name, &got_id, &got);

    cr_assert_eq(rc, 0, "resolve %s: %d", name, rc);
    cr_assert_eq(got_id, id, "%s: id %u, expected %u", name, got_id, id);
    cr_assert(airsrt_address_equal(&got, &a), "%s: wrong address", name);
}
