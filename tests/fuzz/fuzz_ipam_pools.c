/*
 * tests/fuzz/fuzz_ipam_pools.c — libFuzzer target for engine/ingest/
 * ipam_pools.c, the reader of AWS IPAM's describe-ipam-pools,
 * get-ipam-pool-cidrs and get-ipam-pool-allocations outputs.
 *
 * The reader takes paths (a cidrs or allocations file names its pool), so
 * each input is written to a scratch file: the first byte picks the file
 * name (the pools listing, a pool's cidrs or its allocations), the rest is
 * the file. A fixed describe-ipam-pools listing is read first when the
 * input is a cidrs or allocations file, so their rows can meet a real
 * pool. For each input it aborts when:
 *   - a read or the check fails with an inconsistent cs_error: no message,
 *     no source, a parse error at line 0 or at a line past the input's
 *     last, or a code outside the documented ones;
 *   - a read succeeds but an accessor disagrees with the count: a pool not
 *     found again by its id, a pool outside its family's lengths, or the
 *     CIDR and allocation totals change between two calls.
 * ASan/UBSan catch every out-of-bounds read on the way.
 *
 * Run: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]; seeds in corpus/ipam_pools/.
 */
#include <cidrscope/error.h>
#include <cidrscope/ipam.h>
#include <cidrscope/prefix.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_NAME "fuzz_ipam_pools"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_ID "ipam-pool-0a1b2c3d4e5f60000"

static const char POOLS[] =
    "{\"IpamPools\": [{\"IpamPoolId\": \"" POOL_ID "\", \"AddressFamily\": \"ipv4\",\n"
    "  \"Locale\": \"us-east-1\", \"AllocationMinNetmaskLength\": 16,\n"
    "  \"AllocationMaxNetmaskLength\": 28, \"AllocationDefaultNetmaskLength\": 24}]}\n";

static void check_error(int rc, const cs_error *err, uint64_t max_line)
{
    REQUIRE(rc == CS_EPARSE || rc == CS_EINVAL || rc == CS_EIO || rc == CS_ENOMEM);
    REQUIRE(err->code == rc);
    REQUIRE(err->message[0] != '\0');
    if (rc == CS_EPARSE) {
        REQUIRE(err->source[0] != '\0');
        REQUIRE(err->line <= max_line);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    static const char *const names[3] = {"describe-ipam-pools.json",
                                          POOL_ID ".cidrs.json", POOL_ID ".allocations.json"};
    unsigned kind = data[0] % 3;
    const uint8_t *body = data + 1;
    size_t n = size - 1;

    const char *dir = fuzz_scratch_dir();
    cs_ipam_pools *set = NULL;
    REQUIRE(cs_ipam_pools_new(&set) == 0);
    cs_error err;
    char path[160];
    if (kind != 0) {
        snprintf(path, sizeof path, "%s/pools.json", dir);
        fuzz_write_file(path, (const uint8_t *)POOLS, sizeof POOLS - 1);
        REQUIRE(cs_ipam_pools_read(set, path, &err) == 0);
    }
    snprintf(path, sizeof path, "%s/%s", dir, names[kind]);
    fuzz_write_file(path, body, n);
    int rc = cs_ipam_pools_read(set, path, &err);
    if (rc != 0) {
        check_error(rc, &err, fuzz_lines_in(body, n));
    } else {
        int crc = cs_ipam_pools_check(set, &err);
        if (crc != 0)
            check_error(crc, &err, fuzz_lines_in(body, n) + fuzz_lines_in((const uint8_t *)POOLS,
                                                                 sizeof POOLS - 1));
        size_t pools = cs_ipam_pools_count(set);
        REQUIRE(kind == 0 || pools >= 1);
        const cs_ipam_pool_info *p = cs_ipam_pools_find(set, POOL_ID);
        if (kind != 0) {
            REQUIRE(p != NULL);
            int64_t c1 = cs_ipam_pools_cidrs(set, POOL_ID, NULL, 0);
            int64_t a1 = cs_ipam_pools_allocations(set, POOL_ID, NULL, 0);
            REQUIRE(c1 >= 0 && a1 >= 0);
            size_t cap = (size_t)(c1 > a1 ? c1 : a1) + 1;
            cs_prefix *buf = calloc(cap, sizeof *buf);
            REQUIRE(buf != NULL);
            REQUIRE(cs_ipam_pools_cidrs(set, POOL_ID, buf, cap) == c1);
            REQUIRE(cs_ipam_pools_allocations(set, POOL_ID, buf, cap) == a1);
            free(buf);
        }
        if (p) {
            unsigned width = p->family == CS_AF_V6 ? 128 : 32;
            REQUIRE(p->min_len < 0 || (unsigned)p->min_len <= width);
            REQUIRE(p->max_len < 0 || (unsigned)p->max_len <= width);
        }
    }
    cs_ipam_pools_free(set);
    return 0;
}
