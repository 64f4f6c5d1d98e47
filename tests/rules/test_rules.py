"""The rules, table-driven: for each rule a minimal capture that triggers it and a near miss that
must not; then escalations, confidence, evidence, fingerprints, wording and the rule table."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from scanbuilder import ScanBuilder

from edscan.cli import cli
from edscan.declared.declaration import Declaration, parse_declaration
from edscan.detect import taxonomy
from edscan.models import Confidence, Finding, ScanResult, Severity
from edscan.recipients import trackers
from edscan.rules import RETIRED, RULES, get_rule, law, run_rules, vocab
from edscan.rules.base import MAX_EVIDENCE

Case = Callable[[], ScanBuilder]

ADS = ("advertising",)
FB = ("facebook.com", "advertising", "social network")


def _meta(b: ScanBuilder) -> ScanBuilder:
    return b.recipient(FB[0], *FB[1:], org="Meta Platforms")


# ------------------------------------------------------------------ one trigger, one near miss


def eds001_hit() -> ScanBuilder:
    b = _meta(ScanBuilder())
    i = b.flow("https://www.facebook.com/tr?id=1&ev=PageView")
    return b.obs(i, "st_contact.email", location="query:ud[em]", detail="sha256 of normalised")


def eds001_miss() -> ScanBuilder:
    b = ScanBuilder()  # the student's e-mail to the app's own API
    i = b.flow("https://api.school.example/v1/login", method="POST", request_bytes=90)
    return b.obs(i, "st_contact.email", location="body:$.email")


def eds002_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("mixpanel.com", "analytics", org="Mixpanel")
    i = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=300)
    return b.obs(i, "si.iep_504", location="body:$.properties.iep")


def eds002_miss() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/students/me", method="POST", request_bytes=300)
    return b.obs(i, "si.iep_504", location="body:$.iep")


def eds003_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("adnxs.com", *ADS, org="Microsoft (Xandr)")
    i = b.flow("https://ib.adnxs.com/ut/v3", method="POST", request_bytes=500)
    return b.obs(i, "dev.gaid", location="body:$.device.ifa")


def eds003_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("mixpanel.com", "analytics")  # not an advertising company
    i = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=300)
    return b.obs(i, "dev.gaid", location="body:$.properties.$android_advertising_id")


def eds004_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("appsflyer.com", "ad-motivated tracking")
    i = b.flow("https://launches.appsflyer.com/api/v6.3/androidevent", method="POST")
    b.obs(i, "dev.gaid", location="body:$.advertiserId")
    return b.obs(i, "dev.android_id", location="body:$.android_id")


def eds004_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("appsflyer.com", "ad-motivated tracking")
    i = b.flow("https://launches.appsflyer.com/api/v6.3/androidevent", method="POST")
    b.obs(i, "dev.gaid", location="body:$.advertiserId")
    return b.obs(i, "dev.idfv", location="body:$.idfv")  # resettable with the vendor's apps


def eds005_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("doubleclick.net", *ADS, org="Google")
    b.flow(
        "https://securepubads.g.doubleclick.net/gampad/ads?tfcd=1",
        signals=[("query:tfcd", "tfcd", "1")],
    )
    b.flow("https://securepubads.g.doubleclick.net/gampad/ads?iu=/1/x")  # flag not passed on
    return b


def eds005_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("doubleclick.net", *ADS, org="Google")
    b.flow(
        "https://securepubads.g.doubleclick.net/gampad/ads?tfcd=1",
        signals=[("query:tfcd", "tfcd", "1")],
    )
    return b


def eds006_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("amplitude.com", "analytics")
    i = b.flow("https://api2.amplitude.com/2/httpapi", method="POST", request_bytes=200)
    return b.obs(i, "geo.precise", location="body:$.events[0].location_lat", detail="4 decimals")


def eds006_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("amplitude.com", "analytics")
    i = b.flow("https://api2.amplitude.com/2/httpapi", method="POST", request_bytes=200)
    return b.obs(i, "geo.coarse", location="body:$.events[0].city_lat", detail="1 decimal")


def eds007_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("scorecardresearch.com", "audience measurement")
    i = b.flow("http://b.scorecardresearch.com/p?c1=2&ns_site=x")
    return b.obs(i, "st.name", location="query:c7>query:name")


def eds007_miss() -> ScanBuilder:
    b = ScanBuilder(first_party=("localhost",))
    i = b.flow("http://localhost:8000/api/login", method="POST", request_bytes=40)  # loopback
    b.obs(i, "st.name", location="body:$.name")
    j = b.flow("https://b.scorecardresearch.com/p?c1=2")  # encrypted
    return b.obs(j, "st.name", location="query:name")


def eds008_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("hotjar.com", "session replay")
    i = b.flow("https://in.hotjar.com/api/v2/client/sites/1/visit-data", method="POST")
    return b.obs(i, "cred.access_token", location="header:referer>fragment:access_token")


def eds008_miss() -> ScanBuilder:
    b = ScanBuilder()  # a bearer token in a header to the app's own API is how logins work
    i = b.flow("https://api.school.example/v1/me")
    return b.obs(i, "cred.access_token", location="header:authorization")


def eds009_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("fullstory.com", "session replay", org="FullStory")
    b.flow("https://rs.fullstory.com/rec/bundle?OrgId=x", method="POST", request_bytes=4000)
    return b


def eds009_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("fullstory.com", "session replay", org="FullStory")
    b.flow("https://edge.fullstory.com/s/fs.js")  # the script loads, nothing is uploaded
    return b


def eds010_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("fullstory.com", "session replay")
    i = b.flow("https://rs.fullstory.com/rec/bundle", method="POST", request_bytes=4000)
    b.obs(i, "work.content", location="body:$.evts[3].text", persona_field="custom.essay")
    j = b.flow("https://api.school.example/essays", method="POST", request_bytes=900)
    return b.obs(j, "work.content", location="body:$.essay", persona_field="custom.essay")


def eds010_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("fullstory.com", "session replay")
    j = b.flow("https://api.school.example/essays", method="POST", request_bytes=900)
    b.obs(j, "work.content", location="body:$.essay", persona_field="custom.essay")
    i = b.flow("https://rs.fullstory.com/rec/bundle", method="POST", request_bytes=4000)
    return b.obs(i, "work.content", location="body:$.evts[3].text", persona_field="custom.essay")


def eds011_hit() -> ScanBuilder:
    b = _meta(ScanBuilder())
    b.flow(
        "https://www.facebook.com/tr/?id=1&ev=PageView", signals=[("query:ev", "ev", "PageView")]
    )
    return b


def eds011_miss() -> ScanBuilder:
    b = _meta(ScanBuilder()).recipient("facebook.net", *FB[1:], org="Meta Platforms")
    b.flow("https://connect.facebook.net/en_US/fbevents.js")  # the script, no event sent
    return b


def eds012_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("rlcdn.com", "identity resolution / data broker", org="LiveRamp")
    b.flow("https://idsync.rlcdn.com/712345.gif?partner_uid=abc")
    return b


def eds012_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("adnxs.com", *ADS)
    b.flow("https://ib.adnxs.com/ut/v3", method="POST", request_bytes=500)  # an ad request
    return b


def eds030_hit() -> ScanBuilder:
    b = (
        ScanBuilder()
        .recipient("doubleclick.net", *ADS, org="Google")
        .recipient("adnxs.com", *ADS, org="Microsoft")
    )
    handed = b.flow("https://cm.g.doubleclick.net/pixel?google_nid=x", status=302)
    received = b.flow("https://ib.adnxs.com/getuid?google_gid=CAESEabc")
    return b.id_link(handed, [received], source="Google", key="google_gid")


def eds030_miss() -> ScanBuilder:
    # a sync endpoint was called (EDS012's business), but no id was seen at a second company
    b = ScanBuilder().recipient("doubleclick.net", *ADS, org="Google")
    b.flow("https://cm.g.doubleclick.net/pixel?google_nid=x", status=302)
    return b


def eds013_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("pubmatic.com", *ADS, org="PubMatic")
    b.flow(
        "https://hbopenbid.pubmatic.com/translator?source=prebid-client",
        method="POST",
        request_bytes=900,
        signals=[("body:$.imp", "imp", "")],
    )
    return b


def eds013_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("doubleclick.net", *ADS, org="Google")
    b.flow("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123/")  # a pixel
    return b


def eds014_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("openai.com", "AI model provider", org="OpenAI")
    i = b.flow("https://api.openai.com/v1/chat/completions", method="POST", request_bytes=2000)
    return b.obs(
        i, "work.content", location="body:$.messages[1].content", persona_field="custom.essay"
    )


def eds014_miss() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/essays", method="POST", request_bytes=2000)
    return b.obs(i, "work.content", location="body:$.essay")


def eds015_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("google-analytics.com", "analytics", org="Google")
    b.flow("https://www.google-analytics.com/g/collect?v=2", method="POST", phase="launch")
    b.flow("https://api.school.example/login", method="POST", phase="login")
    return b


def eds015_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("google-analytics.com", "analytics", org="Google")
    b.flow("https://www.google-analytics.com/g/collect?v=2", method="POST", phase="launch")
    b.flow("https://api.school.example/quiz", method="POST", phase="quiz")  # no gate marked
    return b


def eds016_hit() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/lookup?email=x")
    return b.obs(i, "st_contact.email", location="query:email")


def eds016_miss() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/lookup", method="POST", request_bytes=40)
    return b.obs(i, "st_contact.email", location="body:$.email")


def eds017_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("doubleclick.net", *ADS)
    b.flow(
        "https://googleads.g.doubleclick.net/pagead/id",
        signals=[("set-cookie:IDE", "max-age", str(2 * 365 * 86400))],
    )
    return b


def eds017_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("doubleclick.net", *ADS)
    b.flow(
        "https://googleads.g.doubleclick.net/pagead/id",
        signals=[("set-cookie:test_cookie", "max-age", str(30 * 86400))],
    )
    b.flow(  # a long-lived cookie of the app itself is not a third-party cookie
        "https://www.school.example/",
        signals=[("set-cookie:pref", "max-age", str(2 * 365 * 86400))],
    )
    return b


def eds018_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("fingerprint.com", "fingerprinting", org="FingerprintJS")
    b.flow("https://api.fpjs.io/", method="POST", request_bytes=3000)
    b.recipient("fpjs.io", "fingerprinting", org="FingerprintJS")
    return b


def eds018_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("jsdelivr.net", "CDN / hosting")
    b.flow("https://cdn.jsdelivr.net/npm/fingerprintjs@3/dist/fp.min.js")
    return b


def eds019_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("sentry.io", "error monitoring", org="Sentry")
    i = b.flow("https://o1.ingest.sentry.io/api/1/envelope/", method="POST", request_bytes=800)
    return b.obs(i, "st_contact.email", location="body:$[2].user.email")


def eds019_miss() -> ScanBuilder:
    b = _meta(ScanBuilder())  # the e-mail to Meta is EDS001's, not reported twice
    i = b.flow("https://www.facebook.com/tr?id=1&ev=PageView")
    return b.obs(i, "st_contact.email", location="query:ud[em]")


def eds020_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("segment.io", "analytics")
    i = b.flow("https://api.segment.io/v1/batch", method="POST", request_bytes=700)
    return b.obs(i, "sid.state", location="body:$.batch[0].traits.sasid")


def eds020_miss() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/roster", method="POST", request_bytes=700)
    return b.obs(i, "sid.state", location="body:$.sasid")


def eds021_hit() -> ScanBuilder:
    b = ScanBuilder()
    b.flow("https://legacy.school.example/", signals=[("tls", "version", "TLSv1.1")])
    return b


def eds021_miss() -> ScanBuilder:
    b = ScanBuilder()
    b.flow("https://www.school.example/")
    return b


def eds031_hit() -> ScanBuilder:
    b = ScanBuilder()
    b.tls_check = True  # type: ignore[attr-defined]  # a --tls-check capture
    i = b.flow("https://api.school.example/grades", method="POST", request_bytes=300)
    return b.obs(i, "student.email", location="body:$.email")


def eds031_miss() -> ScanBuilder:
    # the same traffic in an ordinary capture: the CA was trusted, handshakes complete
    b = ScanBuilder()
    i = b.flow("https://api.school.example/grades", method="POST", request_bytes=300)
    return b.obs(i, "student.email", location="body:$.email")


# the declared family runs only with a declaration (--declared): see tests/test_declared.py


def _declare(text: str) -> Declaration:
    return parse_declaration(text, source="vendor.toml")


def eds022_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("heapanalytics.com", "analytics", org="Heap Inc.")
    i = b.flow("https://heapanalytics.com/h", method="POST", request_bytes=200)
    b.obs(i, "st.name", location="body:$.props.student")
    return b.declare(_declare('[[third_party]]\nname = "Amazon Web Services"'))


def eds022_miss() -> ScanBuilder:
    b = eds022_hit()
    return b.declare(_declare('[[third_party]]\nname = "Heap, Inc."'))


def eds023_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("jsdelivr.net", "CDN / hosting", org="Prospect One")
    b.flow("https://cdn.jsdelivr.net/npm/lib.js")
    return b.declare(_declare("third_party = []"))


def eds023_miss() -> ScanBuilder:
    b = eds023_hit()
    return b.declare(_declare('[[third_party]]\ndomains = ["jsdelivr.net"]'))


def eds024_hit() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/profile", method="POST", request_bytes=80)
    b.obs(i, "demo.dob", location="body:$.birthDate")
    return b.declare(_declare('elements = ["st.name"]'))


def eds024_miss() -> ScanBuilder:
    b = eds024_hit()
    return b.declare(_declare('elements = ["Demographics"]'))


# the children family (EDS025-EDS029)

CT = ("header:content-type", "content-type")


def eds025_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("applovin.com", *ADS, org="AppLovin")
    b.setting("child_directed", True)
    i = b.flow("https://ms.applovin.com/1.0/event/launch", method="POST", request_bytes=500)
    return b.obs(i, "dev.idfa", location="body:$.idfa")


def eds025_miss() -> ScanBuilder:
    b = eds025_hit()  # the same disclosure from an app that is not child-directed
    return b.setting("child_directed", False)


def eds026_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("mixpanel.com", "analytics", org="Mixpanel")
    i = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=300)
    return b.obs(i, "dev.install_id", location="body:$.properties.$device_id")


def eds026_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("sentry.io", "error monitoring")  # neither analytics nor ads
    i = b.flow("https://o1.ingest.sentry.io/api/1/envelope/", method="POST", request_bytes=300)
    return b.obs(i, "dev.install_id", location="body:$.contexts.device.id")


def eds027_hit() -> ScanBuilder:
    b = _meta(ScanBuilder()).setting("persona_age_band", "13-17")
    i = b.flow("https://www.facebook.com/tr?id=1&ev=PageView")
    return b.obs(i, "st.name", location="query:ud[fn]", persona_field="student.first_name")


def eds027_miss() -> ScanBuilder:
    b = eds027_hit()  # the same persona, younger: EDS001 covers it, not the teen rule
    return b.setting("persona_age_band", "under-13")


def eds028_hit() -> ScanBuilder:
    b = ScanBuilder().recipient("assemblyai.com", "AI model provider", org="AssemblyAI")
    b.flow(
        "https://api.assemblyai.com/v2/upload",
        method="POST",
        request_bytes=48000,
        signals=[(*CT, "audio/webm")],
    )
    return b


def eds028_miss() -> ScanBuilder:
    b = ScanBuilder().recipient("assemblyai.com", "AI model provider", org="AssemblyAI")
    b.flow(
        "https://api.assemblyai.com/v2/transcript",
        method="POST",
        request_bytes=900,
        signals=[(*CT, "application/json")],
    )
    return b


def eds029_hit() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/v1/reading/session", method="POST", request_bytes=90)
    return b.obs(i, "geo.precise", location="body:$.lat", detail="lat/lon at 6 decimals")


def eds029_miss() -> ScanBuilder:
    b = ScanBuilder()
    i = b.flow("https://api.school.example/v1/reading/session", method="POST", request_bytes=90)
    return b.obs(i, "geo.coarse", location="body:$.city_lat", detail="1 decimal")


CASES: dict[str, tuple[Case, Case]] = {
    name[:6].upper(): (fn, globals()[name[:6] + "_miss"])
    for name, fn in list(globals().items())
    if re.fullmatch(r"eds\d{3}_hit", name)
}


def _rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_every_rule_has_a_case() -> None:
    assert set(CASES) == {r.id for r in RULES}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers(rule_id: str) -> None:
    findings = CASES[rule_id][0]().findings()
    assert rule_id in _rules_of(findings), [f.rule for f in findings]
    for f in findings:
        assert f.evidence, f"{f.rule} has no evidence"
        assert f.occurrences >= 1
        assert f.fingerprint


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_near_miss(rule_id: str) -> None:
    findings = CASES[rule_id][1]().findings()
    assert rule_id not in _rules_of(findings), [f.summary for f in findings if f.rule == rule_id]


def _one(result: ScanResult, rule_id: str) -> Finding:
    hits = [f for f in run_rules(result) if f.rule == rule_id]
    assert len(hits) == 1, hits
    return hits[0]


# ------------------------------------------------------------------ escalations and detail


def test_hashed_email_to_meta_is_critical_and_says_hashing_does_not_anonymise() -> None:
    f = _one(eds001_hit().build(), "EDS001")
    assert f.severity is Severity.CRITICAL
    assert f.recipients == ("facebook.com",)
    assert f.elements == ("st_contact.email",)
    assert "hashed" in f.summary and "Meta Platforms" in f.summary


def test_sensitive_element_is_not_also_reported_as_plain_third_party_data() -> None:
    findings = eds002_hit().findings()
    assert "EDS002" in _rules_of(findings)
    assert "EDS019" not in _rules_of(findings)


def test_device_id_escalates_with_student_identity_at_the_same_company() -> None:
    b = eds003_hit()
    b.obs(0, "sid.local", location="body:$.user.id")
    assert _one(b.build(), "EDS003").severity is Severity.CRITICAL
    assert _one(eds003_hit().build(), "EDS003").severity is Severity.HIGH


def test_device_id_escalates_when_the_app_is_child_directed_and_the_request_is_not_flagged() -> (
    None
):
    b = eds003_hit()
    result = b.build(settings={"child_directed": True})
    assert _one(result, "EDS003").severity is Severity.CRITICAL


def test_resettable_and_hardware_ids_in_different_requests_are_medium_confidence() -> None:
    b = ScanBuilder().recipient("appsflyer.com", "ad-motivated tracking")
    i = b.flow("https://launches.appsflyer.com/a", method="POST")
    j = b.flow("https://launches.appsflyer.com/b", method="POST")
    b.obs(i, "dev.gaid").obs(j, "dev.imei")
    assert _one(b.build(), "EDS004").confidence is Confidence.MEDIUM
    assert _one(eds004_hit().build(), "EDS004").confidence is Confidence.HIGH


def test_child_flag_missing_when_the_app_never_sets_one_is_medium() -> None:
    b = ScanBuilder().recipient("doubleclick.net", *ADS)
    b.flow("https://securepubads.g.doubleclick.net/gampad/ads?iu=/1/x")
    assert _one(b.build(), "EDS005").severity is Severity.MEDIUM
    assert _one(eds005_hit().build(), "EDS005").severity is Severity.HIGH


def test_child_flag_set_but_identifiers_sent_is_contradictory() -> None:
    b = ScanBuilder().recipient("pubmatic.com", *ADS)
    i = b.flow(
        "https://hbopenbid.pubmatic.com/translator",
        method="POST",
        signals=[("body:$.imp", "imp", ""), ("body:$.regs.coppa", "coppa", "1")],
    )
    b.obs(i, "dev.gaid", location="body:$.device.ifa")
    f = _one(b.build(), "EDS005")
    assert f.severity is Severity.HIGH
    assert f.elements == ("dev.gaid",)
    assert "still carried" in f.summary


def test_non_personalised_ads_flag_counts_as_protection() -> None:
    b = ScanBuilder().recipient("doubleclick.net", *ADS)
    b.flow(
        "https://securepubads.g.doubleclick.net/gampad/ads?npa=1",
        signals=[("query:npa", "npa", "1")],
    )
    assert "EDS005" not in _rules_of(b.findings())


def test_precise_location_to_adtech_is_critical() -> None:
    b = ScanBuilder().recipient("adnxs.com", *ADS)
    i = b.flow("https://ib.adnxs.com/openrtb2", method="POST")
    b.obs(i, "geo.precise", location="body:$.device.geo.lat")
    assert _one(b.build(), "EDS006").severity is Severity.CRITICAL
    assert _one(eds006_hit().build(), "EDS006").severity is Severity.HIGH


def test_plaintext_escalates_with_credentials_and_drops_without_student_data() -> None:
    b = ScanBuilder()
    i = b.flow("http://api.school.example/login", method="POST", request_bytes=50)
    b.obs(i, "sid.password", location="body:$.password")
    assert _one(b.build(), "EDS007").severity is Severity.CRITICAL
    b = ScanBuilder()
    b.flow("http://img.school.example/logo.png")
    assert _one(b.build(), "EDS007").severity is Severity.LOW
    b = ScanBuilder()
    b.flow("http://www.school.example/", status=301)  # the upgrade redirect
    assert "EDS007" not in _rules_of(b.findings())


def test_credentials_to_a_third_party_through_the_referer_say_so() -> None:
    f = _one(eds008_hit().build(), "EDS008")
    assert f.severity is Severity.CRITICAL
    assert "Referer" in f.summary


def test_oauth_code_in_a_redirect_url_to_the_app_is_medium() -> None:
    b = ScanBuilder()
    i = b.flow("https://www.school.example/oauth/callback?code=abc&state=xyz")
    b.obs(i, "cred.oauth_code", location="query:code")
    assert _one(b.build(), "EDS008").severity is Severity.MEDIUM
    b = ScanBuilder()
    i = b.flow("https://www.school.example/home?session=abc")
    b.obs(i, "cred.session", location="query:session")
    assert _one(b.build(), "EDS008").severity is Severity.HIGH


def test_credentials_to_the_sign_in_provider_are_not_a_leak() -> None:
    b = ScanBuilder().recipient("clever.com", "SSO / identity", org="Clever")
    i = b.flow("https://clever.com/oauth/tokens", method="POST", request_bytes=200)
    b.obs(i, "cred.oauth_code", location="body:$.code")
    assert "EDS008" not in _rules_of(b.findings())


def test_session_replay_escalates_with_form_data_or_before_login() -> None:
    assert _one(eds009_hit().build(), "EDS009").severity is Severity.HIGH
    b = eds009_hit()
    b.flow(
        "https://rs.fullstory.com/rec/bundle",
        method="POST",
        signals=[("body:$.keystrokes[0]", "k", "")],
    )
    assert _one(b.build(), "EDS009").severity is Severity.CRITICAL
    b = ScanBuilder().recipient("fullstory.com", "session replay")
    b.flow("https://rs.fullstory.com/rec/bundle", method="POST", request_bytes=9, phase="launch")
    b.flow("https://api.school.example/login", method="POST", phase="login")
    assert _one(b.build(), "EDS009").severity is Severity.CRITICAL


def test_replay_payload_on_a_monitoring_vendor_is_a_recording() -> None:
    b = ScanBuilder().recipient("sentry.io", "error monitoring")
    b.flow(
        "https://o1.ingest.sentry.io/api/1/envelope/",
        method="POST",
        request_bytes=900,
        signals=[("body:$[1].type", "type", "replay_recording")],
    )
    assert _one(b.build(), "EDS009").confidence is Confidence.HIGH


def test_form_capture_of_a_password_is_critical() -> None:
    b = ScanBuilder().recipient("hotjar.com", "session replay")
    i = b.flow("https://in.hotjar.com/api/v2/client/sites/1/visit-data", method="POST")
    b.obs(i, "sid.password", location="body:$.k", persona_field="student.password")
    j = b.flow("https://api.school.example/login", method="POST")
    b.obs(j, "sid.password", location="body:$.password", persona_field="student.password")
    assert _one(b.build(), "EDS010").severity is Severity.CRITICAL


def test_form_markers_alone_are_form_capture() -> None:
    b = _meta(ScanBuilder())
    b.flow("https://www.facebook.com/tr?id=1&ev=Lead", signals=[("query:udff[em]", "em", "")])
    f = _one(b.build(), "EDS010")
    assert f.confidence is Confidence.MEDIUM


def test_pixel_with_advanced_matching_is_critical() -> None:
    f = _one(eds001_hit().build(), "EDS011")
    assert f.severity is Severity.CRITICAL
    b = _meta(ScanBuilder())
    b.flow("https://www.facebook.com/tr?id=1&ev=PageView", signals=[("query:ud[em]", "em", "")])
    assert _one(b.build(), "EDS011").severity is Severity.CRITICAL
    assert _one(eds011_hit().build(), "EDS011").severity is Severity.HIGH


def test_cookie_sync_chain_between_ad_companies() -> None:
    b = ScanBuilder().recipient("adnxs.com", *ADS).recipient("rubiconproject.com", *ADS)
    b.flow(
        "https://ib.adnxs.com/getuid?https://pixel.rubiconproject.com/x?uid=$UID",
        status=302,
        signals=[("header:location", "location", "https://pixel.rubiconproject.com/x?uid=1")],
    )
    b.flow("https://pixel.rubiconproject.com/x?uid=1")  # the browser follows the redirect
    findings = [f for f in b.findings() if f.rule == "EDS012"]
    assert len(findings) == 1  # the followed request alone is no sync
    f = findings[0]
    assert f.recipients == ("adnxs.com", "rubiconproject.com")
    assert f.confidence is Confidence.HIGH


def test_ad_request_with_a_device_id_is_high() -> None:
    b = eds013_hit()
    b.obs(0, "dev.gaid", location="body:$.device.ifa")
    assert _one(b.build(), "EDS013").severity is Severity.HIGH
    assert _one(eds013_hit().build(), "EDS013").severity is Severity.MEDIUM


def test_ai_provider_with_sensitive_data_is_high() -> None:
    b = eds014_hit()
    b.obs(0, "si.disability", location="body:$.messages[1].content")
    assert _one(b.build(), "EDS014").severity is Severity.HIGH
    assert _one(eds014_hit().build(), "EDS014").severity is Severity.MEDIUM


def test_ai_provider_without_recognised_data_is_low_confidence() -> None:
    b = ScanBuilder().recipient("openai.com", "AI model provider")
    b.flow("https://api.openai.com/v1/chat/completions", method="POST", request_bytes=500)
    f = _one(b.build(), "EDS014")
    assert f.confidence is Confidence.LOW and not f.elements


def test_before_gate_with_identifiers_to_adtech_is_high() -> None:
    b = _meta(ScanBuilder())
    i = b.flow("https://www.facebook.com/tr?ev=PageView", phase="launch")
    b.obs(i, "dev.install_id", location="query:fbp")
    b.flow("https://api.school.example/login", method="POST", phase="sign-in")
    assert _one(b.build(), "EDS015").severity is Severity.HIGH
    assert _one(eds015_hit().build(), "EDS015").severity is Severity.MEDIUM


def test_student_data_in_a_url_to_a_third_party_is_high() -> None:
    b = ScanBuilder().recipient("google-analytics.com", "analytics")
    i = b.flow("https://www.google-analytics.com/g/collect?dl=x")
    b.obs(i, "st.name", location="query:dl>query:name")
    assert _one(b.build(), "EDS016").severity is Severity.HIGH
    assert _one(eds016_hit().build(), "EDS016").severity is Severity.MEDIUM


def test_long_lived_cookie_from_a_non_adtech_third_party_is_low() -> None:
    b = ScanBuilder().recipient("hotjar.com", "session replay")
    b.flow(
        "https://in.hotjar.com/x", signals=[("set-cookie:_hjSessionUser_1", "max-age", "31536000")]
    )
    f = _one(b.build(), "EDS017")
    assert f.severity is Severity.LOW
    assert "_hjSessionUser_1" in f.summary
    assert _one(eds017_hit().build(), "EDS017").severity is Severity.MEDIUM


def test_tier2_data_to_a_third_party_is_high() -> None:
    b = ScanBuilder().recipient("sentry.io", "error monitoring")
    i = b.flow("https://o1.ingest.sentry.io/api/1/envelope/", method="POST")
    b.obs(i, "tx.grades", location="body:$.extra.grade")
    assert _one(b.build(), "EDS019").severity is Severity.HIGH
    assert _one(eds019_hit().build(), "EDS019").severity is Severity.MEDIUM


# ------------------------------------------------------------------ confidence and evidence


def test_key_name_alone_gives_a_low_confidence_finding() -> None:
    b = ScanBuilder().recipient("mixpanel.com", "analytics")
    i = b.flow("https://api-js.mixpanel.com/track", method="POST")
    b.obs(i, "si.iep_504", location="body:$.iep", confidence=Confidence.LOW)
    assert _one(b.build(), "EDS002").confidence is Confidence.LOW


def test_attribution_without_a_named_list_lowers_confidence() -> None:
    b = ScanBuilder().recipient("facebook.com", *FB[1:], sources=())
    i = b.flow("https://www.facebook.com/tr?ev=PageView")
    b.obs(i, "st_contact.email", location="query:ud[em]")
    assert _one(b.build(), "EDS001").confidence is Confidence.MEDIUM


def test_evidence_is_capped_and_counted() -> None:
    b = _meta(ScanBuilder())
    for _ in range(MAX_EVIDENCE + 15):
        i = b.flow("https://www.facebook.com/tr?ev=PageView")
        b.obs(i, "st_contact.email", location="query:ud[em]")
    f = _one(b.build(), "EDS001")
    assert len(f.evidence) == MAX_EVIDENCE
    assert f.occurrences == MAX_EVIDENCE + 15
    e = f.evidence[0]
    assert (e.flow, e.method, e.location) == (0, "GET", "query:ud[em]")
    assert e.url.startswith("https://www.facebook.com/tr")


# ------------------------------------------------------------------ identity and order


def _all_hits() -> list[Finding]:
    out: list[Finding] = []
    for hit, _ in CASES.values():
        out.extend(hit().findings())
    return out


def test_fingerprints_ignore_flow_indices_and_times() -> None:
    for rule_id, (hit, _) in sorted(CASES.items()):
        plain = hit().build()
        shifted = _shift(plain, 1000)
        a = {f.fingerprint: f.rule for f in run_rules(plain)}
        b = {f.fingerprint: f.rule for f in run_rules(shifted)}
        assert a == b, rule_id


def _shift(result: ScanResult, by: int) -> ScanResult:
    flows = tuple(
        dataclasses.replace(f, index=f.index + by, time=(f.time or 0) + 86400.0)
        for f in result.flows
    )
    obs = tuple(dataclasses.replace(o, flow=o.flow + by) for o in result.observations)
    return dataclasses.replace(result, flows=flows, observations=obs)


def test_fingerprints_differ_between_rules_and_recipients() -> None:
    prints = [f.fingerprint for f in _all_hits()]
    assert len(prints) == len(set(prints))


def test_findings_are_in_a_deterministic_order() -> None:
    b = eds001_hit()
    i = b.flow("http://b.scorecardresearch.com/p")
    b.obs(i, "st.name", location="query:name")
    result = b.build()
    reordered = dataclasses.replace(
        result,
        observations=tuple(reversed(result.observations)),
        recipients=tuple(reversed(result.recipients)),
    )
    first = run_rules(result)
    assert first == run_rules(reordered)
    ranks = [f.severity.rank for f in first]
    assert ranks == sorted(ranks, reverse=True)


# ------------------------------------------------------------------ wording and metadata


def _texts(f: Finding) -> list[str]:
    return [f.title, f.summary, *f.concerns, *f.provisions, *f.questions]


def test_no_finding_or_rule_says_violates() -> None:
    texts = [t for f in _all_hits() for t in _texts(f)]
    texts.append(json.dumps([r.to_dict() for r in RULES]))
    assert texts
    for t in texts:
        assert "violat" not in t.lower(), t


def test_findings_say_may_be_inconsistent_with() -> None:
    for f in _all_hits():
        assert "may be inconsistent with" in f.summary, f.summary
        assert f.summary.startswith("Observed "), f.summary


def test_rule_metadata_is_complete_and_ids_are_never_reused() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert not set(ids) & RETIRED
    for r in RULES:
        assert re.fullmatch(r"EDS\d{3}", r.id)
        assert get_rule(r.id) is r
        assert r.title and r.explanation and r.questions and r.unless
        assert r.concerns and set(r.concerns) <= set(law.CONCERNS), r.id
        assert r.provisions and set(r.provisions) <= set(law.PROVISIONS), r.id
        laws = {law.PROVISIONS[k].law for k in r.provisions}
        assert laws & {"CT", "FERPA", "COPPA", "SOPIPA", "PPRA"}, r.id


def test_vocabularies_match_the_trackers_and_taxonomy() -> None:
    assert set(vocab.USED_CATEGORIES) <= set(trackers.CATEGORIES)
    for e in (
        *vocab.RESETTABLE_AD_IDS,
        *vocab.HARDWARE_IDS,
        vocab.STATE_ID,
        vocab.PASSWORD,
        vocab.PICKUP_LOCATION,
    ):
        assert e in taxonomy.ELEMENTS, e
    cats = {
        *vocab.IDENTITY_CATEGORIES,
        *vocab.CONTACT_CATEGORIES,
        *vocab.CONTENT_CATEGORIES,
        vocab.DEVICE_CATEGORY,
        vocab.CREDENTIAL_CATEGORY,
        vocab.LOCATION_CATEGORY,
        vocab.FINGERPRINT_CATEGORY,
    }
    assert cats <= set(taxonomy.CATEGORIES)
    assert vocab.tier("si.iep_504") == 3 and vocab.tier("atm.ip_cookies") == 0
    assert vocab.is_location("geo.precise") and not vocab.is_location("geo.coarse")
    assert vocab.is_credential("cred.session") and not vocab.is_identity("sid.password")


def test_every_concern_and_law_is_used() -> None:
    used = {c for r in RULES for c in r.concerns}
    # enforcement is about contracts on file and reporting: listed, not observable
    assert set(law.CONCERNS) - used <= {law.ENFORCEMENT}
    assert {law.PROVISIONS[k].law for r in RULES for k in r.provisions} == set(law.LAWS)


# ------------------------------------------------------------------ the command and the README


def test_rules_command_lists_every_rule() -> None:
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    for r in RULES:
        line = next(x for x in result.output.splitlines() if x.startswith(r.id))
        assert r.severity.value in line and r.title in line


def test_rules_command_json() -> None:
    result = CliRunner().invoke(cli, ["rules", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "edscan-rules/1"
    assert [r["id"] for r in doc["rules"]] == [r.id for r in RULES]
    for r in doc["rules"]:
        assert r["concerns"] and r["provisions"] and r["questions"] and r["explanation"]
        assert all(":" in p for p in r["provisions"])


def test_rules_command_writes_to_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    result = CliRunner().invoke(cli, ["rules", "-f", "json", "-o", str(path)])
    assert result.exit_code == 0 and result.output == ""
    assert len(json.loads(path.read_text(encoding="utf-8"))["rules"]) == len(RULES)


def test_manual_rule_table_matches_the_rules() -> None:
    manual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    section = manual.split("<!-- section:rules -->", 1)[1].split("<!-- /section:rules -->", 1)[0]
    for r in RULES:
        assert f"| {r.id} | {r.title} | {r.severity.value} | {r.family} |" in section, r.id


def test_redirects_between_one_company_s_domains_are_no_sync() -> None:
    b = ScanBuilder().recipient("doubleclick.net", *ADS, org="Google LLC")
    b.recipient("google.com", *ADS, org="Google LLC")
    b.flow(
        "https://stats.g.doubleclick.net/r/collect",
        status=302,
        signals=[("header:location", "location", "https://www.google.com/ads/ga-audiences")],
    )
    b.flow("https://www.google.com/ads/ga-audiences")
    assert "EDS012" not in _rules_of(b.findings())


def test_a_vendor_api_key_to_its_own_service_is_not_a_leaked_credential() -> None:
    b = ScanBuilder().recipient("openai.com", "AI model provider")
    i = b.flow("https://api.openai.com/v1/chat/completions", method="POST")
    b.obs(i, "cred.access_token", location="header:authorization", value="sk-app-key")
    j = b.flow("https://api.school.example/me")
    b.obs(j, "cred.access_token", location="header:authorization", value="student-session")
    assert "EDS008" not in _rules_of(b.findings())


def test_the_student_session_token_at_a_third_party_is_a_leak() -> None:
    b = ScanBuilder().recipient("mixpanel.com", "analytics")
    j = b.flow("https://api.school.example/me")
    b.obs(j, "cred.access_token", location="header:authorization", value="student-session")
    i = b.flow("https://api-js.mixpanel.com/track", method="POST")
    b.obs(i, "cred.access_token", location="body:$.properties.auth", value="student-session")
    f = _one(b.build(), "EDS008")
    assert f.severity is Severity.CRITICAL and f.recipients == ("mixpanel.com",)


def test_a_key_name_alone_in_a_vendor_url_is_not_student_data_in_a_url() -> None:
    b = ScanBuilder().recipient("fullstory.com", "session replay")
    i = b.flow("https://rs.fullstory.com/rec/page?UserId=123")
    b.obs(i, "sid.provider", location="query:UserId", confidence=Confidence.LOW)
    assert "EDS016" not in _rules_of(b.findings())


def test_the_app_s_own_ai_key_does_not_make_student_content_sensitive() -> None:
    b = eds014_hit()
    b.obs(0, "cred.access_token", location="header:authorization", value="sk-app-key")
    f = _one(b.build(), "EDS014")
    assert f.severity is Severity.MEDIUM
    assert f.elements == ("work.content",)


def test_student_data_in_a_page_url_inside_a_beacon_body_is_in_a_url() -> None:
    b = ScanBuilder().recipient("tiktok.com", *ADS)
    i = b.flow("https://analytics.tiktok.com/api/v2/pixel", method="POST")
    b.obs(i, "st_contact.email", location="body:$.context.page.url>query:email")
    f = _one(b.build(), "EDS016")
    assert f.severity is Severity.HIGH


def test_an_audio_upload_to_an_ai_provider_is_voice_data_not_unrecognised_content() -> None:
    rules = _rules_of(eds028_hit().findings())
    assert "EDS028" in rules and "EDS014" not in rules
    assert "EDS014" in _rules_of(eds028_miss().findings())  # a JSON body still is content


def test_a_biometric_template_to_a_third_party_is_eds028_whatever_the_body_type() -> None:
    b = ScanBuilder().recipient("proctorly.example", "student monitoring / safety")
    i = b.flow("https://api.proctorly.example/v1/frames", method="POST", request_bytes=900)
    b.obs(i, "bio.biometric", location="body:$.face_embedding")
    f = _one(b.build(), "EDS028")
    assert f.elements == ("bio.biometric",) and f.severity is Severity.HIGH
