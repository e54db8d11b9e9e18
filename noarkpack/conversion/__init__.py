"""Conversion of documents that are not in an archival format to PDF/A-2b (issues 7 and 19).

* :mod:`.tools` — LibreOffice and Ghostscript: versions, export filters, one file per process;
* :mod:`.cache` — converted files keyed by the source's SHA-256, each with its ``konvertering`` record;
* :mod:`.pool` — a pool of LibreOffice instances (one per core) fed batches of documents;
* :mod:`.jobs` — many conversions at once: :func:`convert_all`, and ``noarkpack convert``'s
  :func:`convert_documents`;
* :mod:`.cluster` — the same on a Dask cluster (the extra ``noarkpack[cluster]``).

The extract converts ahead of its writer in the prepass child (:mod:`noarkpack.prepass`), or finds
every conversion in the cache after ``noarkpack convert``.  Each conversion has its own timeout; a
failure is reported with the file and the reason, never silently dropped.
"""

from __future__ import annotations

from .cache import (
                    CONVERTED_BY,
                    CONVERTED_BY_UNKNOWN_VERSION,
                    RATES_FILE,
                    ConversionCache,
                    ConversionFailure,
                    ConversionRecord,
)
from .jobs import ConversionReport, ConvertRun, FormatRun, convert_all, convert_documents
from .pool import BATCH_SIZE, LibreOfficePool, PoolItem
from .tools import (
                    PDF_PUIDS,
                    ConverterMissing,
                    convert_file,
                    ghostscript_version,
                    libreoffice_filter,
                    libreoffice_version,
)

__all__ = ["BATCH_SIZE", "CONVERTED_BY", "CONVERTED_BY_UNKNOWN_VERSION", "PDF_PUIDS", "RATES_FILE",
           "ConversionCache", "ConversionFailure", "ConversionRecord", "ConversionReport", "ConvertRun",
           "ConverterMissing", "FormatRun", "LibreOfficePool", "PoolItem", "convert_all", "convert_documents",
           "convert_file", "ghostscript_version", "libreoffice_filter", "libreoffice_version"]
