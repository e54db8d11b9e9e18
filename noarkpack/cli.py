"""The noarkpack command line: a thin face over the library.

Exit codes follow docs (DESIGN.md): 0 ok, 1 findings/rejected rows, 2 could
not run.  A :class:`~noarkpack.errors.NoarkpackError` becomes one clear line
on stderr (the traceback only with ``--debug``).  Nothing identifying
(names, fødselsnummer) is ever printed.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import Optional

import typer

from . import __version__
from .errors import NoarkpackError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Closed patient journals to archival deposits "
                  "(Noark 5 v5.0 extracts, Arkivverket SIP/AIP, Norsk helsearkiv).")
schemas_app = typer.Typer(no_args_is_help=True, help="The store of official schemas (pinned by SHA-256).")
app.add_typer(schemas_app, name="schemas")

_state = {"debug": False, "quiet": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"noarkpack {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output (for scripts)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    _state["debug"] = debug
    _state["quiet"] = quiet


def _fail(e: BaseException) -> None:
    if _state["debug"]:
        traceback.print_exception(e)
    if isinstance(e, NoarkpackError):
        typer.echo(f"noarkpack: error: {e}", err=True)
        raise typer.Exit(e.exit_code)
    typer.echo(f"noarkpack: internal error: {type(e).__name__} (run with --debug for details)", err=True)
    raise typer.Exit(2)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# -- schemas ------------------------------------------------------------------


@schemas_app.command("install")
def schemas_install(
    from_dir: Optional[Path] = typer.Option(None, "--from", help="Folder holding the official files "
                                            "(found by their pinned SHA-256 anywhere below it)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Only these schema sets (repeatable)."),
    no_download: bool = typer.Option(False, "--no-download", help="Never use the network."),
) -> None:
    """Fill the schema store from DIR or from the official URLs; verify every byte."""
    from .schemas import default_store

    try:
        store = default_store()
        report = store.install(from_dir=from_dir, sets=set_ or None, download=not no_download)
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    typer.echo(report.summary() if hasattr(report, "summary") else str(report))
    if not getattr(report, "ok", True):
        raise typer.Exit(2)


@schemas_app.command("list")
def schemas_list() -> None:
    """The pinned schema sets and whether each is installed."""
    from .schemas import default_store, schema_sets

    store = default_store()
    typer.echo(f"schema store: {store.root}")
    for name, s in sorted(schema_sets().items()):
        try:
            store.set_dir(name)
            state = "installed"
        except NoarkpackError:
            state = "not installed"
        typer.echo(f"  {name:24} {len(s.files):3} files  {state}")


# -- extract ------------------------------------------------------------------


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


@app.command()
def extract(
    project: Path = typer.Argument(..., help="The deposit project folder (with noarkpack.toml)."),
    out: Path = typer.Option(..., "--out", help="Folder to write avleveringspakke/ into."),
    split_by: Optional[str] = typer.Option(None, "--split-by", help="'arkivskaper': one extract per arkivskaper."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing avleveringspakke/."),
) -> None:
    """Write a Noark 5 v5.0 extract: OUT/avleveringspakke/."""
    from .noark5.writer import ExtractWriter
    from .project import load_project

    try:
        proj = load_project(project)
        if split_by is not None:
            raise NoarkpackError("--split-by needs the staging database (noarkpack import), which this project "
                                 "does not use yet", hint="extract without --split-by")
        total = _count_lines(proj.source)
        t0 = time.monotonic()
        show = not _state["quiet"] and sys.stderr.isatty()
        with typer.progressbar(length=total, label="Uttrekk", file=sys.stderr, show_pos=True) if show else \
                _NoBar() as bar:
            def progress(stage: str, done: int, nbytes: int) -> None:
                bar.update(1)

            with ExtractWriter(out, proj.settings, progress=progress, overwrite=overwrite) as w:
                for journal in proj.journals():
                    if not w.add(journal):
                        bar.update(1)
        r = w.result
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, typer.Exit):
            raise
        _fail(e)
        return
    secs = time.monotonic() - t0
    if not _state["quiet"]:
        typer.echo(f"Uttrekk skrevet: {r.path}")
        typer.echo(f"  pasientjournaler (mappe):   {r.mappe}")
        typer.echo(f"  registreringer:             {r.registrering} (journalposter: {r.journalposter})")
        typer.echo(f"  dokumentfiler:              {r.dokumentfiler} ({_human(r.document_bytes)})")
        typer.echo(f"  endringer:                  {r.endringer}")
        typer.echo(f"  totalt:                     {_human(r.total_bytes)} på {secs:.1f} s")
        if r.skipped:
            typer.echo(f"  utelatt:                    {len(r.skipped)} journal(er)")
            for jid, reason in r.skipped:
                typer.echo(f"    - journal {jid}: {reason}")


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def update(self, n: int) -> None:
        pass


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
