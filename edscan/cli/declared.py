"""``edscan declared new|check``: the vendor's declaration."""

from __future__ import annotations

import click

from edscan.cli.options import emit, output_options


@click.group("declared")
def declared_group() -> None:
    """The vendor's declaration: what its signed agreement lists, to compare with the traffic.

    A small TOML file with the Exhibit B data elements the vendor declared and the third
    parties (subprocessors) it lists. Give it to `edscan scan` or `edscan report` with
    `--declared FILE` to see what the app sent that the agreement does not list.
    """


@declared_group.command("new")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the template to this file (default: standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def declared_new_command(output: str | None, force: bool) -> None:
    """Write a commented declaration template that lists every data element id.

    Uncomment the Exhibit B elements the vendor checked and add a [[third_party]] table for
    each subprocessor the agreement lists, then use the file with --declared.

    \b
    Example:
        edscan declared new -o vendor.toml
        edscan declared check vendor.toml
        edscan report session.edscan.jsonl --declared vendor.toml -o report.html
    """
    import os

    from edscan.declared.template import render_template
    from edscan.errors import EdscanError
    from edscan.files import write_atomic

    text = render_template()
    if output is None:
        click.echo(text, nl=False)
        return
    if os.path.lexists(output) and not force:
        raise EdscanError(f"{output}: already exists; use --force to overwrite it")
    write_atomic(output, text)
    click.echo(f"wrote a declaration template to {output}", err=True)


@declared_group.command("check")
@click.argument("declaration", type=click.Path(exists=True, dir_okay=False))
@output_options(("text", "json"), "text")
def declared_check_command(declaration: str, fmt: str, output: str | None) -> None:
    """Validate a declaration file and show what it declares, as edscan reads it.

    Categories are expanded into their elements; third parties are shown with the domains
    and names they will be matched by.

    \b
    Example:
        edscan declared check vendor.toml
        edscan declared check vendor.toml -f json | jq '.elements'
    """
    import json

    from edscan.declared.declaration import load_declaration
    from edscan.detect.taxonomy import ELEMENTS

    d = load_declaration(declaration)
    doc = {
        "source": d.source,
        "sha256": d.sha256,
        "vendor": d.vendor,
        "agreement": d.agreement,
        "elements": list(d.elements) if d.elements is not None else None,
        "third_parties": [p.to_dict() for p in d.parties] if d.parties is not None else None,
    }
    if fmt == "json":
        emit(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)
        return
    lines = [
        f"{d.source}: {d.vendor or 'vendor not named'}"
        + (f", {d.agreement}" if d.agreement else "")
    ]
    if d.elements is None:
        lines.append("elements: not given (data elements will not be compared)")
    else:
        lines.append(f"elements: {len(d.elements)} declared")
        lines += [f"  {e:<24} {ELEMENTS[e].name}" for e in d.elements]
    if d.parties is None:
        lines.append("third parties: not given (will not be compared; `third_party = []` if none)")
    else:
        lines.append(f"third parties: {len(d.parties)} listed")
        for p in d.parties:
            domains = ", ".join(p.domains) or "matched by name only"
            purpose = f"  ({p.purpose})" if p.purpose else ""
            lines.append(f"  {p.name or '(no name)'}: {domains}{purpose}")
    emit("\n".join(lines) + "\n", output)
