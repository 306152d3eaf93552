/*
 * engine/serve/shm_internal.h — what the three files of the shared-memory
 * service share: the segment records (documented as OFFSET/SIZE/FIELD
 * tables in shm_segments.c), the process-local views of them, the helpers
 * every side uses, and the publish steps with a hook so tests can kill a
 * publisher after each one (no environment variables or globals in the
 * library for it).
 *
 *   shm_segments.c  names, creation, validation and the ownership checks of
 *                   the control, reader-table and image segments; stat
 *   shm_pin.c       readers: attach, the pin race, process-local mappings
 *   shm_publish.c   publishers: the publication order, reclaiming, removal
 */
#ifndef CS_SHM_INTERNAL_H
#define CS_SHM_INTERNAL_H

#include <cidrscope/shm.h>

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/*
 * The steps of cs_shm_publish, in order; the hook runs after each. Until
 * CS_SHM_STEP_PUBLISHED the previous generation is current and the new
 * segment is an orphan a later publisher removes; from it on the new
 * generation is current.
 */
enum cs_shm_step {
    CS_SHM_STEP_LOCKED = 1,    /* the publish lock (writer_pid) is ours */
    CS_SHM_STEP_CLEANED,       /* a crashed publish's orphan segment is gone */
    CS_SHM_STEP_RECORDED,      /* the new generation is in the image table */
    CS_SHM_STEP_CREATED,       /* its segment exists, empty */
    CS_SHM_STEP_HALF_WRITTEN,  /* the stamped header and half the image are in */
    CS_SHM_STEP_WRITTEN,       /* the whole image is in, segment closed */
    CS_SHM_STEP_PUBLISHED,     /* the generation store is done */
    CS_SHM_STEP_RECLAIMED,     /* old generations unlinked; lock still held */
    CS_SHM_STEP_COUNT = CS_SHM_STEP_RECLAIMED
};

typedef void (*cs_shm_step_fn)(int step, void *ctx);

/* cs_shm_publish, calling step(k, ctx) after each step k (step may be NULL).
 * Same returns. */
int cs_shm_publish_hooked(cs_shm_publisher *p, const cs_snapshot *s,
                          cs_shm_step_fn step, void *ctx, uint64_t *generation,
                          cs_error *err);

/* ---- records (layouts: shm_segments.c) ------------------------------------ */

static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free to live in shared memory");
static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free to live in shared memory");
static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "pointer atomics must be lock-free");

#define SHM_CTL_MAGIC 0x4c54434d48535343ull /* "CSSHMCTL" little-endian */
#define SHM_RDR_MAGIC 0x5244524d48535343ull /* "CSSHMRDR" little-endian */
#define SHM_CTL_VERSION 4u
#define SHM_CTL_HEADER_LEN 256u
#define SHM_RDR_HEADER_LEN 64u
#define SHM_BYTE_ORDER 0x01020304u
#define SHM_ALIGN 64u
#define SHM_REMOVED 1u
/* flags bit 1: a publisher of this service reuses retired segments
 * (CS_SHM_REUSE); readers then re-check a mapped generation they fall
 * back to (shm_pin.c). Set before the first reuse, never cleared. */
#define SHM_REUSING 2u
/* In an image record's gen: the record's segment is being taken for reuse
 * (shm_publish.c). Above every real generation, so an interrupted reuse
 * is an orphan. */
#define SHM_RETIRING (1ull << 63)
/* How many retired generations a reusing publisher keeps; it reuses the
 * oldest of them. Two: a reader still mapping ahead one publish later
 * than the next publish can still fall back to the generation before. */
#define SHM_SPARES 2u
/* Where POSIX shm segments live as files (Linux, glibc): reuse renames
 * them there. */
#define SHM_DIR "/dev/shm"
#define SHM_IMAGE_HEADER_LEN 128u
#define SHM_IMAGE_GEN_OFF 32u
/* Where the image header records the image's length (snapshot.c). */
#define SHM_IMAGE_LEN_OFF 48u
#define SHM_MAPS 64u
#define SHM_READY_WAIT_MS 200u
#define SHM_DEFAULT_WAIT_MS 5000u
#define SHM_DEFAULT_SLOT_WAIT_MS 2000u
/* "/NAME@readers.<16 hex>" or "/NAME@<gen>.<16 hex>" */
#define SHM_SEG_NAME_CAP (CS_SHM_NAME_MAX + 48u)

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
    uint32_t owner_uid;
    uint64_t total_len;
    uint64_t readers_suffix;
    _Atomic uint64_t vpc_count;
    _Atomic uint64_t refused_unix;
    _Atomic uint64_t refused_vpcs;
    _Atomic uint64_t refused_prev_vpcs;
    uint8_t reserved[120];
} shm_ctl;
static_assert(sizeof(shm_ctl) == SHM_CTL_HEADER_LEN, "control header is 256 bytes");
static_assert(offsetof(shm_ctl, generation) == 40, "generation at 40");
static_assert(offsetof(shm_ctl, writer_pid) == 56, "writer_pid at 56");
static_assert(offsetof(shm_ctl, flags) == 80, "flags at 80");
static_assert(offsetof(shm_ctl, total_len) == 88, "total_len at 88");
static_assert(offsetof(shm_ctl, readers_suffix) == 96, "readers_suffix at 96");
static_assert(offsetof(shm_ctl, refused_prev_vpcs) == 128, "refused_prev_vpcs at 128");
static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 is 8 bytes");
static_assert(sizeof(_Atomic int32_t) == 4, "atomic i32 is 4 bytes");
static_assert(sizeof(pid_t) == 4, "pids are stored as 32-bit");

typedef struct shm_rdr {
    uint64_t magic;
    uint32_t slot_count;
    uint32_t slot_len;
    uint8_t reserved[48];
} shm_rdr;
static_assert(sizeof(shm_rdr) == SHM_RDR_HEADER_LEN, "reader-table header is 64 bytes");

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
    _Atomic uint64_t suffix;
    _Atomic uint64_t next_suffix; /* while reused: the new name's suffix */
} shm_imgrec;
static_assert(sizeof(shm_imgrec) == 32, "an image record is 32 bytes");

/* A mapped control segment and its reader table, as readers (control
 * read-only) and publishers (control read-write) see them. The counts are
 * copied at validation and never re-read from shared memory. */
typedef struct shm_view {
    shm_ctl *ctl;
    size_t len;
    shm_slot *slots;   /* in the reader-table mapping */
    void *rdr;         /* the reader-table mapping */
    size_t rdr_len;
    bool rdr_writable; /* false: mapped read-only (no write permission) */
    int rdr_guard;     /* shm_guard slot of the reader-table mapping */
    shm_imgrec *images;
    uint32_t slot_count;
    uint32_t image_cap;
    uid_t owner;       /* owner of the control segment (fstat) */
    int32_t pid;       /* getpid() at attach/open */
    char name[CS_SHM_NAME_MAX + 2]; /* "/NAME" */
} shm_view;

/* One mapped generation of an attachment (shm_pin.c, MAPPINGS). */
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
    uint32_t slot_wait_ms;       /* how long a pin waits for a free slot */
    pthread_mutex_t lock;        /* slow path of pin: map, unmap */
    _Atomic(shm_map *) cur;      /* entry of the newest mapped generation */
    _Atomic uint64_t mapping;    /* a generation a thread is mapping, 0 = none */
    _Atomic bool preparing;      /* a library thread is mapping ahead */
    _Atomic uint64_t prep_failed; /* a generation the library thread could
                                    not map: pins map it themselves (and
                                    report why) */
    _Atomic unsigned helpers;    /* library threads (unmapping, mapping
                                    ahead) still running */
    shm_map maps[SHM_MAPS];
};

struct cs_shm_publisher {
    shm_view v;
    unsigned mode;
    bool reuse;                  /* CS_SHM_REUSE, on an owner-only service */
    uint32_t wait_ms;
    uint32_t max_shrink;         /* percent; 0 = no guard */
    bool serving;
    bool removed;
};

/* ---- helpers (shm_segments.c) --------------------------------------------- */

bool shm_pid_alive(int32_t pid);
uint64_t shm_now_ms(void);
void shm_sleep_ms(unsigned ms);
/* cs_fail with "WHAT SEG: strerror(errno)" and SEG as the source. */
int shm_sys_fail(cs_error *err, int code, const char *seg, const char *what);
/* Checks NAME and writes "/NAME" into out (CS_SHM_NAME_MAX + 2 bytes). */
int shm_make_name(const char *name, char *out, cs_error *err);
/* "/NAME@<gen>.<suffix hex>" and "/NAME@readers.<suffix hex>" into
 * SHM_SEG_NAME_CAP bytes. */
void shm_image_name(const shm_view *v, uint64_t gen, uint64_t suffix, char *buf);
void shm_readers_name(const shm_view *v, uint64_t suffix, char *buf);
/* A random non-zero 64-bit suffix (getrandom). */
uint64_t shm_random_suffix(void);

/* The login name of uid, or "uid N", into buf. */
const char *shm_user_name(uid_t uid, char *buf, size_t cap);

/*
 * The trust rule of every segment (SECURITY.md): fd's owner must be `owner`
 * and, unless `group_write_ok`, no one but the owner may write it. Returns 0
 * or CS_ECONFLICT naming the owner and mode found and what was expected.
 */
int shm_check_owner(int fd, const char *seg, uid_t owner, bool group_write_ok, cs_error *err);

enum { SHM_NOT_READY = 1 };

/*
 * Opens and maps the existing control segment of v->name (read-write for a
 * publisher, read-only for a reader) and its reader table, checking that the
 * control segment is owned by one of `owners` (n of them) with no write bit
 * for others, and the reader table by the same owner. Waits up to
 * SHM_READY_WAIT_MS for a creation in progress. Returns 0, SHM_NOT_READY
 * (still not initialised), CS_ENOTFOUND, CS_ECONFLICT (untrusted owner or
 * mode), CS_ECORRUPT, CS_EVERSION, CS_EIO.
 */
int shm_ctl_open(shm_view *v, bool writable, const uid_t *owners, int n, cs_error *err);

/*
 * Creates and initialises the control segment and its reader table (fresh
 * random suffix). Returns 0, SHM_NOT_READY when the control segment exists
 * already (another process created it), or an error; nothing is left behind
 * on error.
 */
int shm_ctl_create(shm_view *v, unsigned mode, uint32_t slots, cs_error *err);

/* Permission bits of control and image segments for a requested mode:
 * (mode | 0600) & ~022. */
unsigned shm_image_mode(unsigned mode);

/* The SIGBUS guard of reader-table mappings (shm_guard.c): add returns a
 * slot (-1: unguarded), remove forgets it (before the munmap), broken tells
 * whether a truncation replaced the mapping by private zero pages. */
int shm_guard_add(void *base, size_t len);
void shm_guard_remove(int slot);
bool shm_guard_broken(int slot);

/* A publisher's repair of a broken or truncated reader table (lock held):
 * re-extends the segment to its size and maps it afresh. Returns 0 or an
 * error (the old mapping is kept). */
int shm_rdr_repair(shm_view *v, cs_error *err);

/* Unmaps both mappings of v (NULL-safe). */
void shm_view_unmap(shm_view *v);

/* The record of generation g in the image table, or NULL (relaxed loads: the
 * caller holds the lock, or loaded g with acquire after the record was
 * written). */
shm_imgrec *shm_image_record(const shm_view *v, uint64_t g);

#endif
