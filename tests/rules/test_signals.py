"""signals(flow, decoded): the per-flow fields the rules read, kept small and cheap."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from edscan.decode.flow import decode_flow
from edscan.models import Body, Field, Flow
from edscan.rules.signals import (
    KIND_CAPS,
    MAX_SIGNALS,
    MAX_VALUE,
    cookie_lifetime,
    is_set,
    is_unset,
    kind_of,
    signals,
)

DATE = "Wed, 21 Oct 2026 07:28:00 GMT"


@dataclass
class Decoded:
    fields: list[Field] = field(default_factory=list)


def _flow(url: str = "https://x.example/a", **kw: object) -> Flow:
    return Flow(index=0, id="f", method=str(kw.pop("method", "GET")), url=url, **kw)  # type: ignore[arg-type]


def _kinds(sigs: tuple[Field, ...]) -> dict[str, list[Field]]:
    out: dict[str, list[Field]] = {}
    for s in sigs:
        kind = kind_of(s)
        assert kind is not None, s
        out.setdefault(kind, []).append(s)
    return out


def _f(location: str, key: str, value: str = "") -> Field:
    return Field(location=location, key=key, value=value)


@pytest.mark.parametrize(
    ("location", "key", "value", "kind"),
    [
        ("query:tfcd", "tfcd", "1", "child"),
        ("body:$.regs.coppa", "coppa", "1", "child"),
        (
            "body:$.tag_for_child_directed_treatment",
            "tag_for_child_directed_treatment",
            "true",
            "child",
        ),
        ("query:npa", "npa", "1", "consent"),
        ("body:$.regs.ext.gdpr", "gdpr", "0", "consent"),
        ("query:us_privacy", "us_privacy", "1YNN", "consent"),
        ("query:gcs", "gcs", "G100", "consent"),
        ("query:dl", "dl", "https://school.example/quiz", "page"),
        ("query:ev", "ev", "PageView", "event"),
        ("query:en", "en", "page_view", "event"),
        ("body:$[1].type", "type", "replay_recording", "event"),
        ("query:ud[em]", "em", "f1e2", "match"),
        ("query:udff[em]", "em", "f1e2", "form"),
        ("query:udff[ph]", "ph", "9a8b", "form"),
        ("body:$.formValues.email", "email", "a@b.c", "form"),
        ("body:$.keystrokes[0].k", "k", "q", "form"),
    ],
)
def test_decoded_fields_become_signals(location: str, key: str, value: str, kind: str) -> None:
    sigs = signals(_flow(), Decoded([_f(location, key, value)]))
    assert len(sigs) == 1
    assert kind_of(sigs[0]) == kind
    assert sigs[0].location == location
    # presence-only kinds keep no value: they may carry hashed e-mails or typed text
    assert sigs[0].value == ("" if kind in ("form", "match") else value)


@pytest.mark.parametrize(
    ("location", "key", "value"),
    [
        ("query:uid", "uid", "123"),
        ("body:$.type", "type", "track"),  # an ordinary event type
        ("cookie:_ga", "_ga", "GA1.2.3"),
        ("header:user-agent", "user-agent", "Mozilla"),
        ("body:$.imp_count", "imp_count", "3"),
        ("query:cd[formFeatures]", "formFeatures", "[]"),  # describes fields, holds no values
    ],
)
def test_other_fields_are_dropped(location: str, key: str, value: str) -> None:
    assert signals(_flow(), Decoded([_f(location, key, value)])) == ()


def test_request_headers() -> None:
    flow = _flow(
        request_headers=(
            ("Referer", "https://school.example/grades?student=1"),
            ("Origin", "https://school.example"),
            ("Content-Type", "text/plain"),
            ("Sec-GPC", "1"),
            ("User-Agent", "x"),
        )
    )
    kinds = _kinds(signals(flow, Decoded()))
    assert kinds["referer"][0].value == "https://school.example/grades?student=1"
    assert kinds["referer"][0].key == "referer"  # what domains.FirstParty inference reads
    assert kinds["origin"][0].value == "https://school.example"
    assert kinds["content-type"][0].value == "text/plain"
    assert [s.key for s in kinds["consent"]] == ["sec-gpc"]


def test_set_cookie_lifetimes_against_the_response_date() -> None:
    flow = _flow(
        response_headers=(
            ("Date", DATE),
            ("Set-Cookie", "IDE=abc; Max-Age=34128000; Path=/; Secure"),
            ("Set-Cookie", "fr=x; Expires=Thu, 21 Oct 2027 07:28:00 GMT; Domain=.facebook.com"),
            ("set-cookie", "sess=1; Path=/"),
            ("Set-Cookie", "gone=; Max-Age=0"),
            ("Set-Cookie", "old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        )
    )
    cookies = {s.location: (s.key, s.value) for s in _kinds(signals(flow, Decoded()))["cookie"]}
    assert cookies == {
        "set-cookie:IDE": ("max-age", "34128000"),
        "set-cookie:fr": ("max-age", str(365 * 86400)),
        "set-cookie:sess": ("session", ""),
    }


def test_expires_falls_back_to_the_flow_time_then_to_an_absolute_time() -> None:
    # Thu, 21 Oct 2027 07:28:00 GMT = 1824103680
    header = "a=1; Expires=Thu, 21 Oct 2027 07:28:00 GMT"
    assert cookie_lifetime(header, 1824103680.0 - 100) == ("a", "max-age", "100")
    assert cookie_lifetime(header, None) == ("a", "expires", "1824103680")
    assert cookie_lifetime("a=1; Max-Age=junk; Expires=junk", None) == ("a", "session", "")
    assert cookie_lifetime("novalue", None) is None
    flow = _flow(request_start=1824103680.0 - 60, response_headers=(("Set-Cookie", header),))
    assert _kinds(signals(flow, Decoded()))["cookie"][0].value == "60"


def test_cross_host_redirects_are_kept_same_host_ones_are_not() -> None:
    cross = _flow(
        "https://ib.adnxs.com/getuid",
        status=302,
        response_headers=(("Location", "https://pixel.rubiconproject.com/x?uid=1"),),
    )
    same = _flow(
        "http://www.school.example/",
        status=301,
        response_headers=(("Location", "https://www.school.example/"),),
    )
    assert [kind_of(s) for s in signals(cross, Decoded())] == ["redirect"]
    assert signals(same, Decoded()) == ()


def test_outdated_tls_only() -> None:
    assert [kind_of(s) for s in signals(_flow(tls_version="TLSv1.1"), Decoded())] == ["tls"]
    assert signals(_flow(tls_version="TLSv1.3"), Decoded()) == ()


def test_openrtb_marker_once() -> None:
    fields = [_f(f"body:$.imp[{i}].id", "id", str(i)) for i in range(5)]
    sigs = signals(_flow(), Decoded(fields))
    assert [(kind_of(s), s.location) for s in sigs] == [("openrtb", "body:$.imp")]


def test_caps_per_kind_and_value_length() -> None:
    fields = [_f(f"body:$.keystrokes[{i}].k", "k", "x") for i in range(1000)]
    fields += [_f("query:gdpr_consent", "gdpr_consent", "C" * 5000)]
    fields += [_f(f"body:$[{i}].event", "event", f"e{i}") for i in range(100)]
    sigs = signals(_flow(), Decoded(fields))
    kinds = _kinds(sigs)
    assert len(kinds["form"]) == KIND_CAPS["form"]
    assert len(kinds["event"]) == KIND_CAPS["event"]
    assert len(kinds["consent"][0].value) == MAX_VALUE  # the consent flag is not crowded out
    assert len(sigs) <= MAX_SIGNALS


def test_duplicates_are_kept_once() -> None:
    fields = [_f("query:tfcd", "tfcd", "1")] * 3
    assert len(signals(_flow(), Decoded(fields))) == 1


def test_flag_values() -> None:
    assert all(is_set(v) for v in ("1", "true", "TRUE", " yes ", "Y", "on"))
    assert all(is_unset(v) for v in ("0", "false", "No", "n", "off"))
    assert not is_set("G") and not is_unset("G") and not is_set("") and not is_unset("")


def test_with_the_real_decoder() -> None:
    body = json.dumps({"imp": [{"id": "1"}], "regs": {"coppa": 1}, "device": {"ifa": "x"}})
    flow = _flow(
        "https://www.facebook.com/tr?id=1&ev=PageView&ud[em]=abc&udff[fn]=def&tfcd=0",
        method="POST",
        request_headers=(("Referer", "https://school.example/page"),),
        request_body=Body(content=body.encode(), size=len(body)),
    )
    kinds = _kinds(signals(flow, decode_flow(flow)))
    assert {(s.location, s.value) for s in kinds["child"]} == {
        ("query:tfcd", "0"),
        ("body:$.regs.coppa", "1"),
    }
    assert kinds["event"][0].value == "PageView"
    assert kinds["match"][0].location == "query:ud[em]"
    assert kinds["form"][0].location == "query:udff[fn]"
    assert "openrtb" in kinds and "referer" in kinds
