/*
 * bench/harness.h — the C side of the benchmarks: datasets, query mixes, the
 * measured loops (through the public API only), self-checks, jemalloc
 * memory figures, and the files handed to the peers.
 *
 * Two callers: bench/bench_main.cc (Google Benchmark runner, `make bench`)
 * and bench/peers/peer_cidrscope.c (`make bench-peers`: writes the peers'
 * input files and times cidrscope on exactly those inputs).
 *
 * Datasets:
 *   estate-N  N rows shaped like an AWS organisation's VPC CIDR associations
 *             (default VPCs on 172.31.0.0/16, template collisions such as
 *             10.0.0.0/16, IPAM-style allocations carved from 10.0.0.0/8 /
 *             172.16.0.0/12 / 192.168.0.0/16 by several overlapping scopes,
 *             100.64.0.0/10 reuse, Amazon-provided IPv6 /56s). A 1M-row
 *             estate has about 243k distinct prefixes.
 *   real-N    N rows sampled (seeded) from the 142k real cloud prefixes in
 *             ../shared/datasets/cloud-prefixes/prefixes.csv (all of them
 *             when N >= 142k), value = provider index.
 *
 * Every generator is seeded: the same (kind, rows, seed) gives the same data
 * on every machine. Harness functions print a message and exit(3) on a
 * setup failure (out of memory, a missing file, a library error): a
 * benchmark that cannot set up must not report a time.
 */
#ifndef CS_BENCH_HARNESS_H
#define CS_BENCH_HARNESS_H

#include <cidrscope/cidrscope.h>
#include <cidrscope/peering.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- basics ---------------------------------------------------------------- */

typedef struct hb_rng {
    uint64_t s;
} hb_rng;

uint64_t hb_next(hb_rng *r);
/* Uniform in [0, n); 0 when n == 0. */
uint64_t hb_below(hb_rng *r, uint64_t n);

/* Monotonic clock, nanoseconds. */
uint64_t hb_now_ns(void);
/* CPU time of this process, nanoseconds (CLOCK_PROCESS_CPUTIME_ID): what
 * single-threaded workloads are timed with, so time other processes of a
 * shared machine take from us is not counted as ours. */
uint64_t hb_cpu_ns(void);

/* jemalloc's stats.allocated (bytes currently allocated by the process),
 * refreshed through the "epoch" mallctl. */
uint64_t hb_mem_allocated(void);

/* Caps this process's address space (RLIMIT_AS) at $CS_BENCH_MEM_LIMIT_MB,
 * else 60% of physical memory, so a workload that blows up fails with
 * CS_ENOMEM and a message instead of making the kernel's OOM killer pick
 * some other process of this shared machine. Call first thing in main. */
void hb_limit_memory(void);

/* Prints "bench: <message>" to stderr and exits with status 3. */
void hb_die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

/* Parses a scale ("10k", "100000", "1M", "10M"): rows, or 0 when malformed. */
size_t hb_parse_scale(const char *s);
/* "10k", "1M", "142k": a short label for a row count. */
void hb_scale_label(size_t rows, char *buf, size_t cap);

/* The real-prefix CSV: $CS_BENCH_REAL_CSV, else the path compiled in
 * (CS_BENCH_REAL_CSV_DEFAULT, ../shared/... relative to the source tree). */
const char *hb_real_csv_path(void);

/* ---- datasets -------------------------------------------------------------- */

typedef struct hb_row {
    cs_prefix p;
    uint32_t value;
} hb_row;

enum hb_kind { HB_ESTATE = 0, HB_REAL = 1 };

typedef struct hb_dataset {
    char name[48];             /* "estate-1M", "real-142k" */
    enum hb_kind kind;
    size_t n_rows;
    hb_row *rows;              /* in row order (value = row id for estates) */
    /* Distinct prefixes per family, sorted (cs_prefix_compare), with the
     * number of rows on each: the input of query generation and of the
     * sorted-array baseline. */
    cs_prefix *distinct[2];
    uint32_t *multiplicity[2];
    size_t n_distinct[2];
    size_t n_family_rows[2];
    cs_snapshot *snap;         /* frozen from rows */
    size_t image_len;
    uint64_t builder_bytes;    /* jemalloc bytes held by the full builder */
    uint64_t image_bytes;      /* jemalloc bytes held by the frozen image */
} hb_dataset;

/* Generates `rows` estate-shaped rows (values 0..rows-1). Caller frees. */
hb_row *hb_estate_rows(size_t rows, uint64_t seed);

/* Reads the real-prefix CSV; when `limit` < the file's rows, a seeded
 * uniform sample of `limit` rows (in file order). *n receives the count.
 * Exits with a message when the file is missing. Caller frees. */
hb_row *hb_real_rows(const char *path, size_t limit, uint64_t seed, size_t *n);

/* Builds a dataset: rows, the distinct/multiplicity tables and the frozen
 * snapshot. `rows` is the requested scale (real: capped at the file). */
hb_dataset *hb_dataset_new(enum hb_kind kind, size_t rows, uint64_t seed);
/* Wraps rows the caller already has (ownership of `rows` passes to the
 * dataset). */
hb_dataset *hb_dataset_from_rows(const char *name, enum hb_kind kind,
                                 hb_row *rows, size_t n);
void hb_dataset_free(hb_dataset *d);

/* Builder + every add + freeze, as measured by the build workload. Returns
 * the snapshot (caller closes). */
cs_snapshot *hb_build(const hb_row *rows, size_t n);

/* ---- query mixes ----------------------------------------------------------- */

/*
 * Overlap queries for family fam (0 v4, 1 v6), "biased to hit": 85% start
 * from a random distinct stored prefix, take a length uniform in /8../32
 * (v4) or /32../64 (v6), and shorten the stored prefix or extend it with
 * random bits to that length; 15% are random prefixes of such a length.
 * Caller frees.
 */
cs_prefix *hb_overlap_queries(const hb_dataset *d, unsigned fam, size_t n,
                              uint64_t seed);

/* Addresses (/32, /128) for longest-prefix match: 90% inside a random
 * distinct stored prefix (random host bits), 10% uniformly random. */
cs_prefix *hb_lookup_addrs(const hb_dataset *d, unsigned fam, size_t n,
                           uint64_t seed);

/* ---- measured loops (public API only) -------------------------------------- */

/* cs_query_count_bulk(CS_Q_OVERLAPPING) into counts; returns their sum. */
uint64_t hb_count_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                       uint32_t *counts);
/* The same, one cs_query_count call per query. */
uint64_t hb_count_single(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                         uint32_t *counts);

/* cs_query_walk_bulk(CS_Q_OVERLAPPING): every overlapping entry is delivered
 * and its value read by the callback (a consumer must at least read what it
 * gets). Returns the number of result entries; *checksum receives the xor
 * of the values seen (keeps the reads alive). */
uint64_t hb_enumerate(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                      uint64_t *checksum);

/* cs_lookup_bulk into out; returns hits. */
uint64_t hb_lookup_bulk(const cs_snapshot *s, const cs_prefix *as, size_t n,
                        cs_match *out);
/* One cs_lookup call per address; returns hits. */
uint64_t hb_lookup_single(const cs_snapshot *s, const cs_prefix *as, size_t n,
                          cs_match *out);

/*
 * "Overlapping entry pair count" (unordered pairs of distinct entries whose
 * prefixes overlap or are equal) of one family, computed through the query
 * API: one CS_Q_COVERED walk from /0 lists the distinct prefixes and their
 * entry counts n, then one cs_query_count_bulk(CS_Q_COVERED) per prefix
 * gives the entries inside it; pairs = sum of C(n,2) + n x (inside - n).
 * This stands in for the audit until include/cidrscope/audit.h lands.
 * `scratch` is hb_pairs_scratch_new's (sized for the snapshot).
 */
typedef struct hb_pairs_scratch hb_pairs_scratch;
hb_pairs_scratch *hb_pairs_scratch_new(const cs_snapshot *s);
void hb_pairs_scratch_free(hb_pairs_scratch *sc);
uint64_t hb_pairs(const cs_snapshot *s, unsigned fam, hb_pairs_scratch *sc);

/* ---- shared-memory readers ---------------------------------------------------- */

/*
 * Query throughput of `readers` processes (fork()ed children) on one image,
 * each running cs_query_count_bulk over the `nq` queries in batches of
 * `batch`: one pass when seconds == 0, else batch after batch (cycling, at
 * most 64 passes) for `seconds`. Modes:
 *   HB_READ_HEAP        children query the parent's heap image inherited by
 *                       fork(): the in-process baseline, same work, same
 *                       processes;
 *   HB_READ_PIN         the image is published in a POSIX shm service
 *                       (shm.h) created for the call; each child attaches,
 *                       then cs_shm_pin / cs_shm_unpin around every batch
 *                       (the first pin of a new generation maps it);
 *   HB_READ_PIN_MAPPED  the same with cs_shm_pin_mapped, while a thread of
 *                       each child calls cs_shm_refresh when the generation
 *                       changes (shm.h's recipe for readers that must not
 *                       pay the mapping on their query path).
 * Children attach and map before the clock starts; the wall time runs from
 * "go" to the last child's answer. With publish_every_ms > 0 (shm modes) the
 * parent publishes a new generation (the same content) that often while the
 * readers run, and the children report the longest batch (pin + queries +
 * unpin) they saw: the reader stall publishes cause. Every batch's count sum
 * is checked against the in-process answer; a mismatch (naming the batch
 * and generation) exits with a message.
 */
enum hb_read_mode { HB_READ_HEAP = 0, HB_READ_PIN = 1, HB_READ_PIN_MAPPED = 2 };

typedef struct hb_shm_result {
    double wall_s;           /* go -> last reader done */
    uint64_t queries;        /* answered by all readers */
    double max_batch_s;      /* longest batch any reader saw */
    double median_batch_s;   /* median batch of reader 0 */
    uint64_t publishes;      /* generations published while reading */
    uint64_t generations;    /* distinct generations reader 0 pinned */
} hb_shm_result;

void hb_shm_readers(const cs_snapshot *s, const cs_prefix *qs, size_t nq,
                    size_t batch, double seconds, unsigned readers,
                    enum hb_read_mode mode, unsigned publish_every_ms,
                    hb_shm_result *out);

/* ---- the audit (audit.h) ---------------------------------------------------------- */

/*
 * An estate image (estate.h) made of the dataset's rows, for the VPC-level
 * audit: a row on 172.31.0.0/16 is the default VPC of a new account-region
 * (account = slot / 16, one of 16 regions); a row in 100.64.0.0/10 or an
 * IPv6 row is a secondary block of the last non-default VPC; any other row
 * is the primary block of a new VPC in the current account-region; 3% of
 * new VPCs are peered (active) with the previous one. All blocks associated.
 * *vpcs receives the number of VPCs. Caller closes the snapshot.
 */
cs_snapshot *hb_estate_image(const hb_dataset *d, uint64_t seed, size_t *vpcs);

typedef struct hb_audit_figures {
    uint64_t entries, entry_pairs, clusters;
    uint64_t vpc_pairs;        /* 0 at entry level */
    int vpc_level;
} hb_audit_figures;

/* cs_audit_run (CS_AUDIT_ENTRY_LEVEL when entry_level), summary, free: the
 * measured audit, report writing excluded. */
void hb_audit(const cs_snapshot *s, int entry_level, hb_audit_figures *out);

/* ---- peering (peering.h) ------------------------------------------------------------ */

/* `n` VPC pairs of an estate image with `vpcs` VPCs: 70% uniformly random,
 * 20% neighbours (i, i+1: same account-region, often peered or
 * overlapping), 10% a VPC with itself or with an unknown index. Caller
 * frees. */
cs_peering_pair *hb_peering_pairs(size_t vpcs, size_t n, uint64_t seed);

/* cs_peering_check_bulk in batches of `batch` into out; returns the number
 * of ineligible pairs. */
uint64_t hb_peering_bulk(const cs_peering_index *ix, const cs_peering_pair *pairs,
                         size_t n, size_t batch, cs_peering_verdict *out);
/* One cs_peering_check (through the trie) per pair; returns ineligible. */
uint64_t hb_peering_single(const cs_snapshot *s, const cs_peering_pair *pairs,
                           size_t n, cs_peering_verdict *out);
/* Exits with a message unless bulk and single verdicts agree on the first
 * `n` pairs. */
void hb_peering_verify(const cs_peering_index *ix, const cs_peering_pair *pairs,
                       size_t n);

/* ---- self-checks ----------------------------------------------------------- */

/* Metamorphic checks before anything is timed: bulk == single == iterator
 * for counts, bulk == single for lookups, the pair count through queries ==
 * a sweep over the distinct table. Exits with a message on any mismatch. */
void hb_verify(const hb_dataset *d, const cs_prefix *qs, size_t nq,
               const cs_prefix *as, size_t na, unsigned fam);

/* ---- peer files ------------------------------------------------------------- */

/* Writes `n` prefixes (canonical text, one a line) to path. */
void hb_write_prefixes(const char *path, const cs_prefix *ps, size_t n);
/* Writes `n` addresses (/32, /128 prefixes) as bare addresses, one a line. */
void hb_write_addrs(const char *path, const cs_prefix *as, size_t n);
/* Writes the rows' prefixes, one a line, in row order. */
void hb_write_rows(const char *path, const hb_row *rows, size_t n);
/* Writes u32 numbers, one a line. */
void hb_write_u32s(const char *path, const uint32_t *v, size_t n);
/* Writes matched prefix lengths of lookups (-1 for a miss), one a line. */
void hb_write_lpm(const char *path, const cs_match *m, size_t n);

#ifdef __cplusplus
}
#endif
#endif
