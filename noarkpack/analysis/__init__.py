"""The migration analysis: what is in the export, what is wrong, and what will be deposited.

:func:`analyse` reads the staging database (importing first when needed, see
:meth:`noarkpack.project.Project.staging`) and the document folder and gives an
:class:`Analysis` with counts and findings.  Each finding has a code (AN.xx,
listed in :data:`CATALOGUE` and docs/migration.md), a severity — ``blocking``
(the deposit must not be made as it is), ``warning`` or ``info`` — a location
(export file, line, record key) and a message that never holds a name, a
fødselsnummer or a document's file name.  Those appear only in the
``identifiers`` of a finding, and only with ``show_identifiers=True``.
"""

from .core import CATALOGUE, SEVERITIES, Analysis, Finding, analyse

__all__ = ["Analysis", "CATALOGUE", "Finding", "SEVERITIES", "analyse"]
