/*
 * engine/serve/shm_pin.c — readers of a shared-memory service: attaching,
 * claiming reader slots, pinning generations, mapping each generation once
 * per process.
 *
 * Does: attach (control segment read-only, reader table read-write, both
 * checked for their owner: shm_segments.c), claim and release reader slots,
 * the pin protocol below, process-local mappings of image segments.
 * Does not: publish or reclaim (shm_publish.c), or answer queries
 * (engine/query/ reads the mapped image like any other).
 *
 * A reader writes nothing but reader-table slots, and trusts nothing it
 * reads there: a slot whose pid names no live process is free to take, and
 * other slots' generations are never read. The generation, the image table
 * and the images come from segments only the owner can write.
 *
 * Pin order (cs_shm_pin), after LMDB's mdb_txn_renew0:
 *   a. slot: CAS pid 0 -> us, acquire (pairs with the release of pid 0 by
 *      the last owner, so its gen = 0 is seen). When every slot is held by a
 *      live process, wait (1 ms naps) up to the attachment's slot wait, then
 *      fail naming the holders' pids.
 *   b. g = generation, acquire (pairs with publish step 7: the image
 *      segment and its image-table record are complete).
 *   c. slot.gen = g, seq_cst.
 *   d. generation again, seq_cst; if it is no longer g, go to b.
 *   e. map "/NAME@<g>.<suffix>" (suffix from g's image-table record) if this
 *      process has not (see MAPPINGS); or, when another thread of the
 *      attachment is mapping it right now (the library's own, MAPPING
 *      AHEAD, or a caller's cs_shm_refresh; or for cs_shm_pin_mapped), use
 *      the newest generation already mapped and set slot.gen to it
 *      (release). Mapped memory outlives the unlink of its segment, so that
 *      needs no protocol: the slot only informs.
 * The pin race: c and d are seq_cst, as are the publisher's step 7 (the
 * generation store) and step 8's loads of slot.gen. If d still reads g, then
 * d precedes 7 in the single order S of seq_cst operations; c precedes d
 * and 7 precedes 8, so c precedes 8's loads, which therefore see slot.gen ==
 * g and keep g's segment and its record. If instead 7 precedes d, the reader
 * retries with the new generation and never opens g. Either way no segment
 * is unlinked (nor its record erased) between a successful d and the open in
 * e. (A segment that vanished anyway — removed by hand, or by cs_shm_unlink
 * — is reported, or retried when the generation moved on.)
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
 * TRUST. An image segment is mapped only when owned by the control
 * segment's owner with no group or other write bit. Such a segment was
 * written once, by the owner's publisher, from an image that was validated
 * (built by freeze or opened with its checksums checked), so it is not
 * validated again on the query path: when the owner is this process's user
 * or root, the first pin only checks the header and builds the derived
 * indexes (CS_OPEN_TRUSTED); another owner's images (cs_shm_attach_with)
 * get every bound checked, not the checksums; CS_SHM_VERIFY (the attach
 * flag, or CS_SHM_VERIFY=1 in the environment) checks everything. The
 * derived direct indexes, too, are the publisher's: written after the image
 * in the same owner-only segment (image/direct_blob_internal.h) and taken as
 * they are by trusted readers, so the first pin of a new generation makes a
 * few system calls and reads a few headers (0.2 ms for a 100 MB image,
 * against 90 ms to build the indexes; bench/results-shm.md). Untrusted and
 * verifying readers build them from the validated tries instead. Retired
 * mappings are unmapped on a thread of their own (victims_release).
 *
 * MAPPING AHEAD. What is left after that is the first queries on a new
 * mapping: each page they touch costs a fault in this process (2-3 ms of a
 * 0.5 ms batch at 100 MB; /dev/shm has no huge pages). So once a
 * generation is mapped, cs_shm_pin does not map a newer one on its own
 * thread: it starts a short-lived library thread (prepare_start; one at a
 * time per attachment) that pins the current generation with PIN_PREPARE
 * — map, validate, MADV_POPULATE_READ every page — and puts it in as cur,
 * and meanwhile pins the newest mapped generation (step e). Should that
 * thread fail, it records the generation (prep_failed) and pins of it map
 * it themselves, so the error reaches a caller. This is what keeps a query
 * batch during publishes as long as one without (issue 14).
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
 * cs_shm_refresh lets a caller's own thread pay the first mapping ahead,
 * and cs_shm_pin_mapped never pays it once anything is mapped. The fast
 * path's increment-then-recheck against the unmapper's move-of-cur-then-
 * check-refs is the same store/load pattern as the pin race: one of the two
 * sees the other. Entries are never freed before detach, only their
 * mappings, so a stale entry pointer is always safe to read.
 *
 * References: LMDB (libraries/liblmdb/mdb.c: MDB_txninfo, mdb_txn_renew0,
 * mdb_reader_check), POSIX shm_open(3), C11 7.17 (atomics, 7.17.3 order S).
 * Tests: tests/test_shm.c, tests/security/.
 */
#include "serve/shm_internal.h"

#include "core/error_internal.h"
#include "image/direct_blob_internal.h"
#include "image/snapshot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A thread's last reader slot: where its next claim starts, so a thread
 * tends to reuse one slot (one cache line) as LMDB's thread-bound slots do. */
static _Thread_local uint32_t slot_hint;

/* ---- readers -------------------------------------------------------------- */

int cs_shm_attach_with(const char *name, const cs_shm_attach_options *opts, cs_shm **out,
                       cs_error *err)
{
    if (!out)
        return cs_fail(err, CS_EINVAL, "NULL out");
    *out = NULL;
    cs_shm_attach_options o = opts ? *opts : (cs_shm_attach_options){.owner_uid = -1};
    if (o.owner_uid < -1 || o.owner_uid > (int64_t)UINT32_MAX - 1)
        return cs_fail(err, CS_EINVAL, "owner uid %lld out of range", (long long)o.owner_uid);
    cs_shm *h = calloc(1, sizeof *h);
    if (!h)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    /* Trusted owners: the one named, else this process's user or root. */
    uid_t owners[2] = {geteuid(), 0};
    int nowners = 2;
    if (o.owner_uid >= 0) {
        owners[0] = (uid_t)o.owner_uid;
        nowners = 1;
    }
    int rc = shm_make_name(name, h->v.name, err);
    if (rc == 0)
        rc = shm_ctl_open(&h->v, false, owners, nowners, err);
    if (rc == SHM_NOT_READY) {
        cs_error_source(err, h->v.name);
        rc = cs_fail(err, CS_ENOTFOUND, "shared-memory service '%s' is not initialised (its publisher is starting, or crashed while creating it)",
                     h->v.name + 1);
    }
    if (rc == 0 && pthread_mutex_init(&h->lock, NULL) != 0) {
        shm_view_unmap(&h->v);
        rc = cs_fail(err, CS_ENOMEM, "pthread_mutex_init failed");
    }
    if (rc) {
        free(h);
        return rc;
    }
    h->v.pid = (int32_t)getpid();
    h->flags = o.flags & (CS_OPEN_NO_VERIFY | CS_SHM_VERIFY);
    /* CS_SHM_VERIFY=1 in the environment: full validation for every
     * attachment of this process, whatever the caller asked (SECURITY.md). */
    const char *ev = getenv("CS_SHM_VERIFY");
    if (ev && *ev && strcmp(ev, "0") != 0)
        h->flags |= CS_SHM_VERIFY;
    h->slot_wait_ms = o.slot_wait_ms ? o.slot_wait_ms : SHM_DEFAULT_SLOT_WAIT_MS;
    for (unsigned i = 0; i < SHM_MAPS; i++) {
        atomic_init(&h->maps[i].gen, 0);
        atomic_init(&h->maps[i].refs, 0);
    }
    atomic_init(&h->cur, NULL);
    atomic_init(&h->mapping, 0);
    atomic_init(&h->preparing, false);
    atomic_init(&h->prep_failed, 0);
    atomic_init(&h->helpers, 0);
    *out = h;
    return 0;
}

int cs_shm_attach(const char *name, unsigned flags, cs_shm **out, cs_error *err)
{
    cs_shm_attach_options o = {.flags = flags, .owner_uid = -1};
    return cs_shm_attach_with(name, &o, out, err);
}

/* One pass over the table: a free slot, else one of a dead process. */
static bool try_claim(cs_shm *h, uint32_t *out)
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
            return true;
        }
    }
    /* Every slot is held: take one of a dead process, or one holding a pid
     * that names no process at all (another reader's garbage). System
     * calls, but only when the table is full. */
    for (uint32_t s = 0; s < n; s++) {
        shm_slot *sl = &h->v.slots[s];
        /* relaxed: the CAS below decides; a stale value only fails it. */
        int32_t o = atomic_load_explicit(&sl->pid, memory_order_relaxed);
        if (o != 0 && o != h->v.pid && !shm_pid_alive(o) &&
            atomic_compare_exchange_strong_explicit(&sl->pid, &o, h->v.pid, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            /* relaxed: the slot is ours; our seq_cst store of the pinned
             * generation comes next and orders it. */
            atomic_store_explicit(&sl->gen, 0, memory_order_relaxed);
            slot_hint = s;
            *out = s;
            return true;
        }
    }
    return false;
}

static int claim_slot(cs_shm *h, uint32_t *out, cs_error *err)
{
    if (!h->v.rdr_writable) {
        cs_error_source(err, h->v.name);
        return cs_fail(err, CS_EIO, "no write permission on the reader table of %s: ask its owner for a --mode that lets you read",
                       h->v.name);
    }
    uint64_t deadline = shm_now_ms() + h->slot_wait_ms;
    for (;;) {
        if (try_claim(h, out))
            return 0;
        if (shm_now_ms() >= deadline)
            break;
        shm_sleep_ms(1);
    }
    /* Name the holders, so an operator can tell idle readers from a flood. */
    char pids[160] = "";
    size_t used = 0;
    unsigned shown = 0;
    for (uint32_t s = 0; s < h->v.slot_count && shown < 8; s++) {
        /* relaxed: for the message only. */
        int32_t o = atomic_load_explicit(&h->v.slots[s].pid, memory_order_relaxed);
        if (o == 0)
            continue;
        int w = snprintf(pids + used, sizeof pids - used, "%s%d", shown ? ", " : "", (int)o);
        if (w < 0 || (size_t)w >= sizeof pids - used)
            break;
        used += (size_t)w;
        shown++;
    }
    cs_error_source(err, h->v.name);
    return cs_fail(err, CS_EBUSY, "all %u reader slots of %s stayed held for %u ms (pids %s%s)",
                   h->v.slot_count, h->v.name, h->slot_wait_ms, pids,
                   shown < h->v.slot_count ? ", ..." : "");
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

/* Old generations are unmapped by a short-lived thread of their own, not
 * by the pin that retired them: the munmap of a segment its publisher has
 * unlinked frees all its pages (the last reference), milliseconds per
 * 100 MB that would otherwise stall a query batch (issue 14). Detach waits
 * for these threads. */
typedef struct shm_reap {
    cs_shm *h;
    unsigned n;
    shm_victim v[SHM_MAPS];
} shm_reap;

/* Runs fn(arg) on a detached library thread of h, counted in h->helpers
 * (detach waits for them). Returns false when no thread could be had. */
static bool helper_start(cs_shm *h, void *(*fn)(void *), void *arg, size_t stack)
{
    pthread_attr_t a;
    pthread_t t;
    atomic_fetch_add_explicit(&h->helpers, 1, memory_order_relaxed);
    bool started = pthread_attr_init(&a) == 0;
    if (started) {
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (stack)
            pthread_attr_setstacksize(&a, stack);
        started = pthread_create(&t, &a, fn, arg) == 0;
        pthread_attr_destroy(&a);
    }
    if (!started)
        atomic_fetch_sub_explicit(&h->helpers, 1, memory_order_relaxed);
    return started;
}

/* The end of a helper's work. release: what it did (unmaps, a mapping put
 * in) happens before detach sees the count drop. */
static void helper_done(cs_shm *h)
{
    atomic_fetch_sub_explicit(&h->helpers, 1, memory_order_release);
}

static void *reap_main(void *arg)
{
    shm_reap *r = arg;
    cs_shm *h = r->h;
    for (unsigned i = 0; i < r->n; i++)
        victim_release(&r->v[i]);
    free(r);
    helper_done(h);
    return NULL;
}

/* Releases victims[0..n) on a detached thread, or here when no thread can
 * be had. */
static void victims_release(cs_shm *h, shm_victim *victims, unsigned n)
{
    if (!n)
        return;
    shm_reap *r = malloc(sizeof *r);
    if (r) {
        r->h = h;
        r->n = n;
        memcpy(r->v, victims, n * sizeof *victims);
        /* the thread only unmaps: a small stack will do */
        if (helper_start(h, reap_main, r, 64 * 1024))
            return;
        free(r);
    }
    for (unsigned i = 0; i < n; i++)
        victim_release(&victims[i]);
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

/* Faults every page of a fresh read-only mapping in (PREPARING), so the
 * queries that later use it take no page fault: MADV_POPULATE_READ (Linux
 * 5.14) in one call, else one read per page. Nothing depends on it but
 * speed, so a failure is not an error. */
static void populate(const void *base, size_t len)
{
#ifdef MADV_POPULATE_READ
    if (madvise((void *)base, len, MADV_POPULATE_READ) == 0)
        return;
#endif
    long pg = sysconf(_SC_PAGESIZE);
    size_t step = pg > 0 ? (size_t)pg : 4096u;
    const volatile uint8_t *p = base;
    uint8_t sink = 0;
    for (size_t off = 0; off < len; off += step)
        sink ^= p[off];
    (void)sink;
}

/* Opens, maps and validates the image segment of generation g (no lock
 * held: the system calls and checksums run outside it). Returns 0 with *out,
 * MAP_RETRY (the segment is gone because the generation moved on), or an
 * error naming the segment. */
static int map_open(cs_shm *h, uint64_t g, bool prefault, shm_victim *out, cs_error *err)
{
    char seg[SHM_SEG_NAME_CAP];
    /* The record of g: complete since our acquire load of g, and kept
     * while our slot pins g (the pin race). */
    shm_imgrec *r = shm_image_record(&h->v, g);
    uint64_t suffix = r ? atomic_load_explicit(&r->suffix, memory_order_relaxed) : 0;
    int fd = -1;
    if (r && atomic_load_explicit(&r->gen, memory_order_relaxed) == g) {
        shm_image_name(&h->v, g, suffix, seg);
        fd = shm_open(seg, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0 && errno == EACCES) {
            /* Not readable: a segment someone else put there? On Linux
             * the name is a file under /dev/shm; say whose it is. */
            char path[SHM_SEG_NAME_CAP + 16];
            struct stat st;
            snprintf(path, sizeof path, "/dev/shm%s", seg);
            if (stat(path, &st) == 0 && st.st_uid != h->v.owner) {
                char found[64], want[64];
                cs_error_source(err, seg);
                return cs_fail(err, CS_ECONFLICT, "refusing %s: owned by %s with mode %04o; expected owner %s",
                               seg, shm_user_name(st.st_uid, found, sizeof found),
                               (unsigned)(st.st_mode & 07777), shm_user_name(h->v.owner, want, sizeof want));
            }
            errno = EACCES;
        }
        if (fd < 0 && errno != ENOENT)
            return shm_sys_fail(err, CS_EIO, seg, "shm_open");
    } else {
        snprintf(seg, sizeof seg, "%s@%llu", h->v.name, (unsigned long long)g);
    }
    if (fd < 0) {
        /* acquire: as the pin's first load. */
        if (atomic_load_explicit(&h->v.ctl->flags, memory_order_acquire) & SHM_REMOVED) {
            cs_error_source(err, h->v.name);
            return cs_fail(err, CS_ENOTFOUND, "shared-memory service '%s' was removed", h->v.name + 1);
        }
        if (atomic_load_explicit(&h->v.ctl->generation, memory_order_acquire) != g)
            return MAP_RETRY;
        cs_error_source(err, seg);
        return cs_fail(err, CS_ECORRUPT, "image segment %s of the current generation is missing", seg);
    }
    int rc = shm_check_owner(fd, seg, h->v.owner, false, err);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) != 0)
        rc = shm_sys_fail(err, CS_EIO, seg, "fstat");
    if (rc) {
        close(fd);
        return rc;
    }
    size_t len = (size_t)st.st_size;
    if (len < SHM_IMAGE_HEADER_LEN) {
        close(fd);
        cs_error_source(err, seg);
        return cs_fail(err, CS_ECORRUPT, "image segment %s of %zu bytes is shorter than an image header", seg, len);
    }
    void *base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return shm_sys_fail(err, CS_EIO, seg, "mmap");
    if (prefault)
        populate(base, len);
    /* The segment: the image, then its direct-index blob. */
    uint64_t image_len;
    memcpy(&image_len, (const uint8_t *)base + SHM_IMAGE_LEN_OFF, sizeof image_len);
    if (image_len < SHM_IMAGE_HEADER_LEN || image_len % 64 || image_len >= len) {
        munmap(base, len);
        cs_error_source(err, seg);
        return cs_fail(err, CS_ECORRUPT, "image segment %s is %zu bytes; its image has %llu (and the direct indexes follow it)",
                       seg, len, (unsigned long long)image_len);
    }
    const uint8_t *blob = (const uint8_t *)base + image_len;
    size_t blob_len = len - (size_t)image_len;
    /* Owner-only writable (checked above): trusted (TRUST above). */
    bool trusted = !(h->flags & CS_SHM_VERIFY) && (h->v.owner == geteuid() || h->v.owner == 0);
    cs_snapshot *snap = NULL;
    if (trusted)
        rc = snap_from_memory_with_blob(base, (size_t)image_len, blob, blob_len, CS_OPEN_NO_VERIFY, &snap, err);
    else
        rc = cs_snapshot_from_memory(base, (size_t)image_len, (h->flags & CS_SHM_VERIFY) ? 0 : CS_OPEN_NO_VERIFY,
                                     &snap, err);
    if (rc == 0 && prefault && !trusted)
        /* the indexes a trusted reader takes from the blob: built here,
         * not by the first query */
        (void)snap_direct_of(snap);
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
static int map_slow(cs_shm *h, uint64_t g, bool prefault, shm_map **out, bool *mapped, cs_error *err)
{
    pthread_mutex_lock(&h->lock);
    shm_map *m = map_find(h, g);
    pthread_mutex_unlock(&h->lock);
    if (m) {
        *out = m;
        return 0;
    }
    shm_victim fresh;
    int rc = map_open(h, g, prefault, &fresh, err);
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
    victims_release(h, victims, nv);
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

/*
 * How a pin gets a generation that is not mapped in this process yet:
 *   PIN_CURRENT  cs_shm_pin: when an older generation is mapped, a library
 *                thread maps the new one (prepare_start) and the pin takes
 *                the newest mapped meanwhile; with nothing mapped, or when
 *                that thread failed on this generation, it maps it itself.
 *   PIN_MAPPED   cs_shm_pin_mapped: the newest mapped; maps only when
 *                nothing is.
 *   PIN_NOW      cs_shm_refresh: maps it on the calling thread.
 *   PIN_PREPARE  the library thread: maps it and faults its pages in.
 * In these modes, while another thread of the attachment is mapping, the
 * pin takes the newest mapped generation rather than map the same one
 * twice.
 *   PIN_HERE     maps it on the calling thread, whatever else goes on:
 *                the newest mapped generation was refused (its segment is
 *                being reused: fallback_pinned).
 */
enum { PIN_CURRENT, PIN_MAPPED, PIN_NOW, PIN_PREPARE, PIN_HERE };

static bool prepare_start(cs_shm *h);

/*
 * A mapping with one reference taken, for a pin of current generation g:
 * g's own, or (see the modes above) the newest mapped one, which the
 * caller then reports as pinned. *mapped tells whether this call mapped a
 * new generation. Returns 0, MAP_RETRY or an error.
 */
static int map_get(cs_shm *h, uint64_t g, int mode, shm_map **out, bool *mapped, cs_error *err)
{
    *mapped = false;
    shm_map *m = ref_cur(h, g);
    /* relaxed, all three: hints; a wrong guess only maps here, or takes
     * the mapped generation one pin longer. */
    bool ahead = !m && mode == PIN_CURRENT && atomic_load_explicit(&h->cur, memory_order_relaxed) &&
                 atomic_load_explicit(&h->prep_failed, memory_order_relaxed) != g && prepare_start(h);
    if (!m && mode != PIN_HERE &&
        (ahead || mode == PIN_MAPPED || atomic_load_explicit(&h->mapping, memory_order_relaxed) != 0)) {
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
    int rc = map_slow(h, g, mode == PIN_PREPARE, out, mapped, err);
    if (claimed)
        atomic_store_explicit(&h->mapping, 0, memory_order_relaxed);
    if (rc < 0 && mode == PIN_PREPARE)
        /* relaxed: a hint (above); the next pins of g map it themselves
         * and say what is wrong with it. */
        atomic_store_explicit(&h->prep_failed, g, memory_order_relaxed);
    return rc;
}

/*
 * A pin of current generation g served by mapped generation mg (step e):
 * the slot says mg. Our mapping keeps its memory whether or not its
 * segment still exists, so unless a publisher reuses segments (REUSING)
 * the slot only tells stat what we read. If one does, the slot is what
 * keeps the segment from being rewritten: seq_cst store of slot.gen, then
 * seq_cst loads of the flag and of mg's record, against take_spare's
 * seq_cst flag, RETIRING mark and slot scan (shm_publish.c). If the record
 * no longer says mg, the segment may be rewritten under our mapping:
 * returns false (the caller maps g).
 */
static bool fallback_pinned(cs_shm *h, shm_slot *sl, uint64_t mg)
{
    atomic_store_explicit(&sl->gen, mg, memory_order_seq_cst);
    if (!(atomic_load_explicit(&h->v.ctl->flags, memory_order_seq_cst) & SHM_REUSING))
        return true;
    for (uint32_t i = 0; i < h->v.image_cap; i++)
        if (atomic_load_explicit(&h->v.images[i].gen, memory_order_seq_cst) == mg)
            return true;
    return false;
}

/* cs_shm_pin, cs_shm_pin_mapped, cs_shm_refresh and the library thread
 * mapping ahead, by mode (above); *mapped as map_get's. */
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
    if (atomic_load_explicit(&c->flags, memory_order_acquire) & SHM_REMOVED) {
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
        if (mg != g && !fallback_pinned(h, sl, mg)) {
            /* mg's segment is being reused: map g here instead. release:
             * as unpin's. */
            atomic_fetch_sub_explicit(&m->refs, 1, memory_order_release);
            mode = PIN_HERE;
            continue;
        }
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
    int rc = pin_impl(h, &pin, PIN_NOW, &mapped, err);
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

/* The library thread mapping ahead: maps and faults in the current
 * generation (again, should another be published meanwhile, a few times at
 * most), so that pins find it ready. */
static void *prepare_main(void *arg)
{
    cs_shm *h = arg;
    for (int round = 0; round < 4; round++) {
        cs_pin pin;
        bool mapped;
        if (pin_impl(h, &pin, PIN_PREPARE, &mapped, NULL) != 0)
            break;
        uint64_t g = pin.generation;
        cs_shm_unpin(&pin);
        if (cs_shm_generation(h) == g)
            break;
    }
    /* release: a pin that sees the flag down and starts the next thread
     * comes after this one's mapping went in. */
    atomic_store_explicit(&h->preparing, false, memory_order_release);
    helper_done(h);
    return NULL;
}

/* Makes sure a library thread is mapping ahead: true when one runs (this
 * call started it, or another's), false when none could be started. */
static bool prepare_start(cs_shm *h)
{
    bool idle = false;
    /* acq_rel: one starter; acquire pairs with prepare_main's release. */
    if (!atomic_compare_exchange_strong_explicit(&h->preparing, &idle, true, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return true;
    if (helper_start(h, prepare_main, h, 0))
        return true;
    atomic_store_explicit(&h->preparing, false, memory_order_relaxed);
    return false;
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
    /* acquire: the unmapping threads' work is done before h goes. */
    while (atomic_load_explicit(&h->helpers, memory_order_acquire) != 0)
        shm_sleep_ms(1);
    for (unsigned i = 0; i < SHM_MAPS; i++) {
        /* relaxed: no pin may be left, so no other thread uses h. */
        if (atomic_load_explicit(&h->maps[i].gen, memory_order_relaxed) != 0) {
            shm_victim v;
            map_take(&h->maps[i], &v);
            victim_release(&v);
        }
    }
    pthread_mutex_destroy(&h->lock);
    shm_view_unmap(&h->v);
    free(h);
}

