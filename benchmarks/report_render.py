"""Size and render time of the HTML report for a 100k-flow result.

Targets: a 100k-flow capture gives a report under 5 MB that Chromium renders in under 2 s.
B is a synthetic 100k-flow ScanResult (``tests/resultfactory.big_result``: 60+ recipients,
~43k observations, ~70 findings with thousands of evidence flows); A, the baseline measured in
the same run, is the 52-flow realistic result. Rounds alternate A and B; medians are reported.

- Python: ``report.render(result, "html")`` (view building, redaction, templates).
- Chromium: open the file, wait for ``load`` and two animation frames (layout and paint done);
  the time is the page's own clock (``performance.now()`` since navigation start). Python is
  pinned to core 0 and Chromium to core 1 (``taskset``), so they do not compete.

    python benchmarks/report_render.py [--flows 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import stat
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from resultfactory import big_result, realistic_result  # noqa: E402

from edscan import report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAINTED = """() => new Promise(resolve =>
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))))"""


def _pin(core: int) -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {core})


def _chromium_wrapper(tmp: Path) -> str:
    """An executable that starts Chromium pinned to core 1 (when taskset and 2 cores exist)."""
    taskset = shutil.which("taskset")
    if not taskset or (os.cpu_count() or 1) < 2:
        return CHROMIUM
    wrapper = tmp / "chromium-pinned"
    wrapper.write_text(f'#!/bin/sh\nexec {taskset} -c 1 {CHROMIUM} "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def _render_times(results: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in results}
    for _ in range(rounds):
        for name, result in results.items():  # A, B, A, B ...
            t0 = time.perf_counter()
            report.render(result, "html")
            times[name].append(time.perf_counter() - t0)
    return times


def _browser_times(files: dict[str, Path], rounds: int, tmp: Path) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {k: [] for k in files}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium_wrapper(tmp), args=ARGS)
        try:
            for _ in range(rounds + 1):
                for name, path in files.items():
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.goto(path.as_uri(), wait_until="load")
                    painted_ms = page.evaluate(PAINTED)
                    times[name].append(painted_ms / 1000)
                    page.close()
        finally:
            browser.close()
    return {k: v[1:] for k, v in times.items()}  # the first round warms the browser up


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    _pin(0)

    t0 = time.perf_counter()
    results = {"A": realistic_result(), "B": big_result(args.flows)}
    built = time.perf_counter() - t0
    b = results["B"]
    print(
        f"B: {len(b.flows):,} flows, {len(b.observations):,} observations, "
        f"{len(b.recipients)} recipients, {len(b.findings)} findings, "
        f"{sum(len(f.evidence) for f in b.findings):,} evidence entries (built in {built:.1f} s)"
    )

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        files = {}
        sizes = {}
        for name, result in results.items():
            html = report.render(result, "html")
            files[name] = tmp / f"{name}.html"
            files[name].write_text(html, encoding="utf-8")
            sizes[name] = files[name].stat().st_size
        json_size = len(report.render(b, "json").encode())

        render = _render_times(results, args.rounds)
        browser = _browser_times(files, args.rounds, tmp) if Path(CHROMIUM).exists() else None

    med = {k: statistics.median(v) for k, v in render.items()}
    print(
        f"HTML size: A {sizes['A'] / 1e3:,.0f} kB, B {sizes['B'] / 1e6:.2f} MB "
        f"(ratio {sizes['B'] / sizes['A']:.1f}); JSON of B {json_size / 1e6:.1f} MB"
    )
    print(
        f"Python render: A {med['A'] * 1e3:.0f} ms, B {med['B']:.2f} s "
        f"(ratio {med['B'] / med['A']:.1f})"
    )
    ok = sizes["B"] < 5e6
    if browser is not None:
        bmed = {k: statistics.median(v) for k, v in browser.items()}
        print(
            f"Chromium load + paint: A {bmed['A'] * 1e3:.0f} ms, B {bmed['B'] * 1e3:.0f} ms "
            f"(ratio {bmed['B'] / bmed['A']:.2f})"
        )
        ok = ok and bmed["B"] < 2.0
    else:
        print(f"Chromium: {CHROMIUM} is absent, browser timing skipped")
    print(f"targets (B < 5 MB, Chromium < 2 s): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
