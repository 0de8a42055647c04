/*
 * fuzz/fuzz_input.h - how the harnesses take numbers from a fuzzer input,
 * and how they fail.
 *
 * Reads are little-endian and never fail: past the end of the input they
 * yield zeros, so every input, however short, is a complete script. The
 * seed generator (make_seeds.c) writes inputs with the same helpers'
 * layout, so seeds mean what they were built to mean.
 */
#ifndef AIRSRT_FUZZ_INPUT_H
#define AIRSRT_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++) {
        if (in->n > 0) {
            v |= (uint64_t)in->p[0] << (8 * i);
            in->p++;
            in->n--;
        }
    }
    return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    return (uint8_t)fuzz_take(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    return (uint16_t)fuzz_take(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    return (uint32_t)fuzz_take(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
    return fuzz_take(in, 8);
}

/* Copies as much of the input as fits into buf (len bytes), zeros after:
 * a region of the harness filled from the input, however short. */
static inline void fuzz_bytes(struct fuzz_in *in, void *buf, size_t len)
{
    size_t n = in->n < len ? in->n : len;

    if (n > 0)
        memcpy(buf, in->p, n);
    memset((uint8_t *)buf + n, 0, len - n);
    in->p += n;
    in->n -= n;
}

/*
 * An argument vector from bytes split at NUL: argv0 first (unless it is
 * NULL), then up to max fields of data. The last field ends where data
 * ends, so k NUL bytes make k + 1 fields and no data one empty field.
 * The vector ends with NULL; *argc counts it without that, argv0
 * included. One malloc'd block holds the vector and copies of the
 * strings: free() it when done. NULL when out of memory.
 *
 *     char **argv = fuzz_argv(data, size, "airsrt-ctl", 16, &argc);
 */
static inline char **fuzz_argv(const uint8_t *data, size_t size,
                               const char *argv0, int max, int *argc)
{
    size_t head = (size_t)(max + 2) * sizeof(char *);
    size_t len0 = argv0 != NULL ? strlen(argv0) + 1 : 0;
    char **argv = malloc(head + len0 + size + 1);
    char *text;
    int n = 0;

    if (argv == NULL)
        return NULL;
    text = (char *)argv + head;
    if (argv0 != NULL) {
        memcpy(text, argv0, len0);
        argv[n++] = text;
        text += len0;
    }
    if (size > 0)
        memcpy(text, data, size);
    text[size] = '\0';
    max += n;
    for (char *p = text; n < max && p <= text + size; p += strlen(p) + 1)
        argv[n++] = p;
    argv[n] = NULL;
    *argc = n;
    return argv;
}

/* A broken property is a crash to libFuzzer: abort() makes it save the
 * input, and the message says which property broke. */
#define FUZZ_CHECK(cond)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)

/*
 * Input layouts that make_seeds.c writes too; each harness's opening
 * comment describes its own.
 */
#define FUZZ_RING_CAP 4096u       /* ring buffer of fuzz_ring_read */
#define FUZZ_CTL_CAP  4096u       /* ring buffer of fuzz_ctl_ring */

/* fuzz_ring_read operations, one kind byte and a u64 argument each. */
enum fuzz_ring_op {
    FUZZ_RING_TAIL_SET,           /* producer tail = arg */
    FUZZ_RING_TAIL_ADD,           /* producer tail += (int32_t)arg */
    FUZZ_RING_BUF_WRITE,          /* u32 arg >> 32 at offset arg % cap */
    FUZZ_RING_HEAD_SET,           /* consumer head = arg (scribbled) */
    FUZZ_RING_REATTACH,           /* the consumer restarts */
    FUZZ_RING_READ_ONE,           /* one airsrt_ring_read() call */
    FUZZ_RING_RELEASE_ALL,
    FUZZ_RING_DRAIN,              /* read until there is nothing new */
    FUZZ_RING_NOPS
};

/* fuzz_ctl_ring operations, one kind byte and a u64 argument each. */
enum fuzz_ctl_op {
    FUZZ_CTL_PUSH,                /* envelope, payload_len from arg */
    FUZZ_CTL_READ,                /* one read of up to arg % 8 + 1 */
    FUZZ_CTL_RELEASE_ALL,
    FUZZ_CTL_RELEASE_SOME,        /* up to the end of view arg % read */
    FUZZ_CTL_BUF_WRITE,           /* garbage u32 into the buffer */
    FUZZ_CTL_TAIL_WRITE,          /* garbage into the producer tail */
    FUZZ_CTL_HEAD_WRITE,          /* garbage into the consumer head */
    FUZZ_CTL_TAIL_NUDGE,          /* producer tail += (int16_t)arg */
    FUZZ_CTL_HEAD_NUDGE,          /* consumer head += (int16_t)arg */
    FUZZ_CTL_REATTACH,            /* the consumer restarts */
    FUZZ_CTL_NOPS
};

#endif
