/*
 * fuzz/fuzz_registry.h - the input layout of fuzz_registry, shared with
 * the seed generator (make_seeds.c) so that seeds mean what they were
 * built to mean: the table size, the operations, and how an operation's
 * argument names a name and an address.
 */
#ifndef AIRSRT_FUZZ_REGISTRY_H
#define AIRSRT_FUZZ_REGISTRY_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shm/registry.h"

#define FUZZ_REG_CAP     64u
#define FUZZ_REG_REGION  ((size_t)AIRSRT_REGISTRY_SIZE(FUZZ_REG_CAP))
/* Bytes of the region an input may write: all but the lock's line. */
#define FUZZ_REG_LOCK_END 64u
#define FUZZ_REG_GARBAGE_MAX (FUZZ_REG_REGION - FUZZ_REG_LOCK_END)

/* Names: more valid ones than the table holds, every eighth one of the
 * longest length, then some invalid ones. */
#define FUZZ_REG_VALID_NAMES 96u
#define FUZZ_REG_NAMES       100u
#define FUZZ_REG_NAME_BUF    (AIRSRT_REGISTRY_NAME_MAX + 2)

/* fuzz_registry operations, one kind byte and a u64 argument each. */
enum fuzz_reg_op {
    FUZZ_REG_REGISTER,    /* name arg&0xff, kind (arg>>8)&7, addr arg>>16 */
    FUZZ_REG_UNBIND,      /* id arg&0xff, addr arg>>16 */
    FUZZ_REG_UNREGISTER,  /* name arg&0xff */
    FUZZ_REG_RESOLVE,     /* name arg&0xff */
    FUZZ_REG_LOOKUP,      /* id arg&0xff */
    FUZZ_REG_UNBIND_INC,  /* worker arg&3 (+ AIRSRT_MAX_WORKERS if arg&4),
                             incarnation (arg>>8)&3 */
    FUZZ_REG_SCRIBBLE,    /* u32 arg>>32 at byte offset arg&0xffff of the
                             writable part (mod its length) */
    FUZZ_REG_SEAL,        /* entry arg%cap gets the checksum of whatever it
                             holds, and an even generation */
    FUZZ_REG_ODD,         /* entry arg%cap gets an odd generation */
    FUZZ_REG_DIE,         /* a writer takes the lock, makes entry arg%cap
                             odd, writes arg>>8 over part of it and dies */
    FUZZ_REG_REOPEN,      /* the handle is bound again */
    FUZZ_REG_NOPS
};

/* The name an argument byte stands for. */
static inline void fuzz_reg_name(unsigned idx, char buf[FUZZ_REG_NAME_BUF])
{
    static const char *const bad[] = { "", "has space", "ctl\x01", NULL };

    idx %= FUZZ_REG_NAMES;
    memset(buf, 0, FUZZ_REG_NAME_BUF);
    if (idx >= FUZZ_REG_VALID_NAMES && bad[idx - FUZZ_REG_VALID_NAMES]) {
        strcpy(buf, bad[idx - FUZZ_REG_VALID_NAMES]);
    } else if (idx >= FUZZ_REG_VALID_NAMES) {
        memset(buf, 'x', AIRSRT_REGISTRY_NAME_MAX + 1);  /* one too long */
    } else if (idx % 8 == 7) {
        memset(buf, 'L', AIRSRT_REGISTRY_NAME_MAX);
        buf[snprintf(buf, 8, "L%u-", idx)] = 'L';
    } else {
        snprintf(buf, FUZZ_REG_NAME_BUF, "n%u", idx);
    }
}

static inline int fuzz_reg_name_is_valid(unsigned idx)
{
    return idx % FUZZ_REG_NAMES < FUZZ_REG_VALID_NAMES;
}

/* The address 16 argument bits stand for: 0 is null; incarnation 0 makes
 * an invalid one. */
static inline struct airsrt_address fuzz_reg_addr(uint16_t v)
{
    if (v == 0)
        return AIRSRT_ADDRESS_NULL;
    return (struct airsrt_address){ .node = (uint16_t)(v >> 15),
                                    .worker = (uint16_t)(v & 3),
                                    .incarnation = (uint32_t)(v >> 2) & 3,
                                    .slot = (uint32_t)(v >> 4) & 0x7ff,
                                    .generation = 1 };
}

/* An argument for REGISTER and UNBIND. */
static inline uint64_t fuzz_reg_arg(unsigned byte, unsigned kind,
                                    uint16_t addr)
{
    return (uint64_t)(byte & 0xff) | (uint64_t)(kind & 7) << 8 |
           (uint64_t)addr << 16;
}

#endif
