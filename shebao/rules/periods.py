"""The fee period (费款所属期): a calendar month a contribution belongs to.

STYLE "Time": a fee period is its own YYYYMM type, never a datetime, so that
no time zone or day-of-month can creep into a rule about months.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_TEXT = re.compile(r"(\d{4})-?(\d{2})")


@dataclass(frozen=True, order=True, slots=True)
class FeePeriod:
    """One month, e.g. ``FeePeriod(2026, 2)``; ``str()`` gives "2026-02",
    ``.yyyymm`` gives "202602" (the form the core system speaks). Ordered by
    (year, month)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        for name in ("year", "month"):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"FeePeriod.{name} 必须是整数，收到 {type(value).__name__}")
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"所属期年份 {self.year} 不在 1000–9999 之间")
        if not 1 <= self.month <= 12:
            raise ValueError(f"所属期月份 {self.month} 不在 1–12 之间")

    @classmethod
    def parse(cls, text: str) -> FeePeriod:
        """ "202602" or "2026-02" → FeePeriod(2026, 2); anything else is a ValueError."""
        if not isinstance(text, str):
            raise TypeError(f"所属期应为字符串，收到 {type(text).__name__}")
        match = _TEXT.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"所属期格式应为 YYYYMM 或 YYYY-MM：{text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> FeePeriod:
        """The period a date falls in (a datetime is refused: take its local date first)."""
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError("FeePeriod.of 需要 date（请先换算为上海本地日期）")
        return cls(day.year, day.month)

    @classmethod
    def range(cls, start: FeePeriod, end: FeePeriod) -> tuple[FeePeriod, ...]:
        """All periods from ``start`` to ``end`` inclusive; ValueError if start > end."""
        if start > end:
            raise ValueError(f"起始所属期 {start} 晚于终止所属期 {end}")
        periods = [start]
        while periods[-1] < end:
            periods.append(periods[-1].next())
        return tuple(periods)

    @property
    def yyyymm(self) -> str:
        return f"{self.year:04d}{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def next(self) -> FeePeriod:
        if self.month == 12:
            return FeePeriod(self.year + 1, 1)
        return FeePeriod(self.year, self.month + 1)

    def previous(self) -> FeePeriod:
        if self.month == 1:
            return FeePeriod(self.year - 1, 12)
        return FeePeriod(self.year, self.month - 1)

    def label(self) -> str:
        """Chinese label for messages: "2021年2月"."""
        return f"{self.year}年{self.month}月"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
