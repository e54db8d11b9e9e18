"""Deposit packages: Arkivverket DIAS SIP/AIP, BagIt, and the depot's ``verify``.

Library API (never prints, never exits; errors are :class:`PackagingError`)::

    from noarkpack.packaging import PackageMetadata, build_package, verify

    meta = PackageMetadata.from_toml(project.config)      # the [package] table
    meta.check()
    result = build_package(extract_dir, out_dir, profile="arkivverket-sip", metadata=meta)
    report = verify(result.tar)                            # or the bag folder
    report.ok, report.findings, report.to_json()

See docs/packaging.md for the layout, the metadata keys and the PK.* finding ids.
"""

from .bagit import decode_path, encode_path, verify_bag, write_bag_tags
from .dias import PROFILES, PackageResult, build_package
from .errors import PackageMetadataError, PackagingError
from .findings import Finding, VerifyReport
from .metadata import Entity, PackageMetadata, System, metadata_template
from .verify import verify, verify_package

__all__ = [
    "PROFILES",
    "Entity",
    "Finding",
    "PackageMetadata",
    "PackageMetadataError",
    "PackageResult",
    "PackagingError",
    "System",
    "VerifyReport",
    "build_package",
    "decode_path",
    "encode_path",
    "metadata_template",
    "verify",
    "verify_bag",
    "verify_package",
    "write_bag_tags",
]
