"""What the renderers show in place of captured values.

Redaction is the default for every output format. A ``Redactor`` is built once per rendering
from the result's observations (each carries the value as it was sent) and then applied to every
string a renderer prints that came from the capture: URLs, locations, hostnames, free text.

- Persona values appear as their key: ``‹student.email›``.
- Other detected values appear masked with their data element: ``‹masked st_contact.email›``.
- Credentials, cookies and tokens appear as ``‹secret›``, even with ``reveal=True``: a report
  must never carry the auditor's session, whoever asks.
- URLs: query and fragment values are masked unless clearly harmless (``v=2``, ``lang=en``);
  path segments holding a detected value, or that look like an identifier, are masked.

Known values are matched in many encodings at once (raw, case-folded, URL-encoded once and
twice, HTML and JSON escaped, base64 in three alphabets, hex, MD5/SHA-1/SHA-256/SHA-512) with
one Aho-Corasick automaton, so the cost does not grow with the number of values.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from edscan.models import Detector, Observation, ScanResult

MASK = "‹masked›"
SECRET = "‹secret›"
MIN_SUBSTRING = 4  # shorter values are only masked where they are a whole URL value

_SECRET_LOCATIONS = (
    "header:authorization",
    "header:proxy-authorization",
    "header:cookie",
    "header:set-cookie",
    "header:x-api-key",
    "header:x-auth-token",
    "header:x-csrf-token",
    "header:x-xsrf-token",
    "cookie:",
)
_SECRET_WORDS = ("password", "passwd", "token", "secret", "credential", "oauth", "session", "auth")
_SECRET_KEYS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "authorization",
        "client_secret",
        "code",
        "id_token",
        "jwt",
        "key",
        "pass",
        "passwd",
        "password",
        "pwd",
        "refresh_token",
        "secret",
        "session",
        "session_id",
        "sessionid",
        "sig",
        "signature",
        "state",
        "ticket",
        "token",
        "x-amz-signature",
    }
)
# Keys whose short values are product configuration, never about the student.
_HARMLESS_KEYS = frozenset(
    {
        "_v",
        "av",
        "client",
        "cur",
        "currency",
        "ea",
        "ec",
        "en",
        "event",
        "event_name",
        "ev",
        "fmt",
        "format",
        "gl",
        "hl",
        "lang",
        "lib",
        "lib_ver",
        "locale",
        "os",
        "output",
        "platform",
        "response_type",
        "sdk",
        "sdk_version",
        "t",
        "tid",
        "type",
        "v",
        "ver",
        "version",
    }
)
# Keys whose values are about a person even when short: never shown as harmless.
_PERSONAL_KEY = re.compile(
    r"(?:^|[_.\-\[])(?:dob|yob|age|birth\w*|zip|postal\w*|pin|grade|lat\w*|lon\w*|lng|geo|"
    r"phone|tel|e?mail|name|user\w*|uid|id|sid|student\w*|ssn|address|city|ip|gender|sex)"
    r"(?:$|[_.\-\]])",
    re.IGNORECASE,
)
_HARMLESS_WORDS = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "none", "undefined", "y", "n", ""}
)
_SHORT_NUMBER = re.compile(r"-?\d{1,4}(?:\.\d)?")
_VERSION = re.compile(r"v?\d+\.\d+\.\d+(?:[-.+][A-Za-z0-9]+)*")
_HARMLESS_TOKEN = re.compile(r"[A-Za-z0-9_.:\-]{1,40}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_DIGITS = re.compile(r"\d{5,}")
_LONG_HEX = re.compile(r"[0-9a-fA-F]{16,}")
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_\-.~]{16,}")
_WORDY = re.compile(r"(?:[a-z]{1,16}|\d{1,3})(?:[-_.](?:[a-z]{1,16}|\d{1,3}))*")


def label(name: str) -> str:
    """The printed stand-in for a value: ``‹student.email›``."""
    return f"‹{name}›"


def is_secret(obs: Observation) -> bool:
    """Whether an observation's value is a credential, cookie or token (never revealed)."""
    loc = obs.location.lower()
    if loc.startswith(_SECRET_LOCATIONS):
        return True
    if obs.element.startswith("cred.") or obs.element == "sid.password":
        return True
    names = (obs.element.lower(), (obs.persona_field or "").lower())
    return any(word in name for name in names for word in _SECRET_WORDS)


def value_label(obs: Observation) -> str:
    """The label an observation's value is shown as when redacted."""
    if is_secret(obs):
        return SECRET
    if obs.persona_field:
        return label(obs.persona_field)
    return label(f"masked {obs.element}")


def variants(value: str) -> set[str]:
    """The forms a value may take on the wire, lower-cased (matching ignores case)."""
    from urllib.parse import quote, quote_plus

    out: set[str] = set()
    bases = {value, value.strip(), value.strip().lower()}
    for v in bases:
        if not v:
            continue
        raw = v.encode("utf-8")
        forms = {
            v,
            quote(v, safe=""),
            quote_plus(v),
            quote(quote(v, safe=""), safe=""),
            html.escape(v),
            json.dumps(v)[1:-1],
            raw.hex(),
        }
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            b = enc(raw).decode("ascii")
            forms.update({b, b.rstrip("="), quote(b, safe="")})
        for algo in ("md5", "sha1", "sha256", "sha512"):
            forms.add(hashlib.new(algo, raw).hexdigest())
        out.update(f.lower() for f in forms)
    return out


def plain_variants(value: str) -> set[str]:
    """A value as sent, trimmed and URL-encoded, lower-cased: the forms of an opaque id."""
    from urllib.parse import quote

    return {f.lower() for v in (value, value.strip()) if v for f in (v, quote(v, safe=""))}


# An opaque identifier detected without a persona (a device, install, advertising or sync id)
# is matched in its plain forms only: its hashes and base64 say nothing about anyone, and URL
# masking already hides long hex and tokens. A capture of many such ids (every analytics hit
# with a new one) then costs a few bytes per id to redact, not kilobytes.
_OPAQUE_ID = label("masked dev.")[:-1]


class Redactor:
    """Applies one result's redaction to any string that came from the capture."""

    __slots__ = ("_automaton", "_exact", "reveal")

    def __init__(self, values: Iterable[tuple[str, str, bool]], *, reveal: bool = False) -> None:
        """``values``: (value as sent, label, is secret). With ``reveal``, only secrets mask."""
        import ahocorasick

        self.reveal = reveal
        self._exact: dict[str, str] = {}
        automaton: Any = ahocorasick.Automaton()
        added = 0
        for value, name, secret in values:
            if not value or (reveal and not secret):
                continue
            shown = SECRET if secret else name
            forms = plain_variants(value) if name.startswith(_OPAQUE_ID) else variants(value)
            for form in forms:
                # a secret wins over a label if two values share a form
                if self._exact.get(form) == SECRET:
                    continue
                self._exact[form] = shown
                if len(form) >= MIN_SUBSTRING:
                    automaton.add_word(form, (len(form), shown))
                    added += 1
        if added:
            automaton.make_automaton()
            self._automaton: Any = automaton
        else:
            self._automaton = None

    @classmethod
    def for_result(cls, result: ScanResult, *, reveal: bool = False) -> Redactor:
        seen: dict[str, tuple[str, str, bool]] = {}
        secret: dict[tuple[str, str | None, str], bool] = {}  # a capture repeats few shapes
        from edscan.detect.known_ids import CONTEXT_ELEMENTS

        for obs in result.observations:
            if not obs.value:
                continue
            if obs.element in CONTEXT_ELEMENTS and obs.detector is Detector.PATTERN:
                # an endpoint's context field ("login", "en-us", "1440x900", "0") is not a
                # personal value: masking it everywhere would blank phase names and numbers
                # (a value such a field carries is masked under its own detection)
                continue
            shape = (obs.element, obs.persona_field, obs.location)
            s = secret.get(shape)
            if s is None:
                s = secret[shape] = is_secret(obs)
            known = seen.get(obs.value)
            if known is None:
                seen[obs.value] = (obs.value, SECRET if s else value_label(obs), s)
            elif s and not known[2]:
                seen[obs.value] = (obs.value, SECRET, True)
        return cls(seen.values(), reveal=reveal)

    # ------------------------------------------------------------------ free text

    def text(self, s: str) -> str:
        """``s`` with every known value (in any of its forms) and any token replaced."""
        if not s:
            return s
        s = _JWT.sub(SECRET, s)
        s = _BEARER.sub(lambda m: f"{m.group(1)} {SECRET}", s)
        spans = self._spans(s)
        if not spans:
            return s
        out: list[str] = []
        pos = 0
        for start, stop, shown in spans:
            out.append(s[pos:start])
            out.append(shown)
            pos = stop
        out.append(s[pos:])
        return "".join(out)

    def _spans(self, s: str) -> list[tuple[int, int, str]]:
        """Where known values occur in ``s``: leftmost, then longest, non-overlapping."""
        if self._automaton is None or not s:
            return []
        low = s.lower()
        if len(low) != len(s):  # rare characters whose lower case is longer: fold one by one
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in s)
        found = [
            (end - length + 1, end + 1, shown) for end, (length, shown) in self._automaton.iter(low)
        ]
        found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
        spans: list[tuple[int, int, str]] = []
        pos = 0
        for start, stop, shown in found:
            if start >= pos:
                spans.append((start, stop, shown))
                pos = stop
        return spans

    def _holding(self, *texts: str) -> str | None:
        """A mask naming the known values inside ``texts`` (None when there are none)."""
        names: dict[str, None] = {}
        for t in texts:
            for _, _, shown in self._spans(t):
                names[shown] = None
        if _JWT.search("".join(texts)):
            names[SECRET] = None
        if not names:
            return None
        if SECRET in names:
            return SECRET
        inner = ", ".join(n.strip("‹›") for n in names)
        return f"‹masked, holds {inner}›"

    def value(self, obs: Observation) -> str:
        """An observation's value as it may be printed."""
        if is_secret(obs):
            return SECRET
        if self.reveal:
            return obs.value
        return value_label(obs)

    def phase(self, phase: str) -> str:
        """A phase label: HAR phases are page titles, often URLs, which are redacted as URLs."""
        if phase.lower().startswith(("http://", "https://")):
            return self.url(phase)
        return self.text(phase)

    # ------------------------------------------------------------------ URLs

    def url(self, url: str) -> str:
        """A URL with its personal and secret parts replaced (see the module docstring)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return self.text(url) if self.reveal else MASK
        if not parts.scheme and not parts.netloc:
            return self._path(url)
        host = self.text(parts.hostname or "")
        netloc = host if ":" not in host else f"[{host}]"
        if port is not None:
            netloc += f":{port}"
        if parts.username is not None or parts.password is not None:
            netloc = f"{SECRET}@{netloc}"
        out = f"{parts.scheme}://{netloc}" if parts.scheme else f"//{netloc}"
        out += self._path(parts.path)
        if parts.query:
            out += "?" + self._query(parts.query)
        if parts.fragment:
            frag = parts.fragment
            out += "#" + (self._query(frag) if "=" in frag else self._segment(frag))
        return out

    def _path(self, path: str) -> str:
        return "/".join(self._segment(seg) for seg in path.split("/"))

    def _segment(self, seg: str) -> str:
        if not seg:
            return seg
        decoded = unquote(seg)
        known = self._exact.get(decoded.lower()) or self._exact.get(seg.lower())
        if known:
            return known
        if self.reveal:
            return self.text(seg)
        holding = self._holding(seg, decoded)
        if holding:
            return holding
        return MASK if _looks_opaque(decoded) else seg

    def _query(self, query: str) -> str:
        items = []
        for item in query.split("&"):
            key, eq, value = item.partition("=")
            shown_key = self.text(key)
            if not eq:
                items.append(self._bare(key))
                continue
            items.append(f"{shown_key}={self._query_value(unquote_plus(key), value)}")
        return "&".join(items)

    def _bare(self, token: str) -> str:
        known = self._exact.get(unquote_plus(token).lower()) or self._exact.get(token.lower())
        if known:
            return known
        if self.reveal:
            return self.text(token)
        return token if _harmless("", unquote_plus(token)) else MASK

    def _query_value(self, key: str, value: str) -> str:
        if key.lower() in _SECRET_KEYS or any(w in key.lower() for w in ("token", "passw")):
            return SECRET if value else value
        decoded = unquote_plus(value)
        known = self._exact.get(decoded.lower()) or self._exact.get(value.lower())
        if known:
            return known
        if decoded.lower().startswith(("http://", "https://", "ws://", "wss://")):
            return self.url(decoded)  # a URL inside a URL (Referer, redirect): same rules
        if self.reveal:
            return self.text(value)
        holding = self._holding(value, decoded)
        if holding:
            return holding
        return value if _harmless(key, decoded) else MASK


def _harmless(key: str, value: str) -> bool:
    """Whether a URL value is clearly not about anyone (``v=2``, ``lang=en``, ``debug=true``)."""
    if key and _PERSONAL_KEY.search(key):
        return False
    low = value.lower()
    if low in _HARMLESS_WORDS:
        return True
    if _SHORT_NUMBER.fullmatch(value) or _VERSION.fullmatch(value):
        return True
    return key.lower() in _HARMLESS_KEYS and bool(_HARMLESS_TOKEN.fullmatch(value))


def _looks_opaque(seg: str) -> bool:
    """A path segment that looks like an identifier or token rather than a route word."""
    if "@" in seg or _LONG_DIGITS.search(seg) or _UUID.search(seg) or _LONG_HEX.search(seg):
        return True
    if _WORDY.fullmatch(seg):
        return False
    if len(seg) >= 16 and _OPAQUE.fullmatch(seg):
        has_digit = any(c.isdigit() for c in seg)
        has_alpha = any(c.isalpha() for c in seg)
        mixed_case = any(c.islower() for c in seg) and any(c.isupper() for c in seg)
        return (has_digit and has_alpha) or mixed_case or "=" in seg
    return False
