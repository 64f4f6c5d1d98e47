"""Student data found without a persona: value shapes, agreeing keys, and key names alone.

Confidence says how much the evidence supports the element:

- **medium**: a value of the right shape under an agreeing key (a UUID under ``idfa``, a
  date under ``birthDate``, ``Y`` under ``iep_status``, a 64-hex digest under ``ud[em]``), or
  a shape that means one thing wherever it is (an e-mail address, a formatted phone number,
  a MAC address, a JSON Web Token, a lat/lon pair);
- **low**: a key name alone (``first_name``, ``user_id``, ``disability`` with a free value),
  or an IP address under a key that says nothing;
- the seeded persona (``edscan.detect.persona_match``) is the only source of **high**.

Known traps stay quiet: ``lang``/``hl``/``locale`` are the UI locale, not language
information; dates are only birth dates under birth keys (so version strings and build numbers
that look like dates are not); bare 10- or 13-digit numbers are timestamps, not phones; hex
digests are identifiers only under a key that says what was hashed; UUIDs are advertising ids
only under an advertising-id key. Cookies are searched for e-mail addresses and value shapes
under agreeing keys, not for key names alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from edscan.decode.context import Row
from edscan.detect.detection import KEYNAME, LOW, MEDIUM, PATTERN, Detection, parent_location
from edscan.detect.key_handlers import (
    _FP,
    _FP_MIN,
    _HEX_LETTERS,
    _INFO,
    _KEYS,
    _LAT,
    _LON,
    _PAIR,
    _SHAPE_START,
    _Ctx,
    _h_oauth_code,
    _key_info,
    _parentish,
)
from edscan.detect.persona_match import FlowText
from edscan.detect.taxonomy import normalise_key
from edscan.detect.value_shapes import (
    _FILE_TLDS,
    _PLACEHOLDER_MACS,
    COORD,
    COORD_PAIR,
    EMAIL,
    JWT,
    MAC,
    PHONE_INTL,
    PHONE_NANP,
    _ip,
)
from edscan.models import Flow

_STUDENT_TO_PARENT = {
    "st_contact.email": "pg_contact.email",
    "st_contact.phone": "pg_contact.phone",
    "st.name": "pg.name",
}


class PatternDetector:
    """Stateless: ``detect(flow, fields)`` returns what the shapes and key names show."""

    def detect(
        self, flow: Flow, fields: Sequence[Row], text: FlowText | None = None
    ) -> list[Detection]:
        found, gathered, emails = self.detect_parts(flow, fields, text)
        return found + gathered + emails

    def detect_parts(
        self,
        flow: Flow,
        fields: Sequence[Row],
        text: FlowText | None = None,
        only: Sequence[int] | None = None,
    ) -> tuple[list[Detection], list[Detection], list[Detection]]:
        """``detect`` in three parts: what each field's value and key show, in field order;
        what is judged across fields (coordinates, fingerprinting keys); e-mail addresses, in
        field order. ``only`` (ascending field indices) limits which fields are examined;
        ``text`` then holds those fields alone, in that order (``edscan.detect.detector`` leaves out the
        fields whose findings it knows)."""
        out: list[Detection] = []
        ctx = _Ctx(flow, fields, out)
        info_of = _INFO.get
        fp_seen: dict[str, int] = {}
        lat: dict[str, tuple[int, int]] = {}  # parent location -> (field, decimals)
        lon: dict[str, tuple[int, int]] = {}
        for i in range(len(fields)) if only is None else only:
            loc, key, v, _ = fields[i]
            if key:
                info = info_of(key) or _key_info(key)
                entry = info[1]
                if entry is not None:
                    element, handler = entry
                    if element in _STUDENT_TO_PARENT and _parentish(loc):
                        element = _STUDENT_TO_PARENT[element]
                    handler(ctx, i, loc, key, v, element)
                kind = info[2]
                if kind:
                    if kind == _FP:
                        fp_seen.setdefault(info[0], i)
                    elif kind in (_LAT, _LON):
                        m = COORD.match(v.strip())
                        if m:
                            (lat if kind == _LAT else lon)[parent_location(loc)] = (
                                i,
                                len(m.group(1)),
                            )
                    elif kind == _PAIR:
                        self._pair(ctx, i, v)
                    elif ".messages[" in loc and len(v) >= 40:  # _CONTENT
                        ctx.add(i, "work.content", KEYNAME, LOW, "chat message text (AI API shape)")
                if info[3]:
                    continue  # version and build strings are never ids, IPs or phones
            # cheap guards first: most values are short words, numbers, URLs or user agents
            n = len(v)
            if n < 7:
                continue
            c = v[0]
            if (
                n == 17
                or (c == "e" and v.startswith("eyJ"))
                or (c == "B" and v.startswith("Bearer eyJ"))
                or (n <= 45 and (c in _SHAPE_START or (c in _HEX_LETTERS and ":" in v)))
            ) and not v.isdigit():
                self._shapes(ctx, i, loc, key, v)
        per_field = len(out)
        for parent, (i, d1) in lat.items():
            pair = lon.get(parent)
            if pair is not None:
                self._coordinates(ctx, i, fields[i][2], fields[pair[0]][2], max(d1, pair[1]))
            elif d1 >= 3:
                ctx.add(i, "geo.precise", PATTERN, LOW, f"latitude at {d1} decimals, no longitude")
        for parent, (k, d2) in lon.items():
            if parent not in lat and d2 >= 3:
                ctx.add(k, "geo.precise", PATTERN, LOW, f"longitude at {d2} decimals, no latitude")
        if len(fp_seen) >= _FP_MIN:
            first = min(fp_seen.values())
            names = ", ".join(sorted(fp_seen)[:8])
            ctx.add(
                first, "fp.signals", KEYNAME, LOW, f"{len(fp_seen)} fingerprinting keys: {names}"
            )
        across = len(out)
        if text is None:
            text = FlowText(fields if only is None else [fields[i] for i in only])
        self._emails(ctx, text, only)
        return out[:per_field], out[per_field:across], out[across:]

    @staticmethod
    def standalone(key: str) -> bool:
        """Whether a field under ``key`` is judged on its own: no coordinates, fingerprinting
        key or chat message (counted across a flow's fields) and no OAuth code (judged with the
        flow's URL and other keys). What such a field yields depends on its location, key and
        value alone."""
        info = _INFO.get(key) or _key_info(key)
        entry = info[1]
        return not info[2] and (entry is None or entry[1] is not _h_oauth_code)

    @staticmethod
    def _coordinates(ctx: _Ctx, i: int, la: str, lo: str, decimals: int) -> None:
        try:
            x, y = float(la), float(lo)
        except ValueError:
            return
        if not (-90 <= x <= 90 and -180 <= y <= 180) or (x == 0 and y == 0):
            return
        element = "geo.precise" if decimals >= 3 else "geo.coarse"
        ctx.add(i, element, PATTERN, MEDIUM, f"lat/lon at {decimals} decimals")

    def _pair(self, ctx: _Ctx, i: int, value: str) -> None:
        m = COORD_PAIR.match(value)
        if m:
            decimals = max(len(m.group(2)), len(m.group(4)))
            self._coordinates(ctx, i, m.group(1), m.group(3), decimals)

    @staticmethod
    def _shapes(ctx: _Ctx, i: int, loc: str, key: str, v: str) -> None:
        """Values whose shape alone says what they are (whole field values only)."""
        n = len(v)
        if n < 7 or n > 2048:
            return
        c = v[0]
        if n == 17 and MAC.match(v):
            if v.lower().replace("-", ":") not in _PLACEHOLDER_MACS:
                ctx.add(i, "dev.mac", PATTERN, MEDIUM, "MAC address")
            return
        if c == "e" or c == "B":
            if JWT.match(v):
                ctx.add(i, "cred.access_token", PATTERN, MEDIUM, "JSON Web Token")
            return
        if n <= 45 and (c.isdigit() or c == ":" or c in "abcdefABCDEF"):
            ip = _ip(v)
            if ip is not None:
                nk = normalise_key(key) if key else ""
                if _KEYS.get(nk, ("",))[0] != "net.ip":
                    private = ip.is_private and not _documentation(ip)
                    if not private:
                        ctx.add(i, "net.ip", PATTERN, LOW, "IP address (no agreeing key)")
                return
        if n <= 24 and (c == "+" or c == "(" or c.isdigit()):
            s = v.strip()
            if PHONE_INTL.match(s) or PHONE_NANP.match(s):
                digits = sum(ch.isdigit() for ch in s)
                if 10 <= digits <= 15:
                    element = "pg_contact.phone" if _parentish(loc) else "st_contact.phone"
                    ctx.add(i, element, PATTERN, MEDIUM, "phone number")

    @staticmethod
    def _emails(ctx: _Ctx, text: FlowText, only: Sequence[int] | None) -> None:
        """E-mail addresses in ``text`` (the values of fields ``only``, or of all fields)."""
        joined = text.joined
        if "@" not in joined:
            return
        seen: set[tuple[int, str]] = set()
        for m in EMAIL.finditer(joined):
            s = m.start()
            if joined[max(0, s - 2) : s] == "//":
                continue  # URL user info (e.g. a Sentry DSN key), not an address
            if s and joined[s - 1] == "@":
                continue  # a chain of key@value pairs, not an address
            address = m.group()
            labels = address.rsplit("@", 1)[1].split(".")
            if labels[-2].isdigit():
                continue  # "x@0.clicks": a number is not a domain name
            if address.rsplit(".", 1)[1].lower() in _FILE_TLDS:
                continue  # icon@2x.png
            j, offset = text.locate(s)
            i = j if only is None else only[j]
            loc, key, _, _ = ctx.fields[i]
            element = "st_contact.email"
            nk = normalise_key(key) if key else ""
            before = text.values[j][max(0, offset - 24) : offset].lower()  # "parent_email=..."
            if (
                _parentish(loc)
                or _KEYS.get(nk, ("",))[0] == "pg_contact.email"
                or "parent" in before
                or "guardian" in before
            ):
                element = "pg_contact.email"
            if (i, address.lower()) in seen:
                continue
            seen.add((i, address.lower()))
            ctx.out.append(Detection(i, element, PATTERN, MEDIUM, "e-mail address", address))


def _documentation(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Documentation ranges (RFC 5737, 3849): test personas use them; treat as public."""
    nets = (
        ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
        if ip.version == 4
        else ("2001:db8::/32",)
    )
    return any(ip in ipaddress.ip_network(n) for n in nets)
