"""The noarkpack command line: a thin face over the library.

Exit codes follow docs (DESIGN.md): 0 ok, 1 findings/rejected rows, 2 could
not run.  A :class:`~noarkpack.errors.NoarkpackError` becomes one clear line
on stderr (the traceback only with ``--debug``).  Nothing identifying
(names, fødselsnummer) is ever printed.
"""

from __future__ import annotations

import errno
import sys
import time
import traceback
from pathlib import Path
from typing import Optional

import typer

from .fsutil import human_size as _human
from ._version import __version__
from .errors import NoarkpackError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, help="Closed patient journals to archival deposits "
                  "(Noark 5 v5.0 extracts, Arkivverket SIP/AIP, Norsk helsearkiv).")
schemas_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="The store of official schemas (pinned by SHA-256).")
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


_OS_ERRORS = {
    errno.ENOSPC: ("the disk is full", "free space or choose another --out; nothing incomplete was left under a "
                   "final name"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space or choose another --out"),
    errno.EACCES: ("permission denied", "check the permissions of the folder"),
    errno.EPERM: ("operation not permitted", "check the permissions of the folder"),
    errno.EROFS: ("the file system is read-only", "choose another --out"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ENOTDIR: ("a file stands where a folder is expected", "check the path"),
    errno.EISDIR: ("a folder stands where a file is expected", "check the path"),
}


def _fail(e: BaseException) -> None:
    """One clear line on stderr and exit 2 (or the error's own code); the traceback only with --debug."""
    if isinstance(e, typer.Exit):
        raise e
    if _state["debug"]:
        traceback.print_exception(e)
    if isinstance(e, KeyboardInterrupt):
        typer.echo("noarkpack: interrupted; nothing incomplete was left under a final name", err=True)
        raise typer.Exit(130)
    if isinstance(e, NoarkpackError):
        typer.echo(f"noarkpack: error: {e}", err=True)
        raise typer.Exit(e.exit_code)
    if isinstance(e, OSError) and e.errno in _OS_ERRORS:
        what, todo = _OS_ERRORS[e.errno]
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(f"noarkpack: error: {where}{what} ({todo})", err=True)
        raise typer.Exit(2)
    if isinstance(e, MemoryError):
        typer.echo("noarkpack: error: out of memory (run with --debug and report it)", err=True)
        raise typer.Exit(2)
    typer.echo(f"noarkpack: internal error: {type(e).__name__} (run with --debug for details)", err=True)
    raise typer.Exit(2)




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
    if not _state["quiet"] or not report.ok:
        typer.echo(report.summary(), err=not report.ok)
    if not report.ok:
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


class _Progress:
    """Progress on stderr for long stages (only on a terminal, never with --quiet)."""

    def __init__(self) -> None:
        self.show = not _state["quiet"] and sys.stderr.isatty()
        self._stage = None
        self._t0 = time.monotonic()

    def __call__(self, stage: str, done: int, total: int = 0) -> None:
        if not self.show:
            return
        if stage != self._stage:
            if self._stage is not None:
                typer.echo("", err=True)
            self._stage, self._t0 = stage, time.monotonic()
        secs = time.monotonic() - self._t0
        eta = ""
        if total and done:
            eta = f", ca. {secs / done * (total - done):.0f} s igjen"
        typer.echo(f"\r  {stage}: {done}" + (f"/{total}" if total else "") + f" ({secs:.0f} s{eta})   ",
                   err=True, nl=False)

    def done(self) -> None:
        if self.show and self._stage is not None:
            typer.echo("", err=True)
            self._stage = None


def _print_extract(run, secs: float | None = None) -> None:
    r = run.result
    if run.arkivskaper:
        typer.echo(f"[{run.arkivskaper}]")
    typer.echo(f"Uttrekk skrevet: {r.path}")
    typer.echo(f"  pasientjournaler (mappe):   {r.mappe}")
    typer.echo(f"  registreringer:             {r.registrering} (journalposter: {r.journalposter})")
    typer.echo(f"  dokumentfiler:              {r.dokumentfiler} ({_human(r.document_bytes)})")
    typer.echo(f"  endringer:                  {r.endringer}")
    typer.echo(f"  totalt:                     {_human(r.total_bytes)}"
               + (f" på {secs:.1f} s" if secs is not None else ""))
    conv = run.conversion
    if r.converted or conv:
        typer.echo(f"  konvertert til PDF/A:       {r.converted}"
                   + (f" ({conv.converted} nye, {conv.seconds:.1f} s)" if conv else ""))
    if r.unconverted:
        typer.echo(f"  ikke konvertert:            {len(r.unconverted)} (beholdt i originalformat)")
        for where, puid, reason in r.unconverted:
            typer.echo(f"    - {where} ({puid}): {reason}")
    if r.skipped:
        typer.echo(f"  utelatt:                    {len(r.skipped)} journal(er)")
        reasons: dict[str, int] = {}
        for _, reason in r.skipped:
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, n in sorted(reasons.items()):
            typer.echo(f"    - {reason}: {n}")


def _write_reports(report, json_out: Path | None = None, html_out: Path | None = None,
                   junit_out: Path | None = None) -> None:
    """The --json/--html/--junit files of a report, each written atomically."""
    import json

    if json_out:
        _write_text(json_out, report.iter_json() if hasattr(report, "iter_json")
                    else json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    if html_out:
        _write_text(html_out, report.to_html())
    if junit_out:
        if not hasattr(report, "to_junit"):
            raise NoarkpackError("--junit is for Noark 5 extracts (an NHA deposit has its NHA.* checks only)")
        _write_text(junit_out, report.to_junit())


def _summary_and_exit(report) -> None:
    """Print a report's short summary (unless --quiet) and exit with its code."""
    if not _state["quiet"]:
        for line in report.summary_lines():
            typer.echo(line)
    raise typer.Exit(report.exit_code)


@app.command("import")
def import_(project: Path = typer.Argument(..., help="The deposit project folder (with noarkpack.toml).")) -> None:
    """Read the legacy export into the project's staging database, per the mapping. Exit 0, 1 rows rejected, 2."""
    from .pipeline import import_project

    bar = _Progress()
    try:
        rep = import_project(project, progress=bar)
        bar.done()
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    _summary_and_exit(rep)


@app.command()
def analyse(
    project: Path = typer.Argument(..., help="The deposit project folder (with noarkpack.toml)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the analysis as JSON to this file."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    show_identifiers: bool = typer.Option(False, "--show-identifiers", help="Show names and fødselsnummer in "
                                          "the reports (masked by default)."),
) -> None:
    """The migration analysis: what is in the export, what is wrong, what will be deposited. Exit 0, 1 blocking, 2."""
    from .pipeline import analyse_project

    bar = _Progress()
    try:
        a = analyse_project(project, show_identifiers=show_identifiers, progress=bar)
        bar.done()
        _write_reports(a, json_out, html_out)
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    _summary_and_exit(a)


@app.command()
def extract(
    project: Path = typer.Argument(..., help="The deposit project folder (with noarkpack.toml)."),
    out: Path = typer.Option(..., "--out", help="Folder to write avleveringspakke/ into."),
    split_by: Optional[str] = typer.Option(None, "--split-by", help="'arkivskaper': one extract per arkivskaper, "
                                           "in OUT/<arkivskaper>/avleveringspakke/."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing avleveringspakke/."),
    allow_unconverted: bool = typer.Option(False, "--allow-unconverted", help="Keep documents that cannot be "
                                           "converted to an archival format (listed in the summary) instead of "
                                           "stopping."),
) -> None:
    """Write a Noark 5 v5.0 extract: OUT/avleveringspakke/."""
    from .pipeline import extract_project
    from .project import load_project

    bar = _Progress()
    try:
        if split_by not in (None, "arkivskaper"):
            raise NoarkpackError(f"cannot split by {split_by!r}", hint="--split-by arkivskaper")
        t0 = time.monotonic()
        proj = load_project(project)
        runs = extract_project(proj, out, split_by=split_by, overwrite=overwrite,
                               allow_unconverted=allow_unconverted, progress=bar)
        bar.done()
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    if not _state["quiet"]:
        runs = runs if isinstance(runs, list) else [runs]
        for run in runs:
            _print_extract(run, time.monotonic() - t0 if len(runs) == 1 else None)


@app.command()
def deposit(
    project: Path = typer.Argument(..., help="The deposit project folder (with noarkpack.toml)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the package into."),
    profile: str = typer.Option("arkivverket-sip", "--profile", help="arkivverket-sip | arkivverket-aip"),
    bag: bool = typer.Option(False, "--bag", help="Make OUT a BagIt bag around the package."),
    sha512: bool = typer.Option(False, "--sha512", help="Bag manifests with SHA-512 as well."),
    metadata: Optional[Path] = typer.Option(None, "--metadata", help="A TOML file with the [package] table."),
    allow_unconverted: bool = typer.Option(False, "--allow-unconverted", help="See extract."),
    show_identifiers: bool = typer.Option(False, "--show-identifiers", help="Unmasked analysis reports."),
) -> None:
    """import → analyse → extract → validate → package, stopping at the first blocking finding."""
    from .pipeline import deposit as run_deposit

    bar = _Progress()
    try:
        if profile not in ("arkivverket-sip", "arkivverket-aip"):
            raise NoarkpackError(f"unknown profile {profile!r} for deposit",
                                 hint="arkivverket-sip or arkivverket-aip (NHA: noarkpack package --profile nha)")
        run = run_deposit(project, out, profile=profile, bag=bag, sha512=sha512, metadata_file=metadata,
                          allow_unconverted=allow_unconverted, show_identifiers=show_identifiers, progress=bar)
        bar.done()
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    quiet = _state["quiet"]
    if not quiet and run.import_report is not None:
        for line in run.import_report.summary_lines():
            typer.echo(line)
    if not quiet and run.analysis is not None:
        for line in run.analysis.summary_lines():
            typer.echo(line)
    validation = run.package.validation if run.package is not None else None
    if run.stage in ("analyse", "validate"):
        if validation is not None:
            for line in validation.summary_lines():
                typer.echo(line)
        typer.echo("Stoppet: funn som hindrer avlevering. Rapportene ligger her:", err=True)
        for r in run.reports + (run.package.reports if run.package is not None else []):
            typer.echo(f"  {r}", err=True)
        raise typer.Exit(1)
    if not quiet:
        for line in validation.summary_lines():
            typer.echo(line)
        _print_package(run.package.package, out)
    raise typer.Exit(run.exit_code)


def _print_package(p, out: Path) -> None:
    typer.echo(f"Pakke: {p.tar} ({_human(p.tar_size)})")
    typer.echo(f"  SHA-256: {p.tar_sha256}")
    typer.echo(f"  beskrivelse: {p.description}")
    if p.bag:
        typer.echo(f"  BagIt: {out}")


def _write_text(path: Path, text) -> None:
    """Write a report atomically (temporary name, then rename)."""
    from .fsutil import write_text_atomic

    write_text_atomic(path, text)


def _nha_report(path: Path):
    """The NHA checks as a report when PATH is an NHA deposit, else None."""
    from .nha.detect import is_nha_deposit

    if not is_nha_deposit(path):
        return None
    from .nha import verify_deposit
    from .packaging import VerifyReport

    report = VerifyReport(str(path), kind="nha-deposit")
    report.extend(verify_deposit(path))
    return report


@app.command()
def validate(
    path: Path = typer.Argument(..., help="An extract folder, a SIP/AIP tar, or a folder with content/."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the findings as JSON to this file."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    junit_out: Optional[Path] = typer.Option(None, "--junit", help="Write JUnit XML (one testcase per test id)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Show at most N findings per test."),
    test: Optional[list[str]] = typer.Option(None, "--test", help="Only these tests (repeatable, e.g. N5.30)."),
    no_identify: bool = typer.Option(False, "--no-identify", help="Skip format identification (NP.01)."),
) -> None:
    """Test an extract the way Arkade 5 does (N5.01–N5.64) and more (NP.*). Exit 0 no errors, 1 errors, 2 could not run."""
    from .validation import validate as run_validate

    try:
        show = not _state["quiet"] and sys.stderr.isatty()

        def progress(stage: str, done: int, total: int | None = None) -> None:
            if show:
                typer.echo(f"\r{stage}: {done}" + (f"/{total}" if total else ""), err=True, nl=False)

        report = _nha_report(path)  # an NHA deposit has no Arkade tests: its checks are verify's NHA.* ones
        if report is None:
            report = run_validate(path, tests=set(test) if test else None, limit=limit, progress=progress,
                                  identify_formats=not no_identify)
        if show:
            typer.echo("", err=True)
        _write_reports(report, json_out, html_out, junit_out)
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    _summary_and_exit(report)


@app.command()
def package(
    path: Optional[Path] = typer.Argument(None, help="A deposit project (noarkpack.toml) or an extract folder."),
    profile: str = typer.Option("arkivverket-sip", "--profile", help="arkivverket-sip | arkivverket-aip | nha"),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write the package(s) into."),
    bag: bool = typer.Option(False, "--bag", help="Make OUT a BagIt bag (RFC 8493) around the package."),
    sha512: bool = typer.Option(False, "--sha512", help="Bag manifests with SHA-512 as well as SHA-256."),
    metadata: Optional[Path] = typer.Option(None, "--metadata", help="A TOML file with the [package] table "
                                            "(for an extract folder, or to override the project's)."),
    metadata_template: bool = typer.Option(False, "--metadata-template", help="Print a filled-in [package] "
                                           "table and exit."),
    allow_unconverted: bool = typer.Option(False, "--allow-unconverted", help="See extract."),
) -> None:
    """Make the deposit package: an Arkivverket SIP/AIP ({uuid}.tar + {uuid}.xml) or an NHA deposit."""
    if metadata_template:
        from .packaging import metadata_template as template

        typer.echo(template())
        return
    try:
        if path is None or out is None:
            raise NoarkpackError("PATH and --out are required", hint="noarkpack package PROJECT --out DIR")
        show = not _state["quiet"] and sys.stderr.isatty()

        def progress(stage: str, done: int, total: int = 0) -> None:
            if show:
                typer.echo(f"\r{stage}: {done}" + (f"/{total}" if total else "") + " " * 10, err=True, nl=False)

        if profile == "nha":
            if bag:
                raise NoarkpackError("--bag is for the Arkivverket profiles; an NHA deposit has its own package list")
            from .nha import run_nha_package

            result = run_nha_package(path, out, progress=lambda inc, exc: progress("journaler", inc + exc))
            if show:
                typer.echo("", err=True)
            if not _state["quiet"]:
                s = result.summary()
                typer.echo(f"NHA-avlevering: {s['path']}")
                typer.echo(f"  journaler:     {s['journals']} (utelatt: {s['excluded']})")
                for reason, n in sorted(s["excluded_by_reason"].items()):
                    typer.echo(f"    - {reason}: {n}")
                typer.echo(f"  pakker:        {s['packages']} ({s['epj_packages']} epj, {s['dok_packages']} dok)")
                typer.echo(f"  dokumenter:    {s['documents']} ({_human(s['bytes'])})")
                if s["warnings"]:
                    typer.echo(f"  advarsler:     {s['warnings']}")
            raise typer.Exit(0)
        if profile not in ("arkivverket-sip", "arkivverket-aip"):
            raise NoarkpackError(f"unknown profile {profile!r}", hint="arkivverket-sip, arkivverket-aip or nha")
        from .pipeline import package as run_package

        run = run_package(path, out, profile=profile, bag=bag, sha512=sha512, metadata_file=metadata,
                          allow_unconverted=allow_unconverted, progress=progress)
        if show:
            typer.echo("", err=True)
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    if not _state["quiet"]:
        for line in run.validation.summary_lines():
            typer.echo(line)
    if run.package is None:
        typer.echo("Ingen pakke laget: uttrekket har feil. Rapportene ligger her:", err=True)
        for r in run.reports:
            typer.echo(f"  {r}", err=True)
        raise typer.Exit(1)
    if not _state["quiet"]:
        _print_package(run.package, out)


@app.command()
def verify(
    path: Path = typer.Argument(..., help="A SIP/AIP tar (with its {uuid}.xml beside it), a bag, or an NHA deposit."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the findings as JSON to this file."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write an HTML report."),
    no_content: bool = typer.Option(False, "--no-content", help="Check fixity and structure only."),
) -> None:
    """The receiving depot's check: every checksum, the layout, safe members, then validate. Exit 0, 1 or 2."""
    try:
        report = _nha_report(path)
        if report is None:
            from .packaging import verify as run_verify

            report = run_verify(path, validate_content=not no_content)
        _write_reports(report, json_out, html_out)
    except BaseException as e:  # noqa: BLE001
        _fail(e)
        return
    _summary_and_exit(report)


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
