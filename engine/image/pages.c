/*
 * engine/image/pages.c — cs_pages_alloc / cs_pages_free: large write-once
 * buffers on transparent huge pages (pages_internal.h says why).
 *
 * Does: map a buffer at a 2 MiB boundary (reserve 2 MiB more, unmap the
 * unaligned head and the rest of the tail) and ask for huge pages with
 * madvise(MADV_HUGEPAGE), which the kernel honours under the usual
 * "madvise" THP setting and ignores under "never" (4 KiB pages then, as
 * from malloc). Does not: keep or cache buffers, or fall back to anything
 * but calloc for small ones.
 *
 * LAYOUT (one header line before what the caller gets):
 *
 *   OFFSET SIZE FIELD
 *        0    8 map_len: bytes mapped from offset 0 (0: from calloc)
 *        8    8 calloc's block (map_len 0 only)
 *       16   48 unused
 *       64  len the caller's buffer (64-byte aligned)
 *
 * A mapping is 64 + len bytes rounded up to a page, or to 2 MiB when the
 * part past the last 2 MiB boundary is at least CS_PAGES_ROUND_UP bytes
 * (zeroing the rest of a huge page costs less than faulting that many
 * small pages in). Thread-safety: none needed (each buffer has one owner).
 * Tests: tests/test_direct.c (indexes built in these buffers against brute
 * force), tests/test_snapshot_file.c (images read into them).
 */
#define _GNU_SOURCE
#include "image/pages_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HEADER 64u
#define HUGE ((size_t)2 << 20)

static size_t round_to(size_t x, size_t unit)
{
    return (x + unit - 1) & ~(unit - 1);
}

void *cs_pages_alloc(size_t len)
{
    if (len > SIZE_MAX / 2)
        return NULL;
    const size_t total = HEADER + len;
    if (len < CS_PAGES_MIN) {
        uint8_t *b = calloc(1, total + HEADER); /* room to align to 64 */
        if (!b)
            return NULL;
        /* the header at the first 64-byte line of the block: map_len 0
         * (calloc zeroed it), then where the block begins */
        uint8_t *h = (uint8_t *)round_to((uintptr_t)b, HEADER);
        memcpy(h + 8, &b, sizeof b);
        return h + HEADER;
    }
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t map_len = round_to(total, page);
    if (total % HUGE >= CS_PAGES_ROUND_UP)
        map_len = round_to(total, HUGE);
    const size_t reserve = map_len + HUGE;
    uint8_t *raw = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uint8_t *a = (uint8_t *)round_to((uintptr_t)raw, HUGE);
    if (a > raw)
        munmap(raw, (size_t)(a - raw));
    if (raw + reserve > a + map_len)
        munmap(a + map_len, (size_t)(raw + reserve - (a + map_len)));
#ifdef MADV_HUGEPAGE
    (void)madvise(a, map_len, MADV_HUGEPAGE); /* advice: refused is fine */
#endif
    memcpy(a, &map_len, sizeof map_len);
    return a + HEADER;
}

void cs_pages_trim(void *p, size_t len)
{
    if (!p)
        return;
    uint8_t *h = (uint8_t *)p - HEADER;
    size_t map_len;
    memcpy(&map_len, h, sizeof map_len);
    const size_t keep = round_to(HEADER + len, HUGE); /* whole huge pages stay */
    if (!map_len || keep >= map_len)
        return;
    munmap(h + keep, map_len - keep);
    memcpy(h, &keep, sizeof keep);
}

void cs_pages_free(void *p)
{
    if (!p)
        return;
    uint8_t *h = (uint8_t *)p - HEADER;
    size_t map_len;
    memcpy(&map_len, h, sizeof map_len);
    if (map_len) {
        munmap(h, map_len);
        return;
    }
    void *b;
    memcpy(&b, h + 8, sizeof b);
    free(b);
}
