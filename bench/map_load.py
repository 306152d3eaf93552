#!/usr/bin/env python3
"""bench/map_load.py — how long an HTML report takes to open in Chromium.

Opens each file REPEAT times in headless Chromium (fresh profile, the flags of
tests/browser/test_report.py) and prints, per file, the median of:
  load  — navigation start to the load event (parse, layout, scripts);
  paint — navigation start to the second animation frame after load (the
          maps drawn on screen);
  cpu   — the renderer's CPU time over the same span (DevTools
          Performance.getMetrics ProcessTime): what a quiet machine would
          take, when this one is shared and wall times stretch.
Usage: map_load.py [--repeat N] FILE.html...
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "browser"))
from test_report import browser  # noqa: E402  (the same Chromium setup)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    d, profile = browser()
    d.execute_cdp_cmd("Performance.enable", {})

    def cpu():
        m = d.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
        return {x["name"]: x["value"] for x in m}["ProcessTime"]
    try:
        for f in a.files:
            loads, paints, cpus = [], [], []
            for _ in range(a.repeat):
                d.get("about:blank")
                c0 = cpu()
                d.get("file://" + os.path.abspath(f))
                loads.append(d.execute_script(
                    "var t=performance.timing;return t.loadEventEnd-t.navigationStart;"))
                paints.append(d.execute_async_script(
                    "var done=arguments[0];requestAnimationFrame(function(){"
                    "requestAnimationFrame(function(){done(performance.now());});});"))
                cpus.append(1000 * (cpu() - c0))
            print("%-28s %8.1f MB  load %6.0f ms  paint %6.0f ms  renderer cpu %6.0f ms  "
                  "(median of %d)"
                  % (os.path.basename(f), os.path.getsize(f) / 1e6,
                     statistics.median(loads), statistics.median(paints),
                     statistics.median(cpus), a.repeat))
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
