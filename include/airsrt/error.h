/*
 * airsrt/error.h - what the runtime's error codes mean.
 */
#ifndef AIRSRT_ERROR_H
#define AIRSRT_ERROR_H

/* A short explanation of a negative error an airsrt call returned, in the
 * runtime's terms where it gives the code a meaning of its own (-ENOENT:
 * "no such name"), else strerror's. Never NULL; static storage. */
const char *airsrt_strerror(int err);

#endif
