#!/usr/bin/env python3
"""tests/browser/test_report.py — the HTML report in a real browser.

Opens a report written by `cidrscope audit --format html` (or `cidrscope map`)
in headless Chromium through Selenium and checks what a person would do with
it:

  - the page loads with no console error;
  - every map holds exactly one shape per live block of its range: the
    blocks are counted here, independently, from the estate's source files
    (AWS CLI JSON tree or CSV) with Python's ipaddress module, and must equal
    the shapes plus what stacked shapes and density cells say they hold
    (data-count);
  - every shape carries data-cidr, data-vpc, data-account, data-region;
  - hovering a block shows its VPC in the tooltip;
  - clicking an overlap cluster zooms the map onto it;
  - the account filter hides every block of other accounts;
  - the findings tables show their first page in the DOM, reach every row
    by paging, and sort and filter over all rows (pages included);
  - a 1280x800 screenshot is written beside the report.

Usage: test_report.py REPORT.html SOURCE [SOURCE...] --shot FILE.png
The caller (tests/cli/test_map_browser.sh) installs or skips.
"""
import argparse
import csv
import glob
import ipaddress
import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

LIVE = {"associated", "associating", ""}


def blocks_of(sources):
    """Live (vpc, network) pairs of the sources, deduplicated as the estate is."""
    seen = set()
    for src in sources:
        if os.path.isdir(src):
            for path in sorted(glob.glob(os.path.join(src, "*", "*", "vpcs.json"))):
                for v in json.load(open(path))["Vpcs"]:
                    for a in v.get("CidrBlockAssociationSet", []):
                        if a.get("CidrBlockState", {}).get("State", "") in LIVE:
                            seen.add((v["VpcId"], ipaddress.ip_network(a["CidrBlock"])))
                    for a in v.get("Ipv6CidrBlockAssociationSet", []):
                        if a.get("Ipv6CidrBlockState", {}).get("State", "") in LIVE:
                            seen.add((v["VpcId"], ipaddress.ip_network(a["Ipv6CidrBlock"])))
        elif src.endswith(".csv") and not src.endswith("-peering.csv"):
            for row in csv.DictReader(open(src)):
                if row.get("state", "") in LIVE:
                    seen.add((row["vpc_id"], ipaddress.ip_network(row["cidr"])))
    return [n for _, n in seen]


def expected_in(nets, rng):
    r = ipaddress.ip_network(rng)
    return sum(1 for n in nets if n.version == r.version and n.overlaps(r))


def browser():
    opts = Options()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,800"):
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="cidrscope-chromium-")
    opts.add_argument("--user-data-dir=" + profile)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for b in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(b):
            opts.binary_location = b
    drv = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    d = webdriver.Chrome(service=Service(drv), options=opts)
    d.set_window_size(1280, 800)
    # the viewport itself 1280x800 (a window of that size has less inside)
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    return d, profile


# Every row of a paged table (table.cs-pg), read page by page through its
# pager's "next" button (or the tbody when it has no pager), as
# [severity class, text, cell i as a number or None].
WALK = """
    var t=arguments[0], col=arguments[1], g=t.nextElementSibling, out=[];
    if (g && g.tagName==='SCRIPT') g=g.nextElementSibling;
    var next = g && g.classList.contains('cs-pager') ? g.querySelector('[data-go="1"]') : null;
    for (var guard=0; guard<100000; guard++) {
      Array.prototype.forEach.call(t.tBodies[0].rows, function(r){
        var c=r.cells[col]?r.cells[col].textContent.replace(/,/g,''):'';
        out.push([r.className, r.textContent, /^[0-9]+$/.test(c)?+c:null]); });
      if (!next || next.disabled) break;
      next.click();
    }
    return out;"""

# The same rows read independently: the DOM rows of the first page plus the
# rows kept as text after the table, parsed here with DOMParser.
ALL_ROWS = """
    var t=arguments[0], out=[], s=t.nextElementSibling;
    Array.prototype.forEach.call(t.tBodies[0].rows, function(r){out.push([r.className, r.textContent]);});
    if (s && s.tagName==='SCRIPT') {
      var doc=new DOMParser().parseFromString('<table><tbody>'+s.textContent+'</tbody></table>','text/html');
      doc.querySelectorAll('tr').forEach(function(r){out.push([r.className, r.textContent]);});
    }
    return out;"""


def check_tables(d):
    """Paged findings tables: the first page in the DOM, every row reachable
    by paging, sorting and filtering over all rows, not just the page."""
    tables = d.find_elements(By.CSS_SELECTOR, "table.cs-pg")
    # read before any paging moves rows (ALL_ROWS holds for the page as loaded)
    everys = [d.execute_script(ALL_ROWS, t) for t in tables]
    paged = 0
    for t, every in zip(tables, everys):
        page = int(t.get_attribute("data-page"))
        dom = d.execute_script("return arguments[0].tBodies[0].rows.length", t)
        assert dom == min(page, len(every)), "%d rows in the DOM at load, want %d" % (
            dom, min(page, len(every)))
        walked = d.execute_script(WALK, t, 0)
        assert sorted(r[1] for r in walked) == sorted(r[1] for r in every), \
            "paging shows %d rows, the table holds %d" % (len(walked), len(every))
        if len(every) > page:
            paged += 1
            pager = d.execute_script(
                "return arguments[0].nextElementSibling.nextElementSibling.textContent", t)
            assert ("of %s" % format(len(every), ",")) in pager, pager
    print("  %d findings tables, %d of them paged; paging reaches every row" % (len(tables), paged))

    # Sorting a numeric column orders all the rows, across pages, both ways.
    col = d.execute_script("""
        var ts=document.querySelectorAll('table.cs-pg'), best=null;
        for (var t=0;t<ts.length;t++){var r=ts[t].rows;
          if (r.length<3) continue;
          for (var i=0;i<r[1].cells.length;i++)
            if (/^[0-9,]+$/.test(r[1].cells[i].textContent)) {
              var c=[t, i, r[0].cells[i]];
              if (!best || ts[t].nextElementSibling.tagName==='SCRIPT') best=c;
              break; }}
        return best;""")
    if col is not None:
        k, i, th = col
        t, n = tables[k], len(everys[k])
        d.execute_script("arguments[0].scrollIntoView({block:'center'})", th)
        th.click()
        vals = [r[2] for r in d.execute_script(WALK, t, i)]
        assert len(vals) == n and vals == sorted(vals), \
            "header click did not sort all %d rows: %r" % (n, [
                (k, v) for k, v in enumerate(vals) if k and vals[k - 1] > v][:5])
        th.click()
        vals = [r[2] for r in d.execute_script(WALK, t, i)]
        assert len(vals) == n and vals == sorted(vals, reverse=True), \
            "second click did not reverse: %r" % vals[:10]
        print("  a table of %d rows sorts by its column %d both ways" % (n, i))

    # The account filter keeps exactly the findings naming the account, on
    # every page.
    if not d.find_elements(By.ID, "csm-f-account"):
        return
    sel = Select(d.find_element(By.ID, "csm-f-account"))
    sevs = ("critical", "high", "medium", "informational")
    accounts = d.execute_script(
        "return Array.prototype.slice.call(arguments[0].options,1).map(function(o){"
        "return o.textContent;})", d.find_element(By.ID, "csm-f-account"))
    best = None
    for t, every in zip(tables, everys):
        for cls, text in every:
            if cls in sevs:
                acct = next((a for a in accounts if a in text), None)
                if acct:
                    best = (len(every), t, acct, every)
                    break
        if best and best[0] > int(t.get_attribute("data-page")):
            break
    if best is None:
        return
    _, t, acct, every = best
    sel.select_by_visible_text(acct)
    want = sorted(text for cls, text in every if cls not in sevs or acct in text)
    got = sorted(r[1] for r in d.execute_script(WALK, t, 0))
    assert got == want, "account filter %s: %d rows shown, want %d" % (acct, len(got), len(want))
    sel.select_by_index(0)
    back = d.execute_script(WALK, t, 0)
    assert len(back) == len(every), "clearing the filter shows %d of %d rows" % (len(back), len(every))
    print("  the account filter keeps the %d of %d rows naming %s" % (len(want), len(every), acct))

    # The severity filter over the largest table of findings, paged or not.
    k = max(range(len(tables)), key=lambda j: sum(cls in sevs for cls, _ in everys[j]))
    t, every = tables[k], everys[k]
    sev = next((cls for cls, _ in every[::-1] if cls in sevs), None)
    if sev is None:
        return
    Select(d.find_element(By.ID, "csm-f-sev")).select_by_visible_text(sev)
    want = sorted(text for cls, text in every if cls not in sevs or cls == sev)
    got = sorted(r[1] for r in d.execute_script(WALK, t, 0))
    assert got == want, "severity filter %s: %d rows shown, want %d" % (sev, len(got), len(want))
    Select(d.find_element(By.ID, "csm-f-sev")).select_by_index(0)
    print("  the severity filter keeps the %d %s rows of %d" % (len(want), sev, len(every)))


def check(d, report, sources, shot):
    t0 = time.time()
    d.get("file://" + os.path.abspath(report))
    load_ms = d.execute_script(
        "var t=performance.timing;return t.loadEventEnd-t.navigationStart;")
    print("%s: loaded in %d ms (navigation to load event; wall %.2f s)"
          % (os.path.basename(report), load_ms, time.time() - t0))
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, "console errors: %r" % errors[:5]

    nets = blocks_of(sources)
    maps = d.execute_script("""
        return Array.prototype.map.call(document.querySelectorAll('svg.csm'), function(s){
          var n=0, shapes=0, cells=0, bare=0;
          s.querySelectorAll('.b,.d').forEach(function(e){
            var c=e.getAttribute('data-count'); n+= c ? +c : 1;
            if (e.classList.contains('b')) { shapes++;
              ['data-cidr','data-vpc','data-account','data-region'].forEach(function(a){
                if (!e.hasAttribute(a)) bare++; }); }
            else cells++;
          });
          return {range:s.getAttribute('data-range'), blocks:+s.getAttribute('data-blocks'),
                  counted:n, shapes:shapes, cells:cells, bare:bare};
        });""")
    assert maps, "no map in the page"
    for m in maps:
        want = expected_in(nets, m["range"])
        assert m["blocks"] == want, "%s: page says %d blocks, sources hold %d" % (
            m["range"], m["blocks"], want)
        assert m["counted"] == want, "%s: %d shapes + %d cells stand for %d blocks, want %d" % (
            m["range"], m["shapes"], m["cells"], m["counted"], want)
        assert m["bare"] == 0, "%s: %d shapes lack a data attribute" % (m["range"], m["bare"])
        print("  %-16s %7d blocks: %6d shapes, %5d density cells"
              % (m["range"], want, m["shapes"], m["cells"]))

    # Hover: the largest shape of the first map; the tooltip names the VPC of
    # whatever shape is under the pointer there.
    svg = d.find_elements(By.CSS_SELECTOR, "svg.csm")[0]
    d.execute_script("arguments[0].scrollIntoView({block:'center'})", svg)
    big = d.execute_script("""
        var best=null, a=-1;
        arguments[0].querySelectorAll('.b').forEach(function(e){
          var r=e.getBoundingClientRect(); if (r.width*r.height>a){a=r.width*r.height;best=e;}});
        return best;""", svg)
    ActionChains(d).move_to_element(big).perform()
    under = d.execute_script("""
        var r=arguments[0].getBoundingClientRect();
        return document.elementFromPoint(r.left+r.width/2, r.top+r.height/2);""", big)
    tip = d.find_element(By.ID, "csm-tip")
    assert tip.is_displayed(), "hover shows no tooltip"
    vpc = under.get_attribute("data-vpc")
    if vpc:
        assert vpc in tip.text, "tooltip %r does not name %s" % (tip.text, vpc)
    else:  # a density cell
        assert "blocks in" in tip.text, tip.text

    # Click a cluster: the map zooms onto it.
    zoomed = False
    for s in d.find_elements(By.CSS_SELECTOR, "svg.csm"):
        cl = d.execute_script("""
            var c=null, a=0, side=+arguments[0].getAttribute('data-side');
            arguments[0].querySelectorAll('.cl').forEach(function(e){
              var w=+e.getAttribute('width'), h=+e.getAttribute('height');
              if (w*h<0.5*side*side && w*h>a) {a=w*h;c=e;}});
            return c;""", s)
        if not cl:
            continue
        d.execute_script("arguments[0].scrollIntoView({block:'center'})", s)
        vb = lambda: d.execute_script("return arguments[0].getAttribute('viewBox')", s)
        before = vb()
        box = [float(cl.get_attribute(k)) for k in ("x", "y", "width", "height")]
        ActionChains(d).move_to_element(cl).click().perform()
        after = [float(v) for v in vb().split()]
        assert vb() != before, "click on a cluster did not zoom"
        assert after[2] < float(before.split()[2]), "zoom did not narrow the view"
        assert after[0] <= box[0] and after[1] <= box[1] and \
            after[0] + after[2] >= box[0] + box[2] - 1e-6 and \
            after[1] + after[3] >= box[1] + box[3] - 1e-6, "zoomed view %r misses the cluster %r" % (after, box)
        zoomed = True
        break
    assert zoomed, "no cluster to click in any map"
    d.find_element(By.ID, "csm-reset").click()

    # Account filter: only that account's blocks stay visible.
    sel = Select(d.find_element(By.ID, "csm-f-account"))
    acct = d.execute_script("""
        var e=document.querySelector('svg.csm .b:not([data-count])');
        return e ? e.getAttribute('data-account') : null;""")
    assert acct, "no single-block shape"
    sel.select_by_visible_text(acct)
    vis = d.execute_script("""
        var a=arguments[0], shown=0, wrong=0, hidden=0;
        document.querySelectorAll('svg.csm .b').forEach(function(e){
          var acc=(e.getAttribute('data-accounts')||e.getAttribute('data-account')).split(' ');
          if (getComputedStyle(e).display==='none') { hidden++; return; }
          shown++; if (acc.indexOf(a)<0) wrong++; });
        return [shown, wrong, hidden];""", acct)
    assert vis[0] > 0 and vis[1] == 0 and vis[2] > 0, \
        "account filter %s: %d shown, %d of other accounts shown, %d hidden" % (acct, *vis)
    sel.select_by_index(0)

    # Free space: each map lists its largest free blocks; a click zooms onto one.
    holes = d.find_elements(By.CSS_SELECTOR, "#csmap .csm-hole")
    if holes:
        h = holes[-1]
        d.execute_script("arguments[0].scrollIntoView({block:'center'})", h)
        h.click()
        ok = d.execute_script("""
            var h=arguments[0], s=h.closest('figure').querySelector('svg.csm'),
                v=s.getAttribute('viewBox').split(' ').map(Number),
                x=+h.getAttribute('data-x'), y=+h.getAttribute('data-y'),
                w=+h.getAttribute('data-w'), hh=+h.getAttribute('data-h');
            return x>=v[0] && y>=v[1] && x+w<=v[0]+v[2]+1e-6 && y+hh<=v[1]+v[3]+1e-6 &&
                   v[2] < 2*Math.max(w,hh)+1;""", h)
        assert ok, "clicking free block %s did not zoom onto it" % h.text
        d.find_element(By.ID, "csm-reset").click()
        print("  %d free blocks listed; %s zooms its map" % (len(holes), h.text))

    # Findings link to the map: a VPC id in a table zooms its map onto it.
    link = d.execute_script("""
        var ids={};document.querySelectorAll('svg.csm .b').forEach(function(e){
          ids[e.getAttribute('data-vpc')]=1;});
        var cs=document.querySelectorAll('table code');
        for (var i=0;i<cs.length;i++) if (ids[cs[i].textContent]) return cs[i];
        return null;""")
    if link is not None:
        vpc = link.text
        d.execute_script("arguments[0].scrollIntoView({block:'center'})", link)
        link.click()
        ok = d.execute_script("""
            var e=document.querySelector('svg.csm .b[data-vpc="'+arguments[0]+'"]'),
                s=e.ownerSVGElement, v=s.getAttribute('viewBox').split(' ').map(Number),
                x=+e.getAttribute('x'), y=+e.getAttribute('y');
            return v[2] < +s.getAttribute('data-side') && x>=v[0] && y>=v[1] &&
                   x<=v[0]+v[2] && y<=v[1]+v[3];""", vpc)
        assert ok, "clicking %s in a table did not zoom its map onto it" % vpc
        d.find_element(By.ID, "csm-reset").click()
        print("  finding %s links to its block on the map" % vpc)

    check_tables(d)

    d.execute_script("document.getElementById('csmap').scrollIntoView()")
    d.save_screenshot(shot)
    print("  screenshot (1280x800): %s" % shot)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--shot", required=True)
    a = ap.parse_args()
    d, profile = browser()
    try:
        check(d, a.report, a.sources, a.shot)
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print("ok: %s" % a.report)


if __name__ == "__main__":
    sys.exit(main())
