"""noarkpack: closed patient journals of retired health systems to archival deposits.

The library API a migration script uses::

    from noarkpack import ExtractWriter, load_project
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_names
from ._version import __version__

# The names below load on first use (PEP 562): `import noarkpack.validation` (the CLI's validate,
# the parallel validation child) then does not pay ~0.1 s for the extract writer it never runs.
_EXPORTS = {
    "ArkivskaperInfo": ".noark5.settings",
    "ExtractResult": ".noark5.writer",
    "ExtractSettings": ".noark5.settings",
    "ExtractWriter": ".noark5.writer",
    "NoarkpackError": ".errors",
    "Numbering": ".noark5.numbering",
    "Project": ".project",
    "load_project": ".project",
    "write_extract": ".noark5.writer",
}

__all__ = sorted(_EXPORTS)  # and __version__

if TYPE_CHECKING:  # pragma: no cover
    from .errors import NoarkpackError
    from .noark5.numbering import Numbering
    from .noark5.settings import ArkivskaperInfo, ExtractSettings
    from .noark5.writer import ExtractResult, ExtractWriter, write_extract
    from .project import Project, load_project


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)
