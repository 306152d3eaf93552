/*
 * engine/image/pages_internal.h — buffers of a few megabytes that are
 * written once right after they are allocated (an image read from a file,
 * a family's direct indexes), backed by transparent huge pages where the
 * kernel allows them (engine/image/pages.c).
 *
 * Why: a fresh 4 KiB page costs ~3 us on the VMs this runs on (fault,
 * allocation, zeroing, accounting), so the 1,800 pages of a 7 MB start-up
 * cost more than the answers of a 200,000-line run; a 2 MiB page costs
 * ~0.14 ms, a fifth of the 512 small pages it replaces.
 */
#ifndef CS_IMAGE_PAGES_INTERNAL_H
#define CS_IMAGE_PAGES_INTERNAL_H

#include <stddef.h>

/* A zero-filled buffer of len bytes, 64-byte aligned, whose whole 2 MiB
 * runs (and a last part of at least CS_PAGES_ROUND_UP bytes, rounded up to
 * one) are asked to be huge pages; buffers under CS_PAGES_MIN bytes come
 * from calloc. NULL when out of memory. Released by cs_pages_free only. */
void *cs_pages_alloc(size_t len);
/* Gives back the address space of a buffer of cs_pages_alloc past its
 * first len bytes (rounded up to 2 MiB; its contents up to there stay), for
 * a buffer sized for the most its writer might need. */
void cs_pages_trim(void *p, size_t len);
/* Releases a buffer of cs_pages_alloc (NULL: no-op). */
void cs_pages_free(void *p);

#define CS_PAGES_MIN ((size_t)1 << 20)
#define CS_PAGES_ROUND_UP ((size_t)512 << 10)

#endif
