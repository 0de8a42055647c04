/*
 * airsrt/airsrt.h - the whole public API of airsrt in one include.
 */
#ifndef AIRSRT_AIRSRT_H
#define AIRSRT_AIRSRT_H

#include "airsrt/address.h"
#include "airsrt/envelope.h"

#endif
