"""Hostile XML: external entities are never read, entity bombs are refused fast; both are findings."""

from __future__ import annotations

import json
import resource
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from noarkpack import ExtractWriter
from noarkpack.validation import validate

from . import builders

SECRET = "noarkpack-secret-7f3a9c"

XXE = f"""<!DOCTYPE arkiv [<!ENTITY xxe SYSTEM "{{uri}}">]>"""
BOMB = """<!DOCTYPE lolz [
<!ENTITY lol "lollollollollollollollollollol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    docs = base / "docs"
    docs.mkdir()
    with ExtractWriter(base / "out", builders.settings(docs)) as w:
        w.add(builders.journal("J1", "P1", docs))
    return base / "out" / "avleveringspakke"


@pytest.fixture()
def secret_file(tmp_path) -> Path:
    p = tmp_path / "secret.txt"
    p.write_text(SECRET, encoding="utf-8")
    return p


def _inject(path: Path, doctype: str, ref: str, after_tag: str = "<tittel>") -> None:
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("\n", 1)
    rest = rest.replace(after_tag, after_tag + ref, 1)
    path.write_text(head + "\n" + doctype + "\n" + rest, encoding="utf-8")


def _report_text(report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False) + report.to_html() + "\n".join(report.summary_lines())


@pytest.mark.parametrize("name", ["arkivstruktur.xml", "arkivuttrekk.xml", "endringslogg.xml",
                                  "offentligJournal.xml"])
def test_external_entity_is_never_read(extract, tmp_path, secret_file, name):
    pkg = tmp_path / "pkg"
    shutil.copytree(extract, pkg)
    tag = "<description>" if name == "arkivuttrekk.xml" else ("<endretAv>" if name == "endringslogg.xml"
                                                              else "<journalStartDato>" if "Journal" in name
                                                              else "<tittel>")
    _inject(pkg / name, XXE.format(uri=secret_file.as_uri()), "&xxe;", tag)
    report = validate(pkg, identify_formats=False)
    assert SECRET not in _report_text(report)
    assert report.errors >= 1  # the file changed (checksum) and/or carries a DTD: reported, not crashed


def test_entity_bomb_is_refused_fast_in_bounded_memory(extract, tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(extract, pkg)
    _inject(pkg / "arkivstruktur.xml", BOMB, "&lol9;")
    _inject(pkg / "arkivuttrekk.xml", BOMB, "&lol9;", "<description>")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    report = validate(pkg, identify_formats=False)
    assert time.monotonic() - t0 < 30  # a generous bound: an expanding parser would take far longer
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # 10^9 "lol"s expanded would need gigabytes
    assert report.errors >= 1
    assert "lollollol" not in _report_text(report)


def test_verify_does_not_read_entities_in_a_package(extract, tmp_path, secret_file):
    """A received SIP whose dias-mets.xml carries an external entity: a finding, never a read."""
    import tarfile

    from noarkpack.packaging import PackageMetadata, build_package, verify

    meta = PackageMetadata.from_toml({
        "package": {"avtalenummer": "A-1", "mottaker": "Arkivverket",
                    "avleverer": {"navn": "Testkommune"},
                    "arkivskaper": [{"navn": "Testkommune"}],
                    "arkivskapende_system": {"navn": "Testjournal", "versjon": "1", "type": "Fagsystem"},
                    "periode_start": "2000-01-01", "periode_slutt": "2023-12-31",
                    "uttrekksdato": datetime(2024, 1, 1, tzinfo=timezone.utc)}})
    res = build_package(extract, tmp_path / "p", profile="arkivverket-sip", metadata=meta)
    bad = tmp_path / "bad"
    bad.mkdir()
    with tarfile.open(res.tar) as src, tarfile.open(bad / res.tar.name, "w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name.endswith("dias-mets.xml"):
                text = data.decode("utf-8")
                head, rest = text.split("\n", 1)
                text = head + "\n" + XXE.format(uri=secret_file.as_uri()).replace("arkiv", "mets") + "\n" + \
                    rest.replace('LABEL="', 'LABEL="&xxe;', 1)
                data = text.encode("utf-8")
                m.size = len(data)
            import io

            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    shutil.copy(res.description, bad / res.description.name)
    report = verify(bad / res.tar.name)
    text = json.dumps(report.to_json(), ensure_ascii=False) + report.to_html()
    assert SECRET not in text
    assert not report.ok
