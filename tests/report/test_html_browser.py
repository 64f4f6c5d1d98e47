"""The HTML report in real headless Chromium: no errors, no requests, nothing hostile runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from resultfactory import hostile_result, realistic_result

from edscan import report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page with every request, console message, page error and dialog recorded."""

    def __init__(self, browser: Any, *, javascript: bool = True) -> None:
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.javascript = javascript
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)

        def block(route: Any) -> None:  # anything that is not the report itself never leaves
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                self.requests.append(route.request.url)
                route.abort()

        self.context.route("**/*", block)

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri(), wait_until="load")
        if self.javascript:  # two animation frames: layout and paint have happened
            self.page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )

    def others(self, path: Path) -> list[str]:
        return [u for u in self.requests if u != path.as_uri()]

    def close(self) -> None:
        self.context.close()


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def test_realistic_report_renders_cleanly_offline(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "report.html", report.render(realistic_result(), "html"))
    w = Watched(browser)
    try:
        w.open(path)
        assert w.others(path) == []
        assert [m for m in w.console if m[0] in ("error", "warning")] == []
        assert w.errors == []
        assert w.page.title() == "Privacy risk report: quillpad.example"
        box = w.page.locator("#flows svg").bounding_box()
        assert box is not None and box["width"] > 900 and box["height"] > 400
        shot = tmp_path / "report.png"
        w.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        print(f"screenshot: {shot}")
    finally:
        w.close()


def test_report_prints_to_pdf_without_the_navigation(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "report.html", report.render(realistic_result(), "html"))
    w = Watched(browser)
    try:
        w.open(path)
        w.page.emulate_media(media="print")
        assert w.page.locator("nav.toc").evaluate("e => getComputedStyle(e).display") == "none"
        pdf = w.page.pdf(path=str(tmp_path / "report.pdf"), format="A4", print_background=True)
        assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
        assert w.others(path) == []
    finally:
        w.close()


def test_report_reads_with_javascript_off(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "report.html", report.render(realistic_result(), "html"))
    w = Watched(browser, javascript=False)
    try:
        w.open(path)
        assert w.page.locator("#findings tr.finding").count() == len(
            {(f.rule, f.recipients) for f in realistic_result().findings}
        )
        assert w.page.locator(".grade .letter").inner_text() == "F"
        assert w.others(path) == []
    finally:
        w.close()


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_hostile_capture_runs_nothing(browser: Any, tmp_path: Path, csp: bool) -> None:
    html = report.render(hostile_result(), "html")
    if not csp:  # prove the escaping itself, not only the Content-Security-Policy
        html, n = CSP_META.subn("", html)
        assert n == 1
    path = _write(tmp_path, "hostile.html", html)
    w = Watched(browser)
    try:
        w.open(path)
        w.page.wait_for_timeout(200)
        assert w.dialogs == []
        assert w.page.evaluate("() => window.__xss") is None
        assert w.page.evaluate("() => document.querySelectorAll('script, iframe, img').length") == 0
        assert w.others(path) == []
        assert w.errors == []
        # no CSP violation was even attempted: nothing tried to run or load
        assert [m for m in w.console if m[0] == "error"] == []
    finally:
        w.close()


# --------------------------------------------------------------------------- the reviewer's read

PDF_PAGE = re.compile(rb"/Type\s*/Page[^s]")
DROP_APPENDIX = "() => document.querySelectorAll('.appendix').forEach(e => e.remove())"


@pytest.fixture(scope="module")
def math_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 54-request session of a children's math site, through the whole pipeline."""
    from mathsite import FIRST_PARTY, write_math_har

    from edscan.pipeline import scan

    d = tmp_path_factory.mktemp("math")
    result = scan(write_math_har(d / "sumsprout.har"), first_party=[FIRST_PARTY])
    return _write(d, "report.html", report.render(result, "html"))


def _pages(pdf: bytes) -> int:
    assert pdf[:5] == b"%PDF-"
    return len(PDF_PAGE.findall(pdf))


def test_the_math_session_prints_in_eight_pages_before_the_appendix(
    browser: Any, math_report: Path
) -> None:
    w = Watched(browser)
    try:
        w.open(math_report)
        full = _pages(w.page.pdf(format="A4"))
        w.page.evaluate(DROP_APPENDIX)
        main = {fmt: _pages(w.page.pdf(format=fmt)) for fmt in ("A4", "Letter")}
        print(f"pages before the appendix {main}, in all (A4) {full}")
        assert 1 < main["A4"] <= 8 and 1 < main["Letter"] <= 8
        # no table row is cut across two pages
        w.page.emulate_media(media="print")
        breaks = w.page.evaluate(
            "() => [...document.querySelectorAll('main tbody tr')]"
            ".map(r => getComputedStyle(r).breakInside)"
        )
        assert breaks and set(breaks) == {"avoid"}
        assert full > main["A4"]  # the evidence follows, it is not dropped
        assert w.others(math_report) == []
    finally:
        w.close()


def test_no_company_twice_and_no_rule_and_company_twice(browser: Any, math_report: Path) -> None:
    w = Watched(browser, javascript=False)
    try:
        w.open(math_report)
        companies = w.page.locator("#recipients tbody tr th strong").all_inner_texts()
        assert "Google LLC" in companies and "HubSpot, Inc." in companies
        assert len(companies) == len(set(companies))
        rows = w.page.locator("#findings tr.finding")
        groups = [rows.nth(i).get_attribute("data-group") or "" for i in range(rows.count())]
        pairs = [
            (g.split(":", 1)[0], company)
            for g in groups
            for company in g.split(":", 1)[1].split("+")
        ]
        assert pairs and len(pairs) == len(set(pairs))  # no rule x company twice
        # Google's seven domains sit inside its one row
        google = w.page.locator("#recipients tbody tr", has_text="Google LLC")
        assert google.locator("ul.domain-list code").count() >= 7
    finally:
        w.close()


def test_a_company_opens_on_screen_and_is_open_in_print(browser: Any, math_report: Path) -> None:
    w = Watched(browser, javascript=False)
    try:
        w.open(math_report)
        domains = w.page.locator("#recipients tbody tr", has_text="HubSpot, Inc.").locator(
            "ul.domain-list"
        )
        assert not domains.is_visible()  # closed on screen: one line per company
        w.page.locator("#recipients tbody tr", has_text="HubSpot, Inc.").locator(
            "details summary"
        ).click()
        assert domains.is_visible()
        w.page.reload()
        w.page.emulate_media(media="print")
        box = domains.bounding_box()
        assert box is not None and box["height"] > 40  # every domain listed on paper
    finally:
        w.close()


def test_what_a_reviewer_sees_first(browser: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "report.html", report.render(realistic_result(), "html"))
    w = Watched(browser, javascript=False)
    try:
        w.open(path)
        fold = 900  # the first screen of a laptop
        for sel in (".grade .letter", ".decision", "#verdict .coverage", "ol.top li"):
            box = w.page.locator(sel).first.bounding_box()
            assert box is not None and box["y"] + box["height"] < fold, sel
        assert w.page.locator(".decision").inner_text().startswith("Suggested decision: ")
        # then the questions, before the diagram and the tables
        order = w.page.evaluate(
            "() => [...document.querySelectorAll('main > section')].map(s => s.id)"
        )
        assert order[:3] == ["verdict", "questions", "flows"]
        shot = tmp_path / "first-screen.png"
        w.page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
    finally:
        w.close()
