"""The report's identifier section: which identifiers reached which companies, and the ID syncs."""

from __future__ import annotations

import dataclasses

from bs4 import BeautifulSoup
from scanbuilder import ScanBuilder

from edscan.models import Confidence, Detector
from edscan.report import html
from edscan.report.json import document

ADS = ("advertising", "ad-motivated tracking")
SECRET = "CAESEsecretvalue0123456789"


def _result() -> ScanBuilder:
    b = (
        ScanBuilder()
        .recipient("doubleclick.net", *ADS, org="Google")
        .recipient("adnxs.com", *ADS, org="Microsoft")
    )
    handed = b.flow("https://cm.g.doubleclick.net/pixel", status=302)
    got = b.flow("https://ib.adnxs.com/getuid")
    b.obs(
        got,
        "dev.install_id",
        location="cookie:uuid2",
        detector=Detector.PATTERN,
        confidence=Confidence.HIGH,
        detail="Xandr (AppNexus) browser id (OpenRTB and Prebid bid requests)",
        value=SECRET,
    )
    return b.id_link(handed, [got], source="Google", key="google_gid")


def test_the_section_names_each_identifier_and_sync_without_the_values() -> None:
    page = html.render(_result().build())
    soup = BeautifulSoup(page, "html.parser")
    section = soup.find(id="identifiers")
    assert section is not None
    rows = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in section.select("table.identifiers tbody tr")
    ]
    assert rows == [
        [
            "Xandr (AppNexus) browser id (OpenRTB and Prebid bid requests)",
            "SDK install, device or browser identifier",
            "ib.adnxs.com",
            "high",
            "1",
        ]
    ]
    sync = [td.get_text(" ", strip=True) for td in section.select("table.id-syncs tbody td")]
    assert sync[:4] == ["Google (doubleclick.net)", "adnxs.com", "redirect", "google_gid"]
    assert SECRET not in page


def test_no_identifiers_no_section_and_the_json_lists_syncs_by_digest() -> None:
    b = ScanBuilder()
    b.flow("https://app.example.org/")
    assert BeautifulSoup(html.render(b.build()), "html.parser").find(id="identifiers") is None
    doc = document(_result().build())
    [link] = doc["id_syncs"]
    assert (link["source_domain"], link["receivers"], link["how"]) == (
        "doubleclick.net",
        ["adnxs.com"],
        "redirect",
    )
    assert SECRET not in str(doc) and "id-value-0123456789" not in str(doc)


def test_the_text_summary_counts_the_syncs_and_says_how_sure_the_first_party_is() -> None:
    from edscan.recipients.basis import FirstPartyBasis
    from edscan.report import text

    result = _result().build()
    out = text.render(result)
    assert "ID sync: 1 identifier shared between 2 companies" in out
    inferred = dataclasses.replace(
        result,
        first_party_inferred=True,
        first_party_basis=FirstPartyBasis(
            method="inferred",
            confidence=Confidence.MEDIUM,
            reason="inferred from the capture (3 Referer/Origin headers)",
        ),
    )
    assert "medium confidence: inferred from the capture (3 Referer" in text.render(inferred)
