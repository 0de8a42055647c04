/*
 * tools/ctl/ctl.h - airsrt-ctl's parts: argument parsing (args.c, libc
 * only, so that the fuzz harness compiles it whole), reading a running
 * runtime's segment (snap.c), printing it (show.c) and the commands that
 * act on it (act.c: send, stop, watch).
 *
 * Everything airsrt-ctl reads from the segment is untrusted: it was
 * written by other processes, any of which may have crashed or scribbled.
 * Counts are clamped to the arrays they index, strings are read up to
 * their array's end, addresses are validated before they are printed,
 * and every loop is bounded by the validated segment parameters.
 */
#ifndef AIRSRT_TOOLS_CTL_H
#define AIRSRT_TOOLS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shm/segment.h"
#include "tools/common/tool.h"

enum ctl_cmd {
    CTL_STATUS = 0,
    CTL_NAMES,
    CTL_TOPICS,
    CTL_POOLS,
    CTL_ACTORS,
    CTL_WATCH,
    CTL_SEND,
    CTL_STOP,
    CTL_POSTMORTEM,
    CTL_HELP,                     /* -h / --help: usage on stdout, exit 0 */
    CTL_NCMDS
};

#define CTL_TOP_DEFAULT       10u
#define CTL_TOP_MAX           100000u
#define CTL_INTERVAL_DEFAULT  1000u   /* ms */
#define CTL_INTERVAL_MIN      10u
#define CTL_INTERVAL_MAX      3600000u
#define CTL_COUNT_MAX         1000000u

/* The parsed command line. Strings point into argv. */
struct ctl_opts {
    const char *runtime;
    enum ctl_cmd cmd;
    bool is_json;
    bool is_wait;                 /* stop --wait */
    uint32_t top;                 /* actors --top */
    uint32_t interval_ms;         /* watch --interval */
    uint32_t count;               /* watch --count; 0 = until stopped */
    const char *worker;           /* actors, postmortem: as given */
    const char *name;             /* send */
    uint32_t type;                /* send */
    const char *payload;          /* send: NULL none, "-" stdin */
};

/* Parses argv. 0 with o filled; else TOOL_EXIT_USAGE with the reason in
 * err (one line, no program name, no newline). Never writes argv. */
int ctl_parse(int argc, char *const argv[], struct ctl_opts *o, char *err,
              size_t len);

void ctl_usage(FILE *f);

/* The name at index i of a name table, "?" past its end: i may come
 * from the segment. */
#define NAMEOF(tab, i) ((i) < sizeof(tab) / sizeof(tab[0]) ? tab[i] : "?")

/* ---- snap.c: reading the segment ---- */

/* A consistent copy of a postmortem record (seqlock, segment.h): 0, or
 * -EAGAIN if no whole copy could be had in a few tries. */
int ctl_postmortem_copy(const struct airsrt_postmortem *src,
                        struct airsrt_postmortem *dst);

/* True if worker w's self page is incarnation inc's (inc from the
 * worker's slot, not 0): the page names its writer, so one of another
 * incarnation holds a dead worker's counters, or none yet. */
bool ctl_self_is_of(const struct airsrt_shm *shm, uint32_t w, uint32_t inc);

/* One flight-recorder entry, decoded and checked. */
struct ctl_flight {
    uint64_t handled_ns;
    uint64_t message_id;
    uint32_t type;
    uint32_t payload_len;
    struct airsrt_address sender;     /* null if invalid */
    bool is_sender_valid;             /* sender was null or valid */
    uint32_t recipient_slot, recipient_generation;
};

/* The last entries of fr, oldest first, into out (room for
 * AIRSRT_FLIGHT_ENTRIES = K); returns how many: 0 .. K - 1, since entry
 * count % K may be half-written (snap.c). fr is untrusted: its count is
 * clamped, nothing outside it is read. */
uint32_t ctl_flight_decode(const struct airsrt_flight_recorder *fr,
                           struct ctl_flight out[AIRSRT_FLIGHT_ENTRIES]);

/* A fixed-size C string from untrusted bytes: up to len bytes of src up
 * to its first NUL, each byte outside 0x20..0x7e replaced by '?'. out
 * has room for len + 1. */
void ctl_str_copy(char *out, const char *src, size_t len);

/* ---- show.c: the read-only commands ---- */

int ctl_show_status(const struct airsrt_shm *shm, bool is_json, FILE *f);
int ctl_show_names(const struct airsrt_shm *shm, bool is_json, FILE *f);
int ctl_show_topics(const struct airsrt_shm *shm, bool is_json, FILE *f);
int ctl_show_pools(const struct airsrt_shm *shm, bool is_json, FILE *f);
int ctl_show_actors(const struct airsrt_shm *shm, uint32_t w, uint32_t top,
                    bool is_json, FILE *f);
int ctl_show_postmortem(const struct airsrt_shm *shm, uint32_t w,
                        bool is_json, FILE *f);

/* JSON string (quoted, escaped) of s to f. */
void ctl_json_str(FILE *f, const char *s);
/* An address as JSON (a string, or null when null or invalid) or as
 * text ("-" when null or invalid). */
void ctl_json_addr(FILE *f, const struct airsrt_address *a);
void ctl_text_addr(const struct airsrt_address *a, char *buf, size_t len);
/* Opens the JSON object: {"runtime":"NAME" */
void ctl_json_runtime(FILE *f, const struct airsrt_shm *shm);
/* The type name of actor slot `slot` of worker w, "" if unknown. */
void ctl_type_name(const struct airsrt_shm *shm, uint32_t w, uint32_t slot,
                   char out[AIRSRT_TYPE_NAME_MAX + 1]);

/* ---- act.c ---- */

int ctl_send(struct airsrt_shm *shm, const struct ctl_opts *o);
int ctl_stop(const struct airsrt_shm *shm, const struct ctl_opts *o);
int ctl_watch(const struct airsrt_shm *shm, const struct ctl_opts *o);

#endif
