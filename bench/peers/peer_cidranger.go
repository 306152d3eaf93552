// bench/peers/peer_cidranger.go — Go's cidranger (Debian
// golang-github-yl2chen-cidranger-dev) as a peer.
//
//	peer_cidranger DIR RUNS QUERIES_V4 QUERIES_V6 ADDRS
//
// Built offline by bench/peers/run.sh with GO111MODULE=off
// GOPATH=/usr/share/gocode. Reads DIR's files (written by peer_cidrscope) and
// does what a user of cidranger would do with its path-compressed trie:
//
//	build  one entry per distinct prefix holding its number of rows
//	       (cidranger keeps one entry per network);
//	count  overlap(Q) = sum over CoveredNetworks(Q) (equal included) plus
//	       ContainingNetworks(first address of Q) strictly shorter than Q;
//	lpm    the longest of ContainingNetworks(address);
//	pairs  for every entry: C(n,2) + n x (rows strictly inside it), the
//	       inside rows from CoveredNetworks.
//
// Only the first QUERIES_V4 / QUERIES_V6 queries and ADDRS addresses of each
// family are used. The answers of the first timed run are checked against
// the expected files before any time is printed; a mismatch exits 1 naming
// the line. Times are this process's CPU time (getrusage). One TSV line per
// workload goes to stdout:
//
//	dataset family workload impl items median_s min_s max_s runs note
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/yl2chen/cidranger"
)

type entry struct {
	ipnet net.IPNet
	n     int64
}

func (e *entry) Network() net.IPNet { return e.ipnet }

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "cidranger: "+format+"\n", args...)
	os.Exit(1)
}

func readLines(path string, limit int) []string {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && (limit < 0 || len(out) < limit) {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		fail("%s: %v", path, err)
	}
	return out
}

func emit(ds, fam, workload string, items int, times []float64, note string) {
	sort.Float64s(times)
	n := len(times)
	med := times[n/2]
	if n%2 == 0 {
		med = (times[n/2-1] + times[n/2]) / 2
	}
	fmt.Printf("%s\t%s\t%s\tcidranger\t%d\t%.9f\t%.9f\t%.9f\t%d\t%s\n",
		ds, fam, workload, items, med, times[0], times[n-1], n, note)
}

// cpuNow is this process's CPU time in seconds (user + system, every thread:
// the garbage collector's work is cidranger's cost too). Every peer is timed
// by its own CPU time.
func cpuNow() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func parseNet(s string) net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		fail("%s: %v", s, err)
	}
	return *n
}

func build(rows []string) (cidranger.Ranger, []*entry) {
	counts := make(map[string]int64, len(rows)/2)
	for _, p := range rows {
		counts[p]++
	}
	r := cidranger.NewPCTrieRanger()
	entries := make([]*entry, 0, len(counts))
	for p, n := range counts {
		e := &entry{ipnet: parseNet(p), n: n}
		if err := r.Insert(e); err != nil {
			fail("insert %s: %v", p, err)
		}
		entries = append(entries, e)
	}
	return r, entries
}

func count(r cidranger.Ranger, q net.IPNet, qlen int) int64 {
	var c int64
	covered, err := r.CoveredNetworks(q)
	if err != nil {
		fail("CoveredNetworks(%v): %v", q, err)
	}
	for _, e := range covered {
		c += e.(*entry).n
	}
	containing, err := r.ContainingNetworks(q.IP)
	if err != nil {
		fail("ContainingNetworks(%v): %v", q.IP, err)
	}
	for _, e := range containing {
		if ones, _ := e.(*entry).ipnet.Mask.Size(); ones < qlen {
			c += e.(*entry).n
		}
	}
	return c
}

func lpm(r cidranger.Ranger, a net.IP) int {
	containing, err := r.ContainingNetworks(a)
	if err != nil {
		fail("ContainingNetworks(%v): %v", a, err)
	}
	best := -1
	for _, e := range containing {
		if ones, _ := e.(*entry).ipnet.Mask.Size(); ones > best {
			best = ones
		}
	}
	return best
}

func pairs(r cidranger.Ranger, entries []*entry) uint64 {
	var total uint64
	for _, e := range entries {
		covered, err := r.CoveredNetworks(e.ipnet)
		if err != nil {
			fail("CoveredNetworks(%v): %v", e.ipnet, err)
		}
		var inside int64
		for _, x := range covered {
			inside += x.(*entry).n
		}
		n := uint64(e.n)
		total += n*(n-1)/2 + n*uint64(inside-e.n)
	}
	return total
}

func atoi(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		fail("not a number: %s", s)
	}
	return v
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: peer_cidranger DIR RUNS QUERIES_V4 QUERIES_V6 ADDRS")
		os.Exit(2)
	}
	dir, runs := os.Args[1], atoi(os.Args[2])
	nqs := map[string]int{"v4": atoi(os.Args[3]), "v6": atoi(os.Args[4])}
	na := atoi(os.Args[5])
	info := map[string]string{}
	for _, l := range readLines(dir+"/info.txt", -1) {
		kv := strings.SplitN(l, " ", 2)
		info[kv[0]] = kv[1]
	}
	ds := info["dataset"]
	rows := readLines(dir+"/rows.txt", -1)

	var r cidranger.Ranger
	var entries []*entry
	var times []float64
	for i := 0; i < runs; i++ {
		t0 := cpuNow()
		r, entries = build(rows)
		times = append(times, cpuNow()-t0)
	}
	emit(ds, "all", "build", len(rows), times, "map of counts + Insert per prefix")

	want := map[string]uint64{}
	for _, l := range readLines(dir+"/expect-pairs.txt", -1) {
		kv := strings.Fields(l)
		v, _ := strconv.ParseUint(kv[1], 10, 64)
		want[kv[0]] = v
	}
	times = times[:0]
	for i := 0; i < runs; i++ {
		t0 := cpuNow()
		got := pairs(r, entries)
		times = append(times, cpuNow()-t0)
		if i == 0 && got != want["all"] {
			fail("%s pair count %d, cidrscope %d", ds, got, want["all"])
		}
	}
	emit(ds, "all", "pairs", len(rows), times,
		fmt.Sprintf("pairs=%d (CoveredNetworks per entry)", want["all"]))

	for _, fam := range []string{"v4", "v6"} {
		if info["distinct_"+fam] == "0" {
			continue
		}
		qs := readLines(fmt.Sprintf("%s/queries-%s.txt", dir, fam), nqs[fam])
		expect := readLines(fmt.Sprintf("%s/expect-count-%s.txt", dir, fam), nqs[fam])
		nets := make([]net.IPNet, len(qs))
		lens := make([]int, len(qs))
		for i, q := range qs {
			nets[i] = parseNet(q)
			lens[i], _ = nets[i].Mask.Size()
		}
		times = times[:0]
		got := make([]int64, len(qs))
		for run := 0; run < runs; run++ {
			t0 := cpuNow()
			for i := range nets {
				got[i] = count(r, nets[i], lens[i])
			}
			times = append(times, cpuNow()-t0)
			if run == 0 {
				for i := range got {
					if strconv.FormatInt(got[i], 10) != expect[i] {
						fail("%s %s query line %d (%s): count %d, cidrscope %s",
							ds, fam, i+1, qs[i], got[i], expect[i])
					}
				}
			}
		}
		emit(ds, fam, "count", len(qs), times, "CoveredNetworks + ContainingNetworks")

		addrs := readLines(fmt.Sprintf("%s/addrs-%s.txt", dir, fam), na)
		expectL := readLines(fmt.Sprintf("%s/expect-lpm-%s.txt", dir, fam), na)
		ips := make([]net.IP, len(addrs))
		for i, a := range addrs {
			if ips[i] = net.ParseIP(a); ips[i] == nil {
				fail("bad address %s", a)
			}
		}
		times = times[:0]
		gotL := make([]int, len(ips))
		for run := 0; run < runs; run++ {
			t0 := cpuNow()
			for i := range ips {
				gotL[i] = lpm(r, ips[i])
			}
			times = append(times, cpuNow()-t0)
			if run == 0 {
				for i := range gotL {
					if strconv.Itoa(gotL[i]) != expectL[i] {
						fail("%s %s address line %d (%s): /%d, cidrscope /%s",
							ds, fam, i+1, addrs[i], gotL[i], expectL[i])
					}
				}
			}
		}
		emit(ds, fam, "lpm", len(ips), times, "longest of ContainingNetworks")
	}
}
