/*
 * shm/cpu.h - what spinning code tells the CPU. Private to the library
 * (shm/ and worker/).
 */
#ifndef AIRSRT_SHM_CPU_H
#define AIRSRT_SHM_CPU_H

#include <stdatomic.h>

/* Spin-wait hint: lets the sibling hyperthread run and saves power. */
static inline void airsrt__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Reads shared memory exactly once, so that a value checked is the value
 * used even if another process rewrites it meanwhile. */
#define AIRSRT_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))

#endif
