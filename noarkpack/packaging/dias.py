"""Build a DIAS SIP/AIP as Arkade 5 lays it out: ``{uuid}.tar`` + ``{uuid}.xml``.

::

    {uuid}/                           (inside {uuid}.tar)
      administrative_metadata/
        addml.xsd  arkivuttrekk.xml  dias-premis.xml  dias-premis.xsd
        uttrekksbeskrivelse.html      the extract's description (always; .description)
        documentfile-formatinfo.csv   each document file's format (.formatinfo; also in content/, as Arkade)
        repository_operations/validation-report.{json,html}   (when a report is given)
      content/                        the extract, byte for byte (+ documentfile-formatinfo.csv, as Arkade)
      descriptive_metadata/           (AIP: eac-cpf.xml, eac-cpf.xsd, ead.xml, ead.xsd)
      dias-mets.xml  dias-mets.xsd  log.xml
    {uuid}.xml                        the submission description, beside the tar

The tar is deterministic (see :mod:`.tarball`), written under a temporary name and
renamed into place when complete.  Every checksum in dias-mets.xml comes from where
the bytes were first read (extraction, the schema store's pins, rendering); only
files without a recorded checksum are hashed.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import os
import shutil
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import jinja2

from .._version import __version__
from ..clock import build_time
from ..fsutil import fsync_dir
from ..hashing import HashingWriter, hash_file, sha256_file
from ..locale import tr
from ..progress import Progress
from ..resources import templates_dir
from .description import DESCRIPTION, StructureReader, write_description
from .errors import PackagingError
from .formatinfo import NAME as FORMATINFO
from .formatinfo import FormatTable
from .inventory import addml_name, find_extract_root, recorded_checksums, walk_extract
from .metadata import PackageMetadata, utc
from .tarball import Member, write_tar

PROFILES = {"arkivverket-sip": "SIP", "arkivverket-aip": "AIP"}
PARTIAL = ".partial-"
SOFTWARE = f"noarkpack {__version__}"
#: namespace of derived package UUIDs
UUID_NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_URL, "https://noarkpack.invalid/dias-package")

#: Arkade's MIMETYPE mapping, limited to the DIAS_METS.xsd enumeration
_DIAS_MIME = {"pdf": "image/pdf", "jpg": "image/jpg", "jpeg": "image/jpg", "tif": "image/tiff", "tiff": "image/tiff",
              "xml": "application/xml", "xsd": "application/xml", "tar": "application/x-tar", "mp3": "audio/mp3",
              "mpg": "video/mpg", "mpeg": "video/mpg"}


def dias_mimetype(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return _DIAS_MIME.get(ext, "text/plain")


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # every template here is XML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def xml_datetime(dt: datetime) -> str:
    return utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PackageFile:
    """One file of the package as dias-mets.xml lists it."""

    href: str  # relative to the package root, e.g. "content/arkivstruktur.xml"
    source: Path
    size: int
    sha256: str
    id: str = ""
    mimetype: str = ""
    created: str = ""


@dataclass
class PackageResult:
    uuid: str
    profile: str
    tar: Path
    description: Path
    tar_sha256: str
    tar_size: int
    files: int  # files inside the tar
    content_files: int
    content_bytes: int
    reused_checksums: int  # checksums taken from the extraction
    hashed: list[str] = field(default_factory=list)  # extract files that had to be hashed
    bag: Path | None = None
    tar_sha512: str | None = None
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------


def _agents(meta: PackageMetadata) -> list[dict]:
    out: list[dict] = []

    def entity(e, role, otherrole=None):
        if e is None:
            return
        out.append(dict(role=role, otherrole=otherrole, type="ORGANIZATION", othertype=None, name=e.navn, notes=[]))
        if e.has_contact:
            out.append(dict(role=role, otherrole=otherrole, type="INDIVIDUAL", othertype=None,
                            name=e.kontaktperson, notes=e.notes()))

    for a in meta.arkivskapere:
        entity(a, "ARCHIVIST")
    entity(meta.avleverer, "OTHER", "SUBMITTER")
    entity(meta.produsent, "OTHER", "PRODUCER")
    for e in meta.eiere:
        entity(e, "IPOWNER")
    entity(meta.pakkeskaper, "CREATOR")
    out.append(dict(role="CREATOR", otherrole=None, type="OTHER", othertype="SOFTWARE", name="noarkpack",
                    notes=[__version__, "notescontent:Version"]))
    if meta.mottaker:
        out.append(dict(role="PRESERVATION", otherrole=None, type="ORGANIZATION", othertype=None,
                        name=meta.mottaker, notes=[]))
    if meta.arkivskapende_system:
        s = meta.arkivskapende_system
        out.append(dict(role="ARCHIVIST", otherrole=None, type="OTHER", othertype="SOFTWARE", name=s.navn,
                        notes=s.notes()))
    if meta.uttrekkssystem:
        s = meta.uttrekkssystem
        out.append(dict(role="OTHER", otherrole="PRODUCER", type="OTHER", othertype="SOFTWARE", name=s.navn,
                        notes=s.notes()))
    return out


def header_context(meta: PackageMetadata, created: datetime) -> dict:
    alt = []
    for t, v in (("DELIVERYSPECIFICATION", meta.arkivbeskrivelse), ("SUBMISSIONAGREEMENT", meta.avtalenummer),
                 ("DELIVERYTYPE", meta.overforingstype), ("PROJECTNAME", meta.prosjektnavn),
                 ("PACKAGENUMBER", meta.pakkenummer), ("REFERENCECODE", meta.referansekode),
                 ("STARTDATE", meta.periode_start and meta.periode_start.isoformat()),
                 ("ENDDATE", meta.periode_slutt and meta.periode_slutt.isoformat())):
        if v:
            alt.append((t, v))
    return dict(createdate=xml_datetime(created), recordstatus=meta.pakkestatus, agents=_agents(meta),
                alt_record_ids=alt)


def derive_uuid(profile: str, meta: PackageMetadata, content: Iterable[PackageFile]) -> str:
    h = hashlib.sha256()
    h.update(f"{profile}\n{meta.canonical()}\n".encode())
    for f in content:
        h.update(f"{f.href}\t{f.size}\t{f.sha256}\n".encode())
    return str(uuidlib.uuid5(UUID_NAMESPACE, h.hexdigest()))


def _render(env: jinja2.Environment, template: str, path: Path, **ctx) -> tuple[str, int]:
    """Render ``template`` to ``path`` in chunks (dias-mets.xml may list millions of files)."""
    with open(path, "wb") as raw:
        w = HashingWriter(raw)
        buf: list[str] = []
        n = 0
        for chunk in env.get_template(template).generate(**ctx):
            buf.append(chunk)
            n += len(chunk)
            if n > 1 << 20:
                w.write("".join(buf).encode("utf-8"))
                buf.clear()
                n = 0
        w.write("".join(buf).encode("utf-8"))
        w.flush()
        os.fsync(raw.fileno())
        return w.hexdigest(), w.size


def _clean_stale(folder: Path, prefix: str) -> None:
    for p in folder.glob(prefix + "*"):
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink()
        except OSError:
            pass


def build_package(
    extract_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    profile: str,
    metadata: PackageMetadata,
    bag: bool = False,
    bag_algorithms: tuple[str, ...] = ("sha256",),
    store=None,
    progress: Progress | None = None,
    validation_report=None,
    extract_result=None,
    run_facts: dict | None = None,
) -> PackageResult:
    """Package the extract at ``extract_dir`` as a DIAS SIP or AIP in ``out_dir``.

    ``extract_dir`` is the ``avleveringspakke`` folder (or a folder holding it).
    ``extract_result`` (an ExtractResult) gives the XML/XSD checksums without reading
    the ADDML.  ``validation_report`` is any object with ``to_json()`` and
    ``to_html()``; it goes into ``administrative_metadata/repository_operations/``.  The extract's
    description (:mod:`.description`) goes into ``administrative_metadata/``, with ``run_facts`` (``excluded_by_reason``,
    ``selection``) from the run that made the extract when known.
    With ``bag=True``, ``out_dir`` becomes a BagIt 1.0 bag whose payload is the tar
    and the description; ``out_dir`` must then be absent or empty.
    """
    t0 = time.monotonic()
    if profile not in PROFILES:
        raise PackagingError(tr("unknown profile {profile}", profile=repr(profile)),
                             hint=tr("use one of {profiles}", profiles=", ".join(PROFILES)))
    pkg_type = PROFILES[profile]
    metadata.check()
    if store is None:
        from ..schemas import default_store

        store = default_store()
    from ..schemas import schema_sets

    dias_dir = store.set_dir("dias")  # raises with the install command when missing
    pins = {f.name: f for f in schema_sets()["dias"].files}
    bag_algorithms = tuple(dict.fromkeys(a.lower() for a in bag_algorithms))
    if bag:
        from .bagit import check_algorithms

        check_algorithms(bag_algorithms)

    root = find_extract_root(extract_dir)
    files = walk_extract(root)
    if not files:
        raise PackagingError(tr("the extract is empty"), file=root)
    addml = addml_name(root)
    out_dir = Path(out_dir)
    # the one pass over arkivstruktur.xml: the documents' recorded checksums, and the description's facts
    structure = StructureReader()
    formats = FormatTable(len(files))  # the documents' recorded formats, for documentfile-formatinfo.csv
    recorded_checksums(root, files, extract_result, observe=structure, formats=formats)
    structure.read = (root / "arkivstruktur.xml").is_file()

    # 1. checksums of the content: recorded ones reused, the rest hashed once
    hashed: list[str] = []
    todo_bytes = sum(f.size for f in files if f.sha256 is None)
    done = 0
    for f in files:
        if f.sha256 is None:
            f.sha256 = sha256_file(root / f.rel)
            hashed.append(f.rel)
            done += f.size
            if progress:
                progress("hash", done, todo_bytes)
    top = {f.rel: f for f in files if "/" not in f.rel}  # the extract's own XML and XSD files (few)

    def content(first_id: int = 0) -> Iterator[PackageFile]:
        """The content files as dias-mets.xml lists them, made one at a time (never all at once)."""
        for n, f in enumerate(files, start=first_id):
            href = f"content/{f.rel}"
            yield PackageFile(href, root / f.rel, f.size, f.sha256, f"fileId_{n}" if first_id else "",
                              dias_mimetype(href), stamp)

    # Two times, each true: when the extract was made (its files' CREATED, dias-mets VERSDATE: the newest file,
    # or [package] uttrekksdato), and when this package is made (METS header, PREMIS event, tar member times,
    # Bagging-Date: now, or SOURCE_DATE_EPOCH to rebuild it byte for byte; noarkpack.clock).
    extracted = utc(metadata.uttrekksdato) if metadata.uttrekksdato else \
        datetime.fromtimestamp(int(max(files.mtimes)), timezone.utc)
    stamp = xml_datetime(extracted)
    created = build_time()
    mtime = int(created.timestamp())
    made = xml_datetime(created)
    pkg_uuid = str(metadata.uuid) if metadata.uuid else derive_uuid(profile, metadata, content())

    # 2. a private work folder for the generated files and the partial outputs
    if bag:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise PackagingError(tr("the bag folder must be new or empty"), file=out_dir,
                                 hint=tr("with --bag, --out names the bag itself"))
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale(out_dir.parent, f".{out_dir.name}{PARTIAL}")
        work = out_dir.parent / f".{out_dir.name}{PARTIAL}{uuidlib.uuid4().hex[:12]}"
        work.mkdir()
        final_dir = work / "data"
        final_dir.mkdir()
        gen = work / ".generated"
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        _clean_stale(out_dir, ".noarkpack" + PARTIAL)
        work = out_dir / f".noarkpack{PARTIAL}{uuidlib.uuid4().hex[:12]}"
        work.mkdir()
        final_dir = out_dir
        gen = work
    gen.mkdir(exist_ok=True)

    try:
        env = environment()
        hdr = header_context(metadata, created)
        label = metadata.effective_label

        def pinned(name: str) -> tuple[Path, int, str]:
            p = pins[name]
            return dias_dir / name, p.size, p.sha256

        def generated(name: str, template: str, **ctx) -> tuple[Path, int, str]:
            path = gen / name
            sha, size = _render(env, template, path, **ctx)
            return path, size, sha

        package: dict[str, tuple[Path, int, str]] = {}
        premis_ctx = dict(uuid=pkg_uuid)
        package["administrative_metadata/dias-premis.xml"] = generated("dias-premis.xml", "premis.xml.j2",
                                                                         events=[], agent=None, **premis_ctx)
        package["administrative_metadata/dias-premis.xsd"] = pinned("DIAS_PREMIS.xsd")
        a = top[addml]
        package[f"administrative_metadata/{addml}"] = (root / a.rel, a.size, a.sha256)
        if "addml.xsd" in top:
            x = top["addml.xsd"]
            package["administrative_metadata/addml.xsd"] = (root / x.rel, x.size, x.sha256)
        else:
            package["administrative_metadata/addml.xsd"] = pinned("addml.xsd")
        if validation_report is not None:
            if hasattr(validation_report, "iter_json"):  # streamed: a report may hold millions of findings
                json_text = itertools.chain(validation_report.iter_json(), ("\n",))
            else:
                json_text = json.dumps(validation_report.to_json(), ensure_ascii=False, indent=2, default=str) + "\n"
            for ext, text in (("json", json_text), ("html", validation_report.to_html())):
                p = gen / f"validation-report.{ext}"
                with open(p, "wb") as fh, HashingWriter(fh) as out:
                    for piece in ((text,) if isinstance(text, str) else text):
                        out.write(piece.encode("utf-8"))
                package[f"administrative_metadata/repository_operations/validation-report.{ext}"] = (
                    p, out.size, out.hexdigest())
        p = gen / DESCRIPTION
        run_facts = run_facts or {}
        size, sha = write_description(p, env, root, addml=addml, metadata=metadata, software=SOFTWARE, created=made,
                                      excluded_by_reason=run_facts.get("excluded_by_reason"),
                                      selection=run_facts.get("selection"), structure=structure)
        package[f"administrative_metadata/{DESCRIPTION}"] = (p, size, sha)
        # each document file's format, in administrative_metadata/ and content/ as Arkade's SIP has it (.formatinfo)
        extra_content: dict[str, tuple[Path, int, str]] = {}
        if len(formats):
            (gen / "content").mkdir(exist_ok=True)
            adm, cont = gen / FORMATINFO, gen / "content" / FORMATINFO
            (a_size, a_sha), (c_size, c_sha) = formats.write(root, files, adm, cont)
            package[f"administrative_metadata/{FORMATINFO}"] = (adm, a_size, a_sha)
            if FORMATINFO not in top:  # an extract that has its own (made by Arkade) keeps it
                extra_content[f"content/{FORMATINFO}"] = (cont, c_size, c_sha)
        if pkg_type == "AIP":
            desc_ctx = dict(uuid=pkg_uuid, label=label, created=made, software=SOFTWARE,
                            agency=metadata.mottaker or (metadata.avleverer.navn if metadata.avleverer else "noarkpack"),
                            arkivskapere=list(metadata.arkivskapere),
                            start=metadata.periode_start and metadata.periode_start.isoformat(),
                            end=metadata.periode_slutt and metadata.periode_slutt.isoformat())
            package["descriptive_metadata/eac-cpf.xml"] = generated("eac-cpf.xml", "eac-cpf.xml.j2", **desc_ctx)
            package["descriptive_metadata/eac-cpf.xsd"] = pinned("cpf.xsd")
            package["descriptive_metadata/ead.xml"] = generated("ead.xml", "ead.xml.j2", **desc_ctx)
            package["descriptive_metadata/ead.xsd"] = pinned("ead3.xsd")
        package["dias-mets.xsd"] = pinned("DIAS_METS.xsd")
        package["log.xml"] = generated("log.xml", "premis.xml.j2", agent=dict(id=SOFTWARE, name=SOFTWARE),
                                       events=[dict(id=f"{pkg_uuid}-packaging", type="Creation", datetime=made,
                                                    detail=f"{pkg_type} built by {SOFTWARE} (profile {profile})")],
                                       **premis_ctx)

        # 3. dias-mets.xml: every file but itself
        package_files = [PackageFile(href, *package[href], f"fileId_{n}", dias_mimetype(href), made)
                         for n, href in enumerate(sorted(package), start=1)]
        first_content = len(package_files) + len(extra_content) + 1
        extra_files = [PackageFile(href, *extra_content[href], f"fileId_{n}", dias_mimetype(href), made)
                       for n, href in enumerate(sorted(extra_content), start=len(package_files) + 1)]
        mets_path, mets_size, mets_sha = generated(
            "dias-mets.xml", "dias-mets.xml.j2", uuid=pkg_uuid, label=label, type=pkg_type, hdr=hdr,
            package_files=package_files, content_files=itertools.chain(extra_files, content(first_content)),
            versdate=stamp)
        package["dias-mets.xml"] = (mets_path, mets_size, mets_sha)

        # 4. the tar: members in path-component order, streamed, hashed while written
        members = _members(pkg_uuid, {**package, **extra_content}, root, files)
        total = sum(size for _, size, _ in package.values()) + sum(files.sizes) + \
            sum(size for _, size, _ in extra_content.values())
        written = 0

        def tick(nbytes: int) -> None:
            nonlocal written
            written += nbytes
            if progress:
                progress("tar", written, total)

        tar_final = final_dir / f"{pkg_uuid}.tar"
        tar_tmp = work / f"{pkg_uuid}.tar.part"
        with open(tar_tmp, "wb") as raw:
            digest = write_tar(raw, members, mtime, sha512="sha512" in bag_algorithms if bag else False,
                               progress=tick)
            raw.flush()
            os.fsync(raw.fileno())

        # 5. the submission description beside the tar
        desc_tmp = work / f"{pkg_uuid}.xml.part"
        desc_files = [
            PackageFile(f"{pkg_uuid}.tar", tar_final, digest.size, digest.sha256, "fileId_0", "application/x-tar",
                        made),
            PackageFile(f"{pkg_uuid}/dias-mets.xml", mets_path, mets_size, mets_sha, "fileId_1", "application/xml",
                        made),
        ]
        desc_sha, desc_size = _render(env, "submission-description.xml.j2", desc_tmp, uuid=pkg_uuid, label=label,
                                      type=pkg_type, hdr=hdr, files=desc_files)
        desc_final = final_dir / f"{pkg_uuid}.xml"

        result = PackageResult(
            uuid=pkg_uuid, profile=profile, tar=tar_final, description=desc_final, tar_sha256=digest.sha256,
            tar_size=digest.size, files=len(package) + len(extra_content) + len(files),
            content_files=len(files), content_bytes=sum(files.sizes),
            reused_checksums=len(files) - len(hashed), hashed=hashed, tar_sha512=digest.sha512)

        if bag:
            from .bagit import PayloadFile, write_bag_tags

            desc_digests = {"sha256": desc_sha}
            if "sha512" in bag_algorithms or any(a != "sha256" for a in bag_algorithms):
                desc_digests.update(hash_file(desc_tmp, bag_algorithms))
            tar_digests = {"sha256": digest.sha256}
            if digest.sha512:
                tar_digests["sha512"] = digest.sha512
            missing = [a for a in bag_algorithms if a not in tar_digests]
            if missing:
                tar_digests.update(hash_file(tar_tmp, missing))
            os.replace(tar_tmp, tar_final)
            os.replace(desc_tmp, desc_final)
            shutil.rmtree(gen, ignore_errors=True)
            write_bag_tags(
                work,
                [PayloadFile(f"data/{pkg_uuid}.tar", digest.size, tar_digests),
                 PayloadFile(f"data/{pkg_uuid}.xml", desc_size, desc_digests)],
                bag_info=_bag_info(metadata, pkg_uuid, created, digest.size + desc_size, label),
                algorithms=bag_algorithms,
            )
            fsync_dir(work / "data")
            fsync_dir(work)
            if out_dir.exists():
                out_dir.rmdir()  # empty (checked above); rename(2) cannot replace it portably
            os.replace(work, out_dir)
            fsync_dir(out_dir.parent)
            result.tar, result.description, result.bag = out_dir / "data" / tar_final.name, \
                out_dir / "data" / desc_final.name, out_dir
        else:
            # The tar first, the description last: a description names a complete tar.
            os.replace(tar_tmp, tar_final)
            os.replace(desc_tmp, desc_final)
            fsync_dir(out_dir)
            shutil.rmtree(work, ignore_errors=True)
        result.seconds = time.monotonic() - t0
        return result
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _members(pkg_uuid: str, package: dict[str, tuple[Path, int, str]], root: Path, files) -> Iterator[Member]:
    """Every tar member (folders included) in path-component order, made as the tar is written.

    ``files`` (the content, from walk_extract) is already in that order, so the content folders are
    emitted just before their first file; the few other files are sorted here and merged in.
    """
    def split(name: str) -> list[str]:
        return name.split("/")

    others = set(package) | {"descriptive_metadata"}
    for href in list(others):
        parts = href.split("/")[:-1]
        others.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    others.discard("content")  # its folder entry comes with the content files (never empty)

    def content_names() -> Iterator[str]:
        opened: list[str] = []  # the content folders of the previous file
        for f in files:
            parts = ["content", *f.rel.split("/")[:-1]]
            same = 0
            while same < len(opened) and same < len(parts) and opened[same] == parts[same]:
                same += 1
            for i in range(same, len(parts)):
                yield "/".join(parts[:i + 1]) + "/"
            opened = parts
            yield f"content/{f.rel}"

    yield Member(pkg_uuid + "/", None)
    index = iter(files)
    key = lambda n: split(n.rstrip("/"))  # noqa: E731
    for name in heapq.merge(sorted(others, key=key), content_names(), key=key):
        full = f"{pkg_uuid}/{name}"
        if name.endswith("/"):
            yield Member(full, None)
        elif name in package:
            src, size, _sha = package[name]
            yield Member(full, src, size)
        elif name.startswith("content/"):
            f = next(index)
            yield Member(full, root / f.rel, f.size)
        else:
            yield Member(full + "/", None)  # a folder of the generated files


def _bag_info(meta: PackageMetadata, pkg_uuid: str, created: datetime, octets: int, label: str) -> list[tuple[str, str]]:
    from .bagit import human_size

    info: list[tuple[str, str]] = []
    src = meta.avleverer or (meta.arkivskapere[0] if meta.arkivskapere else None)
    if src is not None:
        info.append(("Source-Organization", src.navn))
        if src.adresse:
            info.append(("Organization-Address", src.adresse))
        if src.kontaktperson:
            info.append(("Contact-Name", src.kontaktperson))
        if src.telefon:
            info.append(("Contact-Phone", src.telefon))
        if src.epost:
            info.append(("Contact-Email", src.epost))
    info += [
        ("External-Description", label),
        ("External-Identifier", pkg_uuid),
        ("Bagging-Date", utc(created).date().isoformat()),
        ("Bag-Size", human_size(octets)),
        ("Payload-Oxum", f"{octets}.2"),
        ("Bag-Software-Agent", SOFTWARE),
    ]
    return info
