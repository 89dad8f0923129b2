"""Numbers derived from temperature and humidity that say how well a room preserves paper.

- **Dew point** (Magnus formula, a = 17.625, b = 243.04 °C): below it, surfaces get wet. At
  20 °C and 50 % RH it is 9.26 °C.
- **Preservation Index** (Image Permanence Institute): the years until natural (acid
  hydrolysis) decay of paper becomes noticeable if the climate stayed as it is now,
  PI = exp((95220 - 134.9 RH) / (8.314 T_K) + 0.0284 RH - 28.023) / 365. At 20 °C/50 % it is
  44.6 years, at 20 °C/70 % 26.0, at 27.5 °C/74 % under 10.
- **Time-Weighted Preservation Index**: decay adds up, so the fair average of PI over a period
  is harmonic, TWPI = N / sum(1/PI_i) over equally spaced readings. Readings here are not
  always equally spaced (sensors go down, rooms average several sensors), so each reading
  weighs the time until the next one, capped so an outage does not count as climate.
  Ratings: >= 75 good, 45-75 ok, < 45 at risk.
- **Mould risk**: none below 65 % RH, nor below 2 °C or above 45 °C; otherwise the hours are
  counted.

Windows of 24 h and 30 days are kept in fixed rings of buckets (5 min and 1 h), so memory does
not grow with uptime or polling rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

MAGNUS_A = 17.625
MAGNUS_B_C = 243.04
MOULD_RH_PCT = 65.0
MOULD_T_MIN_C = 2.0
MOULD_T_MAX_C = 45.0
Rating = Literal["good", "ok", "risk"]


def dew_point_c(temperature_c: float, humidity_pct: float) -> float | None:
    """Dew point in °C (Magnus); None at 0 % RH, where there is none."""
    if humidity_pct <= 0:
        return None
    alpha = math.log(min(humidity_pct, 100.0)) - math.log(100.0)
    alpha += MAGNUS_A * temperature_c / (MAGNUS_B_C + temperature_c)
    return MAGNUS_B_C * alpha / (MAGNUS_A - alpha)


def preservation_index(temperature_c: float, humidity_pct: float) -> float:
    """Preservation Index in years (IPI's Arrhenius model of acid hydrolysis of paper)."""
    t_k = temperature_c + 273.15
    exponent = (95220.0 - 134.9 * humidity_pct) / (8.314 * t_k) + 0.0284 * humidity_pct - 28.023
    return math.exp(min(exponent, 700.0)) / 365.0


def rating(pi_years: float) -> Rating:
    if pi_years >= 75.0:
        return "good"
    if pi_years >= 45.0:
        return "ok"
    return "risk"


def mould_risk(temperature_c: float, humidity_pct: float) -> bool:
    return humidity_pct >= MOULD_RH_PCT and MOULD_T_MIN_C <= temperature_c <= MOULD_T_MAX_C


class _Ring:
    """Fixed buckets of (seconds, seconds / PI, seconds at mould risk) over a window."""

    def __init__(self, bucket_s: float, buckets: int) -> None:
        self.bucket_s = bucket_s
        self.n = buckets
        self.ids = [-1] * buckets
        self.weight = [0.0] * buckets
        self.inverse = [0.0] * buckets
        self.mould = [0.0] * buckets

    def add(self, t: float, seconds: float, inverse_pi_s: float, mould_s: float) -> None:
        bucket = int(t // self.bucket_s)
        slot = bucket % self.n
        if self.ids[slot] != bucket:
            if self.ids[slot] > bucket:
                return
            self.ids[slot] = bucket
            self.weight[slot] = self.inverse[slot] = self.mould[slot] = 0.0
        self.weight[slot] += seconds
        self.inverse[slot] += inverse_pi_s
        self.mould[slot] += mould_s

    def totals(self, t: float) -> tuple[float, float, float]:
        last = int(t // self.bucket_s)
        first = last - self.n + 1
        weight = inverse = mould = 0.0
        for i, ident in enumerate(self.ids):
            if first <= ident <= last:
                weight += self.weight[i]
                inverse += self.inverse[i]
                mould += self.mould[i]
        return weight, inverse, mould


@dataclass(frozen=True, slots=True)
class Preservation:
    """Preservation figures of one sensor or room at one moment."""

    pi_years: float | None
    """PI of the latest reading."""
    twpi_24h_years: float | None
    twpi_30d_years: float | None
    rating: Rating | None
    """Rating of the 30-day TWPI (of whatever part of the 30 days has been seen)."""
    mould_risk: bool
    mould_hours_24h: float
    mould_hours_30d: float
    mould_hours_total: float


class PreservationTracker:
    """Time-weighted PI and mould-risk hours of one series of readings."""

    def __init__(self, *, max_gap_s: float = 900.0) -> None:
        self._max_gap_s = max_gap_s
        self._day = _Ring(300.0, 288)
        self._month = _Ring(3600.0, 720)
        self._last: tuple[float, float, bool] | None = None  # (t, PI, mould risk)
        self._mould_total_s = 0.0

    def add(self, t: float, temperature_c: float, humidity_pct: float) -> None:
        pi = preservation_index(temperature_c, humidity_pct)
        risk = mould_risk(temperature_c, humidity_pct)
        if self._last is not None:
            t_prev, pi_prev, risk_prev = self._last
            if t < t_prev:
                return  # out of order: ignore rather than count time twice
            seconds = min(t - t_prev, self._max_gap_s)
            if seconds > 0:
                inverse = seconds / pi_prev if pi_prev > 0 else 0.0
                mould = seconds if risk_prev else 0.0
                self._day.add(t_prev, seconds, inverse, mould)
                self._month.add(t_prev, seconds, inverse, mould)
                self._mould_total_s += mould
        self._last = (t, pi, risk)

    def twpi(self, t: float, window: Literal["24h", "30d"]) -> float | None:
        ring = self._day if window == "24h" else self._month
        weight, inverse, _ = ring.totals(t)
        if weight <= 0 or inverse <= 0:
            return None
        return weight / inverse

    def snapshot(self, t: float) -> Preservation:
        day_w, day_inv, day_mould = self._day.totals(t)
        month_w, month_inv, month_mould = self._month.totals(t)
        twpi_day = day_w / day_inv if day_w > 0 and day_inv > 0 else None
        twpi_month = month_w / month_inv if month_w > 0 and month_inv > 0 else None
        return Preservation(
            pi_years=None if self._last is None else self._last[1],
            twpi_24h_years=twpi_day,
            twpi_30d_years=twpi_month,
            rating=None if twpi_month is None else rating(twpi_month),
            mould_risk=False if self._last is None else self._last[2],
            mould_hours_24h=day_mould / 3600.0,
            mould_hours_30d=month_mould / 3600.0,
            mould_hours_total=self._mould_total_s / 3600.0,
        )
