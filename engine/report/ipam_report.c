/*
 * engine/report/ipam_report.c — prints the answers of engine/query/ipam.c:
 * free space per pool and allocations, as text, JSON and CSV, on the shared
 * writer (engine/report/writer.h).
 *
 * Does: format figures, holes and allocated blocks. Does not: compute
 * anything (every figure comes from ipam.h), read input, allocate.
 *
 * DOCUMENTS.
 *
 *   free, JSON   {"pools": [{"pool", "ipam_pool"?, "addresses", "used",
 *                "free", "largest_free", "fragmentation",
 *                "free_blocks": [prefix]}]}   counts exact (128-bit)
 *   free, CSV    pool,free_block,addresses    one row per hole
 *   free, text   a line of figures per pool, then its holes, one a line
 *   alloc, JSON  {"allocations": [{"prefix", "pool", "ipam_pool"?}],
 *                "generation", and when short "requested", "reason",
 *                "message"}
 *   alloc, CSV   prefix,pool
 *   alloc, text  one block a line ("PREFIX  from POOL"); when short, a
 *                line "only N of M blocks of /L: REASON"
 *
 * Tests: tests/cli/test_ipam.sh (each format, JSON parsed back).
 */
#include <cidrscope/ipam.h>
#include <cidrscope/peering.h>

#include "core/error_internal.h"
#include "report/writer.h"

#include <inttypes.h>
#include <string.h>

const char *cs_ipam_reason_text(unsigned reason)
{
    switch (reason) {
    case CS_IPAM_OK:
        return "every block was allocated";
    case CS_IPAM_NO_SPACE:
        return "no free aligned block of that length is left in the pools";
    case CS_IPAM_BAD_LENGTH:
        return "the length is shorter than every pool or longer than the family's width";
    case CS_IPAM_VPC_SIZE:
        return "AWS gives a VPC only IPv4 blocks from /16 to /28 and IPv6 blocks from /44 "
               "to /60 in steps of /4";
    default:
        return "?";
    }
}

static void json_count(cs_json *j, const char *key, cs_u128 v)
{
    char buf[48];
    cs_u128_format(v, buf, sizeof buf);
    cs_json_key(j, key);
    cs_json_number_text(j, buf);
}

/* Number of addresses in a hole. */
static cs_u128 hole_size(const cs_prefix *p)
{
    unsigned bits = (p->family == CS_AF_V4 ? 32u : 128u) - p->len;
    if (bits >= 64)
        return (cs_u128){bits >= 128 ? ~0ull : 1ull << (bits - 64), bits >= 128 ? ~0ull : 0};
    return (cs_u128){0, 1ull << bits};
}

int cs_ipam_report_free(FILE *f, enum cs_report_format format, const cs_ipam_free_pool *pools, size_t n,
                        cs_error *err)
{
    if (!f || (n && !pools) || format > CS_REPORT_CSV)
        return cs_fail(err, CS_EINVAL, "bad arguments to the free-space report");
    char pb[CS_PREFIX_STRCAP], nb[48];
    if (format == CS_REPORT_JSON) {
        cs_json j;
        cs_json_init(&j, f, CS_JSON_PRETTY);
        cs_json_begin_object(&j);
        cs_json_key(&j, "pools");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            const cs_ipam_free_pool *p = &pools[i];
            cs_json_begin_object(&j);
            cs_json_kv_prefix(&j, "pool", &p->pool);
            if (p->name)
                cs_json_kv_string(&j, "ipam_pool", p->name);
            json_count(&j, "addresses", p->stats.addresses);
            json_count(&j, "used", p->stats.used);
            json_count(&j, "free", p->stats.free);
            cs_json_key(&j, "largest_free");
            if (p->stats.has_free)
                cs_json_prefix(&j, &p->stats.largest_free);
            else
                cs_json_null(&j);
            cs_json_key(&j, "fragmentation");
            cs_json_double(&j, p->stats.fragmentation);
            cs_json_key(&j, "free_blocks");
            cs_json_begin_array(&j);
            for (size_t k = 0; k < p->n_blocks; k++)
                cs_json_prefix(&j, &p->blocks[k]);
            cs_json_end(&j);
            cs_json_end(&j);
        }
        cs_json_end(&j);
        cs_json_end(&j);
        cs_json_newline(&j);
    } else if (format == CS_REPORT_CSV) {
        cs_csv c;
        cs_csv_init(&c, f);
        static const char *const head[] = {"pool", "free_block", "addresses", NULL};
        cs_csv_header(&c, head);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < pools[i].n_blocks; k++) {
                cs_prefix_format(&pools[i].pool, pb, sizeof pb);
                cs_csv_field(&c, pools[i].name ? pools[i].name : pb);
                cs_csv_prefix(&c, &pools[i].blocks[k]);
                cs_u128_format(hole_size(&pools[i].blocks[k]), nb, sizeof nb);
                cs_csv_field(&c, nb);
                cs_csv_end_row(&c);
            }
    } else {
        for (size_t i = 0; i < n; i++) {
            const cs_ipam_free_pool *p = &pools[i];
            char a[48], u[48], fr[48], lb[CS_PREFIX_STRCAP] = "none";
            cs_prefix_format(&p->pool, pb, sizeof pb);
            cs_u128_format(p->stats.addresses, a, sizeof a);
            cs_u128_format(p->stats.used, u, sizeof u);
            cs_u128_format(p->stats.free, fr, sizeof fr);
            if (p->stats.has_free)
                cs_prefix_format(&p->stats.largest_free, lb, sizeof lb);
            fprintf(f, "pool %s%s%s%s: %s addresses, %s used, %s free; largest free %s; "
                       "fragmentation %.3f\n",
                    pb, p->name ? " (" : "", p->name ? p->name : "", p->name ? ")" : "", a, u,
                    fr, lb, p->stats.fragmentation);
            fprintf(f, "  %zu free block%s%s\n", p->n_blocks, p->n_blocks == 1 ? "" : "s",
                    p->n_blocks ? ":" : "");
            for (size_t k = 0; k < p->n_blocks; k++) {
                cs_prefix_format(&p->blocks[k], pb, sizeof pb);
                fprintf(f, "    %s\n", pb);
            }
        }
    }
    return cs_out_finish(f, "free-space report", err);
}

int cs_ipam_report_alloc(FILE *f, enum cs_report_format format, const cs_prefix *pools,
                         const char *const *pool_names, const cs_ipam_allocation *a, size_t n,
                         size_t wanted, unsigned length, unsigned reason, uint64_t generation,
                         cs_error *err)
{
    if (!f || (n && (!a || !pools)) || format > CS_REPORT_CSV)
        return cs_fail(err, CS_EINVAL, "bad arguments to the allocation report");
    char pb[CS_PREFIX_STRCAP], qb[CS_PREFIX_STRCAP];
    if (format == CS_REPORT_JSON) {
        cs_json j;
        cs_json_init(&j, f, CS_JSON_PRETTY);
        cs_json_begin_object(&j);
        cs_json_key(&j, "allocations");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            cs_json_begin_object(&j);
            cs_json_kv_prefix(&j, "prefix", &a[i].prefix);
            cs_json_kv_prefix(&j, "pool", &pools[a[i].pool]);
            if (pool_names && pool_names[a[i].pool])
                cs_json_kv_string(&j, "ipam_pool", pool_names[a[i].pool]);
            cs_json_end(&j);
        }
        cs_json_end(&j);
        cs_json_kv_u64(&j, "generation", generation);
        if (n < wanted) {
            cs_json_kv_u64(&j, "requested", wanted);
            cs_json_kv_string(&j, "reason", cs_ipam_reason_name(reason));
            cs_json_kv_string(&j, "message", cs_ipam_reason_text(reason));
        }
        cs_json_end(&j);
        cs_json_newline(&j);
    } else if (format == CS_REPORT_CSV) {
        cs_csv c;
        cs_csv_init(&c, f);
        static const char *const head[] = {"prefix", "pool", NULL};
        cs_csv_header(&c, head);
        for (size_t i = 0; i < n; i++) {
            cs_csv_prefix(&c, &a[i].prefix);
            cs_csv_prefix(&c, &pools[a[i].pool]);
            cs_csv_end_row(&c);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            cs_prefix_format(&a[i].prefix, pb, sizeof pb);
            cs_prefix_format(&pools[a[i].pool], qb, sizeof qb);
            fprintf(f, "%-20s from %s\n", pb, qb);
        }
        if (n < wanted)
            fprintf(f, "only %zu of %zu blocks of /%u: %s: %s\n", n, wanted, length,
                    cs_ipam_reason_name(reason), cs_ipam_reason_text(reason));
    }
    return cs_out_finish(f, "allocation report", err);
}
