/*
 * worker/msgpool.c - msg nodes by size class, so that the hot path of a send
 * (a node taken, a node given back after handle) touches a free list, not
 * malloc. Classes go 128, 192, 256, 384, 512, ... bytes: a node wastes at
 * most a third of itself. Each free list keeps at most POOL_KEEP_BYTES of
 * nodes; more go back to malloc, so a burst does not pin memory forever.
 */
#include <stdlib.h>

#include "worker/worker_impl.h"

#define POOL_MIN_SHIFT  7u                  /* 128-byte class 0 */
#define POOL_KEEP_BYTES (4u << 20)

static size_t class_size(uint32_t cls)
{
    size_t base = (size_t)1 << (POOL_MIN_SHIFT + cls / 2);

    return cls & 1 ? base + base / 2 : base;
}

/* The smallest class of at least size bytes. */
static uint32_t class_of(size_t size)
{
    uint32_t p;                             /* 2^(p-1) < size <= 2^p */

    if (size <= (size_t)1 << POOL_MIN_SHIFT)
        return 0;
    p = 64u - (uint32_t)__builtin_clzll((unsigned long long)size - 1);
    if (size <= ((size_t)3 << (p - 2)))
        return 2 * (p - 1 - POOL_MIN_SHIFT) + 1;
    return 2 * (p - POOL_MIN_SHIFT);
}

struct msg *airsrt__msg_alloc(struct msg_pool *p, uint32_t payload_len)
{
    size_t size = sizeof(struct msg) + payload_len;
    uint32_t cls = class_of(size);
    struct msg *m = p->free[cls];

    if (m != NULL) {
        p->free[cls] = m->next;
        p->nfree[cls]--;
    } else {
        m = malloc(class_size(cls));
        if (m == NULL)
            return NULL;
        m->cls = cls;
    }
    m->next = NULL;
    m->env.payload_len = payload_len;
    return m;
}

void airsrt__msg_free(struct msg_pool *p, struct msg *m)
{
    uint32_t cls = m->cls;

    if ((uint64_t)p->nfree[cls] * class_size(cls) >= POOL_KEEP_BYTES) {
        free(m);
        return;
    }
    m->next = p->free[cls];
    p->free[cls] = m;
    p->nfree[cls]++;
}

void airsrt__msgpool_fini(struct msg_pool *p)
{
    for (uint32_t c = 0; c < AIRSRT_POOL_CLASSES; c++) {
        while (p->free[c] != NULL) {
            struct msg *m = p->free[c];

            p->free[c] = m->next;
            free(m);
        }
        p->nfree[c] = 0;
    }
}
