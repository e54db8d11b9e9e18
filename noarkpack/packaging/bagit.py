"""BagIt (RFC 8493, BagIt 1.0): writing the tag files of a bag, and verifying any bag.

Writing: ``bagit.txt`` (1.0, UTF-8), ``manifest-<alg>.txt``, ``bag-info.txt`` and
``tagmanifest-<alg>.txt``; the payload digests are passed in (computed while the
payload was written), never recomputed.  Paths are percent-encoded as RFC 8493
§2.1.3 says: ``%`` → ``%25``, CR → ``%0D``, LF → ``%0A`` (bagit-python 1.9 misses
``%25``).

Verifying (:func:`verify_bag`) collects every problem as a finding (PK.20–PK.36,
docs/packaging.md) instead of stopping at the first: strict ``bagit.txt``, every
manifest line, path safety, completeness both ways, every checksum (each file read
once for all algorithms), Payload-Oxum, tag manifests, fetch.txt.  Files that exist
only as a case-, normalisation- or OS-junk twin of a listed name are warnings, as
the LoC conformance suite expects.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..hashing import hash_file
from ..locale import tr
from .errors import PackagingError
from .findings import ERROR, INFO, WARNING, VerifyReport

SUPPORTED = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
WRITE_ALGORITHMS = ("sha256", "sha512")
JUNK = {".ds_store", "thumbs.db", "desktop.ini", ".spotlight-v100", ".trashes", "ehthumbs.db"}
_NON_REPEATABLE = ("bagging-date", "bag-size", "payload-oxum", "bag-count", "bag-group-identifier")
_HEX = re.compile(r"[0-9a-fA-F]+")


def check_algorithms(algorithms) -> None:
    bad = [a for a in algorithms if a not in WRITE_ALGORITHMS]
    if bad or not algorithms:
        if algorithms:
            raise PackagingError(tr("bag algorithms must be among {allowed} (got {given})",
                                    allowed=", ".join(WRITE_ALGORITHMS), given=", ".join(algorithms)))
        raise PackagingError(tr("bag algorithms must be among {allowed} (got none)",
                                allowed=", ".join(WRITE_ALGORITHMS)))


def encode_path(path: str) -> str:
    """RFC 8493 §2.1.3: ``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``; nothing else."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_DECODE = re.compile(r"%(0[dD]|0[aA]|25)")


def decode_path(path: str, version: tuple[int, int] = (1, 0)) -> str:
    """Undo :func:`encode_path`.  ``%25`` is decoded only in BagIt ≥ 1.0 bags (older
    writers left ``%`` alone, so ``%25`` there is a literal name)."""
    def sub(m: re.Match) -> str:
        code = m.group(1).upper()
        if code == "25":
            return "%" if version >= (1, 0) else m.group(0)
        return "\r" if code == "0D" else "\n"

    return _DECODE.sub(sub, path)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"


@dataclass
class PayloadFile:
    path: str  # "data/…", not encoded
    size: int
    digests: dict[str, str]  # algorithm → hex


def _write(path: Path, text: str) -> bytes:
    data = text.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return data


def write_bag_tags(bag_dir: Path, payload: list[PayloadFile], *, bag_info: list[tuple[str, str]],
                   algorithms=("sha256",)) -> None:
    """Write the tag files of a BagIt 1.0 bag whose payload is already in ``bag_dir/data``."""
    check_algorithms(algorithms)
    bag_dir = Path(bag_dir)
    tags: dict[str, bytes] = {}
    tags["bagit.txt"] = _write(bag_dir / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    for alg in algorithms:
        lines = []
        for p in sorted(payload, key=lambda p: p.path):
            if not p.path.startswith("data/"):
                raise PackagingError(tr("payload path {path} is not under data/", path=repr(p.path)))
            if alg not in p.digests:
                raise PackagingError(tr("no {algorithm} digest for {path}", algorithm=alg, path=p.path))
            lines.append(f"{p.digests[alg]}  {encode_path(p.path)}\n")
        tags[f"manifest-{alg}.txt"] = _write(bag_dir / f"manifest-{alg}.txt", "".join(lines))
    info = "".join(f"{k}: {' '.join(str(v).split())}\n" for k, v in bag_info)
    tags["bag-info.txt"] = _write(bag_dir / "bag-info.txt", info)
    for alg in algorithms:
        lines = [f"{hashlib.new(alg, data).hexdigest()}  {encode_path(name)}\n" for name, data in sorted(tags.items())]
        _write(bag_dir / f"tagmanifest-{alg}.txt", "".join(lines))


# ------------------------------------------------------------------------------------------
# verifying


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _is_junk(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.lower() in JUNK or name.startswith("._")


def _unsafe(path: str) -> str | None:
    """Why ``path`` (decoded) may not be used inside a bag, or None."""
    if not path:
        return tr("an empty path")
    if path.startswith("/"):
        return tr("an absolute path")
    if path.startswith("~"):
        return tr("a home-directory path")
    if re.match(r"[A-Za-z]:", path):
        return tr("a Windows drive path")
    if path.startswith("\\"):
        return tr("a Windows UNC or rooted path")
    if "\x00" in path:
        return tr("a NUL character")
    parts = re.split(r"[/\\]", path)
    if ".." in parts:
        return tr("a '..' component")
    return None


@dataclass
class _Entry:
    raw: str
    path: str  # decoded, NFC
    digest: str
    line: int


@dataclass
class _Manifest:
    name: str
    algorithm: str
    entries: dict[str, _Entry] = field(default_factory=dict)  # NFC path → entry


def _read_tag(bag: Path, name: str, encoding: str, report: VerifyReport) -> str | None:
    try:
        data = (bag / name).read_bytes()
    except OSError as e:
        report.add("PK.28", ERROR, tr("cannot read tag file: {error}", error=e.strerror), file=name)
        return None
    if encoding.lower().replace("-", "") in ("utf8",) and data.startswith(codecs.BOM_UTF8):
        report.add("PK.30", WARNING, tr("tag file starts with a UTF-8 byte-order mark"), file=name)
        data = data[3:]
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        report.add("PK.22", ERROR, tr("tag file is not valid {encoding}: {error}", encoding=encoding, error=str(e)),
                   file=name)
        return None


def _parse_bagit_txt(bag: Path, report: VerifyReport) -> tuple[tuple[int, int], str] | None:
    p = bag / "bagit.txt"
    if not p.is_file():
        report.add("PK.20", ERROR, tr("bagit.txt is missing: not a bag"), file="bagit.txt")
        return None
    data = p.read_bytes()
    ok = True
    if data.startswith(codecs.BOM_UTF8):
        report.add("PK.20", ERROR, tr("bagit.txt starts with a byte-order mark (RFC 8493 §2.1.1 forbids it)"),
                   file="bagit.txt")
        data = data[3:]
        ok = False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        report.add("PK.20", ERROR, tr("bagit.txt is not UTF-8"), file="bagit.txt")
        return None
    lines = _lines(text)
    while lines and lines[-1] == "":
        lines.pop()
    if len(lines) != 2:
        report.add("PK.20", ERROR, tr("bagit.txt must have exactly two lines (has {count})", count=len(lines)),
                   file="bagit.txt")
        return None
    m = re.fullmatch(r"BagIt-Version: (\d+)\.(\d+)", lines[0])
    if not m:
        report.add("PK.20", ERROR, tr("bagit.txt line 1 must be 'BagIt-Version: M.N' (is {line})",
                                      line=repr(lines[0])), file="bagit.txt", line=1)
        ok = False
    e = re.fullmatch(r"Tag-File-Character-Encoding: (\S+)", lines[1])
    encoding = None
    if not e:
        report.add("PK.20", ERROR, tr("bagit.txt line 2 must be 'Tag-File-Character-Encoding: ENCODING' (is {line})",
                                      line=repr(lines[1])), file="bagit.txt", line=2)
        ok = False
    else:
        encoding = e.group(1)
        try:
            codecs.lookup(encoding)
        except LookupError:
            report.add("PK.20", ERROR, tr("unknown Tag-File-Character-Encoding {encoding}", encoding=repr(encoding)),
                       file="bagit.txt", line=2)
            ok = False
    if not ok or m is None or encoding is None:
        return None
    return (int(m.group(1)), int(m.group(2))), encoding


def _clean_path(raw: str, version, report: VerifyReport, where: str, line: int) -> str:
    path = raw
    if path.startswith("*"):
        report.add("PK.32", WARNING, tr("md5sum-style '*' before the path {path}", path=repr(raw)), file=where,
                   line=line)
        path = path[1:]
    if path.startswith("./"):
        report.add("PK.32", WARNING, tr("path starts with './': {path}", path=repr(raw)), file=where, line=line)
        while path.startswith("./"):
            path = path[2:]
    path = decode_path(path, version)
    return unicodedata.normalize("NFC", path)


def _parse_manifest(bag: Path, name: str, algorithm: str, version, encoding: str, payload: bool,
                    report: VerifyReport) -> _Manifest:
    m = _Manifest(name, algorithm)
    text = _read_tag(bag, name, encoding, report)
    if text is None:
        return m
    size = hashlib.new(algorithm).digest_size * 2
    for n, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        match = re.fullmatch(r"(\S+)[ \t]+(.+)", line)
        if not match:
            report.add("PK.22", ERROR, tr("malformed manifest line {line}", line=repr(line)), file=name, line=n)
            continue
        digest, raw = match.group(1), match.group(2)
        if not _HEX.fullmatch(digest) or len(digest) != size:
            report.add("PK.22", ERROR, tr("{digest} is not a {algorithm} checksum", digest=repr(digest),
                                          algorithm=algorithm), file=name, line=n)
            continue
        path = _clean_path(raw, version, report, name, n)
        why = _unsafe(path)
        if why:
            report.add("PK.23", ERROR, tr("path {path} is unsafe: {reason}", path=repr(raw), reason=why), file=name,
                       line=n)
            continue
        if payload and not path.startswith("data/"):
            report.add("PK.23", ERROR, tr("path {path} is outside the payload folder data/", path=repr(raw)),
                       file=name, line=n)
            continue
        if "\\" in path:
            report.add("PK.32", WARNING, tr("path {path} contains a backslash", path=repr(raw)), file=name, line=n)
        entry = _Entry(raw, path, digest.lower(), n)
        old = m.entries.get(path)
        if old is None:
            m.entries[path] = entry
            continue
        if old.digest != entry.digest:
            report.add("PK.24", ERROR, tr("{path} is listed twice with different checksums", path=repr(path)),
                       file=name, line=n)
        elif old.raw != entry.raw:
            report.add("PK.24", WARNING, tr("{path} is listed twice, in different Unicode normalisations",
                                            path=repr(path)), file=name, line=n)
        elif version >= (1, 0):
            report.add("PK.24", ERROR, tr("{path} is listed twice (BagIt 1.0 forbids it)", path=repr(path)),
                       file=name, line=n)
        else:
            report.add("PK.24", WARNING, tr("{path} is listed twice with the same checksum", path=repr(path)),
                       file=name, line=n)
    return m


def _walk(bag: Path, report: VerifyReport) -> tuple[dict[str, tuple[str, int]], set[str]]:
    """Payload files (NFC path → (real relative path, size)) and tag file names (real)."""
    payload: dict[str, tuple[str, int]] = {}
    tags: set[str] = set()

    def visit(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            report.add("PK.34", ERROR, tr("cannot read folder: {error}", error=e.strerror), file=prefix or ".")
            return
        for e in entries:
            rel = prefix + e.name
            st = e.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                report.add("PK.34", ERROR, tr("symbolic link in the bag (never followed)"), file=rel)
            elif stat.S_ISDIR(st.st_mode):
                visit(Path(e.path), rel + "/")
            elif stat.S_ISREG(st.st_mode):
                if rel.startswith("data/"):
                    key = unicodedata.normalize("NFC", rel)
                    if key in payload:
                        report.add("PK.35", ERROR, tr("two payload files differ only in Unicode normalisation: "
                                                      "{first} and {second}", first=repr(payload[key][0]),
                                                      second=repr(rel)), file=rel)
                    payload[key] = (rel, st.st_size)
                else:
                    tags.add(rel)
            else:
                report.add("PK.34", ERROR, tr("device, socket or pipe in the bag"), file=rel)

    if not (bag / "data").is_dir() or (bag / "data").is_symlink():
        report.add("PK.20", ERROR, tr("the payload folder data/ is missing"), file="data")
    else:
        visit(bag / "data", "data/")
    for e in sorted(os.scandir(bag), key=lambda e: e.name):
        if e.name == "data":
            continue
        st = e.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            report.add("PK.34", ERROR, tr("symbolic link in the bag (never followed)"), file=e.name)
        elif stat.S_ISREG(st.st_mode):
            tags.add(e.name)
        elif stat.S_ISDIR(st.st_mode):
            visit(Path(e.path), e.name + "/")
        else:
            report.add("PK.34", ERROR, tr("device, socket or pipe in the bag"), file=e.name)
    return payload, tags


def _parse_bag_info(bag: Path, encoding: str, version, report: VerifyReport) -> dict[str, list[str]]:
    name = "bag-info.txt"
    if not (bag / name).is_file() and (bag / "package-info.txt").is_file() and version < (0, 96):
        name = "package-info.txt"
    if not (bag / name).is_file():
        return {}
    text = _read_tag(bag, name, encoding, report)
    if text is None:
        return {}
    info: dict[str, list[str]] = {}
    last: str | None = None
    for n, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        if line[0] in " \t" and last is not None:
            info[last][-1] += " " + line.strip()
            continue
        if ":" not in line:
            report.add("PK.30", WARNING, tr("bag-info line without 'Label: value': {line}", line=repr(line)),
                       file=name, line=n)
            continue
        label, value = line.split(":", 1)
        last = label.strip()
        info.setdefault(last, []).append(value.strip())
    for label, values in info.items():
        if label.lower() in _NON_REPEATABLE and len(values) > 1:
            report.add("PK.30", WARNING, tr("{label} is repeated ({count} times)", label=label, count=len(values)),
                       file=name)
    return info


def _hash_files(bag: Path, rels: list[str], algorithms: set[str],
                known: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for rel in rels:
        have = dict((known or {}).get(rel, {}))
        need = [a for a in algorithms if a not in have]
        if need:
            have.update(hash_file(bag / rel, need))
        out[rel] = have
    return out


def verify_bag(path: str | os.PathLike, report: VerifyReport | None = None, *,
               known_digests: dict[str, dict[str, str]] | None = None) -> VerifyReport:
    """Check the bag at ``path``; every problem becomes a finding.

    ``known_digests`` (payload path → {algorithm: hex}) are digests computed while the
    same bytes were read for another check (the DIAS tar), so they are not read again.
    """
    bag = Path(path)
    report = report or VerifyReport(str(bag), kind="bag")
    if not bag.is_dir():
        raise PackagingError(tr("not a folder"), file=bag)
    parsed = _parse_bagit_txt(bag, report)
    payload, tags = _walk(bag, report)
    if parsed is None:
        return report
    version, encoding = parsed
    report.facts["bagit_version"] = f"{version[0]}.{version[1]}"

    manifests: list[_Manifest] = []
    tagmanifests: list[_Manifest] = []
    for name in sorted(tags):
        m = re.fullmatch(r"(tag)?manifest-([A-Za-z0-9]+)\.txt", name)
        if not m:
            continue
        alg = m.group(2).lower()
        if alg not in SUPPORTED:
            report.add("PK.21", ERROR, tr("unsupported checksum algorithm {algorithm}", algorithm=repr(alg)),
                       file=name)
            continue
        if m.group(1):
            tagmanifests.append(_parse_manifest(bag, name, alg, version, encoding, False, report))
        else:
            manifests.append(_parse_manifest(bag, name, alg, version, encoding, True, report))
    if not manifests:
        report.add("PK.21", ERROR, tr("no payload manifest (manifest-<algorithm>.txt)"))

    # fetch.txt: only safe paths under data/; a listed file must be present (no fetching here)
    fetch: set[str] = set()
    if "fetch.txt" in tags:
        text = _read_tag(bag, "fetch.txt", encoding, report)
        for n, line in enumerate(_lines(text or ""), 1):
            if not line.strip():
                continue
            match = re.fullmatch(r"(\S+)[ \t]+(\d+|-)[ \t]+(.+)", line)
            if not match:
                report.add("PK.31", ERROR, tr("malformed fetch.txt line {line}", line=repr(line)), file="fetch.txt",
                           line=n)
                continue
            p = _clean_path(match.group(3), version, report, "fetch.txt", n)
            why = _unsafe(p) or (None if p.startswith("data/") else tr("outside the payload folder data/"))
            if why:
                report.add("PK.31", ERROR, tr("fetch.txt path {path} is unsafe: {reason}", path=repr(match.group(3)),
                                              reason=why), file="fetch.txt", line=n)
                continue
            fetch.add(p)
            if p not in payload:
                report.add("PK.31", ERROR, tr("{path} is to be fetched from {url}: the bag is not complete", path=p,
                                              url=match.group(1)), file="fetch.txt", line=n)
        if fetch and all(p in payload for p in fetch):
            report.add("PK.31", INFO, tr("fetch.txt lists {count} file(s), all present", count=len(fetch)),
                       file="fetch.txt")

    # completeness, both ways
    tolerated_missing: set[str] = set()
    for m in manifests:
        for key, e in m.entries.items():
            if key in payload:
                continue
            if key in fetch:
                continue  # reported above
            twins = [o for o in m.entries.values() if o is not e and o.path.casefold() == key.casefold()
                     and o.path in payload and o.digest == e.digest]
            if _is_junk(key):
                report.add("PK.33", WARNING, tr("operating-system file {path} is listed but absent", path=repr(e.raw)),
                           file=m.name, line=e.line)
                tolerated_missing.add(key)
            elif twins:
                report.add("PK.36", WARNING, tr("{first} and {second} differ only in letter case; only one exists here "
                                                "(they collide on case-insensitive file systems)",
                                                first=repr(e.raw), second=repr(twins[0].raw)),
                           file=m.name, line=e.line)
                tolerated_missing.add(key)
            else:
                report.add("PK.26", ERROR, tr("{path} is listed but missing from the bag", path=repr(e.raw)),
                           file=m.name, line=e.line)
        for key, (rel, _size) in payload.items():
            if key not in m.entries:
                report.add("PK.25", ERROR, tr("payload file {path} is not listed in {manifest}", path=repr(rel),
                                              manifest=m.name), file=rel)
    for key, (rel, _size) in payload.items():
        if _is_junk(key):
            report.add("PK.33", WARNING, tr("operating-system file {path} in the payload", path=repr(rel)), file=rel)
    folded: dict[str, str] = {}
    for key in payload:
        f = key.casefold()
        if f in folded:
            report.add("PK.36", WARNING, tr("{first} and {second} differ only in letter case", first=repr(folded[f]),
                                            second=repr(key)), file=key)
        folded[f] = key

    # Payload-Oxum (before hashing; a mismatch never stops the per-file checks)
    info = _parse_bag_info(bag, encoding, version, report)
    oxum = info.get("Payload-Oxum")
    if oxum:
        mo = re.fullmatch(r"(\d+)\.(\d+)", oxum[0])
        if not mo:
            report.add("PK.29", ERROR, tr("Payload-Oxum {value} is not '<octets>.<count>'", value=repr(oxum[0])),
                       file="bag-info.txt")
        else:
            octets, count = int(mo.group(1)), int(mo.group(2))
            real_octets = sum(s for _r, s in payload.values())
            real_count = len(payload)
            if (octets, count) != (real_octets, real_count):
                if octets == real_octets and count - real_count == len(tolerated_missing):
                    report.add("PK.29", WARNING, tr("Payload-Oxum {value} counts {count} listed file(s) absent here "
                                                    "(see PK.33/PK.36)", value=oxum[0], count=len(tolerated_missing)),
                               file="bag-info.txt")
                else:
                    report.add("PK.29", ERROR, tr("Payload-Oxum says {octets} bytes in {count} files, the payload has "
                                                  "{real_octets} bytes in {real_count} files", octets=octets,
                                                  count=count, real_octets=real_octets, real_count=real_count),
                               file="bag-info.txt")
    report.facts["payload_files"] = len(payload)
    report.facts["payload_bytes"] = sum(s for _r, s in payload.values())

    # checksums: each payload file read once for all algorithms
    algorithms = {m.algorithm for m in manifests}
    listed = sorted({key for m in manifests for key in m.entries if key in payload})
    real = {key: payload[key][0] for key in listed}
    digests = _hash_files(bag, [real[k] for k in listed], algorithms, known_digests)
    for m in manifests:
        for key, e in m.entries.items():
            if key not in payload:
                continue
            got = digests[payload[key][0]][m.algorithm]
            if got != e.digest:
                report.add("PK.27", ERROR, tr("{algorithm} of {path} is {digest}, the manifest says {recorded}",
                                              algorithm=m.algorithm, path=repr(e.raw), digest=got,
                                              recorded=e.digest), file=m.name, line=e.line)
    # tag manifests
    tag_nfc = {unicodedata.normalize("NFC", t): t for t in tags}
    for m in tagmanifests:
        for key, e in m.entries.items():
            rel = tag_nfc.get(key) or (payload[key][0] if key in payload else None)
            if rel is None:
                report.add("PK.28", ERROR, tr("tag file {path} is listed but missing", path=repr(e.raw)), file=m.name,
                           line=e.line)
                continue
            got = _hash_files(bag, [rel], {m.algorithm}, None)[rel][m.algorithm]
            if got != e.digest:
                report.add("PK.28", ERROR, tr("{algorithm} of tag file {path} is {digest}, {manifest} says {recorded}",
                                              algorithm=m.algorithm, path=repr(e.raw), digest=got, manifest=m.name,
                                              recorded=e.digest), file=m.name, line=e.line)
    report.facts["bag_info"] = {k: v[0] for k, v in info.items() if k in ("External-Identifier", "Bagging-Date",
                                                                           "Payload-Oxum", "Source-Organization")}
    return report
