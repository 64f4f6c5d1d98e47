"""``edscan batch``, ``dataset`` and ``verify``: studies of many apps, and checking a bundle."""

from __future__ import annotations

import click

from edscan.cli.options import data_dir_option, noncommercial_option


@click.command("batch")
@click.argument("captures", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, writable=True),
    help="The folder for index.html, summary.csv, dataset.csv and each app's report "
    "(created if needed).",
)
@click.option(
    "--persona",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The test student's persona file, used for every capture.",
)
@click.option(
    "--first-party-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="FILE",
    help='A TOML file naming each app\'s domains: "seesaw.har" = ["seesaw.me"] (keys: a '
    "capture's file name or its name without suffixes). Others are inferred.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Scan N captures at once, one worker process each (default: all cores).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    default=None,
    help="Scan on this Dask distributed cluster instead of this machine's cores "
    "(needs edscan[cluster]); the captures, lists and persona are sent to the workers.",
)
@noncommercial_option
@data_dir_option
def batch_command(
    captures: tuple[str, ...],
    out_dir: str,
    persona: str | None,
    first_party_map: str | None,
    jobs: int | None,
    scheduler: str | None,
    accept_noncommercial: bool,
    data_dir: str | None,
) -> None:
    """Compare several apps: one capture per app, one row per app, one page.

    CAPTURES are capture files, folders (every capture file in them) and glob patterns
    (quoted: "captures/**/*.har"). Writes DIR/index.html (a self-contained comparison: grade,
    risk score, third-party and advertising companies, data elements sent to third parties,
    critical and high findings, and a link to each app's report, written beside it as
    DIR/<app>.html), DIR/summary.csv with the same columns, and DIR/dataset.csv (one row per
    app, recipient and data element, as `edscan dataset` writes). The app's name is its
    capture's file name. Captures are scanned on all cores (--jobs) or on a Dask cluster
    (--scheduler); a progress bar is drawn on standard error when it is a terminal. A capture
    that cannot be read is reported, the others go on, and the ones skipped are listed at the
    end; the exit code is 2 only when none could be read.

    \b
    Example:
        edscan batch seesaw.har classdojo.har kahoot.edscan.jsonl -o compare/
        edscan batch captures/ --persona maya.toml --first-party-map apps.toml -o compare/
        edscan batch "study/**/*.har" --jobs 8 -o study/
        edscan batch captures/ --scheduler tcp://10.0.0.5:8786 -o study/
    """
    import sys
    from pathlib import Path

    from edscan.detect.persona import load_persona
    from edscan.publish import batch, batch_runner, inputs

    outcome = batch.run(
        inputs.expand(captures),
        out_dir,
        persona=load_persona(persona) if persona else None,
        first_party_map=batch.load_first_party_map(first_party_map) if first_party_map else None,
        data_dir=Path(data_dir) if data_dir else None,
        accept_noncommercial=accept_noncommercial,
        jobs=jobs or batch_runner.default_jobs(),
        scheduler=scheduler,
        progress=sys.stderr.isatty(),
        # with a bar drawn, one line per capture would break it: the skipped ones come at the end
        echo=(lambda line: None)
        if sys.stderr.isatty()
        else lambda line: click.echo(line, err=True),
    )
    failed = outcome.failed
    if failed:
        click.echo(f"{len(failed)} captures could not be read:", err=True)
        for r in failed:
            click.echo(f"  {r.capture}: {r.error}", err=True)
    compared = len(outcome.rows) - len(failed)
    out = Path(out_dir)
    click.echo(
        f"wrote {out / batch.INDEX}, {out / batch.SUMMARY} and {out / batch.DATASET} "
        f"({compared} apps compared"
        + (f", {len(failed)} captures could not be read" if failed else "")
        + ")",
        err=True,
    )


@click.command("dataset")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The table to write: study.parquet (Parquet) or study.csv (CSV).",
)
def dataset_command(results: tuple[str, ...], output: str) -> None:
    """Turn results into one table for a study: a row per app, recipient and data element.

    RESULTS are result documents (`edscan scan -f json -o app.json`, or a bundle's
    result.json). Each row has the app, the recipient's domain, organisation, parent,
    categories and party, the data element, the detection confidence, the rule ids that fired
    on it, when and in which phase it was first seen, the list that named the company, and
    edscan's version. Columns are described in the manual (Dataset).

    \b
    Example:
        edscan dataset results/*.json -o study.parquet
        edscan dataset seesaw.json classdojo.json -o study.csv
    """
    from edscan.publish import dataset

    df = dataset.from_results(results)
    dataset.write(df, output)
    apps = df["app"].nunique() if len(df) else 0
    click.echo(
        f"wrote {output} ({len(df)} rows from {len(results)} results, {apps} apps)", err=True
    )


@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@data_dir_option
def verify_command(bundle: str, data_dir: str | None) -> None:
    """Check an evidence bundle: every hash, and that its findings follow from its data.

    Re-computes the SHA-256 of every file the bundle's MANIFEST.json lists (and that no file
    was added or removed), checks that result.json, evidence.json and the manifest name the
    same findings and score, and scans the bundle's redacted capture again to check that it
    gives the findings the manifest says it gives. Exit 0 when all holds; 1 with what differs
    otherwise; 2 when the file is not a bundle.

    \b
    Example:
        edscan verify seesaw-evidence.zip
    """
    from pathlib import Path

    from edscan.errors import EXIT_FINDINGS
    from edscan.publish import verify

    report = verify.verify(bundle, data_dir=Path(data_dir) if data_dir else None)
    for line in report.checked:
        click.echo(f"ok: {line}")
    for line in report.problems:
        click.echo(f"DIFFERS: {line}")
    if report.problems:
        click.echo(f"{bundle}: {len(report.problems)} problems; the bundle does not hold", err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(f"{bundle}: every check holds", err=True)
