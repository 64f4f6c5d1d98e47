"""The report says what each field is at a known endpoint: "cid: Google Analytics client id"."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from bs4 import BeautifulSoup

from edscan.pipeline import scan
from edscan.report import html
from edscan.report.json import document

PAGE = "https://www.lessonloop.example/classes/today"


def _har(tmp_path: Path) -> Path:
    ga = "https://region1.google-analytics.com/g/collect?" + urlencode(
        {
            "v": "2",
            "tid": "G-7QX2K9LM3B",
            "cid": "1234567890.1717000000",
            "uid": "s-4411-qa",
            "dl": PAGE,
            "ul": "en-us",
            "en": "page_view",
            "gcs": "G111",
        }
    )
    entries = [
        {
            "startedDateTime": "2024-05-30T14:03:11.000Z",
            "time": 10,
            "pageref": "p1",
            "request": {
                "method": method,
                "url": url,
                "httpVersion": "HTTP/1.1",
                "headers": [{"name": "Referer", "value": PAGE}],
                "queryString": [],
                "cookies": [],
                "headersSize": -1,
                "bodySize": 0,
            },
            "response": {
                "status": 200,
                "statusText": "OK",
                "httpVersion": "HTTP/1.1",
                "headers": [],
                "cookies": [],
                "content": {"size": 0, "mimeType": "text/html"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": 0,
            },
            "cache": {},
            "timings": {"send": 0, "wait": 10, "receive": 0},
        }
        for method, url in (("GET", PAGE), ("POST", ga))
    ]
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "test", "version": "1"},
            "pages": [
                {
                    "id": "p1",
                    "title": PAGE,
                    "startedDateTime": "2024-05-30T14:03:10.000Z",
                    "pageTimings": {},
                }
            ],
            "entries": entries,
        }
    }
    path = tmp_path / "ga.har"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_report_and_the_json_show_each_field_s_meaning(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    result = scan(_har(tmp_path), data_dir=data)
    doc = document(result)
    details = {o["location"]: o["detail"] for o in doc["observations"]}
    assert details["query:cid"].startswith("cid: Google Analytics client id")
    assert details["query:dl"].startswith("dl: page viewed")
    assert details["query:gcs"].startswith("gcs: consent state")

    page = html.render(result)
    soup = BeautifulSoup(page, "html.parser")
    section = soup.find(id="identifiers")
    assert section is not None
    ids = [
        tr.find("td").get_text(" ", strip=True) for tr in section.select("table.identifiers tr")[1:]
    ]
    assert any(t.startswith("cid: Google Analytics client id") for t in ids), ids
    context = [
        tr.find("td").get_text(" ", strip=True)
        for tr in section.select("table.endpoint-context tbody tr")
    ]
    assert any(t.startswith("dl: page viewed") for t in context), context
    assert any(t.startswith("ul: browser language") for t in context), context
    # the context is not "data received": the recipients table lists the identifiers only
    recipients = soup.find(id="recipients")
    if recipients is not None:
        assert "Meta data on user interaction" not in recipients.get_text(" ")
    # the page viewed is still the page: its value is not masked all over the report
    assert "en-us" not in ids
    # an evidence row at a known field says what the field is
    cells = [td.get_text(" ", strip=True) for td in soup.select("div.evidence td")]
    assert "query:cid Google Analytics client id (browser)" in cells, cells


def test_the_methodology_names_each_candidate_when_the_first_party_evidence_is_split(
    tmp_path: Path,
) -> None:
    import dataclasses

    from edscan.models import Confidence
    from edscan.recipients.basis import Candidate, FirstPartyBasis

    data = tmp_path / "data"
    data.mkdir()
    result = scan(_har(tmp_path), data_dir=data)
    split = FirstPartyBasis(
        method="inferred",
        confidence=Confidence.LOW,
        reason="the evidence is split",
        chosen="lessonloop.example",
        candidates=(
            Candidate(domain="lessonloop.example", score=3.0, evidence=("1 page URL",)),
            Candidate(
                domain="google-analytics.com",
                score=2.0,
                evidence=("2 Referer/Origin headers",),
                excluded="analytics",
            ),
        ),
        split=True,
    )
    shown = dataclasses.replace(result, first_party_basis=split, first_party_inferred=True)
    soup = BeautifulSoup(html.render(shown), "html.parser")
    items = [li.get_text(" ", strip=True) for li in soup.select("ul.fp-candidates li")]
    assert items == [
        "lessonloop.example : 1 page URL",
        "google-analytics.com : 2 Referer/Origin headers (set aside: analytics)",
    ]
    # decided without a split, the methodology does not list candidates
    decided = dataclasses.replace(split, split=False)
    plain = dataclasses.replace(result, first_party_basis=decided, first_party_inferred=True)
    assert not BeautifulSoup(html.render(plain), "html.parser").select("ul.fp-candidates")
