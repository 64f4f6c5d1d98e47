"""The HTML report, parsed (never matched as substrings): sections, self-containment, escaping."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup, Tag
from resultfactory import (
    PAYLOADS,
    PERSONA,
    big_result,
    hostile_result,
    persona_forms,
    realistic_result,
)

from edscan import report
from edscan.models import Party, ScanResult
from edscan.report import _diagram, _view
from edscan.report.html import CSP

SECTIONS = {
    "verdict": "Verdict",
    "flows": "What leaves the device, and to whom",
    "recipients": "Who received data",
    "findings": "Findings",
    "timeline": "When third parties were contacted",
    "exhibit-b": "Student data categories observed (NDPA Exhibit B)",
    "parents": "What this app sends about your child",
    "questions": "Questions to ask the vendor",
    "methodology": "Methodology and reproducibility",
    "limits": "What this report cannot tell you",
}


def _soup(result: ScanResult, *, reveal: bool = False) -> BeautifulSoup:
    return BeautifulSoup(report.render(result, "html", reveal=reveal), "html.parser")


@pytest.fixture(scope="module")
def soup() -> BeautifulSoup:
    return _soup(realistic_result())


def _section(soup: BeautifulSoup, sid: str) -> Tag:
    el = soup.find("section", id=sid)
    assert isinstance(el, Tag), sid
    return el


def _text(el: Tag) -> str:
    return " ".join(el.get_text(" ").split())


def test_every_section_is_there_in_order(soup: BeautifulSoup) -> None:
    found = [(s["id"], _text(s.find("h2"))) for s in soup.find_all("section")]
    assert found == list(SECTIONS.items())
    nav = [a["href"] for a in soup.select("nav.toc a")]
    assert nav == [f"#{sid}" for sid in SECTIONS]


def test_self_contained_and_locked_down(soup: BeautifulSoup) -> None:
    meta = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert isinstance(meta, Tag) and meta["content"] == CSP
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert soup.find_all("script") == []
    assert soup.find_all("link") == []
    assert soup.find_all(["img", "iframe", "object", "embed", "video", "audio", "source"]) == []
    for el in soup.find_all(True):
        for attr, value in el.attrs.items():
            assert not attr.lower().startswith("on"), (el.name, attr)
            if attr in ("href", "src", "xlink:href", "action", "srcset", "poster"):
                assert str(value).startswith("#"), (el.name, attr, value)
    styles = soup.find_all("style")
    assert len(styles) == 1 and "@media print" in styles[0].string
    assert "url(" not in styles[0].string and "@import" not in styles[0].string


def test_verdict(soup: BeautifulSoup) -> None:
    v = _section(soup, "verdict")
    assert _text(v.select_one(".grade .letter")) == "F"
    assert _text(v.select_one(".decision")) == "Suggested decision: do not approve until fixed"
    para = _text(v.select_one("p.lead"))
    assert "13 companies other than its maker" in para
    assert "“Student contact data sent to an advertising tracker”" in para
    assert "violat" not in _text(soup.body).lower()
    counts = {_text(li.select_one(".sev")): _text(li.find("b")) for li in v.select(".sevbar li")}
    assert counts == {"Critical": "3", "High": "2", "Medium": "2", "Low": "1", "Information": "1"}


def test_mode_is_stated(soup: BeautifulSoup) -> None:
    assert soup.find("meta", attrs={"name": "edscan-mode"})["content"] == "redacted"
    assert _text(soup.find(id="mode")).startswith("Redacted: test-student values appear as labels")
    revealed = _soup(realistic_result(), reveal=True)
    assert revealed.find("meta", attrs={"name": "edscan-mode"})["content"] == "revealed"
    assert _text(revealed.find(id="mode")).startswith(
        "This report contains personal data. Revealed (--reveal)"
    )
    assert "revealed" in revealed.body["class"]


def test_diagram_draws_companies_coloured_by_category(soup: BeautifulSoup) -> None:
    svg = _section(soup, "flows").find("svg")
    assert isinstance(svg, Tag) and svg["role"] == "img"
    titles = [_text(t) for t in svg.select("text.title")]
    assert "Student e-mail" in titles
    assert "Meta Platforms, Inc." in titles  # facebook.com and facebook.net: one company box
    assert titles.count("Meta Platforms, Inc.") == 1
    assert "Connection details only" in titles
    boxes = {
        _text(g.select("text.title")[0]): g.find("rect")["stroke"]
        for g in svg.find_all("g")
        if g.select("text.title")
    }
    assert boxes["LiveRamp, Inc."] == "#c62828"  # advertising and data brokers
    assert boxes["FullStory, Inc."] == "#6a1b9a"  # session recording
    assert boxes["Mixpanel, Inc."] == "#e65100"  # analytics
    assert len(svg.find_all("path")) > 20


def test_recipients_table(soup: BeautifulSoup) -> None:
    rows = _section(soup, "recipients").select("tbody tr")
    assert len(rows) == len(realistic_result().recipients)
    first_cells = [_text(r.find("td")) for r in rows]
    assert first_cells[-1].startswith("Quillpad Learning, Inc.")  # the first party comes last
    fs = next(r for r in rows if _text(r.find("td")).startswith("FullStory"))
    cells = [_text(td) for td in fs.find_all("td")]
    assert cells[2].startswith("session replay")
    assert "rs.fullstory.com" in cells[3]
    assert [_text(c) for c in fs.select(".chip")] == [
        "Student e-mail",
        "Student generated content (writing, pictures, audio)",
        "Specialized education services (IEP or 504)",
    ]
    assert fs.select_one(".chip.t3") is not None
    assert cells[-1] == "bundled:edscan-trackers@2026.01"
    assert [str(x) for x in fs.select_one("td.src").contents] == ["bundled:edscan-trackers@2026.01"]


def test_findings_by_severity_with_redacted_evidence(soup: BeautifulSoup) -> None:
    sec = _section(soup, "findings")
    groups = [_text(g.find("h3")) for g in sec.select(".sevgroup")]
    assert groups[0] == "Critical 3 findings"
    first = sec.select_one("article.finding")
    assert _text(first.find("h4")) == (
        "Critical Student contact data sent to an advertising tracker EDS001"
    )
    dl = {
        _text(dt): _text(dd)
        for dt, dd in zip(first.find_all("dt"), first.find_all("dd"), strict=True)
    }
    assert dl["Received by"] == "Meta Platforms, Inc. (facebook.com), TikTok Pte. Ltd. (tiktok.com)"
    assert "CGS §10-234cc(b)(1)" in dl["May be inconsistent with"]
    assert "Why does the app send" in dl["Ask the vendor"]
    ev = first.select(".evidence tbody tr")
    cells = [_text(td) for td in ev[0].find_all("td")]
    assert cells[0] == "#15" and cells[1] == "login" and cells[2] == "GET"
    assert cells[3].endswith("ud[em]=‹student.email›")
    assert cells[4] == "query:ud[em]" and cells[5] == "sha256"


def test_timeline_by_phase(soup: BeautifulSoup) -> None:
    sec = _section(soup, "timeline")
    assert sec.find("svg") is not None
    labels = [_text(t) for t in sec.select("svg text.band-label")]
    assert labels == ["launch", "login", "assignment", "quiz", "logout"]
    rows = {
        _text(r.find("td")): [_text(td) for td in r.find_all("td")] for r in sec.select("tbody tr")
    }
    assert list(rows) == ["launch", "login", "assignment", "quiz", "logout"]
    assert rows["launch"][5] == "–"  # nothing personal before login
    assert "FullStory, Inc." in rows["assignment"][4]


def test_exhibit_b_parents_and_questions(soup: BeautifulSoup) -> None:
    ex = {_text(r.find("td")): _text(r) for r in _section(soup, "exhibit-b").select("tbody tr")}
    assert "Special Indicator" in ex and "Specialized education services" in ex["Special Indicator"]
    assert "as “Other application technology meta data”" in ex["Application Technology Meta Data"]
    parents = [_text(li) for li in _section(soup, "parents").select("ul.parents li")]
    assert parents[0].startswith("Sensitive:")
    email = next(p for p in parents if p.startswith("Student e-mail"))
    assert "Meta Platforms, Inc. (advertising)" in email
    qs = [_text(li) for li in _section(soup, "questions").select("ol.questions li")]
    subprocessor = [q for q in qs if q.startswith("Is FullStory listed")]
    assert len(subprocessor) == 1 and subprocessor[0].endswith("EDS009, EDS020")  # deduplicated


def test_methodology_and_limits(soup: BeautifulSoup) -> None:
    m = _section(soup, "methodology")
    kv = {_text(tr.find("th")): _text(tr.find("td")) for tr in m.select("table.kv tr")}
    assert kv["SHA-256"] == realistic_result().capture.sha256
    assert kv["Format"] == "edscan"
    assert kv["First party"].startswith("quillpad.example (given by the auditor")
    assert kv["redacted"] == "true"
    assert [_text(c) for c in m.select("code")][:2] == ["custom.accommodation", "custom.essay"]
    lists = [
        [_text(td) for td in tr.find_all("td")] for tr in m.select("tbody tr") if tr.find("td")
    ]
    assert next(r for r in lists if r[0] == "edscan-trackers")[:3] == [
        "edscan-trackers",
        "2026.01",
        "612",
    ]
    lim = _section(soup, "limits")
    assert "api.pinnedsdk.example" in _text(lim.select_one("ul.limits li"))
    assert "Sharing between servers" in _text(lim)
    assert len(lim.select("ul")[1].find_all("li")) == 4  # the score's not-verifiable list


def test_no_persona_value_in_any_encoding_by_default() -> None:
    html = report.render(realistic_result(), "html")
    text = _text(BeautifulSoup(html, "html.parser")).lower() + html.lower()
    for key, value in PERSONA.items():
        for form in persona_forms(value):
            assert form.lower() not in text, (key, form)


def test_inferred_first_party_and_no_score() -> None:
    r = replace(realistic_result(), first_party_inferred=True, score=None, findings=())
    s = _soup(r)
    kv = {_text(tr.find("th")): _text(tr.find("td")) for tr in s.select("#methodology table.kv tr")}
    assert "inferred from the traffic" in kv["First party"]
    assert _text(s.select_one(".grade .letter")) == "?"
    assert _text(s.select_one("#findings")).endswith("edscan raised no findings for this capture.")


def test_hostile_values_are_text_not_markup() -> None:
    html = report.render(hostile_result(), "html")
    s = BeautifulSoup(html, "html.parser")
    assert s.find_all(["script", "iframe", "img", "foreignobject", "object", "embed"]) == []
    assert all(a.get("href", "").startswith("#") for a in s.find_all("a"))
    for el in s.find_all(True):
        assert not any(a.lower().startswith("on") for a in el.attrs), el.name
    svgs = s.find_all("svg")
    assert all(svg.find("script") is None for svg in svgs)
    # the payloads are shown as the text they are
    body = _text(s.body)
    assert any(p in body for p in PAYLOADS[:3])
    assert "{{ 7*7 }}" in body or "{{ 7*7 }}{% raw %}" in body
    title = s.find("title")
    assert title.string.startswith("Privacy risk report: quillpad.example")
    assert "<" in title.string and title.find(True) is None  # markup shown as text
    assert len(s.find_all("style")) == 1


def test_large_result_is_capped_with_counts() -> None:
    big = big_result(20_000)
    html = report.render(big, "html")
    assert len(html) < 1_000_000
    s = BeautifulSoup(html, "html.parser")
    svg = s.select_one("#flows svg")
    boxes = svg.select("text.title")
    assert len(boxes) <= _diagram.MAX_ELEMENTS + _diagram.MAX_RECIPIENTS + 12
    assert any(_text(b).startswith("+") and "more:" in _text(b) for b in boxes)
    more = [_text(p) for p in s.select("#findings p.more")]
    assert more and all(m.endswith("everything is in the JSON.") for m in more)
    n_recipients = len(big.recipients)
    rows = s.select("#recipients tbody tr")
    assert len(rows) == min(n_recipients, _view.MAX_RECIPIENT_ROWS)
    if n_recipients > _view.MAX_RECIPIENT_ROWS:
        assert _text(s.select_one("#recipients p.more")).startswith(
            f"… and {n_recipients - _view.MAX_RECIPIENT_ROWS:,} more"
        )
    third = sum(1 for r in big.recipients if r.party is Party.THIRD)
    assert third > 40


def test_json_sidecar_and_html_agree_on_counts() -> None:
    r = realistic_result()
    doc = json.loads(report.render(r, "json"))
    s = _soup(r)
    assert len(s.select("#findings article.finding")) == len(doc["findings"])


def test_plain_http_and_upstream_errors_are_not_counted_as_not_inspected() -> None:
    from edscan.models import FlowSummary

    base = realistic_result()
    extra = (
        FlowSummary(
            index=900,
            host="beacon.plainhttp.example",
            method="GET",
            url="http://beacon.plainhttp.example/b",
            scheme="http",
            status=204,
            phase="quiz",
            time=150.0,
            request_bytes=0,
            response_bytes=0,
            tls_intercepted=False,
            error=None,
        ),
        FlowSummary(
            index=901,
            host="badcert.upstream.example",
            method="GET",
            url="https://badcert.upstream.example/",
            scheme="https",
            status=None,
            phase="quiz",
            time=151.0,
            request_bytes=0,
            response_bytes=0,
            tls_intercepted=True,
            error="Certificate verify failed: unable to get local issuer certificate",
        ),
    )
    soup = BeautifulSoup(
        report.render(replace(base, flows=base.flows + extra), "html"), "html.parser"
    )
    limits = _text(_section(soup, "limits"))
    assert "api.pinnedsdk.example" in limits
    assert "beacon.plainhttp.example" not in limits
    assert "badcert.upstream.example" not in limits


def test_requests_cut_off_by_the_stop_are_in_methodology_and_limits() -> None:
    result = realistic_result()
    cut = _soup(replace(result, capture=replace(result.capture, cut_off=12)))
    m = _section(cut, "methodology")
    kv = {_text(tr.find("th")): _text(tr.find("td")) for tr in m.select("table.kv tr")}
    assert kv["Cut off by the stop"].startswith("12 request(s) were still waiting")
    assert "Requests cut off by the stop. 12 requests were" in _text(_section(cut, "limits"))
    whole = _soup(result)
    kv = {_text(tr.find("th")): _text(tr.find("td")) for tr in whole.select("table.kv tr")}
    assert kv["Cut off by the stop"] == "none"
    assert "Requests cut off by the stop" not in _text(_section(whole, "limits"))
