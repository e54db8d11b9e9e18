"""How long conversions take: measured rates per source format, and the defaults when none are measured.

``noarkpack convert`` adds what it measures to ``rates.json`` in the conversion cache (seconds of one
LibreOffice or Ghostscript worker per document, per PUID); ``noarkpack analyse`` estimates the time
a project's conversions will take from them.  Where nothing was measured for a format, the defaults
below are used: they are the pool's rates measured by ``benchmarks/conversion_pool.py`` on the 2-core
development machine, shared with other work (docs/performance.md, "Conversion at scale"), rounded up.
"""

from __future__ import annotations

from .tools import PDF_PUIDS

#: seconds of one worker per document, by PUID (docs/performance.md, "Conversion at scale")
DEFAULT_SECONDS = {
    "fmt/45": 0.15, "fmt/50": 0.15, "fmt/51": 0.15, "fmt/52": 0.15, "fmt/53": 0.15, "fmt/355": 0.15,  # RTF
    "fmt/40": 0.2, "fmt/39": 0.2, "fmt/412": 0.2,  # Word 97-2003, Word 6/95, Word 2007+
    "fmt/353": 0.35, "fmt/7": 0.35, "fmt/8": 0.35, "fmt/9": 0.35, "fmt/10": 0.35,  # TIFF
    "fmt/116": 0.3, "fmt/117": 0.3, "fmt/118": 0.3, "fmt/119": 0.3, "x-fmt/270": 0.3,  # BMP
    "fmt/3": 0.3, "fmt/4": 0.3,  # GIF
}
#: a format not in the table: office documents and images alike
FALLBACK_SECONDS = 0.5
#: Ghostscript, plain PDF → PDF/A, a document of a few pages
PDF_SECONDS = 0.15


def seconds_per_document(puid: str, measured: dict[str, dict] | None = None) -> tuple[float, str]:
    """(seconds of one worker per document, "measured" | "default") for documents of ``puid``."""
    m = (measured or {}).get(puid)
    if m and m.get("documents", 0) > 0 and m.get("seconds", 0) > 0:
        return m["seconds"] / m["documents"], "measured"
    if puid in PDF_PUIDS:
        return PDF_SECONDS, "default"
    return DEFAULT_SECONDS.get(puid, FALLBACK_SECONDS), "default"


def estimate(by_format: dict[str, int], measured: dict[str, dict] | None, workers: int) -> dict:
    """The estimated wall time of converting ``{puid: documents}`` on ``workers`` workers.

    ``{"workers": n, "seconds": total, "by_format": {puid: {"documents", "seconds_per_document",
    "source", "seconds"}}}``: the work spreads evenly over the workers (the pool keeps each busy).
    """
    workers = max(1, workers)
    out: dict = {"workers": workers, "seconds": 0.0, "by_format": {}}
    for puid, n in sorted(by_format.items()):
        each, source = seconds_per_document(puid, measured)
        secs = n * each / workers
        out["by_format"][puid] = {"documents": n, "seconds_per_document": round(each, 4), "source": source,
                                  "seconds": round(secs, 1)}
        out["seconds"] += secs
    out["seconds"] = round(out["seconds"], 1)
    return out
