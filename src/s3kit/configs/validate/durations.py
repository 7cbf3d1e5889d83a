"""The two duration syntaxes the monitoring tools read, parsed exactly as they parse them.

- Prometheus' `model.ParseDuration` (prometheus/common; Prometheus, Alertmanager and many Loki
  settings): whole numbers with the units y w d h m s ms, each at most once and in that order
  (`1h30m`, `90s`, `1w`); `0` alone needs no unit; no fractions, no signs.
- Go's `time.ParseDuration` (OpenTelemetry Collector, and Loki's `time.Duration` settings): an
  optional sign, then numbers with optional fractions and units ns us µs ms s m h, in any order
  (`1.5h`, `300ms`, `1h-` is not one).

Both return whole nanoseconds, the unit Go keeps them in, and raise ValueError with the message
the Go code gives, so a finding reads the same as the tool's own. Sizes such as Prometheus'
`body_size_limit` (alecthomas/units' ParseBase2Bytes: `10MB`, `1.5MiB`, never a bare `10`) are
read by the same scanner as Go durations, so they are here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["parse_base2_bytes", "parse_go_duration", "parse_prometheus_duration"]

_MAX_INT64 = (1 << 63) - 1
_MS = 1_000_000  # nanoseconds in a millisecond

_PROMETHEUS_RE = re.compile(
    r"^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?"
    r"(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$",
    re.ASCII,
)
# Milliseconds per unit, in the regex's group order.
_PROMETHEUS_UNITS = (
    1000 * 60 * 60 * 24 * 365,
    1000 * 60 * 60 * 24 * 7,
    1000 * 60 * 60 * 24,
    1000 * 60 * 60,
    1000 * 60,
    1000,
    1,
)

_GO_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 60 * 60 * 1_000_000_000,
}


def parse_prometheus_duration(text: str) -> int:
    """Nanoseconds in `text` read as prometheus/common's model.ParseDuration reads it."""
    if text == "0":
        return 0
    if text == "":
        raise ValueError("empty duration string")
    match = _PROMETHEUS_RE.match(text)
    if match is None:
        raise ValueError(f'not a valid duration string: "{text}"')
    total = 0
    overflow = False
    for digits, mult in zip(match.groups(), _PROMETHEUS_UNITS, strict=True):
        if digits is None:
            continue
        n = int(digits)
        if n > _MAX_INT64 // mult // _MS:
            overflow = True
        total += n * _MS * mult
        if total > _MAX_INT64:
            overflow = True
    if overflow:
        raise ValueError("duration out of range")
    return total


def parse_go_duration(text: str) -> int:
    """Nanoseconds in `text` read as Go's time.ParseDuration reads it (sign, fractions)."""
    quoted = _go_quote(text)
    negative, terms = _go_terms(
        text, f"time: invalid duration {quoted}", f"time: missing unit in duration {quoted}"
    )
    total = 0
    for digits, fraction, unit_name in terms:
        unit = _GO_UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f"time: unknown unit {_go_quote(unit_name)} in duration {quoted}")
        whole = int(digits or "0")
        if whole > _MAX_INT64 // unit:
            raise ValueError(f"time: invalid duration {quoted}")
        value = whole * unit
        if fraction:
            # Go truncates the fraction's nanoseconds toward zero.
            value += int(fraction) * unit // 10 ** len(fraction)
        total += value
        if total > _MAX_INT64 + (1 if negative else 0):
            raise ValueError(f"time: invalid duration {quoted}")
    return -total if negative else total


_BYTE_UNITS = {"B": 1} | {
    prefix + suffix: 1024 ** (i + 1) for i, prefix in enumerate("KMGTPE") for suffix in ("B", "iB")
}


def parse_base2_bytes(text: str) -> int:
    """Bytes in `text` read as alecthomas/units.ParseBase2Bytes reads it (KB = KiB = 1024)."""
    negative, terms = _go_terms(text, f"units: invalid {text}", None)
    total = 0.0
    for digits, fraction, unit_name in terms:
        unit = _BYTE_UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f"units: unknown unit {unit_name} in {text}")
        total += float(f"{digits or '0'}.{fraction or '0'}") * unit
    return -int(total) if negative else int(total)


def _go_terms(
    text: str, invalid: str, missing_unit: str | None
) -> tuple[bool, Iterator[tuple[str, str, str]]]:
    """The sign of `text` and its terms (digits, fraction, unit), as Go's scanners split them.

    The terms come one at a time, so that a caller's check of one term (an overflow, an
    unknown unit) fails before a malformed later term is looked at, as in the Go loop. `0`
    alone is no terms. `invalid` is the ValueError's message for a malformed term, `missing_unit`
    for a number without a unit (None: the unit may be empty).
    """
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "":
        raise ValueError(invalid)

    def terms(s: str) -> Iterator[tuple[str, str, str]]:
        if s == "0":
            return
        while s:
            if not (s[0] == "." or "0" <= s[0] <= "9"):
                raise ValueError(invalid)
            digits = _leading_digits(s)
            s = s[len(digits) :]
            fraction = ""
            if s.startswith("."):
                s = s[1:]
                fraction = _leading_digits(s)
                s = s[len(fraction) :]
            if not digits and not fraction:
                raise ValueError(invalid)
            i = 0
            while i < len(s) and s[i] != "." and not ("0" <= s[i] <= "9"):
                i += 1
            if i == 0 and missing_unit is not None:
                raise ValueError(missing_unit)
            yield digits, fraction, s[:i]
            s = s[i:]

    return negative, terms(s)


def _leading_digits(s: str) -> str:
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        i += 1
    return s[:i]


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
