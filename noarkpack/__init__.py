"""noarkpack: closed patient journals of retired health systems to archival deposits.

The library API a migration script uses::

    from noarkpack import ExtractWriter, load_project
"""

__version__ = "0.1.0"

from .errors import NoarkpackError  # noqa: E402
from .noark5.settings import ArkivskaperInfo, ExtractSettings  # noqa: E402
from .noark5.writer import ExtractResult, ExtractWriter, write_extract  # noqa: E402
from .project import Project, load_project  # noqa: E402

__all__ = [
    "ArkivskaperInfo",
    "ExtractResult",
    "ExtractSettings",
    "ExtractWriter",
    "NoarkpackError",
    "Project",
    "load_project",
    "write_extract",
]
