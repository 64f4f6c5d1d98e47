"""``edscan persona new|check``: seeded test identities."""

from __future__ import annotations

import click

from edscan.cli.options import emit, output_options


@click.group("persona")
def persona_group() -> None:
    """Seeded test identities: make a persona file, check one.

    A persona holds the values of one test student account. With `edscan scan CAPTURE
    --persona FILE` every place those values went is found with high confidence, even
    hashed, encoded or compressed.
    """


@persona_group.command("new")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the persona to this file, mode 0600 (default: standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option("--seed", type=int, default=None, hidden=True, help="Reproducible values (tests).")
def persona_new_command(output: str | None, force: bool, seed: int | None) -> None:
    """Write a new persona with unique canary values and how to use each one.

    The names belong to nobody, the e-mail is unique (on example.org), the phone numbers are
    in the 555-01xx block reserved for fiction, the IP is in a documentation range, the ids
    have the right shape and the date of birth makes a 10 to 14 year old. Create the test
    account with these values, then scan with `--persona`.

    \b
    Example:
        edscan persona new -o persona.toml
        edscan persona check persona.toml
    """
    import os
    import random

    from edscan.detect.persona_new import new_persona_values, render_persona
    from edscan.errors import EdscanError
    from edscan.files import write_atomic

    rng = random.Random(seed) if seed is not None else None
    text = render_persona(new_persona_values(rng))
    if output is None:
        click.echo(text, nl=False)
        return
    if os.path.lexists(output) and not force:
        raise EdscanError(f"{output}: already exists; use --force to overwrite it")
    write_atomic(output, text, private=True)  # the test account's values: owner-only
    click.echo(f"wrote a new persona to {output} (readable by you only)", err=True)


@persona_group.command("check")
@click.argument("persona", type=click.Path(dir_okay=False))
@output_options(("text", "json"), "text")
def persona_check_command(persona: str, fmt: str, output: str | None) -> None:
    """Validate a persona file and list its keys (never the values) and what they match.

    For each key: the student-data element it is reported as, how many variants (encodings,
    hashes, formats) are searched, and whether it only counts under an agreeing key name.
    Then the student's age band today (from student.age_band, else the date of birth): a
    scan reads it on the capture's date, and 13-17 enables the teen rule (EDS027).

    \b
    Example:
        edscan persona check persona.toml
        edscan persona check persona.toml -f json | jq '.fields[].key'
    """
    import datetime as dt
    import json

    from edscan.detect.persona import load_persona
    from edscan.detect.variants import value_variants

    p = load_persona(persona)
    rows = []
    for key, value in p.values.items():
        variants = value_variants(key, value)
        rows.append(
            {
                "key": key,
                "element": p.spec(key).element,
                "variants": len(variants),
                "gated": all(v.gated or v.encodings for v in variants),
            }
        )
    today = dt.date.today()
    band = p.age_band_on(today)
    band_from = "age_band" if p.age_band is not None else "dob" if band else None
    if fmt == "json":
        age = {"band": band, "from": band_from, "on": today.isoformat()}
        text = json.dumps({"persona": persona, "fields": rows, "age_band": age}, indent=2) + "\n"
    else:
        lines = [f"{persona}: {len(rows)} values"]
        for r in rows:
            gated = "  (only under an agreeing key, or hashed)" if r["gated"] else ""
            lines.append(f"  {r['key']:<26} {r['element']:<20} {r['variants']:>4} variants{gated}")
        if band is None:
            lines.append("age band: none (no student.age_band or dob); the teen rule EDS027 is off")
        else:
            source = "student.age_band" if band_from == "age_band" else "the date of birth"
            teen = "; the teen rule EDS027 applies" if band == "13-17" else ""
            lines.append(f"age band today: {band} (from {source}){teen}")
        text = "\n".join(lines) + "\n"
    emit(text, output)
