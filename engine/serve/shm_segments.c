/*
 * engine/serve/shm_segments.c — the segments of a shared-memory service:
 * their names, layouts, creation, validation and ownership checks, and the
 * read-only picture `stat --shm` prints.
 *
 * Does: name segments, create the control segment and its reader table,
 * map and validate them, refuse segments an untrusted user owns or may
 * write (SECURITY.md), describe the service (cs_shm_get_info...).
 * Does not: pin (shm_pin.c) or publish (shm_publish.c); build or check image
 * content (engine/image/snapshot.c validates every image it is handed).
 * The three files are the only code that calls shm_open, shm_unlink or mmap
 * for segments.
 *
 * SEGMENTS. A service NAME has three kinds of POSIX shm segment:
 *   "/NAME"                    control: generation, writer fields, image
 *                              table. Written only by its owner.
 *   "/NAME@readers.<16 hex>"   reader table: one slot per pin. Written by
 *                              every reader; trusted for nothing.
 *   "/NAME@<gen>.<16 hex>"     one image segment per live generation: the
 *                              image (snapshot.h), then its direct indexes
 *                              (image/direct_blob_internal.h).
 *                              Written only by its owner, once.
 * The hex suffixes are 64 random bits (getrandom) chosen by the creator and
 * recorded in the control segment, so no other user can pre-create the next
 * name (a squatted name would block a publisher for good: /dev/shm is
 * sticky). Service names hold only letters, digits, '-', '_' and '.', so no
 * service's control segment has another's segment name ('@').
 *
 * MODES (from the creator's --mode M, default 0600): control and image
 * segments get (M | 0600) & ~022 — readable as M says, writable by the owner
 * only; the reader table gets that plus a write bit wherever it has a read
 * bit, so whoever may read may pin. Attaching or publishing checks, with
 * fstat on the open descriptor, that the control segment is owned by the
 * expected user (the publisher's effective uid; for readers their own euid,
 * root, or the owner they name) with no group or other write bit, and that
 * the reader table and every image are owned by the control segment's
 * owner (images also without group or other write bit). Anything else is
 * refused with CS_ECONFLICT naming the owner and mode found.
 *
 * Everything is native byte order, which engine/image/snapshot.c already
 * restricts to little-endian; byte_order lets another machine refuse. Atomic
 * fields are C11 _Atomic objects of lock-free width (static_asserts in
 * shm_internal.h), which are address-free, so two processes mapping the page
 * at different addresses operate on the same object.
 *
 * Control header, at offset 0 (256 bytes):
 *   OFFSET SIZE FIELD
 *        0    8 magic "CSSHMCTL" (atomic u64; stored last at creation)
 *        8    4 version (4: image segments end with the direct-index blob;
 *                 records have next_suffix; flags has REUSING)
 *       12    4 header_len (256)
 *       16    4 byte_order (0x01020304)
 *       20    2 slot_len (64)
 *       22    2 image_rec_len (32)
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
 *       80    4 flags (atomic u32): bit 0 REMOVED (cs_shm_unlink ran),
 *                 bit 1 REUSING (a publisher reuses retired segments)
 *       84    4 owner_uid: the creator's effective uid (fstat decides; this
 *                 copy is for people)
 *       88    8 total_len: bytes of the whole control segment
 *       96    8 readers_suffix: hex suffix of the reader-table segment
 *      104    8 vpc_count (atomic u64): VPCs of the current generation
 *      112    8 refused_unix (atomic u64): when the shrink guard last
 *                 refused a generation, 0 = no refusal pending
 *      120    8 refused_vpcs (atomic u64): VPCs of the refused generation
 *      128    8 refused_prev_vpcs (atomic u64): VPCs it would have replaced
 *      136  120 reserved (0)
 * Image table, at 256, image_cap records of 32 bytes:
 *        0    8 gen (atomic u64): a generation whose segment may exist,
 *                 0 = free record; with bit 63 (RETIRING) set: a retired
 *                 generation whose segment a publish is taking for reuse
 *        8    8 len (atomic u64): its image bytes
 *       16    8 suffix (atomic u64): hex suffix of its segment name
 *       24    8 next_suffix (atomic u64): while a reuse renames the segment,
 *                 the suffix of its new name (generation cur + 1); else 0
 * total_len = 256 + 32 * image_cap, rounded up to 64.
 *
 * Reader table "/NAME@readers.<suffix>":
 *   OFFSET SIZE FIELD
 *        0    8 magic "CSSHMRDR"
 *        8    4 slot_count (as the control segment's)
 *       12    4 slot_len (64)
 *       16   48 reserved (0)
 * then slot_count slots of 64 bytes (one cache line each, so readers pinning
 * at once do not share lines):
 *        0    4 pid (atomic i32): owner, 0 = free
 *        4    4 reserved (0)
 *        8    8 gen (atomic u64): pinned generation, 0 = none (claiming)
 *       16   48 reserved (0)
 * Every reader may write every slot, so nothing here is trusted: slot_count
 * comes from the control segment, the size is checked with fstat at attach,
 * a pid that names no process is a free slot to whoever needs one, and a
 * bogus generation only keeps that generation's segment alive (at most
 * slot_count of them, the image table's bound).
 *
 * Image segment: a snapshot image exactly as engine/image/snapshot.c
 * documents it, with its generation field (offset 32) set to the segment's
 * generation, and exactly the image's length.
 *
 * Creation: shm_open(O_CREAT | O_EXCL) decides one creator; it creates the
 * reader table (O_EXCL, a new suffix on collision), sizes and fills the
 * header, then stores magic (release); attachers load magic (acquire) first.
 * A segment whose magic stays 0 for 200 ms is a crashed creation: attachers
 * report it as not found, a publisher replaces it.
 *
 * Tests: tests/test_shm.c, tests/security/.
 */
#include "serve/shm_internal.h"

#include "core/error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers -------------------------------------------------------- */

static size_t ctl_size(uint32_t slots)
{
    size_t n = SHM_CTL_HEADER_LEN + (size_t)(slots + 2) * sizeof(shm_imgrec);
    return (n + SHM_ALIGN - 1) & ~(size_t)(SHM_ALIGN - 1);
}

static size_t rdr_size(uint32_t slots)
{
    return SHM_RDR_HEADER_LEN + (size_t)slots * sizeof(shm_slot);
}

bool shm_pid_alive(int32_t pid)
{
    if (pid <= 0)
        return false;
    if (kill((pid_t)pid, 0) == 0)
        return true;
    return errno == EPERM; /* alive, another user's; ESRCH, EINVAL: none */
}

uint64_t shm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void shm_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

int shm_sys_fail(cs_error *err, int code, const char *seg, const char *what)
{
    int e = errno;
    cs_error_source(err, seg);
    return cs_fail(err, code, "%s %s: %s", what, seg, strerror(e));
}

int shm_make_name(const char *name, char *out, cs_error *err)
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
    /* "vpcs.7" read as generation 7 of "vpcs" in format 1; still refused so
     * that a name never changes meaning between versions. */
    size_t d = n;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    if (d < n && d > 0 && name[d - 1] == '.')
        return cs_fail(err, CS_EINVAL, "service name '%s' ends in '.' and digits, like an image segment", name);
    out[0] = '/';
    memcpy(out + 1, name, n + 1);
    return 0;
}

void shm_image_name(const shm_view *v, uint64_t gen, uint64_t suffix, char *buf)
{
    snprintf(buf, SHM_SEG_NAME_CAP, "%s@%llu.%016llx", v->name, (unsigned long long)gen,
             (unsigned long long)suffix);
}

void shm_readers_name(const shm_view *v, uint64_t suffix, char *buf)
{
    snprintf(buf, SHM_SEG_NAME_CAP, "%s@readers.%016llx", v->name, (unsigned long long)suffix);
}

uint64_t shm_random_suffix(void)
{
    uint64_t x = 0;
    while (x == 0) {
        if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x) {
            /* No entropy source: still unpredictable enough to other users
             * that the O_EXCL retry handles any collision. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            x = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 16);
            x *= 0x9e3779b97f4a7c15ull;
        }
    }
    return x;
}

const char *shm_user_name(uid_t uid, char *buf, size_t cap)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
        snprintf(buf, cap, "%s", res->pw_name);
    else
        snprintf(buf, cap, "uid %u", (unsigned)uid);
    return buf;
}

int shm_check_owner(int fd, const char *seg, uid_t owner, bool group_write_ok, cs_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return shm_sys_fail(err, CS_EIO, seg, "fstat");
    bool bad_mode = !group_write_ok && (st.st_mode & 022);
    if (st.st_uid == owner && !bad_mode)
        return 0;
    char found[64], want[64];
    shm_user_name(st.st_uid, found, sizeof found);
    shm_user_name(owner, want, sizeof want);
    cs_error_source(err, seg);
    return cs_fail(err, CS_ECONFLICT,
                   "refusing %s: owned by %s with mode %04o; expected owner %s%s", seg, found,
                   (unsigned)(st.st_mode & 07777), want,
                   group_write_ok ? "" : " and no write bit for group or other");
}

static void view_layout(shm_view *v, void *base, size_t len, uint32_t slots)
{
    v->ctl = base;
    v->len = len;
    v->images = (shm_imgrec *)((uint8_t *)base + SHM_CTL_HEADER_LEN);
    v->slot_count = slots;
    v->image_cap = slots + 2;
}

void shm_view_unmap(shm_view *v)
{
    if (v->rdr) {
        shm_guard_remove(v->rdr_guard);
        munmap(v->rdr, v->rdr_len);
    }
    if (v->ctl)
        munmap(v->ctl, v->len);
    v->rdr = NULL;
    v->slots = NULL;
    v->ctl = NULL;
}

shm_imgrec *shm_image_record(const shm_view *v, uint64_t g)
{
    for (uint32_t i = 0; i < v->image_cap; i++)
        /* relaxed: see the declaration. */
        if (atomic_load_explicit(&v->images[i].gen, memory_order_relaxed) == g)
            return &v->images[i];
    return NULL;
}

/* ---- control segment: open -------------------------------------------------- */

/*
 * Maps an existing control segment (fd) and checks it. Returns 0 with v's
 * control fields filled, SHM_NOT_READY (empty, or magic not stored yet: a
 * creation in progress or crashed), or CS_ECORRUPT / CS_EVERSION / CS_EIO.
 */
static int ctl_map(shm_view *v, int fd, bool writable, cs_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return shm_sys_fail(err, CS_EIO, v->name, "fstat");
    size_t len = (size_t)st.st_size;
    if (len == 0)
        return SHM_NOT_READY;
    if (len < SHM_CTL_HEADER_LEN) {
        cs_error_source(err, v->name);
        return cs_fail(err, CS_ECORRUPT, "control segment %s is %zu bytes, shorter than its %u-byte header",
                       v->name, len, SHM_CTL_HEADER_LEN);
    }
    void *m = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return shm_sys_fail(err, CS_EIO, v->name, "mmap");
    shm_ctl *c = m;
    int rc = 0;
    /* acquire: pairs with the creator's release store of magic, so the
     * header read below is the complete one. */
    uint64_t magic = atomic_load_explicit(&c->magic, memory_order_acquire);
    if (magic == 0) {
        rc = SHM_NOT_READY;
    } else if (magic != SHM_CTL_MAGIC) {
        rc = cs_fail(err, CS_ECORRUPT, "%s is not a cidrscope control segment (bad magic)", v->name);
    } else if (c->byte_order != SHM_BYTE_ORDER) {
        rc = cs_fail(err, CS_EVERSION, "control segment %s has another byte order", v->name);
    } else if (c->version != SHM_CTL_VERSION) {
        rc = cs_fail(err, CS_EVERSION, "control segment %s has version %u; this build reads version %u",
                     v->name, c->version, SHM_CTL_VERSION);
    } else if (c->header_len != SHM_CTL_HEADER_LEN || c->slot_len != sizeof(shm_slot) ||
               c->image_rec_len != sizeof(shm_imgrec) || c->atomic_len != sizeof(_Atomic uint64_t) ||
               c->align != SHM_ALIGN) {
        rc = cs_fail(err, CS_EVERSION,
                     "control segment %s layout (header %u, slot %u, record %u, atomic %u, align %u) differs from this build's",
                     v->name, c->header_len, c->slot_len, c->image_rec_len, c->atomic_len, c->align);
    } else if (c->slot_count == 0 || c->slot_count > CS_SHM_MAX_READERS ||
               c->image_cap != c->slot_count + 2 || c->total_len != ctl_size(c->slot_count) ||
               c->readers_suffix == 0) {
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

/* Opens and maps the reader table named in the mapped control segment; it
 * must belong to the control segment's owner and hold slot_count slots. A
 * process without write access maps it read-only (it may inspect, not pin). */
static int rdr_open(shm_view *v, cs_error *err)
{
    char seg[SHM_SEG_NAME_CAP];
    shm_readers_name(v, v->ctl->readers_suffix, seg);
    bool writable = true;
    int fd = shm_open(seg, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0 && errno == EACCES) {
        writable = false;
        fd = shm_open(seg, O_RDONLY | O_CLOEXEC, 0);
    }
    if (fd < 0) {
        if (errno == ENOENT) {
            cs_error_source(err, seg);
            return cs_fail(err, CS_ECORRUPT, "reader table %s of %s is missing", seg, v->name);
        }
        return shm_sys_fail(err, CS_EIO, seg, "shm_open");
    }
    int rc = shm_check_owner(fd, seg, v->owner, true, err);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) != 0)
        rc = shm_sys_fail(err, CS_EIO, seg, "fstat");
    size_t len = rdr_size(v->slot_count);
    if (rc == 0 && (size_t)st.st_size < len) {
        cs_error_source(err, seg);
        rc = cs_fail(err, CS_ECORRUPT, "reader table %s is %zu bytes; %u slots need %zu", seg,
                     (size_t)st.st_size, v->slot_count, len);
    }
    void *m = MAP_FAILED;
    if (rc == 0) {
        m = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED)
            rc = shm_sys_fail(err, CS_EIO, seg, "mmap");
    }
    close(fd);
    if (rc)
        return rc;
    v->rdr = m;
    v->rdr_len = len;
    v->rdr_writable = writable;
    v->rdr_guard = shm_guard_add(m, len);
    v->slots = (shm_slot *)((uint8_t *)m + SHM_RDR_HEADER_LEN);
    return 0;
}

int shm_rdr_repair(shm_view *v, cs_error *err)
{
    char seg[SHM_SEG_NAME_CAP];
    shm_readers_name(v, v->ctl->readers_suffix, seg);
    int fd = shm_open(seg, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return shm_sys_fail(err, CS_EIO, seg, "shm_open");
    int rc = shm_check_owner(fd, seg, v->owner, true, err);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) != 0)
        rc = shm_sys_fail(err, CS_EIO, seg, "fstat");
    size_t len = rdr_size(v->slot_count);
    /* Someone shortened it: back to its size (the lost part reads as
     * free slots). */
    if (rc == 0 && (size_t)st.st_size < len && ftruncate(fd, (off_t)len) != 0)
        rc = shm_sys_fail(err, CS_EIO, seg, "ftruncate");
    void *m = MAP_FAILED;
    if (rc == 0 && (m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
        rc = shm_sys_fail(err, CS_EIO, seg, "mmap");
    close(fd);
    if (rc)
        return rc;
    shm_guard_remove(v->rdr_guard);
    munmap(v->rdr, v->rdr_len);
    v->rdr = m;
    v->rdr_len = len;
    v->rdr_writable = true;
    v->rdr_guard = shm_guard_add(m, len);
    v->slots = (shm_slot *)((uint8_t *)m + SHM_RDR_HEADER_LEN);
    return 0;
}

int shm_ctl_open(shm_view *v, bool writable, const uid_t *owners, int n, cs_error *err)
{
    uint64_t deadline = shm_now_ms() + SHM_READY_WAIT_MS;
    for (;;) {
        int fd = shm_open(v->name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
        if (fd < 0 && errno == EACCES && writable) {
            /* Someone else's service: say whose, rather than "permission
             * denied". */
            int ro = shm_open(v->name, O_RDONLY | O_CLOEXEC, 0);
            if (ro >= 0) {
                int rc = shm_check_owner(ro, v->name, owners[0], false, err);
                close(ro);
                if (rc)
                    return rc;
            }
            errno = EACCES;
        }
        if (fd < 0) {
            if (errno == ENOENT) {
                cs_error_source(err, v->name);
                return cs_fail(err, CS_ENOTFOUND, "no shared-memory service '%s' (no segment %s)",
                               v->name + 1, v->name);
            }
            return shm_sys_fail(err, CS_EIO, v->name, "shm_open");
        }
        /* The owner first: nothing an untrusted user wrote is read. */
        struct stat st;
        int rc = fstat(fd, &st) == 0 ? 0 : shm_sys_fail(err, CS_EIO, v->name, "fstat");
        if (rc == 0) {
            uid_t who = owners[0];
            for (int i = 0; i < n; i++)
                if (st.st_uid == owners[i])
                    who = owners[i];
            rc = shm_check_owner(fd, v->name, who, false, err);
            v->owner = st.st_uid;
        }
        if (rc == 0)
            rc = ctl_map(v, fd, writable, err);
        close(fd);
        if (rc == 0) {
            rc = rdr_open(v, err);
            if (rc) {
                munmap(v->ctl, v->len);
                v->ctl = NULL;
            }
            return rc;
        }
        if (rc != SHM_NOT_READY || shm_now_ms() >= deadline)
            return rc;
        shm_sleep_ms(2);
    }
}

/* ---- control segment: create ------------------------------------------------ */

static unsigned image_mode(unsigned mode)
{
    return (mode | 0600u) & ~022u;
}

static unsigned readers_mode(unsigned mode)
{
    unsigned m = image_mode(mode);
    return m | ((m & 044u) >> 1);
}

/* Creates the reader table under a fresh suffix (retried on collision).
 * Returns 0 with *suffix, or an error; nothing left behind on error. */
static int rdr_create(shm_view *v, unsigned mode, uint32_t slots, uint64_t *suffix, cs_error *err)
{
    char seg[SHM_SEG_NAME_CAP];
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        *suffix = shm_random_suffix();
        shm_readers_name(v, *suffix, seg);
        fd = shm_open(seg, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return shm_sys_fail(err, CS_EIO, seg, "cannot create reader table");
    }
    if (fd < 0)
        return shm_sys_fail(err, CS_EIO, seg, "cannot create reader table");
    size_t len = rdr_size(slots);
    void *m = MAP_FAILED;
    /* fchmod: shm_open applies the umask; the mode rule above decides. */
    if (fchmod(fd, (mode_t)readers_mode(mode)) != 0 || ftruncate(fd, (off_t)len) != 0 ||
        (m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        int rc = shm_sys_fail(err, CS_EIO, seg, "cannot create");
        close(fd);
        shm_unlink(seg);
        return rc;
    }
    close(fd);
    shm_rdr *r = m;
    r->magic = SHM_RDR_MAGIC;
    r->slot_count = slots;
    r->slot_len = sizeof(shm_slot);
    v->rdr_writable = true;
    v->rdr = m;
    v->rdr_len = len;
    v->rdr_guard = shm_guard_add(m, len);
    v->slots = (shm_slot *)((uint8_t *)m + SHM_RDR_HEADER_LEN);
    return 0;
}

int shm_ctl_create(shm_view *v, unsigned mode, uint32_t slots, cs_error *err)
{
    int fd = shm_open(v->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return SHM_NOT_READY;
        return shm_sys_fail(err, CS_EIO, v->name, "shm_open");
    }
    size_t len = ctl_size(slots);
    void *m = MAP_FAILED;
    /* fchmod: shm_open applies the umask; the mode rule decides. */
    if (fchmod(fd, (mode_t)image_mode(mode)) != 0 || ftruncate(fd, (off_t)len) != 0 ||
        (m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        int rc = shm_sys_fail(err, CS_EIO, v->name, "cannot create");
        close(fd);
        shm_unlink(v->name);
        return rc;
    }
    close(fd);
    uint64_t suffix = 0;
    int rc = rdr_create(v, mode, slots, &suffix, err);
    if (rc) {
        munmap(m, len);
        shm_unlink(v->name);
        return rc;
    }
    /* ftruncate zero-filled the segments: slots free, table empty, flags 0. */
    shm_ctl *c = m;
    c->version = SHM_CTL_VERSION;
    c->header_len = SHM_CTL_HEADER_LEN;
    c->byte_order = SHM_BYTE_ORDER;
    c->slot_len = sizeof(shm_slot);
    c->image_rec_len = sizeof(shm_imgrec);
    c->atomic_len = sizeof(_Atomic uint64_t);
    c->align = SHM_ALIGN;
    c->slot_count = slots;
    c->image_cap = slots + 2;
    c->mode = mode;
    c->owner_uid = (uint32_t)geteuid();
    c->created_unix = (uint64_t)time(NULL);
    c->total_len = len;
    c->readers_suffix = suffix;
    /* release: publishes the header above to attachers (acquire load). */
    atomic_store_explicit(&c->magic, SHM_CTL_MAGIC, memory_order_release);
    v->owner = geteuid();
    view_layout(v, m, len, slots);
    return 0;
}

unsigned shm_image_mode(unsigned mode)
{
    return image_mode(mode);
}

/* ---- inspection ----------------------------------------------------------- */

/* All loads below are relaxed: the picture is for a person and may show a
 * publish half done (documented in shm.h). Reader slots may hold anything. */

void cs_shm_get_info(const cs_shm *h, cs_shm_info *out)
{
    memset(out, 0, sizeof *out);
    const shm_ctl *c = h->v.ctl;
    out->generation = atomic_load_explicit(&c->generation, memory_order_relaxed);
    out->image_len = atomic_load_explicit(&c->image_len, memory_order_relaxed);
    out->created_unix = c->created_unix;
    out->published_unix = atomic_load_explicit(&c->published_unix, memory_order_relaxed);
    out->server_pid = atomic_load_explicit(&c->server_pid, memory_order_relaxed);
    out->server_alive = shm_pid_alive(out->server_pid);
    out->writer_pid = atomic_load_explicit(&c->writer_pid, memory_order_relaxed);
    out->writer_alive = shm_pid_alive(out->writer_pid);
    out->slot_count = h->v.slot_count;
    for (uint32_t s = 0; s < h->v.slot_count; s++)
        out->slots_used += atomic_load_explicit(&h->v.slots[s].pid, memory_order_relaxed) != 0;
    for (uint32_t i = 0; i < h->v.image_cap; i++)
        out->images += atomic_load_explicit(&h->v.images[i].gen, memory_order_relaxed) != 0;
    out->removed = (atomic_load_explicit(&c->flags, memory_order_relaxed) & SHM_REMOVED) != 0;
    out->owner_uid = (uint32_t)h->v.owner;
    out->vpcs = atomic_load_explicit(&c->vpc_count, memory_order_relaxed);
    out->refused_unix = atomic_load_explicit(&c->refused_unix, memory_order_relaxed);
    out->refused_vpcs = atomic_load_explicit(&c->refused_vpcs, memory_order_relaxed);
    out->refused_prev_vpcs = atomic_load_explicit(&c->refused_prev_vpcs, memory_order_relaxed);
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
            out[n].alive = shm_pid_alive(pid);
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
            shm_image_name(&h->v, g, atomic_load_explicit(&h->v.images[i].suffix, memory_order_relaxed),
                           out[n].segment);
        }
        n++;
    }
    return n;
}
