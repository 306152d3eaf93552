/*
 * tests/fuzz/fuzz_snapshot.c — libFuzzer target for the image loader.
 *
 * Any bytes are opened as an image, with and without checksum verification;
 * when one opens, every query kind runs over it and every entry is read, so
 * a structural check that lets a bad index through shows as an ASan report.
 * Seeds: tests/fuzz/corpus/snapshot/ (small valid images).
 */
#include <cidrscope/cidrscope.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const cs_snapshot *s)
{
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
