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

/* Starts loading what cs_estate_add_vpc (CS_PREFETCH_VPC_ID) or
 * cs_estate_add_cidr (CS_PREFETCH_ASSOC_ID) will probe for the id
 * s[0..len): a hint for a reader that has an id in hand before it adds it
 * (the next CSV row's VPC id, an AWS CLI record's ids as they are parsed).
 * No effect on the estate; call it where cs_estate_add_* may be called. */
enum { CS_PREFETCH_VPC_ID, CS_PREFETCH_ASSOC_ID };
void cs_estate_prefetch(const cs_estate *e, int table, const char *s, size_t len);

#endif
