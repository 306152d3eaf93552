/*
 * engine/serve/shm_internal.h — the publish steps, and a publish that calls back
 * between them, so tests can kill a publisher at each step (no environment
 * variables or globals in the library for it).
 */
#ifndef CS_SHM_INTERNAL_H
#define CS_SHM_INTERNAL_H

#include <cidrscope/shm.h>

/*
 * The steps of cs_shm_publish, in order; the hook runs after each. Until
 * CS_SHM_STEP_PUBLISHED the previous generation is current and the new
 * segment is an orphan a later publisher removes; from it on the new
 * generation is current.
 */
enum cs_shm_step {
    CS_SHM_STEP_LOCKED = 1,    /* the publish lock (writer_pid) is ours */
    CS_SHM_STEP_CLEANED,       /* a crashed publish's orphan segment is gone */
    CS_SHM_STEP_RECORDED,      /* the new generation is in the image table */
    CS_SHM_STEP_CREATED,       /* its segment exists, empty */
    CS_SHM_STEP_HALF_WRITTEN,  /* the stamped header and half the image are in */
    CS_SHM_STEP_WRITTEN,       /* the whole image is in, segment closed */
    CS_SHM_STEP_PUBLISHED,     /* the generation store is done */
    CS_SHM_STEP_RECLAIMED,     /* old generations unlinked; lock still held */
    CS_SHM_STEP_COUNT = CS_SHM_STEP_RECLAIMED
};

typedef void (*cs_shm_step_fn)(int step, void *ctx);

/* cs_shm_publish, calling step(k, ctx) after each step k (step may be NULL).
 * Same returns. */
int cs_shm_publish_hooked(cs_shm_publisher *p, const cs_snapshot *s,
                          cs_shm_step_fn step, void *ctx, uint64_t *generation,
                          cs_error *err);

#endif
