"""Every command has help with an example and is in the README; the manual in docs/ is whole."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner
from conftest import ROOT

from edscan.cli import cli


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, cmd))
        if isinstance(cmd, click.Group):
            found.extend(_commands(cmd, full + " "))
    return found


COMMANDS = _commands(cli)


def test_there_are_commands() -> None:
    assert len(COMMANDS) >= 1


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_with_example(name: str, cmd: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert cmd.help and cmd.help.strip(), f"`edscan {name}` has no help text"
    if not isinstance(cmd, click.Group):
        assert "Example:" in cmd.help, f"`edscan {name}` help lacks an Example: block"


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_is_in_readme(name: str, cmd: click.Command) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"edscan {name}" in readme, f"`edscan {name}` is not documented in README.md"


# ------------------------------------------------------------------ the manual in docs/

DOCS = ROOT / "docs"
MKDOCS = ROOT / "mkdocs.yml"
_NAV_PAGE = re.compile(r"^\s*-\s+[^:]+:\s+(\S+\.md)\s*$")
_RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)#\s]+)(?:#[^)]*)?\)")


def _nav_pages() -> list[str]:
    # mkdocs.yml's nav is a flat list of "- Title: page.md" lines; read without a YAML dependency
    text = MKDOCS.read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    return [m.group(1) for line in nav.splitlines() if (m := _NAV_PAGE.match(line))]


def test_every_nav_page_exists_and_every_page_is_in_the_nav() -> None:
    nav = _nav_pages()
    assert "index.md" in nav and "layout.md" in nav
    assert len(nav) == len(set(nav)), "a page is twice in the nav"
    for page in nav:
        assert (DOCS / page).is_file(), f"mkdocs.yml names docs/{page}, which does not exist"
    on_disk = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(nav) == on_disk, "every docs/*.md page must be in the mkdocs.yml nav"


def test_readme_links_into_the_manual_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = _RELATIVE_LINK.findall(readme)
    assert any(t.startswith("docs/") for t in targets), "the README links into docs/"
    for target in targets:
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"
    for page in _nav_pages():
        assert f"docs/{page}" in targets, f"README.md does not link to docs/{page}"
