/*
 * engine/estate_internal.h — what the engine knows of the estate beyond
 * estate.h: the validation of its image sections (called by the snapshot's
 * open path) and the builder-to-image serialisation used by cs_estate_freeze.
 * The section format is documented at the top of engine/estate_image.c.
 */
#ifndef CS_ESTATE_INTERNAL_H
#define CS_ESTATE_INTERNAL_H

#include <cidrscope/estate.h>

#include "snapshot_internal.h"

/*
 * Checks every estate section of `s` (ids CS_SEC_ESTATE_FIRST..LAST): the
 * header's counts against the section lengths, every index against its
 * table, every string offset against the string section (which must end in
 * NUL), CSR ranges monotonic and in bounds, enum values in range, the VPC id
 * hash table (power-of-two capacity, every VPC reachable). An image with no
 * estate sections passes (it is a plain prefix snapshot); one with some but
 * not all is corrupt. After it returns 0 every read accessor of estate.h is
 * safe on `s`. Returns 0 or CS_ECORRUPT with a message naming the section
 * and record. Read-only; thread-safe.
 */
int cs_estate_image_validate(const cs_snapshot *s, cs_error *err);

#endif
