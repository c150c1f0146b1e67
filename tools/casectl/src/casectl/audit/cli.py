"""`casectl audit` sub-commands on files (the lead mounts `app` into the main CLI).

export reads records from a JSONL file of events.jsonl-format lines (e.g. a dump
made by the Kafka reader, or another bundle's events.jsonl).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from casectl.audit.bundle import BundleError, export_bundle, prove_consistency, prove_inclusion, verify_bundle
from casectl.audit.chain import ChainError
from casectl.audit.keys import KeyFileError
from casectl.audit.merkle import ProofError
from casectl.audit.records import RecordFormatError, records_from_jsonl

app = typer.Typer(help="Audit bundles: export, verify, prove inclusion and consistency.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _fail(e: Exception) -> None:
    err.print(f"[bold red]FAILED[/] {e}")
    raise typer.Exit(1)


@app.command()
def export(
    records: Path = typer.Option(..., "--records", help="JSONL file of records in events.jsonl format"),
    out: Path = typer.Option(..., "--out", help="bundle directory to create"),
    key: Optional[Path] = typer.Option(None, "--key", help="signing key (default $CASESTREAM_AUDIT_KEY or .run/keys/audit_ed25519.pem)"),
    scope: str = typer.Option("{}", "--scope", help="scope as a JSON object"),
) -> None:
    """Export records from a file into a signed bundle."""
    try:
        with open(records, "rb") as f:
            recs = records_from_jsonl(f)
        res = export_bundle(recs, out, json.loads(scope), key)
    except (RecordFormatError, ChainError, KeyFileError, FileExistsError, ValueError) as e:
        _fail(e)
    console.print(f"[green]exported[/] {res.tree_size} events to {res.out_dir}\n  root {res.root_hash}\n"
                  f"  key  {res.public_key_sha256}")


@app.command()
def verify(
    bundle: Path,
    checkpoint: list[Path] = typer.Option([], "--checkpoint", help="JSON file of a signed checkpoint (repeatable)"),
    trusted_key: Optional[str] = typer.Option(None, "--trusted-key", help="public key PEM path or its sha256"),
    checkpoint_key: Optional[Path] = typer.Option(None, "--checkpoint-key", help="auditor public key PEM"),
) -> None:
    """Verify a bundle: signature, manifest, chains, Merkle root, counts, checkpoints."""
    try:
        cps = [json.loads(p.read_text()) for p in checkpoint]
        res = verify_bundle(bundle, cps or None, trusted_public_key=trusted_key,
                            checkpoint_public_key=checkpoint_key.read_bytes() if checkpoint_key else None)
    except (BundleError, ValueError, KeyFileError) as e:
        _fail(e)
    console.print(f"[green]OK[/] {res.tree_size} events, {res.cases} cases, root {res.root_hash}")
    console.print(f"  signed by key sha256 {res.public_key_sha256} (compare with the published fingerprint)")
    for name, p in res.partitions.items():
        console.print(f"  {name}: offsets {p['first_offset']}..{p['last_offset']} ({p['count']})")
    for note in res.notes:
        console.print(f"  [yellow]note[/] {note}")
    if res.checkpoints_checked:
        console.print(f"  {res.checkpoints_checked} checkpoint(s) match")


@app.command()
def prove(bundle: Path, event_id: str = typer.Argument(..., help="ce_id, partition:offset or topic/partition:offset")) -> None:
    """Print an RFC 6962 inclusion proof (audit path) for one event, as JSON."""
    try:
        res = prove_inclusion(bundle, event_id)
    except (BundleError, LookupError, ProofError) as e:
        _fail(e)
    console.print_json(json.dumps(res.to_dict()))


@app.command()
def consistency(old: Path, new: Path) -> None:
    """Prove that bundle NEW extends bundle OLD; print the consistency proof as JSON."""
    try:
        res = prove_consistency(old, new)
    except (BundleError, ProofError) as e:
        _fail(e)
    console.print_json(json.dumps(res.to_dict()))
