// bench/bench_main.cc — the Google Benchmark runner (`make bench`).
//
// The only C++ file of the project: it registers the C harness's measured
// loops (bench/harness.c, public API only) with Google Benchmark and adds
// the counters the issue asks for. Everything about datasets and queries is
// in harness.h.
//
// Benchmarks, per dataset (estate-N and real-N, N from CS_BENCH_SCALES,
// default "10k,100k,1M"; "10M" is accepted when memory allows) and, for the
// query workloads, per family (v4, v6):
//
//   build/D            builder + every add + freeze of all rows
//                      items = rows; bytes = image bytes; B/entry = image
//                      length / entries; builder_MiB / image_MiB from
//                      jemalloc stats.allocated around each phase
//   count_bulk/D/F     cs_query_count_bulk (16 interleaved lanes), overlap
//   count_single/D/F   one cs_query_count per query
//   enumerate/D/F      cs_query_walk_bulk, every entry's value read;
//                      items = queries, entries/s = result entries
//   lookup_bulk/D/F    cs_lookup_bulk of addresses
//   lookup_single/D/F  one cs_lookup per address
//   pairs/D            overlapping entry pair count of both families via the
//                      query API (the stand-in for the audit, see harness.h)
//   count_pairs/D      cs_query_count_pairs of both families: the same count
//                      alone, one pass over the node records (checked equal)
//   audit_entries/D    cs_audit_run at entry level (pairs, clusters) on the
//                      snapshot, report writing excluded
//   audit/D            the full audit (VPC level: pairs by severity,
//                      groups, listed pairs) on the rows as an estate image
//                      (estates up to 1M rows; harness.h says how rows
//                      become VPCs)
//   peering_bulk/D     cs_peering_check_bulk on pairs of VPCs of that estate
//                      image (70% random, 20% neighbours, 10% self/unknown)
//   peering_single/D   cs_peering_check per pair (through the trie)
//   candidates/D       cs_peering_candidates of a random VPC within its
//                      account (estates up to 1M rows)
//   readers_heap/D/v4/N      N reader processes on the heap image (fork)
//   readers_shm/D/v4/N       N reader processes pinning it in shared memory
//   readers_shm_quiet/D/v4/N       1 s of batches each, no publishes: the
//                      longest batch (max_batch_us: pin + 8192 queries +
//                      unpin) that scheduling alone causes
//   readers_shm_publishing/D/v4/N  the same while a new generation is
//                      published every 50 ms
//   readers_shm_refresher_publishing/D/v4/N  the same with cs_shm_pin_mapped
//                      and a refresher thread per reader (shm.h's recipe)
//                      (estates only, stalls at 1M rows; manual time from
//                      "go" to the last reader's answer)
//
// Single-threaded workloads report CPU time (Google Benchmark's default): on
// a shared machine, time other processes take from us is not ours; the
// reader workloads, which are about processes, report wall time.
//
// Every dataset is checked (bulk == single == iterator, lookups bulk ==
// single, pairs via queries == a sweep) before its first benchmark runs; a
// mismatch exits with a message and no time is reported. Memory: alloc_MiB
// is the process's jemalloc stats.allocated after the benchmark (dataset,
// queries and image included).
#include <benchmark/benchmark.h>

#include "harness.h"

#include <cidrscope/shm.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr uint64_t kSeed = 0x636964727363ull; // "cidrsc"
constexpr size_t kQueries = size_t{1} << 20;   // per family and kind
constexpr size_t kChunk = 8192;                // queries per iteration
constexpr size_t kEnumChunk = 64;              // enumerate: output-bound

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// One dataset with its query lists, alive while its benchmarks run.
struct Loaded {
    hb_dataset *d = nullptr;
    cs_prefix *queries[2] = {nullptr, nullptr};
    cs_prefix *addrs[2] = {nullptr, nullptr};
    std::vector<uint32_t> counts;
    std::vector<cs_match> matches;
    hb_pairs_scratch *pairs = nullptr;
    cs_snapshot *estate = nullptr; // the rows as an estate image (VPC level)
    size_t vpcs = 0;
    uint64_t estate_pairs = 0, estate_entries = 0;
    cs_peering_index *peering = nullptr;
    cs_peering_pair *peer_pairs = nullptr;
    std::vector<cs_peering_verdict> verdicts;
    uint64_t entry_pairs = 0;      // via the query API, both families

    ~Loaded()
    {
        for (unsigned f = 0; f < 2; f++) {
            std::free(queries[f]);
            std::free(addrs[f]);
        }
        hb_pairs_scratch_free(pairs);
        cs_peering_index_free(peering);
        std::free(peer_pairs);
        cs_snapshot_close(estate);
        hb_dataset_free(d);
    }
};

struct Spec {
    hb_kind kind;
    size_t rows;
    std::string name;
};

// Benchmarks run in registration order, grouped by dataset: keep only the
// current dataset in memory so 10M fits beside nothing else.
std::unique_ptr<Loaded> g_loaded;
std::string g_loaded_name;

Loaded &acquire(const Spec &spec)
{
    if (g_loaded && g_loaded_name == spec.name)
        return *g_loaded;
    g_loaded.reset();
    auto L = std::make_unique<Loaded>();
    uint64_t t0 = hb_now_ns();
    L->d = hb_dataset_new(spec.kind, spec.rows, kSeed);
    for (unsigned f = 0; f < 2; f++) {
        L->queries[f] = hb_overlap_queries(L->d, f, kQueries, kSeed + 1 + f);
        L->addrs[f] = hb_lookup_addrs(L->d, f, kQueries, kSeed + 3 + f);
        if (L->d->n_distinct[f])
            hb_verify(L->d, L->queries[f], kQueries, L->addrs[f], kQueries, f);
    }
    L->counts.resize(kQueries);
    L->matches.resize(kQueries);
    L->pairs = hb_pairs_scratch_new(L->d->snap);
    L->entry_pairs = hb_pairs(L->d->snap, 0, L->pairs) + hb_pairs(L->d->snap, 1, L->pairs);
    std::fprintf(stderr,
                 "bench: %s: %zu rows, %zu + %zu distinct prefixes (v4 + v6), "
                 "image %.1f MiB (%.1f B/entry); prepared and checked in %.1f s\n",
                 L->d->name, L->d->n_rows, L->d->n_distinct[0], L->d->n_distinct[1],
                 mib(L->d->image_len),
                 static_cast<double>(L->d->image_len) / static_cast<double>(L->d->n_rows),
                 static_cast<double>(hb_now_ns() - t0) / 1e9);
    g_loaded = std::move(L);
    g_loaded_name = spec.name;
    return *g_loaded;
}

void add_memory(benchmark::State &state)
{
    state.counters["alloc_MiB"] = mib(hb_mem_allocated());
}

void bm_build(benchmark::State &state, Spec spec)
{
    Loaded &L = acquire(spec);
    const hb_dataset *d = L.d;
    for (auto _ : state) {
        cs_snapshot *s = hb_build(d->rows, d->n_rows);
        benchmark::DoNotOptimize(s);
        state.PauseTiming();
        cs_snapshot_close(s);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(d->n_rows));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(d->image_len));
    state.counters["B/entry"] =
        static_cast<double>(d->image_len) / static_cast<double>(d->n_rows);
    state.counters["prefixes"] = static_cast<double>(d->n_distinct[0] + d->n_distinct[1]);
    state.counters["builder_MiB"] = mib(d->builder_bytes);
    state.counters["image_MiB"] = mib(d->image_len);
    add_memory(state);
}

enum class Kind { CountBulk, CountSingle, Enumerate, LookupBulk, LookupSingle };

void bm_query(benchmark::State &state, Spec spec, unsigned fam, Kind kind)
{
    Loaded &L = acquire(spec);
    const cs_snapshot *s = L.d->snap;
    const bool enumerate = kind == Kind::Enumerate;
    const size_t chunk = enumerate ? kEnumChunk : kChunk;
    const bool lookup = kind == Kind::LookupBulk || kind == Kind::LookupSingle;
    const cs_prefix *in = lookup ? L.addrs[fam] : L.queries[fam];
    size_t off = 0;
    uint64_t entries = 0, hits = 0, sink = 0;
    for (auto _ : state) {
        const cs_prefix *q = in + off;
        switch (kind) {
        case Kind::CountBulk:
            sink += hb_count_bulk(s, q, chunk, L.counts.data());
            break;
        case Kind::CountSingle:
            sink += hb_count_single(s, q, chunk, L.counts.data());
            break;
        case Kind::Enumerate: {
            uint64_t x = 0;
            entries += hb_enumerate(s, q, chunk, &x);
            sink ^= x;
            break;
        }
        case Kind::LookupBulk:
            hits += hb_lookup_bulk(s, q, chunk, L.matches.data());
            break;
        case Kind::LookupSingle:
            hits += hb_lookup_single(s, q, chunk, L.matches.data());
            break;
        }
        benchmark::ClobberMemory();
        off += chunk;
        if (off + chunk > kQueries)
            off = 0;
    }
    benchmark::DoNotOptimize(sink);
    const auto items = static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(chunk);
    state.SetItemsProcessed(items);
    if (enumerate) {
        state.counters["entries/s"] =
            benchmark::Counter(static_cast<double>(entries), benchmark::Counter::kIsRate);
        state.counters["entries/query"] =
            static_cast<double>(entries) / static_cast<double>(items);
        state.SetBytesProcessed(static_cast<int64_t>(entries * sizeof(uint32_t)));
    }
    if (lookup)
        state.counters["hit%"] = 100.0 * static_cast<double>(hits) / static_cast<double>(items);
    add_memory(state);
}

void bm_pairs(benchmark::State &state, Spec spec)
{
    Loaded &L = acquire(spec);
    uint64_t pairs = 0;
    for (auto _ : state) {
        pairs = hb_pairs(L.d->snap, 0, L.pairs) + hb_pairs(L.d->snap, 1, L.pairs);
        benchmark::DoNotOptimize(pairs);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(L.d->n_rows));
    state.counters["pairs"] = static_cast<double>(pairs);
    state.counters["prefixes"] =
        static_cast<double>(L.d->n_distinct[0] + L.d->n_distinct[1]);
    add_memory(state);
}

void bm_count_pairs(benchmark::State &state, Spec spec)
{
    Loaded &L = acquire(spec);
    uint64_t pairs = 0;
    for (auto _ : state) {
        if (cs_query_count_pairs(L.d->snap, 0, &pairs) != 0)
            hb_die("cs_query_count_pairs failed");
        benchmark::DoNotOptimize(pairs);
    }
    if (pairs != L.entry_pairs)
        hb_die("%s: cs_query_count_pairs counts %llu overlapping entry pairs, the query API %llu",
               spec.name.c_str(), static_cast<unsigned long long>(pairs),
               static_cast<unsigned long long>(L.entry_pairs));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(L.d->n_rows));
    state.counters["pairs"] = static_cast<double>(pairs);
    add_memory(state);
}

// Reader processes on one image: `shm` publishes it in a POSIX shm service
// and the children pin it; otherwise the children query the heap image they
// inherit (the in-process baseline, same processes, same work). Each child
// answers all 2^20 IPv4 queries in pinned batches of kChunk; the time is
// from "go" to the last child's answer (manual time: fork and attach are
// outside it). publish_ms > 0 republishes that often during the reads and
// reports the longest batch a reader saw.
void bm_readers(benchmark::State &state, Spec spec, unsigned readers, hb_read_mode mode,
                double seconds, unsigned publish_ms)
{
    Loaded &L = acquire(spec);
    uint64_t queries = 0, publishes = 0;
    double max_batch = 0, median_batch = 0;
    for (auto _ : state) {
        hb_shm_result r;
        hb_shm_readers(L.d->snap, L.queries[0], kQueries, kChunk, seconds, readers, mode,
                       publish_ms, &r);
        state.SetIterationTime(r.wall_s);
        queries += r.queries;
        publishes += r.publishes;
        if (r.max_batch_s > max_batch)
            max_batch = r.max_batch_s;
        median_batch = r.median_batch_s;
    }
    state.SetItemsProcessed(static_cast<int64_t>(queries));
    state.counters["readers"] = readers;
    state.counters["max_batch_us"] = max_batch * 1e6;
    state.counters["median_batch_us"] = median_batch * 1e6;
    if (publish_ms)
        state.counters["publishes"] = static_cast<double>(publishes);
    add_memory(state);
}

// The audit (audit.h), report writing excluded: `vpc_level` on the rows as
// an estate image (VPCs, accounts, regions, peerings), else entry level
// (pairs and clusters) on the plain snapshot. Its entry count and entry-pair
// count must equal the query API's on the same image, checked after the
// timed loop and before Google Benchmark reports anything (a VPC-level
// audit takes seconds at 1M rows: no separate checking run).
void need_estate(Loaded &L)
{
    if (L.estate)
        return;
    uint64_t t0 = hb_now_ns();
    L.estate = hb_estate_image(L.d, kSeed + 7, &L.vpcs);
    L.estate_pairs = hb_pairs(L.estate, 0, L.pairs) + hb_pairs(L.estate, 1, L.pairs);
    cs_snapshot_info info;
    cs_snapshot_get_info(L.estate, &info);
    L.estate_entries = uint64_t{info.entries[0]} + info.entries[1];
    std::fprintf(stderr, "bench: %s: estate image of %zu VPCs built in %.1f s\n",
                 L.d->name, L.vpcs, static_cast<double>(hb_now_ns() - t0) / 1e9);
}

void bm_audit(benchmark::State &state, Spec spec, bool vpc_level)
{
    Loaded &L = acquire(spec);
    if (vpc_level)
        need_estate(L);
    const cs_snapshot *s = vpc_level ? L.estate : L.d->snap;
    const uint64_t want_pairs = vpc_level ? L.estate_pairs : L.entry_pairs;
    const uint64_t want_entries = vpc_level ? L.estate_entries : L.d->n_rows;
    hb_audit_figures f{};
    for (auto _ : state) {
        hb_audit(s, vpc_level ? 0 : 1, &f);
        benchmark::DoNotOptimize(f);
    }
    if (f.entry_pairs != want_pairs || f.entries != want_entries)
        hb_die("%s: the audit counts %llu entries and %llu overlapping entry pairs, "
               "the query API %llu and %llu",
               L.d->name, static_cast<unsigned long long>(f.entries),
               static_cast<unsigned long long>(f.entry_pairs),
               static_cast<unsigned long long>(want_entries),
               static_cast<unsigned long long>(want_pairs));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(want_entries));
    state.counters["pairs"] = static_cast<double>(f.entry_pairs);
    state.counters["clusters"] = static_cast<double>(f.clusters);
    if (vpc_level) {
        state.counters["vpcs"] = static_cast<double>(L.vpcs);
        state.counters["vpc_pairs"] = static_cast<double>(f.vpc_pairs);
    }
    add_memory(state);
}

// Peering verdicts (peering.h) on the rows as an estate image: bulk through
// the index (cs_peering_check_bulk, batches of kChunk pairs), single through
// the trie (cs_peering_check), and candidates of one VPC within its account
// (a small answer). Bulk and single verdicts are checked equal on 20k pairs
// before anything is timed.
enum class Peer { Bulk, Single, Candidates };

void bm_peering(benchmark::State &state, Spec spec, Peer kind)
{
    Loaded &L = acquire(spec);
    need_estate(L);
    if (!L.peering) {
        cs_error err;
        uint64_t t0 = hb_now_ns(), m0 = hb_mem_allocated();
        if (cs_peering_index_new(L.estate, &L.peering, &err) != 0)
            hb_die("cs_peering_index_new: %s", err.message);
        std::fprintf(stderr, "bench: %s: peering index in %.0f ms, %.1f MiB\n", L.d->name,
                     static_cast<double>(hb_now_ns() - t0) / 1e6,
                     mib(hb_mem_allocated() - m0));
        L.peer_pairs = hb_peering_pairs(L.vpcs, kQueries, kSeed + 9);
        L.verdicts.resize(kQueries);
        hb_peering_verify(L.peering, L.peer_pairs, 20000);
    }
    size_t off = 0;
    uint64_t items = 0, bad = 0, found = 0;
    std::vector<uint32_t> cand(4096);
    hb_rng r = {kSeed + 11};
    for (auto _ : state) {
        switch (kind) {
        case Peer::Bulk:
            bad += hb_peering_bulk(L.peering, L.peer_pairs + off, kChunk, kChunk,
                                   L.verdicts.data());
            items += kChunk;
            break;
        case Peer::Single:
            bad += hb_peering_single(L.estate, L.peer_pairs + off, kChunk, L.verdicts.data());
            items += kChunk;
            break;
        case Peer::Candidates: {
            uint32_t v = static_cast<uint32_t>(hb_below(&r, L.vpcs));
            cs_vpc vpc;
            if (cs_estate_vpc(L.estate, v, &vpc) != 0)
                hb_die("cs_estate_vpc(%u) failed", v);
            cs_peering_filter f{vpc.account_idx, CS_IDX_NONE, 0};
            int64_t c = cs_peering_candidates(L.peering, v, &f, nullptr, cand.data(),
                                              cand.size(), nullptr);
            if (c < 0)
                hb_die("cs_peering_candidates(%u) failed", v);
            found += static_cast<uint64_t>(c);
            items++;
            break;
        }
        }
        off += kChunk;
        if (off + kChunk > kQueries)
            off = 0;
    }
    state.SetItemsProcessed(static_cast<int64_t>(items));
    state.counters["vpcs"] = static_cast<double>(L.vpcs);
    if (kind == Peer::Candidates)
        state.counters["candidates/call"] =
            items ? static_cast<double>(found) / static_cast<double>(items) : 0;
    else
        state.counters["ineligible%"] =
            items ? 100.0 * static_cast<double>(bad) / static_cast<double>(items) : 0;
    add_memory(state);
}

std::vector<size_t> scales_from_env()
{
    const char *env = std::getenv("CS_BENCH_SCALES");
    std::string s = env && *env ? env : "10k,100k,1M";
    std::vector<size_t> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        if (comma == std::string::npos)
            comma = s.size();
        std::string item = s.substr(pos, comma - pos);
        size_t rows = hb_parse_scale(item.c_str());
        if (!rows)
            hb_die("CS_BENCH_SCALES: '%s' is not a scale (use e.g. 10k,100k,1M,10M)",
                   item.c_str());
        out.push_back(rows);
        pos = comma + 1;
    }
    return out;
}

// A 1M-row estate needs about 450 MB here at peak (rows, the sort copy, the
// builder, the image, 4M queries): allow 600 bytes a row and skip a scale
// that the machine cannot hold, saying so.
bool fits_in_memory(size_t rows)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0)
        return true;
    double have = static_cast<double>(pages) * static_cast<double>(page);
    return static_cast<double>(rows) * 600.0 + 256e6 < have * 0.8;
}

void register_dataset(const Spec &spec)
{
    benchmark::RegisterBenchmark(("build/" + spec.name).c_str(), bm_build, spec)
        ->Unit(benchmark::kMillisecond);
    static const char *fam_name[2] = {"v4", "v6"};
    static const struct {
        const char *name;
        Kind kind;
    } kinds[] = {
        {"count_bulk", Kind::CountBulk},     {"count_single", Kind::CountSingle},
        {"enumerate", Kind::Enumerate},      {"lookup_bulk", Kind::LookupBulk},
        {"lookup_single", Kind::LookupSingle},
    };
    for (unsigned f = 0; f < 2; f++)
        for (const auto &k : kinds)
            benchmark::RegisterBenchmark(
                (std::string(k.name) + "/" + spec.name + "/" + fam_name[f]).c_str(),
                bm_query, spec, f, k.kind)
                ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("pairs/" + spec.name).c_str(), bm_pairs, spec)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("count_pairs/" + spec.name).c_str(), bm_count_pairs, spec)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("audit_entries/" + spec.name).c_str(), bm_audit, spec,
                                 false)
        ->Unit(benchmark::kMillisecond);
    if (spec.kind != HB_ESTATE)
        return;
    // The VPC-level audit grows faster than linearly here (about 20 s at 1M
    // rows on this machine): up to 1M rows.
    if (spec.rows <= 1000000) {
        benchmark::RegisterBenchmark(("audit/" + spec.name).c_str(), bm_audit, spec, true)
            ->Unit(benchmark::kMillisecond);
        static const struct {
            const char *name;
            Peer kind;
        } peer_kinds[] = {{"peering_bulk/", Peer::Bulk},
                          {"peering_single/", Peer::Single},
                          {"candidates/", Peer::Candidates}};
        for (const auto &pk : peer_kinds)
            benchmark::RegisterBenchmark((pk.name + spec.name).c_str(), bm_peering, spec,
                                         pk.kind)
                ->Unit(benchmark::kMicrosecond);
    }
    for (unsigned readers : {1u, 2u, 4u})
        for (hb_read_mode mode : {HB_READ_HEAP, HB_READ_PIN})
            benchmark::RegisterBenchmark(
                (std::string(mode == HB_READ_PIN ? "readers_shm/" : "readers_heap/") +
                 spec.name + "/v4/" + std::to_string(readers))
                    .c_str(),
                bm_readers, spec, readers, mode, 0.0, 0u)
                ->Unit(benchmark::kMillisecond)
                ->UseManualTime();
    // Reader stalls: one second of batches with a publish every 50 ms,
    // against the same second without publishes (the scheduling noise). At
    // 1M rows only: a 10M image takes longer than 50 ms to write.
    if (spec.rows != 1000000)
        return;
    static const struct {
        const char *name;
        hb_read_mode mode;
        unsigned publish_ms;
    } stalls[] = {
        {"readers_shm_quiet/", HB_READ_PIN, 0},
        {"readers_shm_publishing/", HB_READ_PIN, 50},
        {"readers_shm_refresher_publishing/", HB_READ_PIN_MAPPED, 50},
    };
    for (unsigned readers : {1u, 2u})
        for (const auto &st : stalls)
            benchmark::RegisterBenchmark(
                (std::string(st.name) + spec.name + "/v4/" + std::to_string(readers)).c_str(),
                bm_readers, spec, readers, st.mode, 1.0, st.publish_ms)
                ->Unit(benchmark::kMillisecond)
                ->UseManualTime()
                ->Iterations(1);
}

} // namespace

int main(int argc, char **argv)
{
    hb_limit_memory();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;

    std::vector<size_t> scales = scales_from_env();
    // The real file's size decides its scales: every scale at or above it is
    // the whole file, registered once.
    size_t real_total = 0;
    {
        hb_row *all = hb_real_rows(hb_real_csv_path(), SIZE_MAX, kSeed, &real_total);
        std::free(all);
    }
    std::vector<Spec> specs;
    for (size_t rows : scales) {
        char label[32];
        hb_scale_label(rows, label, sizeof label);
        if (!fits_in_memory(rows)) {
            std::fprintf(stderr, "bench: skipping estate-%s: not enough memory here\n",
                         label);
            continue;
        }
        specs.push_back({HB_ESTATE, rows, std::string("estate-") + label});
    }
    std::vector<size_t> real_done;
    for (size_t rows : scales) {
        size_t n = rows < real_total ? rows : real_total;
        bool seen = false;
        for (size_t r : real_done)
            seen = seen || r == n;
        if (seen)
            continue;
        real_done.push_back(n);
        char label[32];
        hb_scale_label(n, label, sizeof label);
        specs.push_back({HB_REAL, n, std::string("real-") + label});
    }
    for (const Spec &s : specs)
        register_dataset(s);

    benchmark::AddCustomContext("cidrscope", CIDRSCOPE_VERSION);
    benchmark::AddCustomContext("real_csv", hb_real_csv_path());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g_loaded.reset();
    return 0;
}
