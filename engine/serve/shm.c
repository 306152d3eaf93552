/*
 * engine/serve/shm.c — snapshot images in POSIX shared memory: publishing
 * generations, pinning them from other processes, reclaiming them.
 *
 * Does: create, validate and recover the control segment; write images into
 * image segments and switch the current generation; claim reader slots, pin
 * generations, map and validate images once per process and generation.
 * Does not: build or check image content (engine/image/snapshot.c validates every
 * image it is handed through cs_snapshot_from_memory), or answer queries
 * (engine/query/query.c reads the mapped image like any other). This is the only
 * module that calls shm_open, shm_unlink or mmap for segments.
 *
 * SEGMENTS. A service NAME has a control segment "/NAME" and one image
 * segment "/NAME.<generation>" (decimal) per live generation. Everything is
 * native byte order, which engine/image/snapshot.c already restricts to
 * little-endian; byte_order lets another machine refuse. Atomic fields are
 * C11 _Atomic objects of lock-free width (static_asserts below), which are
 * address-free, so two processes mapping the page at different addresses
 * operate on the same object.
 *
 * Control header, at offset 0 (256 bytes):
 *   OFFSET SIZE FIELD
 *        0    8 magic "CSSHMCTL" (atomic u64; stored last at creation)
 *        8    4 version (1)
 *       12    4 header_len (256)
 *       16    4 byte_order (0x01020304)
 *       20    2 slot_len (64)
 *       22    2 image_rec_len (16)
 *       24    2 atomic_len (8: sizeof an atomic u64)
 *       26    2 align (64)
 *       28    4 slot_count (1..4096)
 *       32    4 image_cap (slot_count + 2)
 *       36    4 mode (permission bits the creator asked for)
 *       40    8 generation (atomic u64): current generation, 0 = none yet
 *       48    8 image_len (atomic u64): bytes of the current image
 *       56    4 writer_pid (atomic i32): holder of the publish lock, 0 = free
 *       60    4 server_pid (atomic i32): the serving process, 0 = none
 *       64    8 created_unix
 *       72    8 published_unix (atomic u64)
 *       80    4 flags (atomic u32): bit 0 REMOVED (cs_shm_unlink ran)
 *       84    4 reserved (0)
 *       88    8 total_len: bytes of the whole segment
 *       96  160 reserved (0)
 * Reader slots, at 256, slot_count records of 64 bytes (one cache line
 * each, so readers pinning at once do not share lines):
 *        0    4 pid (atomic i32): owner, 0 = free
 *        4    4 reserved (0)
 *        8    8 gen (atomic u64): pinned generation, 0 = none (claiming)
 *       16   48 reserved (0)
 * Image table, at 256 + 64 * slot_count, image_cap records of 16 bytes:
 *        0    8 gen (atomic u64): a generation whose segment may exist,
 *                 0 = free record
 *        8    8 len (atomic u64): its image bytes
 * Image segment: a snapshot image exactly as engine/image/snapshot.c documents
 * it, with its generation field (offset 32) set to the segment's generation.
 *
 * INVARIANTS. Generations only grow: the next is always current + 1, so an
 * image segment with a generation above current is an orphan of a publish
 * that crashed before its store. Every image segment that may exist is in
 * the image table (recorded before it is created, erased after it is
 * unlinked). Live images are the current one, the one being written, and at
 * most one per pinned slot, hence image_cap = slot_count + 2. A slot with
 * pid 0 has gen 0.
 *
 * CONCURRENCY. One publish at a time, serialised by writer_pid (a lock a
 * crashed holder's successor takes over: kill(pid, 0) == ESRCH). The lock
 * holder alone writes generation, image_len, published_unix, the image
 * table and image segments. Readers write only their own slot.
 *
 * Publication order (cs_shm_publish), each step a hook point of
 * cs_shm_publish_hooked (shm_internal.h):
 *   1. writer_pid: CAS 0 (or a dead pid) -> us, acq_rel (lock acquire).
 *   2. unlink "/NAME.<cur+1>" and table records above cur (orphans).
 *   3. image table: record (cur+1, len), relaxed (read under the lock).
 *   4. shm_open(O_CREAT | O_EXCL), fchmod.
 *   5-6. write(): the header with generation = cur+1 stamped, then the rest.
 *   7. generation = cur+1: ONE store, seq_cst. Release half: everything
 *      above (segment bytes, table, image_len) happens-before any reader
 *      that loads the new value. Seq_cst half: see the pin race below.
 *   8. reclaim: dead readers' slots cleared; for each recorded generation
 *      other than the current one, scan every slot.gen (seq_cst loads); if
 *      no slot pins it, shm_unlink it and erase the record.
 *   9. writer_pid = 0, release (lock release: the next holder sees 2-8).
 *
 * Pin order (cs_shm_pin), after LMDB's mdb_txn_renew0:
 *   a. slot: CAS pid 0 -> us, acquire (pairs with the release of pid 0 by
 *      the last owner, so its gen = 0 is seen).
 *   b. g = generation, acquire (pairs with 7: the image is complete).
 *   c. slot.gen = g, seq_cst.
 *   d. generation again, seq_cst; if it is no longer g, go to b.
 *   e. map "/NAME.<g>" if this process has not (see MAPPINGS); or, when
 *      another thread of the attachment is mapping it right now (or for
 *      cs_shm_pin_mapped), use the newest generation already mapped and
 *      set slot.gen to it (release). Mapped memory outlives the unlink of
 *      its segment, so that needs no protocol: the slot only informs.
 * The pin race: c and d are seq_cst, as are 7 and 8's loads. If d still
 * reads g, then d precedes 7 in the single order S of seq_cst operations;
 * c precedes d and 7 precedes 8, so c precedes 8's loads, which therefore
 * see slot.gen == g and keep g's segment. If instead 7 precedes d, the
 * reader retries with the new generation and never opens g. Either way no
 * segment is unlinked between a successful d and the open in e. (A
 * segment that vanished anyway — removed by hand, or by cs_shm_unlink —
 * is reported, or retried when the generation moved on.)
 * Unpin: slot.gen = 0 then slot.pid = 0, both release (all reads of the
 * image happen before the slot is seen free).
 *
 * Dead readers: whoever finds a slot whose pid is dead CASes pid to its own
 * pid (acq_rel), stores gen = 0, and then either keeps the slot (a reader
 * short of slots) or stores pid = 0, release (a publisher). The CAS makes
 * the clean-up exclusive; a clean-up interrupted by a crash leaves a dead
 * pid, which is cleaned up again later. A pid reused by an unrelated
 * process only keeps a generation alive longer.
 *
 * MAPPINGS (process-local). An attachment keeps up to SHM_MAPS mapped
 * generations, each an entry {gen, refs, snapshot}; `cur` points at the
 * entry of the newest. Fast path of e (no lock, no system call): entry =
 * cur (acquire); if entry.gen == g: refs += 1 (seq_cst), then re-read cur
 * and entry.gen (seq_cst); if both still match, use it, else refs -= 1 and
 * take the slow path. Slow path: reuse an entry of g; else map and
 * validate the segment with no lock held, then, under the attachment's
 * mutex, insert it (publishing entry.gen, release, then cur, seq_cst) unless
 * another thread inserted g first, and take out every entry that is not cur
 * and has refs == 0 (seq_cst load), clearing its gen first; the unmaps run
 * after the mutex is released. So the mutex only guards table updates, and
 * a thread is never held up by another's system calls. `mapping` (relaxed,
 * a hint) names a generation some thread is mapping; meanwhile other
 * threads pin `cur` rather than validate the same image again, so `cur`
 * only moves forward and successive pins never go back in generation.
 * Validation costs time in the image size (about 20 ms for a 1M-entry
 * image): cs_shm_refresh lets a caller's own thread pay it ahead, and
 * cs_shm_pin_mapped never pays it once anything is mapped. The fast path's
 * increment-then-recheck against the unmapper's move-of-cur-then-check-
 * refs is the same store/load pattern as the pin race: one of the two sees
 * the other. Entries are never freed before detach, only their mappings,
 * so a stale entry pointer is always safe to read.
 *
 * Creation: shm_open(O_CREAT | O_EXCL) decides one creator; it sizes and
 * fills the header, then stores magic (release); attachers load magic
 * (acquire) first. A segment whose magic stays 0 for 200 ms is a crashed
 * creation: attachers report it as not found, a publisher replaces it.
 *
 * References: LMDB (libraries/liblmdb/mdb.c: MDB_txninfo, mdb_txn_renew0,
 * mdb_reader_check), POSIX shm_open(3), C11 7.17 (atomics, 7.17.3 order S).
 * Tests: tests/test_shm.c.
 */
#include "serve/shm_internal.h"

#include "core/error_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free to live in shared memory");
static_assert(ATOMIC_LONG_LOCK_FREE == 2 || sizeof(long) != 8, "64-bit atomics must be lock-free");
static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free to live in shared memory");
static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "pointer atomics must be lock-free");
static_assert(sizeof(pid_t) == 4, "pids are stored as 32-bit");

#define CTL_MAGIC 0x4c54434d48535343ull /* "CSSHMCTL" little-endian */
#define CTL_VERSION 1u
#define CTL_HEADER_LEN 256u
#define CTL_BYTE_ORDER 0x01020304u
#define CTL_ALIGN 64u
#define CTL_REMOVED 1u
#define IMAGE_HEADER_LEN 128u
#define IMAGE_GEN_OFF 32u
#define SHM_MAPS 64u
#define READY_WAIT_MS 200u
#define DEFAULT_WAIT_MS 5000u
#define SEG_NAME_CAP (CS_SHM_NAME_MAX + 32u)

typedef struct shm_ctl {
    _Atomic uint64_t magic;
    uint32_t version;
    uint32_t header_len;
    uint32_t byte_order;
    uint16_t slot_len;
    uint16_t image_rec_len;
    uint16_t atomic_len;
    uint16_t align;
    uint32_t slot_count;
    uint32_t image_cap;
    uint32_t mode;
    _Atomic uint64_t generation;
    _Atomic uint64_t image_len;
    _Atomic int32_t writer_pid;
    _Atomic int32_t server_pid;
    uint64_t created_unix;
    _Atomic uint64_t published_unix;
    _Atomic uint32_t flags;
    uint32_t reserved0;
    uint64_t total_len;
    uint8_t reserved1[160];
} shm_ctl;
static_assert(sizeof(shm_ctl) == CTL_HEADER_LEN, "control header is 256 bytes");
static_assert(offsetof(shm_ctl, generation) == 40, "generation at 40");
static_assert(offsetof(shm_ctl, writer_pid) == 56, "writer_pid at 56");
static_assert(offsetof(shm_ctl, flags) == 80, "flags at 80");
static_assert(offsetof(shm_ctl, total_len) == 88, "total_len at 88");
static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 is 8 bytes");
static_assert(sizeof(_Atomic int32_t) == 4, "atomic i32 is 4 bytes");

typedef struct shm_slot {
    _Atomic int32_t pid;
    uint32_t reserved0;
    _Atomic uint64_t gen;
    uint8_t reserved1[48];
} shm_slot;
static_assert(sizeof(shm_slot) == 64, "a reader slot is one 64-byte line");

typedef struct shm_imgrec {
    _Atomic uint64_t gen;
    _Atomic uint64_t len;
} shm_imgrec;
static_assert(sizeof(shm_imgrec) == 16, "an image record is 16 bytes");

/* A mapped control segment, as both readers and publishers see it. The
 * counts are copied at validation and never re-read from shared memory. */
typedef struct shm_view {
    shm_ctl *ctl;
    size_t len;
    shm_slot *slots;
    shm_imgrec *images;
    uint32_t slot_count;
    uint32_t image_cap;
    int32_t pid;                    /* getpid() at attach/open */
    char name[CS_SHM_NAME_MAX + 2]; /* "/NAME" */
} shm_view;

/* One mapped generation of an attachment (see MAPPINGS above). */
typedef struct shm_map {
    _Atomic uint64_t gen;   /* 0 = entry holds no mapping */
    _Atomic uint32_t refs;  /* pins of this process using it */
    cs_snapshot *snap;      /* written under the lock before gen */
    void *base;
    size_t len;
} shm_map;

struct cs_shm {
    shm_view v;
    unsigned flags;              /* CS_OPEN_NO_VERIFY */
    pthread_mutex_t lock;        /* slow path of pin: map, unmap */
    _Atomic(shm_map *) cur;      /* entry of the newest mapped generation */
    _Atomic uint64_t mapping;    /* a generation a thread is mapping, 0 = none */
    shm_map maps[SHM_MAPS];
};

struct cs_shm_publisher {
    shm_view v;
    unsigned mode;
    uint32_t wait_ms;
    bool serving;
    bool removed;
};

/* A thread's last reader slot: where its next claim starts, so a thread
 * tends to reuse one slot (one cache line) as LMDB's thread-bound slots do. */
static _Thread_local uint32_t slot_hint;

/* ---- small helpers -------------------------------------------------------- */

static size_t ctl_size(uint32_t slots)
{
    size_t n = CTL_HEADER_LEN + (size_t)slots * sizeof(shm_slot) +
               (size_t)(slots + 2) * sizeof(shm_imgrec);
    return (n + CTL_ALIGN - 1) & ~(size_t)(CTL_ALIGN - 1);
}

static bool pid_alive(int32_t pid)
{
    if (pid <= 0)
        return false;
    if (kill((pid_t)pid, 0) == 0)
        return true;
    return errno != ESRCH; /* EPERM: alive, another user's */
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static int sys_fail(cs_error *err, int code, const char *seg, const char *what)
{
    int e = errno;
    cs_error_source(err, seg);
    return cs_fail(err, code, "%s %s: %s", what, seg, strerror(e));
}

/* Checks NAME and writes "/NAME" into out (CS_SHM_NAME_MAX + 2 bytes). */
static int make_name(const char *name, char *out, cs_error *err)
{
    if (!name)
        return cs_fail(err, CS_EINVAL, "NULL service name");
    if (name[0] == '/')
        name++;
    size_t n = strlen(name);
    if (n == 0 || n > CS_SHM_NAME_MAX)
        return cs_fail(err, CS_EINVAL, "service name must have 1 to %u characters", CS_SHM_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return cs_fail(err, CS_EINVAL, "service name '%s': character %zu is not a letter, digit, '-', '_' or '.'",
                           name, i + 1);
    }
    if (name[0] == '.')
        return cs_fail(err, CS_EINVAL, "service name '%s' starts with '.'", name);
    /* "vpcs.7" would be generation 7 of service "vpcs". */
    size_t d = n;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    if (d < n && d > 0 && name[d - 1] == '.')
        return cs_fail(err, CS_EINVAL, "service name '%s' ends in '.' and digits, like an image segment", name);
    out[0] = '/';
    memcpy(out + 1, name, n + 1);
    return 0;
}

static void seg_name(const shm_view *v, uint64_t gen, char *buf)
{
    snprintf(buf, SEG_NAME_CAP, "%s.%llu", v->name, (unsigned long long)gen);
}

static void view_layout(shm_view *v, void *base, size_t len, uint32_t slots)
{
    v->ctl = base;
    v->len = len;
    v->slots = (shm_slot *)((uint8_t *)base + CTL_HEADER_LEN);
    v->images = (shm_imgrec *)((uint8_t *)base + CTL_HEADER_LEN + (size_t)slots * sizeof(shm_slot));
    v->slot_count = slots;
    v->image_cap = slots + 2;
}

enum { NOT_READY = 1 };

/*
 * Maps an existing control segment (fd) and checks it. Returns 0 with v
 * filled, NOT_READY (empty, or magic not stored yet: a creation in progress
 * or crashed), or CS_ECORRUPT / CS_EVERSION / CS_EIO.
 */
static int ctl_map(shm_view *v, int fd, cs_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sys_fail(err, CS_EIO, v->name, "fstat");
    size_t len = (size_t)st.st_size;
    if (len == 0)
        return NOT_READY;
    if (len < CTL_HEADER_LEN) {
        cs_error_source(err, v->name);
        return cs_fail(err, CS_ECORRUPT, "control segment %s is %zu bytes, shorter than its %u-byte header",
                       v->name, len, CTL_HEADER_LEN);
    }
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return sys_fail(err, CS_EIO, v->name, "mmap");
    shm_ctl *c = m;
    int rc = 0;
    /* acquire: pairs with the creator's release store of magic, so the
     * header read below is the complete one. */
    uint64_t magic = atomic_load_explicit(&c->magic, memory_order_acquire);
    if (magic == 0) {
        rc = NOT_READY;
    } else if (magic != CTL_MAGIC) {
        rc = cs_fail(err, CS_ECORRUPT, "%s is not a cidrscope control segment (bad magic)", v->name);
    } else if (c->byte_order != CTL_BYTE_ORDER) {
        rc = cs_fail(err, CS_EVERSION, "control segment %s has another byte order", v->name);
    } else if (c->version != CTL_VERSION) {
        rc = cs_fail(err, CS_EVERSION, "control segment %s has version %u; this build reads version %u",
                     v->name, c->version, CTL_VERSION);
    } else if (c->header_len != CTL_HEADER_LEN || c->slot_len != sizeof(shm_slot) ||
               c->image_rec_len != sizeof(shm_imgrec) || c->atomic_len != sizeof(_Atomic uint64_t) ||
               c->align != CTL_ALIGN) {
        rc = cs_fail(err, CS_EVERSION,
                     "control segment %s layout (header %u, slot %u, record %u, atomic %u, align %u) differs from this build's",
                     v->name, c->header_len, c->slot_len, c->image_rec_len, c->atomic_len, c->align);
    } else if (c->slot_count == 0 || c->slot_count > CS_SHM_MAX_READERS ||
               c->image_cap != c->slot_count + 2 || c->total_len != ctl_size(c->slot_count)) {
        rc = cs_fail(err, CS_ECORRUPT, "control segment %s: bad slot count %u or size fields",
                     v->name, c->slot_count);
    } else if (len < ctl_size(c->slot_count)) {
        rc = cs_fail(err, CS_ECORRUPT, "control segment %s truncated: %zu bytes, needs %zu",
                     v->name, len, ctl_size(c->slot_count));
    }
    if (rc) {
        munmap(m, len);
        if (rc < 0)
            cs_error_source(err, v->name);
        return rc;
    }
    view_layout(v, m, len, c->slot_count);
    return 0;
}

/* Opens and maps the existing control segment of v->name, waiting up to
 * READY_WAIT_MS for a creation in progress. Returns 0, NOT_READY (still not
 * initialised), CS_ENOTFOUND, or ctl_map's errors. */
static int ctl_open(shm_view *v, cs_error *err)
{
    uint64_t deadline = now_ms() + READY_WAIT_MS;
    for (;;) {
        int fd = shm_open(v->name, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            if (errno == ENOENT) {
                cs_error_source(err, v->name);
                return cs_fail(err, CS_ENOTFOUND, "no shared-memory service '%s' (no segment %s)",
                               v->name + 1, v->name);
            }
            return sys_fail(err, CS_EIO, v->name, "shm_open");
        }
        int rc = ctl_map(v, fd, err);
        close(fd);
        if (rc != NOT_READY || now_ms() >= deadline)
            return rc;
        sleep_ms(2);
    }
}

/* ---- readers -------------------------------------------------------------- */

int cs_shm_attach(const char *name, unsigned flags, cs_shm **out, cs_error *err)
{
    if (!out)
        return cs_fail(err, CS_EINVAL, "NULL out");
    *out = NULL;
    cs_shm *h = calloc(1, sizeof *h);
    if (!h)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    int rc = make_name(name, h->v.name, err);
    if (rc == 0)
        rc = ctl_open(&h->v, err);
    if (rc == NOT_READY) {
        cs_error_source(err, h->v.name);
        rc = cs_fail(err, CS_ENOTFOUND, "shared-memory service '%s' is not initialised (its publisher is starting, or crashed while creating it)",
                     h->v.name + 1);
    }
    if (rc == 0 && pthread_mutex_init(&h->lock, NULL) != 0) {
        munmap(h->v.ctl, h->v.len);
        rc = cs_fail(err, CS_ENOMEM, "pthread_mutex_init failed");
    }
    if (rc) {
        free(h);
        return rc;
    }
    h->v.pid = (int32_t)getpid();
    h->flags = flags & CS_OPEN_NO_VERIFY;
    for (unsigned i = 0; i < SHM_MAPS; i++) {
        atomic_init(&h->maps[i].gen, 0);
        atomic_init(&h->maps[i].refs, 0);
    }
    atomic_init(&h->cur, NULL);
    atomic_init(&h->mapping, 0);
    *out = h;
    return 0;
}

static int claim_slot(cs_shm *h, uint32_t *out, cs_error *err)
{
    uint32_t n = h->v.slot_count, start = slot_hint % n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (start + i) % n;
        shm_slot *sl = &h->v.slots[s];
        int32_t zero = 0;
        /* relaxed peek, then CAS acquire: pairs with the release store of
         * pid = 0 by the slot's last owner (its gen = 0 is then seen). */
        if (atomic_load_explicit(&sl->pid, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&sl->pid, &zero, h->v.pid, memory_order_acquire,
                                                    memory_order_relaxed)) {
            slot_hint = s;
            *out = s;
            return 0;
        }
    }
    /* Every slot is held: take one of a dead process (system calls, but only
     * when the table is full). */
    for (uint32_t s = 0; s < n; s++) {
        shm_slot *sl = &h->v.slots[s];
        /* relaxed: the CAS below decides; a stale value only fails it. */
        int32_t o = atomic_load_explicit(&sl->pid, memory_order_relaxed);
        if (o != 0 && o != h->v.pid && !pid_alive(o) &&
            atomic_compare_exchange_strong_explicit(&sl->pid, &o, h->v.pid, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            /* relaxed: the slot is ours; our seq_cst store of the pinned
             * generation comes next and orders it. */
            atomic_store_explicit(&sl->gen, 0, memory_order_relaxed);
            slot_hint = s;
            *out = s;
            return 0;
        }
    }
    cs_error_source(err, h->v.name);
    return cs_fail(err, CS_EBUSY, "all %u reader slots of %s are held by live processes", n, h->v.name);
}

static void release_slot(cs_shm *h, uint32_t s)
{
    shm_slot *sl = &h->v.slots[s];
    /* release, both: every read of the pinned image happens before the
     * publisher can see the slot unpinned; gen = 0 is visible to whoever
     * claims the slot next (its acquire CAS on pid). */
    atomic_store_explicit(&sl->gen, 0, memory_order_release);
    atomic_store_explicit(&sl->pid, 0, memory_order_release);
}

/* A mapping taken out of (or not yet put in) an entry: unmapped after the
 * lock is released, so the lock is only ever held for table updates. */
typedef struct shm_victim {
    cs_snapshot *snap;
    void *base;
    size_t len;
} shm_victim;

static void victim_release(shm_victim *v)
{
    cs_snapshot_close(v->snap);
    munmap(v->base, v->len);
}

/* Takes entry m's mapping out into *v (lock held, refs 0, not cur). */
static void map_take(shm_map *m, shm_victim *v)
{
    /* seq_cst: a fast path that took m before it stopped being cur re-reads
     * gen after its increment and backs off. */
    atomic_store_explicit(&m->gen, 0, memory_order_seq_cst);
    *v = (shm_victim){m->snap, m->base, m->len};
    m->snap = NULL;
    m->base = NULL;
    m->len = 0;
}

/* Takes out every mapping that is not cur and no pin uses (lock held).
 * Returns how many went into victims[]. */
static unsigned map_gc(cs_shm *h, shm_victim *victims)
{
    unsigned n = 0;
    /* relaxed: cur is only stored under the lock we hold. */
    shm_map *cur = atomic_load_explicit(&h->cur, memory_order_relaxed);
    for (unsigned i = 0; i < SHM_MAPS; i++) {
        shm_map *m = &h->maps[i];
        /* relaxed gen: written only under the lock. seq_cst refs: pairs
         * with the fast path's seq_cst increment and re-read of cur (one of
         * the two sees the other), and acquires the release decrements of
         * unpin (queries on the image happen before the munmap). */
        if (m != cur && atomic_load_explicit(&m->gen, memory_order_relaxed) != 0 &&
            atomic_load_explicit(&m->refs, memory_order_seq_cst) == 0)
            map_take(m, &victims[n++]);
    }
    return n;
}

/* The entry of generation g with one reference taken, or NULL (lock held). */
static shm_map *map_find(cs_shm *h, uint64_t g)
{
    for (unsigned i = 0; i < SHM_MAPS; i++) {
        shm_map *m = &h->maps[i];
        /* relaxed: gen is only written under the lock we hold. */
        if (atomic_load_explicit(&m->gen, memory_order_relaxed) == g) {
            /* relaxed: under the lock no unmapping can race this. */
            atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
            return m;
        }
    }
    return NULL;
}

enum { MAP_RETRY = 1 };

/* Opens, maps and validates the image segment of generation g (no lock
 * held: the system calls and checksums run outside it). Returns 0 with *out,
 * MAP_RETRY (the segment is gone because the generation moved on), or an
 * error naming the segment. */
static int map_open(cs_shm *h, uint64_t g, shm_victim *out, cs_error *err)
{
    char seg[SEG_NAME_CAP];
    seg_name(&h->v, g, seg);
    int fd = shm_open(seg, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        if (errno != ENOENT)
            return sys_fail(err, CS_EIO, seg, "shm_open");
        /* acquire: as the pin's first load. */
        if (atomic_load_explicit(&h->v.ctl->flags, memory_order_acquire) & CTL_REMOVED) {
            cs_error_source(err, h->v.name);
            return cs_fail(err, CS_ENOTFOUND, "shared-memory service '%s' was removed", h->v.name + 1);
        }
        if (atomic_load_explicit(&h->v.ctl->generation, memory_order_acquire) != g)
            return MAP_RETRY;
        cs_error_source(err, seg);
        return cs_fail(err, CS_ECORRUPT, "image segment %s of the current generation is missing", seg);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = sys_fail(err, CS_EIO, seg, "fstat");
        close(fd);
        return rc;
    }
    size_t len = (size_t)st.st_size;
    if (len < IMAGE_HEADER_LEN) {
        close(fd);
        cs_error_source(err, seg);
        return cs_fail(err, CS_ECORRUPT, "image segment %s of %zu bytes is shorter than an image header", seg, len);
    }
    void *base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return sys_fail(err, CS_EIO, seg, "mmap");
    cs_snapshot *snap = NULL;
    int rc = cs_snapshot_from_memory(base, len, h->flags, &snap, err);
    if (rc == 0) {
        cs_snapshot_info info;
        cs_snapshot_get_info(snap, &info);
        if (info.generation != g) {
            cs_snapshot_close(snap);
            rc = cs_fail(err, CS_ECORRUPT, "image segment %s carries generation %llu", seg,
                         (unsigned long long)info.generation);
        }
    }
    if (rc) {
        munmap(base, len);
        cs_error_source(err, seg);
        return rc;
    }
    *out = (shm_victim){snap, base, len};
    return 0;
}

/* Slow path of map_get: an entry another thread made, or a new mapping.
 * The lock is held twice, briefly: to look, and to insert (looking again,
 * since another thread may have mapped g meanwhile; then ours is dropped). */
static int map_slow(cs_shm *h, uint64_t g, shm_map **out, bool *mapped, cs_error *err)
{
    pthread_mutex_lock(&h->lock);
    shm_map *m = map_find(h, g);
    pthread_mutex_unlock(&h->lock);
    if (m) {
        *out = m;
        return 0;
    }
    shm_victim fresh;
    int rc = map_open(h, g, &fresh, err);
    if (rc)
        return rc;
    shm_victim victims[SHM_MAPS];
    unsigned nv = 0;
    pthread_mutex_lock(&h->lock);
    m = map_find(h, g);
    if (m) {
        victims[nv++] = fresh;
    } else {
        nv = map_gc(h, victims);
        for (unsigned i = 0; i < SHM_MAPS && !m; i++) {
            shm_map *e = &h->maps[i];
            /* refs may be briefly non-zero on a free entry: a fast path
             * about to back off. Skip those rather than wait. */
            if (atomic_load_explicit(&e->gen, memory_order_relaxed) == 0 &&
                atomic_load_explicit(&e->refs, memory_order_relaxed) == 0)
                m = e;
        }
        if (!m) {
            victims[nv++] = fresh;
            rc = cs_fail(err, CS_EBUSY, "this process pins %u generations of %s at once; unpin some",
                         SHM_MAPS, h->v.name);
        } else {
            m->snap = fresh.snap;
            m->base = fresh.base;
            m->len = fresh.len;
            /* relaxed: we hold the lock, and gen (below) publishes m. */
            atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
            /* release: a fast path that reads gen (acquire) sees snap. */
            atomic_store_explicit(&m->gen, g, memory_order_release);
            shm_map *cur = atomic_load_explicit(&h->cur, memory_order_relaxed);
            if (!cur || atomic_load_explicit(&cur->gen, memory_order_relaxed) < g)
                /* seq_cst: the old cur's unmapping (map_gc) comes after
                 * this store in S, so a fast path still holding the old
                 * cur sees it moved. */
                atomic_store_explicit(&h->cur, m, memory_order_seq_cst);
            *mapped = true;
        }
    }
    pthread_mutex_unlock(&h->lock);
    for (unsigned i = 0; i < nv; i++)
        victim_release(&victims[i]);
    if (rc)
        return rc;
    *out = m;
    return 0;
}

/* A reference on cur when its generation is `want` (0: whatever it is), or
 * NULL. The fast path: no lock, no system call. */
static shm_map *ref_cur(cs_shm *h, uint64_t want)
{
    /* acquire: pairs with the release store of the entry's gen (its
     * content) and the seq_cst store of cur. */
    shm_map *m = atomic_load_explicit(&h->cur, memory_order_acquire);
    if (!m)
        return NULL;
    uint64_t mg = atomic_load_explicit(&m->gen, memory_order_acquire);
    if (mg == 0 || (want && mg != want))
        return NULL;
    /* seq_cst increment then seq_cst re-reads: against map_gc's seq_cst
     * move of cur then seq_cst read of refs (see MAPPINGS). */
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&h->cur, memory_order_seq_cst) == m &&
        atomic_load_explicit(&m->gen, memory_order_seq_cst) == mg)
        return m;
    /* release: like unpin. */
    atomic_fetch_sub_explicit(&m->refs, 1, memory_order_release);
    return NULL;
}

enum { PIN_CURRENT, PIN_MAPPED };

/*
 * A mapping with one reference taken, for a pin of current generation g:
 * g's own, or (PIN_MAPPED, or while another thread maps g) the newest
 * mapped one, which the caller then reports as pinned. *mapped tells
 * whether this call mapped a new generation. Returns 0, MAP_RETRY or an
 * error.
 */
static int map_get(cs_shm *h, uint64_t g, int mode, shm_map **out, bool *mapped, cs_error *err)
{
    *mapped = false;
    shm_map *m = ref_cur(h, g);
    if (!m && (mode == PIN_MAPPED ||
               /* relaxed: a hint; correctness rests on the mutex. */
               atomic_load_explicit(&h->mapping, memory_order_relaxed) != 0)) {
        /* ref_cur fails only while cur is NULL or moving (a newer mapping
         * just went in): then look again rather than map. */
        while (!(m = ref_cur(h, 0)) && atomic_load_explicit(&h->cur, memory_order_acquire))
            ;
    }
    if (m) {
        *out = m;
        return 0;
    }
    /* Map it here. Announce it so other threads use the mapped generation
     * meanwhile instead of mapping g a second time. relaxed: a hint. */
    uint64_t none = 0;
    bool claimed = atomic_compare_exchange_strong_explicit(&h->mapping, &none, g, memory_order_relaxed,
                                                           memory_order_relaxed);
    int rc = map_slow(h, g, out, mapped, err);
    if (claimed)
        atomic_store_explicit(&h->mapping, 0, memory_order_relaxed);
    return rc;
}

/* cs_shm_pin and cs_shm_pin_mapped; *mapped as map_get's. */
static int pin_impl(cs_shm *h, cs_pin *pin, int mode, bool *mapped, cs_error *err)
{
    *mapped = false;
    if (!pin)
        return cs_fail(err, CS_EINVAL, "NULL pin");
    memset(pin, 0, sizeof *pin);
    if (!h)
        return cs_fail(err, CS_EINVAL, "NULL attachment");
    shm_ctl *c = h->v.ctl;
    /* acquire: cs_shm_unlink stores REMOVED before unlinking segments. */
    if (atomic_load_explicit(&c->flags, memory_order_acquire) & CTL_REMOVED) {
        cs_error_source(err, h->v.name);
        return cs_fail(err, CS_ENOTFOUND, "shared-memory service '%s' was removed", h->v.name + 1);
    }
    uint32_t s = 0; /* set by claim_slot on success */
    int rc = claim_slot(h, &s, err);
    if (rc)
        return rc;
    shm_slot *sl = &h->v.slots[s];
    for (;;) {
        /* b. acquire: pairs with the publisher's store of the generation;
         * the image segment of g is complete. */
        uint64_t g = atomic_load_explicit(&c->generation, memory_order_acquire);
        if (g == 0) {
            release_slot(h, s);
            cs_error_source(err, h->v.name);
            return cs_fail(err, CS_ENOTFOUND, "shared-memory service '%s' has published nothing yet", h->v.name + 1);
        }
        /* c. seq_cst: must precede d in S (a store-load order that
         * release/acquire does not give). */
        atomic_store_explicit(&sl->gen, g, memory_order_seq_cst);
        /* d. seq_cst: see "the pin race" at the top of the file. */
        if (atomic_load_explicit(&c->generation, memory_order_seq_cst) != g)
            continue;
        shm_map *m;
        rc = map_get(h, g, mode, &m, mapped, err);
        if (rc == MAP_RETRY)
            continue;
        if (rc) {
            release_slot(h, s);
            return rc;
        }
        /* relaxed: stable while we hold a reference. */
        uint64_t mg = atomic_load_explicit(&m->gen, memory_order_relaxed);
        if (mg != g)
            /* Another mapped generation serves this pin; our mapping keeps
             * its memory whether or not its segment still exists, so the
             * slot only tells stat what we read. release: as unpin's. */
            atomic_store_explicit(&sl->gen, mg, memory_order_release);
        pin->snap = m->snap;
        pin->generation = mg;
        pin->shm_ = h;
        pin->map_ = m;
        pin->slot_ = s;
        return 0;
    }
}

int cs_shm_pin(cs_shm *h, cs_pin *pin, cs_error *err)
{
    bool mapped;
    return pin_impl(h, pin, PIN_CURRENT, &mapped, err);
}

int cs_shm_pin_mapped(cs_shm *h, cs_pin *pin, cs_error *err)
{
    bool mapped;
    return pin_impl(h, pin, PIN_MAPPED, &mapped, err);
}

int cs_shm_refresh(cs_shm *h, cs_error *err)
{
    cs_pin pin;
    bool mapped;
    int rc = pin_impl(h, &pin, PIN_CURRENT, &mapped, err);
    if (rc)
        return rc;
    cs_shm_unpin(&pin);
    return mapped ? 1 : 0;
}

void cs_shm_unpin(cs_pin *pin)
{
    if (!pin || !pin->snap || !pin->shm_)
        return;
    cs_shm *h = pin->shm_;
    shm_map *m = pin->map_;
    release_slot(h, pin->slot_);
    /* release: pairs with map_gc's seq_cst (acquiring) load of refs, so
     * every query on the image happens before its munmap. */
    atomic_fetch_sub_explicit(&m->refs, 1, memory_order_release);
    memset(pin, 0, sizeof *pin);
}

uint64_t cs_shm_generation(const cs_shm *h)
{
    /* acquire: as a pin's first load. */
    return h ? atomic_load_explicit(&h->v.ctl->generation, memory_order_acquire) : 0;
}

void cs_shm_detach(cs_shm *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < SHM_MAPS; i++) {
        /* relaxed: no pin may be left, so no other thread uses h. */
        if (atomic_load_explicit(&h->maps[i].gen, memory_order_relaxed) != 0) {
            shm_victim v;
            map_take(&h->maps[i], &v);
            victim_release(&v);
        }
    }
    pthread_mutex_destroy(&h->lock);
    munmap(h->v.ctl, h->v.len);
    free(h);
}

/* ---- inspection ----------------------------------------------------------- */

/* All loads below are relaxed: the picture is for a person and may show a
 * publish half done (documented in shm.h). */

void cs_shm_get_info(const cs_shm *h, cs_shm_info *out)
{
    memset(out, 0, sizeof *out);
    const shm_ctl *c = h->v.ctl;
    out->generation = atomic_load_explicit(&c->generation, memory_order_relaxed);
    out->image_len = atomic_load_explicit(&c->image_len, memory_order_relaxed);
    out->created_unix = c->created_unix;
    out->published_unix = atomic_load_explicit(&c->published_unix, memory_order_relaxed);
    out->server_pid = atomic_load_explicit(&c->server_pid, memory_order_relaxed);
    out->server_alive = pid_alive(out->server_pid);
    out->writer_pid = atomic_load_explicit(&c->writer_pid, memory_order_relaxed);
    out->writer_alive = pid_alive(out->writer_pid);
    out->slot_count = h->v.slot_count;
    for (uint32_t s = 0; s < h->v.slot_count; s++)
        out->slots_used += atomic_load_explicit(&h->v.slots[s].pid, memory_order_relaxed) != 0;
    for (uint32_t i = 0; i < h->v.image_cap; i++)
        out->images += atomic_load_explicit(&h->v.images[i].gen, memory_order_relaxed) != 0;
    out->removed = (atomic_load_explicit(&c->flags, memory_order_relaxed) & CTL_REMOVED) != 0;
}

size_t cs_shm_get_readers(const cs_shm *h, cs_shm_reader_info *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t s = 0; s < h->v.slot_count; s++) {
        int32_t pid = atomic_load_explicit(&h->v.slots[s].pid, memory_order_relaxed);
        if (pid == 0)
            continue;
        if (n < cap) {
            out[n].slot = s;
            out[n].pid = pid;
            out[n].alive = pid_alive(pid);
            out[n].generation = atomic_load_explicit(&h->v.slots[s].gen, memory_order_relaxed);
        }
        n++;
    }
    return n;
}

size_t cs_shm_get_images(const cs_shm *h, cs_shm_image_info *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < h->v.image_cap; i++) {
        uint64_t g = atomic_load_explicit(&h->v.images[i].gen, memory_order_relaxed);
        if (g == 0)
            continue;
        if (n < cap) {
            out[n].generation = g;
            out[n].image_len = atomic_load_explicit(&h->v.images[i].len, memory_order_relaxed);
        }
        n++;
    }
    return n;
}

/* ---- publishers ----------------------------------------------------------- */

/* Creates and initialises the control segment. Returns 0, NOT_READY when it
 * exists already (another process created it), or an error. */
static int ctl_create(cs_shm_publisher *p, uint32_t slots, cs_error *err)
{
    shm_view *v = &p->v;
    int fd = shm_open(v->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)p->mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return NOT_READY;
        return sys_fail(err, CS_EIO, v->name, "shm_open");
    }
    size_t len = ctl_size(slots);
    void *m = MAP_FAILED;
    /* fchmod: shm_open applies the umask; the caller's mode is the rule. */
    if (fchmod(fd, (mode_t)p->mode) != 0 || ftruncate(fd, (off_t)len) != 0 ||
        (m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        int rc = sys_fail(err, CS_EIO, v->name, "cannot create");
        close(fd);
        shm_unlink(v->name);
        return rc;
    }
    close(fd);
    /* ftruncate zero-filled the segment: slots free, table empty, flags 0. */
    shm_ctl *c = m;
    c->version = CTL_VERSION;
    c->header_len = CTL_HEADER_LEN;
    c->byte_order = CTL_BYTE_ORDER;
    c->slot_len = sizeof(shm_slot);
    c->image_rec_len = sizeof(shm_imgrec);
    c->atomic_len = sizeof(_Atomic uint64_t);
    c->align = CTL_ALIGN;
    c->slot_count = slots;
    c->image_cap = slots + 2;
    c->mode = p->mode;
    c->created_unix = (uint64_t)time(NULL);
    c->total_len = len;
    /* release: publishes the header above to attachers (acquire load). */
    atomic_store_explicit(&c->magic, CTL_MAGIC, memory_order_release);
    view_layout(v, m, len, slots);
    return 0;
}

static int lock_writer(cs_shm_publisher *p, cs_error *err)
{
    shm_ctl *c = p->v.ctl;
    uint64_t deadline = now_ms() + p->wait_ms;
    for (;;) {
        /* acquire: a dead holder's writes (table, orphan) are seen. */
        int32_t o = atomic_load_explicit(&c->writer_pid, memory_order_acquire);
        if (o == 0 || (o != p->v.pid && !pid_alive(o))) {
            /* acq_rel: lock acquire; pairs with the release in unlock. */
            if (atomic_compare_exchange_strong_explicit(&c->writer_pid, &o, p->v.pid, memory_order_acq_rel,
                                                        memory_order_acquire))
                return 0;
            continue;
        }
        if (now_ms() >= deadline) {
            cs_error_source(err, p->v.name);
            return cs_fail(err, CS_EBUSY, "a publish by pid %d into %s did not finish within %u ms",
                           (int)o, p->v.name, p->wait_ms);
        }
        sleep_ms(1);
    }
}

static void unlock_writer(cs_shm_publisher *p)
{
    /* release: everything this publish wrote happens before the next
     * holder's acquire. */
    atomic_store_explicit(&p->v.ctl->writer_pid, 0, memory_order_release);
}

/* Unlinks generation g's segment and erases record r (lock held). */
static int unlink_image(cs_shm_publisher *p, shm_imgrec *r, uint64_t g)
{
    char seg[SEG_NAME_CAP];
    seg_name(&p->v, g, seg);
    int gone = shm_unlink(seg) == 0 || errno == ENOENT;
    if (gone) {
        /* relaxed: the table is read under the lock (or for display). */
        atomic_store_explicit(&r->len, 0, memory_order_relaxed);
        atomic_store_explicit(&r->gen, 0, memory_order_relaxed);
    }
    return gone;
}

/* Clears the slots of dead processes (lock held). */
static void reclaim_slots(cs_shm_publisher *p)
{
    for (uint32_t s = 0; s < p->v.slot_count; s++) {
        shm_slot *sl = &p->v.slots[s];
        /* relaxed: the CAS decides. */
        int32_t o = atomic_load_explicit(&sl->pid, memory_order_relaxed);
        if (o == 0 || o == p->v.pid || pid_alive(o))
            continue;
        /* acq_rel: exclusive clean-up (a reader short of slots may race
         * us for it; one CAS wins). */
        if (atomic_compare_exchange_strong_explicit(&sl->pid, &o, p->v.pid, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            /* release pair, as a reader's unpin. */
            atomic_store_explicit(&sl->gen, 0, memory_order_release);
            atomic_store_explicit(&sl->pid, 0, memory_order_release);
        }
    }
}

static bool gen_pinned(const cs_shm_publisher *p, uint64_t g)
{
    for (uint32_t s = 0; s < p->v.slot_count; s++)
        /* seq_cst: after the seq_cst store of the generation in S (the
         * pin race at the top of the file). */
        if (atomic_load_explicit(&p->v.slots[s].gen, memory_order_seq_cst) == g)
            return true;
    return false;
}

/* Reclaims dead slots, then unlinks every recorded generation that is not
 * current and not pinned (orphans above cur included). Lock held. Returns
 * the number of segments unlinked. */
static int reclaim(cs_shm_publisher *p)
{
    reclaim_slots(p);
    /* relaxed: we hold the lock; only lock holders store it. The seq_cst
     * loads of gen_pinned follow the seq_cst store of cur in S: ours just
     * now, or an earlier holder's, which happens-before us via the lock. */
    uint64_t cur = atomic_load_explicit(&p->v.ctl->generation, memory_order_relaxed);
    int n = 0;
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        shm_imgrec *r = &p->v.images[i];
        uint64_t g = atomic_load_explicit(&r->gen, memory_order_relaxed);
        if (g == 0 || g == cur)
            continue;
        if (g > cur || !gen_pinned(p, g))
            n += unlink_image(p, r, g);
    }
    return n;
}

/* Removes what a crashed publish left (lock held): records above cur and
 * the segment of cur + 1 whether recorded or not. */
static void remove_orphans(cs_shm_publisher *p)
{
    uint64_t cur = atomic_load_explicit(&p->v.ctl->generation, memory_order_relaxed);
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        shm_imgrec *r = &p->v.images[i];
        uint64_t g = atomic_load_explicit(&r->gen, memory_order_relaxed);
        if (g > cur)
            unlink_image(p, r, g);
    }
    char seg[SEG_NAME_CAP];
    seg_name(&p->v, cur + 1, seg);
    shm_unlink(seg);
}

static int claim_server(cs_shm_publisher *p, cs_error *err)
{
    shm_ctl *c = p->v.ctl;
    for (;;) {
        /* relaxed: the CAS decides. */
        int32_t o = atomic_load_explicit(&c->server_pid, memory_order_relaxed);
        if (o != 0 && o != p->v.pid && pid_alive(o)) {
            cs_error_source(err, p->v.name);
            return cs_fail(err, CS_EBUSY, "shared-memory service '%s' is already served by pid %d",
                           p->v.name + 1, (int)o);
        }
        if (o == p->v.pid)
            return cs_fail(err, CS_EBUSY, "this process already serves '%s'", p->v.name + 1);
        /* acq_rel: a role hand-over, like a lock. */
        if (atomic_compare_exchange_strong_explicit(&c->server_pid, &o, p->v.pid, memory_order_acq_rel,
                                                    memory_order_relaxed))
            return 0;
    }
}

int cs_shm_publisher_open(const char *name, const cs_shm_options *opts, cs_shm_publisher **out,
                          cs_error *err)
{
    if (!out)
        return cs_fail(err, CS_EINVAL, "NULL out");
    *out = NULL;
    cs_shm_options o = opts ? *opts : (cs_shm_options){0};
    if (o.mode == 0)
        o.mode = 0600;
    if (o.mode & ~0777u)
        return cs_fail(err, CS_EINVAL, "mode %o has bits outside 0777", o.mode);
    if (o.readers == 0)
        o.readers = CS_SHM_DEFAULT_READERS;
    if (o.readers > CS_SHM_MAX_READERS)
        return cs_fail(err, CS_EINVAL, "%u reader slots; at most %u", o.readers, CS_SHM_MAX_READERS);
    if (o.wait_ms == 0)
        o.wait_ms = DEFAULT_WAIT_MS;
    cs_shm_publisher *p = calloc(1, sizeof *p);
    if (!p)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    p->mode = o.mode;
    p->wait_ms = o.wait_ms;
    p->v.pid = (int32_t)getpid();
    int rc = make_name(name, p->v.name, err);
    int created = 0;
    /* Create, or open the existing one; a creation that never finished (no
     * magic after READY_WAIT_MS) is removed and done again. */
    for (int attempt = 0; rc == 0 && attempt < 3; attempt++) {
        rc = ctl_create(p, o.readers, err);
        if (rc == 0) {
            created = 1;
            break;
        }
        if (rc != NOT_READY)
            break;
        rc = ctl_open(&p->v, err);
        if (rc == CS_ENOTFOUND) { /* removed meanwhile: create again */
            rc = 0;
            continue;
        }
        if (rc != NOT_READY)
            break;
        shm_unlink(p->v.name);
        rc = 0;
    }
    if (rc == 0 && !p->v.ctl) {
        cs_error_source(err, p->v.name);
        rc = cs_fail(err, CS_EBUSY, "cannot create or open %s: it keeps appearing half-created", p->v.name);
    }
    if (rc == 0 && (o.flags & CS_SHM_SERVE)) {
        rc = claim_server(p, err);
        p->serving = rc == 0;
    }
    if (rc == 0) {
        rc = lock_writer(p, err);
        if (rc == 0) {
            remove_orphans(p);
            reclaim(p);
            unlock_writer(p);
        }
    }
    if (rc) {
        cs_shm_publisher_close(p);
        return rc;
    }
    *out = p;
    return created;
}

static int write_all(int fd, const uint8_t *q, size_t left, const char *seg, cs_error *err)
{
    while (left) {
        ssize_t w = write(fd, q, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return sys_fail(err, CS_EIO, seg, "cannot write image segment");
        }
        q += w;
        left -= (size_t)w;
    }
    return 0;
}

/* Steps 4-6: creates segment `seg` and writes the image into it with
 * generation `gen` stamped in the header. write(), not a writable mapping:
 * a full /dev/shm is then ENOSPC here, not SIGBUS on a store. */
static int write_image(cs_shm_publisher *p, const char *seg, const uint8_t *img, size_t len,
                       uint64_t gen, cs_shm_step_fn step, void *ctx, cs_error *err)
{
    int fd = shm_open(seg, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)p->mode);
    if (fd < 0)
        return sys_fail(err, CS_EIO, seg, "cannot create image segment");
    /* fchmod: shm_open applies the umask; the caller's mode is the rule. */
    if (fchmod(fd, (mode_t)p->mode) != 0) {
        int rc = sys_fail(err, CS_EIO, seg, "fchmod");
        close(fd);
        return rc;
    }
    if (step)
        step(CS_SHM_STEP_CREATED, ctx);
    uint8_t hdr[IMAGE_HEADER_LEN];
    memcpy(hdr, img, sizeof hdr);
    memcpy(hdr + IMAGE_GEN_OFF, &gen, sizeof gen); /* little-endian host */
    size_t half = IMAGE_HEADER_LEN + (len - IMAGE_HEADER_LEN) / 2;
    int rc = write_all(fd, hdr, sizeof hdr, seg, err);
    if (rc == 0)
        rc = write_all(fd, img + IMAGE_HEADER_LEN, half - IMAGE_HEADER_LEN, seg, err);
    if (rc == 0 && step)
        step(CS_SHM_STEP_HALF_WRITTEN, ctx);
    if (rc == 0)
        rc = write_all(fd, img + half, len - half, seg, err);
    if (close(fd) != 0 && rc == 0)
        rc = sys_fail(err, CS_EIO, seg, "close");
    return rc;
}

int cs_shm_publish_hooked(cs_shm_publisher *p, const cs_snapshot *s, cs_shm_step_fn step, void *ctx,
                          uint64_t *generation, cs_error *err)
{
    if (!p || !s)
        return cs_fail(err, CS_EINVAL, "NULL publisher or snapshot");
    if (p->removed)
        return cs_fail(err, CS_ESTATE, "the service was removed; only close is allowed");
    size_t len;
    const uint8_t *img = cs_snapshot_image(s, &len);
    if (len < IMAGE_HEADER_LEN)
        return cs_fail(err, CS_EINVAL, "image of %zu bytes is shorter than its header", len);
    int rc = lock_writer(p, err);
    if (rc)
        return rc;
    if (step)
        step(CS_SHM_STEP_LOCKED, ctx);
    shm_ctl *c = p->v.ctl;
    /* relaxed: only lock holders store it, and we hold the lock. */
    uint64_t next = atomic_load_explicit(&c->generation, memory_order_relaxed) + 1;
    remove_orphans(p);
    if (step)
        step(CS_SHM_STEP_CLEANED, ctx);

    shm_imgrec *rec = NULL;
    for (int pass = 0; pass < 2 && !rec; pass++) {
        for (uint32_t i = 0; i < p->v.image_cap && !rec; i++)
            if (atomic_load_explicit(&p->v.images[i].gen, memory_order_relaxed) == 0)
                rec = &p->v.images[i];
        if (!rec)
            reclaim(p);
    }
    char seg[SEG_NAME_CAP];
    seg_name(&p->v, next, seg);
    if (!rec) {
        unlock_writer(p);
        cs_error_source(err, p->v.name);
        return cs_fail(err, CS_EBUSY, "image table of %s is full (segments that cannot be unlinked?)", p->v.name);
    }
    /* relaxed: read by later lock holders (ordered by the lock) and for
     * display. Recorded before the segment exists, so a crash from here on
     * leaves a record pointing at the orphan. */
    atomic_store_explicit(&rec->len, (uint64_t)len, memory_order_relaxed);
    atomic_store_explicit(&rec->gen, next, memory_order_relaxed);
    if (step)
        step(CS_SHM_STEP_RECORDED, ctx);

    rc = write_image(p, seg, img, len, next, step, ctx, err);
    if (rc) {
        unlink_image(p, rec, next);
        unlock_writer(p);
        return rc;
    }
    if (step)
        step(CS_SHM_STEP_WRITTEN, ctx);

    /* relaxed: published by the generation store below. */
    atomic_store_explicit(&c->image_len, (uint64_t)len, memory_order_relaxed);
    atomic_store_explicit(&c->published_unix, (uint64_t)time(NULL), memory_order_relaxed);
    /* THE publication: one seq_cst store (see the top of the file). */
    atomic_store_explicit(&c->generation, next, memory_order_seq_cst);
    if (step)
        step(CS_SHM_STEP_PUBLISHED, ctx);
    reclaim(p);
    if (step)
        step(CS_SHM_STEP_RECLAIMED, ctx);
    unlock_writer(p);
    if (generation)
        *generation = next;
    return 0;
}

int cs_shm_publish(cs_shm_publisher *p, const cs_snapshot *s, uint64_t *generation, cs_error *err)
{
    return cs_shm_publish_hooked(p, s, NULL, NULL, generation, err);
}

int cs_shm_reclaim(cs_shm_publisher *p, cs_error *err)
{
    if (!p)
        return cs_fail(err, CS_EINVAL, "NULL publisher");
    if (p->removed)
        return cs_fail(err, CS_ESTATE, "the service was removed; only close is allowed");
    int rc = lock_writer(p, err);
    if (rc)
        return rc;
    int n = reclaim(p);
    unlock_writer(p);
    return n;
}

uint64_t cs_shm_publisher_generation(const cs_shm_publisher *p)
{
    /* acquire: as a reader's. */
    return p && p->v.ctl ? atomic_load_explicit(&p->v.ctl->generation, memory_order_acquire) : 0;
}

int cs_shm_unlink(cs_shm_publisher *p, cs_error *err)
{
    if (!p)
        return cs_fail(err, CS_EINVAL, "NULL publisher");
    if (p->removed)
        return cs_fail(err, CS_ESTATE, "the service was removed already");
    int rc = lock_writer(p, err);
    if (rc)
        return rc;
    shm_ctl *c = p->v.ctl;
    /* release: a pin that sees REMOVED (acquire) also sees why its image
     * segment may be gone. Set before any unlink. */
    atomic_fetch_or_explicit(&c->flags, CTL_REMOVED, memory_order_release);
    remove_orphans(p);
    int failed = 0;
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        uint64_t g = atomic_load_explicit(&p->v.images[i].gen, memory_order_relaxed);
        if (g != 0 && !unlink_image(p, &p->v.images[i], g))
            failed = errno;
    }
    if (shm_unlink(p->v.name) != 0 && errno != ENOENT)
        failed = errno;
    p->removed = true;
    unlock_writer(p);
    if (failed) {
        errno = failed;
        return sys_fail(err, CS_EIO, p->v.name, "shm_unlink");
    }
    return 0;
}

void cs_shm_publisher_close(cs_shm_publisher *p)
{
    if (!p)
        return;
    if (p->v.ctl) {
        if (p->serving) {
            int32_t me = p->v.pid;
            /* release: hand-over, like unlock. */
            atomic_compare_exchange_strong_explicit(&p->v.ctl->server_pid, &me, 0, memory_order_release,
                                                    memory_order_relaxed);
        }
        munmap(p->v.ctl, p->v.len);
    }
    free(p);
}
