/*
 * airsrt/topic.h - publish/subscribe on named topics.
 *
 * An actor subscribes to a topic by name; anyone publishes to it. A
 * publish sends one copy to each worker that has at least one subscriber
 * of the topic, through that worker's ring (in order with the other
 * envelopes from the publisher's worker), and the receiving worker hands
 * a copy to each of its subscribers, in the order they subscribed. A
 * publisher's own worker fans out at once, without a ring.
 *
 * A topic is a registry entry (kind topic, bound to nobody) made by its
 * first subscribe, and keeps its registry id for as long as the segment
 * lives: topic names share the registry's name space and rules with
 * actor names (1 to 87 bytes of printable ASCII without spaces), and a
 * name held by an actor cannot be a topic. Known limit: unregistering a
 * topic's name (airsrt_unregister) is not supported.
 *
 * What a subscriber gets: an envelope of the published type and payload,
 * sender the publisher (null if the publisher was its worker), recipient
 * the subscriber, recipient_name the topic's registry id and the flag
 * AIRSRT_ENV_F_TOPIC; airsrt_topic_of() tells which topic it came from.
 *
 * Delivery is at most once per subscription and publish. Subscriptions
 * are a worker's: an actor that stops is unsubscribed from everything,
 * and a worker that restarts has no subscribers until its actors
 * subscribe again; what was published to it meanwhile and is still in
 * its rings when its actors have subscribed again reaches them, and
 * what finds no subscriber is a dead letter (AIRSRT_DL_NO_SUBSCRIBER).
 * Subscriptions survive a restart of the actor (on_error Restart keeps
 * its address), so a pre_start that subscribes may run again safely.
 *
 * Which workers subscribe is cached by publishers and revalidated
 * against a runtime-wide epoch, so a subscribe in one worker reaches
 * publishers in others as soon as they publish next; a publish racing a
 * subscribe may or may not reach the new subscriber.
 *
 * Callbacks only, with their ctx.
 */
#ifndef AIRSRT_TOPIC_H
#define AIRSRT_TOPIC_H

#include <stdint.h>

#include "airsrt/actor.h"
#include "airsrt/envelope.h"

/* Topics one worker can have subscribers of at once (the size of its
 * list in shared memory); AIRSRT_WORKER_TOPICS_MAX in shm/segment.h. */
#define AIRSRT_TOPICS_PER_WORKER 64u

/*
 * Subscribes the calling actor to topic, registering the topic if it
 * is new. 0, also if it was subscribed already (it still gets one copy
 * of each publish); -EINVAL bad name or no calling actor (the worker's
 * own ctx); -EEXIST the name is an actor's name or a pool; -ENOSPC this
 * worker has subscribers of AIRSRT_TOPICS_PER_WORKER topics already, or
 * the registry is full; -EAGAIN its registry entry is being written, try
 * again; -ENOMEM.
 */
int airsrt_subscribe(struct airsrt_ctx *ctx, const char *topic);

/*
 * Unsubscribes the calling actor from topic: it gets no copy of what is
 * published from then on, though copies already in its mailbox stay.
 * 0; -EINVAL bad name or no calling actor; -ENOENT it was not
 * subscribed.
 */
int airsrt_unsubscribe(struct airsrt_ctx *ctx, const char *topic);

/*
 * Publishes an envelope of type with len bytes of payload to topic
 * (normal priority, no deadline). Returns the number of workers it
 * reached that have subscribers of the topic (this worker included,
 * whose subscribers have their copies in their mailboxes on return): 0
 * if there are none, or the topic was never subscribed to. A worker
 * whose outbox is at its limit is not reached: its copy is a dead letter
 * (unroutable) counted here. A copy queued behind a full ring is reached
 * (AIRSRT_SENT_BACKPRESSURE is not reported). Else a negative error and
 * nothing was sent:
 *   -EINVAL    bad name, a reserved type, payload NULL with len > 0
 *   -EEXIST    the name is not a topic
 *   -EMSGSIZE  len exceeds the runtime's payload_max
 *   -EAGAIN    the registry entry is being written: try again
 *   -ENOMEM
 */
int airsrt_publish(struct airsrt_ctx *ctx, const char *topic, uint32_t type,
                   const void *payload, uint32_t len);

/* The registry id of the topic env was published to, or 0 if env was
 * not published. */
static inline uint32_t airsrt_topic_of(const struct airsrt_envelope *env)
{
    return (env->flags & AIRSRT_ENV_F_TOPIC) ? env->recipient_name : 0;
}

/*
 * The registry id of topic, to compare with airsrt_topic_of(). 0 with
 * *id; -EINVAL bad name; -ENOENT no such topic (nobody ever subscribed);
 * -EEXIST the name is not a topic; -EAGAIN being written.
 */
int airsrt_topic_id(struct airsrt_ctx *ctx, const char *topic, uint32_t *id);

#endif
