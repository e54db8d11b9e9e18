"""The one package in a folder: ``verify DIR`` / ``validate DIR`` where DIR is the ``--out`` folder of ``package``.

``package`` and ``deposit`` write into ``--out``: a SIP/AIP as ``{uuid}.tar`` with its ``{uuid}.xml`` beside it, a
bag (``--bag``: the folder itself), or an NHA deposit as one ``epjark-*/`` folder (docs/packaging.md, docs/nha.md).
A depot's first try is to give that folder.  :func:`locate_package` finds the one package in it and says which;
with several it lists them and says which to give (:class:`~.errors.PackagingError`, exit 2).  A PATH that is a
package itself (a tar, its .xml, a bag, an NHA deposit) is returned as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..locale import N_, tr
from .errors import PackagingError

#: a kind of deposit folder this layer does not know (the NHA deposit: noarkpack.nha, a layer above), by its test
Kinds = Mapping[str, Callable[[Path], bool]]


@dataclass(frozen=True)
class Located:
    """What to verify or validate: ``path``; ``note`` (one line) when it was found inside the given folder."""

    path: Path
    kind: str  #: "as-given", "dias-package", "bag" or "nha-deposit"
    note: str | None = None


def is_bag(folder: Path) -> bool:
    """A BagIt bag, as :func:`.verify.verify` reads one: bagit.txt or a manifest."""
    return folder.is_dir() and ((folder / "bagit.txt").exists() or any(folder.glob("manifest-*.txt"))
                                or any(folder.glob("tagmanifest-*.txt")))


def _packages(folder: Path, others: Kinds) -> list[tuple[Path, str]]:
    """Every package directly in ``folder``: SIP/AIP tars (a lone tar too: verify reports its missing .xml), bags
    and NHA deposits, sorted by name.  Links are never followed (a package is a real file or folder)."""
    found = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    for p in entries:
        if p.is_symlink() or p.name.startswith("."):  # .noarkpack.partial-*, .epjark-….part: unfinished
            continue
        if p.is_file() and p.suffix.lower() == ".tar":
            found.append((p, "dias-package"))
        elif p.is_dir() and is_bag(p):
            found.append((p, "bag"))
        elif p.is_dir():
            kind = next((k for k, test in others.items() if test(p)), None)
            if kind is not None:
                found.append((p, kind))
    return found


_VERBS = ("verify", "validate")
#: the note when the folder holds one package, by (verb, kind); another kind: _ONE_OTHER, with its name
_ONE = {
    ("verify", "dias-package"): N_("{path} holds one package, {name}: verifying it"),
    ("validate", "dias-package"): N_("{path} holds one package, {name}: validating it"),
    ("verify", "bag"): N_("{path} holds one bag, {name}: verifying it"),
    ("validate", "bag"): N_("{path} holds one bag, {name}: validating it"),
    ("verify", "nha-deposit"): N_("{path} holds one NHA deposit, {name}: verifying it"),
    ("validate", "nha-deposit"): N_("{path} holds one NHA deposit, {name}: validating it"),
}
_ONE_OTHER = {"verify": N_("{path} holds one {kind}, {name}: verifying it"),
              "validate": N_("{path} holds one {kind}, {name}: validating it")}


def _shown(p: Path) -> str:
    return p.name + ("/" if p.is_dir() else "")


def _bag_payload(bag: Path) -> Path | None:
    """The one SIP/AIP tar a bag made by ``package --bag`` carries (``data/{uuid}.tar``), if exactly one."""
    data = bag / "data"
    if not data.is_dir() or data.is_symlink():
        return None
    tars = [p for p in sorted(data.glob("*.tar")) if p.is_file() and not p.is_symlink()]
    return tars[0] if len(tars) == 1 else None


def locate_package(path: str | Path, *, verb: str = "verify", others: Kinds | None = None) -> Located:
    """The package PATH means: PATH itself, or the one package in the folder PATH (``note`` says which).

    ``verb`` ("verify" or "validate") words the note and the hint.  ``validate`` looks for a package only where
    the folder holds no extract (an ``avleveringspakke/``, ``content/`` … stays what it was), and takes a bag's
    payload tar, since validate reads an extract, not a bag.  Raises :class:`PackagingError` (exit 2) when the
    folder holds several packages, listing them.  A folder with none is returned as it is: the caller's own
    message ("not a package", "no Noark 5 extract here") says what is wrong.  ``others``: further kinds of
    deposit folder by name and test (``{"nha-deposit": noarkpack.nha.is_nha_deposit}``, given by the pipeline).
    """
    others = others or {}
    if verb not in _VERBS:
        raise ValueError(f"verb must be one of {', '.join(_VERBS)}")
    p = Path(path)
    if not p.is_dir() or any(test(p) for test in others.values()):
        return Located(p, "as-given")
    if verb == "validate":
        from ..validation.source import find_extract_dir

        if find_extract_dir(p) is not None:
            return Located(p, "as-given")
    if is_bag(p):
        payload = _bag_payload(p) if verb == "validate" else None
        if payload is None:
            return Located(p, "as-given")
        return Located(payload, "dias-package", tr("{path} is a bag: validating its package data/{name}", path=str(p),
                                                   name=payload.name))
    found = _packages(p, others)
    if not found:
        return Located(p, "as-given")
    if len(found) == 1:
        pkg, kind = found[0]
        if (verb, kind) in _ONE:
            note = tr(_ONE[verb, kind], path=str(p), name=_shown(pkg))
        else:
            note = tr(_ONE_OTHER[verb], path=str(p), kind=kind, name=_shown(pkg))
        if kind == "bag" and verb == "validate":
            payload = _bag_payload(pkg)
            if payload is not None:
                return Located(payload, "dias-package", tr("{path} holds one bag, {bag}: validating its package "
                                                           "data/{name}", path=str(p), bag=_shown(pkg),
                                                           name=payload.name))
        return Located(pkg, kind, note)
    names = ", ".join(_shown(q) for q, _ in found)
    if verb == "verify":
        message = tr("the folder holds {count} packages ({names}): give the one to verify", count=len(found),
                     names=names)
    else:
        message = tr("the folder holds {count} packages ({names}): give the one to validate", count=len(found),
                     names=names)
    raise PackagingError(message, file=p, hint=tr("e.g. noarkpack {verb} {path}", verb=verb, path=str(found[0][0])))


class FoundReport:
    """A report of the package found in a folder: the report itself, with the one line that says which first.

    Everything else (counts, ``exit_code``, ``to_json``, ``iter_json``, ``to_html``, ``findings`` …) is the
    report's own, so the --json/--html files are the same as for the package given directly.
    """

    def __init__(self, report, note: str) -> None:
        self.report = report
        self.note = note

    def summary_lines(self) -> list[str]:
        return [self.note, *self.report.summary_lines()]

    def __getattr__(self, name: str):
        return getattr(self.report, name)


__all__ = ["FoundReport", "Located", "is_bag", "locate_package"]
