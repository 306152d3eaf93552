/*
 * cidrscope/shm.h — one frozen image, many processes: publishing snapshots in
 * POSIX shared memory and querying them in place.
 *
 * A SERVICE is named NAME (letters, digits, '-', '_', '.'; not starting with
 * '.' nor ending in '.' and digits; a leading '/' is accepted and ignored).
 * It consists of a small CONTROL segment `/NAME` (the current generation and
 * a table of image segments; only its owner can write it), a READER TABLE
 * `/NAME@readers.<random>` (one slot per pin, in the manner of LMDB's reader
 * table; every reader writes it) and one IMAGE segment
 * `/NAME@<generation>.<random>` per live generation, holding a snapshot
 * image (snapshot.h) with its generation stamped in. On Linux they appear
 * under /dev/shm. engine/serve/shm_segments.c documents the layouts,
 * shm_pin.c and shm_publish.c the memory ordering; SECURITY.md who may do
 * what.
 *
 * READERS attach once, then pin and unpin as often as they like:
 *
 *   cs_shm *h;  cs_pin pin;
 *   cs_shm_attach("vpcs", 0, &h, &err);
 *   cs_shm_pin(h, &pin, &err);          // pin.snap: the current image
 *   cs_query_count_bulk(pin.snap, qs, n, CS_Q_OVERLAPPING, counts);
 *   cs_shm_unpin(&pin);                 // results pointing into it die here
 *   cs_shm_detach(h);
 *
 * Queries on a pinned image make no system call and take no lock. A pin of a
 * generation this process has already mapped is lock-free and makes no
 * system call either. The first pin of a process maps the current
 * generation and checks its owner and mode; once a generation is mapped, a
 * newer one is mapped, checked and faulted in by a thread of the library
 * while pins go on with the one mapped before, so no query waits for it. The image was validated by its publisher, which also
 * wrote the image's derived indexes after it, and only the owner can write
 * the segment, so its content and indexes are trusted when the owner is
 * this process's user or root (SECURITY.md, "Why readers may trust
 * images"); the images of another owner (named with cs_shm_attach_with) get
 * every bound checked and their indexes rebuilt; CS_SHM_VERIFY (or
 * CS_SHM_VERIFY=1 in the environment) checks every bound and checksum of
 * every image. Mappings of old generations are released on a short-lived
 * thread of the library's, not on the pinning thread. A
 * reader never waits for the publisher and never blocks it: a slow reader
 * only keeps its generation's segment alive. Readers that want to decide
 * themselves when a new generation is mapped run cs_shm_refresh from a
 * thread of their own and pin with cs_shm_pin_mapped:
 *
 *   refresher:  if (cs_shm_generation(h) != seen) cs_shm_refresh(h, &err);
 *   workers:    cs_shm_pin_mapped(h, &pin, &err); ...; cs_shm_unpin(&pin);
 *
 * PUBLISHERS write a complete image into a new segment, then switch the
 * generation with one atomic store; old segments are unlinked once no live
 * reader pins them, and the slots of dead processes are reclaimed. A crash
 * at any point leaves the last complete generation serving; the next
 * publisher recovers (removes the unpublished segment, reclaims slots).
 * Any number of processes may publish into one service (one publish at a
 * time: a publish waits for one in progress); at most one of them holds the
 * SERVING role (CS_SHM_SERVE), which `cidrscope serve` takes.
 *
 * Ownership: what cs_shm_attach returns is released by cs_shm_detach, a
 * publisher by cs_shm_publisher_close (NULL is a no-op). The snapshot of a
 * pin, and everything a query returns from it, lives until cs_shm_unpin.
 *
 * Processes: an attachment or publisher belongs to the process that made it;
 * after fork() the child must attach anew (slots record the pid). Readers
 * and publishers must share a pid namespace (a dead reader is recognised by
 * kill(pid, 0) failing with ESRCH).
 *
 * Trust (SECURITY.md): segments are owned by the creating user. Control and
 * image segments get mode (MODE | 0600) & ~022 (MODE from the options,
 * default 0600): no one but the owner can ever write them. The reader table
 * gets a write bit wherever that has a read bit, so whoever may read may
 * pin. A publisher only opens a control segment its own effective uid owns;
 * a reader only one owned by itself, root, or the owner it names
 * (cs_shm_attach_with), and only with no group or other write bit; both
 * refuse a reader table or image segment of any other owner (CS_ECONFLICT,
 * the message naming the owner and mode found). For readers in the
 * publisher's group, create the service with mode 0640.
 *
 * Signals: since every reader may write (and so truncate) the reader table,
 * attaching or opening a publisher puts a SIGBUS handler in place (unless it
 * is already), which turns a fault inside a reader-table mapping into
 * private zero pages and passes every other SIGBUS to the handler that was
 * there before (or the default action). A program installing its own SIGBUS
 * handler after attaching should chain to the one it replaces.
 *
 * Tests: tests/test_shm.c (multi-process publish/pin races, kill -9 of the
 * publisher at every step and of pinned readers, damaged segments, heap vs
 * file vs shm images); tests/security/ (two users: squatting, group
 * members, slot exhaustion).
 */
#ifndef CIDRSCOPE_SHM_H
#define CIDRSCOPE_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_shm cs_shm;
typedef struct cs_shm_publisher cs_shm_publisher;

/* Reader slots of a new control segment unless the options say otherwise,
 * and the most a control segment may have. */
#define CS_SHM_DEFAULT_READERS 126u
#define CS_SHM_MAX_READERS 4096u
/* Longest NAME, without the leading '/'. */
#define CS_SHM_NAME_MAX 200u

/* ---- readers ------------------------------------------------------------ */

/*
 * Attaches to the service NAME: maps its control segment read-only and its
 * reader table read-write (a pin writes its slot) after checking owner
 * (this process's effective uid or root; see cs_shm_attach_with), mode,
 * magic, version and layout. `flags`: CS_SHM_VERIFY (below) also checks
 * image checksums when a generation is first mapped (bounds are always
 * checked); CS_OPEN_NO_VERIFY is accepted and is the default.
 * Returns 0, CS_EINVAL (bad name), CS_ENOTFOUND (no such service, or its
 * control segment is still being created), CS_ECORRUPT (not a cidrscope
 * control segment, or a truncated one), CS_EVERSION (another version or
 * layout), CS_EIO (permission denied and other system errors), CS_ENOMEM.
 * Thread-safety: the attachment may then be shared by any number of threads.
 */
CS_API int cs_shm_attach(const char *name, unsigned flags, cs_shm **out,
                         cs_error *err);

enum {
    /* Attach flag: verify every bound and checksum of every image when
     * first mapped and build its indexes, although its segment is writable
     * by its owner only. CS_SHM_VERIFY=1 (any value but "" or "0") in the
     * environment sets it for every attachment of the process. */
    CS_SHM_VERIFY = 1u << 8,
};

typedef struct cs_shm_attach_options {
    unsigned flags;        /* CS_SHM_VERIFY */
    int64_t owner_uid;     /* the user who must own the service; -1: this
                              process's effective uid or root */
    uint32_t slot_wait_ms; /* how long a pin waits for a free reader slot
                              before CS_EBUSY; 0 = 2000 */
} cs_shm_attach_options;

/*
 * cs_shm_attach with options (NULL: the defaults). Besides cs_shm_attach's
 * returns: CS_ECONFLICT when the control segment or its reader table is
 * owned by another user than expected, or the control segment is writable
 * by group or other (the message names the owner and mode found).
 */
CS_API int cs_shm_attach_with(const char *name,
                              const cs_shm_attach_options *opts, cs_shm **out,
                              cs_error *err);

/*
 * A pin: the caller owns the struct (typically on a thread's stack); it is
 * filled by cs_shm_pin and emptied by cs_shm_unpin. Only `snap` and
 * `generation` are for the caller; the rest is private to
 * engine/serve/shm_pin.c.
 */
typedef struct cs_pin {
    const cs_snapshot *snap; /* the pinned image; NULL when not pinned */
    uint64_t generation;     /* its generation (also in cs_snapshot_info) */
    cs_shm *shm_;            /* private */
    void *map_;              /* private */
    uint32_t slot_;          /* private */
} cs_pin;

/*
 * Pins the current generation: claims a reader slot, records the generation
 * in it so no publisher unlinks it, and fills *pin. Every query on
 * pin->snap answers from that one generation (pin->generation), however
 * many publishes follow. When this attachment has not mapped the current
 * generation yet: with nothing mapped, the pin maps and validates it
 * itself; otherwise a thread of the library maps, validates and faults it
 * in (one per attachment, short-lived), and until it is done (milliseconds
 * for a 100 MB image) the pin gets the newest generation already mapped,
 * its slot saying so. Should that thread fail, the next pins of that
 * generation map it themselves and return why it failed. Likewise while
 * another thread of this attachment is mapping (cs_shm_refresh), the pin
 * gets the newest generation already mapped. Through one attachment,
 * successive pins never go back in generation. For the current generation
 * at once, call cs_shm_refresh first.
 * Each pin uses one slot until unpinned; a thread may hold several pins.
 * When every slot is held by a live process, it waits up to the slot wait
 * (cs_shm_attach_options) for one to free.
 * Returns 0, CS_ENOTFOUND (nothing published yet, or the service was
 * removed: attach anew), CS_EBUSY (every reader slot stayed held by live
 * processes, named in the message, or this process pins more than 64
 * generations at once), CS_ECORRUPT (the image segment fails validation or
 * is missing; the message names it), CS_ECONFLICT (the image segment is not
 * the service owner's, or others may write it), CS_EIO (also: no write
 * permission on the reader table), CS_ENOMEM, CS_EINVAL. On failure *pin is
 * left unpinned.
 * Thread-safety: any number of threads may pin through one attachment.
 */
CS_API int cs_shm_pin(cs_shm *h, cs_pin *pin, cs_error *err);

/*
 * As cs_shm_pin, but never maps a generation while this attachment has one
 * mapped: pins the current generation if it is mapped here, else the
 * newest mapped one (which may be older than current until a pin or
 * cs_shm_refresh maps the new one; its memory stays valid even after its
 * segment is unlinked). With nothing mapped yet it maps as cs_shm_pin, and
 * also when a publisher with CS_SHM_REUSE is taking the newest mapped
 * generation's segment for a new generation (then its bytes change).
 * Same returns; no system call once something is mapped, but in that case.
 */
CS_API int cs_shm_pin_mapped(cs_shm *h, cs_pin *pin, cs_error *err);

/*
 * Maps and validates the current generation now, on the calling thread,
 * unless this attachment has already mapped it (or another thread is
 * mapping it), so later pins find it mapped. Returns 1 when it mapped a generation, 0 when there was
 * nothing to do, or cs_shm_pin's errors. Thread-safe; meant for a reader's
 * own background thread (see the top of this header).
 */
CS_API int cs_shm_refresh(cs_shm *h, cs_error *err);

/*
 * Releases a pin: the slot forgets the generation (the publisher may then
 * unlink its segment) and becomes free. No system call. The image stays
 * mapped in this process until a later pin maps a newer generation or the
 * attachment is detached. An unpinned or zeroed pin is a no-op.
 */
CS_API void cs_shm_unpin(cs_pin *pin);

/* The generation currently published (0: none yet); one atomic load. */
CS_API uint64_t cs_shm_generation(const cs_shm *h);

/* Unmaps every image and the control segment and frees the attachment.
 * Every pin made through it must be unpinned first. NULL is a no-op. */
CS_API void cs_shm_detach(cs_shm *h);

/* ---- inspection (`cidrscope stat --shm`) -------------------------------- */

typedef struct cs_shm_info {
    uint64_t generation;     /* current generation, 0 = nothing published */
    uint64_t image_len;      /* bytes of the current image */
    uint64_t created_unix;   /* control segment creation time */
    uint64_t published_unix; /* time of the last publish, 0 = never */
    int32_t server_pid;      /* the serving process, 0 = none */
    bool server_alive;       /* server_pid names a live process */
    int32_t writer_pid;      /* a publish in progress, 0 = none */
    bool writer_alive;       /* false: that publisher crashed; the next
                                publish recovers */
    uint32_t slot_count;     /* reader slots in the table */
    uint32_t slots_used;     /* slots held by a process (pinned or being
                                claimed) */
    uint32_t images;         /* image segments the table knows of */
    bool removed;            /* the service was removed (cs_shm_unlink) */
    uint32_t owner_uid;      /* owner of the control segment */
    uint64_t vpcs;           /* VPCs of the current generation (entries for
                                an image without estate tables) */
    uint64_t refused_unix;   /* the shrink guard refused a generation at
                                this time and nothing was published since;
                                0 = no refusal pending */
    uint64_t refused_vpcs;   /* VPCs of the refused generation */
    uint64_t refused_prev_vpcs; /* VPCs it would have replaced */
} cs_shm_info;

/* One reader slot in use. */
typedef struct cs_shm_reader_info {
    uint32_t slot;
    int32_t pid;
    bool alive;              /* kill(pid, 0) found the process */
    uint64_t generation;     /* pinned generation, 0 = claiming */
} cs_shm_reader_info;

/* One image segment. */
/* Longest segment name, with its '/' and NUL. */
#define CS_SHM_SEGMENT_CAP (CS_SHM_NAME_MAX + 48u)

typedef struct cs_shm_image_info {
    uint64_t generation;
    uint64_t image_len;
    char segment[CS_SHM_SEGMENT_CAP]; /* "/NAME@<gen>.<random>" */
} cs_shm_image_info;

/*
 * A consistent-enough picture of the service for a person: every field is
 * one atomic load, so a publish running at the same time may show half
 * done. The reader and image arrays get up to `cap` records each (either may
 * be NULL with cap 0); the functions return how many exist. The liveness
 * checks make system calls (kill(pid, 0)); none of this is for hot paths.
 */
CS_API void cs_shm_get_info(const cs_shm *h, cs_shm_info *out);
CS_API size_t cs_shm_get_readers(const cs_shm *h, cs_shm_reader_info *out,
                                 size_t cap);
CS_API size_t cs_shm_get_images(const cs_shm *h, cs_shm_image_info *out,
                                size_t cap);

/* ---- publishers --------------------------------------------------------- */

enum {
    /* Take the SERVING role: refused (CS_EBUSY) while another live process
     * holds it. Released by cs_shm_publisher_close; a crashed server's
     * role is taken over. */
    CS_SHM_SERVE = 1u << 0,
    /* cs_shm_publish_with: publish even when the shrink guard would
     * refuse (the operator confirmed). */
    CS_SHM_FORCE = 1u << 1,
    /* cs_shm_options.flags: keep the two newest retired generations'
     * segments (two more images in /dev/shm, also through cs_shm_reclaim)
     * and, when no reader pins the older, write the next generation into
     * its pages instead of a new segment: a publish then neither allocates nor frees the
     * image's pages (about 2.5x less CPU; bench/results-shm.md). Only on a
     * service whose mode gives group and others no read bit (so no one but
     * the owner and root may pin); elsewhere ignored. Readers re-check a
     * generation they fall back to (cs_shm_pin, cs_shm_pin_mapped), so
     * none reads a segment while it is rewritten. */
    CS_SHM_REUSE = 1u << 2,
};

typedef struct cs_shm_options {
    unsigned mode;       /* permission bits of segments we create; 0 = 0600 */
    uint32_t readers;    /* reader slots of a new control segment;
                            0 = CS_SHM_DEFAULT_READERS (an existing segment
                            keeps its own count) */
    unsigned flags;      /* CS_SHM_SERVE, CS_SHM_REUSE */
    uint32_t wait_ms;    /* how long a publish waits for another process's
                            publish to finish; 0 = 5000 */
    uint32_t max_shrink; /* the shrink guard: refuse a generation with more
                            than this percentage fewer VPCs than the
                            current one (0 = no guard; 1..100) */
} cs_shm_options;

/*
 * Opens the service NAME for publishing, creating its control segment when
 * it does not exist (mode and readers from opts; opts may be NULL). An
 * existing segment is validated like cs_shm_attach, then RECOVERED: an image
 * segment a crashed publisher created but never published is removed, the
 * slots of dead readers are reclaimed and unpinned old generations unlinked.
 * An existing control segment must be owned by this process's effective
 * uid and writable by no one else, its reader table owned by the same user.
 * Returns 1 when it created the service, 0 when it opened an existing one,
 * or CS_ECONFLICT (an existing segment of another owner or a loose mode: a
 * squatter; the message names owner and mode), CS_EINVAL (bad name or
 * options), CS_EBUSY (CS_SHM_SERVE while another
 * live process serves NAME; or a publish of another process did not finish
 * within wait_ms), CS_ECORRUPT, CS_EVERSION, CS_EIO, CS_ENOMEM.
 * Thread-safety: a publisher is used by one thread at a time.
 */
CS_API int cs_shm_publisher_open(const char *name, const cs_shm_options *opts,
                                 cs_shm_publisher **out, cs_error *err);

/*
 * Publishes `s` as the next generation (current + 1): writes the whole
 * image, with the generation stamped in, into a new segment, then makes it
 * current with one atomic store, then reclaims (dead readers' slots, old
 * generations no live reader pins). `s` may be any image (heap, file, even
 * another service's pin); it is only read. *generation (may be NULL) gets
 * the new generation.
 * Image segment names carry 64 random bits chosen per publish (O_EXCL, a
 * new name on collision), so no one can pre-create them.
 * Returns 0, CS_ERANGE (the shrink guard refused: `s` has more than
 * max_shrink percent fewer VPCs than the current generation; the refusal
 * is recorded for cs_shm_get_info and the current generation keeps
 * serving), CS_EBUSY (another publish did not finish within wait_ms),
 * CS_EIO (shm_open, write: e.g. /dev/shm full; the previous generation keeps
 * serving), CS_ESTATE (after cs_shm_unlink), CS_EINVAL.
 */
CS_API int cs_shm_publish(cs_shm_publisher *p, const cs_snapshot *s,
                          uint64_t *generation, cs_error *err);

/* cs_shm_publish with flags: CS_SHM_FORCE skips the shrink guard once. */
CS_API int cs_shm_publish_with(cs_shm_publisher *p, const cs_snapshot *s,
                               unsigned flags, uint64_t *generation,
                               cs_error *err);

/*
 * Reclaims without publishing: clears the slots of dead readers and unlinks
 * old generations no live reader pins (a server calls it now and then, so
 * generations a slow reader held are freed once it lets go). Returns the
 * number of image segments unlinked, or CS_EBUSY, CS_ESTATE.
 */
CS_API int cs_shm_reclaim(cs_shm_publisher *p, cs_error *err);

/* The generation currently published (0: none yet). */
CS_API uint64_t cs_shm_publisher_generation(const cs_shm_publisher *p);

/*
 * Removes the service: marks it removed (pins through existing attachments
 * then fail with CS_ENOTFOUND; images already pinned stay mapped and valid),
 * unlinks every image segment and the control segment. The publisher then
 * refuses everything but _close (CS_ESTATE). Returns 0, CS_EBUSY, CS_EIO.
 */
CS_API int cs_shm_unlink(cs_shm_publisher *p, cs_error *err);

/* Releases the SERVING role (if held), unmaps, frees. The last published
 * generation stays published for readers. NULL is a no-op. */
CS_API void cs_shm_publisher_close(cs_shm_publisher *p);

#ifdef __cplusplus
}
#endif
#endif
