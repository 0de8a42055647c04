/*
 * fuzz/fuzz_ctl_postmortem.c - airsrt-ctl's readers of bytes other
 * processes wrote, over a segment whose worker pages are arbitrary: the
 * postmortem record and its flight recorder (postmortem WORKER), the
 * self page's live flight recorder, actors_high and type names, the
 * actors region (actors WORKER) and the worker table (status).
 *
 * Input layout (missing bytes read as zero):
 *
 *   off                     what
 *     0                     struct airsrt_postmortem of worker 0 (raw,
 *                           seq included: odd makes the reader give up)
 *   P = sizeof(postmortem)  struct airsrt_worker_self of worker 0 (raw,
 *                           up to its topics)
 *   P + S                   the actors region of worker 0, ACTORS + 1
 *                           entries of 40 bytes
 *   then                    the 128-byte supervisor part of worker 0
 *                           (name, state, pid, incarnation, ...)
 *
 * The segment is a real layout (airsrt_shm_layout_compute) of one
 * worker, ACTORS actor slots and a small registry, in a heap block of
 * exactly its size, with an initialised registry and header.
 *
 * Asserts: nothing is read outside the segment (ASan); every command
 * returns 0 or says the record is being written (111); the flight
 * decoder returns at most AIRSRT_FLIGHT_ENTRIES - 1 entries, each sender
 * null or valid; the tool's string copier keeps only printable bytes.
 * The text goes to /dev/null. The JSON goes to a buffer, which must
 * hold nothing when the command failed, else one well-formed JSON value
 * (tests/lib/json_check.h) of printable ASCII and newlines: every
 * string the reports print, whatever bytes it came from, is escaped.
 */
#include "tools/ctl/report.c"
#include "tools/ctl/show.c"
#include "tools/ctl/snap.c"
#include "tools/common/runtime.c"

#include "fuzz/fuzz_input.h"
#include "tests/lib/json_check.h"

#define ACTORS 15u

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct airsrt_shm shm;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct airsrt_shm_params p = {
        .nworkers = 1, .registry_capacity = 16, .actors_max = ACTORS,
        .ring_bytes = AIRSRT_RING_MIN_CAPACITY,
        .ctl_ring_bytes = AIRSRT_RING_MIN_CAPACITY, .payload_max = 64,
    };
    uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
    char err[256];

    (void)argc, (void)argv;
    if (airsrt_shm_params_check(&p, err, sizeof(err)) < 0)
        abort();
    shm.params = p;
    airsrt_shm_layout_compute(&p, page, &shm.layout);
    shm.size = shm.layout.total_size;
    shm.base = aligned_alloc(page, shm.size);
    devnull = fopen("/dev/null", "w");
    if (shm.base == NULL || devnull == NULL)
        abort();
    memset(shm.base, 0, shm.size);
    shm.hdr = (struct airsrt_shm_hdr *)shm.base;
    shm.hdr->version = AIRSRT_SHM_VERSION;
    shm.hdr->params = p;
    shm.hdr->layout = shm.layout;
    strcpy(shm.hdr->name, "fuzz");
    if (airsrt_registry_init(airsrt_shm_registry(&shm),
                             shm.layout.registry_size, 16) < 0)
        abort();
    return 0;
}

static void check_flight(const struct airsrt_flight_recorder *fr)
{
    struct ctl_flight fl[AIRSRT_FLIGHT_ENTRIES];
    uint32_t n = ctl_flight_decode(fr, fl);

    FUZZ_CHECK(n <= AIRSRT_FLIGHT_ENTRIES - 1);
    for (uint32_t i = 0; i < n; i++)
        FUZZ_CHECK(airsrt_address_is_null(&fl[i].sender) ||
                   airsrt_address_validate(&fl[i].sender) == 0);
}

static void check_str_copy(const char *src, size_t len)
{
    char out[AIRSRT_REGISTRY_NAME_MAX + 2];

    ctl_str_copy(out, src, len);
    for (size_t i = 0; out[i]; i++)
        FUZZ_CHECK(out[i] >= 0x20 && out[i] <= 0x7e && i < len);
}

static char *out_buf;
static size_t out_len;

/* Where a command prints: /dev/null for text, a buffer for JSON. */
static FILE *out_open(bool is_json)
{
    FILE *f;

    if (!is_json)
        return devnull;
    f = open_memstream(&out_buf, &out_len);
    if (f == NULL)
        abort();
    return f;
}

/* What a command that returned rc printed as JSON: nothing if it
 * failed, else one JSON value of printable ASCII. */
static void out_check(FILE *f, bool is_json, int rc)
{
    if (!is_json)
        return;
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(rc == 0 ? json_check(out_buf) : out_len == 0);
    for (size_t i = 0; i < out_len; i++)
        FUZZ_CHECK(out_buf[i] == '\n' ||
                   (out_buf[i] >= 0x20 && out_buf[i] <= 0x7e));
    free(out_buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = { data, size };
    struct airsrt_postmortem *pm = airsrt_shm_postmortem(&shm, 0);
    struct airsrt_worker_self *self = airsrt_shm_worker_self(&shm, 0);
    FILE *f;
    int rc;

    fuzz_bytes(&in, pm, sizeof(*pm));
    fuzz_bytes(&in, self, offsetof(struct airsrt_worker_self, topics));
    fuzz_bytes(&in, airsrt_shm_actor_stats(&shm, 0),
               (ACTORS + 1) * sizeof(struct airsrt_actor_stats));
    fuzz_bytes(&in, airsrt_shm_worker_sup(&shm, 0),
               sizeof(struct airsrt_worker_sup));
    check_flight(&pm->flight);
    check_flight(&self->flight);
    check_str_copy(pm->actor_name, AIRSRT_REGISTRY_NAME_MAX);
    check_str_copy(pm->actor_type, AIRSRT_TYPE_NAME_MAX);
    for (int json = 0; json < 2; json++) {
        f = out_open(json);
        rc = ctl_show_postmortem(&shm, 0, json, f);
        FUZZ_CHECK(rc == 0 || rc == TOOL_EXIT_SYSTEM);
        out_check(f, json, rc);
        f = out_open(json);
        rc = ctl_show_actors(&shm, 0, CTL_TOP_MAX, json, f);
        FUZZ_CHECK(rc == 0);
        out_check(f, json, rc);
        f = out_open(json);
        rc = ctl_show_status(&shm, json, f);
        FUZZ_CHECK(rc == 0);
        out_check(f, json, rc);
    }
    return 0;
}
