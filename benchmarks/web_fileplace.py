"""A finding that names a document file, followed in `noarkpack serve`: the dokumentobjekt that names it, looked
up in the browse index's docfile table (the key of each dokumentobjekt's referanseDokumentfil, filled by the build;
noarkpack/web/fileplaces.py).  This measures the lookup when the link is followed.

    .venv/bin/python benchmarks/web_fileplace.py --size-mb 200 [--keep DIR] [--repeat 3]

Writes (or reuses, with --keep) the synthetic extract of benchmarks/validate_memory.py with a dokumentobjekt in
every dokumentbeskrivelse (one per journal), builds its index once, then in a fresh child process each time (the
index opened, then one lookup) looks up (a) the last dokumentobjekt's referanseDokumentfil and (b) a name no
dokumentobjekt has: wall and CPU (user+sys) time, best of --repeat.  The build's cost of the table is measured by
benchmarks/web_index.py on this extract (--keep DIR) against the previous version.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import validate_memory  # noqa: E402

OBJECT = """              <dokumentobjekt>
                <versjonsnummer>1</versjonsnummer>
                <variantformat>Arkivformat</variantformat>
                <format>fmt/95</format>
                <opprettetDato>2019-05-01T08:30:00+02:00</opprettetDato>
                <opprettetAv>per</opprettetAv>
                <referanseDokumentfil>DOKUMENT/2019/{d1}.pdf</referanseDokumentfil>
                <sjekksum>0000000000000000000000000000000000000000000000000000000000000000</sjekksum>
                <sjekksumAlgoritme>SHA256</sjekksumAlgoritme>
                <filstoerrelse>1000</filstoerrelse>
              </dokumentobjekt>
            </dokumentbeskrivelse>"""

LOOKUP = """
import json, resource, sys, time
from pathlib import Path
from noarkpack.web.index import ExtractIndex, locate
import noarkpack.packaging.inventory  # loaded in a server already (verify, the document pages)
t, r0 = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
ix = ExtractIndex(Path(sys.argv[2]), locate(Path(sys.argv[1])))
node = ix.by_document_file({sys.argv[3]})
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.monotonic() - t, "cpu": r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime,
                  "found": node is not None}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="noarkpack-bench-")) / "extract"
    if not (folder / "arkivstruktur.xml").is_file():
        from noarkpack.schemas import default_store

        store = default_store()
        validate_memory.TEMPLATE = validate_memory.TEMPLATE.replace("            </dokumentbeskrivelse>", OBJECT)
        n, size = validate_memory.generate(folder, args.size_mb, store.set_dir("noark5-v5.0"))
        print(f"generated {size / 1e6:.0f} MB arkivstruktur.xml ({n} mappe, {n} dokumentobjekt): {folder}")
    from noarkpack.web.index import build_index, locate

    db = folder.parent / "fileplace-index.sqlite"
    if not db.is_file():
        t = time.monotonic()
        ix = build_index(locate(folder), db)
        print(f"index built in {time.monotonic() - t:.1f} s: {ix.info['nodes']} nodes")
    else:
        from noarkpack.web.index import ExtractIndex

        ix = ExtractIndex(db, locate(folder))
    last = ix._q("SELECT max(id) FROM node WHERE kind='dokumentobjekt'")[0][0]
    ref = ix.node(last).get("referanseDokumentfil")
    ix.close()
    results: dict[str, list[dict]] = {"last": [], "none": []}
    for _ in range(args.repeat):  # interleaved
        for name, want in (("last", ref), ("none", "DOKUMENT/none.pdf")):
            out = subprocess.run([sys.executable, "-c", LOOKUP, str(folder), str(db), want], check=True,
                                 capture_output=True, text=True).stdout
            results[name].append(json.loads(out))
    load = open("/proc/loadavg").read().split()[:3]
    print(f"load average {' '.join(load)}")
    for name, runs in results.items():
        best = min(runs, key=lambda r: r["seconds"])
        print(f"{name}: found={best['found']} best {best['seconds'] * 1000:.0f} ms wall, "
              f"{min(r['cpu'] for r in runs) * 1000:.0f} ms CPU (of {len(runs)})")


if __name__ == "__main__":
    main()
