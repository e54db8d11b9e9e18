"""The content tests N5.04–N5.64 (and NP.01–NP.03, NP.06–NP.08, NP.10) in one streaming pass over arkivstruktur.xml.

:mod:`.walker` reads the pass (:class:`ContentPass`); each group of tests is a module of its own that
declares its test ids, the elements it handles, its state and its report (:class:`~.base.Group`):

* :mod:`.screening` — NP.03, NP.10 (screened values and where they are set, checked against the journals later)
* :mod:`.structure` — N5.04–N5.27: arkiv, arkivdel, classes, folders, registrations, document descriptions
* :mod:`.documents` — N5.29, N5.30, N5.32–N5.34, N5.64, NP.01: the document files
* :mod:`.counts` — N5.35–N5.46: counted elements, and the ADDML's flags
* :mod:`.identifiers` — N5.47, N5.48, N5.51: systemIDs and references
* :mod:`.persons` — NP.02: person numbers
* :mod:`.creation_order` — NP.06: numbers in creation order, journals sorted by løpenummer
* :mod:`.conversions` — NP.08: a converted file's dokumentobjekt is not older than its conversion
* :mod:`.restanser` — NP.07: incoming and internal journalposts in closed mapper are avskrevet

Where Arkade's semantics are deliberate, they are kept (same test ids, same conditions for an error).
Where they are a known bug, noarkpack differs and says so: N5.30 honours sjekksumAlgoritme; N5.29 does
not compare PRONOM PUIDs with file extensions (and warns that Arkade will); N5.17 also flags whitespace-only
types.
"""

from __future__ import annotations

from .base import AS_FILE, F_MULTI, F_ON_DISK, F_REFERENCED, Frame, Group, hash_algorithm, parse_date
from .conversions import Conversions
from .counts import Counts
from .creation_order import CreationOrder
from .documents import Documents
from .identifiers import Identifiers
from .persons import Persons
from .restanser import Restanser
from .screening import Screening
from .structure import Structure
from .walker import ContentPass

#: the groups of one pass.  Their order is that of their handlers for a shared element (screening reads
#: a registrering's values before the structure's end handler runs) and of their reports (Arkade's order).
GROUPS = (Screening, Structure, Documents, Counts, Identifiers, Persons, CreationOrder, Restanser, Conversions)
#: the catalogue ids the content pass answers for (the walker's own N5.63, then the groups')
TESTS = ContentPass.TESTS + tuple(t for g in GROUPS for t in g.TESTS)


def content_pass(report, source, addml, *, documents, doc_dir, identify=None, approved=None, progress=None,
                 mergeable: bool = False, expected_bytes: int = 0) -> ContentPass:
    """The content pass over arkivstruktur.xml with every group (validate's, and the split pass child's)."""
    return ContentPass(report, source, addml, groups=GROUPS, documents=documents, doc_dir=doc_dir,
                       identify=identify, approved=approved, progress=progress, mergeable=mergeable,
                       expected_bytes=expected_bytes)


__all__ = ["ContentPass", "Frame", "Group", "GROUPS", "TESTS", "content_pass", "parse_date", "hash_algorithm", "AS_FILE",
           "F_ON_DISK", "F_REFERENCED", "F_MULTI"]
