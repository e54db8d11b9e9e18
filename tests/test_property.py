"""Property: any journal set the model accepts yields a schema-valid extract."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from noarkpack import ExtractWriter
from noarkpack.errors import ModelError
from noarkpack.model.epj import (
    JOURNALPOSTTYPER,
    KORRESPONDANSEPARTTYPER,
    Dokumentfil,
    Endring,
    InnslagSkjerming,
    Journalinnslag,
    Korrespondanse,
    Korrespondansepart,
    Merknad,
    Pasient,
    Pasientjournal,
)
from noarkpack.schemas import default_store

from . import builders

OSLO = ZoneInfo("Europe/Oslo")
# Any text, including XML specials, æøå, emoji and the C0 controls XML cannot carry.
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
base = datetime(2005, 1, 1, 8, tzinfo=OSLO)
offsets = st.integers(min_value=0, max_value=5000)


@st.composite
def entry(draw, jid: str, n: int, opened: datetime, closed: datetime):
    start = opened + timedelta(hours=draw(st.integers(0, int((closed - opened).total_seconds() // 3600))))
    korr = None
    if draw(st.booleans()):
        korr = Korrespondanse(type=draw(st.sampled_from(JOURNALPOSTTYPER)), dato=start.date(),
                              parter=[Korrespondansepart(draw(st.sampled_from(KORRESPONDANSEPARTTYPER)), draw(text))
                                      for _ in range(draw(st.integers(1, 2)))])
    skj = None
    if draw(st.booleans()):
        skj = InnslagSkjerming("Unntatt offentlighet", draw(text),
                               draw(st.lists(st.sampled_from(["Skjerming tittel registrering - utvalgte ord",
                                                              "Skjerming navn avsender", "Midlertidig skjerming"]),
                                             min_size=1, max_size=2, unique=True)))
    docs = [Dokumentfil(fil=f"{jid}/{n}-{k}.txt", tittel=draw(text)) for k in range(draw(st.integers(0, 2)))]
    endringer = [Endring("tittel", draw(text), draw(text), start + timedelta(days=1), draw(text))
                 for _ in range(draw(st.integers(0, 1)))]
    return Journalinnslag(innslag_id=f"{jid}-{n}", type=draw(st.sampled_from(["notat", "brev", "vedtak", "x"])),
                          tittel=draw(text), forfatter=draw(text), opprettet=start,
                          arkivert=start + timedelta(minutes=draw(st.integers(0, 600))), arkivert_av=draw(text),
                          skjerming=skj, korrespondanse=korr, dokumenter=docs, endringer=endringer)


@st.composite
def journal_sets(draw):
    journals = []
    for p in range(draw(st.integers(1, 3))):
        pasient = Pasient(pasient_id=f"P{p}", navn=draw(text), kjonn=draw(st.sampled_from("MKU")),
                          fodselsnummer=draw(st.sampled_from([None, builders.fnr(1 + p, 5, 40)])),
                          fodselsdato=datetime(1940, 5, 1 + p).date())
        for j in range(draw(st.integers(1, 2))):
            jid = f"J{p}-{j}"
            opened = base + timedelta(days=draw(offsets))
            closed = opened + timedelta(days=draw(st.integers(1, 2000)))
            entries = [draw(entry(jid, n, opened, closed)) for n in range(draw(st.integers(0, 4)))]
            merk = [Merknad(draw(text), closed, draw(text)) for _ in range(draw(st.integers(0, 1)))]
            journals.append(Pasientjournal(
                journal_id=jid, arkivskaper=draw(st.sampled_from(["helse", "legevakt"])), journalsted=draw(text),
                journalansvarlig=draw(text), opprettet=opened, opprettet_av=draw(text), avsluttet=closed,
                avsluttet_av=draw(text), pasient=pasient, innslag=entries, merknader=merk))
    return journals


def _schemas():
    store = default_store()
    d = store.set_dir("noark5-v5.0")
    return {n: etree.XMLSchema(etree.parse(str(d / f"{n}.xsd")))
            for n in ("arkivstruktur", "endringslogg", "loependeJournal", "offentligJournal")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journal_sets())
def test_accepted_journals_give_a_valid_extract(journals):
    for j in journals:
        try:
            j.check()
        except ModelError:
            assume(False)
    schemas = _schemas()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        docs = tmp / "docs"
        for j in journals:
            for i in j.innslag:
                for d in i.dokumenter:
                    p = docs / d.fil
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_text(f"Notat {d.fil}\n", encoding="utf-8")
        with ExtractWriter(tmp / "out", builders.settings(docs)) as w:
            for j in journals:
                w.add(j)
        pkg = tmp / "out" / "avleveringspakke"
        for name, schema in schemas.items():
            if (pkg / f"{name}.xml").exists():
                doc = etree.parse(str(pkg / f"{name}.xml"))
                assert schema.validate(doc), f"{name}: {schema.error_log.last_error}"
        assert w.result.registrering == sum(len(j.innslag) for j in journals)


# ---------------------------------------------------------------------------------- parse_date


def _reference_date(value: str):
    """What Arkade's TryParseValidXmlDate accepts, written out plainly (parse_date caches per day)."""
    import re
    from datetime import date

    m = re.fullmatch(r"\s*(-?\d{4,})-(\d\d)-(\d\d)(T\d\d:\d\d:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?\s*", value)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


_day_parts = st.tuples(st.sampled_from(["2019", "1999", "0000", "-2019", "20190", "219"]),
                       st.sampled_from(["01", "02", "12", "13", "00"]), st.sampled_from(["01", "28", "29", "30", "31", "32"]))
_time_parts = st.sampled_from(["", "T08:10:00", "T08:10:00.5", "T8:10:00", "T08:10"])
_zones = st.sampled_from(["", "Z", "+02:00", "-01:00", "+2:00"])
_pads = st.sampled_from(["", " ", "\t", "\n"])


@settings(max_examples=300, deadline=None)
@given(_pads, _day_parts, _time_parts, _zones, _pads, st.text(max_size=3))
def test_parse_date_agrees_with_the_plain_rule_every_time(lead, day, time, zone, trail, noise):
    from noarkpack.validation.content import parse_date

    for value in (f"{lead}{day[0]}-{day[1]}-{day[2]}{time}{zone}{trail}", noise + f"{day[0]}-{day[1]}-{day[2]}"):
        expected = _reference_date(value)
        assert parse_date(value) == expected  # first time: computed
        assert parse_date(value) == expected  # again: from the per-day cache
