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

    # Tables sort by a header click: a numeric column comes out ordered.
    col = d.execute_script("""
        var ts=document.querySelectorAll('table');
        for (var t=0;t<ts.length;t++){var r=ts[t].rows;
          if (r.length<3||r[0].querySelector('td')) continue;
          for (var i=0;i<r[1].cells.length;i++)
            if (/^[0-9,]+$/.test(r[1].cells[i].textContent)) return [r[0].cells[i], t, i];}
        return null;""")
    if col is not None:
        th, t, i = col
        d.execute_script("arguments[0].scrollIntoView({block:'center'})", th)
        th.click()
        vals = d.execute_script("""
            var r=document.querySelectorAll('table')[arguments[0]].rows, v=[];
            for (var k=1;k<r.length;k++) v.push(+r[k].cells[arguments[1]].textContent.replace(/,/g,''));
            return v;""", t, i)
        assert vals == sorted(vals), "header click did not sort: %r" % vals[:10]
        th.click()
        vals = d.execute_script("""
            var r=document.querySelectorAll('table')[arguments[0]].rows, v=[];
            for (var k=1;k<r.length;k++) v.push(+r[k].cells[arguments[1]].textContent.replace(/,/g,''));
            return v;""", t, i)
        assert vals == sorted(vals, reverse=True), "second click did not reverse: %r" % vals[:10]
        print("  a table sorts by its column %d both ways" % i)

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
