"""Verify an EPJARK deposit folder the way the receiving side (Norsk helsearkiv) checks it.

Every XML is validated against the pinned schema sets from the schema store
(lxml; entities, DTDs and network off).  Every tar is read once, as a stream,
never extracted: the same pass gives its SHA-256 (compared with the package
list), its member list (safety and layout) and its XML members (validation and
references).  The NHA.* checks are listed in docs/nha.md.  Messages name
journals by journalidentifikator and files by name — never a fødselsnummer or
a patient's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..errors import SchemaStoreError
from ..locale import N_, tr
from ..model.identifiers import PersonNumberError, validate_person_number
from ..schemas import SchemaStore
from . import semantics
from .detect import is_nha_deposit  # noqa: F401 - part of this module's API
from .findings import ERROR, INFO, WARNING, Finding, finding
from .tarball import TarStream, member_problem
from .xml import NS_AVLXML, NS_BASISBRUK, NS_DOK, NS_PAKKELISTE, NS_PASIENTINFO, NS_SAK, NS_XSI
from .xsd import NhaSchemas, safe_parser, schema_errors

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UUID_RE = re.compile(UUID)
UUID_ANYCASE = re.compile(UUID, re.IGNORECASE)
TAR_RE = re.compile(UUID + r"\.tar")
ARKDATO = re.compile(r"(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?")

ROOTS = {
    "pasientinfo": f"{{{NS_PASIENTINFO}}}Pasientpersonalia",
    "sak": f"{{{NS_SAK}}}Arkivert_EPJ",
    "dokument": f"{{{NS_DOK}}}Arkivert_EPJ_dokument",
}


@dataclass
class _Listed:
    type: str
    sha256: str
    line: int | None


@dataclass
class _Journal:
    id: str | None = None
    line: int | None = None
    fnr: str | None = None
    fodt: str | None = None
    mors: str | None = None
    sikkermors: bool = False
    siste: str | None = None
    kjonn: str | None = None
    lagringsenheter: list[str] = field(default_factory=list)


DOCTYPE_MSG = N_("a DOCTYPE declaration is not allowed in a deposit's XML (entities are never resolved)")


def _has_doctype(head: bytes) -> bool:
    return b"<!DOCTYPE" in head[:65536]


def _parse_arkdato(text: str | None) -> date | None:
    if not text:
        return None
    m = ARKDATO.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


class _Verifier:
    def __init__(self, root: Path, store: SchemaStore | None, today: date | None) -> None:
        self.root = root
        self.findings: list[Finding] = []
        self.schemas = NhaSchemas(store)
        self.today = today or date.today()
        self.dok_members: set[str] = set()  # members of every dok tar (paths in the unpacked deposit)
        self.eldok_refs: list[tuple[str, str, str]] = []  # (tar, member, resolved path)
        self.avleveringsid: str | None = None
        self.journals: list[_Journal] = []
        self.journals_checked = False  # the first AVLXML pass has run the content checks

    def add(self, test: str, severity: str, message: str, **loc) -> None:
        self.findings.append(finding(test, severity, message, **loc))

    # ------------------------------------------------------------------ top level

    def run(self) -> list[Finding]:
        root = self.root
        if not root.is_dir():
            self.add("NHA.01", ERROR, tr("the deposit folder does not exist or is not a folder"), file=str(root))
            return self.findings
        avl = sorted(root.glob("avlxml*.xml"))
        pl = sorted(root.glob("epjpakkeliste*.xml"))
        tars = sorted(p for p in root.iterdir() if p.name.endswith(".tar"))
        for p in sorted(root.iterdir()):
            if p.is_symlink():
                self.add("NHA.01", ERROR, tr("symbolic link in the deposit folder"), file=p.name)
            elif p.is_dir():
                self.add("NHA.01", WARNING, tr("unexpected folder in the deposit folder"), file=p.name)
            elif p not in avl and p not in pl and p not in tars:
                self.add("NHA.01", WARNING, tr("unexpected file in the deposit folder"), file=p.name)
        if len(avl) != 1:
            self.add("NHA.01", ERROR, tr("the deposit must hold exactly one avlxml*.xml list (found {count})",
                                             count=len(avl)), file=str(root))
        if len(pl) != 1:
            self.add("NHA.01", ERROR, tr("the deposit must hold exactly one epjpakkeliste*.xml (found {count})",
                                             count=len(pl)), file=str(root))
        try:
            if len(avl) == 1 and not avl[0].is_symlink():
                self.avlxml(avl[0])
            listed = self.pakkeliste(pl[0]) if len(pl) == 1 and not pl[0].is_symlink() else None
        except SchemaStoreError:
            raise
        self.packages(listed, [t for t in tars if not t.is_symlink() and t.is_file()])
        self.cross_checks(listed)
        return self.findings

    # ------------------------------------------------------------------ AVLXML

    def avlxml(self, path: Path) -> None:
        name = path.name
        self.avl_name = name  # where a journal's line is, for the cross checks' findings
        with open(path, "rb") as f:
            if _has_doctype(f.read(65536)):
                self.add("NHA.02", ERROR, tr(DOCTYPE_MSG), file=name)
                return
        try:
            version = "3"
            for _ev, el in etree.iterparse(str(path), events=("end",), tag=f"{{{NS_AVLXML}}}avlxmlversjon",
                                           resolve_entities=False, no_network=True, load_dtd=False):
                version = "4" if (el.text or "").strip().startswith("4") else "3"
                break
        except etree.XMLSyntaxError as e:
            self.add("NHA.02", ERROR, tr("the AVLXML list is not well-formed XML: {error}", error=e.msg),
                     file=name, line=e.lineno)
            return
        schema = self.schemas.avlxml(version)
        try:
            self._avlxml_pass(path, schema)
        except etree.XMLSyntaxError as e:
            self.add("NHA.02", ERROR, tr("the AVLXML list is not valid against AVLXML v{version}: {error}",
                                             version=version, error=e.msg), file=name, line=e.lineno)
            self.journals_checked = bool(self.journals)
            self.journals = []
            try:
                self._avlxml_pass(path, None)
            except etree.XMLSyntaxError:
                return
        self.mors_rules(name)

    def _avlxml_pass(self, path: Path, schema) -> None:
        q = lambda n: f"{{{NS_AVLXML}}}{n}"  # noqa: E731
        kw = {"schema": schema} if schema is not None else {}
        for _ev, el in etree.iterparse(str(path), events=("end",), resolve_entities=False, no_network=True,
                                       load_dtd=False, **kw):
            if el.tag == q("avleveringsidentifikator") and el.getparent() is not None \
                    and el.getparent().tag == q("avlxml"):
                self.avleveringsid = (el.text or "").strip()
            elif el.tag == q("pasientjournal"):
                j = _Journal(line=el.sourceline)
                j.id = (el.findtext(q("journalidentifikator")) or "").strip() or None
                j.fnr = (el.findtext(q("fodselsnummer")) or "").strip() or None
                j.fodt = el.findtext(q("fodtdato"))
                j.mors = el.findtext(q("morsdato"))
                j.sikkermors = (el.findtext(q("sikkermors")) or "").strip() in ("true", "1")
                j.siste = el.findtext(q("sistekontakt"))
                j.kjonn = (el.findtext(q("kjonn")) or "").strip() or None
                j.lagringsenheter = [(x.text or "").strip() for x in el.findall(q("lagringsenhet"))]
                if schema is not None or not self.journals_checked:
                    semantics.avlxml_diagnoses(el, j.id, self.add, file=path.name)
                self.journals.append(j)
                el.clear()

    def mors_rules(self, name: str) -> None:
        """NHA's mors rules (nha-validering valider-avlxml): a journal must be confirmed deceased."""
        seen: set[str] = set()
        for j in self.journals:
            if j.id is None:
                self.add("NHA.12", ERROR, tr("a journal has no journalidentifikator (code 11)"), file=name, line=j.line)
                continue
            if j.id in seen:
                self.add("NHA.12", ERROR, tr("journal {journal} is listed twice", journal=j.id), file=name, line=j.line,
                         journal=j.id)
            seen.add(j.id)
            if j.fnr and j.fnr.isdigit() and len(j.fnr) == 11:
                try:
                    sex = validate_person_number(j.fnr).kjonn
                except PersonNumberError as e:
                    self.add("NHA.13", WARNING, tr("journal {journal}: fodselsnummer is not a valid fødselsnummer, "
                                                    "D-nummer or H-nummer under either rule set ({problem})",
                                                    journal=j.id, problem=str(e)), file=name, line=j.line,
                             journal=j.id)
                else:
                    # AVLXML's kjonn codes M, K, U: U never contradicts; a 2032-rule number has no sex digit
                    recorded = {"M": "mann", "K": "kvinne"}.get(j.kjonn or "")
                    if recorded and sex and recorded != sex:
                        self.add("NHA.13", WARNING, tr("journal {journal}: kjonn contradicts the sex digit of the "
                                                        "fodselsnummer (its 9th digit: odd M, even K)", journal=j.id),
                                 file=name, line=j.line, journal=j.id)
            dates = {}
            for what, element in (("mors", "morsdato"), ("fodt", "fodtdato"), ("siste", "sistekontakt")):
                text = getattr(j, what)
                d = _parse_arkdato(text)
                if text and d is None:
                    self.add("NHA.12", ERROR, tr("journal {journal}: bad date in {element} (code 12)", journal=j.id,
                                                 element=element), file=name, line=j.line, journal=j.id)
                dates[what] = d
            if dates["mors"] is not None and dates["mors"] <= self.today:
                continue  # code 1
            if dates["fodt"] is not None and self.today.year - dates["fodt"].year > 110:
                continue  # code 2
            if dates["siste"] is not None and self.today.year - dates["siste"].year > 60:
                continue  # code 3
            if j.sikkermors:
                continue  # code 4
            self.add("NHA.12", ERROR, tr("journal {journal} is not confirmed deceased by NHA's mors rules (code 10): "
                                         "a living patient's journal must not be deposited", journal=j.id),
                     file=name, line=j.line, journal=j.id)

    # ------------------------------------------------------------------ epjpakkeliste

    def pakkeliste(self, path: Path) -> dict[str, _Listed] | None:
        name = path.name
        with open(path, "rb") as f:
            if _has_doctype(f.read(65536)):
                self.add("NHA.03", ERROR, tr(DOCTYPE_MSG), file=name)
                return None
        try:
            doc = etree.parse(str(path), safe_parser())
        except etree.XMLSyntaxError as e:
            self.add("NHA.03", ERROR, tr("the package list is not well-formed XML: {error}", error=e.msg),
                     file=name, line=e.lineno)
            return None
        schema = self.schemas.pakkeliste()
        if not schema.validate(doc):
            for line, msg in schema_errors(schema):
                self.add("NHA.03", ERROR, tr("the package list is not valid against epjpakkeliste.xsd: {error}",
                                                 error=msg), file=name, line=line)
        q = lambda n: f"{{{NS_PAKKELISTE}}}{n}"  # noqa: E731
        root = doc.getroot()
        if root.tag != q("epjpakkeliste"):
            return None
        self.pakkeliste_id = (root.findtext(q("AvleveringsID")) or "").strip()
        listed: dict[str, _Listed] = {}
        for pk in root.iterfind(q("pakke")):
            ref = (pk.findtext(q("filReferanse")) or "").strip()
            if ref in listed:
                self.add("NHA.04", ERROR, tr("package {name} is listed twice", name=ref), file=name, line=pk.sourceline)
                continue
            listed[ref] = _Listed((pk.findtext(q("pakketype")) or "").strip(),
                                  (pk.findtext(q("sjekksum")) or "").strip(), pk.sourceline)
        return listed

    # ------------------------------------------------------------------ tars

    def packages(self, listed: dict[str, _Listed] | None, tars: list[Path]) -> None:
        names = {t.name for t in tars}
        if listed is not None:
            if len(listed) != len(tars):
                self.add("NHA.04", ERROR, tr("the package list names {listed} package(s) but the folder holds "
                                             "{tars} tar file(s)", listed=len(listed), tars=len(tars)),
                         file="epjpakkeliste.xml")
            for ref, info in listed.items():
                if ref not in names:
                    self.add("NHA.04", ERROR, tr("listed package {name} is not in the folder", name=ref),
                             file="epjpakkeliste.xml", line=info.line)
            for t in tars:
                if t.name not in listed:
                    self.add("NHA.04", ERROR, tr("tar file not named in the package list"), file=t.name)
        # dok packages first, so that ELDOK references can be resolved when the epj tars are read
        order = sorted(tars, key=lambda t: (0 if listed and listed.get(t.name, _Listed("", "", None)).type == "dok"
                                            else 1, t.name))
        for t in order:
            info = listed.get(t.name) if listed else None
            self.tar(t, info)
        for tar, member, target in self.eldok_refs:
            if target not in self.dok_members:
                self.add("NHA.09", ERROR, tr("ELDOK dokumentinnhold points to a file that no dok package holds"),
                         file=tar, member=member)

    def tar(self, path: Path, info: _Listed | None) -> None:
        name = path.name
        if not TAR_RE.fullmatch(name):
            self.add("NHA.07", ERROR, tr("package file name is not a lowercase uuid.tar"), file=name)
        uuid = name[:-4]
        kind = info.type if info else None
        stream = TarStream(path)
        seen: set[str] = set()
        xml_members: list[tuple[str, bytes]] = []
        members: list[str] = []
        for ti, data in stream.members(lambda ti: ti.name.endswith(".xml") and kind != "dok"):
            problem = member_problem(ti, seen)
            stripped = ti.name.rstrip("/")
            seen.add(stripped)
            if problem:
                self.add("NHA.06", ERROR, tr("unsafe tar member: {problem}", problem=problem), file=name,
                         member=ti.name)
                continue
            members.append(stripped + ("/" if ti.isdir() else ""))
            if not (stripped == uuid or stripped.startswith(uuid + "/")):
                self.add("NHA.07" if kind != "dok" else "NHA.10", ERROR,
                         tr("member outside the package's top folder <uuid>/"), file=name, member=ti.name)
            if data is not None:
                xml_members.append((stripped, data))
            if kind == "dok" and ti.isreg():
                self.dok_members.add(stripped)
        if stream.error:
            self.add("NHA.06", ERROR, tr("the tar cannot be read to its end ({error})", error=stream.error),
                     file=name)
        if info is not None:
            if stream.sha256 != info.sha256:
                self.add("NHA.05", ERROR, tr("the SHA-256 of the tar differs from the checksum in the package list"),
                         file=name)
            if kind == "epj":
                self.epj_layout(name, uuid, members, dict(xml_members))
            elif kind == "dok":
                if not any(not m.endswith("/") for m in members):
                    self.add("NHA.10", WARNING, tr("the dok package holds no files"), file=name)

    def epj_layout(self, name: str, uuid: str, members: list[str], xml: dict[str, bytes]) -> None:
        files = [m for m in members if not m.endswith("/")]
        pi = [m for m in files if re.fullmatch(re.escape(uuid) + "/" + UUID + r"\.xml", m)]
        sak = [m for m in files if re.fullmatch(re.escape(uuid) + "/journal/" + UUID + r"\.xml", m)]
        dok = [m for m in files if re.fullmatch(re.escape(uuid) + "/dokumenter/" + UUID + r"\.xml", m)]
        # the entries' document files sit beside the EPJ dokumenter that refer to them (docs/nha.md)
        content = [m for m in files if m not in dok
                   and re.fullmatch(re.escape(uuid) + "/dokumenter/" + UUID + r"\.[a-z0-9]{1,10}", m)]
        other = [m for m in files if m not in pi and m not in sak and m not in dok and m not in content]
        if len(pi) != 1:
            self.add("NHA.07", ERROR, tr("an epj package needs exactly one pasientinfo <uuid>/<uuid>.xml "
                                         "(found {count})", count=len(pi)), file=name)
        if len(sak) != 1:
            self.add("NHA.07", ERROR, tr("an epj package needs exactly one EPJ sak <uuid>/journal/<uuid>.xml "
                                         "(found {count})", count=len(sak)), file=name)
        if not dok:
            self.add("NHA.07", ERROR, tr("an epj package needs at least one EPJ dokument "
                                         "<uuid>/dokumenter/<uuid>.xml"), file=name)
        for m in other:
            self.add("NHA.07", WARNING, tr("unexpected member in the epj package (names must be lowercase UUIDs)"),
                     file=name, member=m)
        present = set(files)
        for kind, group in (("pasientinfo", pi), ("sak", sak), ("dokument", dok)):
            schema = self.schemas.epj(kind)
            for m in group:
                data = xml.get(m)
                if data is None:
                    continue
                if _has_doctype(data):
                    self.add("NHA.08", ERROR, tr(DOCTYPE_MSG), file=name, member=m)
                    continue
                try:
                    doc = etree.fromstring(data, safe_parser())
                except etree.XMLSyntaxError as e:
                    self.add("NHA.08", ERROR, tr("not well-formed XML: {error}", error=e.msg), file=name, member=m,
                             line=e.lineno)
                    continue
                if doc.tag != ROOTS[kind]:
                    self.add("NHA.08", ERROR, tr("the root element is not the one of {kind} (EPJ 1.80)", kind=kind),
                             file=name, member=m, line=doc.sourceline)
                    continue
                if not schema.validate(doc):
                    for line, msg in schema_errors(schema, 5):
                        self.add("NHA.08", ERROR, tr("not valid against the nha-epj-1.80 {kind} schema: {error}",
                                                    kind=kind, error=msg),
                                 file=name, member=m, line=line)
                if kind == "pasientinfo":
                    semantics.pasientinfo(doc, self.add, file=name, member=m)
                else:
                    semantics.components(doc, self.add, file=name, member=m)
                self.references(kind, name, m, doc, present)

    def references(self, kind: str, tar: str, member: str, doc, present: set[str]) -> None:
        base = PurePosixPath(member).parent

        def resolve(uri: str) -> str | None:
            parts = urlsplit(uri)
            if parts.scheme or parts.netloc or uri.startswith("/"):
                return None
            out: list[str] = []
            for part in (base / unquote(parts.path)).parts:
                if part == "..":
                    if not out:
                        return ""
                    out.pop()
                elif part != ".":
                    out.append(part)
            return "/".join(out)

        if kind == "sak":
            refs = [(doc.findtext(f"{{{NS_SAK}}}filreferanse_pasientinfo"), "filreferanse_pasientinfo")]
            refs += [(r.text, "Referanse_arkivert_EPJ_dokument/filreferanse")
                     for r in doc.iter(f"{{{NS_SAK}}}filreferanse")]
            for uri, what in refs:
                if not uri:
                    continue
                target = resolve(uri.strip())
                if target is None:
                    self.add("NHA.09", INFO, tr("{what} is an absolute URI; not checked", what=what), file=tar,
                             member=member)
                elif target not in present:
                    self.add("NHA.09", ERROR, tr("{what} does not resolve to a file of the package", what=what),
                             file=tar, member=member)
        elif kind == "dokument":
            for el in doc.iter(f"{{{NS_DOK}}}Arkivert_dataelement"):
                xsi_type = el.get(f"{{{NS_XSI}}}type") or ""
                if not xsi_type.endswith("Arkivert_ELDOK_dataelement___elektronisk_dokument"):
                    continue
                uri = el.findtext(f"{{{NS_BASISBRUK}}}dokumentinnhold")
                if not uri:
                    continue
                target = resolve(uri.strip())
                if target is None:
                    self.add("NHA.09", INFO, tr("ELDOK dokumentinnhold is an absolute URI; not checked"), file=tar,
                             member=member)
                elif target in present:
                    continue
                else:
                    # a link into another package: the EPJ is not whole in its own package (docs/nha.md)
                    self.add("NHA.09", WARNING, tr("ELDOK dokumentinnhold points outside its epj package; an EPJ "
                                                    "and its document files belong in one package"),
                             file=tar, member=member)
                    self.eldok_refs.append((tar, member, target))

    # ------------------------------------------------------------------ between the lists

    def cross_checks(self, listed: dict[str, _Listed] | None) -> None:
        pid = getattr(self, "pakkeliste_id", None)
        if self.avleveringsid and pid is not None and pid != self.avleveringsid:
            self.add("NHA.11", ERROR, tr("AvleveringsID of the package list differs from the AVLXML "
                                         "avleveringsidentifikator"), file="epjpakkeliste.xml")
        if listed is None:
            return
        # a patient's journals share one epj package (one EPJ per patient, docs/nha.md): every epj package must be
        # named by the lagringsenhet of at least one journal of the list, and without lagringsenhet names the
        # list cannot have more journals' packages than journals
        epj = [ref for ref, v in listed.items() if v.type == "epj"]
        named = {le for j in self.journals for le in j.lagringsenheter if TAR_RE.fullmatch(le)}
        if named:
            for ref in epj:
                if ref not in named:
                    self.add("NHA.11", WARNING, tr("epj package {name} is named by no journal's lagringsenhet in the "
                                                    "AVLXML list", name=ref),
                             file="epjpakkeliste.xml", line=listed[ref].line)
        elif self.journals and len(epj) > len(self.journals):
            self.add("NHA.11", WARNING, tr("the AVLXML list has {journals} journal(s) but the package list "
                                           "{packages} epj package(s)", journals=len(self.journals),
                                           packages=len(epj)), file="epjpakkeliste.xml")
        for j in self.journals:
            for le in j.lagringsenheter:
                if TAR_RE.fullmatch(le) and le not in listed:
                    self.add("NHA.11", ERROR, tr("journal {journal}: lagringsenhet {name} is not in the package list",
                                                     journal=j.id, name=le),
                             file=getattr(self, "avl_name", None), journal=j.id, line=j.line)


def verify_deposit(path: str | Path, *, store: SchemaStore | None = None, today: date | None = None
                   ) -> list[Finding]:
    """Check an EPJARK deposit folder; return the findings (an empty list: nothing to report).

    Raises SchemaStoreError when the NHA schema sets are not installed (the check could not run).
    """
    return _Verifier(Path(path), store, today).run()
