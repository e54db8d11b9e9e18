"""N5.03's schemas: which XSD files validate each unit of an extract (validation side; the store of official
schemas is noarkpack.schemas).  The shipped schemas the ADDML documents are used, with any
virksomhetsspesifikke ones listed beside them; else the store's official set, reported as an error, as
Arkade does.  A mixin of engine._Run.

Which official set: the one of the ADDML's Noark 5 version (``info/type/version``).  A version with no set of
its own is read as the series it belongs to (:func:`schema_set_for`): "5.5" / "5.5.0" (the 2023 maintenance
release of v5.0, whose schemas are published as N5/v5.0) and any other 5.x use noark5-v5.0; 4.x uses v4.0;
3.x and older use v3.1 (the oldest Noark 5 version with official extract schemas).  Only what is not a Noark
5 version at all falls back on v5.0, as Arkade does for every unsupported version (ArkadeConstants
LatestNoark5Version).  docs/validation.md, "Which schemas N5.03 uses", compares each case with Arkade.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ..locale import tr

TESTS = ("N5.03",)

#: schema set in the store for each Noark 5 version
SCHEMA_SETS = {"3.1": "noark5-v3.1", "4.0": "noark5-v4.0", "5.0": "noark5-v5.0"}
#: the set for each major version (the series a version without a set of its own belongs to)
_SERIES = {1: "3.1", 2: "3.1", 3: "3.1", 4: "4.0", 5: "5.0"}
_VERSION = re.compile(r"(\d+)(?:\.(\d+))*")
_NOARK5 = re.compile(r"^\s*noark\s*-?\s*5\b[\s,:-]*", re.I)


def schema_set_for(version: str | None) -> tuple[str, str | None, str]:
    """The Noark 5 version whose official set validates an extract of ``version``, why, and how sure.

    Returns ``(base, note, severity)``: ``("5.0", None, "")`` for "5.0" (a set of its own); ``("5.0", "…", "info")``
    for "5.5.0" and ``("4.0", "…", "info")`` for "v4.0.1" (the series the version belongs to); ``("5.0", "…",
    "warning")`` for "", "x" or "9.0" (no Noark 5 version: the fallback).
    """
    v = (version or "").strip()
    if v in SCHEMA_SETS:
        return v, None, ""
    m = _VERSION.search(_NOARK5.sub("", v).lstrip("vV "))
    major = int(m.group(1)) if m else None
    if major in _SERIES:
        base = _SERIES[major]
        if major < 3:
            return base, tr("Noark 5 version {version!r} in the ADDML is older than the first official extract "
                            "schemas (v3.1); the v3.1 schemas are used where the extract ships none", version=v), "warning"
        return base, tr("Noark 5 version {version!r} in the ADDML has no schema set of its own; it belongs to "
                        "v{base}, whose official schemas are used where the extract ships none", version=v,
                        base=base), "info"
    if v:
        return "5.0", tr("Noark 5 version {version!r} in the ADDML is not a Noark 5 version (3.1, 4.0, 5.0 or one of "
                         "their series): the v5.0 schemas are used where the extract ships none", version=v), "warning"
    return "5.0", tr("the ADDML names no Noark 5 version (3.1, 4.0, 5.0 or one of their series): the v5.0 schemas "
                     "are used where the extract ships none"), "warning"


class SchemaResolution:
    """The run provides src, r, addml, version, store and _tmp(); compiled schemas are cached per run."""

    def _store(self):
        if self.store is None:
            from ..schemas import default_store

            self.store = default_store()
        return self.store

    def schema_set(self) -> str:
        return SCHEMA_SETS[schema_set_for(self.version)[0]]

    def note_schema_set(self) -> None:
        """Say once (N5.03) which official set stands in for a version without one of its own: an info for a
        version of a known series (a 5.5.0 extract is a v5.0 extract), else a warning."""
        _base, note, severity = schema_set_for(self.version)
        if note is not None:
            self.r.add("N5.03", severity, note, file=self.addml_name)

    def schema_for(self, unit: str, xml_name: str) -> etree.XMLSchema | None:
        """The schema to validate ``unit`` with: the shipped ones, else the store's (reported, once)."""
        key = (unit, xml_name)
        if key not in self._schema_for:
            self._schema_for[key] = self._find_schema(unit, xml_name)
        return self._schema_for[key]

    def _find_schema(self, unit: str, xml_name: str) -> etree.XMLSchema | None:
        r = self.r
        main = "addml.xsd" if unit == "addml" else f"{unit}.xsd"
        obj = self.addml.object(unit) if unit != "addml" else None
        listed = [s.name for s in (obj.schemas if obj else []) if s.name]
        files: list[Path] = []
        shipped_dir = None
        needed = [main] + (["metadatakatalog.xsd"] if unit != "addml" else [])
        documented = unit == "addml" or main in listed
        if documented and self.src.exists(main):
            shipped_dir = self.src.local_copy(sorted(set(listed + needed)))
            files.append(shipped_dir / main)
        else:
            set_name = "addml-8.3" if unit == "addml" else self.schema_set()
            try:
                store_dir = self._store().set_dir(set_name)
            except Exception as exc:  # noqa: BLE001 - SchemaStoreError and I/O errors become findings
                r.add("N5.03", "error", tr("{file} cannot be validated: {schema} is not documented in the ADDML or "
                                           "missing, and the official schema is not available ({error})",
                                           file=xml_name, schema=main, error=str(exc)), file=xml_name)
                return None
            files.append(store_dir / main)
            r.add("N5.03", "error", tr("schema {schema} is not correctly documented in the ADDML or missing from the "
                                       "extract; the installed official {set} version was used", schema=main,
                                       set=set_name), file=xml_name)
        # virksomhetsspesifikke (and any other) schemas listed for this unit
        for extra in listed:
            if extra in needed:
                continue
            if self.src.exists(extra):
                d = shipped_dir or self.src.local_copy(sorted(set(listed + needed)))
                files.append(d / extra)
        key = tuple(str(f) for f in files)
        if key in self._schema_cache:
            return self._schema_cache[key]
        schema = None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            if len(files) == 1:
                schema = etree.XMLSchema(etree.parse(str(files[0]), parser))
                xsd_file = files[0]
            else:
                imports = []
                for f in files:
                    tns = etree.parse(str(f), parser).getroot().get("targetNamespace") or ""
                    imports.append(f'<xs:import namespace="{tns}" schemaLocation="{f.resolve().as_uri()}"/>')
                wrapper = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(imports)
                           + "</xs:schema>")
                schema = etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=(files[0].parent.resolve() / "noarkpack-wrapper.xsd").as_uri()))
                xsd_file = self._tmp() / f"wrapper-{len(self._schema_cache)}.xsd"
                xsd_file.write_text(wrapper, encoding="utf-8")
            self._schema_files[id(schema)] = xsd_file
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
            r.add("N5.03", "error", tr("the schemas for {file} cannot be read: {error}", file=xml_name, error=str(exc)),
                  file=xml_name)
        self._schema_cache[key] = schema
        return schema
