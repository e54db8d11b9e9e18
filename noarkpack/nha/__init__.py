"""Norsk helsearkiv (NHA): the EPJARK deposit of hospital journals, built and verified.

    from noarkpack.nha import NhaMetadata, build_deposit, run_nha_package, verify_deposit

See docs/nha.md for the deposit layout, the ``[nha]`` keys of noarkpack.toml,
the mapping from the record model and the NHA.* checks.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_names

# The names below load on first use (PEP 562): `noarkpack validate` asks is_nha_deposit() of every
# path, and should not pay for the deposit builder and the packaging code it then never runs.
_EXPORTS = {
    "Excluded": ".build",
    "NhaError": ".build",
    "NhaResult": ".build",
    "avlxml_file_name": ".build",
    "build_deposit": ".build",
    "check_person_number": ".build",
    "deposit_folder_name": ".build",
    "run_nha_package": ".build",
    "Finding": ".findings",
    "NhaReport": ".findings",
    "NhaMetadata": ".metadata",
    "is_nha_deposit": ".detect",
    "verify_deposit": ".verify",
    "Package": ".xml",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .build import (Excluded, NhaError, NhaResult, avlxml_file_name, build_deposit, check_person_number,
                        deposit_folder_name, run_nha_package)
    from .detect import is_nha_deposit
    from .findings import Finding, NhaReport
    from .metadata import NhaMetadata
    from .verify import verify_deposit
    from .xml import Package


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)
