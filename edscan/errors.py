"""Errors and exit codes.

    click.ClickException
      └── EdscanError            bad input or usage: one clear message, exit code 2
            └── CaptureError     a capture file (or HAR, .mitm) that cannot be read

Exit codes: ``EXIT_CLEAN`` (0) nothing at or above ``--fail-on``; ``EXIT_FINDINGS`` (1)
findings at or above ``--fail-on``; ``EXIT_USAGE`` (2) usage or input error.
"""

from __future__ import annotations

import click

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class EdscanError(click.ClickException):
    """A problem with what the user gave us: printed as one line, exit code 2."""

    exit_code = EXIT_USAGE


class CaptureError(EdscanError):
    """A capture, HAR or .mitm file that cannot be read."""
