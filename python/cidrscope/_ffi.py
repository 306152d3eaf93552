"""cidrscope._ffi — the C declarations the binding uses, for cffi's ABI mode.

They mirror include/cidrscope/*.h exactly (same field order and types); only
what python/cidrscope/__init__.py calls is declared. The shared library is
found through $CIDRSCOPE_LIBRARY (a path), else the dynamic loader's search
path (libcidrscope.so.0, as `make install` puts it).
"""
import os

import cffi

ffi = cffi.FFI()
ffi.cdef("""
typedef struct _IO_FILE FILE;
FILE *open_memstream(char **ptr, size_t *sizeloc);
int fclose(FILE *f);
void free(void *p);

typedef struct cs_error {
    int code;
    char message[320];
    char source[256];
    uint64_t line;
    uint32_t column;
    uint64_t offset;
    uint32_t span;
    char text[96];
    uint32_t text_col;
} cs_error;
const char *cs_strerror(int code);
void cs_error_clear(cs_error *err);
size_t cs_error_format(const cs_error *err, char *buf, size_t cap);

typedef struct cs_prefix {
    uint64_t hi;
    uint64_t lo;
    uint8_t len;
    uint8_t family;
} cs_prefix;
int cs_prefix_parse(const char *text, size_t len, unsigned flags,
                    cs_prefix *out, cs_error *err);
size_t cs_prefix_format(const cs_prefix *p, char *buf, size_t cap);
int64_t cs_prefix_parse_lines(const char *text, size_t len, unsigned flags,
                              bool addresses, cs_prefix *out, size_t cap,
                              cs_error *err);

typedef struct cs_snapshot cs_snapshot;
int cs_snapshot_open(const char *path, unsigned flags, cs_snapshot **out,
                     cs_error *err);
void cs_snapshot_close(cs_snapshot *s);

typedef struct cs_match {
    cs_prefix prefix;
    const uint32_t *values;
    uint32_t count;
    uint32_t first_entry;
    uint8_t relation;
} cs_match;
typedef struct cs_query_iter {
    const cs_snapshot *snap;
    cs_prefix q;
    unsigned kind;
    uint32_t fam;
    uint32_t node;
    uint32_t prev_cov;
    uint32_t ent;
    uint32_t ent_end;
    uint8_t phase;
} cs_query_iter;
int cs_query_count_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                        unsigned kind, uint32_t *counts);
int64_t cs_query_count_lines(const cs_snapshot *s, const char *text, size_t len,
                             unsigned flags, unsigned kind, uint32_t *counts,
                             size_t cap, cs_error *err);
typedef struct cs_query_scratch cs_query_scratch;
cs_query_scratch *cs_query_scratch_new(void);
void cs_query_scratch_free(cs_query_scratch *sc);
int64_t cs_query_count_lines_with(const cs_snapshot *s, cs_query_scratch *sc,
                                  const char *text, size_t len, unsigned flags,
                                  unsigned kind, uint32_t *counts, size_t cap,
                                  cs_error *err);
typedef struct cs_item_layout {
    size_t count_off;
    size_t items_off;
    uint32_t items_indirect;
    size_t tag_off;
    uint64_t tag;
    size_t flags_off;
    uint32_t flags_mask;
    uint32_t flags_want;
    size_t len_off;
    size_t text_off;
} cs_item_layout;
int64_t cs_query_count_items(const cs_snapshot *s, cs_query_scratch *sc,
                             const void *seq, const cs_item_layout *layout,
                             unsigned flags, unsigned kind, uint32_t *counts,
                             size_t cap, cs_error *err);
void cs_query_iter_init(cs_query_iter *it, const cs_snapshot *s,
                        const cs_prefix *q, unsigned kind);
int cs_query_iter_next(cs_query_iter *it, cs_match *m);
int64_t cs_lookup_bulk(const cs_snapshot *s, const cs_prefix *addrs, size_t n,
                       cs_match *out);

typedef struct cs_estate cs_estate;
typedef struct cs_load_options {
    bool lenient;
    bool keep_going;
    const char *region;
    const char *account;
    int kind;
    void *progress;      /* cs_load_progress_fn; the binding passes NULL */
    void *progress_ctx;
    cs_snapshot **snapshot;
    unsigned threads;
} cs_load_options;
cs_estate *cs_estate_new(void);
void cs_estate_free(cs_estate *e);
int cs_estate_load(cs_estate *e, const char *path, const cs_load_options *opts,
                   cs_error *err);
int cs_estate_freeze(const cs_estate *e, cs_snapshot **out, cs_error *err);
bool cs_estate_present(const cs_snapshot *s);

typedef struct cs_account {
    const char *id;
    uint32_t vpc_begin;
    uint32_t vpc_count;
    uint32_t flags;
} cs_account;
typedef struct cs_region {
    const char *name;
    uint32_t vpc_count;
} cs_region;
typedef struct cs_vpc {
    const char *id;
    const char *name;
    uint32_t account_idx;
    uint32_t region_idx;
    uint32_t assoc_begin;
    uint32_t assoc_count;
    uint32_t edge_begin;
    uint32_t edge_count;
    uint32_t tag_begin;
    uint32_t tag_count;
    uint32_t pcx_count;
    uint8_t state;
    bool is_default;
    bool pseudo;
} cs_vpc;
int cs_estate_account(const cs_snapshot *s, uint32_t idx, cs_account *out);
int cs_estate_region(const cs_snapshot *s, uint32_t idx, cs_region *out);
int cs_estate_vpc(const cs_snapshot *s, uint32_t idx, cs_vpc *out);
uint32_t cs_estate_assoc_vpc(const cs_snapshot *s, uint32_t assoc_idx);

typedef struct cs_audit_tag {
    const char *key;
    const char *value;
} cs_audit_tag;
typedef struct cs_audit_domain cs_audit_domain;
typedef struct cs_audit_options {
    unsigned flags;
    const char *const *accounts;
    size_t account_count;
    const char *const *regions;
    size_t region_count;
    const cs_audit_tag *tags;
    size_t tag_count;
    const cs_audit_domain *domains;
    size_t domain_count;
} cs_audit_options;
typedef struct cs_audit_result cs_audit_result;
typedef struct cs_audit_drift cs_audit_drift;
typedef struct cs_audit_report_options {
    int format;
    uint64_t limit;
    const char *title;
    const cs_snapshot *baseline_snap;
    const cs_audit_result *baseline;
    const cs_audit_drift *drift;
    const char *baseline_title;
    bool what_if;
} cs_audit_report_options;
int cs_audit_run(const cs_snapshot *s, const cs_audit_options *opts,
                 cs_audit_result **out, cs_error *err);
void cs_audit_free(cs_audit_result *r);
int cs_audit_report_write(FILE *f, const cs_snapshot *s,
                          const cs_audit_result *r,
                          const cs_audit_report_options *o, cs_error *err);

int cs_estate_vpc_find(const cs_snapshot *s, const char *id, size_t len,
                       uint32_t *idx);

typedef struct cs_peering_verdict {
    uint16_t reasons;
    uint8_t verdict;
    uint8_t reserved;
} cs_peering_verdict;
typedef struct cs_peering_pair {
    uint32_t a, b;
} cs_peering_pair;
typedef struct cs_peering_opts {
    uint32_t quota;
} cs_peering_opts;
typedef struct cs_peering_summary {
    uint64_t pairs;
    uint64_t verdicts[3];
    uint64_t reasons[9];
} cs_peering_summary;
typedef struct cs_peering_index cs_peering_index;
typedef struct cs_peering_report cs_peering_report;
int cs_peering_check(const cs_snapshot *s, uint32_t a, uint32_t b,
                     const cs_peering_opts *opts, cs_peering_verdict *out);
int cs_peering_index_new(const cs_snapshot *s, cs_peering_index **out,
                         cs_error *err);
void cs_peering_index_free(cs_peering_index *ix);
int cs_peering_check_bulk(const cs_peering_index *ix,
                          const cs_peering_pair *pairs, size_t n,
                          const cs_peering_opts *opts, cs_peering_verdict *out);
void cs_peering_summary_add(cs_peering_summary *sum,
                            const cs_peering_verdict *v);
cs_peering_report *cs_peering_report_new(FILE *f, int format,
                                         const cs_snapshot *s,
                                         const cs_peering_opts *opts);
void cs_peering_report_begin(cs_peering_report *r,
                             const cs_peering_summary *sum);
void cs_peering_report_pair(cs_peering_report *r, const char *a_id,
                            const char *b_id, uint32_t a, uint32_t b,
                            const cs_peering_verdict *v);
int cs_peering_report_end(cs_peering_report *r,
                          const cs_peering_summary *sum, cs_error *err);
void cs_peering_report_free(cs_peering_report *r);

typedef struct cs_u128 {
    uint64_t hi, lo;
} cs_u128;
typedef struct cs_ipam_pool_stats {
    cs_u128 addresses;
    cs_u128 used;
    cs_u128 free;
    uint64_t free_blocks;
    cs_prefix largest_free;
    bool has_free;
    double fragmentation;
} cs_ipam_pool_stats;
typedef struct cs_ipam_request {
    const cs_prefix *pools;
    size_t n_pools;
    unsigned length;
    size_t count;
    unsigned strategy;
    bool avoid_none;
    bool vpc_rules;
    const cs_prefix *allowed;
    size_t n_allowed;
    cs_prefix *extra;
    size_t n_extra;
} cs_ipam_request;
typedef struct cs_ipam_allocation {
    cs_prefix prefix;
    uint32_t pool;
} cs_ipam_allocation;
typedef struct cs_ipam_free_pool {
    cs_prefix pool;
    const char *name;
    cs_ipam_pool_stats stats;
    const cs_prefix *blocks;
    size_t n_blocks;
} cs_ipam_free_pool;
int64_t cs_ipam_free(const cs_snapshot *s, const cs_prefix *pool,
                     cs_prefix *extra, size_t n_extra, unsigned max_len,
                     cs_prefix *out, size_t cap, cs_ipam_pool_stats *st);
int cs_ipam_strategy_parse(const char *s, size_t len);
const char *cs_ipam_reason_name(unsigned reason);
const char *cs_ipam_reason_text(unsigned reason);
int64_t cs_ipam_alloc(const cs_snapshot *s, const cs_ipam_request *r,
                      cs_ipam_allocation *out, unsigned *reason);
int64_t cs_ipam_peer_blocks(const cs_snapshot *s, const uint32_t *vpcs,
                            size_t n, cs_prefix *out, size_t cap);
int cs_ipam_report_free(FILE *f, int format, const cs_ipam_free_pool *pools,
                        size_t n, cs_error *err);

typedef struct cs_shm cs_shm;
typedef struct cs_pin {
    const cs_snapshot *snap;
    uint64_t generation;
    cs_shm *shm_;
    void *map_;
    uint32_t slot_;
} cs_pin;
int cs_shm_attach(const char *name, unsigned flags, cs_shm **out,
                  cs_error *err);
int cs_shm_pin(cs_shm *h, cs_pin *pin, cs_error *err);
void cs_shm_unpin(cs_pin *pin);
void cs_shm_detach(cs_shm *h);
""")


def _open_library():
    """(lib, the name it was opened by)."""
    path = os.environ.get("CIDRSCOPE_LIBRARY")
    if path:
        return ffi.dlopen(path), path
    try:
        return ffi.dlopen("libcidrscope.so.0"), "libcidrscope.so.0"
    except OSError:
        import ctypes.util
        found = ctypes.util.find_library("cidrscope")
        if not found:
            raise
        return ffi.dlopen(found), found


lib, lib_name = _open_library()
libc = ffi.dlopen(None)
