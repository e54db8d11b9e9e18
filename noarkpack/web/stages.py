"""The stages a page can run, with the options the CLI has, and how each calls the library (as cli.py does).

:func:`plan` checks a form's fields (paths resolved inside the served roots) and says what the run locks;
:func:`run_stage` runs it in the calling thread and returns what the run page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..locale import N_, tr


class Cancelled(BaseException):
    """Raised by a run's progress callback after a cancel (a BaseException: the library lets it through)."""


STAGES_BY_KIND = {
    "project": ("import", "analyse", "convert", "extract", "package", "deposit"),
    "extract": ("validate", "package"),
    "sip": ("validate", "verify"),
    "bag": ("validate", "verify"),
    "nha-deposit": ("validate", "verify"),
}
#: the stages and the progress stages the library names (noarkpack.progress), as a person reads them
LABELS = {
    "import": N_("import"), "analyse": N_("analysis"), "identify": N_("format identification"),
    "extract": N_("extract"), "numbering": N_("numbering"), "journaler": N_("journals"),
    "validate": N_("validation"), "hash": N_("checksums"), "tar": N_("tar file"), "verify": N_("verification"),
    "siard": N_("SIARD archive"), "convert": N_("conversion"), "package": N_("package"), "deposit": N_("deposit"),
}
PROFILES = ("arkivverket-sip", "arkivverket-aip", "nha")
#: a project stage changes the project (staging database, caches): one at a time per project
PROJECT_STAGES = ("import", "analyse", "convert", "extract", "deposit")


def stage_label(stage: str) -> str:
    """A stage id in the current language (``convert fmt/18``: the format stays; a detail stays as it is)."""
    if stage.startswith("convert "):
        return tr("conversion {format}", format=stage[len("convert "):])
    label = LABELS.get(stage)
    if label:
        return tr(label)
    head, _, detail = stage.partition(" ")
    if head in LABELS and detail:
        return f"{tr(LABELS[head])} {detail}"
    return stage


@dataclass
class Option:
    name: str  #: the form field (and the key in run.json)
    flag: str  #: the CLI's option, shown beside the field
    kind: str  #: "bool", "int", "text", "path", "choice", "tests"
    help: str  #: the CLI's help text (a msgid)
    required: bool = False
    choices: tuple = ()
    default: object = None
    reveal_only: bool = False  #: only while the session shows names and fødselsnummer


_OUT = N_("Folder to write the package into.")
_META = N_("A TOML file with the [package] table.")
OPTIONS: dict[str, list[Option]] = {
    "import": [],
    "analyse": [Option("show_identifiers", "--show-identifiers", "bool",
                       N_("Show names and fødselsnummer in the reports (masked by default)."), reveal_only=True)],
    "convert": [
        Option("workers", "--workers", "int", N_("LibreOffice instances on this machine (default: [conversion] "
                                                 "workers, else one per core).")),
        Option("scheduler", "--scheduler", "text", N_("Convert on a Dask cluster: its scheduler's address, "
                                                      "tcp://HOST:8786 (needs noarkpack[cluster]).")),
    ],
    "extract": [
        Option("out", "--out", "path", N_("Folder to write avleveringspakke/ into."), required=True),
        Option("split_by", "--split-by", "choice", N_("'arkivskaper': one extract per arkivskaper, in "
                                                      "OUT/<arkivskaper>/avleveringspakke/."), choices=("", "arkivskaper")),
        Option("overwrite", "--overwrite", "bool", N_("Replace an existing avleveringspakke/.")),
        Option("allow_unconverted", "--allow-unconverted", "bool", N_("Keep documents that cannot be converted to "
               "an archival format (listed in the summary) instead of stopping.")),
    ],
    "deposit": [
        Option("out", "--out", "path", _OUT, required=True),
        Option("profile", "--profile", "choice", N_("arkivverket-sip | arkivverket-aip | nha"), choices=PROFILES,
               default="arkivverket-sip"),
        Option("bag", "--bag", "bool", N_("Make OUT a BagIt bag around the package.")),
        Option("sha512", "--sha512", "bool", N_("Bag manifests with SHA-512 as well.")),
        Option("metadata", "--metadata", "path", _META),
        Option("allow_unconverted", "--allow-unconverted", "bool", N_("See extract.")),
        Option("show_identifiers", "--show-identifiers", "bool", N_("Unmasked analysis reports."), reveal_only=True),
    ],
    "validate": [
        Option("limit", "--limit", "int", N_("Show at most N findings per test.")),
        Option("test", "--test", "tests", N_("Only these tests (repeatable, e.g. N5.30).")),
        Option("no_identify", "--no-identify", "bool", N_("Skip format identification (NP.01).")),
    ],
    "package": [
        Option("out", "--out", "path", N_("Folder to write the package(s) into."), required=True),
        Option("profile", "--profile", "choice", N_("arkivverket-sip | arkivverket-aip | nha"), choices=PROFILES,
               default="arkivverket-sip"),
        Option("bag", "--bag", "bool", N_("Make OUT a BagIt bag (RFC 8493) around the package.")),
        Option("sha512", "--sha512", "bool", N_("Bag manifests with SHA-512 as well as SHA-256.")),
        Option("metadata", "--metadata", "path", N_("A TOML file with the [package] table (for an extract folder, "
                                                    "or to override the project's).")),
        Option("allow_unconverted", "--allow-unconverted", "bool", N_("See extract.")),
    ],
    "verify": [Option("no_content", "--no-content", "bool", N_("Check fixity and structure only."))],
}


def _base(target) -> Path:
    return target.path if target.path.is_dir() else target.path.parent


def default_out(target, stage: str) -> str:
    """A suggestion for ``--out``: beside the target (``<name>-extract``, ``<name>-package``)."""
    suffix = "extract" if stage == "extract" else "package"
    return str(target.path.parent / f"{target.path.stem}-{suffix}")


def stage_forms(ctx, target) -> list[dict]:
    """The forms of the target page: one per stage, its options with their defaults."""
    forms = []
    for stage in STAGES_BY_KIND.get(target.kind, ()):
        opts = []
        for o in OPTIONS[stage]:
            value = default_out(target, stage) if o.name == "out" else o.default
            opts.append({"name": o.name, "flag": o.flag, "kind": o.kind, "help": tr(o.help), "required": o.required,
                         "choices": o.choices, "value": value, "reveal_only": o.reveal_only})
        forms.append({"stage": stage, "label": stage_label(stage), "options": opts})
    return forms


def command_line(stage: str, path: str, options: dict) -> str:
    """The CLI command that does what the run did (to repeat it in a terminal or a script)."""
    import shlex

    words = ["noarkpack", stage, path]
    for o in OPTIONS.get(stage, []):
        value = options.get(o.name)
        if o.kind == "bool":
            words += [o.flag] if value else []
        elif o.kind == "tests":
            for t in value or []:
                words += [o.flag, t]
        elif value not in (None, "") and value != o.default:
            words += [o.flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)


def _path(ctx, target, value: str, *, must_exist: bool) -> Path:
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = _base(target) / p
    p = Path(*p.parts)  # normalise; ".." is resolved below
    resolved = p.resolve()
    if not ctx.within_roots(resolved):
        raise ValueError(tr("{path} is outside the folders this server was given", path=str(p)))
    if must_exist and not resolved.is_file():
        raise ValueError(tr("{path} is not a file", path=str(p)))
    return resolved


def plan(ctx, target, stage: str, fields: list[tuple[str, str]], *, reveal: bool) -> tuple[dict, list[str]]:
    """The options of the run from the form's fields, and its locks (``key:…`` equal, ``out:``/``in:`` paths
    that overlap); ValueError with a message for the page when a field is wrong."""
    if stage not in STAGES_BY_KIND.get(target.kind, ()):
        raise ValueError(tr("{stage} cannot run on this", stage=stage))
    given: dict[str, list[str]] = {}
    for k, v in fields:
        given.setdefault(k, []).append(v.strip())
    options: dict = {}
    for o in OPTIONS[stage]:
        raw = [v for v in given.get(o.name, []) if v]
        value = raw[-1] if raw else ""
        if o.kind == "bool":
            options[o.name] = bool(value) and value not in ("0", "off", "false")
            if o.reveal_only and options[o.name] and not reveal:
                raise ValueError(tr("{flag} needs the switch that shows names and fødselsnummer", flag=o.flag))
        elif not value:
            if o.required:
                raise ValueError(tr("{flag} is required", flag=o.flag))
            options[o.name] = [] if o.kind == "tests" else o.default
        elif o.kind == "int":
            try:
                options[o.name] = int(value)
            except ValueError:
                raise ValueError(tr("{flag} takes a whole number", flag=o.flag)) from None
            if options[o.name] < 1:
                raise ValueError(tr("{flag} takes a whole number", flag=o.flag))
        elif o.kind == "choice":
            if value not in o.choices:
                raise ValueError(tr("{flag}: choose one of: {choices}", flag=o.flag,
                                    choices=", ".join(c for c in o.choices if c)))
            options[o.name] = value
        elif o.kind == "tests":
            options[o.name] = sorted({t for v in raw for t in v.replace(",", " ").split()})
        elif o.kind == "path":
            options[o.name] = str(_path(ctx, target, value, must_exist=o.name == "metadata"))
        else:
            options[o.name] = value
    path = str(target.path)
    locks = [f"key:project:{path}"] if target.kind == "project" and stage in PROJECT_STAGES + ("package",) \
        else [f"key:{stage}:{path}", f"in:{path}"]
    if options.get("out"):
        locks.append(f"out:{options['out']}")
    return options, locks


def conflicts(a: str, b: str) -> bool:
    """Whether two locks exclude each other."""
    ka, _, pa = a.partition(":")
    kb, _, pb = b.partition(":")
    if ka == "key" or kb == "key":
        return a == b
    if ka == "in" and kb == "in":
        return False
    x, y = Path(pa), Path(pb)
    return x == y or x in y.parents or y in x.parents


@dataclass
class Outcome:
    """What a finished stage leaves for its page."""

    summary: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    exit_code: int = 0
    reports: list = field(default_factory=list)  #: file names in the run's folder
    report: str | None = None  #: the main report JSON (for the findings page)
    outputs: list = field(default_factory=list)


def _write(outcome: Outcome, folder: Path, name: str, report, *, html: bool = True) -> None:
    from ..pipeline import write_reports

    write_reports(report, folder / f"{name}.json", folder / f"{name}.html" if html else None)
    outcome.reports += [f"{name}.json"] + ([f"{name}.html"] if html else [])
    outcome.report = outcome.report or f"{name}.json"


def run_stage(ctx, target, stage: str, options: dict, folder: Path, *, progress) -> Outcome:
    """Run ``stage`` on ``target`` (in this thread); reports into ``folder``."""
    from .. import pipeline

    o = options
    out = Path(o["out"]) if o.get("out") else None
    meta = Path(o["metadata"]) if o.get("metadata") else None
    outcome = Outcome()
    if stage == "import":
        result = pipeline.import_project(target.path, progress=progress)
    elif stage == "analyse":
        result = pipeline.analyse_project(target.path, show_identifiers=o.get("show_identifiers", False),
                                          progress=progress)
        _write(outcome, folder, "analysis", result)
    elif stage == "convert":
        result = pipeline.convert_project(target.path, workers=o.get("workers"), scheduler=o.get("scheduler") or None,
                                          progress=progress)
    elif stage == "extract":
        from ..project import load_project

        result = pipeline.extract_project(load_project(target.path), out, split_by=o.get("split_by") or None,
                                          overwrite=o.get("overwrite", False),
                                          allow_unconverted=o.get("allow_unconverted", False), progress=progress)
        for r in result if isinstance(result, list) else [result]:
            outcome.outputs.append(Path(r.result.path))
    elif stage == "deposit":
        result = pipeline.deposit(target.path, out, profile=o.get("profile") or "arkivverket-sip", bag=o.get("bag"),
                                  sha512=o.get("sha512"), metadata_file=meta,
                                  allow_unconverted=o.get("allow_unconverted", False),
                                  show_identifiers=o.get("show_identifiers", False), progress=progress)
        validation = getattr(result.package, "validation", None)
        if validation is not None:
            _write(outcome, folder, "validation", validation)
        if result.analysis is not None:
            _write(outcome, folder, "analysis", result.analysis)
        outcome.outputs += _packages_in(out)
    elif stage == "package":
        result = pipeline.package(target.path, out, profile=o.get("profile") or "arkivverket-sip", bag=o.get("bag"),
                                  sha512=o.get("sha512"), metadata_file=meta,
                                  allow_unconverted=o.get("allow_unconverted", False), progress=progress)
        validation = getattr(result, "validation", None)
        if validation is not None:
            _write(outcome, folder, "validation", validation)
        outcome.outputs += _packages_in(out)
    elif stage == "validate":
        result = pipeline.validate_path(target.path, tests=set(o["test"]) if o.get("test") else None,
                                        limit=o.get("limit"), identify_formats=not o.get("no_identify"),
                                        progress=progress)
        _write(outcome, folder, "validation", result)
    elif stage == "verify":
        result = pipeline.verify_path(target.path, validate_content=not o.get("no_content"), progress=progress)
        _write(outcome, folder, "verify", result)
    else:  # pragma: no cover - plan() refuses it
        raise ValueError(stage)
    results = result if isinstance(result, list) else [result]
    for r in results:
        outcome.summary += [str(line) for line in r.summary_lines()]
        outcome.problems += [str(line) for line in getattr(r, "problem_lines", list)()]
    outcome.exit_code = max((r.exit_code for r in results), default=0)
    return outcome


def _packages_in(out: Path | None) -> list[Path]:
    """The folder a package run wrote and what in it is a target (a tar, a bag, an NHA deposit)."""
    if out is None or not out.is_dir():
        return []
    from .context import classify

    found = [out] if classify(out) else []
    try:
        found += [p for p in sorted(out.iterdir()) if not p.name.startswith(".") and classify(p)]
    except OSError:
        pass
    return found
