"""The one loader for the shipped templates (``reports/``, read through ``edscan.resources``).

HTML templates autoescape; plain-text ones (the letter, the bundle's README) pass every printed
value through ``finalize``, which decides how it is made safe. ``StrictUndefined`` everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from edscan import resources


def template(name: str, *, html: bool = True, finalize: Callable[[Any], Any] | None = None) -> Any:
    """A shipped Jinja2 template, ready to render."""
    return _environment(html, finalize).get_template(name)


@functools.cache
def _environment(html: bool, finalize: Callable[[Any], Any] | None) -> Any:
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

    options: dict[str, Any] = {}
    if finalize is not None:
        options["finalize"] = finalize
    env = jinja2.Environment(
        loader=ResourceLoader(),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        **options,
    )
    env.filters["num"] = _num
    env.filters["plural"] = _plural
    return env


def _num(value: int | float) -> str:
    return f"{value:,}"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many
