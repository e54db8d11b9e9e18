"""Non-archival documents are converted to PDF/A-2b and the conversion is recorded (issue 7).

Real tools: LibreOffice (office files, images) and Ghostscript (plain PDF), installed by .ci/run.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pygfried
import pytest
from lxml import etree

from noarkpack import ExtractWriter
from noarkpack.conversion import ConversionCache, convert_all
from noarkpack.documents import identify
from noarkpack.errors import DocumentError
from noarkpack.formats import PDFA_PUIDS, is_archival
from noarkpack.model.epj import Dokumentfil, Journalinnslag

from . import builders

AS = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"
OSLO = ZoneInfo("Europe/Oslo")


def _bmp(path: Path, w: int = 64, h: int = 48) -> None:
    pad = (4 - (w * 3) % 4) % 4
    rows = b"".join(b"".join(bytes([(x * 4 + y) % 256, (y * 5) % 256, (200 - x) % 256]) for x in range(w))
                    + b"\0" * pad for y in range(h))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    path.write_bytes(header + info + rows)


def _soffice(args: list[str], cwd: Path) -> None:
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(cwd / '.lo').as_uri()}", *args],
                   cwd=cwd, check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """Legacy documents made on the spot: RTF, Word 97 .doc, BMP, GIF, plain PDF, and a corrupt .doc."""
    assert shutil.which("soffice") and shutil.which("gs"), "LibreOffice and Ghostscript are needed (see README)"
    d = tmp_path_factory.mktemp("legacy")
    (d / "Notat Ærlig.rtf").write_text(
        r"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times New Roman;}}\f0\fs24 Notat om pasienten. \u230?rlig \u248?ye.\par }",
        encoding="ascii")
    _soffice(["--convert-to", "doc", "--outdir", str(d / "doc"), str(d / "Notat Ærlig.rtf")], d)
    shutil.move(d / "doc" / "Notat Ærlig.doc", d / "brev.doc")
    _bmp(d / "skann.bmp")
    _soffice(["--convert-to", "gif", "--outdir", str(d), str(d / "skann.bmp")], d)
    _soffice(["--convert-to", "pdf", "--outdir", str(d / "pdf"), str(d / "Notat Ærlig.rtf")], d)
    shutil.move(d / "pdf" / "Notat Ærlig.pdf", d / "vanlig.pdf")
    (d / "ødelagt.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\xff" * 300)  # OLE magic, no body
    for name in ("doc", "pdf", ".lo"):
        shutil.rmtree(d / name, ignore_errors=True)
    return d


def _journal(samples: Path, files: list[str]):
    j = builders.journal("J1", "P1", samples, with_docs=False, korrespondanse_every=0, entries=1)
    t = datetime(2015, 5, 1, 9, tzinfo=OSLO)
    j.innslag = [Journalinnslag(innslag_id=f"E{n}", type="brev", tittel=f"Dokument {n}", forfatter="Per Ås",
                                opprettet=t + timedelta(days=n), arkivert=t + timedelta(days=n, hours=1),
                                arkivert_av="per", dokumenter=[Dokumentfil(fil=f, tittel=f)])
                 for n, f in enumerate(files)]
    return j


def test_samples_are_not_archival(samples):
    for name in ("Notat Ærlig.rtf", "brev.doc", "skann.bmp", "skann.gif", "vanlig.pdf"):
        puid = identify(samples / name).puid
        assert puid != "UNKNOWN" and not is_archival(puid), (name, puid)


def test_every_legacy_format_is_converted_and_recorded(samples, tmp_path):
    files = ["Notat Ærlig.rtf", "brev.doc", "skann.bmp", "skann.gif", "vanlig.pdf"]
    cache = ConversionCache(tmp_path / "cache")
    with ExtractWriter(tmp_path / "out", builders.settings(samples), conversion=cache) as w:
        w.add(_journal(samples, files))
    assert w.result.converted == 5 and not w.result.unconverted
    pkg = tmp_path / "out" / "avleveringspakke"
    tree = etree.parse(str(pkg / "arkivstruktur.xml"))
    objs = tree.findall(f".//{AS}dokumentobjekt")
    assert len(objs) == 5
    for o in objs:
        ref = o.findtext(f"{AS}referanseDokumentfil")
        fmt = o.findtext(f"{AS}format")
        assert ref.endswith(".pdf") and fmt in PDFA_PUIDS
        assert pygfried.identify(str(pkg / ref)) == fmt  # Siegfried agrees with dokumentobjekt/format
        k = o.find(f"{AS}konvertering")
        assert k is not None
        assert k.findtext(f"{AS}konvertertTilFormat") == fmt
        assert not is_archival(k.findtext(f"{AS}konvertertFraFormat"))
        assert k.findtext(f"{AS}konverteringsverktoey").startswith(("LibreOffice", "GPL Ghostscript"))
        assert k.findtext(f"{AS}konvertertDato") and k.findtext(f"{AS}konvertertAv").startswith("noarkpack")
    assert not any(p.suffix in (".rtf", ".doc", ".bmp", ".gif") for p in pkg.rglob("*"))
    # A rerun reuses the cache: the same bytes, the same extract.
    first = (pkg / "arkivstruktur.xml").read_bytes()
    with ExtractWriter(tmp_path / "again", builders.settings(samples), conversion=cache) as w:
        w.add(_journal(samples, files))
    assert (tmp_path / "again" / "avleveringspakke" / "arkivstruktur.xml").read_bytes() == first


def test_corrupt_file_is_refused_with_name_and_reason(samples, tmp_path):
    with pytest.raises(DocumentError) as e:
        with ExtractWriter(tmp_path / "out", builders.settings(samples),
                           conversion=ConversionCache(tmp_path / "cache")) as w:
            w.add(_journal(samples, ["brev.doc", "ødelagt.doc"]))
    assert "entry E1, document 1" in str(e.value) and "could not be converted" in str(e.value)
    assert "ødelagt" not in str(e.value)  # file names may carry names: never in messages
    assert "cannot identify" in str(e.value)
    assert not (tmp_path / "out" / "avleveringspakke").exists()


def test_unconverted_allowed_keeps_original_and_lists_it(samples, tmp_path):
    with ExtractWriter(tmp_path / "out", builders.settings(samples), conversion=ConversionCache(tmp_path / "c"),
                       allow_unconverted=True) as w:
        w.add(_journal(samples, ["brev.doc", "ødelagt.doc"]))
    r = w.result
    assert r.converted == 1
    assert [(where, reason != "") for where, _, reason in r.unconverted] == [
        ("journal J1, entry E1, document 1", True)]
    kept = list((tmp_path / "out" / "avleveringspakke" / "DOKUMENT").rglob("*.doc"))
    assert len(kept) == 1 and kept[0].read_bytes() == (samples / "ødelagt.doc").read_bytes()


def test_parallel_conversion_reports_each_failure(samples, tmp_path):
    cache = ConversionCache(tmp_path / "cache")
    jobs = [(n, samples / n, identify(samples / n)) for n in ("brev.doc", "skann.gif", "ødelagt.doc")]
    report = convert_all(jobs, cache, workers=2)
    assert report.converted == 2
    assert [f.file for f in report.failures] == ["ødelagt.doc"]
    again = convert_all(jobs[:2], cache, workers=2)
    assert again.reused == 2 and again.converted == 0


def test_new_conversions_of_a_run_count_whoever_made_them(samples, tmp_path):
    """The extract's "N new" counts the entries committed during the run, also those another process (the
    prepass child) made and this one reused: the count must not depend on the child's report arriving."""
    import time

    src = samples / "skann.bmp"
    ident = identify(src)
    started = time.time_ns()
    other = ConversionCache(tmp_path / "cache")  # the prepass child, say
    other.convert(src, ident)
    assert other.made == 1
    writer_side = ConversionCache(tmp_path / "cache")
    writer_side.run_started_ns = started
    out, rec = writer_side.convert(src, ident)
    assert writer_side.made == 0 and writer_side.fresh == {rec.source_sha256}
    later = ConversionCache(tmp_path / "cache")  # the next run (package after extract) reuses it: not new
    later.run_started_ns = time.time_ns()
    later.convert(src, ident)
    assert later.fresh == set()
