/*
 * tests/lib/integ_actors.h - two actor types the worker integration
 * suites run in real worker processes, and the shared memory where they
 * report what they saw.
 *
 *  - integ_counter receives probes: it counts them by the worker and
 *    incarnation it runs in, checks that their sequence numbers come in
 *    order, remembers their message ids, and acknowledges those that ask.
 *  - integ_agent does what the test tells it through its worker's control
 *    ring (struct integ_cmd): send a stream of probes to a name or an
 *    address, stop an actor, spawn a counter as its child. A stream
 *    respects backpressure: AIRSRT_SENT_BACKPRESSURE ends the agent's turn
 *    (the probe was queued), -EAGAIN ends it too (the probe was not queued
 *    and is sent again), and the agent sends itself integ_more to go on.
 *    It records what comes back: acks, and AIRSRT_MSG_REJECTED.
 *
 * Both take the index of their report as spawn argument, in decimal text
 * ("counter=2" in a start list). Both report their start (address, pid),
 * their post_stop (pid, and its rank among all post_stops), and nothing
 * they see is lost: a message they do not expect is counted. A report
 * outlives its actor and its worker's incarnations, which is how a test
 * sees across a kill -9.
 *
 * Every field a test polls is atomic; a plain field (an address, the
 * message id arrays) is written before an atomic that publishes it.
 */
#ifndef AIRSRT_TESTS_INTEG_ACTORS_H
#define AIRSRT_TESTS_INTEG_ACTORS_H

#include <stdatomic.h>
#include <stdint.h>

#include "airsrt/airsrt.h"

#define INTEG_REPORTS       8u      /* report indexes 0 .. 7 */
#define INTEG_WORKERS       4u      /* counted by worker below this */
#define INTEG_INCARNATIONS  4u      /* and incarnation below this */
#define INTEG_SEQ_TRACK     256u    /* message ids kept for seqs below */
#define INTEG_AGENT_BATCH   1024u   /* probes per agent turn at most */

/* A probe, sequence number seq of its sender's streams; the counter
 * replies integ_ack when want_ack. The agent sends each with correlation
 * id seq + 1, so that what comes back names the probe. */
AIRSRT_MESSAGE(integ_probe, 0x71000001, {
    uint64_t seq;
    uint32_t want_ack;
    uint32_t reserved;
});
AIRSRT_MESSAGE(integ_ack, 0x71000002, { uint64_t seq; });
AIRSRT_MESSAGE(integ_more, 0x71000003, { uint32_t unused; });

enum integ_op {
    INTEG_OP_SEND_NAME = 1,     /* count probes to name */
    INTEG_OP_SEND_ADDR,         /* count probes to to */
    INTEG_OP_STOP,              /* airsrt_stop(to) */
    INTEG_OP_SPAWN,             /* a counter child with report index
                                   report, mailbox bound and overflow, and
                                   name if not empty */
};

/* What the test tells an agent, pushed on its worker's control ring. */
AIRSRT_MESSAGE(integ_cmd, 0x71000004, {
    uint32_t op;                /* enum integ_op */
    uint32_t want_ack;          /* SEND_*: probes ask for acks */
    uint64_t count;             /* SEND_*: probes to send */
    struct airsrt_address to;   /* SEND_ADDR, STOP */
    uint32_t report;            /* SPAWN */
    uint32_t bound;             /* SPAWN */
    uint32_t overflow;          /* SPAWN: enum airsrt_overflow */
    uint32_t reserved;
    char name[AIRSRT_NAME_MAX + 1]; /* SEND_NAME, SPAWN */
});

struct integ_report {
    /* any actor */
    struct airsrt_address self;         /* as of its last pre_start */
    _Atomic uint32_t starts;            /* pre_start calls; publishes self */
    _Atomic int32_t pid;                /* the process of that pre_start */
    _Atomic uint32_t post_stops;
    _Atomic int32_t post_stop_pid;
    _Atomic uint32_t post_stop_rank;    /* 1 = the first post_stop of all */
    _Atomic uint64_t unexpected;        /* envelopes of no known kind */
    /* counter */
    _Atomic uint64_t received;          /* probes handled */
    _Atomic uint64_t received_at[INTEG_WORKERS][INTEG_INCARNATIONS];
    _Atomic uint64_t next_seq;          /* the seq expected next */
    _Atomic uint64_t out_of_order;      /* probes whose seq was not it */
    _Atomic uint64_t first_bad_seq;     /* + 1; 0 = none */
    uint64_t msgid[INTEG_SEQ_TRACK];    /* of probe seq, as received */
    /* agent */
    _Atomic uint64_t sent;              /* probes queued (0 or
                                           AIRSRT_SENT_BACKPRESSURE) */
    _Atomic uint64_t backpressured;     /* sends that said so */
    _Atomic uint64_t eagain;            /* sends refused, sent again */
    _Atomic int32_t error;              /* first other send error */
    _Atomic uint64_t acks;
    _Atomic uint64_t rejected;          /* AIRSRT_MSG_REJECTED received */
    _Atomic uint64_t rejected_bad;      /* ... whose payload was wrong */
    struct airsrt_address rejected_by;  /* the last one's recipient */
    uint64_t rejected_msgid[INTEG_SEQ_TRACK]; /* by seq of the refused */
    _Atomic uint32_t commands;          /* integ_cmd handled */
    _Atomic int32_t last_rc;            /* of the last STOP or SPAWN */
};

struct integ_shared {
    _Atomic uint32_t post_stop_rank;    /* last rank given */
    struct integ_report reports[INTEG_REPORTS];
};

/* The test's shared reports: set by integ_actors_setup(). */
extern struct integ_shared *integ;

/* Maps zeroed reports shared with children forked from now on. */
void integ_actors_setup(void);

/* Report i, checked against INTEG_REPORTS. */
struct integ_report *integ_report(uint32_t i);

/* Waits until actor i has run pre_start n times in all; returns its
 * address as of then. */
struct airsrt_address integ_await_started(uint32_t i, uint32_t n);

/* Sends agent i (its last address) a command through its worker's
 * control ring, and waits until the agent has handled it. */
void integ_command(uint32_t i, const struct integ_cmd *cmd);

/* Shorthands of integ_command: a stream of count probes to name, or to
 * an address; a stop; a counter child with report index report. */
void integ_send_name(uint32_t agent, const char *name, uint64_t count);
void integ_send_addr(uint32_t agent, const struct airsrt_address *to,
                     uint64_t count);
void integ_stop(uint32_t agent, const struct airsrt_address *who);
struct airsrt_address integ_spawn(uint32_t agent, uint32_t report,
                                  uint32_t bound,
                                  enum airsrt_overflow overflow);

extern const struct airsrt_actor_type integ_counter;
extern const struct airsrt_actor_type integ_agent;
/* { &integ_counter, &integ_agent, NULL } */
extern const struct airsrt_actor_type *const integ_types[];

#endif
