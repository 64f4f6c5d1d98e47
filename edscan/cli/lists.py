"""``edscan lists update|status|show``: the tracker lists."""

from __future__ import annotations

import click

from edscan.cli.options import data_dir_option, emit, noncommercial_option, output_options


@click.group("lists")
def lists_group() -> None:
    """Tracker lists: install upstream lists, show what is installed, explain one host.

    Attribution works on the lists bundled with edscan alone; upstream lists add coverage.
    Precedence: your overrides.toml > bundled lists > AdGuard companiesdb > DuckDuckGo >
    Disconnect > Ghostery > Exodus (the non-commercial three only with
    --accept-noncommercial).

    \b
    Example:
        edscan lists update
        edscan lists status
        edscan lists show connect.facebook.net
    """


@lists_group.command("update")
@click.option(
    "--from",
    "from_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Import list files downloaded by hand (a file or a folder; repeatable) instead of "
    "downloading. Same validation and provenance; the file's own date is its version.",
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(
        [
            "adguard-companiesdb",
            "exodus",
            "publicsuffix",
            "duckduckgo-tds",
            "disconnect",
            "ghostery-trackerdb",
        ]
    ),
    help="Update only this list (repeatable). Default: AdGuard companiesdb, Exodus and the "
    "Public Suffix List, plus the non-commercial lists with --accept-noncommercial.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1.0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each read from the server.",
)
@noncommercial_option
@data_dir_option
def lists_update_command(
    from_paths: tuple[str, ...],
    only: tuple[str, ...],
    timeout: float,
    accept_noncommercial: bool,
    data_dir: str | None,
) -> None:
    """Download (or import) upstream tracker lists into the data directory.

    Each file is fetched over HTTPS with TLS verification, a size cap and conditional GET
    (unchanged lists are not downloaded again), validated, and only then replaces the
    installed copy; a failed download leaves what is installed untouched. The source URL,
    date, sha256, licence and record count are recorded (see `edscan lists status`).

    Schools often block the hosts the lists live on: download the files elsewhere and import
    them with --from. Set EDSCAN_DATA_DIR (or --data-dir) to prepare an audit laptop offline.

    \b
    Example:
        edscan lists update
        edscan lists update --accept-noncommercial
        edscan lists update --from ~/Downloads/tracker-lists/ --data-dir ./audit-lists
    """
    from pathlib import Path

    from edscan.recipients import update, upstream

    base = upstream.resolve_data_dir(data_dir)
    if from_paths:
        outcomes = update.import_files(
            base, [Path(p) for p in from_paths], accept_noncommercial=accept_noncommercial
        )
    else:
        sources = update.selected_sources(only, accept_noncommercial)
        outcomes = update.update(base, sources, read_timeout=timeout)
    for o in outcomes:
        detail = o.message
        if o.info is not None:
            detail = f"{o.info.version}, {o.info.records} records, {o.info.licence}"
        click.echo(f"{o.name}: {o.status}" + (f" ({detail})" if detail else ""), err=True)
    failed = [o.name for o in outcomes if o.status == "failed"]
    if failed:
        from edscan.errors import EdscanError

        raise EdscanError(
            f"{len(failed)} list(s) not updated ({', '.join(failed)}); the copies already "
            "installed are unchanged. If the network blocks these hosts, download the files "
            "elsewhere and use `edscan lists update --from PATH`."
        )
    click.echo(f"lists are in {base}", err=True)


@lists_group.command("status")
@output_options(("text", "json"), "text")
@data_dir_option
def lists_status_command(fmt: str, output: str | None, data_dir: str | None) -> None:
    """Show the bundled lists and every upstream list: installed or not, version, provenance.

    \b
    Example:
        edscan lists status
        edscan lists status -f json | jq '.upstream[] | select(.installed) | .name'
    """
    import json

    from edscan.recipients import show, upstream

    st = show.status(upstream.resolve_data_dir(data_dir))
    emit(show.format_status(st) if fmt == "text" else json.dumps(st, indent=2) + "\n", output)


@lists_group.command("show")
@click.argument("host")
@click.option("--path", default="", help="A URL path, to also name the SDK (e.g. /tr).")
@noncommercial_option
@output_options(("text", "json"), "text")
@data_dir_option
def lists_show_command(
    host: str,
    path: str,
    accept_noncommercial: bool,
    fmt: str,
    output: str | None,
    data_dir: str | None,
) -> None:
    """Explain who HOST belongs to: the attribution, and every list's opinion with provenance.

    HOST may also be a URL (scheme optional); its path then names the SDK (Meta Pixel for
    facebook.com/tr).

    \b
    Example:
        edscan lists show analytics.tiktok.com
        edscan lists show https://www.facebook.com/tr/ -f json
    """
    import json
    from pathlib import Path
    from urllib.parse import urlsplit

    from edscan.recipients import show
    from edscan.recipients.trackers import load_trackers

    if "/" in host:  # a URL, with or without its scheme: its path names the SDK
        parts = urlsplit(host if "://" in host else "//" + host)
        host, path = parts.netloc, path or parts.path
    db = load_trackers(
        Path(data_dir) if data_dir else None, accept_noncommercial=accept_noncommercial
    )
    s = show.show(db, host, path)
    emit(show.format_show(s) if fmt == "text" else json.dumps(s, indent=2) + "\n", output)
