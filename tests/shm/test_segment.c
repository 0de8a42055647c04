/*
 * tests/shm/test_segment.c - the segment: naming, creation, reclaim of a
 * dead owner's leftover, refusal of a live one, header checks on attach,
 * layout, and the protection map (a stray write faults in the writer and
 * leaves the victim's ring intact).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "tests/lib/harness.h"

TestSuite(segment, .fini = harness_fini);

Test(segment, validates_runtime_names)
{
    cr_assert_eq(airsrt_shm_name_validate("bank"), 0);
    cr_assert_eq(airsrt_shm_name_validate("bank-2.prod_x"), 0);
    cr_assert_eq(airsrt_shm_name_validate(""), -EINVAL);
    cr_assert_eq(airsrt_shm_name_validate(".hidden"), -EINVAL);
    cr_assert_eq(airsrt_shm_name_validate("-opt"), -EINVAL);
    cr_assert_eq(airsrt_shm_name_validate("a/b"), -EINVAL);
    cr_assert_eq(airsrt_shm_name_validate("a b"), -EINVAL);
    cr_assert_eq(airsrt_shm_name_validate(
        "0123456789012345678901234567890123456789012345678901234567890123"),
        -EINVAL);
}

Test(segment, create_refuses_bad_params_with_reason)
{
    struct airsrt_shm shm;
    struct airsrt_shm_params p = { .nworkers = 0 };

    cr_assert_eq(airsrt_shm_create(&shm, harness_name("p"), &p), -EINVAL);
    cr_assert(strstr(shm.err, "nworkers 0"), "%s", shm.err);
    p = (struct airsrt_shm_params){ .nworkers = 2, .ring_bytes = 5000 };
    cr_assert_eq(airsrt_shm_create(&shm, harness_name("p"), &p), -EINVAL);
    cr_assert(strstr(shm.err, "ring_bytes 5000"), "%s", shm.err);
    p = (struct airsrt_shm_params){ .nworkers = 2, .ring_bytes = 8192 };
    cr_assert_eq(airsrt_shm_create(&shm, harness_name("p"), &p), -EINVAL);
    cr_assert(strstr(shm.err, "cannot hold two envelopes"), "%s", shm.err);
    p = (struct airsrt_shm_params){ .nworkers = 2,
                                    .actors_max = AIRSRT_MAX_ACTOR_SLOT + 1 };
    cr_assert_eq(airsrt_shm_create(&shm, harness_name("p"), &p), -EINVAL);
    cr_assert(strstr(shm.err, "actors_max 16777216"), "%s", shm.err);
    cr_assert_eq(airsrt_shm_create(&shm, "bad/name", &p), -EINVAL);
    cr_assert(strstr(shm.err, "invalid runtime name"), "%s", shm.err);
}

/* ---- inject: flags are fixed at creation; unknown ones are refused ---- */
Test(segment, params_check_refuses_unknown_flags)
{
    struct airsrt_shm_params p = { .nworkers = 2,
                                   .flags = AIRSRT_SHM_F_ALL + 1 };
    char err[AIRSRT_SHM_ERR_MAX] = "";

    cr_assert_eq(airsrt_shm_params_check(&p, err, sizeof(err)), -EINVAL);
    cr_assert(strstr(err, "unknown segment flags 0x2"), "%s", err);
    p = (struct airsrt_shm_params){ .nworkers = 2, .flags = UINT32_MAX };
    cr_assert_eq(airsrt_shm_params_check(&p, err, sizeof(err)), -EINVAL);
    p = (struct airsrt_shm_params){
        .nworkers = 2, .flags = AIRSRT_SHM_F_FAULT_INJECTION };
    cr_assert_eq(airsrt_shm_params_check(&p, err, sizeof(err)), 0, "%s",
                 err);
}

Test(segment, creates_mode_0600_and_attaches_by_name)
{
    struct airsrt_shm other;
    struct stat st;

    harness_segment(3, 0, true);
    cr_assert_eq(fstat(harness_shm.fd, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(airsrt_shm_attach(&other, harness_name("seg")), 0, "%s",
                 other.err);
    cr_assert_eq(other.params.nworkers, 3);
    cr_assert_eq(other.hdr->owner_pid, getpid());
    cr_assert_eq(memcmp(&other.layout, &harness_shm.layout,
                        sizeof(other.layout)), 0);
    airsrt_shm_detach(&other);
}

Test(segment, stamps_its_creation_with_the_wall_clock)
{
    uint64_t before = airsrt_realtime_ns(), after, created;
    time_t now = time(NULL);

    harness_segment(2, 0, false);
    after = airsrt_realtime_ns();
    created = harness_shm.hdr->created_realtime_ns;
    cr_assert(created >= before && created <= after, "%lu not in [%lu, %lu]",
              (unsigned long)created, (unsigned long)before,
              (unsigned long)after);
    /* The wall clock, not CLOCK_MONOTONIC (time since boot). */
    cr_assert(before / 1000000000u + 2 >= (uint64_t)now &&
              (uint64_t)now + 2 >= before / 1000000000u);
}

/* ---- airsrt-ctl: read-only attach ---- */
Test(segment, attach_ro_maps_the_segment_read_only, .timeout = 10)
{
    struct airsrt_shm ro;
    pid_t pid;
    int status;

    harness_segment(2, 0, true);
    cr_assert_eq(airsrt_shm_attach_ro(&ro, harness_name("seg")), 0, "%s",
                 ro.err);
    cr_assert(ro.is_ro);
    cr_assert_eq(memcmp(&ro.layout, &harness_shm.layout, sizeof(ro.layout)),
                 0);
    cr_assert_eq(airsrt_shm_postmortem(&ro, 1)->deaths, 0);
    pid = harness_fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        ((volatile uint8_t *)airsrt_shm_postmortem(&ro, 0))[0] = 1;
        harness_exit(0);
    }
    status = harness_wait(pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
              "status %#x", status);
    airsrt_shm_detach(&ro);
}

Test(segment, attach_fd_takes_an_inherited_descriptor)
{
    struct airsrt_shm w;
    int fd;

    harness_segment(2, 0, false);
    fd = dup(harness_shm.fd);
    cr_assert_eq(airsrt_shm_attach_fd(&w, fd), 0, "%s", w.err);
    cr_assert_eq(w.params.nworkers, 2);
    airsrt_shm_detach(&w);
    cr_assert_eq(fcntl(fd, F_GETFD), -1, "detach must close the fd");
}

Test(segment, refuses_a_second_creator_while_owner_lives)
{
    struct airsrt_shm second;
    struct airsrt_shm_params p = { .nworkers = 2 };
    char pid[32];

    harness_segment(2, 0, true);
    cr_assert_eq(airsrt_shm_create(&second, harness_name("seg"), &p), -EBUSY);
    snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
    cr_assert(strstr(second.err, pid), "%s", second.err);
    cr_assert_eq(second.base, NULL);
    /* The refusal left the owner's segment alone. */
    cr_assert_eq(harness_shm.hdr->magic, AIRSRT_SHM_MAGIC);
    cr_assert_eq(airsrt_shm_attach(&second, harness_name("seg")), 0);
    airsrt_shm_detach(&second);
}

Test(segment, reclaims_leftover_of_dead_owner, .timeout = 10)
{
    struct airsrt_shm_params p = { .nworkers = 2 };
    char name[64];
    struct airsrt_shm peek;
    pid_t pid;

    /* The child's name must be ours: harness_name() depends on the pid. */
    strlcpy(name, harness_name("seg"), sizeof(name));
    pid = harness_fork();
    if (pid == 0) {
        struct airsrt_shm dead;

        /* Creates and dies without cleaning up, as a crash would. */
        harness_exit(airsrt_shm_create(&dead, name, &p) == 0 ? 0 : 1);
    }
    cr_assert_eq(WEXITSTATUS(harness_wait(pid)), 0);
    cr_assert_eq(airsrt_shm_attach(&peek, name), 0, "no leftover to reclaim");
    cr_assert_eq(peek.hdr->owner_pid, pid);
    airsrt_shm_detach(&peek);
    cr_assert_eq(airsrt_shm_create(&harness_shm, name, &p), 0,
                 "%s", harness_shm.err);
    cr_assert_eq(harness_shm.hdr->owner_pid, getpid());
}

Test(segment, attach_reports_missing_runtime)
{
    struct airsrt_shm shm;

    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("none")), -ENOENT);
    cr_assert(strstr(shm.err, "no runtime named"), "%s", shm.err);
}

/* A segment-shaped object made by hand under the runtime's name. */
static void plant(const char *tag, const void *bytes, size_t len, size_t size)
{
    char path[96];
    int fd;

    snprintf(path, sizeof(path), "/airsrt.%s", harness_name(tag));
    fd = shm_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, (off_t)size), 0);
    cr_assert_eq(pwrite(fd, bytes, len, 0), (ssize_t)len);
    close(fd);
}

static void unplant(const char *tag)
{
    char path[96];

    snprintf(path, sizeof(path), "/airsrt.%s", harness_name(tag));
    shm_unlink(path);
}

Test(segment, attach_rejects_too_small_segment)
{
    struct airsrt_shm shm;

    plant("small", "x", 1, 10);
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("small")), -EPROTO);
    unplant("small");
    cr_assert(strstr(shm.err, "too small"), "%s", shm.err);
}

Test(segment, attach_rejects_foreign_segment)
{
    struct airsrt_shm shm;
    char junk[4096];

    memset(junk, 'z', sizeof(junk));
    plant("foreign", junk, sizeof(junk), 1 << 20);
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("foreign")), -EPROTO);
    unplant("foreign");
    cr_assert(strstr(shm.err, "not an airsrt segment"), "%s", shm.err);
}

Test(segment, create_refuses_to_reclaim_foreign_segment)
{
    struct airsrt_shm shm;
    struct airsrt_shm_params p = { .nworkers = 2 };
    char junk[64];

    memset(junk, 'z', sizeof(junk));
    plant("foreign2", junk, sizeof(junk), 4096);
    cr_assert_eq(airsrt_shm_create(&shm, harness_name("foreign2"), &p), -EEXIST);
    unplant("foreign2");
    cr_assert(strstr(shm.err, "not an airsrt segment"), "%s", shm.err);
}

Test(segment, attach_rejects_other_layout_version)
{
    struct airsrt_shm shm;
    char want[32];

    harness_segment(2, 0, true);
    harness_shm.hdr->version = AIRSRT_SHM_VERSION + 1;
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("seg")), -EPROTONOSUPPORT);
    snprintf(want, sizeof(want), "layout version %u", AIRSRT_SHM_VERSION + 1);
    cr_assert(strstr(shm.err, want), "%s", shm.err);
}

Test(segment, attach_rejects_header_with_lying_layout)
{
    struct airsrt_shm shm;

    harness_segment(2, 0, true);
    harness_shm.hdr->layout.outbound_off += 4096;
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("seg")), -EPROTO);
    cr_assert(strstr(shm.err, "corrupt header"), "%s", shm.err);
    harness_shm.hdr->layout.outbound_off -= 4096;
    harness_shm.hdr->params.nworkers = 500;
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("seg")), -EPROTO);
}

Test(segment, attach_rejects_header_naming_another_runtime)
{
    struct airsrt_shm shm;
    int fd;

    harness_segment(2, 0, true);
    strlcpy(harness_shm.hdr->name, "other", sizeof(harness_shm.hdr->name));
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("seg")), -EPROTO);
    cr_assert(strstr(shm.err, "corrupt header (name)"), "%s", shm.err);
    /* By descriptor there is no name to compare, but it must be one. */
    strlcpy(harness_shm.hdr->name, "a b", sizeof(harness_shm.hdr->name));
    fd = dup(harness_shm.fd);
    cr_assert_eq(airsrt_shm_attach_fd(&shm, fd), -EPROTO);
    strlcpy(harness_shm.hdr->name, harness_name("seg"),
            sizeof(harness_shm.hdr->name));
}

Test(segment, destroy_removes_the_name)
{
    struct airsrt_shm shm;

    harness_segment(2, 0, true);
    cr_assert_eq(airsrt_shm_destroy(&harness_shm), 0);
    cr_assert_eq(airsrt_shm_attach(&shm, harness_name("seg")), -ENOENT);
}

/* Regions, in layout order, must be page-aligned and disjoint. */
Test(segment, lays_out_page_aligned_disjoint_regions)
{
    const struct airsrt_shm_layout *l;
    long page = sysconf(_SC_PAGESIZE);

    harness_segment(5, 1 << 16, false);
    l = &harness_shm.layout;
    uint64_t off[] = { l->worker_sup_off, l->worker_self_off, l->outbound_off,
                       l->inbound_off, l->ctl_off, l->doorbell_off,
                       l->registry_off, l->actors_off, l->postmortem_off,
                       l->total_size };
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        cr_assert_eq(off[i] % (uint64_t)page, 0, "region %zu", i);
        if (i > 0)
            cr_assert_gt(off[i], off[i - 1], "region %zu", i);
    }
    cr_assert_eq(l->ctl_off - l->inbound_off, 5 * l->inbound_stride);
    cr_assert_geq(l->inbound_stride, 6 * sizeof(struct airsrt_ring_cons));
    cr_assert_eq(l->postmortem_off - l->actors_off, 5 * l->actors_stride);
    /* ---- airsrt-ctl: the postmortem records come last ---- */
    cr_assert_geq(l->total_size - l->postmortem_off,
                  5 * sizeof(struct airsrt_postmortem));
    cr_assert_geq(l->actors_stride, (AIRSRT_ACTORS_MAX_DEFAULT + 1) *
                                    sizeof(struct airsrt_actor_stats));
    cr_assert_eq(harness_shm.size, l->total_size);
    cr_assert_eq(airsrt_shm_registry(&harness_shm)->capacity,
                 AIRSRT_REGISTRY_CAP_DEFAULT);
}

Test(segment, accessors_refuse_out_of_range_index)
{
    struct airsrt_ring r;

    harness_segment(2, 0, false);
    cr_assert_null(airsrt_shm_worker_sup(&harness_shm, 2));
    cr_assert_null(airsrt_shm_worker_self(&harness_shm, 2));
    cr_assert_null(airsrt_shm_doorbell(&harness_shm, 2));
    cr_assert_null(airsrt_shm_actor_stats(&harness_shm, 2));
    cr_assert_null(airsrt_shm_postmortem(&harness_shm, 2));
    cr_assert_eq(airsrt_shm_data_ring(&harness_shm, 0, 2, &r), -EINVAL);
    cr_assert_eq(airsrt_shm_ctl_ring(&harness_shm, 2, &r), -EINVAL);
    cr_assert_eq(airsrt_shm_protect_for_worker(&harness_shm, 2), -EINVAL);
}

Test(segment, names_each_postmortem_reason_and_refuses_others)
{
    cr_assert_str_eq(airsrt_postmortem_reason_name(AIRSRT_PM_CRASHED),
                     "crashed");
    cr_assert_str_eq(airsrt_postmortem_reason_name(AIRSRT_PM_HANG), "hang");
    cr_assert_str_eq(airsrt_postmortem_reason_name(AIRSRT_PM_ESCALATED),
                     "escalated");
    /* A tool reads the reason from shared memory: any word may be there. */
    cr_assert_str_eq(airsrt_postmortem_reason_name(AIRSRT_PM_ESCALATED + 1),
                     "?");
    cr_assert_str_eq(airsrt_postmortem_reason_name(UINT32_MAX), "?");
}

/* ---- protection map ---- */

TestSuite(protect, .fini = harness_fini);

/* Runs fn in a child that took worker w's protection; returns its status. */
static int as_worker(uint32_t w, void (*fn)(void))
{
    pid_t pid = harness_fork();

    if (pid == 0) {
        if (airsrt_shm_protect_for_worker(&harness_shm, w) < 0)
            harness_exit(2);
        fn();
        harness_exit(0);
    }
    return harness_wait(pid);
}

static void write_own_regions(void)
{
    struct airsrt_ring out, in;
    struct harness_env h;
    struct airsrt_ring_view v;

    /* Worker 1: its outbound ring to 0, its inbound heads, its slot, a
     * doorbell of another worker, the registry. */
    airsrt_shm_data_ring(&harness_shm, 1, 0, &out);
    airsrt_ring_producer_attach(&out);
    harness_env_fill(&h, 1, 0, 64);
    if (airsrt_ring_push(&out, &h.env) != 0)
        harness_exit(3);
    airsrt_shm_data_ring(&harness_shm, 0, 1, &in);
    airsrt_ring_consumer_attach(&in);
    if (airsrt_ring_read(&in, &v, 1) != 1)
        harness_exit(4);
    airsrt_ring_release_all(&in);
    atomic_store(&airsrt_shm_worker_self(&harness_shm, 1)->heartbeat_ns, 1);
    atomic_store(&airsrt_shm_actor_stats(&harness_shm, 1)[7].handled, 1);
    airsrt_doorbell_ring(airsrt_shm_doorbell(&harness_shm, 0));
    atomic_store(&airsrt_shm_doorbell(&harness_shm, 0)->seq, 5);
    airsrt_shm_registry(&harness_shm)->count = 1;
}

Test(protect, worker_may_write_its_own_regions, .timeout = 10)
{
    struct airsrt_ring out;
    struct harness_env h;
    int status;

    harness_segment(3, 1 << 16, false);
    airsrt_shm_data_ring(&harness_shm, 0, 1, &out);
    airsrt_ring_producer_attach(&out);
    harness_env_fill(&h, 0, 0, 64);
    cr_assert_eq(airsrt_ring_push(&out, &h.env), 0);
    status = as_worker(1, write_own_regions);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "status %#x", status);
}

static void scribble_on_ring_0_to_2(void)
{
    struct airsrt_ring victim;

    airsrt_shm_data_ring(&harness_shm, 0, 2, &victim);
    memset(victim.buf, 0xAB, 64);
}

static void scribble_on_own_sup_slot(void)
{
    atomic_store(&airsrt_shm_worker_sup(&harness_shm, 1)->state, 99);
}

static void scribble_on_other_workers_actor_stats(void)
{
    atomic_store(&airsrt_shm_actor_stats(&harness_shm, 2)[1].handled, 1);
}

static void scribble_on_producer_tail(void)
{
    struct airsrt_ring victim;

    airsrt_shm_data_ring(&harness_shm, 2, 1, &victim);
    atomic_store(&victim.prod->tail, 12345);
}

/* ---- airsrt-ctl: the postmortem region is the supervisor's alone ---- */
static void scribble_on_own_postmortem(void)
{
    atomic_store(&airsrt_shm_postmortem(&harness_shm, 1)->deaths, 7);
}

static void scribble_on_other_workers_postmortem(void)
{
    airsrt_shm_postmortem(&harness_shm, 2)->reason = 7;
}

Test(protect, worker_cannot_write_any_postmortem_record, .timeout = 10)
{
    int status;

    harness_segment(3, 1 << 16, false);
    status = as_worker(1, scribble_on_own_postmortem);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
              "status %#x", status);
    status = as_worker(1, scribble_on_other_workers_postmortem);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
              "status %#x", status);
    cr_assert_eq(atomic_load(&airsrt_shm_postmortem(&harness_shm, 1)->deaths),
                 0);
    cr_assert_eq(airsrt_shm_postmortem(&harness_shm, 2)->reason, 0);
}

Test(protect, stray_write_into_other_workers_ring_faults_and_victim_is_intact,
     .timeout = 10)
{
    struct airsrt_ring p, c;
    struct harness_env h;
    struct airsrt_ring_view v[4];
    uint32_t producer;
    uint64_t seq;
    int status;

    harness_segment(3, 1 << 16, false);
    airsrt_shm_data_ring(&harness_shm, 0, 2, &p);
    airsrt_shm_data_ring(&harness_shm, 0, 2, &c);
    airsrt_ring_producer_attach(&p);
    airsrt_ring_consumer_attach(&c);
    for (uint64_t i = 0; i < 3; i++) {
        harness_env_fill(&h, 0, i, 64);
        cr_assert_eq(airsrt_ring_push(&p, &h.env), 0);
    }
    status = as_worker(1, scribble_on_ring_0_to_2);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
              "status %#x", status);
    cr_assert_eq(airsrt_ring_read(&c, v, 4), 3);
    for (uint64_t i = 0; i < 3; i++) {
        cr_assert(harness_env_check(v[i].env, v[i].payload_len, &producer, &seq));
        cr_assert_eq(seq, i);
    }
    cr_assert_eq(atomic_load(&c.cons->stats.corruptions), 0);
}

Test(protect, worker_cannot_write_supervisor_part_or_inbound_tail,
     .timeout = 10)
{
    int status;

    harness_segment(3, 1 << 16, false);
    status = as_worker(1, scribble_on_own_sup_slot);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    status = as_worker(1, scribble_on_producer_tail);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    status = as_worker(1, scribble_on_other_workers_actor_stats);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    cr_assert_eq(atomic_load(&airsrt_shm_worker_sup(&harness_shm, 1)->state), 0);
}
