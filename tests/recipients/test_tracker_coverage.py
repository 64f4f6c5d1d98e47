"""Tracker coverage with the upstream lists imported, against an independent label: EasyPrivacy.

The labelled tracker domains are the hosts of the real captures in ../shared/corpus (HARs and
.mitm dumps) that an EasyPrivacy host rule (``||host^``) blocks. EasyPrivacy is a filter list,
not one of the attribution sources edscan imports, so it labels without being the answer. With
every upstream list in ../shared/tracker-sources imported, each labelled host should be
attributed to an organisation in a tracking category. The school-site vendors (overlays, call
tracking, surveys, neighbourhood ads, school website platforms) are checked one by one in
``test_trackers.py``; ../shared holds no school-site capture, so this figure is measured on the
real captures there (news sites, ed-tech, mitmproxy's samples). The rate is printed
(``pytest -s``); the issue's target is 0.97.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import shared_path

from edscan.capture.source import open_source
from edscan.errors import EdscanError
from edscan.recipients import update
from edscan.recipients.domains import normalize_host
from edscan.recipients.trackers import is_tracking, load_trackers

TARGET = 0.97  # the aim
FLOOR_NAMED = 1.0
FLOOR_TRACKING = TARGET
_HOST_RULE = re.compile(r"^\|\|([a-z0-9.-]+\.[a-z]{2,})\^(?:\$third-party)?$")


def _easyprivacy_hosts(path: Path) -> frozenset[str]:
    out = set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _HOST_RULE.match(line.strip())
        if m:
            out.add(m.group(1))
    return frozenset(out)


def _blocked(host: str, rules: frozenset[str]) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in rules for i in range(len(parts) - 1))


def _capture_hosts(corpus: Path) -> set[str]:
    hosts: set[str] = set()
    for p in sorted(corpus.rglob("*")):
        if not p.is_file() or p.suffix not in (".har", ".mitm"):
            continue
        try:
            source = open_source(p)
            hosts.update(normalize_host(f.host) for f in source if f.host)
        except EdscanError:  # a sample the importers reject is not this test's subject
            continue
    return hosts


def test_labelled_tracker_domains_are_attributed_with_the_upstream_lists(tmp_path: Path) -> None:
    sources = shared_path("tracker-sources")
    corpus = shared_path("corpus")
    rules = _easyprivacy_hosts(sources / "easyprivacy" / "easyprivacy.txt")
    folders = [
        sources / n
        for n in ("adguard-companiesdb", "exodus", "duckduckgo", "disconnect", "ghostery")
    ]
    update.import_files(tmp_path, folders, accept_noncommercial=True)
    db = load_trackers(tmp_path)
    labelled = sorted(h for h in _capture_hosts(corpus) if _blocked(h, rules))
    named = [h for h in labelled if db.attribute(h).organization]
    tracking = [h for h in named if is_tracking(db.attribute(h))]
    n = len(labelled)
    print(
        f"\ntracker coverage with the upstream lists, {n} EasyPrivacy-labelled hosts in "
        f"../shared/corpus: attributed to an organisation {len(named)}/{n} = {len(named) / n:.3f}, "
        f"in a tracking category {len(tracking)}/{n} = {len(tracking) / n:.3f} (target {TARGET});"
        f" unattributed: {sorted(set(labelled) - set(named))}; attributed, not as tracking: "
        f"{sorted(set(named) - set(tracking))}"
    )
    assert n >= 50
    # floors at the figures measured last (1.000 and 0.973; first written at 0.959 and 0.863);
    # the two hosts left out of a tracking category: Adobe Fonts' licence counter and a Turner
    # domain of undocumented purpose
    assert len(named) / n >= FLOOR_NAMED, sorted(set(labelled) - set(named))
    assert len(tracking) / n >= FLOOR_TRACKING, sorted(set(named) - set(tracking))
