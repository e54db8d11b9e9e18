"""Bokmål and English throughout (issue 20): the catalogues are whole, and every command speaks one language.

Every command runs on examples/omsorg and on a broken extract and package, in both languages; what it prints
(and the HTML reports it writes) must not hold a sentence of the other language.  A sentence is told by words
that belong to one language only (the standard's own terms, arkivdel, registrering, skjerming …, are the same in
both and are not in the lists); quoted values, paths, ids and numbers are data and are left out.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noarkpack import locale
from noarkpack.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "omsorg"
LEGACYDB = ROOT / "examples" / "legacydb"
LANGS = ("nb", "en")

#: words that are English and never bokmål (nor one of the standard's terms)
EN_WORDS = {
    "the", "is", "are", "was", "were", "not", "and", "of", "with", "has", "have", "missing", "found", "written",
    "file", "files", "should", "must", "which", "this", "that", "these", "those", "without", "into", "every",
    "each", "there", "than", "when", "where", "could", "would", "cannot", "does", "been", "only", "also", "none",
    "because", "checked", "error", "errors", "warning", "warnings", "passed", "failed", "folder", "written",
    "read", "rows", "row", "table", "column", "checksum", "documents", "document", "invalid", "valid", "findings",
    "finding", "run", "tests", "show", "write", "options", "usage", "commands", "arguments", "unknown", "no",
    "yes", "or", "in", "on", "it", "its", "an", "as",
}
#: words that are bokmål and never English
NB_WORDS = {
    "og", "ikke", "er", "av", "fra", "har", "som", "eller", "skrevet", "mangler", "på", "ingen", "finnes", "kan",
    "skal", "med", "til", "feil", "advarsel", "advarsler", "funn", "uttrekk", "uttrekket", "filer", "fil",
    "filen", "katalog", "katalogen", "pakke", "pakken", "denne", "dette", "hver", "alle", "bare", "må", "ble",
    "blir", "etter", "før", "ved", "også", "én", "ett", "enn", "hvor", "hvis", "uten", "kjør", "velg",
    "sjekksum", "sjekksummen", "avvist", "lest", "rader", "rad", "tabell", "kolonne", "dokumenter", "dokument",
    "ugyldig", "gyldig", "bruk", "valg", "kommandoer", "ukjent", "ukjente", "skriv", "vis", "tester", "bestått",
    "feilet", "konvertert", "innslag", "journaler", "pasienter", "nye", "gamle", "kjørt", "antall",
}

_TAGS = re.compile(r"<(style|script)\b.*?</\1>|<[^>]+>", re.S)
# a quote opens where no letter is before it (not the apostrophe of "patient's"); «… may be cut at a line's end
_QUOTED = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|\"[^\"\n]*\"|«[^»\n]*(?:»|$)|‘[^’\n]*’|“[^”\n]*”", re.M)
_DATA = re.compile(r"\S*[/\\_=@:.\d]\S*|--?[a-z][\w-]*|\b[A-Z]{2,}\d*\b")


def prose(text: str) -> str:
    """What is left of ``text`` when markup, quoted values, paths, options, ids and numbers are taken out (the
    command names, "package", "extract" …, are options of a kind: the word list does not hold them)."""
    text = html.unescape(_TAGS.sub(" ", text))
    text = _QUOTED.sub(" ", text)
    return _DATA.sub(" ", text)


def _data_phrases() -> tuple[list[str], list[str]]:
    """The example projects' own values (names of arkiv, arkivskaper, system …), and the legacy database's tables
    and columns (what `source inspect` and `sample` list): data, in whatever language they were written, longest
    first."""
    import sqlite3
    import tomllib

    found: set[str] = set()

    def walk(v) -> None:
        if isinstance(v, str) and len(v) > 3 and (" " in v or v[:1].isupper()):  # a name, not a column
            found.add(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for toml in (EXAMPLE / "noarkpack.toml", LEGACYDB / "noarkpack.toml"):
        walk(tomllib.loads(toml.read_text(encoding="utf-8")))
    names: set[str] = set()
    db = sqlite3.connect(LEGACYDB / "legacy.sqlite")
    for (table,) in db.execute("select name from sqlite_master where type = 'table'"):
        names.add(table)
        names.update(r[1] for r in db.execute(f"pragma table_info({table})"))
    db.close()
    return sorted(found, key=len, reverse=True), sorted(names, key=len, reverse=True)


DATA_PHRASES, DB_NAMES = _data_phrases()


def foreign(text: str, lang: str, data: list[str] = DATA_PHRASES) -> list[str]:
    """The lines of ``text`` holding a word of the other language (with those words), for the message; the
    ``data`` phrases are left out."""
    words = EN_WORDS if lang == "nb" else NB_WORDS
    out = []
    for line in html.unescape(_TAGS.sub("\n", text)).splitlines():
        line = line.split("←")[0]  # source inspect: what the mapping reads from a column is data
        for phrase in data:
            if phrase in line:
                line = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", line)
        hits = sorted({w for w in re.findall(r"[A-Za-zÆØÅæøåé]+", prose(line)) if w.lower() in words})
        if hits:
            out.append(f"{hits}: {line.strip()[:200]}")
    return out


# -- the catalogues ---------------------------------------------------------------------------------------------


def _i18n_tool():
    spec = importlib.util.spec_from_file_location("noarkpack_i18n_tool", ROOT / "tools" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_message_is_translated_in_both_languages_with_the_same_placeholders():
    """Every msgid in the code and the templates is in nb.po and en.po, translated, not fuzzy, with the same named
    placeholders; no msgid has a positional placeholder (tools/i18n.py status says the same)."""
    tool = _i18n_tool()
    found = tool.extract()
    assert len(found) > 500, len(found)
    problems = tool.problems(found)
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:40])


def test_the_check_finds_a_missing_a_fuzzy_and_a_mismatched_translation(tmp_path, monkeypatch):
    """The completeness check itself can fail: a catalogue with one message missing, one fuzzy and one with other
    placeholders gives three problems."""
    tool = _i18n_tool()
    from babel.messages.catalog import Catalog

    cats = {}
    for lang in LANGS:
        cat = Catalog(locale=lang, domain="noarkpack")
        cat.add("{count} rows", "{count} rader" if lang == "nb" else "{count} rows")
        cat.add("fuzzy one", "uklar", flags=["fuzzy"] if lang == "nb" else [])
        cat.add("{path} is bad", "{file} er dårlig" if lang == "nb" else "{path} is bad")
        cats[lang] = cat
    monkeypatch.setattr(tool, "load", lambda lang: cats[lang])
    found = {m: [("x.py", 1)] for m in ("{count} rows", "fuzzy one", "{path} is bad", "not there", "{} positional")}
    problems = tool.problems(found)
    assert any("nb: fuzzy 'fuzzy one'" in p for p in problems)
    assert any("placeholders differ in '{path} is bad'" in p for p in problems)
    assert any("nb: missing 'not there'" in p for p in problems) and any("en: missing 'not there'" in p
                                                                          for p in problems)
    assert any("positional placeholder" in p for p in problems)
    assert not any("'{count} rows'" in p for p in problems)


def test_the_compiled_catalogues_are_those_of_the_po_files(tmp_path):
    """The .mo files noarkpack reads are compiled from the .po files as they are (the build compiles them: after
    editing a .po, reinstall or run tools/i18n.py compile)."""
    tool = _i18n_tool()
    fresh = tool.compile_all(tmp_path)
    for f in fresh:
        lang = f.parent.parent.name
        installed = Path(locale.__file__).parent / lang / "LC_MESSAGES" / "noarkpack.mo"
        assert installed.exists(), installed
        assert installed.read_bytes() == f.read_bytes(), f"{installed} is stale: run python tools/i18n.py compile"


def test_placeholders_are_named():
    assert locale.placeholders("{count} rows in {table}") == {"count", "table"}
    assert locale.placeholders("{secs:.0f} s {name!r}") == {"secs", "name"}
    assert "" in locale.placeholders("{} rows")


# -- choosing the language ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env, expected", [
    ({}, "nb"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "nb_NO.UTF-8"}, "nb"),
    ({"LANG": "nn_NO.UTF-8"}, "nb"),
    ({"LANG": "C.UTF-8"}, "nb"),
    ({"LANG": "de_DE.UTF-8"}, "nb"),
    ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "nb_NO.UTF-8"}, "en"),
    ({"LC_ALL": "nb_NO.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "nb"),
    ({"NOARKPACK_LANG": "en", "LC_ALL": "nb_NO.UTF-8"}, "en"),
    ({"NOARKPACK_LANG": "nb", "LANG": "en_US.UTF-8"}, "nb"),
])
def test_the_language_comes_from_noarkpack_lang_then_the_locale_then_bokmal(env, expected):
    assert locale.resolve(env) == expected


def _cli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("NOARKPACK_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run([sys.executable, "-m", "noarkpack.cli", *args], env={**base, **env}, capture_output=True,
                          text=True, timeout=120)


def test_lang_option_wins_over_the_environment_and_may_stand_after_the_command():
    r = _cli(["validate", "--lang", "en", "/no/such/extract"], {"NOARKPACK_LANG": "nb", "LANG": "nb_NO.UTF-8"})
    assert r.returncode == 2 and "noarkpack: error:" in r.stderr, r.stderr
    r = _cli(["--lang=nb", "validate", "/no/such/extract"], {"LANG": "en_US.UTF-8"})
    assert r.returncode == 2 and "noarkpack: feil:" in r.stderr, r.stderr
    r = _cli(["validate", "/no/such/extract"], {"LANG": "en_US.UTF-8"})
    assert "noarkpack: error:" in r.stderr, r.stderr
    r = _cli(["validate", "/no/such/extract"], {})
    assert "noarkpack: feil:" in r.stderr, r.stderr  # no locale: bokmål


def test_an_unknown_language_is_a_usage_error_in_both_languages():
    r = _cli(["--lang", "de", "validate", "x"], {})
    assert r.returncode == 2
    assert "choose nb or en" in r.stderr and "velg nb eller en" in r.stderr
    r = _cli(["validate", "x"], {"NOARKPACK_LANG": "de"})
    assert r.returncode == 2 and "NOARKPACK" not in r.stdout and "velg nb eller en" in r.stderr
    # a library call never fails for it: the locale decides
    assert locale.resolve({"NOARKPACK_LANG": "de", "LANG": "en_US.UTF-8"}) == "en"
    with pytest.raises(locale.LanguageError):
        locale.resolve({"NOARKPACK_LANG": "de"}, strict=True)


def test_library_language_context_and_text_key():
    with locale.language("nb"):
        t = locale.tr("Usage:")
        assert t == "Bruk:" and t.key == "Usage:"
        with locale.language("en"):
            assert locale.tr("Usage:") == "Usage:"
        assert locale.current() == "nb"


# -- every command, both languages ------------------------------------------------------------------------------


def _run(lang: str, args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["--lang", lang, *args], catch_exceptions=False)
    return r.exit_code, r.stdout + (r.stderr if r.stderr_bytes is not None else "")


def _break_extract(extract: Path) -> None:
    """A broken extract: a checksum that does not match, a document file gone, a value that is not a date."""
    addml = extract / "arkivuttrekk.xml"
    text = addml.read_text(encoding="utf-8")
    text = re.sub(r"(<property name=\"checksum\">.*?<value>)([0-9a-f]{64})", lambda m: m.group(1) + "0" * 64,
                  text, count=1, flags=re.S)
    addml.write_text(text, encoding="utf-8")
    docs = sorted((extract / "DOKUMENT").rglob("*.pdf"))
    docs[0].unlink()
    ark = extract / "arkivstruktur.xml"
    text = ark.read_text(encoding="utf-8")
    text = re.sub(r"<opprettetDato>[^<]*</opprettetDato>", "<opprettetDato>ikke-en-dato</opprettetDato>", text,
                  count=1)
    ark.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Every command in both languages: {lang: [(args, exit code, output + reports)]}, and the JSON reports."""
    out: dict = {"json": {}}
    tmp = tmp_path_factory.mktemp("i18n")
    for lang in LANGS:
        w = tmp / lang
        project = w / "omsorg"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
        legacy = w / "legacydb"
        shutil.copytree(LEGACYDB, legacy, ignore=shutil.ignore_patterns(".noarkpack"))
        (w / "rnd").mkdir()
        (w / "rnd" / "arkivstruktur.xml").write_bytes(os.urandom(3000))
        extract = w / "x" / "avleveringspakke"
        commands = [
            ["--help"], *[[c, "--help"] for c in ("import", "analyse", "convert", "extract", "deposit", "validate",
                                                   "package", "verify")],
            ["schemas", "--help"], ["schemas", "install", "--help"], ["source", "inspect", "--help"],
            ["import", str(project)],
            ["analyse", str(project), "--json", str(w / "a.json"), "--html", str(w / "a.html")],
            ["convert", str(project)],
            ["extract", str(project), "--out", str(w / "x")],
            ["validate", str(extract), "--json", str(w / "v.json"), "--html", str(w / "v.html")],
            ["package", str(project), "--out", str(w / "p")],
            ["verify", str(w / "p"), "--json", str(w / "p.json"), "--html", str(w / "p.html")],
            ["deposit", str(project), "--out", str(w / "d")],
            ["schemas", "list"], ["schemas", "install", "--from", str(ROOT.parent / "shared" / "reference")],
            ["source", "inspect", str(legacy)],
            ["source", "sample", str(legacy), "--table", "pasient", "--rows", "2"],
            # what a user gets wrong
            ["validate"], ["validate", "--bogus", "x"], ["no-such-command"], ["validate", "--limit", "x", "y"],
            ["extract", str(w / "nope"), "--out", str(w / "o")], ["verify", str(w / "rnd")],
            ["package", str(project)], ["package", "--metadata-template"],
        ]
        done = []
        for args in commands:
            code, text = _run(lang, args)
            done.append((args, code, text))
        # the broken extract, and a package with a changed byte
        broken = w / "broken"
        shutil.copytree(extract, broken)
        _break_extract(broken)
        code, text = _run(lang, ["validate", str(broken), "--json", str(w / "b.json"), "--html", str(w / "b.html")])
        done.append((["validate", "broken"], code, text))
        tar = next((w / "p").glob("*.tar"))
        data = bytearray(tar.read_bytes())
        data[len(data) // 2] ^= 0xFF
        tar.write_bytes(bytes(data))
        code, text = _run(lang, ["verify", str(w / "p"), "--json", str(w / "pb.json"), "--html", str(w / "pb.html")])
        done.append((["verify", "damaged package"], code, text))
        for name in ("a.html", "v.html", "p.html", "b.html", "pb.html"):
            done.append(([name], 0, (w / name).read_text(encoding="utf-8")))
        out[lang] = done
        out["json"][lang] = {n: json.loads((w / n).read_text(encoding="utf-8"))
                             for n in ("a.json", "v.json", "p.json", "b.json", "pb.json")}
        # PRONOM's format names (English, from the registry) are data too
        counts = out["json"][lang]["a.json"]["counts"]
        names = {x.get("name") for part in (counts.get("formats") or {}, (counts.get("conversion") or {})
                                            .get("by_format") or {}) for x in part.values()}
        out.setdefault("data", {})[lang] = sorted((n for n in names if n), key=len, reverse=True)
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_no_command_prints_a_sentence_of_the_other_language(runs, lang):
    bad = []
    for args, _code, text in runs[lang]:
        data = DATA_PHRASES + runs["data"][lang] + (DB_NAMES if args[0] == "source" else [])
        for line in foreign(text, lang, data):
            bad.append(f"{' '.join(a if '/' not in a else Path(a).name for a in args)}: {line}")
    assert not bad, f"{len(bad)} lines in the other language than {lang}:\n" + "\n".join(bad[:60])


def test_the_commands_did_their_work(runs):
    """The runs above are real: the good ones exit 0, the mistakes 2, the broken extract and package 1."""
    for lang in LANGS:
        codes = {" ".join(Path(a).name if "/" in a else a for a in args): code for args, code, _ in runs[lang]}
        for cmd in ("import omsorg", "extract omsorg --out x", "package omsorg --out p", "schemas list",
                    "source inspect legacydb"):
            assert codes[cmd] == 0, (lang, cmd, codes)
        assert codes["validate broken"] == 1 and codes["verify damaged package"] == 1, codes
        assert codes["validate"] == 2 and codes["no-such-command"] == 2, codes


def test_html_reports_say_their_language(runs):
    for lang in LANGS:
        for args, _code, text in runs[lang]:
            if args[0].endswith(".html"):
                assert f'<html lang="{lang}">' in text, (lang, args)


def _shape(doc):
    """The keys and ids of a JSON report (not its messages)."""
    if isinstance(doc, dict):  # a message, a record's name, Arkade's name of a test: words a person reads
        return {k: (None if k in ("message", "record", "arkade_name") else _shape(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_shape(v) for v in doc]
    return doc


def test_json_reports_keep_their_shape_and_keys_in_both_languages(runs):
    """JSON keys, test ids, severities and the message keys are the same in both languages; the messages follow
    the language (at least one differs)."""
    for name in ("v.json", "b.json", "a.json"):
        nb, en = runs["json"]["nb"][name], runs["json"]["en"][name]
        a, b = _shape(nb), _shape(en)
        for doc in (a, b):  # paths and timings differ between the two runs by nature
            _scrub(doc)
        assert a == b, name
    # the two damaged packages are not byte for byte the same (each carries its run's validation report, in its
    # language), so the changed byte lands elsewhere: the same keys, and findings of the same kinds
    nb, en = runs["json"]["nb"]["pb.json"], runs["json"]["en"]["pb.json"]
    assert nb.keys() == en.keys() and nb["summary"].keys() == en["summary"].keys()
    assert nb["summary"]["verdict"] == en["summary"]["verdict"] == "invalid"
    assert {(f["test"], f["key"]) for f in nb["findings"]} == {(f["test"], f["key"]) for f in en["findings"]}
    findings_nb = [f for f in runs["json"]["nb"]["b.json"]["findings"]]
    findings_en = [f for f in runs["json"]["en"]["b.json"]["findings"]]
    assert [f["key"] for f in findings_nb] == [f["key"] for f in findings_en]
    assert all(f["key"] for f in findings_en), [f for f in findings_en if not f["key"]][:3]
    assert any(x["message"] != y["message"] for x, y in zip(findings_nb, findings_en))


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _scrub(doc) -> None:
    """Blank what differs between two runs on two copies: paths, times, sizes, uuids."""
    if isinstance(doc, dict):
        for k in list(doc):
            v = doc[k]
            if isinstance(v, str) and (("/" in v) or re.fullmatch(r"[\d:.T+-]+Z?|[0-9a-f-]{36}", v)):
                doc[k] = "~"
            elif isinstance(v, str) and _UUID.search(v):  # {uuid}.tar, {uuid}.xml: each run's own package
                doc[k] = _UUID.sub("~", v)
            elif isinstance(v, float) or k in ("seconds", "generated", "root", "path", "created"):
                doc[k] = "~"
            else:
                _scrub(v)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            if isinstance(v, str) and "/" in v:
                doc[i] = "~"
            else:
                _scrub(v)


def test_foreign_word_check_can_fail():
    """The language check finds an English sentence in bokmål output and a bokmål one in English output, and
    leaves data alone."""
    assert foreign("noarkpack: feil: the file is missing", "nb")
    assert foreign("noarkpack: error: filen mangler", "en")
    assert not foreign("noarkpack: feil: '/tmp/the file' finnes ikke (N5.02)", "nb")
    assert not foreign("<p class=\"error\">Uttrekk</p>", "nb")  # markup is not prose
    assert not foreign("arkivdel, registrering, skjerming, dokumentobjekt", "en")
    assert not foreign("arkivdel, registrering, skjerming, dokumentobjekt", "nb")


@pytest.mark.parametrize("lang", LANGS)
def test_the_workbench_pages_speak_one_language(tmp_path, lang):
    """noarkpack serve's pages (start, each target, an analyse run, its findings, browse of an extract, a
    document) in one language, chosen on the page (issue 21, point 6)."""
    import time

    from starlette.testclient import TestClient

    from noarkpack.web import create_app

    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "omsorg", ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    shutil.copytree(ROOT.parent / "shared" / "reference" / "samples", root / "samples",
                    ignore=shutil.ignore_patterns("*.siard", "*.tar"))
    app = create_app([root], token="t0k3n", state_dir=tmp_path / "state")
    c = TestClient(app, headers={"X-Noarkpack-Token": "t0k3n", "Origin": "http://testserver"})
    c.post("/settings", data={"lang": lang})
    pages = {"/": c.get("/").text}
    for tid in sorted(set(re.findall(r'href="/t/([0-9a-f]{12})"', pages["/"]))):
        pages[f"/t/{tid}"] = c.get(f"/t/{tid}").text
    project = next(p for p, text in pages.items() if p != "/" and "omsorg" in text and "/run/analyse" in text)
    r = c.post(f"{project}/run/analyse", data={}, follow_redirects=False)
    assert r.status_code == 303, r.text
    run = r.headers["location"]
    for _ in range(600):
        page = c.get(run).text
        if "/findings" in page:
            break
        time.sleep(0.1)
    pages[run] = page
    pages[run + "/findings"] = c.get(run + "/findings").text
    extract = next((p for p, text in pages.items() if p.startswith("/t/") and "/browse" in text), None)
    if extract:
        for _ in range(300):
            r = c.get(extract + "/browse")
            if r.status_code == 200:
                break
            time.sleep(0.1)
        pages[extract + "/browse"] = r.text
    # the samples' own values (titles, names, descriptions: Arkade's English test data) are data
    data = set()
    for xml in (root / "samples").rglob("*.xml"):
        if xml.stat().st_size < 5_000_000:
            data |= {t.strip() for t in re.findall(r">([^<>]{4,200})</", xml.read_text(encoding="utf-8",
                                                                                  errors="replace")) if " " in t}
    phrases = DATA_PHRASES + sorted(data, key=len, reverse=True)
    bad = [f"{p}: {line}" for p, text in pages.items() for line in foreign(text, lang, phrases)]
    assert len(pages) >= 5 and any(p.endswith("/findings") for p in pages), sorted(pages)
    assert any(p.endswith("/browse") for p in pages), sorted(pages)
    assert not bad, f"{len(bad)} lines in the other language than {lang}:\n" + "\n".join(bad[:40])
