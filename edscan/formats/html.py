"""``html``: the self-contained report (one file, no external request of any kind).

Jinja2 with autoescaping and ``StrictUndefined``; templates and CSS ship in ``reports/`` and are
loaded only through ``edscan.resources``. Partials start with ``_``. The page carries its CSS
and SVG inline, runs no JavaScript, and has a Content-Security-Policy that forbids everything
but inline styles and ``data:`` images, so even a missed escape could not load or run anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from edscan import resources
from edscan.formats import _view
from edscan.models import ScanResult

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(result: ScanResult, *, reveal: bool = False) -> str:
    report = _view.build(result, reveal=reveal)
    env = _environment()
    template = env.get_template(TEMPLATE)
    page: str = template.render(r=report, css=_stylesheet(), csp=CSP)
    return page


@functools.cache
def _stylesheet() -> Any:
    """The shipped CSS, read once, as markup (it is ours, not captured text)."""
    from markupsafe import Markup

    css = resources.read_text("reports", STYLESHEET)
    if "</style" in css.lower():  # keep the page well-formed whatever the stylesheet says
        raise ValueError("report.css must not contain '</style'")
    return Markup(css)


@functools.cache
def _environment() -> Any:
    import jinja2

    class ResourceLoader(jinja2.BaseLoader):
        """Templates from the shipped ``reports`` package, in editable and wheel installs."""

        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str | None, Callable[[], bool] | None]:
            try:
                source = resources.read_text("reports", template)
            except (FileNotFoundError, OSError):
                raise jinja2.TemplateNotFound(template) from None
            return source, None, lambda: True

    env = jinja2.Environment(
        loader=ResourceLoader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["plural"] = _plural
    return env


def _num(value: int | float) -> str:
    return f"{value:,}"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many
