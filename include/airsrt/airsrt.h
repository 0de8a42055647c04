/*
 * airsrt/airsrt.h - the whole public API of airsrt in one include.
 */
#ifndef AIRSRT_AIRSRT_H
#define AIRSRT_AIRSRT_H

#include "airsrt/address.h"
#include "airsrt/envelope.h"
#include "airsrt/actor.h"
#include "airsrt/message.h"
#include "airsrt/monitor.h"
#include "airsrt/names.h"
#include "airsrt/pool.h"
#include "airsrt/topic.h"
#include "airsrt/deadletter.h"
#include "airsrt/error.h"
#include "airsrt/worker.h"
#include "airsrt/supervision.h"
#include "airsrt/timer.h"
#include "airsrt/request.h"

#endif
