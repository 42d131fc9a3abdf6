"""Kubernetes and Compose resource quantities, parsed the way each engine does."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelint.model.quantity import (
    compose_cpus,
    compose_memory,
    format_bytes,
    format_cpu,
    k8s_cpu,
    k8s_memory,
)

Ki, Mi, Gi, Ti, Pi, Ei = (1 << s for s in (10, 20, 30, 40, 50, 60))

# Values no parser accepts: not numbers at all, or numbers no resource can be.
NOT_NUMBERS: list[object] = [True, False, None, [1], {"cpu": 1}, b"1", -1, -0.5]
NOT_NUMBERS += [float("nan"), float("inf"), float("-inf"), 10**400]
# Quantity syntax errors, negatives and out-of-range magnitudes.
K8S_BAD_TEXT: list[object] = ["", " ", " 1", "1 ", "1 m", "1" + "0" * 500, "m", "."]
K8S_BAD_TEXT += ["-1", "-500m", "-0.1", "1e3m", "1.2.3", "1KI", "1K", "1ki", "1mi"]
K8S_BAD_TEXT += ["1e", "1e3.5", "1x", "abc", "0x10", "1_000", "NaN", "Inf", "1e400"]
K8S_BAD_TEXT += ["1e9999999"]
# Compose/docker spellings Kubernetes rejects, and sizes past int64.
K8S_MEMORY_BAD: list[object] = ["1 Gi", "-1Gi", "2GB", "2gi", "2GiB", "512MB", "1kb"]
K8S_MEMORY_BAD += ["Gi", "1e3Mi", "1.5.Gi", "8Ei", "9223372036854775808", 2**63]
COMPOSE_CPUS_BAD: list[object] = ["", "1 ", " 1", "-0.5", "500m", "abc", "1,5", "NaN"]
COMPOSE_CPUS_BAD += ["Inf", "infinity", "1e400", "0x1p4", "1_0"]
COMPOSE_MEMORY_BAD: list[object] = ["", " 32 ", " 32", "32m b", "1 g b", "1  g", "g"]
COMPOSE_MEMORY_BAD += ["hello", "-32", "-1g", "32bm", "1ki", "1Gi", "1gibb", "1kbb"]
COMPOSE_MEMORY_BAD += ["1x", "1.2.3g", "1e400", "9223372036854775807k", "NaN", "Inf"]
COMPOSE_MEMORY_BAD += [2**63]


@pytest.mark.parametrize(
    ("value", "cores"),
    [
        ("500m", 0.5),
        ("100m", 0.1),
        ("1m", 0.001),
        ("1500m", 1.5),
        ("1.5", 1.5),
        ("2", 2.0),
        ("0", 0.0),
        ("0.0", 0.0),
        ("-0", 0.0),
        ("+1", 1.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1e-3", 0.001),
        ("1e+2", 100.0),
        ("250000u", 0.25),
        ("500000000n", 0.5),
        ("1k", 1000.0),
        ("1Ki", 1024.0),
        (2, 2.0),
        (0, 0.0),
        (0.5, 0.5),
        (1.25, 1.25),
    ],
)
def test_k8s_cpu(value: object, cores: float) -> None:
    assert k8s_cpu(value) == cores


@pytest.mark.parametrize("value", [*K8S_BAD_TEXT, *NOT_NUMBERS])
def test_k8s_cpu_invalid(value: object) -> None:
    assert k8s_cpu(value) is None


@pytest.mark.parametrize(
    ("value", "nbytes"),
    [
        ("2Gi", 2 * Gi),
        ("512Mi", 512 * Mi),
        ("123Mi", 123 * Mi),
        ("1.5Gi", 1536 * Mi),
        ("0.5Ki", 512),
        ("1Ti", Ti),
        ("1Pi", Pi),
        ("1Ei", Ei),
        ("512M", 512_000_000),
        ("100k", 100_000),
        ("1G", 10**9),
        ("1T", 10**12),
        ("1P", 10**15),
        ("1E", 10**18),
        ("1e9", 10**9),
        ("129e6", 129_000_000),
        ("1.29e8", 129_000_000),
        ("128974848", 128_974_848),
        ("1500m", 2),  # milli-bytes round up, as Quantity.Value() does
        ("1000m", 1),
        ("1m", 1),
        ("0.1", 1),
        ("1e-3", 1),
        ("0", 0),
        ("0Mi", 0),
        ("+1Ki", 1024),
        ("1" + "0" * 18, 10**18),
        ("9223372036854775807", 2**63 - 1),
        (128974848, 128_974_848),
        (0, 0),
        (1.5e9, 1_500_000_000),
        (0.5, 1),
    ],
)
def test_k8s_memory(value: object, nbytes: int) -> None:
    assert k8s_memory(value) == nbytes


@pytest.mark.parametrize("value", [*K8S_BAD_TEXT, *K8S_MEMORY_BAD, *NOT_NUMBERS])
def test_k8s_memory_invalid(value: object) -> None:
    assert k8s_memory(value) is None


@pytest.mark.parametrize(
    ("value", "cores"),
    [
        ("0.5", 0.5),
        ("1.5", 1.5),
        ("2", 2.0),
        ("0", 0.0),
        ("+1", 1.0),
        (".25", 0.25),
        ("3.", 3.0),
        ("1e-1", 0.1),
        (0.5, 0.5),
        (1.5, 1.5),
        (2, 2.0),
        (0, 0.0),
    ],
)
def test_compose_cpus(value: object, cores: float) -> None:
    assert compose_cpus(value) == cores


@pytest.mark.parametrize("value", [*COMPOSE_CPUS_BAD, *NOT_NUMBERS])
def test_compose_cpus_invalid(value: object) -> None:
    assert compose_cpus(value) is None


@pytest.mark.parametrize(
    ("value", "nbytes"),
    [
        ("3G", 3 * Gi),
        ("3g", 3 * Gi),
        ("512m", 512 * Mi),
        ("512M", 512 * Mi),
        ("1gb", Gi),
        ("1GB", Gi),
        ("1GiB", Gi),
        ("1gib", Gi),
        ("100kb", 100 * Ki),
        ("100k", 100 * Ki),
        ("32Kib", 32 * Ki),
        ("1t", Ti),
        ("1p", Pi),
        ("32PB", 32 * Pi),
        ("2048", 2048),
        ("512b", 512),
        ("512B", 512),
        ("1.5g", 1536 * Mi),
        ("32.3", 32),  # the number is truncated toward zero
        ("0.3MB", 314_572),
        ("32.3 mb", int(32.3 * Mi)),
        ("1 kb", Ki),
        ("32 ", 32),  # a trailing space separator leaves an empty suffix
        (".5k", 512),
        ("+5", 5),
        ("1e3", 1000),  # go-units >= 0.5 hands the number to ParseFloat
        ("1e3k", 1000 * Ki),
        ("0", 0),
        (1073741824, Gi),
        (0, 0),
        (1.5, 1),
    ],
)
def test_compose_memory(value: object, nbytes: int) -> None:
    assert compose_memory(value) == nbytes


@pytest.mark.parametrize("value", [*COMPOSE_MEMORY_BAD, *NOT_NUMBERS])
def test_compose_memory_invalid(value: object) -> None:
    assert compose_memory(value) is None


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (0, "0"),
        (1, "1"),
        (1000, "1000"),
        (1023, "1023"),
        (1024, "1Ki"),
        (1536, "1536"),
        (512 * Mi, "512Mi"),
        (2 * Gi, "2Gi"),
        (1536 * Mi, "1536Mi"),
        (3 * Ki, "3Ki"),
        (Ti, "1Ti"),
        (Pi, "1Pi"),
        (Ei, "1Ei"),
        (4 * Ei, "4Ei"),
        (512_000_000, "500000Ki"),
        (10**9, "1000000000"),
        (-2 * Gi, "-2Gi"),
    ],
)
def test_format_bytes(nbytes: int, text: str) -> None:
    assert format_bytes(nbytes) == text


@pytest.mark.parametrize(
    ("cores", "text"),
    [
        (0.5, "500m"),
        (0.1, "100m"),
        (0.25, "250m"),
        (0.001, "1m"),
        (0.0005, "0.5m"),
        (0.0, "0"),
        (1.0, "1"),
        (1.5, "1.5"),
        (2.0, "2"),
        (2, "2"),
        (16.0, "16"),
        (1.25, "1.25"),
        (-0.5, "-500m"),
    ],
)
def test_format_cpu(cores: float, text: str) -> None:
    assert format_cpu(cores) == text


@pytest.mark.parametrize("text", ["2Gi", "512Mi", "1536Mi", "1Ki", "1000", "0"])
def test_format_bytes_round_trips(text: str) -> None:
    assert format_bytes(k8s_memory(text) or 0) == text


@pytest.mark.parametrize("text", ["500m", "1.5", "2", "250m"])
def test_format_cpu_round_trips(text: str) -> None:
    cores = k8s_cpu(text)
    assert cores is not None
    assert format_cpu(cores) == text


# --------------------------------------------------------------------------
# never raises
# --------------------------------------------------------------------------

_QUANTITY_TEXT = st.text(alphabet=st.sampled_from(list("0123456789.+-eEkKmMgGtTpPiIbBnu \t")), max_size=24)
_ANY_VALUE = st.one_of(
    st.text(),
    _QUANTITY_TEXT,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


@pytest.mark.parametrize("parse", [k8s_cpu, k8s_memory, compose_cpus, compose_memory])
@settings(max_examples=200, deadline=None)
@given(value=_ANY_VALUE)
def test_parsers_never_raise(parse: Callable[[object], float | None], value: object) -> None:
    result = parse(value)
    assert result is None or (result >= 0 and math.isfinite(result))


@settings(max_examples=200, deadline=None)
@given(n=st.integers())
def test_format_bytes_never_raises(n: int) -> None:
    text = format_bytes(n)
    if n >= 0 and n < 2**63:
        assert k8s_memory(text) == n


@settings(max_examples=200, deadline=None)
@given(cores=st.floats(allow_nan=True, allow_infinity=True))
def test_format_cpu_never_raises(cores: float) -> None:
    assert isinstance(format_cpu(cores), str)
