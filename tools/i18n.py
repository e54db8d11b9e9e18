"""The catalogues of noarkpack's texts: extract, update, compile, check (Babel).

    python tools/i18n.py update    # extract every msgid (code and templates) and merge it into nb and en
    python tools/i18n.py compile   # .po -> .mo (the build does this too: hatch_build.py)
    python tools/i18n.py status    # what is missing, fuzzy or has placeholders that differ; exit 1 if anything
    python tools/i18n.py import FILE.json --lang nb   # fill msgstrs from {msgid: translation}
    python tools/i18n.py check --json FILE.json PATH...  # every msgid in PATHs translated in FILE.json or nb.po

English is the source language: ``update`` gives a new msgid its own text as the English translation (en.po
may refine the wording without changing the key scripts match on).  docs/translating.md has the workflow.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "noarkpack" / "locale"
LANGS = ("nb", "en")
KEYWORDS = {"tr": None, "N_": None, "tr_in": (2,)}
SOURCES = [("python", ROOT / "noarkpack", "*.py"), ("jinja2.ext:babel_extract", ROOT / "templates", "*.j2")]


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "noarkpack.po"


def _placeholders(text: str) -> set[str]:
    sys.path.insert(0, str(ROOT))
    from noarkpack.locale import placeholders
    return placeholders(text)


def extract(paths: list[Path] | None = None) -> dict[str, list[tuple[str, int]]]:
    """{msgid: [(file, line), …]} of every msgid in the code and templates (or in ``paths``)."""
    found: dict[str, list[tuple[str, int]]] = {}
    jobs = []
    if paths:
        for p in paths:
            p = p.resolve()
            files = sorted(p.rglob("*")) if p.is_dir() else [p]
            for f in files:
                if f.suffix == ".py":
                    jobs.append(("python", f))
                elif f.suffix == ".j2":
                    jobs.append(("jinja2.ext:babel_extract", f))
    else:
        for method, base, pattern in SOURCES:
            jobs += [(method, f) for f in sorted(base.rglob(pattern))]
    for method, f in jobs:
        for lineno, msgid, _comments, _context in extract_from_file(method, str(f), keywords=KEYWORDS,
                                                                     comment_tags=("TRANSLATORS:",),
                                                                     options={"trimmed": "false"}):
            if isinstance(msgid, tuple):
                msgid = msgid[0]
            if msgid:
                found.setdefault(msgid, []).append((str(f.relative_to(ROOT)), lineno))
    return found


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain="noarkpack", project="noarkpack")
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain="noarkpack")


def save(lang: str, cat: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    cat.project, cat.version = "noarkpack", ""
    cat.msgid_bugs_address = ""
    cat.copyright_holder = "noarkpack"
    with path.open("wb") as fh:
        write_po(fh, cat, width=116, sort_output=True, omit_header=False, include_previous=False)


def update() -> int:
    found = extract()
    for lang in LANGS:
        old = load(lang)
        new = Catalog(locale=lang, domain="noarkpack", project="noarkpack")
        for msgid, locs in found.items():
            prev = old.get(msgid)
            text = prev.string if prev is not None and prev.string else ("" if lang != "en" else msgid)
            flags = set(prev.flags) if prev is not None else set()
            new.add(msgid, text, locations=[(f, n) for f, n in locs], flags=flags)
        save(lang, new)
        dropped = [m.id for m in old if m.id and m.id not in found]
        print(f"{lang}: {len(found)} msgids, {len(dropped)} no longer used dropped")
    return status()


def compile_all(out: Path | None = None) -> list[Path]:
    written = []
    for lang in LANGS:
        cat = load(lang)
        target = (out or LOCALE) / lang / "LC_MESSAGES" / "noarkpack.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            write_mo(fh, cat, use_fuzzy=False)
        written.append(target)
    return written


def problems(found: dict | None = None) -> list[str]:
    """Every msgid missing, untranslated or fuzzy in a language, and every placeholder mismatch."""
    found = extract() if found is None else found
    out = []
    for msgid in found:
        names = _placeholders(msgid)
        if "" in names:
            out.append(f"positional placeholder in msgid {msgid!r} ({found[msgid][0][0]}:{found[msgid][0][1]})")
    for lang in LANGS:
        cat = load(lang)
        for msgid, locs in found.items():
            m = cat.get(msgid)
            where = f"{locs[0][0]}:{locs[0][1]}"
            if m is None or not m.string:
                out.append(f"{lang}: missing {msgid!r} ({where})")
            elif m.fuzzy:
                out.append(f"{lang}: fuzzy {msgid!r} ({where})")
            elif _placeholders(m.string) != _placeholders(msgid):
                out.append(f"{lang}: placeholders differ in {msgid!r}: {sorted(_placeholders(m.string))} "
                           f"vs {sorted(_placeholders(msgid))} ({where})")
    return out


def status() -> int:
    issues = problems()
    for line in issues:
        print(line)
    print(f"{len(issues)} problem(s)")
    return 1 if issues else 0


def import_json(path: Path, lang: str) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    cat = load(lang)
    n = 0
    for msgid, text in data.items():
        m = cat.get(msgid)
        if m is None:
            print(f"not in the catalogue (run update first?): {msgid!r}")
            continue
        m.string, n = text, n + 1
        m.flags.discard("fuzzy")
    save(lang, cat)
    print(f"{lang}: {n} translations imported")
    return 0


def check(paths: list[Path], json_path: Path | None) -> int:
    found = extract(paths)
    extra = json.loads(json_path.read_text(encoding="utf-8")) if json_path and json_path.exists() else {}
    nb = load("nb")
    bad = 0
    for msgid, locs in found.items():
        where = f"{locs[0][0]}:{locs[0][1]}"
        text = extra.get(msgid) or (nb.get(msgid).string if nb.get(msgid) is not None else "")
        if "" in _placeholders(msgid):
            print(f"positional placeholder: {msgid!r} ({where})")
            bad += 1
        elif not text:
            print(f"no bokmål: {msgid!r} ({where})")
            bad += 1
        elif _placeholders(text) != _placeholders(msgid):
            print(f"placeholders differ: {msgid!r} -> {text!r} ({where})")
            bad += 1
    print(f"{len(found)} msgids, {bad} problem(s)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("update")
    sub.add_parser("compile")
    sub.add_parser("status")
    imp = sub.add_parser("import")
    imp.add_argument("file", type=Path)
    imp.add_argument("--lang", required=True, choices=LANGS)
    chk = sub.add_parser("check")
    chk.add_argument("paths", nargs="+", type=Path)
    chk.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    if a.cmd == "update":
        return update()
    if a.cmd == "compile":
        for p in compile_all():
            print(p.relative_to(ROOT))
        return 0
    if a.cmd == "status":
        return status()
    if a.cmd == "import":
        return import_json(a.file, a.lang)
    return check(a.paths, a.json)


if __name__ == "__main__":
    sys.exit(main())
