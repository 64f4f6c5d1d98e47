from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import pytest
from resultfactory import PERSONA, persona_forms, realistic_result

from edscan.models import Confidence, Detector, Observation
from edscan.report.redact import MASK, SECRET, Redactor, is_secret, value_label, variants

EMAIL = "qz-7f3a@district-test.example"


def _obs(value: str, **kw: object) -> Observation:
    base: dict[str, object] = {
        "flow": 0,
        "host": "t.example",
        "element": "st_contact.email",
        "detector": Detector.PERSONA,
        "confidence": Confidence.HIGH,
        "location": "query:e",
        "persona_field": "student.email",
        "value": value,
    }
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


def _red(*values: tuple[str, str, bool], reveal: bool = False) -> Redactor:
    return Redactor(values, reveal=reveal)


def test_variants_cover_the_wire_forms() -> None:
    v = variants(EMAIL)
    assert EMAIL in v
    assert "qz-7f3a%40district-test.example" in v
    assert base64.b64encode(EMAIL.encode()).decode().lower() in v
    assert hashlib.sha256(EMAIL.encode()).hexdigest() in v
    assert hashlib.md5(EMAIL.encode()).hexdigest() in v
    assert all(f == f.lower() for f in v)


@pytest.mark.parametrize(
    "form",
    sorted(persona_forms(EMAIL)),
)
def test_text_replaces_every_form_of_a_value(form: str) -> None:
    red = _red((EMAIL, "‹student.email›", False))
    out = red.text(f"before {form} after")
    assert out == "before ‹student.email› after"


def test_text_ignores_case_and_keeps_unknown_text() -> None:
    red = _red((EMAIL, "‹student.email›", False))
    assert red.text(f"x={EMAIL.upper()};y=keep") == "x=‹student.email›;y=keep"
    assert red.text("nothing here") == "nothing here"


def test_text_masks_tokens_it_was_not_told_about() -> None:
    red = _red()
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
    assert red.text(f"got {jwt} here") == f"got {SECRET} here"
    assert red.text("Authorization: Bearer abcdef123456789") == f"Authorization: Bearer {SECRET}"


def test_url_masks_query_values_unless_clearly_harmless() -> None:
    red = _red((EMAIL, "‹student.email›", False))
    url = f"https://t.example/p?v=2&lang=en&debug=true&e={EMAIL}&q=maya+smith&n=40.7128"
    out = red.url(url)
    assert out == (
        f"https://t.example/p?v=2&lang=en&debug=true&e=‹student.email›&q={MASK}&n={MASK}"
    )


def test_url_masks_personal_keys_even_with_short_values() -> None:
    red = _red()
    assert red.url("https://t.example/?age=9&zip=06103&grade=5") == (
        f"https://t.example/?age={MASK}&zip={MASK}&grade={MASK}"
    )


def test_url_secret_keys_userinfo_and_fragments() -> None:
    red = _red(reveal=True)
    out = red.url("https://bob:hunter2@t.example/cb?code=abc123&state=xyz#access_token=tok999")
    assert "hunter2" not in out and "abc123" not in out and "tok999" not in out
    assert (
        out == f"https://{SECRET}@t.example/cb?code={SECRET}&state={SECRET}#access_token={SECRET}"
    )


def test_url_path_segments_holding_values_or_ids() -> None:
    red = _red((EMAIL, "‹student.email›", False), ("88A7Q31", "‹student.student_id›", False))
    out = red.url(
        "https://t.example/v1/users/qz-7f3a%40district-test.example/students/88A7Q31/"
        "d2f1c9e0-8a5b-4c1e-9f3a-2b7d6e5c4a10/12345678/events"
    )
    assert out == (
        f"https://t.example/v1/users/‹student.email›/students/‹student.student_id›/{MASK}/{MASK}/events"
    )


def test_url_value_holding_a_known_value_is_masked_whole() -> None:
    red = _red(("Quillon Zarbetta", "‹student.full_name›", False))
    out = red.url("https://t.example/?dt=Quillon%20Zarbetta%27s%20essay%20draft")
    assert out == "https://t.example/?dt=‹masked, holds student.full_name›"


def test_url_inside_url_gets_the_same_rules() -> None:
    red = _red(("88A7Q31", "‹student.student_id›", False))
    inner = "https%3A%2F%2Fapp.example%2Fq%3Fstudent%3D88A7Q31%26tok%3Dzzz"
    out = red.url(f"https://ads.example/c?ref={inner}")
    assert (
        out
        == f"https://ads.example/c?ref=https://app.example/q?student=‹student.student_id›&tok={MASK}"
    )


def test_reveal_shows_values_but_never_secrets() -> None:
    obs = _obs(EMAIL)
    secret = _obs("s3cr3t-pass", element="sid.password", persona_field="student.password")
    red = Redactor.for_result(replace(realistic_result(), observations=(obs, secret)), reveal=True)
    assert red.value(obs) == EMAIL
    assert red.value(secret) == SECRET
    assert red.text("pw=s3cr3t-pass") == f"pw={SECRET}"
    assert red.url(f"https://t.example/?e={EMAIL}") == f"https://t.example/?e={EMAIL}"


def test_labels_and_secrets() -> None:
    assert value_label(_obs(EMAIL)) == "‹student.email›"
    assert value_label(_obs("x@y.z", persona_field=None, detector=Detector.PATTERN)) == (
        "‹masked st_contact.email›"
    )
    assert is_secret(_obs("abc", element="cred.oauth_code", persona_field=None))
    assert is_secret(_obs("abc", location="header:Authorization"))
    assert is_secret(_obs("abc", location="cookie:session"))
    assert not is_secret(_obs(EMAIL))


def test_short_values_only_where_they_are_a_whole_value() -> None:
    red = _red(("5", "‹student.grade›", False))
    assert red.text("grade 5 of 15") == "grade 5 of 15"
    assert red.url("https://t.example/?g=5&h=15") == "https://t.example/?g=‹student.grade›&h=15"


def test_redactor_of_a_realistic_result_covers_every_persona_value_sent() -> None:
    result = realistic_result()
    red = Redactor.for_result(result)
    for f in result.flows:
        shown = red.url(f.url).lower()
        for key, value in PERSONA.items():
            for form in persona_forms(value):
                assert form.lower() not in shown, (key, form, shown)


def test_phase_that_is_a_page_url_is_redacted_as_a_url() -> None:
    red = _red()
    shown = red.phase("https://app.example/class/5f2c9a71b3e04d6a?session=Zk81pQ7vXw2")
    assert "Zk81pQ7vXw2" not in shown and "5f2c9a71b3e04d6a" not in shown
    assert shown.startswith("https://app.example/")
    assert red.phase("quiz") == "quiz"


def test_har_page_phases_do_not_leak_into_outputs() -> None:
    from edscan import report

    secret_page = "https://app.example/home?access_token=Zk81pQ7vXw2secret"
    result = realistic_result()
    result = replace(
        result,
        capture=replace(result.capture, phases=(secret_page,)),
        flows=tuple(replace(f, phase=secret_page) for f in result.flows),
    )
    for fmt in ("html", "json", "text"):
        assert "Zk81pQ7vXw2secret" not in report.render(result, fmt), fmt


def test_an_opaque_id_is_masked_in_its_plain_forms_only() -> None:
    """A device or sync id found without a persona: masked as sent and URL-encoded; its hashes
    and base64 are not looked for (they say nothing about anyone, and URL masking hides long
    hex), so a capture with a new id in every hit stays small to redact."""
    from urllib.parse import quote

    device = "a1b2c3d4|e5f6g7h8:1717000000"
    found = _obs(device, element="dev.install_id", detector=Detector.PATTERN, persona_field=None)
    ids = Redactor.for_result(replace(realistic_result(), observations=(found,)))
    assert ids.text(f"cid={device}") == "cid=‹masked dev.install_id›"
    assert ids.text(f"cid={quote(device, safe='')}") == "cid=‹masked dev.install_id›"
    sha = hashlib.sha256(device.encode()).hexdigest()
    assert ids.text(f"h {sha}") == f"h {sha}"
    # contact data found by its shape (and any persona value) is looked for in every form
    mail = _obs(EMAIL, detector=Detector.PATTERN, persona_field=None)
    email = Redactor.for_result(replace(realistic_result(), observations=(mail,)))
    assert email.text(hashlib.sha256(EMAIL.encode()).hexdigest()) == "‹masked st_contact.email›"
