/*
 * engine/report/graph_layout.c — where the peering graph's nodes go: a
 * deterministic force-directed layout (Fruchterman & Reingold, "Graph
 * Drawing by Force-directed Placement", Software—Practice and Experience
 * 21(11), 1991).
 *
 * Does: place n nodes joined by m undirected edges in the unit square so
 * that joined nodes sit near each other and every pair repels. Does not:
 * read the estate (the caller, map.c, chooses nodes and edges), draw, or
 * use randomness: nodes start on a circle in index order and a fixed number
 * of iterations runs with a linearly cooling step, so the same graph always
 * gets the same picture (the report is diffable and the tests can compare).
 *
 * It lives in report/ rather than query/ because it computes nothing about
 * the estate: it is geometry for one drawing, used only by the map writer.
 *
 * Cost: O(ITERS * (n^2 + m)); the caller caps n (CS_MAP_MAX_GRAPH_NODES =
 * 300 -> 90,000 pair forces per iteration). Tests: tests/test_map.c
 * (determinism, every node inside the square, joined nodes closer than
 * the average pair).
 */
#include "core/error_internal.h"

#include <cidrscope/map.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ITERS 200

int cs_graph_layout(size_t n, const uint32_t *edges, size_t m, double *xy, cs_error *err)
{
    if ((n && !xy) || (m && !edges))
        return cs_fail(err, CS_EINVAL, "cs_graph_layout: NULL array");
    for (size_t k = 0; k < 2 * m; k++)
        if (edges[k] >= n)
            return cs_fail(err, CS_EINVAL, "cs_graph_layout: edge %zu names node %u of %zu",
                           k / 2, edges[k], n);
    if (n == 0)
        return 0;
    if (n == 1) {
        xy[0] = xy[1] = 0.5;
        return 0;
    }
    double *disp = calloc(2 * n, sizeof *disp);
    if (!disp)
        return cs_fail(err, CS_ENOMEM, "cs_graph_layout: out of memory");
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < n; i++) {
        double a = 2 * pi * (double)i / (double)n;
        xy[2 * i] = 0.5 + 0.4 * cos(a);
        xy[2 * i + 1] = 0.5 + 0.4 * sin(a);
    }
    double k = sqrt(1.0 / (double)n); /* ideal edge length in the unit square */
    double t = 0.1;                   /* largest step, cooled to 0 */
    for (int it = 0; it < ITERS; it++) {
        memset(disp, 0, 2 * n * sizeof *disp);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                double dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
                double d2 = dx * dx + dy * dy;
                if (d2 < 1e-12) {
                    /* coincident: push apart along a direction fixed by the indices */
                    dx = 1e-3 * (double)((i + j) % 7 + 1);
                    dy = 1e-3 * (double)((i * 3 + j) % 5 + 1);
                    d2 = dx * dx + dy * dy;
                }
                double f = k * k / d2; /* repulsion k^2/d, along (dx,dy)/d */
                disp[2 * i] += dx * f;
                disp[2 * i + 1] += dy * f;
                disp[2 * j] -= dx * f;
                disp[2 * j + 1] -= dy * f;
            }
        for (size_t e = 0; e < m; e++) {
            size_t a = edges[2 * e], b = edges[2 * e + 1];
            if (a == b)
                continue;
            double dx = xy[2 * a] - xy[2 * b], dy = xy[2 * a + 1] - xy[2 * b + 1];
            double d = sqrt(dx * dx + dy * dy);
            double f = d / k; /* attraction d^2/k, along (dx,dy)/d */
            disp[2 * a] -= dx * f;
            disp[2 * a + 1] -= dy * f;
            disp[2 * b] += dx * f;
            disp[2 * b + 1] += dy * f;
        }
        for (size_t i = 0; i < n; i++) {
            double dx = disp[2 * i], dy = disp[2 * i + 1];
            double d = sqrt(dx * dx + dy * dy);
            if (d > t) {
                dx *= t / d;
                dy *= t / d;
            }
            /* a weak pull to the centre keeps disconnected parts on the page */
            xy[2 * i] += dx + 0.01 * (0.5 - xy[2 * i]);
            xy[2 * i + 1] += dy + 0.01 * (0.5 - xy[2 * i + 1]);
        }
        t = 0.1 * (1.0 - (double)(it + 1) / ITERS) + 0.002;
    }
    /* fit into [0.05, 0.95]^2, keeping the aspect */
    double x0 = xy[0], x1 = xy[0], y0 = xy[1], y1 = xy[1];
    for (size_t i = 1; i < n; i++) {
        x0 = fmin(x0, xy[2 * i]);
        x1 = fmax(x1, xy[2 * i]);
        y0 = fmin(y0, xy[2 * i + 1]);
        y1 = fmax(y1, xy[2 * i + 1]);
    }
    double span = fmax(fmax(x1 - x0, y1 - y0), 1e-9);
    for (size_t i = 0; i < n; i++) {
        xy[2 * i] = 0.05 + 0.9 * (xy[2 * i] - x0) / span;
        xy[2 * i + 1] = 0.05 + 0.9 * (xy[2 * i + 1] - y0) / span;
    }
    free(disp);
    return 0;
}
