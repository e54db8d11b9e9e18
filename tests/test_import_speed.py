"""Speed-ups of the import's per-row work that must not change a value (issue 18's import figure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from noarkpack.sources.mapping import local_iso


def test_local_iso_is_isoformat_of_the_zoned_time_around_every_transition():
    # Oslo's DST changes (the ambiguous and the missing hour, both folds), a half-hour zone, and local mean times
    # whose offsets have seconds (Amsterdam 1900: +00:19:32)
    for name in ("Europe/Oslo", "America/St_Johns", "Europe/Amsterdam", "Asia/Kolkata", "UTC"):
        tz = ZoneInfo(name)
        for start in (datetime(1890, 1, 1), datetime(1937, 6, 30), datetime(2023, 3, 26), datetime(2023, 10, 29)):
            t = start - timedelta(hours=3)
            for step in range(0, 6 * 60, 7):
                for fold in (0, 1):
                    v = (t + timedelta(minutes=step, microseconds=step)).replace(fold=fold)
                    assert local_iso(v, tz) == v.replace(tzinfo=tz).isoformat()
    v = datetime(2020, 5, 1, 12)
    assert local_iso(v, None) == "2020-05-01T12:00:00"
    assert local_iso(v, timezone(timedelta(hours=-3))) == "2020-05-01T12:00:00-03:00"
