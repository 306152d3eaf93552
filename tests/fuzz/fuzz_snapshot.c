/*
 * tests/fuzz/fuzz_snapshot.c — libFuzzer target for the image loader.
 *
 * Any bytes are opened as an image, with and without checksum verification;
 * when one opens, every query kind runs over it and every entry is read, so
 * a structural check that lets a bad index through shows as an ASan report.
 * An image with estate tables has every record read through estate.h and
 * every string scanned, so an offset the estate validator let through shows
 * too. Seeds: tests/fuzz/corpus/snapshot/ (small valid images, one of them
 * the frozen datasets/sample estate).
 */
#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t scan(const char *str)
{
    return str ? strlen(str) : 0;
}

/* Reads every estate record and follows every index it holds. */
static void exercise_estate(const cs_snapshot *s)
{
    if (!cs_estate_present(s))
        return;
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    size_t sink = 0;
    for (uint32_t i = 0; i < c.vpcs; i++) {
        cs_vpc v;
        if (cs_estate_vpc(s, i, &v) != 0)
            abort();
        sink += scan(v.id) + scan(v.name);
        uint32_t back;
        if (cs_estate_vpc_find(s, v.id, strlen(v.id), &back) == 1 && back >= c.vpcs)
            abort();
        for (uint32_t k = 0; k < v.assoc_count; k++) {
            cs_assoc a;
            if (cs_estate_assoc(s, v.assoc_begin + k, &a) != 0 || a.vpc_idx != i)
                abort();
            sink += scan(a.id) + scan(a.pool);
        }
        uint32_t n = 0;
        const uint32_t *pc = cs_estate_vpc_peerings(s, i, &n);
        for (uint32_t k = 0; k < n; k++) {
            cs_peering p;
            if (cs_estate_peering(s, pc[k], &p) != 0)
                abort();
            sink += scan(p.id);
        }
        for (uint32_t k = 0; k < v.tag_count; k++) {
            const char *key, *val;
            if (cs_estate_tag(s, v.tag_begin + k, &key, &val) == 0)
                sink += scan(key) + scan(val);
        }
        cs_account acct;
        if (cs_estate_account(s, v.account_idx, &acct) == 0)
            sink += scan(acct.id);
    }
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        if (cs_estate_finding(s, i, &f) == 0)
            sink += scan(f.kind) + scan(f.message);
    }
    (void)sink;
}

static void exercise(const cs_snapshot *s)
{
    exercise_estate(s);
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    static const cs_prefix probes[] = {
        {0, 0, 0, CS_AF_V4},
        {0x0a00000000000000ull, 0, 8, CS_AF_V4},
        {0xac1f000000000000ull, 0, 16, CS_AF_V4},
        {0xc0a8010100000000ull, 0, 32, CS_AF_V4},
        {0, 0, 0, CS_AF_V6},
        {0x20010db800000000ull, 0, 32, CS_AF_V6},
        {0x20010db800000000ull, 1, 128, CS_AF_V6},
    };
    const size_t np = sizeof probes / sizeof *probes;
    uint32_t counts[sizeof probes / sizeof *probes];
    cs_match lk[sizeof probes / sizeof *probes];
    for (unsigned kind = 1; kind <= 3; kind++) {
        cs_query_count_bulk(s, probes, np, kind, counts);
        for (size_t i = 0; i < np; i++) {
            cs_query_iter it;
            cs_query_iter_init(&it, s, &probes[i], kind);
            cs_match m;
            uint64_t n = 0;
            while (cs_query_iter_next(&it, &m) > 0)
                n += m.count;
            if (n != counts[i])
                abort(); /* a validated image must answer consistently */
        }
    }
    cs_lookup_bulk(s, probes, np, lk);
    for (int f = 0; f < 2; f++) {
        uint8_t fam = f ? CS_AF_V6 : CS_AF_V4;
        for (uint32_t e = 0; e < info.entries[f] && e < 4096; e++) {
            cs_prefix p;
            uint32_t v;
            if (cs_snapshot_entry(s, fam, e, &p, &v) != 0)
                abort();
            if (cs_query_count(s, &p, CS_Q_COVERING) < 1)
                abort(); /* a stored prefix covers itself */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = (size + 63) & ~(size_t)63;
    uint8_t *img = aligned_alloc(64, cap ? cap : 64);
    if (!img)
        return 0;
    memcpy(img, data, size);
    for (unsigned flags = 0; flags < 2; flags++) {
        cs_snapshot *s = NULL;
        cs_error err;
        if (cs_snapshot_from_memory(img, size, flags ? CS_OPEN_NO_VERIFY : 0, &s, &err) == 0) {
            exercise(s);
            cs_snapshot_close(s);
        } else {
            char buf[1024];
            cs_error_format(&err, buf, sizeof buf);
        }
    }
    free(img);
    return 0;
}
