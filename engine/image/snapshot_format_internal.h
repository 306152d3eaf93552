/*
 * engine/image/snapshot_format_internal.h — the image header and section
 * table as laid out in the file (the format comment in snapshot.c), shared
 * by the image code (snapshot.c) and its file I/O (snapshot_file.c) only.
 */
#ifndef CS_SNAPSHOT_FORMAT_INTERNAL_H
#define CS_SNAPSHOT_FORMAT_INTERNAL_H

#include <cidrscope/cidrscope.h>

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define CS_MAGIC "CIDRSCP"
#define CS_FORMAT_VERSION 3u
#define CS_HEADER_LEN 128u
#define CS_ALIGN 64u
#define CS_BYTE_ORDER 0x01020304u
#define CS_MAX_SECTIONS 64u

typedef struct cs_header {
    char magic[8];
    uint32_t format_version;
    uint32_t header_len;
    uint32_t byte_order;
    uint16_t hot4_record_len;
    uint16_t section_record_len;
    uint16_t value_record_len;
    uint16_t section_align;
    uint32_t section_count;
    uint64_t generation;
    uint64_t created_unix;
    uint64_t image_len;
    uint32_t entries[2];
    uint32_t prefixes[2];
    uint32_t nodes[2];
    uint32_t flags;
    uint16_t hot6_record_len;
    uint16_t cold_record_len;
    uint64_t section_table_off;
    uint64_t header_xxh3;
    uint8_t reserved1[24];
} cs_header;
static_assert(sizeof(cs_header) == CS_HEADER_LEN, "header is 128 bytes");
static_assert(offsetof(cs_header, generation) == 32, "generation at 32");
static_assert(offsetof(cs_header, header_xxh3) == 96, "checksum at 96");

typedef struct cs_section {
    uint32_t id;
    uint32_t reserved;
    uint64_t offset;
    uint64_t length;
    uint64_t xxh3;
} cs_section;
static_assert(sizeof(cs_section) == 32, "section record is 32 bytes");

static inline size_t align_up(size_t x)
{
    return (x + CS_ALIGN - 1) & ~(size_t)(CS_ALIGN - 1);
}

/* Opens the image in buf[0..len) (from cs_pages_alloc, ours) as a snapshot
 * that owns buf: validated, and its recorded size equal to len. Frees buf
 * on failure. */
int snap_open_owned(uint8_t *buf, size_t len, unsigned flags, cs_snapshot **out, cs_error *err);

#endif
