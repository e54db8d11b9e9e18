"""arkivstruktur.xml validated in two halves at once (noarkpack.validation.parallel).

Issue 8: validate must run near xmllint's speed, which one Python process cannot.  The parallel pass
reads half of the file in a child process and merges its findings and tallies; the report must be the
one a single pass makes: same findings in the same order, same lines, same counts.  These tests
compare the two on a real extract (written by noarkpack from a synthetic project), clean and with
findings placed on both sides of the split, with a real child process and real Siegfried.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noarkpack import documents
from noarkpack.pipeline import extract_project
from noarkpack.project import load_project
from noarkpack.validation import parallel, validate

from . import builders


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    project = builders.synth_project(tmp_path_factory.mktemp("synth"), journals=30, entries=5, doc_kb=4)
    out = tmp_path_factory.mktemp("extract")
    extract_project(load_project(project), out)
    (root,) = [p.parent for p in out.rglob("arkivstruktur.xml")]
    return root


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    monkeypatch.setattr(documents, "_cache", None)


def _report(folder: Path, monkeypatch, *, halves: bool, fraction: float = 0.5):
    with monkeypatch.context() as m:
        if halves:
            m.setattr(parallel, "MIN_BYTES", 0)
            m.setattr(parallel, "FRACTION", fraction)
            m.delenv("NOARKPACK_NO_PARALLEL", raising=False)
        else:
            m.setenv("NOARKPACK_NO_PARALLEL", "1")
        m.setattr(documents, "_cache", None)
        report = validate(folder, limit=3)
    seen = {"findings": [(f.test, f.severity, f.message, f.location) for f in report.findings],
            "counts": {t: dict(c) for t, c in report.counts.items() if any(c.values())},
            "ran": sorted(report.ran)}
    return seen, report.facts.get("arkivstruktur_in_halves")


def _same_report(folder: Path, monkeypatch, fraction: float) -> dict:
    one, used = _report(folder, monkeypatch, halves=False)
    assert used is None
    two, used = _report(folder, monkeypatch, halves=True, fraction=fraction)
    assert used is True, "the split did not hold: the test would compare one pass with itself"
    assert two["findings"] == one["findings"]
    assert two["counts"] == one["counts"]
    assert two["ran"] == one["ran"]
    return one


def _copy(extract: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "uttrekk"
    shutil.copytree(extract, dest)
    return dest


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8])
def test_a_clean_extract_gives_the_same_report_in_halves(extract, tmp_path, monkeypatch, fraction):
    folder = _copy(extract, tmp_path)
    one = _same_report(folder, monkeypatch, fraction)
    assert one["counts"].get("N5.03", {}).get("error", 0) == 0
    assert one["counts"]["N5.47"]["info"] == 1  # systemIDs counted, none duplicated


def _lines(text: str, pattern: str) -> list[int]:
    return [i for i, line in enumerate(text.split("\n")) if re.search(pattern, line)]


def _damage(folder: Path, rng: random.Random, split_at: float) -> None:
    """Findings on both sides of ``split_at`` (a fraction of the lines), some spanning it."""
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    lines = text.split("\n")
    cut = int(len(lines) * split_at)
    sids = _lines(text, r"<systemID>")
    before = [i for i in sids if 60 < i < cut - 20]
    after = [i for i in sids if i > cut + 20]

    def value(i: int) -> str:
        return re.search(r"<systemID>([^<]*)<", lines[i]).group(1)

    def set_value(i: int, v: str) -> None:
        lines[i] = re.sub(r"<systemID>[^<]*<", f"<systemID>{v}<", lines[i])

    if before and len(after) >= 4:
        a, c = rng.sample(before, 2)
        b, d, e, g = rng.sample(after, 4)
        set_value(b, value(a))  # once on each side
        set_value(d, value(c))  # once before, twice after
        set_value(e, value(c))
        set_value(g, value(b) if rng.random() < 0.5 else value(d))  # three times
    for side in ((0, cut - 10), (cut + 10, len(lines))):
        status = [i for i in _lines(text, r"<dokumentstatus>") if side[0] < i < side[1]]
        if status:
            i = rng.choice(status)
            lines[i] = lines[i].replace("Dokumentet er ferdigstilt", "Dokumentet er under redigering")
        refs = [i for i in _lines(text, r"<referanseArkivdel>") if side[0] < i < side[1]]
        if refs:
            i = rng.choice(refs)
            lines[i] = re.sub(r">[^<]*<", ">00000000-0000-0000-0000-000000000000<", lines[i], count=1)
        bogus = [i for i in _lines(text, r"</dokumentstatus>") if side[0] < i < side[1]]
        if bogus:
            i = rng.choice(bogus)
            lines[i] += "<bogus/>"  # an XSD error (N5.03)
        avskrevet = [i for i in _lines(text, r"<avskrivning>") if side[0] < i < side[1] - 5]
        if avskrevet:  # an incoming journalpost loses its avskrivning: a restanse (NP.07), lines kept
            i = rng.choice(avskrevet)
            end = next(k for k in range(i, len(lines)) if "</avskrivning>" in lines[k])
            lines[i] = lines[i].replace("<avskrivning>", "<!--avskrivning")
            lines[end] = lines[end].replace("</avskrivning>", "avskrivning-->")
    files = [i for i in _lines(text, r"<referanseDokumentfil>")]
    first = [i for i in files if i < cut - 10]
    second = [i for i in files if i > cut + 10]
    if first and len(second) >= 2:
        i, j = rng.choice(first), rng.sample(second, 2)
        lines[j[0]] = re.sub(r">[^<]*<", ">" + re.search(r">([^<]*)<", lines[i]).group(1) + "<", lines[j[0]], count=1)
        missing = re.search(r">([^<]*)<", lines[j[1]]).group(1)
        (folder / missing).unlink(missing_ok=True)
    xml.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("seed", [1, 2])
def test_findings_on_both_sides_of_the_split_are_reported_as_in_one_pass(extract, tmp_path, monkeypatch, seed):
    folder = _copy(extract, tmp_path)
    _damage(folder, random.Random(seed), 0.5)
    one = _same_report(folder, monkeypatch, 0.5)
    counts = one["counts"]
    assert counts["N5.47"]["error"] == 2  # the duplicated systemIDs, found across the halves
    assert counts["N5.03"]["error"] >= 2  # located by xmllint after the halves counted them
    assert counts["N5.25"]["error"] == 2
    # one unknown arkivdel, referred to on each side: one finding that counts both
    assert counts["N5.48"]["error"] == 1
    assert any(f[0] == "N5.48" and "(2 references)" in f[2] for f in one["findings"])
    assert counts["N5.32"]["error"] == 1
    assert counts["N5.34"]["info"] >= 1
    assert counts["NP.07"]["warning"] == 2  # one restanse on each side, reported when its mappe ends


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), split=st.floats(0.25, 0.75))
def test_any_split_of_a_damaged_extract_gives_the_one_pass_report(extract, tmp_path_factory, monkeypatch,
                                                                  seed, split):
    folder = _copy(extract, tmp_path_factory.mktemp("prop"))
    rng = random.Random(seed)
    _damage(folder, rng, rng.uniform(0.2, 0.8))
    _same_report(folder, monkeypatch, split)


def test_a_split_in_another_arkivdel_falls_back_to_one_pass(extract, tmp_path, monkeypatch):
    """The second half starts in a second arkivdel: its ancestors differ from the head's, so no split."""
    folder = _copy(extract, tmp_path)
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    start = text.index("  <arkivdel>")
    end = text.index("  </arkivdel>") + len("  </arkivdel>\n")
    second = re.sub(r"<systemID>([0-9a-f]{8})", lambda m: "<systemID>" + m.group(1)[::-1], text[start:end])
    xml.write_text(text[:end] + second + text[end:], encoding="utf-8")
    one, _ = _report(folder, monkeypatch, halves=False)
    two, used = _report(folder, monkeypatch, halves=True, fraction=0.75)
    assert used is False
    assert two == one


def test_a_child_that_fails_leaves_this_process_to_read_on(extract, tmp_path, monkeypatch):
    folder = _copy(extract, tmp_path)
    one, _ = _report(folder, monkeypatch, halves=False)
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    two, used = _report(folder, monkeypatch, halves=True)
    assert used is False
    assert two == one


def test_the_split_lands_at_a_top_level_unit_and_keeps_the_lines(extract):
    xml = extract / "arkivstruktur.xml"
    data = xml.read_bytes()
    split = parallel.find_split(xml, len(data))
    assert split is not None and split.unit == "klasse"
    head_line = data[:split.head_end].count(b"\n") + 1
    assert data[split.head_end:].lstrip().startswith(b"<klasse>")
    assert data[split.tail_start:].lstrip().startswith(b"<klasse>")
    assert head_line == _lines(data.decode("utf-8"), r"<klasse>")[0] + 1


def test_a_unit_in_a_comment_is_no_split(extract, tmp_path, monkeypatch):
    """find_split matches bytes; a commented-out unit at the split must not be taken for one."""
    folder = _copy(extract, tmp_path)
    xml = folder / "arkivstruktur.xml"
    data = xml.read_bytes()
    units = [m.start() for m in re.finditer(rb"\n      <klasse>", data)]
    at = units[len(units) // 2] + 1
    comment = (b"      <!--\n      <klasse>\n        <systemID>" + re.search(rb"<systemID>([^<]*)<", data).group(1)
               + b"</systemID>\n      </klasse>\n      -->\n")
    data = data[:at] + comment + data[at:]
    xml.write_bytes(data)
    split = parallel.find_split(xml, len(data), fraction=(at + 2) / len(data))
    assert split is not None and data[split.tail_start:].startswith(b"      <klasse>\n        <systemID>")
    assert split.tail_start < at + len(comment)  # inside the comment
    one, _ = _report(folder, monkeypatch, halves=False)
    two, used = _report(folder, monkeypatch, halves=True, fraction=(at + 2) / len(data))
    assert used is False
    assert two == one
    assert one["counts"]["N5.47"] == {"error": 0, "warning": 0, "info": 1}  # the comment holds no duplicate


@pytest.mark.parametrize("where", [0.25, 0.75])
def test_a_namespace_error_in_either_half_reads_as_in_one_pass(extract, tmp_path, monkeypatch, where):
    """A validating parse does not report an undeclared prefix; the halves look for it once more."""
    folder = _copy(extract, tmp_path)
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    hits = [m.start() for m in re.finditer(r'<registrering xsi:type="journalpost">', text)]
    at = hits[int(len(hits) * where)]
    xml.write_text(text[:at] + '<registrering nope:type="journalpost">' + text[at + len('<registrering xsi:type="journalpost">'):],
                   encoding="utf-8")
    one, _ = _report(folder, monkeypatch, halves=False)
    two, used = _report(folder, monkeypatch, halves=True)
    assert used is True
    assert two == one
    assert "Namespace prefix nope" in next(f[2] for f in one["findings"] if f[0] == "N5.03")


def test_an_undeclared_element_prefix_in_lax_content_reads_as_in_one_pass(extract, tmp_path, monkeypatch):
    folder = _copy(extract, tmp_path)
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    hits = [m.end() for m in re.finditer(r"<virksomhetsspesifikkeMetadata>", text)]
    at = hits[int(len(hits) * 0.8)]
    xml.write_text(text[:at] + "<nope:x>1</nope:x>" + text[at:], encoding="utf-8")
    one, _ = _report(folder, monkeypatch, halves=False)
    two, used = _report(folder, monkeypatch, halves=True)
    assert used is True
    assert two == one
    assert any("Namespace prefix nope" in f[2] for f in one["findings"])


def _inside_reference(text: bytes) -> bool:
    i, closing = 0, None
    while i < len(text):
        if closing is None:
            for opening, end in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>")):
                if text.startswith(opening, i):
                    closing, i = end, i + len(opening)
                    break
            else:
                i += 1
        elif text.startswith(closing, i):
            i, closing = i + len(closing), None
        else:
            i += 1
    return closing is not None


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from([b"<a>", b"x", b"<!--", b"-->", b"<![CDATA[", b"]]>", b"<?p ", b"?>",
                                       b"<!DOCTYPE d>", b"<", b"!", b"-", b"?", b">", b"]", b"["]), max_size=30),
       cuts=st.lists(st.integers(1, 6), min_size=1, max_size=40))
def test_the_markup_scan_knows_a_comment_cdata_or_pi_in_any_chunking(parts, cuts):
    text = b"".join(parts)
    scan = parallel._MarkupScan()
    k = i = 0
    while k < len(text):
        step = cuts[i % len(cuts)]
        scan.feed(text[k:k + step])
        k, i = k + step, i + 1
    assert scan.inside == _inside_reference(text)


def test_a_file_past_line_65535_splits_and_keeps_its_lines(tmp_path, monkeypatch, schema_store):
    """libxml2 numbers lines past 65,535 in its own way: the halves must agree with one pass there too."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "validate_memory", Path(__file__).resolve().parents[1] / "benchmarks" / "validate_memory.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    folder = tmp_path / "xml"
    generator.generate(folder, 6, schema_store.set_dir("noark5-v5.0"))
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    assert text.count("\n") > 100_000
    lines = text.split("\n")
    for at in (int(len(lines) * 0.3), int(len(lines) * 0.9)):  # a bad status on each side
        i = next(k for k in range(at, len(lines)) if "<saksstatus>" in lines[k])
        lines[i] = lines[i].replace("Avsluttet", "Under behandling")
    xml.write_text("\n".join(lines), encoding="utf-8")
    one = _same_report(folder, monkeypatch, 0.5)
    assert [f[3]["line"] for f in one["findings"] if f[0] == "N5.15" and f[1] == "error"][1] > 65535
