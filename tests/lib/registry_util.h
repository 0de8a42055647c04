/*
 * tests/lib/registry_util.h - what the registry suites share: the handle
 * under test and assertions over it.
 */
#ifndef AIRSRT_TESTS_REGISTRY_UTIL_H
#define AIRSRT_TESTS_REGISTRY_UTIL_H

#include <stdint.h>

#include "shm/registry.h"

/* The registry of the running test, bound by the suite. */
extern struct airsrt_registry reg;

/* A valid address of generation 1. */
struct airsrt_address at(uint16_t worker, uint32_t inc, uint32_t slot);

/* Registers name -> a as a NAME; asserts success and an id in range. */
uint32_t reg_name(const char *name, struct airsrt_address a);

/* Asserts that name resolves to id and a. */
void expect_resolves(const char *name, uint32_t id, struct airsrt_address a);

#endif
