"""Render the demo report with headless Chromium into docs/demo-report.png (the README image).

    .venv/bin/python docs/screenshot.py [--chromium /usr/bin/chromium] [--out docs/demo-report.png]

Runs ``edscan demo`` into a temporary directory, opens its report.html in headless Chromium
(Debian's ``chromium``, driven by playwright; no ``playwright install`` needed) and saves a
screenshot of the top of the report.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "demo-report.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="edscan-screenshot-") as tmp:
        # run where the relative path reads as it does after `make demo`
        subprocess.run(
            [sys.executable, "-m", "edscan", "demo", "--out", "demo-out"], cwd=tmp, check=True
        )
        report = Path(tmp) / "demo-out" / "report.html"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(
                viewport={"width": args.width, "height": args.height}, device_scale_factor=1
            )
            page.goto(report.as_uri())
            page.screenshot(path=str(args.out), full_page=False)
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
