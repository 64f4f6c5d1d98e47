"""Where in a request a value sat, read from an observation's location.

Locations are written by ``edscan.decode.flow``: a base (``query:uid``, ``path[1]``, ``fragment``,
``header:x-user``, ``cookie:_ga``, ``body:$.a.b``, ``ws[3]``) and, for each value that was
itself decoded, a ``>`` step (``header:referer>query:email``, ``query:dl>query:code``).
"""

from __future__ import annotations

URL_KINDS = frozenset({"query", "path", "fragment", "referer", "url"})


def location_kind(location: str) -> str:
    """Where in the request a value sat: query, path, fragment, referer, header, cookie, body …

    A value inside a Referer (or another URL-valued header) is ``referer`` wherever it sat in
    that URL, because the point is that the page URL leaked.
    """
    low = location.lower()
    if "referer" in low or "referrer" in low:
        return "referer"
    head = low.split(":", 1)[0].split("[", 1)[0].split(".", 1)[0]
    return head


def location_key(location: str) -> str:
    """The innermost key of a location (``query:code`` → ``code``)."""
    return location.rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower()


def in_copied_url(location: str) -> bool:
    """The value sat in a URL that the request carried inside something else: a Referer, a
    page-URL field of a beacon (``query:dl>query:code``)."""
    if location_kind(location) == "referer":
        return True
    inner = location.rsplit(">", 1)[-1] if ">" in location else ""
    return inner.startswith(("query", "path", "fragment"))
