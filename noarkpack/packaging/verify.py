"""``verify``: the receiving depot's check of a DIAS SIP/AIP or a bag.

The package is not trusted.  A tar is read **once, as a stream**, and nothing is
ever written: every member's name and type is checked before its bytes are looked
at (absolute paths, ``..``, links, devices, duplicates and over-long names are
refused), every regular member is hashed as it passes, and the few XML files that
carry checksums (dias-mets.xml, the ADDML, arkivstruktur.xml) are parsed from the
same stream.  The tar's own SHA-256 is computed from the same read.  Then:

* submission description ``{uuid}.xml`` → the tar and dias-mets.xml (PK.06, PK.07)
* dias-mets.xml → every member (PK.08–PK.10)
* the ADDML → the XML/XSD files (PK.11); dokumentobjekt/sjekksum → documents (PK.12)
* the layout of the profile (PK.13), one UUID everywhere (PK.14), DIAS schemas (PK.15)
* finally, when :mod:`noarkpack.validation` is installed, the content is validated.

A bag (a folder with bagit.txt) is checked by :func:`.bagit.verify_bag`; when its
payload is a DIAS package, the package is verified too, and the tar's digests from
that pass are reused for the bag manifest.

The pass over the tar is :class:`.tarpass.TarPass`, the checks after it
:class:`.checks._PackageCheck`, the METS reading :mod:`.mets`; this module decides
what PATH is and puts the report together.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..locale import Text, tr
from ..progress import Progress
from .bagit import verify_bag
from .checks import _PackageCheck
from .errors import PackagingError
from .findings import INFO, WARNING, Finding, VerifyReport
from .mets import UUID_PATTERN
from .mets import parse_mets as _parse_mets  # noqa: F401  (kept importable here: tests/test_perf.py)


def _merge_validation(report: VerifyReport, tar: Path, store=None) -> None:
    try:
        from ..validation import validate  # type: ignore[attr-defined]
    except ImportError:
        report.add("PK.18", INFO, tr("content validation is not available in this installation "
                                     "(noarkpack.validation)"))
        return
    try:
        result = validate(tar, store=store) if store is not None else validate(tar)
    except Exception as e:  # a broken content must not hide the fixity findings
        report.add("PK.18", WARNING, tr("the content could not be validated: {error}", error=str(e)), file=tar.name)
        return
    n = 0
    for f in getattr(result, "findings", []) or []:
        d = f.to_json() if hasattr(f, "to_json") else (f if isinstance(f, dict) else vars(f))
        report.findings.append(Finding(str(d.get("test")), str(d.get("severity")), _message(d),
                                       dict(d.get("location") or {})))
        n += 1
    errors = getattr(result, "errors", None)
    report.facts["validation_errors"] = errors if isinstance(errors, int) else None
    report.add("PK.18", INFO, tr("content validated: {count} finding(s) from validate", count=n), file=tar.name)


def _message(d: dict) -> str:
    """A validation finding's message as verify keeps it: its key (msgid) kept, so ``Finding.key`` survives."""
    message = d.get("message")
    if isinstance(message, Text):
        return message
    key = d.get("key")
    text = str(message)
    if not key:
        return text
    out = Text(text)
    out.key, out.params = key, dict(getattr(message, "params", None) or {})
    return out


def verify_package(tar: str | Path, report: VerifyReport | None = None, *, store=None, profile: str | None = None,
                   algorithms: set[str] = frozenset(), progress: Progress | None = None,
                   validate_content: bool = True) -> tuple[VerifyReport, dict[str, str]]:
    """Verify a DIAS tar and the description beside it; returns the report and the tar's digests."""
    tar = Path(tar)
    report = report or VerifyReport(str(tar), kind="dias-package")
    check = _PackageCheck(tar, report, store, profile, set(algorithms), progress)
    readable = check.read_tar()
    root = check.root or ""
    tar_uuid = root.lower() if UUID_PATTERN.fullmatch(root) else None
    report.facts["uuid"] = tar_uuid
    report.facts["members"] = len(check.members)
    report.facts["tar_sha256"] = check.tar_digests.get("sha256")
    check.check_description(tar.with_suffix(".xml"), tar_uuid)
    if readable:
        check.check_layout(tar_uuid)
        check.check_mets()
        check.check_addml()
        check.check_documents()
        check.check_formatinfo()
        if validate_content:
            check.release()  # the content validation reuses this memory: peak = max of the two, not sum
            _merge_validation(report, tar, store)
    return report, check.tar_digests


def _find_package(folder: Path) -> Path | None:
    tars = sorted(p for p in folder.glob("*.tar") if p.is_file() and not p.is_symlink())
    if len(tars) == 1:
        return tars[0]
    return None


def verify(path: str | Path, *, progress: Progress | None = None, store=None, profile: str | None = None,
           validate_content: bool = True) -> VerifyReport:
    """Verify PATH: a SIP/AIP ``.tar`` (description beside it), its ``.xml``, a folder holding them, or a bag.

    Never writes anything.  Raises PackagingError only when PATH cannot be verified at
    all (does not exist, is not a package or bag); every problem of the package itself
    is a finding.  ``store`` is the schema store (default: the user's; schemas are
    used when installed).
    """
    p = Path(path)
    if not p.exists():
        raise PackagingError(tr("no such file or folder"), file=p)
    if store is None:
        try:
            from ..schemas import default_store

            store = default_store()
        except Exception:
            store = None
    looks_like_bag = p.is_dir() and ((p / "bagit.txt").exists() or any(p.glob("manifest-*.txt"))
                                     or any(p.glob("tagmanifest-*.txt")))
    if looks_like_bag:
        report = VerifyReport(str(p), kind="bag")
        known: dict[str, dict[str, str]] = {}
        data = p / "data"
        tar = _find_package(data) if data.is_dir() and not data.is_symlink() else None
        if tar is not None and tar.with_suffix(".xml").is_file():
            algorithms = {m.group(1).lower() for f in p.glob("manifest-*.txt")
                          if (m := re.fullmatch(r"manifest-([A-Za-z0-9]+)\.txt", f.name))}
            algorithms &= set(hashlib.algorithms_available)
            report.kind = "bag+dias-package"
            _r, digests = verify_package(tar, report, store=store, profile=profile, algorithms=algorithms,
                                         progress=progress, validate_content=validate_content)
            if digests:
                known[f"data/{tar.name}"] = digests
        verify_bag(p, report, known_digests=known)
        return report
    if p.is_dir():
        tar = _find_package(p)
        if tar is None:
            raise PackagingError(tr("not a package: the folder holds no bagit.txt and not exactly one .tar"), file=p,
                                 hint=tr("give the {uuid}.tar, or the bag folder"))
        p = tar
    if p.suffix.lower() == ".xml" and p.with_suffix(".tar").is_file():
        p = p.with_suffix(".tar")
    if p.suffix.lower() != ".tar" or not p.is_file():
        raise PackagingError(tr("not a package: expected a .tar (with its .xml beside it) or a bag folder"), file=p)
    report, _ = verify_package(p, store=store, profile=profile, progress=progress, validate_content=validate_content)
    return report
