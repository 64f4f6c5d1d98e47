"""The coverage beyond the gaps: hosts that advertised HTTP/3 and went quiet, bodies cut by
--max-body, flows that hit decoding limits, the upstream-tls-failed gap and the TLS check; and
that all of it validates against the result schema, from the builders and from a real scan."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from scanbuilder import ScanBuilder

from edscan import report
from edscan.capture.capture_file import CaptureWriter
from edscan.capture.coverage import (
    MAX_LISTED,
    QUIET_SECONDS,
    Coverage,
    CoverageTally,
    FlowCount,
    coverage,
    handshake_completed,
)
from edscan.models import Body, Flow, FlowSummary, ScanResult
from edscan.resources import read_text

SCHEMA = json.loads(read_text("reports", "edscan-result-1.schema.json"))
T0 = 1767258000.0
H3 = ("Alt-Svc", 'h3=":443"; ma=86400, h2=":443"')
DEEP_JSON = ('{"a":' * 80 + "1" + "}" * 80).encode()  # past the decoder's nesting cap (64)


def _flow(
    i: int,
    url: str,
    t: float | None,
    *,
    response_headers: tuple[tuple[str, str], ...] = (),
    request_body: Body | None = None,
    response_body: Body | None = None,
    cut_off: str | None = None,
) -> Flow:
    return Flow(
        index=i,
        id=f"f{i}",
        method="POST" if request_body else "GET",
        url=url,
        scheme=url.split(":", 1)[0],
        http_version="HTTP/1.1",
        request_start=t,
        response_end=None if t is None else t + 0.1,
        request_headers=(("Content-Type", "application/json"),),
        request_body=request_body,
        status=200,
        reason="OK",
        response_headers=response_headers,
        response_body=response_body,
        cut_off=cut_off,
    )


def _tally(flows: list[Flow], limits: dict[int, int] | None = None) -> CoverageTally:
    tally = CoverageTally()
    for f in flows:
        tally.add(f, (limits or {}).get(f.index, 0))
    return tally


def _validates(result: ScanResult) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(report.render(result, "json"))
    jsonschema.validate(doc, SCHEMA)
    return doc


# --------------------------------------------------------------------------- HTTP/3


def test_a_host_that_advertised_h3_and_went_quiet_is_listed() -> None:
    flows = [
        _flow(0, "https://video.example/manifest", T0, response_headers=(H3,)),
        _flow(1, "https://video.example/seg1", T0 + 2),  # still over TCP for a moment
        _flow(2, "https://app.school.example/a", T0 + 5),
        _flow(3, "https://app.school.example/b", T0 + 2 + QUIET_SECONDS + 1),
    ]
    [quiet] = _tally(flows).http3_quiet()
    assert (quiet.host, quiet.advertised_in, quiet.flows_after) == ("video.example", 0, 1)
    assert quiet.to_dict()["note"] == "may have moved to HTTP/3, which the proxy cannot see"


@pytest.mark.parametrize(
    "alt_svc",
    ['h3-29=":443"; ma=3600', "clear", 'h2=":443"', 'quic=":443"', 'H3=":8443"'],
)
def test_only_an_h3_alt_svc_counts(alt_svc: str) -> None:
    flows = [
        _flow(0, "https://cdn.example/x", T0, response_headers=(("alt-svc", alt_svc),)),
        _flow(1, "https://app.school.example/later", T0 + 60),
    ]
    hosts = [q.host for q in _tally(flows).http3_quiet()]
    assert hosts == (["cdn.example"] if alt_svc.lower().startswith("h3") else [])


def test_a_host_still_talking_over_tcp_is_not_quiet() -> None:
    # it advertised HTTP/3 and went on over TCP well past the quiet window: the proxy saw it
    flows = [
        _flow(0, "https://cdn.example/a", T0, response_headers=(H3,)),
        _flow(1, "https://cdn.example/b", T0 + QUIET_SECONDS + 5),
        _flow(2, "https://app.school.example/c", T0 + 60),
    ]
    assert _tally(flows).http3_quiet() == ()


def test_a_capture_that_ends_soon_after_says_nothing() -> None:
    # nothing came later, but the capture stopped too soon to tell "moved" from "was done"
    flows = [
        _flow(0, "https://app.school.example/c", T0),
        _flow(1, "https://cdn.example/a", T0 + 1, response_headers=(H3,)),
        _flow(2, "https://app.school.example/d", T0 + QUIET_SECONDS - 1),
    ]
    assert _tally(flows).http3_quiet() == ()


def test_without_times_quiet_cannot_be_told() -> None:
    flows = [
        _flow(0, "https://cdn.example/a", None, response_headers=(H3,)),
        _flow(1, "https://app.school.example/c", T0 + 60),
    ]
    assert _tally(flows).http3_quiet() == ()


# --------------------------------------------------------------------------- bodies, decoders


def test_bodies_cut_by_max_body_are_counted_not_those_cut_by_the_stop() -> None:
    cut = Body(content=b"x" * 10, size=1000, truncated=True)
    whole = Body(content=b"{}", size=2)
    flows = [
        _flow(0, "https://a.example/up", T0, request_body=cut, response_body=cut),
        _flow(1, "https://a.example/ok", T0 + 1, request_body=whole, response_body=whole),
        _flow(2, "https://a.example/big", T0 + 2, response_body=cut),
        _flow(3, "https://a.example/stop", T0 + 3, request_body=cut, cut_off="response"),
    ]
    t = _tally(flows).truncated()
    assert (t.flows, t.bodies, t.first) == (2, 3, (0, 2))
    assert t.to_dict() == {"flows": 2, "bodies": 3, "flow_indices": [0, 2]}


def test_flow_indices_are_capped_the_counts_are_whole() -> None:
    cut = Body(content=b"x", size=9, truncated=True)
    flows = [_flow(i, "https://a.example/x", T0 + i, response_body=cut) for i in range(50)]
    t = _tally(flows, limits={i: 2 for i in range(50)})
    assert (t.truncated().flows, len(t.truncated().first)) == (50, MAX_LISTED)
    d = t.decoding_limits()
    assert (d.flows, d.bodies, d.first) == (50, 0, tuple(range(MAX_LISTED)))


def test_decoding_limits_count_flows_not_messages() -> None:
    flows = [_flow(i, "https://a.example/x", T0 + i) for i in range(4)]
    d = _tally(flows, limits={1: 3, 3: 1}).decoding_limits()
    assert (d.flows, d.first) == (2, (1, 3))


# --------------------------------------------------------------------------- gaps, TLS check


def _failed(b: ScanBuilder, url: str, error: str, **kw: Any) -> int:
    i = b.flow(url, status=None, **kw)
    b.flows[i] = dataclasses.replace(b.flows[i], error=error)
    return i


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            "Certificate verify failed: unable to get local issuer certificate",
            "upstream-tls-failed",
        ),
        ("TLS handshake failed: sslv3 alert handshake failure", "upstream-tls-failed"),
        ("client refused the proxy's TLS certificate for a.example", "certificate-refused"),
        ("[Errno 111] Connection refused", None),  # not a TLS failure: no gap
        ("cut off by the stop", None),
    ],
)
def test_failed_flows_become_gaps_by_what_failed(error: str, reason: str | None) -> None:
    b = ScanBuilder()
    b.flow("https://app.school.example/ok")
    _failed(b, "https://a.example/x", error)
    cov = coverage(b.build().flows)
    assert [(g.host, g.reason) for g in cov.gaps] == ([("a.example", reason)] if reason else [])


def test_an_upstream_tls_failure_over_plain_http_is_no_gap() -> None:
    b = ScanBuilder()
    _failed(b, "http://a.example/x", "certificate verify failed")
    assert coverage(b.build().flows).gaps == ()


def test_the_upstream_gap_is_in_the_line_and_the_host_not_inspected() -> None:
    b = ScanBuilder()
    b.flow("https://app.school.example/ok")
    _failed(b, "https://bad-cert.example/x", "Certificate verify failed: hostname mismatch")
    _failed(b, "https://bad-cert.example/y", "Certificate verify failed: hostname mismatch")
    cov = coverage(b.build().flows)
    assert cov.hosts_inspected == 1
    [gap] = cov.gaps
    assert (gap.reason, gap.connections, gap.bytes) == ("upstream-tls-failed", 2, None)
    assert cov.line() == "1 host inspected; 1 not inspected: upstream-tls-failed 1"


def _tls_check_flows() -> list[FlowSummary]:
    b = ScanBuilder()
    b.flow("https://accepts.example/api", method="POST")
    b.flow("http://plain.example/x")  # no handshake at all
    refused = "client refused the proxy's TLS certificate for {}"
    _failed(b, "https://pinned.example/", refused.format("pinned.example"), method="CONNECT")
    # refused once, accepted later: it did accept a forged certificate
    _failed(b, "https://flaky.example/", refused.format("flaky.example"), method="CONNECT")
    b.flow("https://flaky.example/later")
    return b.flows


def test_the_tls_check_lists_accepted_and_validated_hosts() -> None:
    flows = _tls_check_flows()
    assert [handshake_completed(f) for f in flows] == [True, False, False, False, True]
    cov = coverage(flows, tls_checked=True)
    assert cov.tls_check is not None
    assert cov.tls_check.accepted == ("accepts.example", "flaky.example")
    assert cov.tls_check.validated == ("pinned.example",)
    assert cov.line().endswith("; TLS check: 2 hosts accepted a forged certificate, 1 validated it")
    assert coverage(flows).tls_check is None  # an ordinary capture says nothing of the kind


def test_the_line_names_every_new_item() -> None:
    cov = Coverage(
        hosts_inspected=3,
        http3_quiet=_tally(
            [
                _flow(0, "https://cdn.example/a", T0, response_headers=(H3,)),
                _flow(1, "https://app.school.example/b", T0 + 60),
            ]
        ).http3_quiet(),
        truncated=FlowCount(flows=1, bodies=2, first=(4,)),
        decoding_limits=FlowCount(flows=1, first=(5,)),
        tls_check=coverage(_tls_check_flows(), tls_checked=True).tls_check,
    )
    assert cov.line() == (
        "3 hosts inspected; nothing the capture could not see; 1 host may have moved to HTTP/3; "
        "2 bodies truncated by --max-body; 1 flow hit decoding limits; "
        "TLS check: 2 hosts accepted a forged certificate, 1 validated it"
    )


# --------------------------------------------------------------------------- the schema


def test_every_new_field_validates_against_the_schema() -> None:
    b = ScanBuilder()
    b.tls_check = True  # type: ignore[attr-defined]  # a --tls-check capture
    flows = _tls_check_flows()
    b.flows = flows
    _failed(b, "https://bad-cert.example/x", "certificate verify failed")
    cut = Body(content=b"x", size=9, truncated=True)
    tally = _tally(
        [
            _flow(0, "https://accepts.example/api", T0, response_headers=(H3,), response_body=cut),
            _flow(1, "https://app.school.example/b", T0 + 60),
        ],
        limits={1: 1},
    )
    result = b.build()
    result = dataclasses.replace(
        result, coverage=coverage(result.flows, tally=tally, tls_checked=True)
    )
    cov = _validates(result)["coverage"]
    assert [(g["reason"], g["host"]) for g in cov["gaps"]] == [
        ("certificate-refused", "flaky.example"),
        ("certificate-refused", "pinned.example"),
        ("upstream-tls-failed", "bad-cert.example"),
    ]
    assert cov["http3_quiet"] == [
        {
            "host": "accepts.example",
            "advertised_in": 0,
            "flows_after": 0,
            "note": "may have moved to HTTP/3, which the proxy cannot see",
        }
    ]
    assert cov["truncated_bodies"] == {"flows": 1, "bodies": 1, "flow_indices": [0]}
    assert cov["decoding_limits"] == {"flows": 1, "bodies": 0, "flow_indices": [1]}
    # the server's certificate failed, but the client had sent its request through the forged one
    assert cov["tls_check"] == {
        "accepted": ["accepts.example", "bad-cert.example", "flaky.example"],
        "validated": ["pinned.example"],
    }
    # without the check the key is absent, and the rest still validates
    plain = dataclasses.replace(result, coverage=coverage(result.flows, tally=tally))
    assert "tls_check" not in _validates(plain)["coverage"]


def test_the_schema_rejects_a_malformed_new_field() -> None:
    b = ScanBuilder()
    b.flow("https://app.school.example/ok")
    result = b.build()
    doc = _validates(dataclasses.replace(result, coverage=coverage(result.flows)))
    for key, bad in (
        ("truncated_bodies", {"flows": -1, "bodies": 0, "flow_indices": []}),
        ("decoding_limits", {"flows": 0}),
        ("tls_check", {"accepted": []}),
        ("http3_quiet", [{"host": "x.example"}]),
    ):
        broken = json.loads(json.dumps(doc))
        broken["coverage"][key] = bad
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


def test_a_scanned_capture_reports_each_item(tmp_path: Path) -> None:
    from edscan.pipeline import scan

    capture = tmp_path / "c.edscan.jsonl"
    cut = Body(content=b'{"page":', size=5000, truncated=True)
    deep = Body(content=DEEP_JSON, size=len(DEEP_JSON))
    with CaptureWriter(capture, {"max_body": 8}) as w:
        w.write(_flow(0, "https://cdn.example/player", T0, response_headers=(H3,)))
        w.write(_flow(1, "https://app.school.example/big", T0 + 1, response_body=cut))
        w.write(_flow(2, "https://app.school.example/deep", T0 + 2, request_body=deep))
        w.write(_flow(3, "https://app.school.example/end", T0 + 30))
    result = scan(capture)
    assert result.coverage is not None and not result.capture.tls_check
    doc = _validates(result)["coverage"]
    assert [q["host"] for q in doc["http3_quiet"]] == ["cdn.example"]
    assert doc["truncated_bodies"] == {"flows": 1, "bodies": 1, "flow_indices": [1]}
    assert doc["decoding_limits"] == {"flows": 1, "bodies": 0, "flow_indices": [2]}
    assert "tls_check" not in doc
    assert "1 host may have moved to HTTP/3" in doc["summary"]
    assert "1 body truncated by --max-body" in doc["summary"]
    assert "1 flow hit decoding limits" in doc["summary"]
