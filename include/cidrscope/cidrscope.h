/*
 * cidrscope/cidrscope.h — the umbrella header of libcidrscope.
 *
 * OWNERSHIP, for the whole API: the library never takes ownership of an
 * argument nor keeps a caller pointer after returning; what a _new, _open or
 * _attach returns is released by the matching _free, _close or _detach (NULL
 * is a no-op); what a query returns points into the snapshot, is const, and
 * lives until the snapshot is closed (or, for shared memory, unpinned). Query
 * paths never allocate.
 *
 * ERRORS: fallible calls return int (>= 0 success, < 0 a CS_E* code) and fill
 * the caller-owned, nullable cs_error passed last. The library never prints,
 * exits or aborts on input.
 */
#ifndef CIDRSCOPE_H
#define CIDRSCOPE_H

#define CIDRSCOPE_VERSION "0.1.0"

#include "error.h"
#include "prefix.h"
#include "snapshot.h"
#include "query.h"
#include "estate.h"
#include "audit.h"
#include "peering.h"
#include "report.h"
#include "ipam.h"
#include "shm.h"

#endif
