"""Errors of the packaging stage (all are :class:`noarkpack.errors.NoarkpackError`)."""

from __future__ import annotations

from ..errors import NoarkpackError


class PackagingError(NoarkpackError):
    """A package cannot be built, or a path cannot be verified at all."""


class PackageMetadataError(PackagingError):
    """The package metadata ([package] in noarkpack.toml) is missing or invalid."""
