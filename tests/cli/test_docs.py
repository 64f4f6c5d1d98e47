"""Every command has help with an example and is documented in the README (docs cannot drift)."""

from __future__ import annotations

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
