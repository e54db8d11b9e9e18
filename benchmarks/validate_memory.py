"""Peak memory and time of `noarkpack validate` on a large synthetic arkivstruktur.xml.

    .venv/bin/python benchmarks/validate_memory.py --size-mb 200 [--keep DIR]

Writes a Noark 5 v5.0 extract whose arkivstruktur.xml is about SIZE MB (streamed: one klasse/mappe block
of an extract noarkpack wrote, repeated with fresh systemIDs), then measures, each in a child process:

* ``validate(extract, limit=100)`` (XSD + every content test + journals/changelog), and
* ``xmllint --noout --stream --schema arkivstruktur.xsd arkivstruktur.xml`` (the baseline),

reporting wall time and peak RSS (ru_maxrss of the child).  Schemas come from the schema store
(NOARKPACK_SCHEMA_DIR, filled from ../shared/reference if needed).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

TEMPLATE = """\
      <klasse>
        <systemID>{k}</systemID>
        <klasseID>P{n}</klasseID>
        <tittel>Pasient {n}</tittel>
        <opprettetDato>2014-02-03T09:00:00+01:00</opprettetDato>
        <opprettetAv>kari</opprettetAv>
        <mappe xsi:type="saksmappe">
          <systemID>{m}</systemID>
          <mappeID>2014/{n}</mappeID>
          <tittel>Pasientjournal {n}, Sone nord</tittel>
          <offentligTittel>Pasientjournal *****, Sone nord</offentligTittel>
          <dokumentmedium>Elektronisk arkiv</dokumentmedium>
          <opprettetDato>2014-02-03T09:00:00+01:00</opprettetDato>
          <opprettetAv>kari</opprettetAv>
          <avsluttetDato>2019-06-30T15:00:00+02:00</avsluttetDato>
          <avsluttetAv>kari</avsluttetAv>
          <referanseArkivdel>{ad}</referanseArkivdel>
          <registrering>
            <systemID>{r1}</systemID>
            <opprettetDato>2019-05-01T08:10:00+02:00</opprettetDato>
            <opprettetAv>Per Ås</opprettetAv>
            <arkivertDato>2019-05-01T08:30:00+02:00</arkivertDato>
            <arkivertAv>per</arkivertAv>
            <referanseArkivdel>{ad}</referanseArkivdel>
            <dokumentbeskrivelse>
              <systemID>{d1}</systemID>
              <dokumenttype>Journalnotat</dokumenttype>
              <dokumentstatus>Dokumentet er ferdigstilt</dokumentstatus>
              <tittel>Tilsyn</tittel>
              <opprettetDato>2019-05-01T08:10:00+02:00</opprettetDato>
              <opprettetAv>Per Ås</opprettetAv>
              <dokumentmedium>Fysisk arkiv</dokumentmedium>
              <tilknyttetRegistreringSom>Hoveddokument</tilknyttetRegistreringSom>
              <dokumentnummer>1</dokumentnummer>
              <tilknyttetDato>2019-05-01T08:30:00+02:00</tilknyttetDato>
              <tilknyttetAv>per</tilknyttetAv>
            </dokumentbeskrivelse>
            <registreringsID>N{n}</registreringsID>
            <tittel>Tilsyn om morgenen</tittel>
          </registrering>
          <registrering xsi:type="journalpost">
            <systemID>{r2}</systemID>
            <opprettetDato>2019-05-03T08:10:00+02:00</opprettetDato>
            <opprettetAv>Per Ås</opprettetAv>
            <arkivertDato>2019-05-03T08:30:00+02:00</arkivertDato>
            <arkivertAv>per</arkivertAv>
            <referanseArkivdel>{ad}</referanseArkivdel>
            <registreringsID>B{n}</registreringsID>
            <tittel>Brev til pasient</tittel>
            <korrespondansepart>
              <korrespondanseparttype>Mottaker</korrespondanseparttype>
              <korrespondansepartNavn>Pasient {n}</korrespondansepartNavn>
            </korrespondansepart>
            <journalaar>2019</journalaar>
            <journalsekvensnummer>{n}</journalsekvensnummer>
            <journalpostnummer>1</journalpostnummer>
            <journalposttype>Utgående dokument</journalposttype>
            <journalstatus>Arkivert</journalstatus>
            <journaldato>2019-05-03</journaldato>
          </registrering>
          <saksaar>2014</saksaar>
          <sakssekvensnummer>{n}</sakssekvensnummer>
          <saksdato>2014-02-03</saksdato>
          <administrativEnhet>Sone nord</administrativEnhet>
          <saksansvarlig>Kari Lie</saksansvarlig>
          <saksstatus>Avsluttet</saksstatus>
        </mappe>
      </klasse>
"""

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<arkiv xmlns="http://www.arkivverket.no/standarder/noark5/arkivstruktur" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <systemID>{a}</systemID>
  <tittel>Benchmark</tittel>
  <arkivstatus>Avsluttet</arkivstatus>
  <dokumentmedium>Elektronisk arkiv</dokumentmedium>
  <opprettetDato>2005-01-01T00:00:00+01:00</opprettetDato>
  <opprettetAv>a</opprettetAv>
  <avsluttetDato>2024-01-01T00:00:00+01:00</avsluttetDato>
  <avsluttetAv>a</avsluttetAv>
  <arkivskaper>
    <arkivskaperID>974123456</arkivskaperID>
    <arkivskaperNavn>Helse</arkivskaperNavn>
  </arkivskaper>
  <arkivdel>
    <systemID>{ad}</systemID>
    <tittel>Del</tittel>
    <arkivdelstatus>Avsluttet periode</arkivdelstatus>
    <dokumentmedium>Elektronisk arkiv</dokumentmedium>
    <opprettetDato>2005-01-01T00:00:00+01:00</opprettetDato>
    <opprettetAv>a</opprettetAv>
    <avsluttetDato>2024-01-01T00:00:00+01:00</avsluttetDato>
    <avsluttetAv>a</avsluttetAv>
    <klassifikasjonssystem>
      <systemID>{ks}</systemID>
      <klassifikasjonstype>Objektbasert</klassifikasjonstype>
      <tittel>Pasienter</tittel>
      <opprettetDato>2005-01-01T00:00:00+01:00</opprettetDato>
      <opprettetAv>a</opprettetAv>
"""
TAIL = """    </klassifikasjonssystem>
  </arkivdel>
</arkiv>
"""


def generate(folder: Path, size_mb: int, schema_dir: Path) -> tuple[int, int]:
    """Write the extract; returns (number of mappe, bytes of arkivstruktur.xml)."""
    folder.mkdir(parents=True, exist_ok=True)
    ad = str(uuid.uuid4())
    target = size_mb * 1_000_000
    n = 0
    written = 0
    with open(folder / "arkivstruktur.xml", "w", encoding="utf-8") as f:
        head = HEAD.format(a=uuid.uuid4(), ad=ad, ks=uuid.uuid4())
        f.write(head)
        written += len(head.encode())
        buf = []
        while written < target:
            n += 1
            block = TEMPLATE.format(k=uuid.uuid4(), m=uuid.uuid4(), r1=uuid.uuid4(), r2=uuid.uuid4(),
                                    d1=uuid.uuid4(), n=n, ad=ad)
            buf.append(block)
            written += len(block.encode())
            if len(buf) >= 1000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))
        f.write(TAIL)
    for name in ("arkivstruktur.xsd", "metadatakatalog.xsd"):
        shutil.copy(schema_dir / name, folder / name)
    addml = f"""<?xml version="1.0" encoding="UTF-8"?>
<addml xmlns="http://www.arkivverket.no/standarder/addml" name="Noark 5-arkivuttrekk"><dataset><dataObjects>
<dataObject name="Noark 5-arkivuttrekk"><properties><property name="info"><properties>
<property name="type"><value>Noark 5</value><properties><property name="version"><value>5.0</value></property></properties></property>
<property name="additionalInfo"><properties>
<property name="periode"><properties><property name="inngaaendeSkille"><value>mykt</value></property><property name="utgaaendeSkille"><value>mykt</value></property></properties></property>
<property name="inneholderSkjermetInformasjon"><value>false</value></property>
<property name="omfatterDokumenterSomErKassert"><value>false</value></property>
<property name="inneholderDokumenterSomSkalKasseres"><value>false</value></property>
<property name="antallDokumentfiler"><value>0</value></property>
</properties></property></properties></property></properties>
<dataObjects><dataObject name="arkivstruktur"><properties>
<property name="file"><properties><property name="name"><value>arkivstruktur.xml</value></property></properties></property>
<property name="schema"><properties><property name="file"><properties><property name="name"><value>arkivstruktur.xsd</value></property></properties></property></properties></property>
<property name="schema"><properties><property name="file"><properties><property name="name"><value>metadatakatalog.xsd</value></property></properties></property></properties></property>
<property name="info"><properties>
<property name="numberOfOccurrences"><value>mappe</value><properties><property name="value"><value>{n}</value></property></properties></property>
<property name="numberOfOccurrences"><value>registrering</value><properties><property name="value"><value>{2 * n}</value></property></properties></property>
</properties></property></properties></dataObject></dataObjects></dataObject></dataObjects></dataset></addml>
"""
    (folder / "arkivuttrekk.xml").write_text(addml, encoding="utf-8")
    return n, (folder / "arkivstruktur.xml").stat().st_size


CHILD = """
import sys, time, resource, json
from noarkpack.validation import validate
t = time.monotonic()
r = validate(sys.argv[1], limit=100, identify_formats=False)
print(json.dumps({"seconds": time.monotonic() - t, "errors": r.errors, "warnings": r.warnings,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "failed": sorted(t for t in r.ran if r.counts[t]["error"])}))
"""


def measure(cmd: list[str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        peak = before  # ru_maxrss of children is the max over all children so far
    return seconds, peak // 1024, proc.stdout + proc.stderr[-2000:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--keep", type=Path, default=None, help="write the extract here and keep it")
    args = ap.parse_args()

    from noarkpack.schemas import default_store

    store = default_store()
    if not store.is_installed("noark5-v5.0"):
        store.install(from_dir=SHARED / "reference", download=False)
    schema_dir = store.set_dir("noark5-v5.0")

    folder = args.keep or Path(tempfile.mkdtemp(prefix="noarkpack-bench-")) / "extract"
    t = time.monotonic()
    n, size = generate(folder, args.size_mb, schema_dir)
    print(f"generated {size / 1e6:.0f} MB arkivstruktur.xml ({n} mappe, {5 * n} systemIDs) in "
          f"{time.monotonic() - t:.0f} s: {folder}")

    # xmllint first: its peak is then the children's maximum so far
    s, rss, out = measure(["xmllint", "--noout", "--stream", "--schema", str(folder / "arkivstruktur.xsd"),
                           str(folder / "arkivstruktur.xml")])
    print(f"xmllint --stream --schema: {s:.1f} s, peak RSS {rss} MB ({out.strip().splitlines()[-1] if out.strip() else ''})")
    s2, _, out2 = measure([sys.executable, "-c", CHILD, str(folder)])
    import json

    res = json.loads(out2.strip().splitlines()[-1])
    print(f"noarkpack validate:        {res['seconds']:.1f} s, peak RSS {res['maxrss_kb'] // 1024} MB, "
          f"{size / 1e6 / res['seconds']:.1f} MB/s; errors {res['errors']} {res['failed']}")
    if args.keep is None:
        shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
