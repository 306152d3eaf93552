/*
 * engine/serve/shm_publish.c — publishers of a shared-memory service:
 * writing generations, switching the current one, reclaiming old ones,
 * removing the service.
 *
 * Does: open or create the service (shm_segments.c checks the owner of an
 * existing one), the publication order below, the shrink guard, reclaiming
 * dead readers' slots and unpinned generations, recovery after a crashed
 * publish, removal. Does not: pin (shm_pin.c) or build images.
 *
 * INVARIANTS. Generations only grow: the next is always current + 1, so an
 * image segment with a generation above current is an orphan of a publish
 * that crashed before its store. Every image segment that may exist is in
 * the image table with its name's random suffix (recorded before it is
 * created, erased after it is unlinked). Live images are the current one,
 * the one being written, and at most one per pinned slot, hence image_cap =
 * slot_count + 2. A slot with pid 0 has gen 0 — unless another reader wrote
 * garbage, which only keeps a generation alive.
 *
 * CONCURRENCY. One publish at a time, serialised by writer_pid (a lock a
 * crashed holder's successor takes over: kill(pid, 0) == ESRCH). The lock
 * holder alone writes generation, image_len, vpc_count, published_unix, the
 * refusal fields, the image table and image segments; only the owner can
 * write the control segment at all. Readers write only reader-table slots.
 *
 * Publication order (cs_shm_publish), each step a hook point of
 * cs_shm_publish_hooked (shm_internal.h):
 *   1. writer_pid: CAS 0 (or a dead pid) -> us, acq_rel (lock acquire).
 *   2. unlink the segments of table records above cur (orphans).
 *   3. image table: record (cur+1, len, random suffix), relaxed (read under
 *      the lock; readers read it only after the release in 7).
 *   4. shm_open(O_CREAT | O_EXCL) of "/NAME@<cur+1>.<suffix>" (on EEXIST —
 *      another user's squatter, or a freak collision — a new suffix goes
 *      into the record first, then the open is retried), fchmod.
 *   5-6. pwrite(): the header with generation = cur+1 stamped, then the
 *      rest, then the image's direct indexes (image/direct_blob_internal.h)
 *      so readers need not build them.
 * REUSE (CS_SHM_REUSE, only where no one but the owner may pin: the mode
 * gives group and others no read bit). Writing 150 MB into new tmpfs pages
 * and freeing the old segment's costs ~90 ms of CPU, rewriting existing
 * pages ~35 ms. So step 8 keeps the SHM_SPARES newest retired generations
 * (the spares), and steps 3-4 become: take_spare marks the older spare's
 * record RETIRING
 * (seq_cst) and scans the slots (seq_cst); if none pins it, reuse_rename
 * records a fresh suffix in next_suffix, renames the segment (under
 * SHM_DIR, RENAME_NOREPLACE) to "/NAME@<cur+1>.<suffix>" and records it as
 * cur+1; 5-6 then rewrite it from offset 0 (ftruncate to the new length).
 * Readers that map a generation only read it under a slot naming it; one
 * falling back to an older mapped generation checks its record after
 * storing its slot (shm_pin.c, fallback_pinned), so the mark-then-scan
 * above and that store-then-check see each other in S. A crash leaves a
 * record above cur (RETIRING or cur+1) whose segment, under either name,
 * step 2 of the next publish removes.
 *   7. generation = cur+1: ONE store, seq_cst. Release half: everything
 *      above (segment bytes, table, image_len) happens-before any reader
 *      that loads the new value. Seq_cst half: see the pin race in
 *      shm_pin.c.
 *   8. reclaim: dead readers' slots cleared; for each recorded generation
 *      other than the current one, scan every slot.gen (seq_cst loads); if
 *      no slot pins it, shm_unlink it and erase the record.
 *   9. writer_pid = 0, release (lock release: the next holder sees 2-8).
 * The shrink guard runs before 1's effects matter: a generation losing more
 * than max_shrink percent of the current one's VPCs is not written; the
 * refusal is recorded (refused_* fields) and the current generation stays.
 *
 * Tests: tests/test_shm.c (kill -9 after every step, races), tests/security/.
 */
/* renameat2 and RENAME_NOREPLACE (Linux): reusing a retired segment */
#define _GNU_SOURCE
#include "serve/shm_internal.h"

#include "core/error_internal.h"
#include "image/direct_blob_internal.h"

#include <cidrscope/estate.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int lock_writer(cs_shm_publisher *p, cs_error *err)
{
    shm_ctl *c = p->v.ctl;
    uint64_t deadline = shm_now_ms() + p->wait_ms;
    for (;;) {
        /* acquire: a dead holder's writes (table, orphan) are seen. */
        int32_t o = atomic_load_explicit(&c->writer_pid, memory_order_acquire);
        if (o == 0 || (o != p->v.pid && !shm_pid_alive(o))) {
            /* acq_rel: lock acquire; pairs with the release in unlock. */
            if (atomic_compare_exchange_strong_explicit(&c->writer_pid, &o, p->v.pid, memory_order_acq_rel,
                                                        memory_order_acquire))
                return 0;
            continue;
        }
        if (shm_now_ms() >= deadline) {
            cs_error_source(err, p->v.name);
            return cs_fail(err, CS_EBUSY, "a publish by pid %d into %s did not finish within %u ms",
                           (int)o, p->v.name, p->wait_ms);
        }
        shm_sleep_ms(1);
    }
}

static void unlock_writer(cs_shm_publisher *p)
{
    /* release: everything this publish wrote happens before the next
     * holder's acquire. */
    atomic_store_explicit(&p->v.ctl->writer_pid, 0, memory_order_release);
}

/* Unlinks generation g's segment and erases record r (lock held). A
 * record a reuse left RETIRING names its segment by the retired
 * generation, or, once renamed, by cur + 1 and next_suffix: both go. */
static int unlink_image(cs_shm_publisher *p, shm_imgrec *r, uint64_t g)
{
    char seg[SHM_SEG_NAME_CAP];
    /* relaxed: the table is written only by lock holders, and we hold it. */
    shm_image_name(&p->v, g & ~SHM_RETIRING, atomic_load_explicit(&r->suffix, memory_order_relaxed), seg);
    int gone = shm_unlink(seg) == 0 || errno == ENOENT;
    uint64_t next_suffix = atomic_load_explicit(&r->next_suffix, memory_order_relaxed);
    if (gone && next_suffix) {
        /* relaxed: lock held; a crashed reuse never stored a generation */
        uint64_t cur = atomic_load_explicit(&p->v.ctl->generation, memory_order_relaxed);
        shm_image_name(&p->v, cur + 1, next_suffix, seg);
        gone = shm_unlink(seg) == 0 || errno == ENOENT;
    }
    if (gone) {
        /* relaxed: the table is read under the lock (or for display). */
        atomic_store_explicit(&r->len, 0, memory_order_relaxed);
        atomic_store_explicit(&r->suffix, 0, memory_order_relaxed);
        atomic_store_explicit(&r->next_suffix, 0, memory_order_relaxed);
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
        if (o == 0 || o == p->v.pid || shm_pid_alive(o))
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

/* The spares of a reusing publisher: the SHM_SPARES newest retired
 * generations (below cur, not RETIRING). Returns the oldest of them, the
 * one to reuse, when there are SHM_SPARES, else 0; *keep gets the oldest
 * generation reclaim keeps (0: keep none). Lock held. */
static uint64_t spare_gen(const cs_shm_publisher *p, uint64_t cur, uint64_t *keep)
{
    uint64_t top[SHM_SPARES] = {0}; /* descending */
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        /* relaxed: lock held. */
        uint64_t g = atomic_load_explicit(&p->v.images[i].gen, memory_order_relaxed);
        if (g == 0 || g >= cur)
            continue;
        for (unsigned k = 0; k < SHM_SPARES; k++)
            if (g > top[k]) {
                for (unsigned j = SHM_SPARES - 1; j > k; j--)
                    top[j] = top[j - 1];
                top[k] = g;
                break;
            }
    }
    uint64_t oldest = 0;
    for (unsigned k = 0; k < SHM_SPARES; k++)
        if (top[k])
            oldest = top[k];
    if (keep)
        *keep = p->reuse ? oldest : 0;
    return p->reuse && top[SHM_SPARES - 1] ? top[SHM_SPARES - 1] : 0;
}

/* Reclaims dead slots, then unlinks every recorded generation that is not
 * current and not pinned (orphans above cur included), but for a reusing
 * publisher's spares unless `spares` is false. Lock held. Returns the
 * number of segments unlinked. */
static int reclaim(cs_shm_publisher *p, bool spares)
{
    /* A reader truncated the reader table (shm_guard.c): extend and map it
     * again. Until then pins are hidden, which unlinks segments early but
     * never takes memory from a reader that mapped them. */
    if (shm_guard_broken(p->v.rdr_guard))
        shm_rdr_repair(&p->v, NULL);
    reclaim_slots(p);
    /* relaxed: we hold the lock; only lock holders store it. The seq_cst
     * loads of gen_pinned follow the seq_cst store of cur in S: ours just
     * now, or an earlier holder's, which happens-before us via the lock. */
    uint64_t cur = atomic_load_explicit(&p->v.ctl->generation, memory_order_relaxed);
    uint64_t keep = 0;
    if (spares)
        spare_gen(p, cur, &keep);
    int n = 0;
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        shm_imgrec *r = &p->v.images[i];
        uint64_t g = atomic_load_explicit(&r->gen, memory_order_relaxed);
        if (g == 0 || g == cur || (keep && g >= keep && g < cur))
            continue;
        if (g > cur || !gen_pinned(p, g))
            n += unlink_image(p, r, g);
    }
    return n;
}

/* Removes what a crashed publish left (lock held): the segments of records
 * above cur. (Step 3 records the name before step 4 creates it, so every
 * orphan is recorded.) */
static void remove_orphans(cs_shm_publisher *p)
{
    /* relaxed, here and below: lock held; only lock holders store these. */
    uint64_t cur = atomic_load_explicit(&p->v.ctl->generation, memory_order_relaxed);
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        shm_imgrec *r = &p->v.images[i];
        uint64_t g = atomic_load_explicit(&r->gen, memory_order_relaxed);
        if (g > cur)
            unlink_image(p, r, g);
    }
}

static int claim_server(cs_shm_publisher *p, cs_error *err)
{
    shm_ctl *c = p->v.ctl;
    for (;;) {
        /* relaxed: the CAS decides. */
        int32_t o = atomic_load_explicit(&c->server_pid, memory_order_relaxed);
        if (o != 0 && o != p->v.pid && shm_pid_alive(o)) {
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
    if (o.max_shrink > 100)
        return cs_fail(err, CS_EINVAL, "max shrink %u%%: at most 100", o.max_shrink);
    if (o.wait_ms == 0)
        o.wait_ms = SHM_DEFAULT_WAIT_MS;
    cs_shm_publisher *p = calloc(1, sizeof *p);
    if (!p)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    p->mode = o.mode;
    p->wait_ms = o.wait_ms;
    p->reuse = (o.flags & CS_SHM_REUSE) != 0;
    p->max_shrink = o.max_shrink;
    p->v.pid = (int32_t)getpid();
    uid_t me = geteuid();
    int rc = shm_make_name(name, p->v.name, err);
    int created = 0;
    /* Create, or open the existing one (ours, by fstat); a creation that
     * never finished (no magic after SHM_READY_WAIT_MS) is removed and done
     * again. */
    for (int attempt = 0; rc == 0 && attempt < 3; attempt++) {
        rc = shm_ctl_create(&p->v, o.mode, o.readers, err);
        if (rc == 0) {
            created = 1;
            break;
        }
        if (rc != SHM_NOT_READY)
            break;
        rc = shm_ctl_open(&p->v, true, &me, 1, err);
        if (rc == CS_ENOTFOUND) { /* removed meanwhile: create again */
            rc = 0;
            continue;
        }
        if (rc != SHM_NOT_READY)
            break;
        shm_unlink(p->v.name); /* ours (shm_ctl_open checked), half-created */
        rc = 0;
    }
    if (rc == 0 && !p->v.ctl) {
        cs_error_source(err, p->v.name);
        rc = cs_fail(err, CS_EBUSY, "cannot create or open %s: it keeps appearing half-created", p->v.name);
    }
    /* Reuse only where no one but the owner (and root) may write the
     * reader table, i.e. pin: every pin is then a true one, and a reused
     * segment provably has no reader (take_spare). */
    if (rc == 0 && (shm_image_mode(p->v.ctl->mode) & 044u))
        p->reuse = false;
    if (rc == 0 && (o.flags & CS_SHM_SERVE)) {
        rc = claim_server(p, err);
        p->serving = rc == 0;
    }
    if (rc == 0) {
        rc = lock_writer(p, err);
        if (rc == 0) {
            remove_orphans(p);
            reclaim(p, true);
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

/* Writes q[0..left) at offset off onward (pwrite: a reused segment is
 * written from its start, a new one the same way). */
static int write_all(int fd, off_t *off, const uint8_t *q, size_t left, const char *seg, cs_error *err)
{
    while (left) {
        ssize_t w = pwrite(fd, q, left, *off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return shm_sys_fail(err, CS_EIO, seg, "cannot write image segment");
        }
        q += w;
        *off += w;
        left -= (size_t)w;
    }
    return 0;
}

/* The spare of a reusing publisher, taken for the next generation (lock
 * held): RETIRING marks its record (seq_cst), then the slots are scanned
 * (seq_cst). A reader falling back to that generation stores it in its
 * slot (seq_cst), then looks for the record (seq_cst), so in the single
 * order S either the scan sees the slot (the spare is kept, its record
 * restored) or the reader sees the mark and does not read its mapping
 * (shm_pin.c, step e). Returns the record with *taken = its generation,
 * or NULL. */
static shm_imgrec *take_spare(cs_shm_publisher *p, uint64_t cur, uint64_t *taken)
{
    uint64_t g = spare_gen(p, cur, NULL);
    /* a broken reader table hides pins: then nothing is reused */
    if (!g || shm_guard_broken(p->v.rdr_guard))
        return NULL;
    shm_imgrec *r = shm_image_record(&p->v, g);
    /* seq_cst: before the first mark in S, so a reader that did not see
     * the flag stored its slot before our scan (shm_pin.c). */
    atomic_fetch_or_explicit(&p->v.ctl->flags, SHM_REUSING, memory_order_seq_cst);
    atomic_store_explicit(&r->gen, g | SHM_RETIRING, memory_order_seq_cst);
    /* A reader table truncated during the scan read as zeros: pins may
     * have been missed, so nothing is reused then either. */
    if (gen_pinned(p, g) || shm_guard_broken(p->v.rdr_guard)) {
        /* relaxed: readers only compare it with a generation they hold. */
        atomic_store_explicit(&r->gen, g, memory_order_relaxed);
        return NULL;
    }
    *taken = g;
    return r;
}

/* Renames the segment of retired generation `old` (record r, RETIRING) to
 * the name of generation `next` with a fresh random suffix, recorded in
 * next_suffix first (an interrupted rename leaves an orphan that
 * unlink_image finds under either name), then records it as `next`.
 * RENAME_NOREPLACE: a name that exists (another user's squatter, a freak
 * collision) is never replaced; a new suffix is tried. Returns 0, or -1
 * with errno (then the record still says RETIRING). */
static int reuse_rename(cs_shm_publisher *p, shm_imgrec *r, uint64_t old, uint64_t next, size_t len)
{
#if defined(__linux__) && defined(RENAME_NOREPLACE)
    char seg[SHM_SEG_NAME_CAP], from[sizeof SHM_DIR + SHM_SEG_NAME_CAP], to[sizeof SHM_DIR + SHM_SEG_NAME_CAP];
    /* relaxed, every record field here: lock held; readers use the record
     * only after the generation store (release) publishes it. */
    shm_image_name(&p->v, old, atomic_load_explicit(&r->suffix, memory_order_relaxed), seg);
    snprintf(from, sizeof from, "%s%s", SHM_DIR, seg);
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t s2 = shm_random_suffix();
        atomic_store_explicit(&r->next_suffix, s2, memory_order_relaxed);
        shm_image_name(&p->v, next, s2, seg);
        snprintf(to, sizeof to, "%s%s", SHM_DIR, seg);
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
            atomic_store_explicit(&r->len, (uint64_t)len, memory_order_relaxed);
            atomic_store_explicit(&r->suffix, s2, memory_order_relaxed);
            atomic_store_explicit(&r->next_suffix, 0, memory_order_relaxed);
            atomic_store_explicit(&r->gen, next, memory_order_relaxed);
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
#else
    (void)p, (void)r, (void)old, (void)next, (void)len;
    errno = ENOSYS;
    return -1;
#endif
}

/* Steps 4-6: creates the segment of record r (a new suffix on collision,
 * recorded first), or opens the reused one r names already, and writes
 * the image into it from its start with generation `gen` stamped in the
 * header, then the image's direct indexes straight from the snapshot's own
 * arrays (no copy of them in between). pwrite(), not a writable mapping: a
 * full /dev/shm is then ENOSPC here, not SIGBUS on a store. */
static int write_image(cs_shm_publisher *p, shm_imgrec *r, bool reused, const cs_snapshot *s,
                       const uint8_t *img, size_t len, uint64_t gen, cs_shm_step_fn step, void *ctx,
                       cs_error *err)
{
    /* The image's direct indexes, built once by the snapshot and written
     * for every reader (TRUST in shm_pin.c): they follow the image (len is
     * a multiple of 64). */
    _Alignas(64) uint8_t blob_hdr[64];
    const void *piece[CS_BLOB_PIECES];
    size_t piece_len[CS_BLOB_PIECES];
    size_t pieces = snap_direct_blob_pieces(s, blob_hdr, piece, piece_len);
    char seg[SHM_SEG_NAME_CAP];
    int fd = -1;
    if (reused) {
        /* relaxed: lock held. Ours: renamed by us a moment ago; fstat says
         * so all the same (owner, no write bit for others). */
        shm_image_name(&p->v, gen, atomic_load_explicit(&r->suffix, memory_order_relaxed), seg);
        fd = shm_open(seg, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0)
            return shm_sys_fail(err, CS_EIO, seg, "cannot open the reused image segment");
        int rc = shm_check_owner(fd, seg, geteuid(), false, err);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        if (attempt)
            /* relaxed: read under the lock, or by readers after step 7. */
            atomic_store_explicit(&r->suffix, shm_random_suffix(), memory_order_relaxed);
        shm_image_name(&p->v, gen, atomic_load_explicit(&r->suffix, memory_order_relaxed), seg);
        fd = shm_open(seg, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return shm_sys_fail(err, CS_EIO, seg, "cannot create image segment");
    /* fchmod: shm_open applies the umask; the mode rule is ours. */
    if (fchmod(fd, (mode_t)shm_image_mode(p->mode)) != 0) {
        int rc = shm_sys_fail(err, CS_EIO, seg, "fchmod");
        close(fd);
        shm_unlink(seg);
        return rc;
    }
    if (step)
        step(CS_SHM_STEP_CREATED, ctx);
    uint8_t hdr[SHM_IMAGE_HEADER_LEN];
    memcpy(hdr, img, sizeof hdr);
    memcpy(hdr + SHM_IMAGE_GEN_OFF, &gen, sizeof gen); /* little-endian host */
    size_t half = SHM_IMAGE_HEADER_LEN + (len - SHM_IMAGE_HEADER_LEN) / 2;
    off_t total = (off_t)len, off = 0;
    for (size_t i = 0; i < pieces; i++)
        total += (off_t)piece_len[i];
    /* A reused segment takes exactly the new length (its pages beyond are
     * freed, missing ones come with the writes). */
    struct stat st;
    int rc = 0;
    if (reused && (fstat(fd, &st) != 0 || (st.st_size != total && ftruncate(fd, total) != 0)))
        rc = shm_sys_fail(err, CS_EIO, seg, "cannot size the reused image segment");
    if (rc == 0)
        rc = write_all(fd, &off, hdr, sizeof hdr, seg, err);
    if (rc == 0)
        rc = write_all(fd, &off, img + SHM_IMAGE_HEADER_LEN, half - SHM_IMAGE_HEADER_LEN, seg, err);
    if (rc == 0 && step)
        step(CS_SHM_STEP_HALF_WRITTEN, ctx);
    if (rc == 0)
        rc = write_all(fd, &off, img + half, len - half, seg, err);
    for (size_t i = 0; rc == 0 && i < pieces; i++)
        rc = write_all(fd, &off, piece[i], piece_len[i], seg, err);
    if (close(fd) != 0 && rc == 0)
        rc = shm_sys_fail(err, CS_EIO, seg, "close");
    return rc;
}

/* VPCs of an image for the shrink guard: the estate's VPCs, or for an image
 * without estate tables its entries. */
static uint64_t image_vpcs(const cs_snapshot *s)
{
    if (cs_estate_present(s)) {
        cs_estate_counts c;
        cs_estate_counts_get(s, &c);
        return c.vpcs;
    }
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    return (uint64_t)info.entries[0] + info.entries[1];
}

/* The shrink guard (lock held): refuses, recording the refusal for stat,
 * when `vpcs` loses more than max_shrink percent of the current VPCs. */
static int shrink_guard(cs_shm_publisher *p, uint64_t vpcs, unsigned flags, cs_error *err)
{
    shm_ctl *c = p->v.ctl;
    /* relaxed: lock holders write these; readers only display them. */
    uint64_t prev = atomic_load_explicit(&c->vpc_count, memory_order_relaxed);
    if (!p->max_shrink || (flags & CS_SHM_FORCE) || prev == 0 ||
        atomic_load_explicit(&c->generation, memory_order_relaxed) == 0 ||
        vpcs * 100 >= prev * (100 - p->max_shrink))
        return 0;
    atomic_store_explicit(&c->refused_vpcs, vpcs, memory_order_relaxed);
    atomic_store_explicit(&c->refused_prev_vpcs, prev, memory_order_relaxed);
    atomic_store_explicit(&c->refused_unix, (uint64_t)time(NULL), memory_order_relaxed);
    cs_error_source(err, p->v.name);
    return cs_fail(err, CS_ERANGE,
                   "refused: the new generation has %llu VPCs, %.1f%% fewer than the %llu served "
                   "(more than --max-shrink %u%%); generation %llu keeps serving until confirmed (SIGHUP to serve, or publish --force)",
                   (unsigned long long)vpcs, 100.0 * (double)(prev - vpcs) / (double)prev,
                   (unsigned long long)prev, p->max_shrink,
                   (unsigned long long)atomic_load_explicit(&c->generation, memory_order_relaxed));
}

static int publish_impl(cs_shm_publisher *p, const cs_snapshot *s, unsigned flags, cs_shm_step_fn step,
                        void *ctx, uint64_t *generation, cs_error *err)
{
    if (!p || !s)
        return cs_fail(err, CS_EINVAL, "NULL publisher or snapshot");
    if (p->removed)
        return cs_fail(err, CS_ESTATE, "the service was removed; only close is allowed");
    size_t len;
    const uint8_t *img = cs_snapshot_image(s, &len);
    if (len < SHM_IMAGE_HEADER_LEN)
        return cs_fail(err, CS_EINVAL, "image of %zu bytes is shorter than its header", len);
    int rc = lock_writer(p, err);
    if (rc)
        return rc;
    uint64_t vpcs = image_vpcs(s);
    rc = shrink_guard(p, vpcs, flags, err);
    if (rc) {
        unlock_writer(p);
        return rc;
    }
    if (step)
        step(CS_SHM_STEP_LOCKED, ctx);
    shm_ctl *c = p->v.ctl;
    /* relaxed: only lock holders store it, and we hold the lock. */
    uint64_t next = atomic_load_explicit(&c->generation, memory_order_relaxed) + 1;
    remove_orphans(p);
    if (step)
        step(CS_SHM_STEP_CLEANED, ctx);

    shm_imgrec *rec = NULL;
    uint64_t retired = 0;
    if (p->reuse) {
        rec = take_spare(p, next - 1, &retired);
        if (rec && reuse_rename(p, rec, retired, next, len) != 0) {
            /* renamed nowhere (or no renameat2): the spare goes, and its
             * record serves a new segment */
            unlink_image(p, rec, atomic_load_explicit(&rec->gen, memory_order_relaxed));
            retired = 0;
            if (atomic_load_explicit(&rec->gen, memory_order_relaxed) != 0)
                rec = NULL;
        }
    }
    for (int pass = 0; pass < 2 && !rec; pass++) {
        for (uint32_t i = 0; i < p->v.image_cap && !rec; i++)
            /* relaxed: lock held (the table is the lock holder's). */
            if (atomic_load_explicit(&p->v.images[i].gen, memory_order_relaxed) == 0)
                rec = &p->v.images[i];
        if (!rec)
            /* a full table: the spares go first */
            reclaim(p, false);
    }
    if (!rec) {
        unlock_writer(p);
        cs_error_source(err, p->v.name);
        return cs_fail(err, CS_EBUSY, "image table of %s is full (segments that cannot be unlinked?)", p->v.name);
    }
    /* relaxed: read by later lock holders (ordered by the lock) and for
     * display. Recorded before the segment exists, so a crash from here on
     * leaves a record pointing at the orphan. (A reused one is recorded
     * by reuse_rename.) */
    if (!retired) {
        atomic_store_explicit(&rec->len, (uint64_t)len, memory_order_relaxed);
        atomic_store_explicit(&rec->suffix, shm_random_suffix(), memory_order_relaxed);
        atomic_store_explicit(&rec->gen, next, memory_order_relaxed);
    }
    if (step)
        step(CS_SHM_STEP_RECORDED, ctx);

    rc = write_image(p, rec, retired != 0, s, img, len, next, step, ctx, err);
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
    atomic_store_explicit(&c->vpc_count, vpcs, memory_order_relaxed);
    atomic_store_explicit(&c->refused_unix, 0, memory_order_relaxed);
    /* THE publication: one seq_cst store (see the top of the file). */
    atomic_store_explicit(&c->generation, next, memory_order_seq_cst);
    if (step)
        step(CS_SHM_STEP_PUBLISHED, ctx);
    reclaim(p, true);
    if (step)
        step(CS_SHM_STEP_RECLAIMED, ctx);
    unlock_writer(p);
    if (generation)
        *generation = next;
    return 0;
}

int cs_shm_publish_hooked(cs_shm_publisher *p, const cs_snapshot *s, cs_shm_step_fn step, void *ctx,
                          uint64_t *generation, cs_error *err)
{
    return publish_impl(p, s, 0, step, ctx, generation, err);
}

int cs_shm_publish(cs_shm_publisher *p, const cs_snapshot *s, uint64_t *generation, cs_error *err)
{
    return publish_impl(p, s, 0, NULL, NULL, generation, err);
}

int cs_shm_publish_with(cs_shm_publisher *p, const cs_snapshot *s, unsigned flags, uint64_t *generation,
                        cs_error *err)
{
    return publish_impl(p, s, flags, NULL, NULL, generation, err);
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
    int n = reclaim(p, true);
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
    atomic_fetch_or_explicit(&c->flags, SHM_REMOVED, memory_order_release);
    remove_orphans(p);
    int failed = 0;
    for (uint32_t i = 0; i < p->v.image_cap; i++) {
        /* relaxed: lock held. */
        uint64_t g = atomic_load_explicit(&p->v.images[i].gen, memory_order_relaxed);
        if (g != 0 && !unlink_image(p, &p->v.images[i], g))
            failed = errno;
    }
    char seg[SHM_SEG_NAME_CAP];
    shm_readers_name(&p->v, p->v.ctl->readers_suffix, seg);
    if (shm_unlink(seg) != 0 && errno != ENOENT)
        failed = errno;
    if (shm_unlink(p->v.name) != 0 && errno != ENOENT)
        failed = errno;
    p->removed = true;
    unlock_writer(p);
    if (failed) {
        errno = failed;
        return shm_sys_fail(err, CS_EIO, p->v.name, "shm_unlink");
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
    }
    shm_view_unmap(&p->v);
    free(p);
}
