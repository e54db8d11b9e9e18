"""A small deposit project with many documents to convert (RTF notes, BMP and GIF scans, a plain PDF), for
``noarkpack convert`` and its cluster (tests/test_conversion_command.py, tests/test_cluster.py)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from . import conversion_project as cp


def bmp(path: Path, w: int = 48, h: int = 32, seed: int = 0) -> None:
    pad = (4 - (w * 3) % 4) % 4
    rows = b"".join(b"".join(bytes([(x * 4 + y + seed) % 256, (y * 5) % 256, (200 - x) % 256]) for x in range(w))
                    + b"\0" * pad for y in range(h))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    path.write_bytes(header + info + rows)


def plain_pdf(path: Path, text: str) -> None:
    """A one-page PDF 1.4 with a line of text (not PDF/A): Ghostscript's input."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))


def write_project(root: Path, notes: int = 8, scans: int = 2) -> Path:
    """``notes`` RTF notes, ``scans`` BMP scans, one plain PDF; one RTF referenced twice (converted once)."""
    cp.write_project(root)
    dok = root / "dok"
    files = ["brev.rtf"]
    for n in range(notes):
        (dok / f"notat{n}.rtf").write_text(cp.RTF.replace("Brev til pasienten.", f"Notat {n} om pasienten."),
                                           encoding="ascii")
        files.append(f"notat{n}.rtf")
    for n in range(scans):
        bmp(dok / f"skann{n}.bmp", seed=n)
        files.append(f"skann{n}.bmp")
    plain_pdf(dok / "henvisning.pdf", "Henvisning")
    files += ["henvisning.pdf", "notat0.rtf"]
    journal = json.loads(json.dumps(cp.JOURNAL))
    first = journal["innslag"][0]
    journal["innslag"] = [first] + [
        {"innslag_id": f"N{n}", "type": "notat", "tittel": f"Notat {n}", "forfatter": cp.AUTHOR,
         "opprettet": cp.WRITTEN, "arkivert": cp.SIGNED, "arkivert_av": cp.SIGNER,
         "dokumenter": [{"fil": f, "tittel": f"Dokument {n}"}]} for n, f in enumerate(files[1:])]
    (root / "journals.jsonl").write_text(json.dumps(journal, ensure_ascii=False) + "\n", encoding="utf-8")
    return root


def distinct_to_convert(root: Path) -> int:
    """How many distinct contents of the project need conversion (every file is non-archival; one twice)."""
    return len([p for p in (root / "dok").iterdir() if p.is_file()])


def entries(cache_folder: Path) -> dict[str, tuple]:
    """The cache's entries: sha256 → (source PUID, output PUID, tool family)."""
    out = {}
    for meta in sorted(cache_folder.glob("*.json")):
        if meta.name == "rates.json":
            continue
        rec = json.loads(meta.read_text(encoding="utf-8"))
        assert (cache_folder / rec["output_name"]).is_file()
        out[meta.stem] = (rec["source_puid"], rec["output_puid"], rec["tool"].split()[0])
    return out
