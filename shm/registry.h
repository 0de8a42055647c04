/*
 * shm/registry.h - layout of the registry region: names -> addresses.
 *
 * Fixed-capacity table written under one robust mutex by any worker and by
 * the supervisor; read by anyone. This header fixes the layout that the
 * segment reserves; the operations (register, resolve, repair) belong to
 * the worker runtime.
 *
 * An entry is written under the lock in this order: generation made odd,
 * fields, checksum, generation made even (release). A reader that sees an
 * odd generation, a generation that changed while it read, or a checksum
 * that does not match knows the entry is torn or scribbled and does not
 * follow it. A writer that dies mid-entry leaves an odd generation; the
 * next locker gets EOWNERDEAD and clears such entries.
 */
#ifndef AIRSRT_SHM_REGISTRY_H
#define AIRSRT_SHM_REGISTRY_H

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>

#include "airsrt/address.h"

#define AIRSRT_REGISTRY_NAME_MAX 87u

struct airsrt_registry_hdr {
    pthread_mutex_t lock;          /* robust, process-shared */
    alignas(64) uint32_t capacity; /* set at creation, never changed */
    uint32_t count;                /* live entries, under lock */
};

struct airsrt_registry_entry {
    _Atomic uint32_t generation;   /* odd while being written */
    uint32_t checksum;             /* over kind, id, addr and name */
    uint32_t kind;                 /* 0 = free */
    uint32_t id;                   /* registry id carried by envelopes */
    struct airsrt_address addr;
    char name[AIRSRT_REGISTRY_NAME_MAX + 1];
};
static_assert(sizeof(struct airsrt_registry_entry) == 120, "registry ABI");

#endif
