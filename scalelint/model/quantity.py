"""Resource quantities: Kubernetes ``resource.Quantity`` and Compose sizes/cpus.

Scaling rules compare requests, limits and node sizes, so a value has to be
read exactly as the engine reads it: ``512M`` is 10^6-based in Kubernetes but
2^20-based in Compose, and ``1.5`` cpus means cores in both. Every parser here
returns ``None`` for anything the engine would reject (and for negatives,
NaN and infinities, which no resource amount can be) and never raises, so a
rule can say "not a valid quantity" instead of crashing.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

_INT64_MAX = 2**63 - 1

# ---------------------------------------------------------------------------
# Kubernetes: <sign>?<digits>[.<digits>]<suffix>, suffix one of
# binarySI (Ki..Ei), decimalSI (n u m "" k M G T P E) or e/E<signed int>.
# The documented grammar omits n and u but apimachinery's suffixer accepts
# them, so ``100u`` cpu is valid in a real cluster.
# ---------------------------------------------------------------------------
_K8S = re.compile(
    r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?"
    r"(?:(?P<si>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE](?P<exp>[+-]?[0-9]+))?"
)
_K8S_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_K8S_DECIMAL = {
    "n": -9,
    "u": -6,
    "m": -3,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
# Beyond this many decimal orders of magnitude nothing is a sane resource
# amount, and refusing early keeps ``1e999999999`` from building a huge int.
_MAX_ORDER = 400
#: an exact non-negative amount as (numerator, denominator): plain ints do the exact arithmetic
#: (``n / d`` is correctly rounded, ``-(-n // d)`` is the ceiling) without importing fractions
Exact = tuple[int, int]


def _k8s_exact(text: str) -> Exact | None:
    """Parse a Quantity string to an exact non-negative value, else None."""
    match = _K8S.fullmatch(text)
    if match is None:
        return None
    whole, frac = match.group("int"), match.group("frac") or ""
    if not whole and not frac:
        return None
    digits = (whole + frac).lstrip("0")
    if not digits:
        return (0, 1)
    if match.group("sign") == "-":
        return None
    power10, power2 = -len(frac), 0
    # Trailing zeros only move the decimal point; dropping them keeps the
    # integer small (and under Python's int-from-str digit limit).
    significant = digits.rstrip("0")
    power10 += len(digits) - len(significant)
    digits = significant
    if len(digits) > _MAX_ORDER:
        return None
    si, exp = match.group("si"), match.group("exp")
    if si in _K8S_BINARY:
        power2 = _K8S_BINARY[si]
    elif si:
        power10 += _K8S_DECIMAL[si]
    elif exp is not None:
        if len(exp.lstrip("+-").lstrip("0")) > 6:  # |exponent| >= 10^6: absurd
            return None
        power10 += int(exp)
    order = len(digits) + power10  # decimal digits left of the point
    if order > _MAX_ORDER:
        return None
    if order < -_MAX_ORDER:
        # Positive but vanishingly small; keep it positive without 10**huge.
        return (1, 10**_MAX_ORDER)
    value = int(digits) * 2**power2
    return (value * 10**power10, 1) if power10 >= 0 else (value, 10**-power10)


def _number(value: object) -> Exact | None:
    """A YAML int/float as an exact non-negative value; bools are not numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value < 0:
        return None
    return value.as_integer_ratio()


def k8s_cpu(value: object) -> float | None:
    """Cores from a Kubernetes cpu quantity: ``"500m"`` -> 0.5, ``2`` -> 2.0."""
    if isinstance(value, str):
        return _k8s_cpu_text(value)
    return _cores(_number(value))


# the same few quantities ("500m", "1Gi") fill a whole tree of manifests: parse each text once
@lru_cache(maxsize=2048)
def _k8s_cpu_text(text: str) -> float | None:
    return _cores(_k8s_exact(text))


def _cores(exact: Exact | None) -> float | None:
    if exact is None:
        return None
    try:
        cores = exact[0] / exact[1]
    except OverflowError:
        return None
    return cores if math.isfinite(cores) else None


def k8s_memory(value: object) -> int | None:
    """Bytes from a Kubernetes memory quantity: ``"512Mi"``, ``"129e6"``, ``128974848``.

    Fractions of a byte round up, as ``Quantity.Value()`` does (``"1500m"`` -> 2);
    values past int64 are rejected because the API server cannot hold them.
    """
    if isinstance(value, str):
        return _k8s_memory_text(value)
    return _bytes(_number(value))


@lru_cache(maxsize=2048)
def _k8s_memory_text(text: str) -> int | None:
    return _bytes(_k8s_exact(text))


def _bytes(exact: Exact | None) -> int | None:
    if exact is None:
        return None
    amount = -(-exact[0] // exact[1])
    return amount if amount <= _INT64_MAX else None


# ---------------------------------------------------------------------------
# Compose: ``cpus`` is strconv.ParseFloat; sizes are go-units RAMInBytes.
# ---------------------------------------------------------------------------
# Decimal float syntax as Go's ParseFloat reads it. Go's hex floats
# (``0x1p4``), underscores and "Inf"/"NaN" are left out on purpose: none is a
# plausible resource amount, and NaN/Inf are rejected anyway.
_GO_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMPOSE_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def _go_float(text: str) -> float | None:
    if _GO_FLOAT.fullmatch(text) is None:
        return None
    try:
        number = float(text)
    except (OverflowError, ValueError):
        return None
    # Go's ParseFloat fails with ErrRange on overflow; Python gives inf.
    return number if math.isfinite(number) else None


def compose_cpus(value: object) -> float | None:
    """Cores from a Compose ``cpus`` value: ``"0.5"``, ``1.5``, ``2``."""
    if isinstance(value, str):
        number = _go_float(value)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    else:
        try:
            number = float(value)
        except OverflowError:
            return None
    if number is None or not math.isfinite(number) or number < 0:
        return None
    return number


def _ram_in_bytes(text: str) -> int | None:
    r"""go-units v0.5 RAMInBytes: number, optional one space, binary suffix.

    The old regexp (``^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$``) was replaced
    by this split-at-last-digit parser, which is why ``"1e3"`` and ``"+5"``
    parse and ``"1ki"`` does not (``i`` must be followed by ``b``).
    """
    sep = max(text.rfind(ch) for ch in "0123456789. ")
    if sep < 0:
        return None
    if text[sep] == " ":
        number_text, suffix = text[:sep], text[sep + 1 :]
    else:
        number_text, suffix = text[: sep + 1], text[sep + 1 :]
    size = _go_float(number_text)
    if size is None or size < 0:
        return None
    if suffix:
        suffix = suffix.lower()
        if len(suffix) > 3:
            return None
        if suffix[0] == "b":
            if len(suffix) > 1:
                return None
        elif suffix[0] in _COMPOSE_UNITS and suffix[1:] in ("", "b", "ib"):
            size *= _COMPOSE_UNITS[suffix[0]]
        else:
            return None
    # Go truncates the float64 toward zero: "1.5g" is int64(1.5 * 2^30).
    return int(size) if size < 2**63 else None


def compose_memory(value: object) -> int | None:
    """Bytes from a Compose size (``mem_limit``, ``memory``): ``"3G"`` = 3 GiB."""
    if isinstance(value, str):
        return _ram_in_bytes(value)
    exact = _number(value)
    if exact is None:
        return None
    amount = exact[0] // exact[1]  # truncate like the float path above (never negative here)
    return amount if amount <= _INT64_MAX else None


# ---------------------------------------------------------------------------
# Formatting for messages
# ---------------------------------------------------------------------------
_BINARY_UNITS = (("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10))


def format_bytes(n: int) -> str:
    """Render bytes as a Kubernetes quantity a user can paste back.

    The largest binary unit that divides ``n`` exactly wins (``1536Mi``, not
    ``1.5Gi``) so the text is never rounded; otherwise plain bytes (``"1000"``),
    which is also a valid quantity.
    """
    if n < 0:
        return "-" + format_bytes(-n)
    if n == 0:
        return "0"
    for unit, shift in _BINARY_UNITS:
        if n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def format_cpu(cores: float) -> str:
    """Render cores the way manifests usually spell them: ``500m``, ``1.5``, ``2``."""
    if not math.isfinite(cores):
        return str(cores)
    if cores < 0:
        return "-" + format_cpu(-cores)
    if cores == 0:
        return "0"
    if cores < 1:
        millis = cores * 1000
        if abs(millis - round(millis)) < 1e-9:
            return f"{round(millis)}m"
        return f"{millis:.12g}m"
    if cores == int(cores):
        return str(int(cores))
    return f"{cores:.12g}"
