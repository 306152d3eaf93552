/*
 * engine/serve/ledger.c — the reservation ledger of a service
 * (include/cidrscope/ipam.h, "the reservation ledger").
 *
 * Does: keep reservations in a shared-memory segment "/NAME.ledger" of its
 * own, guarded by a lock word taken by compare-and-swap (a holder that dies
 * is detected and replaced: lock(), below), with every change written
 * first to an append-only journal file (fsync'ed) and replayed from it on
 * restart or after a holder died mid-change. Allocation itself is
 * cs_ipam_alloc (a public call; the ledger only adds its reservations as
 * used blocks). Does not: touch the service's control or image segments
 * (engine/serve/shm_segments.c), print.
 *
 * SEGMENT (native endianness and layout: it never leaves the machine):
 *
 *   OFFSET  SIZE               FIELD
 *        0     8               magic "CSLEDGR1"
 *        8     4               version (2)
 *       12     4               cap: record slots
 *       16     8               owner: the lock's holder word, 0 = free
 *        …     8               count: records in use (slots [0, count))
 *        …     8               applied: every journal line with seq <
 *                              applied is reflected in the records
 *        …   512               journal: absolute path of the journal file
 *     hdr    cap * sizeof(cs_reservation)   records, in journal order
 *
 * JOURNAL (text, one change a line; '#' lines are comments):
 *
 *   R SEQ PREFIX TOKEN OWNER...   reserve (OWNER: the rest of the line)
 *   X SEQ PREFIX                  release the active reservation of PREFIX
 *   F SEQ PREFIX                  retire it as fulfilled
 *
 * SEQ numbers every change from 0 without gaps. A line not ending in a
 * newline is a torn write and is cut off.
 *
 * ORDER OF A CHANGE (under the lock): (1) the lines are appended to the
 * journal and fsync'ed; (2) the records are written (new slots past count,
 * or a state byte); (3) count is raised; (4) applied is raised past the
 * lines. A process killed anywhere leaves its holder word in the lock; the
 * waiter that finds it dead takes the lock over and REPAIRS first: it drops
 * the records of seq >= applied (written but not confirmed), cuts a torn
 * journal line, and applies every journal line of seq >= applied
 * (re-applying a release is harmless). So the segment always equals a replay of the journal, and
 * a change is acknowledged only after (1): no acknowledged reservation can
 * be lost; an unacknowledged one may survive (the caller retries with its
 * token and gets it back).
 *
 * Tests: tests/test_ledger.c (8 processes x 1,000 commits, some killed
 * mid-commit: no overlap, nothing acknowledged lost, replay == state).
 */
#define _GNU_SOURCE
#include <cidrscope/ipam.h>
#include <cidrscope/query.h>

#include "core/error_internal.h"
#include "serve/ledger_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LEDGER_MAGIC 0x3152474445444c53ull /* "SLEDGER1" little-endian */
#define LEDGER_CAP 65536u
#define LEDGER_VERSION 2u /* 2: the lock is a holder word, not a pthread mutex */
#define NAME_CAP 300

typedef struct ledger_hdr {
    uint64_t magic;
    uint32_t version, cap;
    uint64_t owner; /* the lock: 0 free, else holder_word() of its holder */
    uint64_t count;
    uint64_t applied;
    char journal[512];
} ledger_hdr;

struct cs_ledger {
    ledger_hdr *h;
    cs_reservation *rec;
    size_t map_len;
    int jfd; /* journal, O_RDWR | O_APPEND */
};

/* ---- names and mapping ----------------------------------------------------- */

static int seg_name(const char *name, char *out, cs_error *err)
{
    if (!name || !*name)
        return cs_fail(err, CS_EINVAL, "NULL or empty service name");
    if (name[0] == '/')
        name++;
    size_t n = strlen(name);
    if (n == 0 || n > 200)
        return cs_fail(err, CS_EINVAL, "service name must have 1 to 200 characters");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return cs_fail(err, CS_EINVAL, "service name '%s': bad character", name);
    }
    snprintf(out, NAME_CAP, "/%s.ledger", name);
    return 0;
}

static size_t map_len(uint32_t cap)
{
    return sizeof(ledger_hdr) + (size_t)cap * sizeof(cs_reservation);
}

static int sys_fail(cs_error *err, const char *what, const char *obj)
{
    int e = errno;
    return cs_fail(err, CS_EIO, "%s %s: %s", what, obj, strerror(e));
}

/* ---- journal lines ---------------------------------------------------------------- */

static bool token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > CS_LEDGER_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-_.:@/+=", c)))
            return false;
    }
    return true;
}

static void owner_copy(char *dst, const char *src)
{
    size_t k = 0;
    for (; src && src[k] && k < CS_LEDGER_OWNER_MAX; k++)
        dst[k] = (unsigned char)src[k] < 0x20 || src[k] == 0x7f ? '_' : src[k];
    dst[k] = '\0';
}

/* Applies one journal line (NUL-terminated, no newline) if its seq is not
 * applied yet. Returns 0, or CS_EINVAL (unreadable), CS_ERANGE (full). */
static int apply_line(cs_ledger *l, const char *line)
{
    ledger_hdr *h = l->h;
    if (line[0] == '#' || line[0] == '\0')
        return 0;
    char op;
    unsigned long long seq;
    char pfx[64], token[CS_LEDGER_TOKEN_MAX + 1] = "";
    int used = 0;
    if (sscanf(line, "%c %llu %63s%n", &op, &seq, pfx, &used) != 3)
        return CS_EINVAL;
    cs_prefix p;
    if (cs_prefix_parse(pfx, strlen(pfx), 0, &p, NULL) != 0)
        return CS_EINVAL;
    if (seq < h->applied)
        return 0;
    if (seq != h->applied)
        return CS_EINVAL; /* a gap: not this ledger's journal */
    if (op == 'R') {
        const char *rest = line + used;
        int tl = 0;
        if (sscanf(rest, " %63s%n", token, &tl) != 1 || !token_ok(token))
            return CS_EINVAL;
        rest += tl;
        if (*rest == ' ')
            rest++;
        if (h->count >= h->cap)
            return CS_ERANGE;
        cs_reservation *r = &l->rec[h->count];
        memset(r, 0, sizeof *r);
        r->prefix = p;
        r->seq = seq;
        r->state = CS_RES_ACTIVE;
        memcpy(r->token, token, strlen(token) + 1);
        owner_copy(r->owner, rest);
        h->count++;
    } else if (op == 'X' || op == 'F') {
        for (uint64_t i = h->count; i-- > 0;)
            if (l->rec[i].state == CS_RES_ACTIVE && cs_prefix_compare(&l->rec[i].prefix, &p) == 0) {
                l->rec[i].state = op == 'X' ? CS_RES_RELEASED : CS_RES_FULFILLED;
                break;
            }
    } else {
        return CS_EINVAL;
    }
    h->applied = seq + 1;
    return 0;
}

/* Reads the whole journal, cuts a torn last line, and applies every line
 * of seq >= applied. */
static int replay(cs_ledger *l, cs_error *err)
{
    struct stat st;
    if (fstat(l->jfd, &st) != 0)
        return sys_fail(err, "stat", l->h->journal);
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf)
        return cs_fail(err, CS_ENOMEM, "out of memory reading the journal");
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(l->jfd, buf + got, len - got, (off_t)got);
        if (n <= 0) {
            free(buf);
            return sys_fail(err, "read", l->h->journal);
        }
        got += (size_t)n;
    }
    size_t end = len;
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    if (end < len && ftruncate(l->jfd, (off_t)end) != 0) {
        free(buf);
        return sys_fail(err, "truncate", l->h->journal);
    }
    int rc = 0;
    unsigned long line_no = 0;
    for (size_t at = 0; at < end && !rc;) {
        char *nl = memchr(buf + at, '\n', end - at);
        *nl = '\0';
        line_no++;
        rc = apply_line(l, buf + at);
        if (rc) {
            cs_error_locate(err, l->h->journal, line_no, 1, at, 0, buf + at, strlen(buf + at));
            rc = cs_fail(err, rc, "%s:%lu: %s", l->h->journal, line_no,
                         rc == CS_ERANGE ? "more reservations than the ledger holds"
                                         : "not a ledger journal line");
        }
        at = (size_t)(nl - buf) + 1;
    }
    free(buf);
    return rc;
}

/* Appends text to the journal and makes it durable. */
static int journal_append(cs_ledger *l, const char *text, size_t len, cs_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(l->jfd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return sys_fail(err, "write", l->h->journal);
        done += (size_t)n;
    }
    if (fdatasync(l->jfd) != 0)
        return sys_fail(err, "fsync", l->h->journal);
    return 0;
}

/* ---- the lock ------------------------------------------------------------------------ */

/* Repairs after a holder died: drop unconfirmed records, then replay. */
static int repair(cs_ledger *l, cs_error *err)
{
    ledger_hdr *h = l->h;
    if (h->count > h->cap)
        h->count = h->cap;
    while (h->count > 0 && l->rec[h->count - 1].seq >= h->applied)
        h->count--;
    return replay(l, err);
}

/*
 * THE LOCK: one 64-bit word in the segment, taken by compare-and-swap from
 * 0 to the taker's HOLDER WORD (its pid in the low 32 bits, the low 32 bits
 * of its process start time in the high ones, so a recycled pid is not
 * mistaken for the holder) and given back by a release store of 0. Nothing
 * in it depends on a C library's mutex layout or on the kernel's robust
 * futex lists. A waiter that finds the word held checks, every few waits,
 * whether the holder still runs (kill(pid, 0); where /proc exists, also a
 * zombie or a different start time means gone); if not, it swaps the dead
 * holder's word for its own (one waiter wins the swap) and REPAIRS before
 * going on — the crash path of a robust mutex's EOWNERDEAD, without one.
 * Waits sleep with backoff (20 us doubling to 1 ms). Acquire on taking,
 * release on giving back: the segment's changes are seen by the next taker.
 */
#define LIVENESS_EVERY 8

/* The low 32 bits of process `pid`'s start time in clock ticks since boot,
 * from /proc/PID/stat (field 22); 0 when unknown (no /proc). Sets *gone when
 * /proc shows the process is a zombie or dead. */
static uint32_t proc_start(pid_t pid, bool *gone)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    p += 2; /* field 3, the state */
    if (gone)
        *gone = *p == 'Z' || *p == 'X';
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? (uint32_t)strtoull(p, NULL, 10) : 0;
}

/* This process's holder word (recomputed after a fork). */
static uint64_t holder_word(void)
{
    static pid_t cached_pid;
    static uint64_t cached;
    pid_t me = getpid();
    if (me != cached_pid) {
        cached = (uint64_t)proc_start(me, NULL) << 32 | (uint32_t)me;
        cached_pid = me;
    }
    return cached;
}

/* True when the holder of word w no longer runs. */
static bool holder_gone(uint64_t w)
{
    pid_t pid = (pid_t)(uint32_t)w;
    uint32_t start = (uint32_t)(w >> 32);
    if (pid <= 0)
        return false;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    bool gone = false;
    uint32_t now = proc_start(pid, &gone);
    return gone || (start && now && now != start);
}

static void unlock(cs_ledger *l)
{
    __atomic_store_n(&l->h->owner, 0, __ATOMIC_RELEASE);
}

static int lock(cs_ledger *l, cs_error *err)
{
    const uint64_t me = holder_word();
    long nap_us = 20;
    for (unsigned waits = 0;; waits++) {
        uint64_t cur = 0;
        if (__atomic_compare_exchange_n(&l->h->owner, &cur, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 0;
        if (waits % LIVENESS_EVERY == LIVENESS_EVERY - 1 && holder_gone(cur) &&
            __atomic_compare_exchange_n(&l->h->owner, &cur, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            int r = repair(l, err);
            if (r)
                unlock(l);
            return r;
        }
        struct timespec t = {0, nap_us * 1000};
        nanosleep(&t, NULL);
        if (nap_us < 1000)
            nap_us *= 2;
    }
}

/* ---- open / create ----------------------------------------------------------------- */

static int map_seg(int fd, size_t len, cs_ledger *l, const char *seg, cs_error *err)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return sys_fail(err, "mmap", seg);
    l->h = m;
    l->rec = (cs_reservation *)(void *)((char *)m + sizeof(ledger_hdr));
    l->map_len = len;
    return 0;
}

int cs_ledger_create(const char *name, const char *journal, cs_ledger **out, cs_error *err)
{
    char seg[NAME_CAP];
    if (!out || !journal)
        return cs_fail(err, CS_EINVAL, "NULL journal or out");
    *out = NULL;
    int rc = seg_name(name, seg, err);
    if (rc)
        return rc;
    cs_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    l->jfd = open(journal, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (l->jfd < 0) {
        rc = sys_fail(err, "open", journal);
        free(l);
        return rc;
    }
    char path[PATH_MAX];
    if (!realpath(journal, path) || strlen(path) >= sizeof l->h->journal) {
        rc = cs_fail(err, CS_EINVAL, "journal path %s: unusable", journal);
        goto fail;
    }
    shm_unlink(seg);
    int fd = shm_open(seg, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = sys_fail(err, "shm_open", seg);
        goto fail;
    }
    size_t len = map_len(LEDGER_CAP);
    if (ftruncate(fd, (off_t)len) != 0) {
        rc = sys_fail(err, "ftruncate", seg);
        close(fd);
        shm_unlink(seg);
        goto fail;
    }
    rc = map_seg(fd, len, l, seg, err);
    close(fd);
    if (rc) {
        shm_unlink(seg);
        goto fail;
    }
    ledger_hdr *h = l->h;
    __atomic_store_n(&h->owner, 0, __ATOMIC_RELEASE);
    h->version = LEDGER_VERSION;
    h->cap = LEDGER_CAP;
    memcpy(h->journal, path, strlen(path) + 1);
    struct stat st;
    if (fstat(l->jfd, &st) == 0 && st.st_size == 0) {
        static const char head[] = "# cidrscope ledger journal v1\n";
        if ((rc = journal_append(l, head, sizeof head - 1, err)))
            goto fail_seg;
    }
    if ((rc = replay(l, err)))
        goto fail_seg;
    __atomic_store_n(&h->magic, LEDGER_MAGIC, __ATOMIC_RELEASE);
    *out = l;
    return 0;
fail_seg:
    munmap(l->h, l->map_len);
    shm_unlink(seg);
    l->h = NULL;
fail:
    close(l->jfd);
    free(l);
    return rc;
}

int cs_ledger_open(const char *name, cs_ledger **out, cs_error *err)
{
    char seg[NAME_CAP];
    if (!out)
        return cs_fail(err, CS_EINVAL, "NULL out");
    *out = NULL;
    int rc = seg_name(name, seg, err);
    if (rc)
        return rc;
    int fd = shm_open(seg, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return errno == ENOENT ? cs_fail(err, CS_EINVAL,
                                         "service %s has no ledger (start `cidrscope serve` "
                                         "with --ledger FILE)",
                                         name)
                               : sys_fail(err, "shm_open", seg);
    struct stat st;
    cs_ledger *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return cs_fail(err, CS_ENOMEM, "out of memory");
    }
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != map_len(LEDGER_CAP)) {
        close(fd);
        free(l);
        return cs_fail(err, CS_EINVAL, "%s is not a ledger segment", seg);
    }
    rc = map_seg(fd, map_len(LEDGER_CAP), l, seg, err);
    close(fd);
    if (rc) {
        free(l);
        return rc;
    }
    if (__atomic_load_n(&l->h->magic, __ATOMIC_ACQUIRE) != LEDGER_MAGIC ||
        l->h->version != LEDGER_VERSION || l->h->cap != LEDGER_CAP) {
        munmap(l->h, l->map_len);
        free(l);
        return cs_fail(err, CS_EINVAL, "%s is not a ready ledger segment", seg);
    }
    l->jfd = open(l->h->journal, O_RDWR | O_APPEND | O_CLOEXEC);
    if (l->jfd < 0) {
        rc = sys_fail(err, "open", l->h->journal);
        munmap(l->h, l->map_len);
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void cs_ledger_close(cs_ledger *l)
{
    if (!l)
        return;
    if (l->h)
        munmap(l->h, l->map_len);
    if (l->jfd >= 0)
        close(l->jfd);
    free(l);
}

int cs_ledger_unlink(const char *name, cs_error *err)
{
    char seg[NAME_CAP];
    int rc = seg_name(name, seg, err);
    if (rc)
        return rc;
    if (shm_unlink(seg) != 0 && errno != ENOENT)
        return sys_fail(err, "shm_unlink", seg);
    return 0;
}

/* ---- reading ------------------------------------------------------------------------ */

int64_t cs_ledger_list(cs_ledger *l, cs_reservation *out, size_t cap, cs_error *err)
{
    if (!l || (cap && !out))
        return cs_fail(err, CS_EINVAL, "NULL ledger or out");
    int rc = lock(l, err);
    if (rc)
        return rc;
    uint64_t n = l->h->count;
    for (uint64_t i = 0; i < n && i < cap; i++)
        out[i] = l->rec[i];
    unlock(l);
    return (int64_t)n;
}

/* Active prefixes into out (no lock: the caller holds it). */
static size_t active_locked(const cs_ledger *l, cs_prefix *out, size_t cap)
{
    size_t k = 0;
    for (uint64_t i = 0; i < l->h->count; i++)
        if (l->rec[i].state == CS_RES_ACTIVE) {
            if (k < cap)
                out[k] = l->rec[i].prefix;
            k++;
        }
    return k;
}

int64_t cs_ledger_active(cs_ledger *l, cs_prefix *out, size_t cap, cs_error *err)
{
    if (!l || (cap && !out))
        return cs_fail(err, CS_EINVAL, "NULL ledger or out");
    int rc = lock(l, err);
    if (rc)
        return rc;
    size_t n = active_locked(l, out, cap);
    unlock(l);
    return (int64_t)n;
}

/* ---- changes ----------------------------------------------------------------------- */

/* Writes the journal text of `n` changes into a fresh buffer. */
typedef struct textbuf {
    char *p;
    size_t len, cap;
} textbuf;

static int tb_printf(textbuf *t, const char *fmt, ...) CS_PRINTF(2, 3);

static int tb_printf(textbuf *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return CS_EINVAL;
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return 0;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *q = realloc(t->p, cap);
        if (!q)
            return CS_ENOMEM;
        t->p = q;
        t->cap = cap;
    }
}

static void sort_alloc(cs_ipam_allocation *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cs_prefix_compare(&a[j - 1].prefix, &a[j].prefix) > 0; j--) {
            cs_ipam_allocation t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

/* The pool of p among r's pools (the first containing it). */
static uint32_t pool_of(const cs_ipam_request *r, const cs_prefix *p)
{
    for (size_t i = 0; i < r->n_pools; i++)
        if (cs_prefix_contains(&r->pools[i], p))
            return (uint32_t)i;
    return 0;
}

int64_t cs_ledger_commit(cs_ledger *l, const cs_snapshot *s, const cs_ipam_request *r,
                         const char *token, const char *owner, cs_ipam_allocation *out,
                         unsigned *reason, cs_error *err)
{
    return cs_ledger_commit_hooked(l, s, r, token, owner, out, reason, NULL, NULL, err);
}

int64_t cs_ledger_commit_hooked(cs_ledger *l, const cs_snapshot *s, const cs_ipam_request *r,
                                const char *token, const char *owner, cs_ipam_allocation *out,
                                unsigned *reason, cs_ledger_step_fn hook, void *ctx,
                                cs_error *err)
{
    if (reason)
        *reason = CS_IPAM_OK;
    if (!l || !s || !r || (r->count && !out) || (r->n_extra && !r->extra))
        return cs_fail(err, CS_EINVAL, "NULL ledger, snapshot, request or out");
    char tok[CS_LEDGER_TOKEN_MAX + 1];
    if (token && *token) {
        if (!token_ok(token))
            return cs_fail(err, CS_EINVAL,
                           "token '%s': 1 to %d letters, digits or -_.:@/+=", token,
                           CS_LEDGER_TOKEN_MAX);
        memcpy(tok, token, strlen(token) + 1);
    }
    int rc = lock(l, err);
    if (rc)
        return rc;
    ledger_hdr *h = l->h;
    if (!(token && *token))
        snprintf(tok, sizeof tok, "auto-%ld-%llu", (long)getpid(),
                 (unsigned long long)h->applied);
    /* Idempotency: the token's blocks, whatever became of them. */
    int64_t seen = 0;
    for (uint64_t i = 0; i < h->count; i++)
        if (strcmp(l->rec[i].token, tok) == 0) {
            if ((size_t)seen < r->count)
                out[seen] = (cs_ipam_allocation){l->rec[i].prefix, pool_of(r, &l->rec[i].prefix)};
            seen++;
        }
    if (seen) {
        unlock(l);
        if ((size_t)seen > r->count)
            seen = (int64_t)r->count;
        sort_alloc(out, (size_t)seen);
        return seen;
    }
    size_t na = active_locked(l, NULL, 0);
    cs_prefix *extra = malloc((r->n_extra + na + 1) * sizeof *extra);
    if (!extra) {
        unlock(l);
        return cs_fail(err, CS_ENOMEM, "out of memory");
    }
    if (r->n_extra)
        memcpy(extra, r->extra, r->n_extra * sizeof *extra);
    active_locked(l, extra + r->n_extra, na);
    cs_ipam_request q = *r;
    q.extra = extra;
    q.n_extra = r->n_extra + na;
    int64_t n = cs_ipam_alloc(s, &q, out, reason);
    free(extra);
    if (n <= 0) {
        unlock(l);
        return n < 0 ? cs_fail(err, (int)n, "bad allocation request") : 0;
    }
    if (h->count + (uint64_t)n > h->cap) {
        unlock(l);
        return cs_fail(err, CS_ERANGE, "the ledger is full (%u reservations)", h->cap);
    }
    char own[CS_LEDGER_OWNER_MAX + 1];
    owner_copy(own, owner ? owner : "");
    textbuf t = {0};
    for (int64_t i = 0; i < n && !rc; i++) {
        char pb[CS_PREFIX_STRCAP];
        cs_prefix_format(&out[i].prefix, pb, sizeof pb);
        rc = tb_printf(&t, "R %llu %s %s %s\n", (unsigned long long)(h->applied + (uint64_t)i),
                       pb, tok, own);
    }
    if (rc || (rc = journal_append(l, t.p, t.len, err))) {
        free(t.p);
        unlock(l);
        return rc == CS_ENOMEM ? cs_fail(err, rc, "out of memory") : rc;
    }
    free(t.p);
    if (hook)
        hook(CS_LEDGER_STEP_JOURNALED, ctx);
    for (int64_t i = 0; i < n; i++) {
        cs_reservation *x = &l->rec[h->count + (uint64_t)i];
        memset(x, 0, sizeof *x);
        x->prefix = out[i].prefix;
        x->seq = h->applied + (uint64_t)i;
        x->state = CS_RES_ACTIVE;
        memcpy(x->token, tok, strlen(tok) + 1);
        memcpy(x->owner, own, strlen(own) + 1);
    }
    if (hook)
        hook(CS_LEDGER_STEP_RECORDED, ctx);
    __atomic_store_n(&h->count, h->count + (uint64_t)n, __ATOMIC_RELEASE);
    if (hook)
        hook(CS_LEDGER_STEP_COUNTED, ctx);
    __atomic_store_n(&h->applied, h->applied + (uint64_t)n, __ATOMIC_RELEASE);
    if (hook)
        hook(CS_LEDGER_STEP_APPLIED, ctx);
    unlock(l);
    return n;
}

/* Ends the reservations matching (token or exact prefix) with state `to`,
 * journal first. Caller holds the lock. */
static int64_t end_locked(cs_ledger *l, const char *token, const cs_prefix *p, uint8_t to,
                          cs_error *err)
{
    ledger_hdr *h = l->h;
    textbuf t = {0};
    int rc = 0;
    int64_t k = 0;
    for (uint64_t i = 0; i < h->count && !rc; i++) {
        cs_reservation *x = &l->rec[i];
        if (x->state != CS_RES_ACTIVE ||
            (token ? strcmp(x->token, token) != 0 : cs_prefix_compare(&x->prefix, p) != 0))
            continue;
        char pb[CS_PREFIX_STRCAP];
        cs_prefix_format(&x->prefix, pb, sizeof pb);
        rc = tb_printf(&t, "%c %llu %s\n", to == CS_RES_RELEASED ? 'X' : 'F',
                       (unsigned long long)(h->applied + (uint64_t)k), pb);
        k++;
    }
    if (!rc && k)
        rc = journal_append(l, t.p, t.len, err);
    free(t.p);
    if (rc)
        return rc == CS_ENOMEM ? cs_fail(err, rc, "out of memory") : rc;
    for (uint64_t i = 0, done = 0; i < h->count && done < (uint64_t)k; i++) {
        cs_reservation *x = &l->rec[i];
        if (x->state != CS_RES_ACTIVE ||
            (token ? strcmp(x->token, token) != 0 : cs_prefix_compare(&x->prefix, p) != 0))
            continue;
        x->state = to;
        done++;
    }
    __atomic_store_n(&h->applied, h->applied + (uint64_t)k, __ATOMIC_RELEASE);
    return k;
}

int64_t cs_ledger_release(cs_ledger *l, const char *token, const cs_prefix *p, cs_error *err)
{
    if (!l || (!token && !p))
        return cs_fail(err, CS_EINVAL, "NULL ledger, or neither token nor prefix");
    int rc = lock(l, err);
    if (rc)
        return rc;
    int64_t n = end_locked(l, token, p, CS_RES_RELEASED, err);
    unlock(l);
    return n;
}

int64_t cs_ledger_retire(cs_ledger *l, const cs_snapshot *s, cs_error *err)
{
    if (!l || !s)
        return cs_fail(err, CS_EINVAL, "NULL ledger or snapshot");
    int rc = lock(l, err);
    if (rc)
        return rc;
    int64_t total = 0;
    for (uint64_t i = 0; i < l->h->count; i++) {
        cs_reservation *x = &l->rec[i];
        if (x->state != CS_RES_ACTIVE)
            continue;
        cs_query_iter it;
        cs_match m;
        bool equal = false;
        cs_query_iter_init(&it, s, &x->prefix, CS_Q_COVERING);
        while (!equal && cs_query_iter_next(&it, &m) > 0)
            equal = m.relation == CS_REL_EQUAL;
        if (!equal)
            continue;
        cs_prefix p = x->prefix;
        int64_t n = end_locked(l, NULL, &p, CS_RES_FULFILLED, err);
        if (n < 0) {
            unlock(l);
            return n;
        }
        total += n;
    }
    unlock(l);
    return total;
}
