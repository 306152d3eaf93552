/*
 * cidrscope/snapshot.h — the frozen image every query reads.
 *
 * A snapshot is one position-independent, read-only byte image: a header, a
 * section table, and 64-byte aligned sections holding the two tries (IPv4,
 * IPv6) in DFS preorder as flat arrays with 32-bit indices, the entry values,
 * and (for estates) the estate's tables. The same image lives on the heap
 * (cs_snapshot_builder_freeze), in a file (cs_snapshot_write / _open), or in a
 * POSIX shared-memory segment (shm.h). The format is documented as
 * OFFSET/SIZE/FIELD tables at the top of engine/image/snapshot.c.
 *
 * An ENTRY is (prefix, u32 value). Many entries may share one prefix; each
 * distinct prefix is stored once with its entries. Within one family, entries
 * are numbered 0..n-1 in the order of their prefix (cs_prefix_compare) and,
 * for one prefix, of their value: an entry index is stable for an image.
 *
 * Ownership (the rule of the whole API, stated in cidrscope.h): a builder is
 * released by _free, a snapshot by cs_snapshot_close; NULL is a no-op. What a
 * query returns points into the snapshot and lives until it is closed.
 * Thread-safety: a builder is single-threaded; a snapshot is immutable, so any
 * number of threads may query one snapshot at once.
 */
#ifndef CIDRSCOPE_SNAPSHOT_H
#define CIDRSCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "prefix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cs_snapshot cs_snapshot;
typedef struct cs_snapshot_builder cs_snapshot_builder;

/* ---- building ----------------------------------------------------------- */

/* A new, empty builder (a Patricia trie per family, nodes allocated in bulk).
 * NULL when out of memory. */
CS_API cs_snapshot_builder *cs_snapshot_builder_new(void);

/*
 * Adds one entry (p, value). `p` must be canonical (no host bits; as
 * cs_prefix_parse returns it): a prefix with host bits is CS_EINVAL. Adding
 * the same (p, value) twice stores two entries.
 * Returns 0, CS_EINVAL, CS_ERANGE (more than 2^32-2 entries in one family),
 * CS_ENOMEM (the builder then refuses every call but _free: CS_ESTATE).
 */
CS_API int cs_snapshot_builder_add(cs_snapshot_builder *b, const cs_prefix *p,
                                   uint32_t value, cs_error *err);

/* Number of entries stored for exactly `p` (0 if none): the builder's exact
 * lookup. Negative only for CS_EINVAL. */
CS_API int64_t cs_snapshot_builder_find(const cs_snapshot_builder *b,
                                        const cs_prefix *p);

/* Entries added so far (both families). */
CS_API uint64_t cs_snapshot_builder_entries(const cs_snapshot_builder *b);

/*
 * Freezes the builder's content into a new heap image. The builder is left
 * unchanged and may be frozen again or freed. *out is released with
 * cs_snapshot_close. Returns 0, CS_ENOMEM, CS_ESTATE.
 */
CS_API int cs_snapshot_builder_freeze(const cs_snapshot_builder *b,
                                      cs_snapshot **out, cs_error *err);

/* Releases the builder. NULL is a no-op. */
CS_API void cs_snapshot_builder_free(cs_snapshot_builder *b);

/* ---- images: heap, file, memory ----------------------------------------- */

enum {
    /* Skip the XXH3 checksums at open (bounds are always checked). */
    CS_OPEN_NO_VERIFY = 1u << 0,
    /* cs_snapshot_from_memory only: skip the checks of the tries and
     * estate tables too (header, section table and lengths are still
     * checked), for memory that only a trusted writer could have written
     * after validating the image (shm.h: segments of one's own or root's
     * service). Bad content then is undefined behaviour. */
    CS_OPEN_TRUSTED = 1u << 1,
};

/*
 * Writes the image to `path` atomically: an unnamed file in the same
 * directory (O_TMPFILE; where the filesystem lacks it, a temporary name
 * "<path>.cstmp.<pid>.<random>" that the next write in that directory
 * removes once its writer is dead), fsync, a name, rename over `path`,
 * fsync of the directory. A crash never leaves a half-written file under
 * `path`. The file gets mode 0666 minus the umask, as any new file.
 * Returns 0 or CS_EIO (message names the path and the failing call).
 */
CS_API int cs_snapshot_write(const cs_snapshot *s, const char *path,
                             cs_error *err);

/* cs_snapshot_write with explicit permission bits (`mode` & 0777; 0: 0666
 * minus the umask). CS_EINVAL for bits outside 0777. */
CS_API int cs_snapshot_write_mode(const cs_snapshot *s, const char *path,
                                  unsigned mode, cs_error *err);

/*
 * Reads `path` into memory (never maps it: a file rewritten or truncated in
 * place by another process cannot crash the reader; a read overlapping a
 * change is retried, up to 5 times) and validates it: magic, version,
 * layout descriptor, every offset and length against the section ends, the
 * file size equal to the image's recorded size (bytes appended are
 * refused), and (unless CS_OPEN_NO_VERIFY) every section checksum.
 * Returns 0, CS_EIO (also: the file kept changing), CS_ECORRUPT (truncated,
 * extended, bit-flipped, foreign file), CS_EVERSION (another format version
 * or layout), CS_ENOMEM.
 */
CS_API int cs_snapshot_open(const char *path, unsigned flags,
                            cs_snapshot **out, cs_error *err);

/*
 * Reads an image from a descriptor to its end (a pipe, FIFO, socket or
 * standard input: what cannot be mapped nor read twice) into memory the
 * snapshot owns, and validates it as cs_snapshot_open does (the bytes read
 * must be exactly the image: a short stream is truncated, a longer one has
 * bytes appended; both CS_ECORRUPT). head[0..head_len) are bytes already
 * read from the stream (a caller that read them to tell the stream's kind),
 * taken as its start; NULL/0 for none. Memory grows with the bytes that
 * arrive, not with the size the header claims. The descriptor stays the
 * caller's, not closed. cs_snapshot_open calls this for a path that names a
 * FIFO or a device. Returns as cs_snapshot_open (CS_EIO: a read failed).
 */
CS_API int cs_snapshot_from_fd(int fd, const void *head, size_t head_len,
                               unsigned flags, cs_snapshot **out,
                               cs_error *err);

/*
 * Wraps an image that lives in caller memory (a shm mapping, a buffer) after
 * the same validation as cs_snapshot_open. The memory must stay mapped and
 * unchanged until cs_snapshot_close; it is never written or freed by us.
 * `base` must be 64-byte aligned. Same returns as cs_snapshot_open.
 */
CS_API int cs_snapshot_from_memory(const void *base, size_t len, unsigned flags,
                                   cs_snapshot **out, cs_error *err);

/* Releases a snapshot (unmaps a file image, frees a heap image; memory
 * images are left to their owner). NULL is a no-op. */
CS_API void cs_snapshot_close(cs_snapshot *s);

/* The image bytes and their length (for placing it in shm, or hashing). */
CS_API const void *cs_snapshot_image(const cs_snapshot *s, size_t *len);

/* ---- facts about an image ----------------------------------------------- */

typedef struct cs_snapshot_info {
    uint32_t format_version;
    uint64_t generation;      /* set by the publisher; 0 for a fresh freeze */
    uint64_t created_unix;    /* creation time, seconds since the epoch */
    uint64_t image_len;       /* bytes */
    uint32_t entries[2];      /* [0] IPv4, [1] IPv6 */
    uint32_t prefixes[2];     /* distinct prefixes per family */
    uint32_t nodes[2];        /* trie nodes per family (prefixes + glue) */
    bool has_estate;          /* the image carries estate tables */
} cs_snapshot_info;

CS_API void cs_snapshot_get_info(const cs_snapshot *s, cs_snapshot_info *out);

/* Family index used by per-family arrays: 0 for IPv4, 1 for IPv6. */
static inline unsigned cs_family_index(uint8_t family)
{
    return family == CS_AF_V6 ? 1u : 0u;
}

/* Value and prefix of entry `idx` of a family; 0 on success, CS_ERANGE when
 * idx is out of range. */
CS_API int cs_snapshot_entry(const cs_snapshot *s, uint8_t family, uint32_t idx,
                             cs_prefix *prefix, uint32_t *value);

#ifdef __cplusplus
}
#endif
#endif
