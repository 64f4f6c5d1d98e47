"""Attribution accuracy on real captures, measured against the DuckDuckGo and Disconnect lists.

Every host in the real HARs (../shared/corpus: har-tools and edtech) that DuckDuckGo's TDS or
Disconnect's services list names as a tracker must get the same organisation from edscan's
bundled lists alone (no downloads), where "the same" allows for legal-form suffixes
("Inc.", "LLC" ...), for either side naming the parent company, and for the documented
acquisitions and renames in EQUIVALENT. The negative controls (Wikipedia, humanssuck.net)
must show no third-party recipient at all. The agreement rate is printed (`pytest -s`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import shared_path

from edscan.capture.source import open_source
from edscan.models import FlowSummary, Party
from edscan.recipients.domains import normalize_host
from edscan.recipients.first_party import FirstParty
from edscan.recipients.recipient import build_recipients
from edscan.recipients.trackers import TrackerDB, is_tracking, load_trackers

HARS = [
    "har-tools/cnn-chrome.har",
    "har-tools/www.nytimes.com.har",
    "har-tools/www-theverge-com.har",
    "har-tools/en.wikipedia.org.spdy-wpt.har",
    "har-tools/humanssuck.net.har",
    "edtech/teacher-login-www.classdojo.com.har",
]

# Names that denote the same owner: documented renames and acquisitions where one list still
# uses the old name. Each set is one company.
EQUIVALENT = [
    {"facebook", "meta", "metaplatforms"},  # Facebook, Inc. renamed Meta Platforms, Inc. (2021)
    {"twitter", "xcorp"},  # Twitter, Inc. merged into X Corp. (2023)
    {"warnermedia", "warnerbrosdiscovery"},  # WarnerMedia + Discovery (2022)
    {"outbrain", "teads"},  # Outbrain bought Teads and took its name (2025)
    {"smartadserver", "equativ"},  # Smart AdServer renamed Equativ (2022)
    {"bounceexchange", "wunderkind"},  # Bounce Exchange renamed Wunderkind (2021)
    {"perion", "perionnetwork"},  # Perion Network Ltd., by its short name
    {"momentive", "momentiveglobal", "stg"},  # Momentive Global, taken private by STG (2023)
]

# Legal-form words dropped before comparing ("Index Exchange, Inc." ~ "IndexExchange").
_LEGAL = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "sa", "sas", "gmbh", "ag", "plc", "bv", "nv", "ab", "as", "aps", "pte", "pbc", "se",
    "holdings", "holding", "technologies", "international", "the", "com",
}  # fmt: skip


def norm(name: str) -> str:
    # "S.A.S" and "L.L.C." arrive as single letters: join runs of them into one word first
    words = re.sub(r"\b(\w)\W(?=\w\b)", r"\1", name.casefold())
    return "".join(w for w in re.sub(r"[^0-9a-z]+", " ", words).split() if w not in _LEGAL)


def same(a: str, b: str) -> bool:
    x, y = norm(a), norm(b)
    return x == y or any(x in group and y in group for group in EQUIVALENT)


def _longest(host: str, keys: dict[str, object]) -> str | None:
    labels = host.split(".")
    for i in range(len(labels)):
        s = ".".join(labels[i:])
        if s in keys:
            return s
    return None


@pytest.fixture(scope="module")
def db() -> TrackerDB:
    import tempfile

    with tempfile.TemporaryDirectory() as empty:
        return load_trackers(Path(empty))  # the bundled lists alone


def _flows(path: Path) -> list[FlowSummary]:
    out = []
    for f in open_source(path):
        out.append(
            FlowSummary(
                index=f.index,
                host=f.host,
                method=f.method,
                url=f.url,
                scheme=f.scheme,
                status=f.status,
                phase=f.phase,
                time=f.request_start,
                request_bytes=0,
                response_bytes=0,
                tls_intercepted=f.tls_intercepted,
                error=f.error,
            )
        )
    return out


def test_agreement_with_duckduckgo_and_disconnect(db: TrackerDB) -> None:
    src = shared_path("tracker-sources")
    ddg = json.loads((src / "duckduckgo" / "extension-tds.json").read_bytes())["trackers"]
    services = json.loads((src / "disconnect" / "services.json").read_bytes())
    disconnect: dict[str, str] = {}
    for entries in services["categories"].values():
        for entry in entries:
            for org, detail in entry.items():
                for value in detail.values():
                    if isinstance(value, list):
                        disconnect.update({d: org for d in value if "/" not in d})
    hosts = sorted(
        {normalize_host(f.host) for h in HARS for f in _flows(shared_path("corpus", h)) if f.host}
    )
    compared = agreed = strict = 0
    disagreements = []
    for host in hosts:
        opinions = []  # (list, key, names it gives)
        if key := _longest(host, ddg):
            owner = ddg[key]["owner"]
            opinions.append(("DuckDuckGo", key, {owner.get("name"), owner.get("ownedBy")}))
        if key := _longest(host, disconnect):
            opinions.append(("Disconnect", key, {disconnect[key]}))
        # a list that names the domain itself as the owner states no ownership to compare
        opinions = [(li, k, {n for n in ns if n and norm(n) != norm(k)}) for li, k, ns in opinions]
        opinions = [o for o in opinions if o[2]]
        if not opinions:
            continue
        a = db.attribute(host)
        ours = {n for n in (a.organization, a.parent) if n}
        compared += 1
        bad = [
            f"{li} says {sorted(ns)}"
            for li, _k, ns in opinions
            if not any(same(x, y) for x in ours for y in ns)
        ]
        strict += all(any(norm(x) == norm(y) for x in ours for y in ns) for _l, _k, ns in opinions)
        if bad:
            disagreements.append(
                f"{host}: edscan says {sorted(ours) or 'nothing'}; " + "; ".join(bad)
            )
        else:
            agreed += 1
    rate = agreed / compared
    print(
        f"\nattribution agreement with DuckDuckGo/Disconnect on {compared} tracker hosts: "
        f"{agreed}/{compared} = {rate:.1%} ({strict} by name alone, "
        f"{agreed - strict} through a documented rename or acquisition)"
    )
    assert compared > 150
    assert not disagreements, "\n".join(disagreements)


@pytest.mark.parametrize(
    ("har", "first_party"),
    [
        ("har-tools/en.wikipedia.org.spdy-wpt.har", ("wikipedia.org", "wikimedia.org")),
        ("har-tools/humanssuck.net.har", ("humanssuck.net",)),
    ],
)
def test_negative_controls_show_no_third_party(
    db: TrackerDB, har: str, first_party: tuple[str, ...]
) -> None:
    flows = _flows(shared_path("corpus", har))
    fp = FirstParty.resolve([], flows, db)
    assert fp.inferred and fp.domains == first_party
    recipients = build_recipients(flows, db, fp)
    assert recipients and all(r.party is Party.FIRST for r in recipients), recipients


def test_edtech_capture_names_the_pixels(db: TrackerDB) -> None:
    flows = _flows(shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har"))
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("classdojo.com",)
    by = {r.domain: r for r in build_recipients(flows, db, fp)}
    assert by["classdojo.com"].party is Party.FIRST
    assert set(by["classdojo.com"].hosts) >= {"www.classdojo.com", "api.classdojo.com"}
    third = {d: r for d, r in by.items() if r.party is Party.THIRD}
    assert set(third) == {"facebook.com", "tiktok.com"}
    assert "Meta Pixel" in third["facebook.com"].sdk
    assert third["tiktok.com"].sdk == ("TikTok Pixel",)
    assert all(is_tracking_recipient(r) for r in third.values())


def is_tracking_recipient(r: object) -> bool:
    from edscan.models import Attribution

    cats = r.categories  # type: ignore[attr-defined]
    return is_tracking(Attribution(domain="", categories=cats))


def test_tracker_heavy_pages_have_few_unattributed_third_parties(db: TrackerDB) -> None:
    for har in ("har-tools/cnn-chrome.har", "har-tools/www.nytimes.com.har"):
        flows = _flows(shared_path("corpus", har))
        fp = FirstParty.resolve([], flows, db)
        third = [r for r in build_recipients(flows, db, fp) if r.party is Party.THIRD]
        unknown = [r.domain for r in third if r.organization is None]
        assert len(unknown) <= len(third) // 10, (har, unknown)
