"""N5.03's schemas: which XSD files validate each unit of an extract (validation side; the store of official
schemas is noarkpack.schemas).  The shipped schemas the ADDML documents are used, with any
virksomhetsspesifikke ones listed beside them; else the store's official set, reported as an error, as
Arkade does.  A mixin of engine._Run."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

TESTS = ("N5.03",)

#: schema set in the store for each Noark 5 version
SCHEMA_SETS = {"3.1": "noark5-v3.1", "4.0": "noark5-v4.0", "5.0": "noark5-v5.0"}


class SchemaResolution:
    """The run provides src, r, addml, version, store and _tmp(); compiled schemas are cached per run."""

    def _store(self):
        if self.store is None:
            from ..schemas import default_store

            self.store = default_store()
        return self.store

    def schema_set(self) -> str:
        return SCHEMA_SETS.get(self.version, "noark5-v5.0")

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
                r.add("N5.03", "error", f"{xml_name} cannot be validated: {main} is not documented in the ADDML "
                                        f"or missing, and the official schema is not available ({exc})", file=xml_name)
                return None
            files.append(store_dir / main)
            r.add("N5.03", "error", f"schema {main} is not correctly documented in the ADDML or missing from the extract; "
                                    f"the installed official {set_name} version was used", file=xml_name)
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
            r.add("N5.03", "error", f"the schemas for {xml_name} cannot be read: {exc}", file=xml_name)
        self._schema_cache[key] = schema
        return schema
