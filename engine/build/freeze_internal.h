/*
 * engine/build/freeze_internal.h — freezing the snapshot builder (the two
 * build-side tries) into an image, with extra sections (the estate's tables)
 * carried along. Build side: it fills the arrays the image writer
 * (engine/image/snapshot.c, cs_image_build_*) lays out.
 */
#ifndef CS_FREEZE_INTERNAL_H
#define CS_FREEZE_INTERNAL_H

#include <cidrscope/snapshot.h>

#include "image/snapshot_internal.h"

/* Freezes the builder plus `n_extra` extra sections (ids
 * CS_SEC_ESTATE_FIRST..LAST, copied) into a new heap image. Returns as
 * cs_snapshot_builder_freeze. */
int cs_snapshot_build_image(const cs_snapshot_builder *b,
                            const cs_section_blob *extra, size_t n_extra,
                            cs_snapshot **out, cs_error *err);

#endif
