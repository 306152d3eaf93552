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

#endif
