"""How long the HTML report is to read and print, against a baseline built in the same run.

Targets (the reviewer's report): a 54-request session of a children's math site, and the demo
session, print in at most 8 A4 (and Letter) pages before the appendix; no company in two rows;
no rule x company twice. And, at size, a 100k-flow result still gives a report under 5 MB that
Chromium loads and paints in under 2 s.

A is the baseline: the same inputs rendered by the code at ``--baseline`` (a git ref, default
``main``; pass the commit before the reading-order work when this branch is already merged),
exported with ``git archive`` to a temporary folder and run from there. B is this working tree.
Both run as ``python -m edscan report`` subprocesses pinned to core 0; Chromium is pinned to
core 1. Rounds alternate A and B; medians and ratios B/A are printed.

    python benchmarks/report_reading.py [--baseline main] [--rounds 3] [--flows 100000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mathsite import write_math_har  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PAINTED = """() => new Promise(resolve =>
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))))"""
PAGE = re.compile(rb"/Type\s*/Page[^s]")
# what is not "the report before the appendix": today's appendices, and the evidence tables a
# baseline printed inside its finding cards (so that A is measured on the same terms)
STRIP_APPENDIX = """() => {
    document.querySelectorAll('.appendix').forEach(e => e.remove());
    document.querySelectorAll('#findings .evidence, #findings .more').forEach(e => e.remove());
}"""
BIG = """import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests']
from resultfactory import big_result
from edscan import report
open(sys.argv[3], 'w', encoding='utf-8').write(report.render(big_result(int(sys.argv[2])), 'html'))
"""


def _tree(ref: str, into: Path) -> Path:
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    # the wheel maps reports/ and tracker_lists/ into the package (edscan.reports ...); an
    # editable install would resolve those to this tree, so the copy gets its own links
    for data in ("reports", "tracker_lists"):
        link = into / "edscan" / data
        if not link.exists():
            link.symlink_to(into / data, target_is_directory=True)
    return into


def _pinned(core: int) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core)] if taskset and (os.cpu_count() or 1) > 1 else []


def _chromium(tmp: Path) -> str:
    """Chromium pinned to core 1 (when taskset and two cores exist)."""
    pin = _pinned(1)
    if not pin:
        return CHROMIUM
    wrapper = tmp / "chromium-pinned"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(pin)} {CHROMIUM} "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return str(wrapper)


def _report(root: Path, capture: Path, out: Path, extra: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [*_pinned(0), sys.executable, "-m", "edscan", "report", str(capture), "-o", str(out)]
    t0 = time.perf_counter()
    subprocess.run([*cmd, *extra], check=True, env=env, capture_output=True, cwd=root)
    return time.perf_counter() - t0


def _big(root: Path, flows: int, out: Path) -> float:
    cmd = [*_pinned(0), sys.executable, "-c", BIG, str(root), str(flows), str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=root)
    return time.perf_counter() - t0


def _measure(browser: Any, path: Path) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    painted = page.evaluate(PAINTED) / 1000
    full = len(PAGE.findall(page.pdf(format="A4")))
    page.evaluate(STRIP_APPENDIX)
    main_a4 = len(PAGE.findall(page.pdf(format="A4")))
    main_letter = len(PAGE.findall(page.pdf(format="Letter")))
    rows = page.evaluate(
        "() => { const n = [...document.querySelectorAll('#recipients tbody tr')]"
        ".map(r => (r.querySelector('th, td') || r).innerText.split('\\n')[0]);"
        " return n.length - new Set(n).size; }"
    )
    page.close()
    return {
        "paint_s": painted,
        "pages_full": full,
        "pages_main_a4": main_a4,
        "pages_main_letter": main_letter,
        "repeated_company_rows": rows,
        "bytes": path.stat().st_size,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--flows", type=int, default=100_000)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        trees = {"A": _tree(args.baseline, tmp / "A"), "B": ROOT}
        math = write_math_har(tmp / "sumsprout.har")
        demo_dir = tmp / "demo"
        subprocess.run(
            [sys.executable, "-m", "edscan", "demo", "--out", str(demo_dir)],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        inputs = {
            "math site (54 requests)": (math, ["--first-party", "sumsprout.test"]),
            "demo": (
                demo_dir / "session.edscan.jsonl",
                ["--persona", str(demo_dir / "persona.toml"), "--first-party", "brindlewick.test"],
            ),
        }
        render: dict[tuple[str, str], list[float]] = {}
        files: dict[tuple[str, str], Path] = {}
        for _ in range(args.rounds):
            for n, (name, (capture, extra)) in enumerate(inputs.items()):
                for side, root in trees.items():  # A, B, A, B ...
                    out = tmp / f"{side}-{n}.html"
                    render.setdefault((name, side), []).append(_report(root, capture, out, extra))
                    files[(name, side)] = out
        for side, root in trees.items():
            out = tmp / f"{side}-big.html"
            render[("100k flows", side)] = [_big(root, args.flows, out)]
            files[("100k flows", side)] = out

        measured: dict[tuple[str, str], dict[str, float]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(tmp), args=ARGS)
            try:
                for key, path in files.items():
                    runs = [_measure(browser, path) for _ in range(max(1, args.rounds))]
                    m = runs[-1]
                    m["paint_s"] = statistics.median(r["paint_s"] for r in runs)
                    measured[key] = m
            finally:
                browser.close()

    print(f"A = {args.baseline} (baseline), B = this tree; medians of {args.rounds} rounds")
    ok = True
    for name in [*inputs, "100k flows"]:
        a, b = measured[(name, "A")], measured[(name, "B")]
        ra = statistics.median(render[(name, "A")])
        rb = statistics.median(render[(name, "B")])
        print(f"\n{name}")
        print(
            f"  pages before the appendix, A4:     A {a['pages_main_a4']:.0f}  B {b['pages_main_a4']:.0f}"
            f"  (ratio {b['pages_main_a4'] / a['pages_main_a4']:.2f})"
        )
        print(
            f"  pages before the appendix, Letter: A {a['pages_main_letter']:.0f}"
            f"  B {b['pages_main_letter']:.0f}"
        )
        print(
            f"  pages in all, A4:                  A {a['pages_full']:.0f}  B {b['pages_full']:.0f}"
        )
        print(
            f"  companies in more than one row:    A {a['repeated_company_rows']:.0f}"
            f"  B {b['repeated_company_rows']:.0f}"
        )
        print(
            f"  HTML size:                         A {a['bytes'] / 1e3:,.0f} kB"
            f"  B {b['bytes'] / 1e3:,.0f} kB  (ratio {b['bytes'] / a['bytes']:.2f})"
        )
        print(
            f"  render (edscan report):            A {ra:.2f} s  B {rb:.2f} s  (ratio {rb / ra:.2f})"
        )
        print(
            f"  Chromium load + paint:             A {a['paint_s'] * 1e3:.0f} ms"
            f"  B {b['paint_s'] * 1e3:.0f} ms  (ratio {b['paint_s'] / a['paint_s']:.2f})"
        )
        if name == "100k flows":
            met = b["bytes"] < 5e6 and b["paint_s"] < 2.0
            print(f"  target (B < 5 MB, Chromium < 2 s): {'met' if met else 'NOT met'}")
        else:
            met = b["pages_main_a4"] <= 8 and b["pages_main_letter"] <= 8
            met = met and b["repeated_company_rows"] == 0
            print(
                f"  target (<= 8 pages before the appendix, no company twice): "
                f"{'met' if met else 'NOT met'}"
            )
        ok = ok and met
    print(
        f"\ntargets (<= 8 pages before the appendix; 100k: < 5 MB, < 2 s): {'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
