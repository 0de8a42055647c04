/*
 * shm/ring_impl.h - ring internals shared with the segment code and the
 * crash tests, which must stop a producer half-way through a record while
 * it holds the control-ring lock. Not part of any public API.
 */
#ifndef AIRSRT_SHM_RING_IMPL_H
#define AIRSRT_SHM_RING_IMPL_H

#include "shm/ring.h"

/* Takes the control-ring lock (recovering it from a dead owner) and loads
 * the shared tail into r: the caller may then reserve, commit, publish. */
int airsrt__ctl_lock(struct airsrt_ring *r);
void airsrt__ctl_unlock(struct airsrt_ring *r);

#endif
