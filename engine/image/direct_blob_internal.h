/*
 * engine/image/direct_blob_internal.h — a snapshot's derived direct indexes
 * (snapshot_internal.h: snap_direct) as one flat blob, so a shm publisher
 * builds them once and the readers of its segments take them as they are
 * (engine/serve/shm_publish.c writes the blob after the image, shm_pin.c
 * opens a trusted segment with it). Implemented in engine/image/snapshot.c.
 *
 * BLOB (all little-endian; 64-byte aligned parts):
 *   OFFSET SIZE FIELD
 *        0    8 magic "CSDIRX3\0" (1: before the IPv4 /12 and /20 and the
 *                IPv6 upper records; 2: before the IPv6 second level)
 *        8    8 blob_len (bytes, a multiple of 64, header included)
 *       16    8 image_xxh3: the image's header_xxh3 (binds the blob to it)
 *       24    4 parts: bit 0 dir (CS_DIR4_RECORDS), bit 1 l2 + dir24,
 *                bit 2 dir6, bit 3 l2_6 + dir6_l2
 *       28    4 n_l2
 *       32    8 base_hi
 *       40    8 base_lo
 *       48    4 base_len
 *       52    4 base_x
 *       56    2 record_len (sizeof cs_dir16: 8)
 *       58    2 reserved (0)
 *       60    4 n_l2_6
 *   then dir, l2 (65536 u32), dir24 (n_l2 * CS_DIR_L2_RECORDS records), dir6 (CS_DIR6_RECORDS
 *   records), l2_6 (65536 u32), dir6_l2 (n_l2_6 * CS_DIR6_L2_RECORDS records), each present
 *   part padded to 64 bytes, in that order.
 *
 * Trust: the blob's parts are used as they are (the header is checked:
 * magic, lengths, the binding to the image); like CS_OPEN_TRUSTED, only for
 * memory that only the publisher, who derived them from a validated image,
 * can write.
 */
#ifndef CS_IMAGE_DIRECT_BLOB_INTERNAL_H
#define CS_IMAGE_DIRECT_BLOB_INTERNAL_H

#include <cidrscope/snapshot.h>

#include <stddef.h>
#include <stdint.h>

/* Bytes of s's blob (a multiple of 64). */
size_t snap_direct_blob_len(const cs_snapshot *s);
/*
 * s's blob as up to CS_BLOB_PIECES pieces to be written one after the
 * other (together snap_direct_blob_len bytes), without copying the indexes:
 * the header, made in `header`, then the present parts, pointing into s's
 * own indexes (valid while s is open), each followed by zeros up to the next
 * 64-byte line where it ends inside one. Returns the number of pieces.
 */
#define CS_BLOB_PIECES 13
size_t snap_direct_blob_pieces(const cs_snapshot *s, uint8_t header[64], const void *piece[CS_BLOB_PIECES],
                               size_t piece_len[CS_BLOB_PIECES]);
/*
 * cs_snapshot_from_memory(base, len, flags | CS_OPEN_TRUSTED) whose direct
 * indexes are the blob's (borrowed: blob must stay mapped as long as the
 * snapshot) instead of being built. `blob` must be 64-byte aligned. Returns
 * as cs_snapshot_from_memory; CS_ECORRUPT when the blob's header does not
 * fit (bad magic, length, parts for tries that small, another image).
 */
int snap_from_memory_with_blob(const void *base, size_t len, const void *blob, size_t blob_len,
                               unsigned flags, cs_snapshot **out, cs_error *err);

#endif
