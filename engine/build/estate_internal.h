/*
 * engine/build/estate_internal.h — what the build layer adds to the estate
 * image format (engine/image/estate_image_internal.h, included here, owns the
 * records and their validation): freezing a snapshot builder together with
 * the estate's sections.
 */
#ifndef CS_ESTATE_INTERNAL_H
#define CS_ESTATE_INTERNAL_H

#include <cidrscope/estate.h>

#include "image/estate_image_internal.h"
#include "build/freeze_internal.h"

/* Starts loading what cs_estate_add_vpc will probe for VPC id s[0..len):
 * a hint for a reader that has the next record's id in hand before it adds
 * the current one (engine/ingest/csv.c). No effect on the estate; any
 * thread that may read e. */
void cs_estate_prefetch_vpc(const cs_estate *e, const char *s, size_t len);

#endif
