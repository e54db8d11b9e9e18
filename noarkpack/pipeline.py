"""The whole path as library calls: import, analyse, extract, validate, package, deposit.

The CLI is a thin face over these functions; a migration script can call
them directly.  Nothing here prints or exits; progress goes through callbacks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, ExtractError, ModelError, NoarkpackError
from .findings import ReportLike, Tally
from .fsutil import human_size, pid_alive, write_text_atomic
from .locale import current, tr
from .model.selection import reason_label
from .noark5.writer import ExtractResult, ExtractWriter
from .progress import Progress
from .project import PROJECT_FILE, Project, load_project


@dataclass
class ExtractRun:
    result: ExtractResult
    conversion: object | None = None  # ConversionReport of the pre-pass, when there was one
    arkivskaper: str | None = None  # the arkivskaper key of a split extract
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (journal_id, reason) left out by [selection]
    seconds: float | None = None  # how long the extract took (not for the extracts of a split)

    exit_code = 0  # an extract that cannot be written raises NoarkpackError

    @property
    def excluded_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, reason in self.excluded:
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    def summary_lines(self) -> list[str]:
        """What was written: counts, sizes, conversions, documents kept unconverted, journals left out.

        In the current language (noarkpack.locale); the labels are aligned in one column."""
        r = self.result
        rows: list[tuple[str, str] | str] = [  # (label, value), or a line as it is
            (tr("patient journals (mappe):"), str(r.mappe)),
            (tr("records (registrering):"),
             tr("{count} (journalposts: {journalposts})", count=r.registrering, journalposts=r.journalposter))]
        if r.open_at_end:
            rows.append((tr("in the journals:"),
                         tr("{count} journalposts, {from_open} of them from {journals} journal(s) open at the end "
                            "of the period (periodeskille {skille})", count=r.journalregistreringer,
                            from_open=r.journalregistreringer - r.journalposter, journals=r.open_at_end,
                            skille=r.utgaaende_skille)))
        rows += [(tr("document files:"), f"{r.dokumentfiler} ({human_size(r.document_bytes)})"),
                 (tr("changes (endringslogg):"), str(r.endringer)),
                 (tr("total:"), tr("{size} in {seconds:.1f} s", size=human_size(r.total_bytes), seconds=self.seconds)
                  if self.seconds is not None else human_size(r.total_bytes))]
        conv = self.conversion
        if r.converted or conv:
            rows.append((tr("converted to PDF/A:"),
                         tr("{count} ({new} new, {seconds:.1f} s)", count=r.converted, new=conv.converted,
                            seconds=conv.seconds) if conv else str(r.converted)))
        if r.unconverted:
            rows.append((tr("not converted:"), tr("{count} (kept in their original format)",
                                                  count=len(r.unconverted))))
            rows += [f"    - {where} ({puid}): {reason}" for where, puid, reason in r.unconverted]
        if r.skipped:
            rows.append((tr("left out:"), tr("{count} journal(s)", count=len(r.skipped))))
            reasons: dict[str, int] = {}
            for _, reason in r.skipped:
                label = reason_label(reason)
                reasons[label] = reasons.get(label, 0) + 1
            rows += [f"    - {reason}: {n}" for reason, n in sorted(reasons.items())]
        lines = [f"[{self.arkivskaper}]"] if self.arkivskaper else []
        lines.append(tr("Extract written: {path}", path=str(r.path)))
        return lines + _aligned(rows)


def _aligned(rows: list, indent: str = "  ", least: int = 27) -> list[str]:
    """Summary rows (label, value) as lines with the values in one column (labels differ in length between
    languages); a row that is a string is a line as it is."""
    width = max([least, *(len(row[0]) for row in rows if not isinstance(row, str))])
    return [row if isinstance(row, str) else f"{indent}{row[0]:<{width}} {row[1]}" for row in rows]


SPLITS = ("arkivskaper",)
PROFILES = ("arkivverket-sip", "arkivverket-aip", "nha")  # of package and deposit


def import_project(project: Project | str | Path, progress: Progress | None = None):
    """``noarkpack import PROJECT``: the export → the staging database (an ImportReport; exit_code 1 when rows
    were rejected).  Raises NoarkpackError (exit 2) when the import cannot run; the database is then unchanged."""
    if not isinstance(project, Project):
        project = load_project(project)
    return project.import_export(progress)


def analyse_project(project: Project | str | Path, *, show_identifiers: bool = False,
                    identify_formats: bool = True, progress: Progress | None = None):
    """``noarkpack analyse PROJECT``: the migration analysis (an Analysis; exit_code 1 when a finding blocks)."""
    from .analysis import analyse

    if not isinstance(project, Project):
        project = load_project(project)
    return analyse(project, show_identifiers=show_identifiers, identify_formats=identify_formats,
                   progress=progress)


def convert_project(project: Project | str | Path, *, workers: int | None = None, scheduler: str | None = None,
                    batch_size: int | None = None, progress: Progress | None = None):
    """``noarkpack convert PROJECT``: identify the selected journals' documents and convert those that are not
    archival into the project's conversion cache, ahead of the extract (a ConvertRun; exit_code 1 when a
    document was refused).  Resumable: what an earlier (or killed) run converted is reused.  ``scheduler``:
    a Dask scheduler's address (``tcp://HOST:8786``) to convert on its workers (noarkpack.conversion.cluster).
    ``extract`` and ``deposit`` then find every conversion in the cache and convert nothing again."""
    from .conversion import convert_documents
    from .documents import persistent_identifications
    from .prepass import documents_in_order

    if not isinstance(project, Project):
        project = load_project(project)
    cache = project.conversion_cache()
    if cache is None:
        raise ConfigError(tr("conversion is off for this project: there is nothing to convert"), file=PROJECT_FILE,
                          hint=tr("set [conversion] enabled = true in noarkpack.toml"))
    client = None
    if scheduler:
        from .conversion.cluster import connect

        client = connect(scheduler)
    try:
        with persistent_identifications(project.identification_store):
            docs = documents_in_order(project.selected_journals(), project.settings.documents_root)
            return convert_documents(docs, cache, workers=workers or project.conversion.workers, client=client,
                                     batch_size=batch_size, progress=progress)
    finally:
        if client is not None:
            client.close()


def _safe_key(key: str) -> str:
    if not key or key in (".", "..") or any(c in key for c in "/\\:*?\"<>|") or key.startswith("."):
        raise ConfigError(tr("arkivskaper key {key} cannot be a folder name for a split extract", key=repr(key)),
                          file=PROJECT_FILE, hint=tr("use letters, digits, - and _ in [[arkivskaper]] key"))
    return key


def _extract_one(project: Project, out: Path, settings, key: str | None, cache, *, overwrite: bool,
                 allow_unconverted: bool, progress: Progress | None, numbering) -> ExtractRun | None:
    """One extract of the selected journals (of one arkivskaper when ``key``); None when there are none."""
    label = "extract" if key is None else f"extract {key}"
    total = (project.journal_count(arkivskaper=key) or None) if progress else None

    def on_journal(stage: str, done: int, _total: int | None = None) -> None:
        if progress:  # journals read (written + left out) of all the source holds: the CLI shows an ETA
            progress(label, done + len(excluded), total)

    excluded: list[tuple[str, str]] = []
    w = ExtractWriter(out, settings, progress=on_journal, overwrite=overwrite, conversion=cache,
                      allow_unconverted=allow_unconverted or project.conversion.allow_unconverted,
                      numbering=numbering)
    w.open()
    try:
        def on_excluded(j, reason: str) -> None:
            excluded.append((j.journal_id, reason))
            w.leave_out(j, reason)  # listed; open at the end of the period: its journalposts in the journals

        for journal in project.selected_journals(on_excluded, arkivskaper=key):
            w.add(journal)
        if key is not None and w.result.journals == 0:
            w.abort()
            return None
        w.close()
    except BaseException:
        w.abort()
        raise
    return ExtractRun(w.result, None, key, excluded)


def extract_project(project: Project, out: Path, *, split_by: str | None = None, overwrite: bool = False,
                    allow_unconverted: bool = False, progress: Progress | None = None):
    """Write the extract of the project's selected journals.

    Without ``split_by``: ``out/avleveringspakke`` (an :class:`ExtractRun`).  With ``split_by="arkivskaper"``
    (a fellesarkiv): ``out/<arkivskaper key>/avleveringspakke`` for every arkivskaper that has selected
    journals, each complete and valid on its own (a list of ExtractRun, in the order of noarkpack.toml).
    Only the journals ``[selection]`` selects are written (never an open one); every journal left out is in
    ``run.excluded`` and ``run.result.skipped`` with its reason.  Documents are identified, and those
    that are not in an archival format converted (in parallel), by a prepass child process ahead of the
    writer (noarkpack.prepass); identifications are kept in the project for later runs.
    """
    from .conversion import ConversionReport
    from .documents import persistent_identifications
    from .prepass import Prepass

    t0 = time.monotonic()
    out = Path(out)
    if split_by is not None and split_by not in SPLITS:
        raise ConfigError(tr("cannot split by {value}", value=repr(split_by)), hint="--split-by arkivskaper")
    cache = project.conversion_cache()
    if cache is not None:
        # "new" in the summary: the conversions this extract used whose entries were committed during it, by
        # whichever process made them (this one, or the prepass child: its own report may be lost if it dies)
        cache.run_started_ns = time.time_ns()
    # Documents are identified (and converted) by a child process ahead of the writer; what the
    # analysis or an earlier run identified is reused from the project's store.
    with persistent_identifications(project.identification_store), \
            Prepass(project, cache=cache, workers=project.conversion.workers) as prepass:
        runs = _extract_all(project, out, split_by, cache, overwrite=overwrite,
                            allow_unconverted=allow_unconverted, progress=progress)
    stats = prepass.report or {}
    made = len(cache.fresh) if cache is not None else 0
    conv_report = ConversionReport(converted=made, seconds=stats.get("conversion_seconds", 0.0)) if made else None
    for run in (runs if isinstance(runs, list) else [runs]):
        run.conversion = conv_report
    if not isinstance(runs, list):
        runs.seconds = time.monotonic() - t0
    return runs


def _extract_all(project: Project, out: Path, split_by: str | None, cache, *, overwrite: bool,
                 allow_unconverted: bool, progress: Progress | None):
    # The numbers of creation order, over every journal of the project (selected or not, every
    # arkivskaper): a journal has the same numbers in a split extract as in the whole one.
    with project.numbering(progress=progress) as numbering:
        return _extract_numbered(project, out, split_by, cache, overwrite=overwrite,
                                 allow_unconverted=allow_unconverted, progress=progress, numbering=numbering)


def _extract_numbered(project: Project, out: Path, split_by: str | None, cache, *, overwrite: bool,
                      allow_unconverted: bool, progress: Progress | None, numbering):
    if split_by is None:
        return _extract_one(project, out, project.settings, None, cache, overwrite=overwrite,
                            allow_unconverted=allow_unconverted, progress=progress, numbering=numbering)
    declared = [a.key for a in project.settings.arkivskapere]
    unknown = sorted(set(project.arkivskaper_keys()) - set(declared))
    if unknown:
        raise ModelError(tr("journals belong to arkivskaper key(s) not declared in noarkpack.toml: {keys}",
                            keys=", ".join(unknown)),
                         hint=tr("add an [[arkivskaper]] table for each (or map the source's code with a value map)"))
    runs = []
    for key in declared:
        run = _extract_one(project, out / _safe_key(key), project.settings.only(key), key, cache,
                           overwrite=overwrite, allow_unconverted=allow_unconverted, progress=progress,
                           numbering=numbering)
        if run is not None:
            runs.append(run)
    if not runs:
        raise ExtractError(tr("no closed journal to extract for any arkivskaper"),
                           hint=tr("check the source and the selection (open journals are never extracted)"))
    return runs


def _clean_stale(folder: Path, prefix: str) -> None:
    """Remove working folders ``<prefix><pid>-…`` left by runs that no longer live (kill -9, power loss)."""
    for p in folder.glob(prefix + "*"):
        pid = p.name[len(prefix):].split("-", 1)[0]
        if p.is_dir() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


@dataclass
class PackageRun:
    validation: object  # noarkpack.validation.Report
    package: object | None = None  # noarkpack.packaging.PackageResult (None when validation found errors)
    extract: ExtractRun | None = None
    reports: list[Path] = field(default_factory=list)
    out: Path | None = None  # the folder the package was written into (as given)

    @property
    def exit_code(self) -> int:
        return 0 if self.package is not None else 1

    def summary_lines(self) -> list[str]:
        """The validation's summary, then the package's tar, checksum, description (and bag)."""
        lines = list(self.validation.summary_lines())
        p = self.package
        if p is not None:
            lines.append(tr("Package: {tar} ({size})", tar=str(p.tar), size=human_size(p.tar_size)))
            lines += [f"  SHA-256: {p.tar_sha256}", "  " + tr("description: {path}", path=str(p.description))]
            if p.bag:
                lines.append(f"  BagIt: {self.out}")
        return lines

    def problem_lines(self) -> list[str]:
        """Why no package was made and where the reports are (empty when it was made)."""
        if self.package is not None:
            return []
        return [tr("No package made: the extract has errors. The reports are here:"),
                *(f"  {r}" for r in self.reports)]


def _load_metadata(config: dict, metadata_file: Path | None):
    import tomllib

    from .packaging import PackageMetadata

    if metadata_file is not None:
        try:
            with open(metadata_file, "rb") as f:
                config = {**config, **tomllib.load(f)}
        except FileNotFoundError:
            raise NoarkpackError(tr("the metadata file does not exist"), file=metadata_file) from None
        except tomllib.TOMLDecodeError as e:
            raise NoarkpackError(tr("not valid TOML: {error}", error=str(e)), file=metadata_file) from None
    meta = PackageMetadata.from_toml(config)
    meta.check()
    return meta


def package(path: Path, out: Path, *, profile: str, bag: bool = False, sha512: bool = False,
            metadata_file: Path | None = None, allow_unconverted: bool = False,
            progress: Progress | None = None) -> PackageRun | NhaRun:
    """Package PROJECT (extracted first) or an EXTRACT folder as an Arkivverket SIP/AIP in ``out``.

    The content is validated first; with errors no package is written and the
    reports (JSON, HTML) are left in ``out`` for the archivist.  With ``profile="nha"``: the
    EPJARK deposit of PROJECT (:func:`package_nha`, an :class:`NhaRun`).
    """
    if profile == "nha":
        return package_nha(path, out, bag=bag, progress=progress)
    if profile not in PROFILES:
        raise NoarkpackError(tr("unknown profile {profile}", profile=repr(profile)),
                             hint=tr("choose one of: {profiles}", profiles=", ".join(PROFILES)))
    from .packaging import build_package
    from .validation import validate

    path = Path(path)
    out = Path(out)
    is_project = (path / PROJECT_FILE).is_file() or path.name == PROJECT_FILE
    config: dict = {}
    extract_run = None
    work = None
    try:
        if is_project:
            project = load_project(path)
            config = project.config
            meta = _load_metadata(config, metadata_file)
            # The working extract sits beside OUT (same disk), so OUT stays new for a bag.  Its name
            # carries our pid, so a later run can tell a crashed run's leftovers from a live one's.
            out.parent.mkdir(parents=True, exist_ok=True)
            _clean_stale(out.parent, f".{out.name}.work-")
            work = Path(tempfile.mkdtemp(prefix=f".{out.name}.work-{os.getpid()}-", dir=out.parent))
            extract_run = extract_project(project, work, allow_unconverted=allow_unconverted, progress=progress)
            extract_dir = work / "avleveringspakke"
        else:
            extract_dir = path / "avleveringspakke" if (path / "avleveringspakke").is_dir() else path
            if not (extract_dir / "arkivuttrekk.xml").is_file():
                raise NoarkpackError(tr("neither a deposit project (noarkpack.toml) nor an extract (arkivuttrekk.xml)"),
                                     file=path, hint=tr("give a project folder or an avleveringspakke folder"))
            meta = _load_metadata(config, metadata_file)
        report = validate(extract_dir, progress=(lambda s, d, t=None: progress("validate", d, t))
                          if progress else None)
        if work is not None:
            # The working extract is removed when we are done: name what was validated instead.
            report.path = tr("the extract of {path}", path=str(path))
        run = PackageRun(validation=report, extract=extract_run, out=out)
        if report.errors:
            out.mkdir(parents=True, exist_ok=True)
            for name, text in (("validering.json", report.iter_json()), ("validering.html", report.to_html())):
                write_text_atomic(out / name, text)
                run.reports.append(out / name)
            return run
        run.package = build_package(
            extract_dir, out, profile=profile, metadata=meta, bag=bag,
            bag_algorithms=("sha256", "sha512") if sha512 else ("sha256",), validation_report=report.portable(),
            extract_result=extract_run.result if extract_run else None,
            run_facts=dict(excluded_by_reason=extract_run.excluded_by_reason,
                           selection=dict(config.get("selection") or {})) if extract_run else None,
            progress=progress)
        return run
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


class NhaRun:
    """What ``noarkpack package --profile nha`` made: the :class:`~noarkpack.nha.NhaResult` as a report.

    No errors (a deposit that cannot be made raises NoarkpackError); ``warnings`` counts, and iterates over,
    ``result.warnings`` (invalid person numbers, formats, diagnoses: NHA.13–NHA.16, NHA.18).
    """

    def __init__(self, result) -> None:
        self.result = result  # noarkpack.nha.NhaResult

    errors = Tally()
    exit_code = 0

    @property
    def warnings(self) -> Tally:
        return Tally(self.result.warnings)

    def summary_lines(self) -> list[str]:
        s = self.result.summary()
        rows: list[tuple[str, str] | str] = [
            (tr("journals:"), tr("{count} (left out: {excluded})", count=s["journals"], excluded=s["excluded"]))]
        rows += [f"    - {reason_label(reason)}: {n}" for reason, n in sorted(s["excluded_by_reason"].items())]
        rows += [(tr("packages:"), tr("{count} ({epj} epj, {dok} dok)", count=s["packages"], epj=s["epj_packages"],
                                      dok=s["dok_packages"])),
                 (tr("documents:"), f"{s['documents']} ({human_size(s['bytes'])})")]
        if s["warnings"]:
            rows.append((tr("warnings:"), str(s["warnings"])))
        return [tr("NHA deposit: {path}", path=str(s["path"])), *_aligned(rows, least=14)]

    def to_json(self) -> dict:
        from .nha.findings import finding_json

        return {"summary": self.result.summary(), "warnings": [finding_json(f) for f in self.result.warnings]}

    def to_html(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(f.test)}</td><td>{html.escape(f.severity)}</td>"
                       f"<td>{html.escape(f.message)}</td></tr>" for f in self.result.warnings)
        lines = "\n".join(html.escape(line) for line in self.summary_lines())
        title = html.escape(tr("NHA deposit"))
        heads = "".join(f"<th>{html.escape(h)}</th>" for h in (tr("test"), tr("severity"), tr("message")))
        return (f"<!DOCTYPE html>\n<html lang='{current()}'><head><meta charset='utf-8'><title>noarkpack: {title}"
                f"</title></head><body><h1>{title}</h1><pre>{lines}</pre>"
                f"<table><tr>{heads}</tr>{rows}</table></body></html>\n")


def package_nha(path: str | Path, out: Path, *, bag: bool = False, progress: Progress | None = None) -> NhaRun:
    """``noarkpack package PROJECT --profile nha --out DIR``: the EPJARK deposit (noarkpack.nha.run_nha_package).

    Progress: stage "journaler", the journals read so far (deposited and left out).
    """
    from .nha import run_nha_package

    if bag:
        raise NoarkpackError(tr("--bag is for the Arkivverket profiles; an NHA deposit has its own package list"))
    return NhaRun(run_nha_package(path, out, progress=progress))


@dataclass
class DepositRun:
    """What ``noarkpack deposit`` did, and where it stopped."""

    stage: str  # "analyse" (blocking findings) | "validate" (validation errors) | "done"
    import_report: object | None = None  # ImportReport (None for a direct JSON Lines source)
    analysis: object | None = None  # noarkpack.analysis.Analysis
    package: PackageRun | NhaRun | None = None  # NhaRun with profile "nha"
    reports: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.stage == "done" else 1

    def summary_lines(self) -> list[str]:
        """The import's and the analysis's summaries, then the validation's and the package's."""
        lines: list[str] = []
        for part in (self.import_report, self.analysis):
            if part is not None:
                lines += part.summary_lines()
        if self.package is not None:
            lines += self.package.summary_lines()
        return lines

    def problem_lines(self) -> list[str]:
        """Why the deposit stopped and where the reports are (empty when it was made)."""
        if self.stage == "done":
            return []
        return [tr("Stopped: findings that block the deposit. The reports are here:"),
                *(f"  {r}" for r in self.reports)]


def deposit(project_dir: str | Path, out: Path, *, profile: str = "arkivverket-sip", bag: bool = False,
            sha512: bool = False, metadata_file: Path | None = None, allow_unconverted: bool = False,
            show_identifiers: bool = False, progress: Progress | None = None) -> DepositRun:
    """``noarkpack deposit PROJECT --out DIR``: import → analyse → extract → validate → package.

    It stops at the first blocking stage: rows rejected by the import and every other blocking finding stop it
    after the analysis (analyse.json and analyse.html are then written to ``out``); validation errors stop it
    before packaging (validering.json/.html in ``out``, as ``package`` does).  A step that cannot run raises
    NoarkpackError (exit 2).  The import always runs, so the deposit is made from the export as it is now.
    With ``profile="nha"`` the package is the EPJARK deposit (:func:`package_nha`; no Noark 5 extract, so no
    extract and validate step: the NHA writer checks every file it writes against NHA's schemas).
    """
    import json

    if profile not in PROFILES:
        raise NoarkpackError(tr("unknown profile {profile} for deposit", profile=repr(profile)),
                             hint=tr("choose one of: {profiles}", profiles=", ".join(PROFILES)))
    out = Path(out)
    project = load_project(project_dir)
    run = DepositRun(stage="analyse")
    if project.uses_staging:
        run.import_report = import_project(project, progress=progress)
    run.analysis = analyse_project(project, show_identifiers=show_identifiers, progress=progress)
    if run.analysis.exit_code:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in (("analyse.json", json.dumps(run.analysis.to_json(), ensure_ascii=False, indent=2)),
                           ("analyse.html", run.analysis.to_html())):
            (out / name).write_text(text, encoding="utf-8")
            run.reports.append(out / name)
        return run
    run.package = package(Path(project_dir), out, profile=profile, bag=bag, sha512=sha512,
                          metadata_file=metadata_file, allow_unconverted=allow_unconverted, progress=progress)
    if isinstance(run.package, PackageRun):
        run.reports = list(run.package.reports)
    run.stage = "done" if run.package.exit_code == 0 else "validate"
    return run


def validate_path(path: str | Path, *, tests: set[str] | None = None, limit: int | None = None,
                  identify_formats: bool = True, progress: Progress | None = None):
    """``noarkpack validate PATH``: a validation Report, or for an NHA deposit the NHA checks (an NhaReport:
    an NHA deposit has no Arkade tests, its checks are verify's NHA.* ones)."""
    from .validation import validate

    located = _locate(path, "validate")
    report = _nha_report(located.path)
    if report is None:
        report = validate(located.path, tests=tests, limit=limit, progress=progress,
                          identify_formats=identify_formats)
    return _found(report, located)


def verify_path(path: str | Path, *, validate_content: bool = True, progress: Progress | None = None):
    """``noarkpack verify PATH``: a VerifyReport of a SIP/AIP tar or a bag, or an NhaReport of an NHA deposit;
    ``progress("verify", bytes read, tar size)`` while a tar is read (noarkpack.progress)."""
    located = _locate(path, "verify")
    report = _nha_report(located.path)
    if report is None:
        from .packaging import verify

        report = verify(located.path, validate_content=validate_content, progress=progress)
    return _found(report, located)


def _locate(path: str | Path, verb: str):
    """PATH, or the one package in the folder PATH (the --out folder of package/deposit): packaging.locate."""
    from .nha.detect import is_nha_deposit
    from .packaging.locate import locate_package

    return locate_package(path, verb=verb, others={"nha-deposit": is_nha_deposit})


def _found(report, located):
    """The report, with the line that says which package was found first when PATH was the folder around it."""
    if located.note is None:
        return report
    from .packaging.locate import FoundReport

    return FoundReport(report, located.note)


def _nha_report(path: str | Path):
    """The NHA checks as a report when PATH is an NHA deposit, else None."""
    from .nha.detect import is_nha_deposit

    if not is_nha_deposit(path):
        return None
    from .nha import NhaReport, verify_deposit

    report = NhaReport(str(path))
    report.extend(verify_deposit(path))
    return report


def write_reports(report: ReportLike, json_out: Path | None = None, html_out: Path | None = None,
                  junit_out: Path | None = None) -> None:
    """The --json/--html/--junit files of a report, each written atomically (JSON streamed when it can be)."""
    import json

    if json_out:
        iter_json = getattr(report, "iter_json", None)  # a validation report streams its findings
        write_text_atomic(json_out, iter_json() if iter_json is not None
                          else json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    if html_out:
        write_text_atomic(html_out, report.to_html())
    if junit_out:
        to_junit = getattr(report, "to_junit", None)
        if to_junit is None:
            raise NoarkpackError(tr("--junit is for Noark 5 extracts (an NHA deposit has its NHA.* checks only)"))
        write_text_atomic(junit_out, to_junit())
