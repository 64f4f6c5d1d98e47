"""``html``: the self-contained report (one file, no external request of any kind).

Jinja2 with autoescaping and ``StrictUndefined``; templates and CSS ship in ``reports/`` and are
loaded only through ``edscan.resources``. Partials start with ``_``. The page carries its CSS
and SVG inline, runs no JavaScript, and has a Content-Security-Policy that forbids everything
but inline styles and ``data:`` images, so even a missed escape could not load or run anything.
"""

from __future__ import annotations

import functools
from typing import Any

from edscan import resources
from edscan.models import ScanResult
from edscan.report import _view, templates

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(result: ScanResult, *, reveal: bool = False, brief: bool = False) -> str:
    """The report; ``brief`` keeps only the first page (the verdict) and the vendor questions."""
    report = _view.build(result, reveal=reveal)
    page: str = templates.template(TEMPLATE).render(
        r=report, css=_stylesheet(), csp=CSP, brief=brief
    )
    return page


@functools.cache
def _stylesheet() -> Any:
    """The shipped CSS, read once, as markup (it is ours, not captured text)."""
    from markupsafe import Markup

    css = resources.read_text("reports", STYLESHEET)
    if "</style" in css.lower():  # keep the page well-formed whatever the stylesheet says
        raise ValueError("report.css must not contain '</style'")
    return Markup(css)
