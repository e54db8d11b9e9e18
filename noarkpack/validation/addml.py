"""Reading arkivuttrekk.xml (ADDML): what the extract says about itself.

The ADDML is small, so it is parsed as a tree.  Properties are found by
name, not by position (Arkade reads ``info.properties[1]`` and breaks on a
reordered file).  Nothing here raises for a broken ADDML: the problems are
collected in :attr:`AddmlInfo.problems` and reported by N5.01.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..locale import tr


@dataclass
class FileEntry:
    """A file or schema listed in the ADDML."""

    name: str | None
    algorithm: str | None = None
    checksum: str | None = None
    has_checksum: bool = False
    line: int | None = None


@dataclass
class DataObject:
    """One XML unit of the extract (arkivstruktur, endringslogg, a journal)."""

    name: str
    file: FileEntry | None
    schemas: list[FileEntry] = field(default_factory=list)
    occurrences: dict[str, int | None] = field(default_factory=dict)


@dataclass
class AddmlInfo:
    file: str = "arkivuttrekk.xml"
    parsed: bool = False
    problems: list[tuple[str, int | None]] = field(default_factory=list)  # (message, line)
    system_type: str | None = None
    system_name: str | None = None  # reference: systemName
    arkiv: str | None = None  # reference: archive
    arkivskapere: list[str] = field(default_factory=list)  # reference: recordCreator names
    start: str | None = None  # reference: archivalPeriod startDate
    end: str | None = None  # reference: archivalPeriod endDate
    version: str | None = None
    periode: dict[str, str] = field(default_factory=dict)  # inngaaendeSkille/utgaaendeSkille
    flags: dict[str, str] = field(default_factory=dict)  # inneholderSkjermetInformasjon, ... as text
    antall_dokumentfiler: str | None = None
    objects: list[DataObject] = field(default_factory=list)

    def object(self, name: str) -> DataObject | None:
        for o in self.objects:
            if o.name == name or (o.file and o.file.name == f"{name}.xml"):
                return o
        return None

    def flag(self, name: str) -> bool | None:
        v = self.flags.get(name)
        if v is None:
            return None
        v = v.strip().lower()
        if v in ("true", "1"):
            return True
        if v in ("false", "0"):
            return False
        return None

    def occurrences(self, what: str) -> int | None:
        o = self.object("arkivstruktur")
        return o.occurrences.get(what) if o else None


def _local(el) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(el, name: str):
    return [c for c in el if _local(c) == name]


def _child(el, name: str):
    for c in el:
        if _local(c) == name:
            return c
    return None


def _props(el, name: str | None = None):
    """Direct child properties of ``el`` (through its <properties>), optionally by name."""
    out = []
    for ps in _children(el, "properties"):
        for p in _children(ps, "property"):
            if name is None or p.get("name") == name:
                out.append(p)
    return out


def _prop(el, name: str):
    ps = _props(el, name)
    return ps[0] if ps else None


def _value(el) -> str | None:
    if el is None:
        return None
    v = _child(el, "value")
    return (v.text or "").strip() if v is not None else None


def _file_entry(file_prop) -> FileEntry:
    name = _value(_prop(file_prop, "name"))
    checksum = _prop(file_prop, "checksum")
    e = FileEntry(name=name, line=file_prop.sourceline, has_checksum=checksum is not None)
    if checksum is not None:
        e.algorithm = _value(_prop(checksum, "algorithm"))
        e.checksum = _value(_prop(checksum, "value"))
    return e


def read_addml(stream, file: str = "arkivuttrekk.xml") -> AddmlInfo:
    info = AddmlInfo(file=file)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.parse(stream, parser).getroot()
    except etree.XMLSyntaxError as exc:
        info.problems.append((tr("{file} is not well-formed XML: {error}", file=file, error=exc.msg), exc.lineno))
        return info
    except OSError as exc:  # lxml reports undecodable bytes this way
        info.problems.append((tr("{file} cannot be read as XML: {error}", file=file, error=str(exc)), None))
        return info
    info.parsed = True
    dataset = _child(root, "dataset")
    dos = _child(dataset, "dataObjects") if dataset is not None else None
    top = _child(dos, "dataObject") if dos is not None else None
    if top is None:
        info.problems.append((tr("{file} has no dataset/dataObjects/dataObject", file=file), root.sourceline))
        return info
    ctx = None
    ref = _child(dataset, "reference")
    if ref is not None:
        ctx = ref
    if ctx is not None:
        for ae in ctx.iter("{*}additionalElement"):
            name = ae.get("name")
            if name == "systemType":
                info.system_type = _value(ae)
            elif name == "systemName":
                info.system_name = _value(ae)
            elif name == "archive":
                info.arkiv = _value(ae)
            elif name == "recordCreator":
                creator = _value(ae)
                if creator:
                    info.arkivskapere.append(creator)
        for p in ctx.iter("{*}property"):
            if p.get("name") == "startDate":
                info.start = _value(p)
            elif p.get("name") == "endDate":
                info.end = _value(p)
    inf = _prop(top, "info")
    if inf is None:
        info.problems.append((tr("{file}: the first dataObject has no 'info' property", file=file), top.sourceline))
    else:
        typ = _prop(inf, "type")
        if typ is not None:
            info.version = _value(_prop(typ, "version"))
        add = _prop(inf, "additionalInfo")
        if add is not None:
            periode = _prop(add, "periode")
            if periode is not None:
                for p in _props(periode):
                    info.periode[p.get("name")] = _value(p) or ""
            for p in _props(add):
                n = p.get("name")
                if n == "antallDokumentfiler":
                    info.antall_dokumentfiler = _value(p)
                elif n != "periode":
                    info.flags[n] = _value(p) or ""
    sub = _child(top, "dataObjects")
    for d in (_children(sub, "dataObject") if sub is not None else []):
        fp = _prop(d, "file")
        obj = DataObject(name=d.get("name") or "", file=_file_entry(fp) if fp is not None else None)
        for sp in _props(d, "schema"):
            sfp = _prop(sp, "file")
            if sfp is not None:
                obj.schemas.append(_file_entry(sfp))
        dinfo = _prop(d, "info")
        if dinfo is not None:
            for occ in _props(dinfo, "numberOfOccurrences"):
                what = _value(occ)
                raw = _value(_prop(occ, "value"))
                try:
                    obj.occurrences[what] = int(raw) if raw is not None else None
                except ValueError:
                    obj.occurrences[what] = None
        info.objects.append(obj)
    return info
