"""NP.09: the virksomhetsspesifikke schema documents every element (Noark 5 krav 6.4.35), and noarkpack's does."""

from __future__ import annotations

import re
import shutil

from lxml import etree

from noarkpack.model.mapping import EPJ_SCHEMA_FILE
from noarkpack.resources import schemas_dir
from noarkpack.validation import validate
from noarkpack.validation.vsm_docs import undocumented

from .test_validation import valid_extract  # noqa: F401  (the small extract written by noarkpack)


def test_our_schema_documents_every_element_and_uses_no_codes():
    root = etree.parse(str(schemas_dir() / EPJ_SCHEMA_FILE)).getroot()
    assert undocumented(root) == []
    # Noark 5 vedlegg 2: self-explaining text, not code values
    kjonn = root.find(".//{http://www.w3.org/2001/XMLSchema}simpleType[@name='kjonn']")
    values = [e.get("value") for e in kjonn.iter("{http://www.w3.org/2001/XMLSchema}enumeration")]
    assert values == ["mann", "kvinne", "ukjent"]


def test_extract_passes_np09_and_carries_text_not_codes(valid_extract, schema_store):  # noqa: F811
    report = validate(valid_extract, store=schema_store, tests={"NP.09"})
    assert report.status("NP.09") == "passed"
    assert [f.message for f in report.findings] == [f"{EPJ_SCHEMA_FILE}: every element is documented"]
    text = (valid_extract / "arkivstruktur.xml").read_text(encoding="utf-8")
    assert "<epj:kjonn>kvinne</epj:kjonn>" in text and "<epj:kjonn>K<" not in text
    # the arkivskaper's real identifier (its arkivskaperID), not the project's key
    assert re.findall(r"<epj:arkivskaper>([^<]*)<", text) == ["974123456", "974123456"]


def test_undocumented_element_is_np09(valid_extract, tmp_path, schema_store):  # noqa: F811
    extract = tmp_path / "avleveringspakke"
    shutil.copytree(valid_extract, extract)
    xsd = extract / EPJ_SCHEMA_FILE
    text = xsd.read_text(encoding="utf-8")
    block = re.search(r'(<xs:element name="journalsted" type="ikkeTom">)\s*<xs:annotation>.*?</xs:annotation>\s*',
                      text, re.S)
    xsd.write_text(text[: block.start()] + block.group(1) + text[block.end():], encoding="utf-8")
    line = next(n for n, row in enumerate(xsd.read_text(encoding="utf-8").splitlines(), 1)
                if 'name="journalsted"' in row)
    report = validate(extract, store=schema_store, tests={"NP.09"})
    (w,) = [f for f in report.findings if f.severity == "warning"]
    assert "journalsted" in w.message and w.location["file"] == EPJ_SCHEMA_FILE and w.location["line"] == line
    assert report.status("NP.09") == "passed with warnings"


def test_documentation_on_a_shared_named_type_does_not_count():
    xs = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    root = etree.fromstring(
        f'<xs:schema {xs}><xs:simpleType name="t"><xs:annotation><xs:documentation>a code</xs:documentation>'
        '</xs:annotation><xs:restriction base="xs:string"/></xs:simpleType>'
        '<xs:element name="typed" type="t"/><xs:element name="bare" type="xs:string"/>'
        '<xs:element name="blank"><xs:annotation><xs:documentation> </xs:documentation></xs:annotation>'
        "</xs:element></xs:schema>")
    assert [name for name, _ in undocumented(root)] == ["typed", "bare", "blank"]
    own = etree.fromstring(f'<xs:schema {xs}><xs:element name="e"><xs:complexType><xs:annotation><xs:documentation>'
                           'what it holds</xs:documentation></xs:annotation></xs:complexType></xs:element></xs:schema>')
    assert undocumented(own) == []
