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
from edscan.report import _companies, _diagram
from edscan.report.html import CSP

# the reading order: decide, ask, see who gets what, then the detail; the appendices last
SECTIONS = {
    "verdict": "Verdict",
    "questions": "Questions to ask the vendor",
    "flows": "What leaves the device, and to whom",
    "recipients": "Who received data",
    "findings": "Findings",
    "timeline": "When third parties were contacted",
    "exhibit-b": "Student data categories observed (NDPA Exhibit B)",
    "limits": "What this report cannot tell you",
    "details": "Appendix A: the findings in detail, with the evidence",
    "law": "Appendix B: the law cited",
    "parents": "Appendix C: what this app sends about your child",
    "methodology": "Appendix D: methodology and reproducibility",
    "identifiers": "Appendix E: which identifiers went where",  # the fixture's trackers get ids
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


def test_recipients_table_has_one_row_per_company(soup: BeautifulSoup) -> None:
    rows = _section(soup, "recipients").select("tbody tr")
    companies = {(r.organization or r.domain).lower() for r in realistic_result().recipients}
    assert len(rows) == len(companies) < len(realistic_result().recipients)
    names = [_text(r.find("th")) for r in rows]
    assert names[-1].startswith("Quillpad Learning, Inc.")  # the first party comes last
    assert len({r["data-company"] for r in rows}) == len(rows)
    fs = next(r for r in rows if _text(r.find("th")).startswith("FullStory"))
    cells = [_text(td) for td in fs.find_all("td")]
    assert cells[0].startswith("session replay")
    # its domains and hosts are nested in a <details>, readable without JavaScript
    details = fs.select_one("details.domains")
    assert details is not None and "rs.fullstory.com" in _text(details)
    assert [_text(c) for c in fs.select(".chip")] == [
        "Specialized education services (IEP or 504)",
        "Student generated content (writing, pictures, audio)",
        "Student e-mail",
    ]  # the most sensitive first
    assert fs.select_one(".chip.t3") is not None
    # provenance: list name and version, one line each
    assert [_text(x) for x in fs.select("td.src .srcline")] == ["edscan-trackers 2026.01"]
    assert fs.select_one("td.src .srcline")["title"] == "bundled:edscan-trackers@2026.01"


def test_a_company_with_several_domains_is_one_row_with_the_union() -> None:
    r = realistic_result()
    by_org: dict[str, list[str]] = {}
    for rc in r.recipients:
        by_org.setdefault((rc.organization or rc.domain).lower(), []).append(rc.domain)
    org, domains = next((o, d) for o, d in by_org.items() if len(d) > 1)
    s = _soup(r)
    rows = [t for t in s.select("#recipients tbody tr") if t["data-company"] == org]
    assert len(rows) == 1
    listed = [_text(c) for c in rows[0].select("ul.domain-list code")]
    assert sorted(listed) == sorted(domains)
    flows = sum(rc.flows for rc in r.recipients if rc.domain in domains)
    assert _text(rows[0].select_one("td.num")) == f"{flows:,}"


def test_findings_one_per_rule_and_company_with_the_evidence_in_the_appendix(
    soup: BeautifulSoup,
) -> None:
    sec = _section(soup, "findings")
    groups = [_text(g.select_one("tr.sevrow")) for g in sec.select("tbody.sevgroup")]
    assert groups[0].startswith("Critical 3 findings")
    rows = sec.select("tr.finding")
    pairs = [
        (row["data-rule"], company)
        for row in rows
        for company in row["data-group"].split(":", 1)[1].split("+")
    ]
    assert len(pairs) == len(set(pairs))  # no rule x company twice
    first = rows[0]
    assert _text(first.find("th")).startswith("Student contact data sent to an advertising tracker")
    # the one EDS001 finding for two companies stays one finding, about both
    assert _text(first.find_all("td")[0]).startswith("Meta Platforms, Inc., TikTok Pte. Ltd.")
    detail = soup.select_one(first.select_one("td.company a")["href"])
    assert detail is not None and detail.find_parent("section")["id"] == "details"
    dl = {
        _text(dt): _text(dd)
        for dt, dd in zip(detail.find_all("dt"), detail.find_all("dd"), strict=True)
    }
    assert "CGS §10-234cc(b)(1)" in dl["May be inconsistent with"]
    assert "Why does the app send" in dl["Ask the vendor"]
    ev = detail.select(".evidence tbody tr")
    cells = [_text(td) for td in ev[0].find_all("td")]
    assert cells[0] == "#15" and cells[1] == "login" and cells[2] == "GET"
    assert cells[3].endswith("ud[em]=‹student.email›")
    assert cells[4] == "query:ud[em]" and cells[5] == "sha256"


def test_first_page_decides(soup: BeautifulSoup) -> None:
    v = _section(soup, "verdict")
    assert _text(v.select_one(".coverage")).startswith("Coverage: ")
    top = [_text(li) for li in v.select("ol.top li")]
    assert top and top[0] == (
        "Critical Student contact data sent to an advertising tracker: "
        "Meta Platforms, Inc., TikTok Pte. Ltd."
    )
    for a in v.select("ol.top a"):  # each sentence leads to its finding
        assert soup.select_one(a["href"]) is not None
    kinds = [_text(li) for li in v.select("ul.kinds li")]
    assert any(k.startswith("Advertising and data brokers") for k in kinds)
    assert any("FullStory, Inc." in k for k in kinds)
    # the counts follow the findings as shown: one per rule and company
    shown = len(soup.select("#findings tr.finding"))
    counted = sum(int(_text(b)) for b in v.select(".sevbar b"))
    assert counted == shown


def test_every_internal_link_lands(soup: BeautifulSoup) -> None:
    all_ids = [el["id"] for el in soup.find_all(id=True)]
    ids = set(all_ids)
    assert len(ids) == len(all_ids)  # every anchor names one place
    hrefs = [a["href"] for a in soup.find_all("a", href=True)]
    assert hrefs and all(h[1:] in ids for h in hrefs), [h for h in hrefs if h[1:] not in ids]


def test_brief_keeps_the_first_page_and_the_questions() -> None:
    from edscan.report import html

    s = BeautifulSoup(html.render(realistic_result(), brief=True), "html.parser")
    assert [sec["id"] for sec in s.find_all("section")] == ["verdict", "questions"]
    assert s.select("ol.questions li") and s.select("ol.top li")
    ids = {el["id"] for el in s.find_all(id=True)}
    assert all(a["href"][1:] in ids for a in s.find_all("a", href=True))
    assert "‹" in report.render(realistic_result(), "html") and "brief" in _text(s.find("footer"))


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
    more = [_text(p) for p in s.select("#details p.more")]
    assert more and all(m.endswith("everything is in the JSON.") for m in more)
    n_companies = len({(r.organization or r.domain).lower() for r in big.recipients})
    rows = s.select("#recipients tbody tr")
    assert len(rows) == min(n_companies, _companies.MAX_COMPANY_ROWS)
    if n_companies > _companies.MAX_COMPANY_ROWS:
        assert _text(s.select_one("#recipients p.more")).startswith(
            f"… and {n_companies - _companies.MAX_COMPANY_ROWS:,} more"
        )
    third = sum(1 for r in big.recipients if r.party is Party.THIRD)
    assert third > 40


def test_json_sidecar_and_html_agree_on_counts() -> None:
    r = realistic_result()
    doc = json.loads(report.render(r, "json"))
    s = _soup(r)
    groups = {f["group"] for f in doc["findings"]}
    assert len(s.select("#findings tr.finding")) == len(groups)
    assert len(s.select("#details article.finding")) == len(groups)


def test_one_rule_at_two_domains_of_one_company_is_one_finding() -> None:
    import dataclasses

    from scanbuilder import ScanBuilder

    from edscan.rules import run_rules
    from edscan.rules.score import score

    b = ScanBuilder()
    for domain in ("google-analytics.com", "doubleclick.net"):
        b.recipient(domain, "advertising", org="Google LLC")
        i = b.flow(f"https://www.{domain}/collect?uid=1", phase="login")
        b.obs(i, "st.email", location="query:uid")
    r = b.build()
    r = dataclasses.replace(r, findings=tuple(run_rules(r)))
    r = dataclasses.replace(r, score=score(r))
    doc = json.loads(report.render(r, "json"))
    by_group: dict[str, list[str]] = {}
    for f in doc["findings"]:
        by_group.setdefault(f["group"], []).extend(f["recipients"])
    both = [
        g for g, ds in by_group.items() if sorted(ds) == ["doubleclick.net", "google-analytics.com"]
    ]
    assert both and all(g.endswith(":google llc") for g in both)  # the JSON keeps both findings
    s = _soup(r)
    rows = s.select("#findings tr.finding")
    assert len(rows) == len(by_group) < len(doc["findings"])
    row = next(x for x in rows if x["data-rule"] == both[0].split(":")[0])
    assert _text(row.find_all("td")[0]).startswith(
        "Google LLC google-analytics.com, doubleclick.net"
    ) or _text(row.find_all("td")[0]).startswith("Google LLC doubleclick.net, google-analytics.com")
    detail = s.select_one(row.select_one("td.company a")["href"])
    captions = sorted(_text(c) for c in detail.select(".evidence caption"))
    assert len(captions) == 2 and "doubleclick.net" in captions[0] + captions[1]
    assert [_text(x) for x in s.select("#recipients tbody tr th strong")].count("Google LLC") == 1


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


def test_a_rule_raised_for_several_companies_is_titled_once() -> None:
    import dataclasses

    from scanbuilder import ScanBuilder

    from edscan.rules import run_rules

    b = ScanBuilder()
    for domain, org in (("facebook.com", "Meta Platforms"), ("tiktok.com", "ByteDance")):
        b.recipient(domain, "advertising", org=org)
        i = b.flow(f"https://www.{domain}/tr?uid=1")
        b.obs(i, "st.email", location="query:uid")
    r = b.build()
    r = dataclasses.replace(r, findings=tuple(run_rules(r)))
    s = _soup(r)
    rows = s.select("#findings tr.finding")
    rules = [row["data-rule"] for row in rows]
    # the companies of one rule follow each other, under one title cell spanning them
    for rule in set(rules):
        at = [i for i, x in enumerate(rules) if x == rule]
        assert at == list(range(at[0], at[0] + len(at)))
        head = rows[at[0]].find("th")
        assert head is not None and int(head.get("rowspan", 1)) == len(at)
        assert all(rows[i].find("th") is None for i in at[1:])
    shared = [rule for rule in set(rules) if rules.count(rule) == 2]
    assert shared  # both companies raise at least one rule
    for row in rows:  # every row leads to its own finding in the appendix
        assert (
            s.select_one(row.select_one("td.company a")["href"]).find_parent("section")["id"]
            == "details"
        )


def test_a_cookie_sync_across_companies_never_shows_a_rule_and_company_twice() -> None:
    import dataclasses

    from edscan.models import Confidence, Finding, Severity

    base = realistic_result()
    ads = [r.domain for r in base.recipients if r.party is Party.THIRD][:3]
    assert len(ads) == 3

    def sync(a: str, b: str, fp: str) -> Finding:
        return Finding(
            rule="EDS012",
            title="Identity resolution, cookie sync or data-broker calls",
            severity=Severity.CRITICAL,
            confidence=Confidence.HIGH,
            summary="observed a cookie sync",
            recipients=(a, b),
            fingerprint=fp,
        )

    # a hub syncing with two partners: two findings, one hub, so one group of three companies
    r = dataclasses.replace(base, findings=(sync(ads[0], ads[1], "s1"), sync(ads[0], ads[2], "s2")))
    doc = json.loads(report.render(r, "json"))
    assert len({f["group"] for f in doc["findings"]}) == 1
    s = _soup(r)
    rows = s.select("#findings tr.finding")
    assert len(rows) == 1 and rows[0]["data-group"] == doc["findings"][0]["group"]
    detail = s.select_one(rows[0].select_one("td.company a")["href"])
    assert len(detail.select(".evidence caption")) == 2  # both syncs, inside the one finding


def test_list_names_and_versions_never_wrap(soup: BeautifulSoup) -> None:
    rows = _section(soup, "methodology").select("tbody tr")
    named = [r for r in rows if len(r.find_all("td")) == 6]  # the who-owns-what lists
    assert named
    for r in named:
        cells = r.find_all("td")
        assert "nowrap" in cells[0]["class"] and "nowrap" in cells[1]["class"]
    for line in soup.select("#recipients td.src .srcline"):  # one unbroken line each
        assert line["title"] and "\n" not in line.get_text()


def test_the_brief_of_a_hostile_capture_is_text_not_markup() -> None:
    from edscan.report import html

    s = BeautifulSoup(html.render(hostile_result(), brief=True), "html.parser")
    assert s.find_all(["script", "iframe", "img", "object", "embed"]) == []
    for el in s.find_all(True):
        assert not any(a.lower().startswith("on") for a in el.attrs), el.name
    assert any("<script" in t for t in s.stripped_strings)  # shown, as text
