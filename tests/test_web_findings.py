"""noarkpack serve, the findings (issue 21, point 3): the store over a report JSON (filter, search, sort, page on
the server, rebuilt when the report changes), the XML element around a line (folder and tar member, masked), a
source export's row, and the pages that tie them together, on real reports of examples/omsorg and the reference
extracts."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from noarkpack.web import findings as fmod
from noarkpack.web.findings import FindingsStore, mask_person_numbers
from noarkpack.web.xmlcontext import MASK, element_context, export_row, open_xml

ROOT = Path(__file__).resolve().parents[1]
FNR = "03062945272"  # a valid fødselsnummer (invented: examples/omsorg)


def _validation_report(path: Path, n: int) -> Path:
    tests = ("N5.03", "N5.30", "NP.06")
    sevs = ("error", "warning", "info")
    findings = [{"test": tests[i % 3], "severity": sevs[(i // 3) % 3],
                 "message": f"finding {i} about sjekksum" if i % 5 == 0 else f"finding {i} mangler tittel",
                 "key": "k", "location": {"file": "arkivstruktur.xml", "line": 1000 - i, "systemID": f"sid-{i}"}}
                for i in range(n)]
    path.write_text(json.dumps({"findings": findings, "summary": {"verdict": "invalid"}}, indent=2), "utf-8")
    return path


def test_store_filters_searches_sorts_and_pages(tmp_path):
    store = FindingsStore.open(_validation_report(tmp_path / "validation.json", 300), tmp_path / "cache")
    assert store.kind == "validation" and store.meta["summary"] == {"verdict": "invalid"}
    facets = store.facets()
    assert facets["total"] == 300 and dict(facets["tests"]) == {"N5.03": 100, "N5.30": 100, "NP.06": 100}
    assert [s for s, _ in facets["severities"]] == ["error", "warning", "info"]
    page = store.page(test="N5.30", per_page=30)
    assert page.total == 100 and page.pages == 4 and len(page.rows) == 30
    assert {r["test"] for r in page.rows} == {"N5.30"}
    assert [r["severity"] for r in page.rows] == sorted((r["severity"] for r in page.rows),
                                                        key=fmod.SEVERITY_RANK.get)
    both = store.page(test=["N5.30", "NP.06"], severity="error")
    assert both.total == sum(1 for i in range(300) if i % 3 and (i // 3) % 3 == 0)
    found = store.page(q="sjekksum")
    assert found.total == 60 and all("sjekksum" in r["message"] for r in found.rows)
    assert store.page(q="sjekk").total == 60  # a word's start is enough
    assert store.page(q="mangler tittel", test="N5.03").total == 80
    assert sorted(r["systemID"] for r in store.page(q="sid-7").rows)[:3] == ["sid-7", "sid-70", "sid-71"]
    by_place = store.page(sort="location", per_page=5)
    assert [r["line"] for r in by_place.rows] == [701, 702, 703, 704, 705]
    assert [r["line"] for r in store.page(sort="-location", per_page=2).rows] == [1000, 999]
    last = store.page(test="N5.30", page=99, per_page=30)
    assert last.page == 4 and len(last.rows) == 10
    assert store.page(q="nothing-like-this").total == 0
    assert store.page(sort="bogus; DROP TABLE f").sort == "severity"  # an unknown sort is the default one
    assert store.page(q='"*) OR (').total == 0  # no FTS syntax reaches SQLite from the search box


def test_store_is_built_once_and_again_when_the_report_changes(tmp_path):
    report = _validation_report(tmp_path / "v.json", 10)
    cache = tmp_path / "cache"
    first = FindingsStore.open(report, cache)
    built = first.db.stat().st_mtime_ns
    again = FindingsStore.open(report, cache)
    assert again.db == first.db and again.db.stat().st_mtime_ns == built
    time.sleep(0.01)
    _validation_report(report, 20)
    changed = FindingsStore.open(report, cache)
    assert changed.db != first.db and changed.facets()["total"] == 20
    assert not first.db.exists() and len(list(cache.glob("*.sqlite"))) == 1


def test_reader_streams_values_larger_than_its_buffer(tmp_path, monkeypatch):
    monkeypatch.setattr(fmod._Reader, "CHUNK", 64)
    long = "x" * 200_000
    doc = {"summary": {"note": long}, "findings": [{"test": "N5.01", "severity": "info", "message": long,
                                                    "location": {"file": None, "line": None}},
                                                   {"test": "N5.02", "severity": "error", "message": "kort",
                                                    "location": {}}], "after": [1, 2.5, None]}
    meta = {}
    items = list(fmod._Reader(io.StringIO(json.dumps(doc))).items(meta))
    assert [i["test"] for i in items] == ["N5.01", "N5.02"] and meta["after"] == [1, 2.5, None]
    assert meta["summary"]["note"] == long


def test_analysis_report_person_numbers_masked_and_not_searchable(tmp_path):
    report = tmp_path / "analysis.json"
    report.write_text(json.dumps({"identifiers_shown": True, "verdict": "ok", "findings": [
        {"code": "AN.06", "severity": "warning", "message": f"the person number {FNR} is not valid", "key": "k",
         "location": {"file": "eksport/PASIENT.csv", "line": 8, "record": f"pasient {FNR}"},
         "identifiers": {"navn": "Åse Ærlig"}}]}), "utf-8")
    store = FindingsStore.open(report, tmp_path / "cache")
    assert store.kind == "analysis"
    assert store.page(q=FNR).total == 0 and store.page(q="person number").total == 1
    row = store.page().rows[0]
    hidden = fmod.shown(row, reveal=False)
    assert FNR not in hidden["message"] + hidden["record"] and hidden["identifiers"] is None
    assert FNR in fmod.shown(row, reveal=True)["message"]
    assert mask_person_numbers("12345678901 and " + FNR) == "12345678901 and ***********"


def test_benchmark_figure_small(tmp_path):
    """The benchmark's synthetic report loads, and a filtered page of it is quick (the figure: 100,000)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("web_findings_bench", ROOT / "benchmarks" / "web_findings.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.write_report(tmp_path / "r.json", 5000)
    store = FindingsStore.open(tmp_path / "r.json", tmp_path / "cache")
    assert store.facets()["total"] == 5000
    t0 = time.perf_counter()
    page = store.page(test="N5.30", q="sjekksum", sort="-location")
    assert (time.perf_counter() - t0) < 0.1 and page.total > 0


# -- the XML element around a line ----------------------------------------------------------------------------

PATIENT_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<arkiv xmlns="http://www.arkivverket.no/standarder/noark5/arkivstruktur"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:epj="urn:noarkpack:epj:2.0">
  <systemID>a-1</systemID>
  <tittel>Arkivet</tittel>
  <arkivdel>
    <systemID>ad-1</systemID>
    <klassifikasjonssystem>
      <klasse>
        <systemID>k-1</systemID>
        <klasseID>{FNR}</klasseID>
        <tittel>Åse Ærlig</tittel>
        <mappe xsi:type="saksmappe">
          <systemID>m-1</systemID>
          <mappeID>2013/1</mappeID>
          <tittel>Pasientjournal Åse Ærlig, sone nord</tittel>
          <part>
            <partNavn>Åse Ærlig</partNavn>
          </part>
          <merknad>
            <merknadstekst>Ringte Åse Ærlig om
 fødselsnummer {FNR} i dag</merknadstekst>
          </merknad>
          <registrering xsi:type="journalpost">
            <systemID>r-1</systemID>
            <registreringsID>H-1</registreringsID>
            <tittel>Henvisning</tittel>
            <dokumentbeskrivelse>
              <systemID>d-1</systemID>
              <dokumentobjekt>
                <systemID>o-1</systemID>
                <sjekksum>00ab</sjekksum>
              </dokumentobjekt>
            </dokumentbeskrivelse>
          </registrering>
        </mappe>
      </klasse>
    </klassifikasjonssystem>
  </arkivdel>
</arkiv>
"""


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_element_context_ancestors_and_lines_masked():
    line = _line_of(PATIENT_XML, "<sjekksum>")
    found = element_context(io.BytesIO(PATIENT_XML.encode()), line)
    assert found.focus.name == "sjekksum" and found.focus.line == line
    assert [a.local for a in found.ancestors] == ["arkiv", "arkivdel", "klassifikasjonssystem", "klasse", "mappe",
                                                  "registrering", "dokumentbeskrivelse", "dokumentobjekt"]
    ids = {a.local: dict(a.ids) for a in found.ancestors}
    assert ids["klasse"] == {"systemID": "k-1", "klasseID": MASK, "tittel": MASK}
    assert ids["mappe"]["mappeID"] == "2013/1" and ids["mappe"]["tittel"] == MASK
    assert ids["registrering"] == {"systemID": "r-1", "registreringsID": "H-1", "tittel": "Henvisning"}
    assert found.ancestors[4].type == "saksmappe"
    # the lines shown: the nearest Noark object (dokumentobjekt), whole
    numbers = [n for n, _ in found.lines]
    assert numbers[0] == _line_of(PATIENT_XML, "<dokumentobjekt>") and line in numbers
    assert numbers[-1] == _line_of(PATIENT_XML, "</dokumentobjekt>")


def test_element_context_masks_names_and_numbers_in_the_lines_unless_revealed():
    line = _line_of(PATIENT_XML, "<partNavn>")
    masked = element_context(io.BytesIO(PATIENT_XML.encode()), line)
    text = "\n".join(t for _, t in masked.lines)
    assert masked.focus.local == "partNavn" and "<part>" in text
    assert "Ærlig" not in text and FNR not in text and f"<partNavn>{MASK}</partNavn>" in text
    whole = element_context(io.BytesIO(PATIENT_XML.encode()), _line_of(PATIENT_XML, "<merknadstekst>"))
    shown = "\n".join(t for _, t in whole.lines)
    assert "Ærlig" not in shown and FNR not in shown and "Ringte" in shown  # a name seen before, a number anywhere
    revealed = element_context(io.BytesIO(PATIENT_XML.encode()), line, reveal=True)
    assert "Åse Ærlig" in "\n".join(t for _, t in revealed.lines)
    assert dict(revealed.ancestors[3].ids)["klasseID"] == FNR


def test_element_context_stops_after_the_line_and_handles_the_edges():
    big = PATIENT_XML.replace("</arkiv>", "<broken>" * 3 + "\n" * 50_000 + "</arkiv>")

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n=-1):
            data = super().read(n)
            Counting.read_bytes += len(data)
            return data

    stream = Counting(big.encode() + b"x" * 5_000_000)
    found = element_context(stream, _line_of(big, "<registreringsID>"))
    assert found.focus.local == "registreringsID" and Counting.read_bytes < 200_000
    past = element_context(io.BytesIO(PATIENT_XML.encode()), 10_000)
    assert past.focus is None and past.lines == []
    bad = element_context(io.BytesIO(b"<a>\n<b>\n</a>\n"), 3)
    assert bad.error and "line 3" in bad.error


def test_open_xml_in_a_folder_and_inside_a_tar(tmp_path, shared_dir):
    sample = shared_dir / "reference" / "samples"
    ext = tmp_path / "uttrekk"
    shutil.copytree(sample / "arkade-small", ext)
    with open_xml(ext, "arkivstruktur.xml") as fp:
        found = element_context(fp, 4)
    assert found.focus is not None and found.ancestors[0].local == "arkiv"
    text = (ext / "arkivstruktur.xml").read_text("utf-8")
    with open_xml(ext, "arkivstruktur.xml") as fp:  # a subject-based klasse: its title and klasseID are no names
        found = element_context(fp, _line_of(text, "<beskrivelse>Walkabout"))
    assert dict(found.focus and found.ancestors[-1].ids) == {"systemID": "klasse57d6608566c0b6.68450327",
                                                             "klasseID": "4", "tittel": "Traveling"}
    for bad in ("../x.xml", "/etc/passwd", "a/../../x.xml", ""):
        with pytest.raises(FileNotFoundError):
            with open_xml(ext, bad):
                pass
    (ext / "link.xml").symlink_to(ext / "arkivstruktur.xml")
    with pytest.raises(FileNotFoundError):
        with open_xml(ext, "link.xml"):
            pass
    tar = sample / "arkade-sip-example" / "n5-guid.tar"
    with tarfile.open(tar) as t:
        member = next(m for m in t.getmembers() if m.name.endswith("/content/arkivstruktur.xml"))
        text = t.extractfile(member).read().decode("utf-8")
    line = _line_of(text, "<registrering")
    with open_xml(tar, "arkivstruktur.xml") as fp:
        found = element_context(fp, line)
    assert found.focus.local == "registrering" and found.lines[0][0] <= line
    assert any(line == n for n, _ in found.lines)


def test_export_row_masked_unless_revealed():
    path = ROOT / "examples" / "omsorg" / "eksport" / "PASIENT.csv"
    row = export_row(path, 2)
    values = dict(zip(row.header, row.values))
    assert values["PAS_ID"] == "P-10016" and values["FODSELSNR"] == MASK and values["FORNAVN"] == MASK
    shown = dict(zip(row.header, export_row(path, 2, reveal=True).values))
    assert shown["FODSELSNR"] == FNR
    assert export_row(path, 10_000).values == []


# -- the pages, through the app -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory, shared_dir):
    """A root with examples/omsorg (its analysis report beside it) and a mutated arkade-small (its validation
    report beside it), and a run of validation kept in the state folder as an earlier server left it."""
    from starlette.testclient import TestClient

    from noarkpack import pipeline
    from noarkpack.web import create_app

    tmp = tmp_path_factory.mktemp("web-findings")
    root = tmp / "root"
    shutil.copytree(ROOT / "examples" / "omsorg", root / "omsorg")
    ext = root / "uttrekk"
    shutil.copytree(shared_dir / "reference" / "samples" / "arkade-small", ext)
    xml = (ext / "arkivstruktur.xml").read_text("utf-8")
    (ext / "arkivstruktur.xml").write_text(xml.replace("<tittel>", "<tittelX>x</tittelX><tittel>", 1), "utf-8")
    pipeline.write_reports(pipeline.analyse_project(root / "omsorg"), root / "omsorg" / "analysis.json", None)
    validation = pipeline.validate_path(ext)
    pipeline.write_reports(validation, ext / "validation.json", None)
    state = tmp / "state"
    app = create_app([root], token="tok", state_dir=state)
    ctx = app.state.ctx
    tids = {t.label: t.id for t in ctx.targets.values()}
    run_dir = state / "runs" / "20260101-000000-abcdef"
    run_dir.mkdir(parents=True)
    shutil.copy(ext / "validation.json", run_dir / "validation.json")
    (run_dir / "run.json").write_text(json.dumps({
        "id": run_dir.name, "target": tids["uttrekk"], "target_path": str(ext.resolve()), "stage": "validate",
        "options": {}, "lang": "en", "state": "done", "reports": ["validation.json"], "report": "validation.json",
        "exit_code": 1}), "utf-8")
    app = create_app([root], token="tok", state_dir=state)  # the run is read from the state folder
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/?token=tok").status_code == 200
        yield client, app.state.ctx, tids, run_dir.name


def test_findings_page_filters_and_follows_a_finding_to_its_xml_element(served):
    client, ctx, tids, _ = served
    ext = tids["uttrekk"]
    listing = client.get(f"/t/{ext}/findings")
    assert listing.status_code == 200 and "validation.json" in listing.text
    page = client.get(f"/t/{ext}/findings", params={"report": "validation.json", "test": "N5.03"})
    assert page.status_code == 200 and "tittelX" in page.text
    assert 'option value="N5.03" selected' in page.text
    link = re.search(r'class="place-link" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert link.startswith(f"/t/{ext}/xml?file=arkivstruktur.xml&line=")
    element = client.get(link, headers={"referer": str(page.url)})
    assert element.status_code == 200 and 'class="ln hit"' in element.text
    assert "&lt;arkiv&gt;" in element.text and "tittelX" in element.text
    assert 'href="/t/%s/findings?report=validation.json' % ext in element.text  # back to the same filter
    searched = client.get(f"/t/{ext}/findings", params={"report": "validation.json", "q": "journalaar"})
    assert "journalaar" in searched.text and "N5.03" not in re.sub(r"<select.*?</select>", "", searched.text,
                                                                    flags=re.S)
    empty = client.get(f"/t/{ext}/findings", params={"report": "validation.json", "q": "zzzqqq"})
    assert 'id="findings-empty"' in empty.text


def test_analysis_findings_link_to_the_export_row_masked_until_revealed(served):
    client, ctx, tids, _ = served
    proj = tids["omsorg"]
    page = client.get(f"/t/{proj}/findings", params={"report": "analysis.json", "test": "AN.06"})
    assert page.status_code == 200 and "AN.06" in page.text
    link = re.search(r'class="place-link" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert link.startswith(f"/t/{proj}/row?file=eksport%2FPASIENT.csv&line=")
    row = client.get(link)
    assert row.status_code == 200 and "P-10169" in row.text and "15034415992" not in row.text
    assert "Tangen" not in row.text and 'class="masked"' in row.text
    sid = client.cookies.get("np_session")
    ctx.set_reveal(sid, True)
    try:
        shown = client.get(link)
        assert "15034415992" in shown.text and "Tangen" in shown.text and "reveal-banner" in shown.text
    finally:
        ctx.set_reveal(sid, False)


def test_a_runs_report_and_the_paths_it_refuses(served):
    client, ctx, tids, rid = served
    ext = tids["uttrekk"]
    page = client.get(f"/runs/{rid}/findings", params={"severity": "warning", "sort": "-location"})
    assert page.status_code == 200 and f"/t/{ext}/xml?file=arkivstruktur.xml" in page.text
    assert client.get(f"/runs/{rid}/findings", params={"report": "run.json"}).status_code == 404
    assert client.get("/runs/nope/findings").status_code == 404
    for params in ({"report": "../omsorg/analysis.json"}, {"report": "/etc/passwd"}):
        assert client.get(f"/t/{ext}/findings", params=params).status_code == 404
    for params in ({"file": "../omsorg/noarkpack.toml", "line": 1}, {"file": "/etc/hosts.xml", "line": 1},
                   {"file": "arkivstruktur.xml", "line": "x"}, {"file": "arkivstruktur.xml", "line": 0}):
        assert client.get(f"/t/{ext}/xml", params=params).status_code == 404
    assert client.get(f"/t/{tids['omsorg']}/row", params={"file": "../uttrekk/validation.json",
                                                          "line": 2}).status_code == 404
    assert client.get(f"/t/{ext}/row", params={"file": "validation.json", "line": 2}).status_code == 404
    not_report = client.get(f"/t/{tids['omsorg']}/findings", params={"report": "noarkpack.toml"})
    assert not_report.status_code == 422


def test_xml_page_of_a_sip_tar_and_of_a_damaged_one(tmp_path, shared_dir):
    from starlette.testclient import TestClient

    from noarkpack.web import create_app

    root = tmp_path / "root"
    root.mkdir()
    sip = shared_dir / "reference" / "samples" / "arkade-sip-example"
    shutil.copy(sip / "n5-guid.tar", root / "n5-guid.tar")
    shutil.copy(sip / "n5-guid.xml", root / "n5-guid.xml")
    (root / "broken.tar").write_bytes(b"not a tar at all" * 100)
    app = create_app([root], token="tok", state_dir=tmp_path / "state")
    tids = {t.label: t.id for t in app.state.ctx.targets.values()}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.get("/?token=tok")
        page = client.get(f"/t/{tids['n5-guid.tar']}/xml", params={"file": "arkivstruktur.xml", "line": 3})
        assert page.status_code == 200 and 'class="ln hit"' in page.text and "&lt;arkiv" in page.text
        assert client.get(f"/t/{tids['n5-guid.tar']}/xml", params={"file": "nothing.xml", "line": 3}
                          ).status_code == 404
        assert client.get(f"/t/{tids['broken.tar']}/xml", params={"file": "arkivstruktur.xml", "line": 3}
                          ).status_code == 422


def test_a_real_analyse_run_then_its_findings(served):
    client, ctx, tids, _ = served
    target = ctx.target(tids["omsorg"])
    run = ctx.runs.start(target, "analyse", [])
    deadline = time.monotonic() + 120
    while run.active and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.state == "done" and run.report == "analysis.json"
    page = client.get(f"/runs/{run.id}/findings", params={"test": "AN.07"})
    assert page.status_code == 200 and "AN.07" in page.text
    link = re.search(r'class="place-link" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    row = client.get(link)
    assert row.status_code == 200 and 'id="export-row"' in row.text
    listing = client.get(f"/t/{target.id}/findings")
    assert f"/runs/{run.id}/findings?report=analysis.json" in listing.text
