"""The report's limits: hosts that may have moved to HTTP/3, bodies cut by --max-body, decoding
limits and the TLS check, each in its own item (parsed, never matched as substrings)."""

from __future__ import annotations

from dataclasses import replace

from bs4 import BeautifulSoup, Tag
from resultfactory import PERSONA, realistic_result

from edscan import report
from edscan.capture.coverage import Coverage, CoverageGap, FlowCount, QuietHttp3, TlsCheck
from edscan.models import ScanResult
from edscan.report._coverage import MAX_GAPS

ITEMS = ("li.tls-check", "li.http3-quiet", "li.truncated", "li.decoding-limits")
SCRIPT_HOST = '<script>alert("h3")</script>.example'


def _result(cov: Coverage | None) -> ScanResult:
    return replace(realistic_result(), coverage=cov)


def _limits(result: ScanResult, *, reveal: bool = False) -> Tag:
    soup = BeautifulSoup(report.render(result, "html", reveal=reveal), "html.parser")
    el = soup.find("section", id="limits")
    assert isinstance(el, Tag)
    return el


def _text(el: Tag | None) -> str:
    assert el is not None
    return " ".join(el.get_text(" ").split())


def _full() -> Coverage:
    return Coverage(
        hosts_inspected=12,
        gaps=(
            CoverageGap(host="api.pinnedsdk.example", reason="certificate-refused", connections=2),
            CoverageGap(host="bad.upstream.example", reason="upstream-tls-failed", connections=1),
        ),
        http3_quiet=(QuietHttp3(host="video.cdn.example", advertised_in=3, flows_after=1),),
        truncated=FlowCount(flows=2, bodies=3, first=(4, 9)),
        decoding_limits=FlowCount(flows=1, first=(7,)),
        tls_check=TlsCheck(
            accepted=("events.tracker.example",), validated=("api.pinnedsdk.example",)
        ),
    )


def test_each_new_coverage_item_has_its_line() -> None:
    lim = _limits(_result(_full()))
    tls = lim.select_one("li.tls-check")
    assert _text(tls).startswith("TLS check. This capture was made with edscan capture --tls-check")
    assert _text(tls.select_one(".hosts.accepted")) == "events.tracker.example"
    assert _text(tls.select_one(".hosts.validated")) == "api.pinnedsdk.example"
    assert "1 host accepted the forged certificate (finding EDS031)" in _text(tls)
    assert "1 host refused it, validating certificates as they should" in _text(tls)
    h3 = lim.select_one("li.http3-quiet")
    assert _text(h3).startswith("Hosts that may have moved to HTTP/3. 1 host advertised HTTP/3")
    assert _text(h3.select_one(".hosts")) == "video.cdn.example"
    assert _text(lim.select_one("li.truncated")).startswith(
        "Bodies recorded in part. 3 bodies in 2 requests (#4, #9) were longer than the "
        "capture's body limit ( --max-body ) and cut there"
    )
    assert _text(lim.select_one("li.decoding-limits")).startswith(
        "Decoding limits. In 1 request (#7) edscan stopped decoding part of the content"
    )
    # the gaps by host, with the new reason in words
    gaps = [_text(li) for li in lim.select("ul.gaps li")]
    assert gaps == [
        "api.pinnedsdk.example : certificate refused, 2 connections",
        "bad.upstream.example : the server's TLS failed (its certificate did not verify), "
        "1 connection",
    ]


def test_the_first_page_coverage_line_names_them() -> None:
    soup = BeautifulSoup(report.render(_result(_full()), "html"), "html.parser")
    lines = [_text(p) for p in soup.select("#verdict p.coverage")]
    hosts = next(t for t in lines if t.startswith("Hosts:"))
    for part in (
        "1 host may have moved to HTTP/3",
        "3 bodies truncated by --max-body",
        "1 flow hit decoding limits",
        "TLS check: 1 host accepted a forged certificate, 1 validated it",
    ):
        assert part in hosts


def test_nothing_to_say_says_nothing() -> None:
    for cov in (None, Coverage(hosts_inspected=3)):
        lim = _limits(_result(cov))
        assert [lim.select_one(sel) for sel in ITEMS] == [None] * len(ITEMS)


def test_a_tls_check_nobody_failed_and_long_lists_are_capped() -> None:
    many = tuple(f"h{i:02}.example" for i in range(MAX_GAPS + 5))
    cov = Coverage(hosts_inspected=40, tls_check=TlsCheck(accepted=(), validated=many))
    tls = _limits(_result(cov)).select_one("li.tls-check")
    assert "No host accepted the forged certificate." in _text(tls)
    assert tls.select_one(".hosts.accepted") is None
    assert f"{MAX_GAPS + 5} hosts refused it" in _text(tls)
    shown = _text(tls.select_one(".hosts.validated")).split(", ")
    assert len(shown) == MAX_GAPS and "and 5 more" in _text(tls)


def test_hosts_are_escaped_and_redacted() -> None:
    secret = PERSONA["student.username"]
    cov = Coverage(
        hosts_inspected=1,
        http3_quiet=(QuietHttp3(host=SCRIPT_HOST, advertised_in=0, flows_after=0),),
        tls_check=TlsCheck(accepted=(f"{secret}.tracker.example",)),
    )
    lim = _limits(_result(cov))
    assert lim.find_all("script") == []
    assert SCRIPT_HOST in _text(lim.select_one("li.http3-quiet .hosts"))
    accepted = _text(lim.select_one("li.tls-check .hosts.accepted"))
    assert secret not in accepted and "tracker.example" in accepted
