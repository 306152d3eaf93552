/*
 * engine/report/map_graph.c — the peering graph of the map section
 * (cidrscope/map.h): the VPCs in critical findings (peered, directly or
 * through a hub, with a VPC they overlap) and those hubs, as nodes; active
 * peerings among them as grey edges; the critical overlapping pairs as
 * dashed edges. Positions come from cs_graph_layout (graph_layout.c), so
 * the same estate always gives the same picture.
 *
 * Does not: choose colours beyond the map's palette (map.c), or draw more
 * than CS_MAP_MAX_GRAPH_NODES nodes (the first ones met in the audit's
 * pair order, most severe first; the page says how many more there are).
 * Tests: tests/test_map.c (map__graph_shows_peered_overlaps).
 */
#include "report/map_internal.h"
#include "report/writer.h"

#include "core/grow_internal.h"

#include <cidrscope/cidrscope.h>
#include <cidrscope/map.h>

#include <stdlib.h>
#include <string.h>

typedef struct gctx {
    const cs_snapshot *s;
    const cs_audit_result *r;
    uint32_t n_vpc;
} gctx;

/* ---- the peering graph ---------------------------------------------------------------- */

typedef struct graph {
    uint32_t *node_of;   /* per VPC: node index or CS_IDX_NONE */
    uint32_t *vpc;       /* per node */
    size_t n;
    uint32_t *edges;     /* peering edges, pairs of nodes */
    size_t m, ecap;
    uint32_t *over;      /* overlapping (critical) pairs, pairs of nodes */
    size_t no, ocap;
    size_t dropped;      /* VPCs left out past CS_MAP_MAX_GRAPH_NODES */
} graph;

static void add_node(graph *G, uint32_t v, uint32_t n_vpc)
{
    if (v >= n_vpc || G->node_of[v] != CS_IDX_NONE)
        return;
    if (G->n == CS_MAP_MAX_GRAPH_NODES) {
        G->dropped++;
        return;
    }
    G->node_of[v] = (uint32_t)G->n;
    G->vpc[G->n++] = v;
}

/* Appends the pair (x, y) to the array of pairs *a (*n pairs, *cap). */
static int push_pair(uint32_t **a, size_t *n, size_t *cap, uint32_t x, uint32_t y)
{
    if (cs_grow((void **)a, cap, *n + 1, 2 * sizeof **a, SIZE_MAX))
        return CS_ENOMEM;
    (*a)[2 * *n] = x;
    (*a)[2 * *n + 1] = y;
    (*n)++;
    return 0;
}

static int build_graph(const gctx *M, graph *G)
{
    G->node_of = malloc((M->n_vpc ? M->n_vpc : 1) * sizeof *G->node_of);
    G->vpc = malloc(CS_MAP_MAX_GRAPH_NODES * sizeof *G->vpc);
    if (!G->node_of || !G->vpc)
        return CS_ENOMEM;
    memset(G->node_of, 0xff, M->n_vpc * sizeof *G->node_of);
    size_t np = cs_audit_pair_count(M->r);
    for (size_t i = 0; i < np; i++) {
        cs_audit_pair p;
        if (cs_audit_get_pair(M->r, i, &p) != 0 || p.severity != CS_SEV_CRITICAL)
            continue;
        if (p.why & CS_WHY_HUB)
            add_node(G, p.hub_vpc, M->n_vpc);
        add_node(G, p.vpc_a, M->n_vpc);
        add_node(G, p.vpc_b, M->n_vpc);
        if (p.vpc_a < M->n_vpc && p.vpc_b < M->n_vpc && G->node_of[p.vpc_a] != CS_IDX_NONE &&
            G->node_of[p.vpc_b] != CS_IDX_NONE &&
            push_pair(&G->over, &G->no, &G->ocap, G->node_of[p.vpc_a], G->node_of[p.vpc_b]))
            return CS_ENOMEM;
    }
    for (size_t i = 0; i < G->n; i++) {
        uint32_t cnt;
        const uint32_t *pc = cs_estate_vpc_peerings(M->s, G->vpc[i], &cnt);
        for (uint32_t k = 0; k < cnt; k++) {
            cs_peering pe;
            if (cs_estate_peering(M->s, pc[k], &pe) != 0 || pe.status != CS_PCX_ACTIVE ||
                pe.requester.vpc_idx != G->vpc[i] || pe.accepter.vpc_idx >= M->n_vpc)
                continue; /* each connection once: from its requester */
            uint32_t other = G->node_of[pe.accepter.vpc_idx];
            if (other != CS_IDX_NONE && push_pair(&G->edges, &G->m, &G->ecap, (uint32_t)i, other))
                return CS_ENOMEM;
        }
    }
    return 0;
}

int cs_map_write_graph(FILE *f, const cs_snapshot *s, const cs_audit_result *r, uint32_t n_vpc,
                       cs_error *err)
{
    gctx C = {s, r, n_vpc};
    gctx *M = &C;
    graph G;
    memset(&G, 0, sizeof G);
    double *xy = NULL;
    int rc = build_graph(M, &G);
    if (rc)
        goto out;
    fputs("<h2 id=\"csm-graph-h\">Peering graph</h2>\n", f);
    if (G.n == 0) {
        fputs("<p>No critical findings: no VPC is peered (directly or through a hub) with a "
              "VPC it overlaps.</p>\n",
              f);
        goto out;
    }
    /* layout on peerings and overlaps both, so a conflict's two ends sit close */
    size_t me = G.m + G.no;
    uint32_t *all = malloc((me ? me : 1) * 2 * sizeof *all);
    xy = malloc(G.n * 2 * sizeof *xy);
    if (!all || !xy) {
        free(all);
        rc = CS_ENOMEM;
        goto out;
    }
    if (G.m)
        memcpy(all, G.edges, G.m * 2 * sizeof *all);
    if (G.no)
        memcpy(all + 2 * G.m, G.over, G.no * 2 * sizeof *all);
    rc = cs_graph_layout(G.n, all, me, xy, err);
    free(all);
    if (rc)
        goto out;
    fprintf(f, "<p>VPCs in critical findings and the hubs joining overlapping spokes: %zu VPCs, "
               "%zu active peerings (grey), %zu overlapping pairs peered directly or through a "
               "hub (dashed). ",
            G.n, G.m, G.no);
    if (G.dropped)
        fprintf(f, "%zu more VPCs are in critical findings but not drawn (the graph keeps the "
                   "first %d); the tables list every one.",
                G.dropped, CS_MAP_MAX_GRAPH_NODES);
    fputs("</p>\n<svg class=\"csg\" viewBox=\"0 0 1000 1000\" width=\"640\" height=\"640\" "
          "xmlns=\"http://www.w3.org/2000/svg\">\n<g class=\"pe\">",
          f);
    for (size_t e = 0; e < G.m; e++) {
        uint32_t a = G.edges[2 * e], b = G.edges[2 * e + 1];
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", 1000 * xy[2 * a],
                1000 * xy[2 * a + 1], 1000 * xy[2 * b], 1000 * xy[2 * b + 1]);
    }
    fputs("</g>\n<g class=\"ov\">", f);
    for (size_t e = 0; e < G.no; e++) {
        uint32_t a = G.over[2 * e], b = G.over[2 * e + 1];
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", 1000 * xy[2 * a],
                1000 * xy[2 * a + 1], 1000 * xy[2 * b], 1000 * xy[2 * b + 1]);
    }
    fputs("</g>\n<g class=\"nd\">\n", f);
    for (size_t i = 0; i < G.n; i++) {
        cs_vpc vp;
        if (cs_estate_vpc(M->s, G.vpc[i], &vp) != 0)
            continue;
        cs_vpc_facts x = cs_report_vpc(M->s, G.vpc[i]);
        fprintf(f, "<g class=\"n\" transform=\"translate(%.1f %.1f)\"", 1000 * xy[2 * i],
                1000 * xy[2 * i + 1]);
        cs_map_attr(f, "data-vpc", x.id);
        cs_map_attr(f, "data-account", x.account);
        cs_map_attr(f, "data-region", x.region);
        fprintf(f, "><circle r=\"9\" fill=\"%s\"/><text x=\"12\" y=\"4\">",
                cs_map_palette[vp.account_idx % 8]);
        cs_html_escape(f, x.id);
        fputs("</text><title>", f);
        cs_html_escape(f, x.id);
        if (x.name[0]) {
            fputs(" (", f);
            cs_html_escape(f, x.name);
            fputc(')', f);
        }
        fputs("\naccount ", f);
        cs_html_escape(f, x.account);
        fputs(", ", f);
        cs_html_escape(f, x.region);
        fputs("</title></g>\n", f);
    }
    fputs("</g>\n</svg>\n", f);
out:
    free(xy);
    free(G.node_of);
    free(G.vpc);
    free(G.edges);
    free(G.over);
    return rc;
}

