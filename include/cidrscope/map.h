/*
 * cidrscope/map.h — the address-space map and the peering graph: one
 * self-contained HTML section (inline SVG drawn here, a small inline script
 * for hover, zoom and filters, no external resource) that `cidrscope map`
 * writes as a whole page and `cidrscope audit --format html` embeds.
 *
 * What is drawn:
 *   - one Hilbert-curve map per occupied private or reused IPv4 range
 *     (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10), per
 *     caller pool, and per occupied IPv6 /32 (the most populated ones, up to
 *     CS_MAP_MAX_V6_MAPS; the page says how many more exist). Along the
 *     curve neighbouring addresses stay neighbours and every aligned block
 *     is a square or a 2:1 rectangle;
 *   - one shape per live block (data-cidr, data-vpc, data-account,
 *     data-region attributes), coloured by account, region or severity;
 *     blocks overlapping another live block are hatched with their severity's
 *     pattern and outlined in its colour;
 *   - when a map holds more blocks than its share of `shape_budget`
 *     (shared out over the maps, smallest first), identical prefixes
 *     are first drawn as one stacked shape (data-count = its blocks), then
 *     blocks longer than a level D are summed into density cells (aligned
 *     /D squares, data-count) with D the finest level that fits the budget:
 *     the shapes' and cells' counts always sum to the map's blocks;
 *   - beside each map its free space as `cidrscope free --pool RANGE` gives
 *     it (cs_ipam_free): free addresses, free blocks, largest free block,
 *     fragmentation, and the 8 largest free blocks (a click zooms onto one);
 *   - the peering graph of VPCs in critical findings and of hubs with
 *     overlapping spokes, laid out deterministically (engine/report/
 *     graph_layout.c).
 *
 * Ownership and threads: nothing is kept after a call; the snapshot and the
 * audit result are only read (a shared snapshot may be used by other
 * threads meanwhile). Output goes to the caller's FILE, never closed.
 */
#ifndef CIDRSCOPE_MAP_H
#define CIDRSCOPE_MAP_H

#include "audit.h"
#include "error.h"
#include "prefix.h"
#include "snapshot.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most IPv6 /32 maps drawn (the most populated first). */
#define CS_MAP_MAX_V6_MAPS 8
/* Default shape budget of a section: shapes + density cells over all its
 * maps, shared out smallest map first (a map that fits is drawn whole). */
#define CS_MAP_SHAPE_BUDGET 32000
/* Most nodes of the peering graph (the most connected first). */
#define CS_MAP_MAX_GRAPH_NODES 300

enum cs_map_color { CS_MAP_BY_ACCOUNT = 0, CS_MAP_BY_REGION = 1,
                    CS_MAP_BY_SEVERITY = 2 };

typedef struct cs_map_options {
    const cs_prefix *pools;     /* extra maps, one per pool; may be NULL */
    size_t pool_count;
    int color_by;               /* enum cs_map_color: the initial colouring */
    uint32_t shape_budget;      /* 0 = CS_MAP_SHAPE_BUDGET */
    const char *title;          /* the page title (cs_map_write); may be NULL */
} cs_map_options;

/*
 * Writes the map section (a <section> with its own <style> and <script>)
 * for the live blocks of `s` (an estate image). `r` is an audit of `s` (its
 * pairs and groups give each block's severity, its clusters the zoom
 * targets, its critical and hub pairs the peering graph); NULL draws the
 * maps without severities, clusters or graph. o may be NULL (defaults).
 * Returns 0, CS_EINVAL (NULL f or s, a snapshot without estate, a pool that
 * is not canonical), CS_ENOMEM, CS_EIO (a write failed).
 */
CS_API int cs_map_write_section(FILE *f, const cs_snapshot *s,
                                const cs_audit_result *r,
                                const cs_map_options *o, cs_error *err);

/* The same section as a whole HTML page (doctype, head, body). */
CS_API int cs_map_write(FILE *f, const cs_snapshot *s, const cs_audit_result *r,
                        const cs_map_options *o, cs_error *err);

/*
 * Deterministic force-directed layout (Fruchterman-Reingold, fixed
 * iterations, nodes starting on a circle in index order, no randomness):
 * n nodes, m undirected edges edges[2k], edges[2k+1] (node indices < n).
 * Writes xy[2i], xy[2i+1] in [0, 1]. Same input, same output, on every
 * platform with IEEE doubles. Returns 0, CS_EINVAL (an edge index >= n,
 * NULL arrays with n or m > 0), CS_ENOMEM.
 */
CS_API int cs_graph_layout(size_t n, const uint32_t *edges, size_t m,
                           double *xy, cs_error *err);

#ifdef __cplusplus
}
#endif
#endif
