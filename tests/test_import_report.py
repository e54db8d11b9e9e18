"""The import's plain-data entry point, its freshness check, and the ImportReport as a report (HTML included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from noarkpack.errors import ConfigError
from noarkpack.project import load_project
from noarkpack.sources.freshness import check_fresh
from noarkpack.sources.import_report import ImportReport, Rejected
from noarkpack.sources.importer import import_export
from noarkpack.sources.staging import StagingError, dump_digest

from .test_import import NOTAT, PASIENT, ROOT, write_project

BAD_NOTAT = NOTAT + ("N4;J1;Dato feil;Per Ås;31.02.2010 08:00;31.02.2010 08:30;per\r\n"  # bad date
                     "N5;J9;Ukjent journal;Per Ås;02.03.2010 08:00;02.03.2010 08:30;per\r\n")  # no such journal
ODD_PASIENT = PASIENT + "P3;24125512345;Kari Nordmann;24.12.1955;X\r\n"  # a sex code missing from the value map


def test_the_importer_takes_plain_data_and_reports_progress(tmp_path):
    root = write_project(tmp_path / "p")
    project = load_project(root)
    calls: list[tuple] = []
    report = import_export(project.import_mapping, project.settings.arkivskapere,
                           progress=lambda stage, done, total=None: calls.append((stage, done, total)))
    assert report.exit_code == 0 and report.counts["innslag"] == 3
    assert calls and calls[-1] == ("import", 9, 9)  # 2 patients, 2 journals, 3 entries, 2 documents
    digest = dump_digest(project.import_mapping.database, data_only=True)
    assert project.import_export().exit_code == 0  # the project-level call gives the same database
    assert dump_digest(project.import_mapping.database, data_only=True) == digest


def test_the_importer_does_not_load_the_project_module():
    code = "import noarkpack.sources.importer, sys; print('noarkpack.project' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_freshness_is_checked_from_the_mapping(tmp_path):
    root = write_project(tmp_path / "p")
    project = load_project(root, auto_import=False)
    mapping = project.import_mapping
    with pytest.raises(StagingError, match="does not exist yet"):
        check_fresh(mapping, root)
    project.import_export()
    check_fresh(mapping, root)  # just imported: fresh
    export = root / "eksport" / "notat.csv"
    export.write_bytes(export.read_bytes() + "N9;J2;Ny;Kari Lie;03.03.2011 08:00;03.03.2011 08:30;kari\r\n"
                       .encode("cp1252"))
    with pytest.raises(StagingError, match="changed since the last import") as e:
        check_fresh(mapping, root)
    assert f"noarkpack import {root}" in str(e.value)


def test_a_project_without_import_has_no_staging_database():
    project = load_project(ROOT / "examples" / "sykehus")
    with pytest.raises(ConfigError, match="no staging database"):
        project.staging()


def test_import_report_counts_and_html(tmp_path):
    root = write_project(tmp_path / "bad", notat=BAD_NOTAT, pasient=ODD_PASIENT)
    report = load_project(root).import_export()
    assert report.errors == report.rejected_total == 2 and report.exit_code == 1
    assert report.warnings == len(report.unmapped) == 1
    page = report.to_html()
    doc = lxml.html.document_fromstring(page)
    locations = [td.text_content() for td in doc.xpath("//td[@class='loc']")]
    assert "eksport/notat.csv:5" in locations and "eksport/notat.csv:6" in locations
    assert "eksport/pasient.csv:4" in locations  # the unmapped code's first row
    rows = [" ".join(tr.text_content().split()) for tr in doc.xpath("//tr")]
    assert any("eksport/notat.csv:6" in r and "journal J9" in r and "journal is not in the export" in r
               for r in rows), rows
    # no value from the export: no fødselsnummer, no name, no title of a rejected row
    for value in ("12043112345", "24125512345", "Ærlig", "Øverås", "Kari Nordmann", "Dato feil", "Ukjent journal"):
        assert value not in page, value
    # self-contained: nothing loaded from elsewhere
    assert not doc.xpath("//script|//link|//img|//*[@src]")


def test_import_report_html_escapes_what_it_shows():
    report = ImportReport(database=Path("staging.sqlite"), rejected_total=1,
                          rejected=[Rejected("eksport/<b>.csv", 3, "innslag", "journal <J1>", "bad & <worse>")])
    page = report.to_html()
    assert "<b>.csv" not in page and "&lt;b&gt;.csv" in page and "bad &amp; &lt;worse&gt;" in page
    assert report.summary_lines()[-1].endswith("bad & <worse> (journal <J1>)")
