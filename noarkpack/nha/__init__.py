"""Norsk helsearkiv (NHA): the EPJARK deposit of hospital journals, built and verified.

    from noarkpack.nha import NhaMetadata, build_deposit, run_nha_package, verify_deposit

See docs/nha.md for the deposit layout, the ``[nha]`` keys of noarkpack.toml,
the mapping from the record model and the NHA.* checks.
"""

from .build import (
    Excluded,
    NhaError,
    NhaResult,
    avlxml_file_name,
    build_deposit,
    check_person_number,
    deposit_folder_name,
    run_nha_package,
)
from .findings import Finding
from .metadata import NhaMetadata
from .verify import is_nha_deposit, verify_deposit
from .xml import Package

__all__ = [
    "Excluded",
    "Finding",
    "NhaError",
    "NhaMetadata",
    "NhaResult",
    "Package",
    "avlxml_file_name",
    "build_deposit",
    "check_person_number",
    "deposit_folder_name",
    "is_nha_deposit",
    "run_nha_package",
    "verify_deposit",
]
