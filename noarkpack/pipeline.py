"""The whole path as library calls: extract a project, validate, package.

The CLI is a thin face over these functions; a migration script can call
them directly.  Nothing here prints or exits; progress goes through callbacks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import NoarkpackError
from .noark5.writer import ExtractResult, ExtractWriter
from .project import PROJECT_FILE, Project, load_project

Progress = Callable[[str, int, int], None]  # (stage, done, total or 0)


@dataclass
class ExtractRun:
    result: ExtractResult
    conversion: object | None = None  # ConversionReport of the pre-pass, when there was one


def extract_project(project: Project, out: Path, *, overwrite: bool = False, allow_unconverted: bool = False,
                    progress: Progress | None = None) -> ExtractRun:
    """Convert what must be converted (in parallel), then write ``out/avleveringspakke``."""
    from .conversion import convert_all, plan_conversions

    cache = project.conversion_cache()
    conv_report = None
    if cache is not None:
        jobs = plan_conversions(project.journals(), project.settings.documents_root)
        if jobs:
            conv_report = convert_all(jobs, cache, workers=project.conversion.workers,
                                      progress=(lambda d, t: progress("convert", d, t)) if progress else None)

    def on_journal(stage: str, done: int, nbytes: int) -> None:
        if progress:
            progress("extract", done, 0)

    with ExtractWriter(out, project.settings, progress=on_journal, overwrite=overwrite, conversion=cache,
                       allow_unconverted=allow_unconverted or project.conversion.allow_unconverted) as w:
        for journal in project.journals():
            w.add(journal)
    return ExtractRun(w.result, conv_report)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(folder: Path, prefix: str) -> None:
    """Remove working folders ``<prefix><pid>-…`` left by runs that no longer live (kill -9, power loss)."""
    for p in folder.glob(prefix + "*"):
        pid = p.name[len(prefix):].split("-", 1)[0]
        if p.is_dir() and pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


@dataclass
class PackageRun:
    validation: object  # noarkpack.validation.Report
    package: object | None = None  # noarkpack.packaging.PackageResult (None when validation found errors)
    extract: ExtractRun | None = None
    reports: list[Path] = field(default_factory=list)


def _load_metadata(config: dict, metadata_file: Path | None):
    import tomllib

    from .packaging import PackageMetadata

    if metadata_file is not None:
        try:
            with open(metadata_file, "rb") as f:
                config = {**config, **tomllib.load(f)}
        except FileNotFoundError:
            raise NoarkpackError("the metadata file does not exist", file=metadata_file) from None
        except tomllib.TOMLDecodeError as e:
            raise NoarkpackError(f"not valid TOML: {e}", file=metadata_file) from None
    meta = PackageMetadata.from_toml(config)
    meta.check()
    return meta


def package(path: Path, out: Path, *, profile: str, bag: bool = False, sha512: bool = False,
            metadata_file: Path | None = None, allow_unconverted: bool = False,
            progress: Progress | None = None) -> PackageRun:
    """Package PROJECT (extracted first) or an EXTRACT folder as an Arkivverket SIP/AIP in ``out``.

    The content is validated first; with errors no package is written and the
    reports (JSON, HTML) are left in ``out`` for the archivist.
    """
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
                raise NoarkpackError("neither a deposit project (noarkpack.toml) nor an extract (arkivuttrekk.xml)",
                                     file=path, hint="give a project folder or an avleveringspakke folder")
            meta = _load_metadata(config, metadata_file)
        report = validate(extract_dir, progress=(lambda s, d, t=0: progress("validate", d, t or 0))
                          if progress else None)
        run = PackageRun(validation=report, extract=extract_run)
        if report.errors:
            import json

            out.mkdir(parents=True, exist_ok=True)
            for name, text in (("validering.json", json.dumps(report.to_json(), ensure_ascii=False, indent=2)),
                               ("validering.html", report.to_html())):
                (out / name).write_text(text, encoding="utf-8")
                run.reports.append(out / name)
            return run
        run.package = build_package(
            extract_dir, out, profile=profile, metadata=meta, bag=bag,
            bag_algorithms=("sha256", "sha512") if sha512 else ("sha256",), validation_report=report.portable(),
            extract_result=extract_run.result if extract_run else None,
            progress=progress)
        return run
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
