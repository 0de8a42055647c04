/*
 * airsrt/envelope.h - the unit of communication between actors.
 *
 * An envelope is a fixed 88-byte header followed by payload_len bytes of
 * inline payload. It is copied byte for byte through rings and mailboxes,
 * so it must hold no pointers: the payload is plain bytes, addresses are
 * values, names travel as registry ids.
 *
 * An envelope read from shared memory is untrusted: a reader calls
 * airsrt_envelope_validate() before it believes any field, and bounds its
 * reads by the payload length it validated, never by re-reading the field.
 */
#ifndef AIRSRT_ENVELOPE_H
#define AIRSRT_ENVELOPE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "airsrt/address.h"

#define AIRSRT_PAYLOAD_MAX_DEFAULT (64u * 1024u)
#define AIRSRT_PAYLOAD_MAX_LIMIT   (16u * 1024u * 1024u) /* hard ceiling */

enum airsrt_priority {
    AIRSRT_PRIO_LOW = 0,
    AIRSRT_PRIO_NORMAL = 1,
    AIRSRT_PRIO_HIGH = 2,
    AIRSRT_PRIO_SYSTEM = 3,
};

/* Wire layout (host byte order; one node is one machine):
 *
 *  off  field           meaning
 *    0  type            message type id, chosen by the application
 *    4  priority        enum airsrt_priority
 *    5  flags           AIRSRT_ENV_F_*, unknown bits are rejected;
 *                       bits 0-2 count forwards to a name's new holder,
 *                       bits 3-5 mark topic, request and reply
 *    6  reserved        must be 0
 *    8  payload_len     bytes of payload after the header
 *   12  recipient_name  registry id of the name it was sent to, 0 = none;
 *                       when set, the receiver resolves it at delivery
 *   16  sender          address, null if none
 *   32  recipient       address, null when sent by name
 *   48  reply_to        address, null if none
 *   64  correlation_id  0 = none; a reply copies the request's
 *   72  message_id      unique per runtime (airsrt_msgid_next)
 *   80  deadline_ns     CLOCK_MONOTONIC ns after which it is dead; 0 = none
 *   88  payload[]
 */
struct airsrt_envelope {
    uint32_t type;
    uint8_t priority;
    uint8_t flags;
    uint16_t reserved;
    uint32_t payload_len;
    uint32_t recipient_name;
    struct airsrt_address sender;
    struct airsrt_address recipient;
    struct airsrt_address reply_to;
    uint64_t correlation_id;
    uint64_t message_id;
    uint64_t deadline_ns;
    uint8_t payload[];
};
static_assert(sizeof(struct airsrt_envelope) == 88, "envelope ABI");
static_assert(offsetof(struct airsrt_envelope, sender) == 16, "envelope ABI");
static_assert(offsetof(struct airsrt_envelope, message_id) == 72, "envelope ABI");

#define AIRSRT_ENVELOPE_HDR_SIZE ((uint32_t)sizeof(struct airsrt_envelope))
/* How often a worker passed the envelope on to the worker that holds its
 * recipient name now; at AIRSRT_ENV_HOPS_MAX it is not passed on again,
 * so a name that keeps moving cannot bounce an envelope forever. */
#define AIRSRT_ENV_F_HOPS  0x07u
#define AIRSRT_ENV_HOPS_MAX 7u
/* Published to a topic: recipient is null and recipient_name is the
 * topic's registry id; the receiving worker hands a copy to each of its
 * subscribers (airsrt/topic.h). */
#define AIRSRT_ENV_F_TOPIC   0x08u
/* A request (airsrt/request.h): its correlation_id is the caller's, and
 * a reply to it carries AIRSRT_ENV_F_REPLY. */
#define AIRSRT_ENV_F_REQUEST 0x10u
/* The reply to a request: the caller's worker delivers it only while the
 * request waits for it, and drops (and counts) it after a timeout. */
#define AIRSRT_ENV_F_REPLY   0x20u
#define AIRSRT_ENV_F_ALL                                                    \
    (AIRSRT_ENV_F_HOPS | AIRSRT_ENV_F_TOPIC | AIRSRT_ENV_F_REQUEST |         \
     AIRSRT_ENV_F_REPLY)

/* Bytes of an envelope with this payload length. */
static inline size_t airsrt_envelope_size(uint32_t payload_len)
{
    return AIRSRT_ENVELOPE_HDR_SIZE + (size_t)payload_len;
}

/*
 * Fills the header of e for type and payload_len with normal priority, no
 * addresses, no deadline and message id 0; the payload is not touched.
 */
void airsrt_envelope_init(struct airsrt_envelope *e, uint32_t type,
                          uint32_t payload_len);

void airsrt_envelope_set_reply_to(struct airsrt_envelope *e,
                                  const struct airsrt_address *reply_to,
                                  uint64_t correlation_id);

/* Sets deadline_ns to now + ttl_ns on CLOCK_MONOTONIC; ttl_ns 0 clears it. */
void airsrt_envelope_set_ttl(struct airsrt_envelope *e, uint64_t ttl_ns);

/* 1 if e has a deadline and it is before now_ns, else 0. */
int airsrt_envelope_is_expired(const struct airsrt_envelope *e, uint64_t now_ns);

/*
 * Checks a header that came from elsewhere against avail, the bytes known
 * to be readable from e, and payload_max. Returns the payload length (>= 0)
 * if the whole envelope fits and every field is in range (addresses valid
 * or null, priority, flags, reserved), -EBADMSG otherwise. Reads each field
 * once, so the length it returns is the one it checked.
 */
int airsrt_envelope_validate(const struct airsrt_envelope *e, size_t avail,
                             uint32_t payload_max);

/* CLOCK_MONOTONIC in ns: the clock of deadlines. */
uint64_t airsrt_now_ns(void);

/*
 * Message ids unique per runtime without a shared counter.
 *
 * id = origin << 54 | counter. Each issuer (a worker incarnation, the
 * supervisor, a tool) owns an origin below AIRSRT_MSGID_ORIGINS and starts
 * its counter at the ns elapsed since the runtime's epoch (the segment's
 * creation) when it starts. No issuer sustains one id per ns, so a counter
 * never runs ahead of the clock, and the next incarnation with the same
 * origin starts above every id its predecessor issued. Holds for 2^54 ns
 * (208 days) of runtime uptime. Two issuers alive at once must not share an
 * origin: workers use their index; see AIRSRT_MSGID_ORIGIN_* for the rest.
 */
#define AIRSRT_MSGID_ORIGINS         1024u
#define AIRSRT_MSGID_ORIGIN_SUPERVISOR 1023u
/* Every tool process (airsrt-ctl send, airsrt-inject flood) issues ids
 * under this one origin, its counter taken from the clock when it starts
 * and never running ahead of it (one ring push per id). Two tools alive
 * at once thus share an origin, and their ids collide only if one issued
 * ids past the other's start time: a flood still running when a send
 * starts. Unique in practice, not by construction. Like the supervisor's, the origin is a worker index too: a
 * runtime of more than 1022 workers shares it with worker 1022. */
#define AIRSRT_MSGID_ORIGIN_TOOL     1022u
#define AIRSRT_MSGID_COUNTER_BITS    54u

struct airsrt_msgid_gen {
    uint64_t next;
};

/* epoch_ns is the runtime's creation time on CLOCK_MONOTONIC. -EINVAL if
 * origin is out of range. */
int airsrt_msgid_init(struct airsrt_msgid_gen *g, uint32_t origin,
                      uint64_t epoch_ns);

static inline uint64_t airsrt_msgid_next(struct airsrt_msgid_gen *g)
{
    return g->next++;
}

static inline uint32_t airsrt_msgid_origin(uint64_t id)
{
    return (uint32_t)(id >> AIRSRT_MSGID_COUNTER_BITS);
}

#endif
