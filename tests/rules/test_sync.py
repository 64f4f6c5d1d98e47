"""EDS030: an identifier shared between companies, with both ends named."""

from __future__ import annotations

from scanbuilder import ScanBuilder

from edscan.models import Finding, Severity
from edscan.rules import run_rules

ADS = ("advertising", "ad-motivated tracking")


def _eds030(b: ScanBuilder) -> list[Finding]:
    return [f for f in run_rules(b.build()) if f.rule == "EDS030"]


def test_both_ends_are_named_and_ad_companies_make_it_critical() -> None:
    b = (
        ScanBuilder()
        .recipient("doubleclick.net", *ADS, org="Google")
        .recipient("adnxs.com", *ADS, org="Microsoft")
    )
    b.recipient("krxd.net", "identity resolution / data broker", org="Salesforce")
    handed = b.flow("https://cm.g.doubleclick.net/pixel", status=302)
    one = b.flow("https://ib.adnxs.com/getuid?google_gid=x")
    two = b.flow("https://beacon.krxd.net/usermatch.gif?google_gid=x")
    b.id_link(handed, [one, two], source="Google", key="google_gid")
    [f] = [f for f in run_rules(b.build()) if f.rule == "EDS030"]
    assert f.severity is Severity.CRITICAL
    assert set(f.recipients) == {"doubleclick.net", "adnxs.com", "krxd.net"}
    assert "handed out by Google (doubleclick.net" in f.summary
    assert "Microsoft (adnxs.com" in f.summary and "Salesforce (krxd.net" in f.summary
    assert "google_gid" in f.summary and "may be inconsistent with" in f.summary
    assert {e.flow for e in f.evidence} == {handed, one, two}
    assert f.elements == ("dev.sync_id",)


def test_an_id_the_app_keeps_is_medium_and_a_non_ad_receiver_is_high() -> None:
    b = ScanBuilder().recipient("segment.io", "analytics", org="Segment")
    b.recipient("mixpanel.com", "analytics", org="Mixpanel")
    a = b.flow("https://api.segment.io/v1/t")
    m = b.flow("https://api-js.mixpanel.com/track")
    b.id_link(a, [m], how="same value", source="Segment", key="distinct_id")
    [f] = _eds030(b)
    assert f.severity is Severity.HIGH
    assert "sent as the same value to Segment" in f.summary

    app = ScanBuilder().recipient("facebook.com", *ADS, org="Meta")
    own = app.flow("https://app.example.org/api")
    fb = app.flow("https://www.facebook.com/tr?fbp=x")
    app.first_party = ("example.org",)
    app.id_link(own, [fb], how="same value", source="Example", key="fbp", first_party=True)
    [g] = _eds030(app)
    assert g.severity is Severity.MEDIUM
    assert "the app (Example)" in g.summary
