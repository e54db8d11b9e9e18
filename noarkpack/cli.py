"""The noarkpack command line: a thin face over the library.

Exit codes follow docs (DESIGN.md): 0 ok, 1 findings/rejected rows, 2 could
not run.  A :class:`~noarkpack.errors.NoarkpackError` becomes one clear line
on stderr (the traceback only with ``--debug``).  Nothing identifying
(names, fødselsnummer) is ever printed.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Optional

import typer

from ._version import __version__
from .errors import NoarkpackError
from .locale import N_, LanguageError, check, resolve, set_language, tr
from .locale.clitexts import LocalizedCommand, LocalizedGroup, install, take_lang, translate_message

try:  # typer 0.20+ carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    from typer.exceptions import Abort
except ImportError:  # pragma: no cover - an older typer on click itself
    from click.exceptions import Abort, ClickException, UsageError

    NoArgsIsHelpError = ()


def _show_usage_error(e: ClickException) -> None:
    """What click's ``show`` writes, in the run's language."""
    out = sys.stderr
    ctx = getattr(e, "ctx", None)
    if isinstance(e, NoArgsIsHelpError):  # the help, already in the run's language
        e.show()
        return
    if isinstance(e, UsageError) and ctx is not None:
        print(ctx.get_usage(), file=out)
        if ctx.command.get_help_option(ctx) is not None:
            print(tr("Try '{command} {option}' for help.", command=ctx.command_path,
                     option=ctx.help_option_names[0]), file=out)
        print(file=out)
    print(tr("Error: {message}", message=translate_message(e.format_message())), file=out)


class _Root(LocalizedGroup):
    """The root group: sets the run's language (``--lang`` anywhere on the line, else the environment) for the
    whole run and its worker processes, and shows usage errors in it (the click inside typer writes them in
    English only)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        lang, argv = take_lang(argv)
        try:
            lang = check(lang) if lang is not None else resolve(strict=True)
        except LanguageError as e:
            print(f"noarkpack: {e}", file=sys.stderr)
            if standalone_mode:
                sys.exit(2)
            raise UsageError(str(e)) from None
        before = os.environ.get("NOARKPACK_LANG")
        install()
        set_language(lang)  # the process and its workers (NOARKPACK_LANG); undone when the run ends
        try:
            try:
                rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            except ClickException as e:
                if not standalone_mode:
                    raise
                _show_usage_error(e)
                sys.exit(e.exit_code)
            except Abort:
                if not standalone_mode:
                    raise
                print(tr("Aborted!"), file=sys.stderr)
                sys.exit(1)
            if standalone_mode:
                sys.exit(rv if isinstance(rv, int) else 0)
            return rv
        finally:
            set_language(None)
            if before is None:
                os.environ.pop("NOARKPACK_LANG", None)
            else:
                os.environ["NOARKPACK_LANG"] = before



app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, cls=_Root,
                  help=N_("Closed patient journals to archival deposits "
                          "(Noark 5 v5.0 extracts, Arkivverket SIP/AIP, Norsk helsearkiv)."))
schemas_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, cls=LocalizedGroup,
                          help=N_("The store of official schemas (pinned by SHA-256)."))
app.add_typer(schemas_app, name="schemas")
source_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, cls=LocalizedGroup,
                         help=N_("A legacy source (database or SIARD archive): what it holds, a few of its rows."))
app.add_typer(source_app, name="source")

_state = {"debug": False, "quiet": False, "printer": None}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"noarkpack {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help=N_("Show tracebacks of errors.")),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=N_("No progress output (for scripts).")),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help=N_("Show the version.")),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="nb|en",
                                       help=N_("The language of every text: nb (bokmål) or en (English); else "
                                               "NOARKPACK_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG), else "
                                               "bokmål. Also accepted after the command.")),
) -> None:
    _state["debug"] = debug
    _state["quiet"] = quiet


_OS_ERRORS = {
    errno.ENOSPC: (N_("the disk is full"), N_("free space or choose another --out; nothing incomplete was left "
                                              "under a final name")),
    errno.EDQUOT: (N_("the disk quota is exceeded"), N_("free space or choose another --out")),
    errno.EACCES: (N_("permission denied"), N_("check the permissions of the folder")),
    errno.EPERM: (N_("operation not permitted"), N_("check the permissions of the folder")),
    errno.EROFS: (N_("the file system is read-only"), N_("choose another --out")),
    errno.ENOENT: (N_("no such file or folder"), N_("check the path")),
    errno.ENOTDIR: (N_("a file stands where a folder is expected"), N_("check the path")),
    errno.EISDIR: (N_("a folder stands where a file is expected"), N_("check the path")),
}


def _fail(e: BaseException) -> None:
    """One clear line on stderr and exit 2 (or the error's own code); the traceback only with --debug."""
    if isinstance(e, typer.Exit):
        raise e
    if _state["debug"]:
        traceback.print_exception(e)
    if isinstance(e, KeyboardInterrupt):
        typer.echo(tr("noarkpack: interrupted; nothing incomplete was left under a final name"), err=True)
        raise typer.Exit(130)
    if isinstance(e, NoarkpackError):
        typer.echo(tr("noarkpack: error: {error}", error=str(e)), err=True)
        raise typer.Exit(e.exit_code)
    if isinstance(e, OSError) and e.errno in _OS_ERRORS:
        what, todo = _OS_ERRORS[e.errno]
        if e.filename:
            line = tr("noarkpack: error: {file}: {what} ({todo})", file=str(e.filename), what=tr(what), todo=tr(todo))
        else:
            line = tr("noarkpack: error: {what} ({todo})", what=tr(what), todo=tr(todo))
        typer.echo(line, err=True)
        raise typer.Exit(2)
    if isinstance(e, MemoryError):
        typer.echo(tr("noarkpack: error: out of memory (run with --debug and report it)"), err=True)
        raise typer.Exit(2)
    typer.echo(tr("noarkpack: internal error: {kind} (run with --debug for details)", kind=type(e).__name__),
               err=True)
    raise typer.Exit(2)


#: the progress stages the library names (noarkpack.progress), as a person reads them
_STAGES = {
    "import": N_("import"), "analyse": N_("analysis"), "identify": N_("format identification"),
    "extract": N_("extract"), "numbering": N_("numbering"), "journaler": N_("journals"),
    "validate": N_("validation"), "hash": N_("checksums"), "tar": N_("tar file"), "verify": N_("verification"),
    "siard": N_("SIARD archive"),
}


def _stage_label(stage: str) -> str:
    """A stage id in the run's language (``convert fmt/18``: the format stays; a file name stays as it is)."""
    if stage.startswith("convert "):
        return tr("conversion {format}", format=stage[len("convert "):])
    label = _STAGES.get(stage)
    if label:
        return tr(label)
    head, _, detail = stage.partition(" ")  # "extract <arkivskaper>" (a split): the stage, then what it is on
    if head in _STAGES and detail:
        return f"{tr(_STAGES[head])} {detail}"
    return stage


class _ProgressPrinter:
    """The one progress printer: ``progress(stage, done, total_or_None)`` (noarkpack.progress) on stderr.

    One line per stage, rewritten in place: what is done (of the total when known), the seconds so far and,
    when the total is known, an estimate of the seconds left.
    """

    def __init__(self) -> None:
        self._stage: str | None = None
        self._t0 = time.monotonic()

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        if stage != self._stage:
            if self._stage is not None:
                typer.echo("", err=True)
            self._stage, self._t0 = stage, time.monotonic()
        secs = time.monotonic() - self._t0
        label = _stage_label(stage)
        count = f"{done}/{total}" if total else f"{done}"
        if total and done:
            left = secs / done * (total - done)
            if stage.startswith("convert ") and secs > 0:  # noarkpack convert: per format
                text = tr("{stage}: {count} ({secs:.0f} s, {rate:.0f} documents/min, about {left:.0f} s left)",
                          stage=label, count=count, secs=secs, rate=done / secs * 60, left=left)
            else:
                text = tr("{stage}: {count} ({secs:.0f} s, about {left:.0f} s left)", stage=label, count=count,
                          secs=secs, left=left)
        else:
            text = tr("{stage}: {count} ({secs:.0f} s)", stage=label, count=count, secs=secs)
        typer.echo(f"\r  {text}   ", err=True, nl=False)

    def done(self) -> None:
        """End the last stage's line."""
        if self._stage is not None:
            typer.echo("", err=True)
            self._stage = None


def progress_printer() -> _ProgressPrinter | None:
    """The progress callback of this command: only on a terminal, never with --quiet (None: no progress)."""
    if _state["quiet"] or not sys.stderr.isatty():
        return None
    _state["printer"] = _ProgressPrinter()
    return _state["printer"]


def _end_progress() -> None:
    if _state["printer"] is not None:
        _state["printer"].done()


def _echo(lines, err: bool = False) -> None:
    for line in lines:
        typer.echo(line, err=err)


def _edge(command):
    """Every command's edge: an error becomes one clear line and its exit code (:func:`_fail`); what the
    command returns (a report or a run, or a list of them: ``summary_lines()``, ``exit_code``, maybe
    ``problem_lines()``) is shown (the summary unless --quiet, the problems on stderr always) and gives the
    exit code."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        _state["printer"] = None
        try:
            result = command(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001
            _end_progress()  # the error on a line of its own
            _fail(e)
            return
        _end_progress()
        if result is None:
            return
        results = result if isinstance(result, list) else [result]  # the extracts of a split
        for r in results:
            if not _state["quiet"]:
                _echo(r.summary_lines())
            _echo(getattr(r, "problem_lines", list)(), err=True)
        raise typer.Exit(max(r.exit_code for r in results))

    return run


# -- schemas ------------------------------------------------------------------


@schemas_app.command("install", cls=LocalizedCommand,
    help=N_("Fill the schema store from DIR or from the official URLs; verify every byte."))
@_edge
def schemas_install(
    from_dir: Optional[Path] = typer.Option(None, "--from", help=N_("Folder holding the official files "
                                               "(found by their pinned SHA-256 anywhere below it).")),
    set_: Optional[list[str]] = typer.Option(None, "--set", help=N_("Only these schema sets (repeatable).")),
    no_download: bool = typer.Option(False, "--no-download", help=N_("Never use the network.")),
) -> None:
    from .schemas import default_store

    report = default_store().install(from_dir=from_dir, sets=set_ or None, download=not no_download)
    if not _state["quiet"] or not report.ok:
        typer.echo(report.summary(), err=not report.ok)
    if not report.ok:
        raise typer.Exit(2)


@schemas_app.command("list", cls=LocalizedCommand,
    help=N_("The pinned schema sets and whether each is installed."))
@_edge
def schemas_list() -> None:
    from .schemas import default_store, schema_sets

    store = default_store()
    typer.echo(tr("schema store: {path}", path=str(store.root)))
    for name, s in sorted(schema_sets().items()):
        padded, count = name.ljust(24), str(len(s.files)).rjust(3)
        try:
            store.set_dir(name)
            line = tr("{name} {count} files, installed", name=padded, count=count)
        except NoarkpackError:
            line = tr("{name} {count} files, not installed", name=padded, count=count)
        typer.echo(f"  {line}")


# -- the commands ---------------------------------------------------------------


@app.command("import", cls=LocalizedCommand,
    help=N_("Read the legacy export into the project's staging database, per the mapping. Exit 0, 1 rows rejected, 2."))
@_edge
def import_(project: Path = typer.Argument(..., help=N_("The deposit project folder (with noarkpack.toml)."))):
    from .pipeline import import_project

    return import_project(project, progress=progress_printer())


@app.command(cls=LocalizedCommand,
    help=N_("The migration analysis: what is in the export, what is wrong, what will be deposited. Exit 0, 1 blocking, 2."))
@_edge
def analyse(
    project: Path = typer.Argument(..., help=N_("The deposit project folder (with noarkpack.toml).")),
    json_out: Optional[Path] = typer.Option(None, "--json", help=N_("Write the analysis as JSON to this file.")),
    html_out: Optional[Path] = typer.Option(None, "--html", help=N_("Write a self-contained HTML report.")),
    show_identifiers: bool = typer.Option(False, "--show-identifiers", help=N_("Show names and fødselsnummer in "
                                             "the reports (masked by default).")),
):
    from .pipeline import analyse_project, write_reports

    a = analyse_project(project, show_identifiers=show_identifiers, progress=progress_printer())
    write_reports(a, json_out, html_out)
    return a


@app.command(cls=LocalizedCommand,
    help=N_("Identify and convert the documents to PDF/A into the project's cache, ahead of extract. Exit 0, 1 refused, 2."))
@_edge
def convert(
    project: Path = typer.Argument(..., help=N_("The deposit project folder (with noarkpack.toml).")),
    workers: Optional[int] = typer.Option(None, "--workers", help=N_("LibreOffice instances on this machine "
                                             "(default: [conversion] workers, else one per core).")),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=N_("Convert on a Dask cluster: its "
                                               "scheduler's address, tcp://HOST:8786 (needs noarkpack[cluster]).")),
):
    from .pipeline import convert_project

    return convert_project(project, workers=workers, scheduler=scheduler, progress=progress_printer())


@app.command(cls=LocalizedCommand,
    help=N_("Write a Noark 5 v5.0 extract: OUT/avleveringspakke/."))
@_edge
def extract(
    project: Path = typer.Argument(..., help=N_("The deposit project folder (with noarkpack.toml).")),
    out: Path = typer.Option(..., "--out", help=N_("Folder to write avleveringspakke/ into.")),
    split_by: Optional[str] = typer.Option(None, "--split-by", help=N_("'arkivskaper': one extract per arkivskaper, "
                                              "in OUT/<arkivskaper>/avleveringspakke/.")),
    overwrite: bool = typer.Option(False, "--overwrite", help=N_("Replace an existing avleveringspakke/.")),
    allow_unconverted: bool = typer.Option(False, "--allow-unconverted", help=N_("Keep documents that cannot be "
                                              "converted to an archival format (listed in the summary) instead of "
                                              "stopping.")),
):
    from .pipeline import extract_project
    from .project import load_project

    return extract_project(load_project(project), out, split_by=split_by, overwrite=overwrite,
                           allow_unconverted=allow_unconverted, progress=progress_printer())


@app.command(cls=LocalizedCommand,
    help=N_("import → analyse → extract → validate → package, stopping at the first blocking finding."))
@_edge
def deposit(
    project: Path = typer.Argument(..., help=N_("The deposit project folder (with noarkpack.toml).")),
    out: Path = typer.Option(..., "--out", help=N_("Folder to write the package into.")),
    profile: str = typer.Option("arkivverket-sip", "--profile", help=N_("arkivverket-sip | arkivverket-aip | nha")),
    bag: bool = typer.Option(False, "--bag", help=N_("Make OUT a BagIt bag around the package.")),
    sha512: bool = typer.Option(False, "--sha512", help=N_("Bag manifests with SHA-512 as well.")),
    metadata: Optional[Path] = typer.Option(None, "--metadata", help=N_("A TOML file with the [package] table.")),
    allow_unconverted: bool = typer.Option(False, "--allow-unconverted", help=N_("See extract.")),
    show_identifiers: bool = typer.Option(False, "--show-identifiers", help=N_("Unmasked analysis reports.")),
):
    from .pipeline import deposit as run_deposit

    return run_deposit(project, out, profile=profile, bag=bag, sha512=sha512, metadata_file=metadata,
                       allow_unconverted=allow_unconverted, show_identifiers=show_identifiers,
                       progress=progress_printer())


@app.command(cls=LocalizedCommand,
    help=N_("Test an extract the way Arkade 5 does (N5.01–N5.64) and more (NP.*). Exit 0 no errors, 1 errors, 2 could not run."))
@_edge
def validate(
    path: Path = typer.Argument(..., help=N_("An extract folder, a SIP/AIP tar, a folder with content/, or the --out "
                                             "folder package wrote (its one package is found).")),
    json_out: Optional[Path] = typer.Option(None, "--json", help=N_("Write the findings as JSON to this file.")),
    html_out: Optional[Path] = typer.Option(None, "--html", help=N_("Write a self-contained HTML report.")),
    junit_out: Optional[Path] = typer.Option(None, "--junit", help=N_("Write JUnit XML (one testcase per test id).")),
    limit: Optional[int] = typer.Option(None, "--limit", help=N_("Show at most N findings per test.")),
    test: Optional[list[str]] = typer.Option(None, "--test", help=N_("Only these tests (repeatable, e.g. N5.30).")),
    no_identify: bool = typer.Option(False, "--no-identify", help=N_("Skip format identification (NP.01).")),
):
    from .pipeline import validate_path, write_reports

    report = validate_path(path, tests=set(test) if test else None, limit=limit, identify_formats=not no_identify,
                           progress=progress_printer())
    write_reports(report, json_out, html_out, junit_out)
    return report


@app.command(cls=LocalizedCommand,
    help=N_("Make the deposit package: an Arkivverket SIP/AIP ({uuid}.tar + {uuid}.xml) or an NHA deposit."))
@_edge
def package(
    path: Optional[Path] = typer.Argument(None, help=N_("A deposit project (noarkpack.toml) or an extract folder.")),
    profile: str = typer.Option("arkivverket-sip", "--profile", help=N_("arkivverket-sip | arkivverket-aip | nha")),
    out: Optional[Path] = typer.Option(None, "--out", help=N_("Folder to write the package(s) into.")),
    bag: bool = typer.Option(False, "--bag", help=N_("Make OUT a BagIt bag (RFC 8493) around the package.")),
    sha512: bool = typer.Option(False, "--sha512", help=N_("Bag manifests with SHA-512 as well as SHA-256.")),
    metadata: Optional[Path] = typer.Option(None, "--metadata", help=N_("A TOML file with the [package] table "
                                               "(for an extract folder, or to override the project's).")),
    metadata_template: bool = typer.Option(False, "--metadata-template", help=N_("Print a filled-in [package] "
                                              "table and exit.")),
    allow_unconverted: bool = typer.Option(False, "--allow-unconverted", help=N_("See extract.")),
):
    if metadata_template:
        from .packaging import metadata_template as template

        typer.echo(template())
        return None
    if path is None or out is None:
        raise NoarkpackError(tr("PATH and --out are required"), hint=tr("noarkpack package PROJECT --out DIR"))
    from .pipeline import package as run_package

    return run_package(path, out, profile=profile, bag=bag, sha512=sha512, metadata_file=metadata,
                       allow_unconverted=allow_unconverted, progress=progress_printer())


@app.command(cls=LocalizedCommand,
    help=N_("The receiving depot's check: every checksum, the layout, safe members, then validate. Exit 0, 1 or 2."))
@_edge
def verify(
    path: Path = typer.Argument(..., help=N_("A SIP/AIP tar (with its {uuid}.xml beside it), a bag, an NHA deposit, or "
                                             "the --out folder package wrote (its one package is found).")),
    json_out: Optional[Path] = typer.Option(None, "--json", help=N_("Write the findings as JSON to this file.")),
    html_out: Optional[Path] = typer.Option(None, "--html", help=N_("Write an HTML report.")),
    no_content: bool = typer.Option(False, "--no-content", help=N_("Check fixity and structure only.")),
):
    from .pipeline import verify_path, write_reports

    report = verify_path(path, validate_content=not no_content, progress=progress_printer())
    write_reports(report, json_out, html_out)
    return report


# -- the web face (issue 21) -----------------------------------------------------------------------------------


@app.command(cls=LocalizedCommand,
    help=N_("A local web page to run the stages, follow their progress, read the findings and browse extracts. "
            "Only this machine can reach it (127.0.0.1), with the token in the address it prints."))
@_edge
def serve(
    paths: Optional[list[Path]] = typer.Argument(None, metavar="[PATH]...", help=N_("Deposit projects, extracts, packages, bags or NHA "
                                                               "deposits, or folders holding them (default: the "
                                                               "current folder).")),
    port: int = typer.Option(0, "--port", help=N_("The port on 127.0.0.1 (default: a free one).")),
    no_browser: bool = typer.Option(False, "--no-browser", help=N_("Do not open the browser; only print the "
                                                                    "address.")),
) -> None:
    roots = [p.resolve() for p in (paths or [Path.cwd()])]
    for p in roots:
        if not p.exists():
            raise NoarkpackError(tr("{path} does not exist", path=str(p)), hint=tr("check the path"))
    if not 0 <= port <= 65535:
        raise NoarkpackError(tr("--port takes a number from 0 (a free one) to 65535"))
    from .web import serve as run_server

    def ready(url: str) -> None:
        typer.echo(tr("noarkpack serve: open {url}", url=url))
        typer.echo(tr("Only this machine can reach it. Press Ctrl-C to stop."))
        sys.stdout.flush()
        if not no_browser:
            import threading
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    try:
        run_server(roots, port=port, on_ready=ready)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise NoarkpackError(tr("port {port} is in use", port=port),
                                 hint=tr("choose another --port, or leave it out for a free one")) from None
        raise


# -- legacy sources (issue 18) ----------------------------------------------------------------


@source_app.command("inspect", cls=LocalizedCommand,
    help=N_("Schemas, tables, columns with types, row counts, LOB columns, and which the project's mapping reads."))
@_edge
def source_inspect(
    target: str = typer.Argument(..., help=N_("A project folder (its [import.source]), a database URL or a .siard file.")),
    as_json: bool = typer.Option(False, "--json", help=N_("Print the catalogue as JSON.")),
) -> None:
    import json

    from .project import load_project
    from .sources.inspect import catalog_lines, inspect_source, resolve_target

    cat = inspect_source(resolve_target(target, load_project))
    if as_json:
        typer.echo(json.dumps(cat.to_json(), ensure_ascii=False, indent=2))
    else:
        _echo(catalog_lines(cat))


@source_app.command("sample", cls=LocalizedCommand,
    help=N_("The first rows of one table, identifiers masked unless --show-identifiers; LOBs as their size."))
@_edge
def source_sample(
    target: str = typer.Argument(..., help=N_("A project folder, a database URL or a .siard file.")),
    table: str = typer.Option(..., "--table", help=N_("The table (schema.table where the source has schemas).")),
    rows: int = typer.Option(5, "--rows", help=N_("How many rows (1–1000).")),
    show_identifiers: bool = typer.Option(False, "--show-identifiers", help=N_("Show person numbers and names.")),
) -> None:
    from .project import load_project
    from .sources.inspect import resolve_target, sample_rows

    cols, got = sample_rows(resolve_target(target, load_project), table, rows, show_identifiers=show_identifiers)
    widths = [max([len(c)] + [len(r[i]) for r in got]) for i, c in enumerate(cols)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
    for r in got:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
