"""The planner's arithmetic (SPEC §10): the ceilings and what one workload takes of each database.

Every function here answers with a number and the sentence behind it, or with None and the
reason the number cannot be known: the planner never guesses, because a made-up ceiling is
worse than none when a team scales on it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scalelint.analyze.plan_model import Ceiling, DatabaseShare, DatabaseUse, Numbers
from scalelint.model import State, Val

#: the three knobs and the two factors each budget ceiling divides by
_FACTORS = {"workers": ("replicas", "per_worker"), "replicas": ("workers", "per_worker"),
            "pool": ("replicas", "workers")}
_UNITS = {"workers": ("worker per pod", "workers per pod"), "replicas": ("replica", "replicas"),
          "pool": ("connection per worker", "connections per worker")}
_ZERO = {"replicas": "it runs 0 replicas", "workers": "it runs 0 workers",
         "per_worker": "it opens no connections (0 per worker)"}


def value(val: Val[int] | None) -> int | None:
    """The integer a Val holds, or None when it is unknown or missing."""
    if val is None or not val.known or val.value is None:
        return None
    return int(val.value)


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 worker``, ``4 workers``: messages quote numbers, so they must read right."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def pods(n: int, kind: str) -> str:
    """Kubernetes runs pods, compose runs replicas of a service."""
    return plural(n, "replica") if kind == "service" else plural(n, "pod")


def size(n: int) -> str:
    """Bytes as a Kubernetes quantity when it divides evenly (``512Mi``), else MiB with one decimal
    (``614.4Mi`` for compose's ``0.6GB``), as SL006 says them."""
    for unit, factor in (("Gi", 1 << 30), ("Mi", 1 << 20)):
        if n and n % factor == 0:
            return f"{n // factor}{unit}"
    return f"{n / (1 << 20):.1f}Mi" if n >= 1 << 20 else f"{n} bytes"


def _why(val: Val[int] | Val[float] | None, what: str) -> str:
    return f"{what} unknown: {val.reason}" if val is not None and val.reason else f"{what} unknown"


@dataclass(frozen=True)
class Free:
    """What one database leaves for this workload: ``available − others`` (None: unknown, and why)."""

    share: DatabaseShare
    value: int | None
    why: str = ""

    @property
    def at_most(self) -> bool:
        return not self.share.others_complete


@dataclass(frozen=True)
class Inputs:
    """One workload's numbers reduced to integers, with the reason for each unknown."""

    numbers: Numbers
    replicas: int | None
    replicas_min: int | None
    workers: int | None
    per_worker: int | None
    client: bool
    unknown: dict[str, str]
    frees: tuple[Free, ...]

    def per_worker_text(self) -> str:
        """``(15 + 10)`` when the addends are known and add up, else the number; an assumed number says
        so (``(5 + 10, assumed: SQLAlchemy's 5 + 10, no pool setting read)``)."""
        terms = self.numbers.per_worker_terms
        pw = self.numbers.per_worker
        tag = f", {pw.reason}" if pw is not None and pw.state is State.ASSUMED and pw.reason else ""
        if self.per_worker is not None and len(terms) > 1 and sum(terms) == self.per_worker:
            return "(" + " + ".join(str(t) for t in terms) + tag + ")"
        return f"{self.per_worker} ({tag[2:]})" if tag else str(self.per_worker)

    def demand_text(self) -> str:
        """``3 pods × 4 workers × (15 + 10) = 300``; only called when all three are known."""
        r, w, p = self.replicas or 0, self.workers or 0, self.per_worker or 0
        return f"{pods(r, self.numbers.kind)} × {plural(w, 'worker')} × {self.per_worker_text()} = {r * w * p}"


def _free(share: DatabaseShare) -> Free:
    avail = value(share.available)
    if avail is None:
        return Free(share, None, _why(share.available, f"available connections on {share.name}"))
    if share.others is None:
        return Free(share, None, f"the other clients' demand on {share.name} is unknown")
    return Free(share, avail - share.others)


def inputs(n: Numbers) -> Inputs:
    """Reduce ``n`` once, so that every ceiling reads the same integers and the same reasons."""
    client = bool(n.databases) and (n.per_worker is not None or n.unbounded is not None)
    if n.unbounded is not None:
        pw_why = f"unbounded connections: {n.unbounded}"
    else:
        pw_why = _why(n.per_worker, "connections per worker")
    unknown = {"replicas": _why(n.replicas_max, "replicas"), "workers": _why(n.workers, "workers"),
               "per_worker": pw_why}
    shares = sorted(n.databases, key=lambda s: (s.name, s.location)) if client else []
    return Inputs(n, value(n.replicas_max), value(n.replicas_min), value(n.workers),
                  None if n.unbounded is not None else value(n.per_worker), client, unknown,
                  tuple(_free(s) for s in shares))


def _rounded(exact: bool) -> str:
    return "" if exact else " (rounded down)"


def cpu_ceiling(n: Numbers, per_core: float, extra: float) -> Ceiling:
    """``ceil(per_core × CPU limit + extra)``: gunicorn's guidance for workers on a CPU budget, in whole
    workers as SL005 counts them (2 × 0.4 + 1 = 1.8 allows 2)."""
    if n.cpu_limit is None:
        return Ceiling(None, "no CPU limit")
    if not n.cpu_limit.known or n.cpu_limit.value is None:
        return Ceiling(None, _why(n.cpu_limit, "CPU limit"))
    cpu = float(n.cpu_limit.value)
    raw = per_core * cpu + extra
    v = max(1, math.ceil(raw - 1e-9))  # 2 × 0.35 + 1 must not become 1.7000…1 and round up past 2
    exact = abs(raw - round(raw)) < 1e-9
    sum_text = f"{per_core:g} × {cpu:g} CPU + {extra:g}"
    if exact:
        return Ceiling(v, f"{sum_text} = {plural(v, 'worker')}")
    return Ceiling(v, f"{sum_text} = {raw:g}, so {plural(v, 'whole worker')}")


def memory_ceiling(n: Numbers) -> Ceiling:
    """``floor(memory limit ÷ memory-per-worker)``: workers beyond it get the pod OOM-killed."""
    if n.memory_limit is None:
        return Ceiling(None, "no memory limit")
    limit = value(n.memory_limit)
    if limit is None:
        return Ceiling(None, _why(n.memory_limit, "memory limit"))
    per = n.memory_per_worker
    if per <= 0:
        return Ceiling(None, "memory-per-worker is 0: memory does not limit workers", limited=False)
    v = limit // per
    if v == 0 and n.memory_per_worker_source == "assumed":
        # the service runs in less than one guessed worker: its workers are smaller, the guess is wrong here
        return Ceiling(None, f"{size(per)} per worker (assumed) is more than the whole {size(limit)} limit: "
                             "set memory-per-worker to size workers by memory")
    text = (f"{size(limit)} memory limit ÷ {size(per)} per worker ({n.memory_per_worker_source}) = "
            f"{plural(v, 'worker')}{_rounded(limit % per == 0)}")
    now = value(n.workers)
    if n.memory_per_worker_source == "assumed" and now is not None and now > v and limit // now >= n.memory_floor:
        # SL006 does not report these workers (each keeps at least the floor): the plan does not lower
        # them on the same guess, it only does not raise them
        return Ceiling(now, f"{text}, but the {plural(now, 'worker')} running now keep {size(limit // now)} each, "
                            f"above the {size(n.memory_floor)} a small worker needs: kept, not lowered on an "
                            "assumption (set memory-per-worker to size workers by memory)")
    return Ceiling(v, text)


def policy_ceiling(n: Numbers) -> Ceiling:
    """The team's rule of thumb (SPEC §0: more than 8 per pod fight for CPU and memory)."""
    return Ceiling(n.max_workers_per_pod, f"max-workers-per-pod is {n.max_workers_per_pod}")


def _factor_text(x: Inputs, factor: str, v: int) -> str:
    if factor == "replicas":
        return pods(v, x.numbers.kind)
    if factor == "workers":
        return plural(v, "worker")
    pw = x.numbers.per_worker
    text = plural(v, "connection per worker", "connections per worker")
    if pw is not None and pw.state is State.ASSUMED and pw.reason and v == x.per_worker:
        text += f" ({pw.reason})"
    return text


def budget_fit(x: Inputs, knob: str, **given: int) -> Ceiling:
    """The largest ``knob`` (workers, replicas or pool) that fits every database, the others fixed.

    ``floor((available − others) ÷ (a × b))`` where a and b are the other two factors, taken
    from ``given`` when the caller asks "what if" (e.g. workers that fit at 2 replicas); the
    minimum over the databases, the binding one named. A database with unknown room makes the
    answer unknown (the known ones are quoted in the reason).
    """
    one, many = _UNITS[knob]
    if not x.client:
        if x.numbers.link_unknown:
            return Ceiling(None, f"its database link could not be read ({x.numbers.link_unknown}): "
                                 "the connection budget is not checked")
        return Ceiling(None, "not a database client: the connection budget does not limit it", limited=False)
    pw = x.numbers.per_worker
    if "per_worker" in _FACTORS[knob] and "per_worker" not in given and pw is not None \
            and pw.state is State.ASSUMED:
        # advice to add workers or pods on a guessed pool would be a guess too
        return Ceiling(None, f"{x.per_worker} connections per worker is {pw.reason}: set the pool settings to "
                             "check the budget")
    current = {"replicas": x.replicas, "workers": x.workers, "per_worker": x.per_worker}
    factors: dict[str, int | None] = {f: given.get(f, current[f]) for f in _FACTORS[knob]}
    for f in _FACTORS[knob]:
        if factors[f] == 0:
            return Ceiling(None, f"{_ZERO[f]}: the connection budget does not limit its {many}", limited=False)
    for f in _FACTORS[knob]:
        if factors[f] is None:
            return Ceiling(None, x.unknown[f])
    a, b = (int(factors[f] or 0) for f in _FACTORS[knob])
    div = a * b
    fits: list[tuple[int, str, Free]] = []
    unknown: list[str] = []
    for fr in x.frees:
        if fr.value is None:
            unknown.append(fr.why)
            continue
        s = fr.share
        avail = value(s.available)
        v = max(0, fr.value // div)
        if fr.value < 0:
            text = f"the other clients already need {s.others} of the {avail} available on {s.name}: no {many} fit"
        else:
            room = (f"{avail} available on {s.name}" if s.others == 0 and s.others_complete
                    else f"({avail} available on {s.name} − {s.others} for the other clients)")
            fa, fb = (_factor_text(x, f, int(factors[f] or 0)) for f in _FACTORS[knob])
            text = (f"{room} ÷ ({fa} × {fb}) = {'at most ' if fr.at_most else ''}{plural(v, one, many)}"
                    f"{_rounded(fr.value % div == 0)}")
            if fr.at_most:
                text += f", as some other client's demand on {s.name} is unknown or assumed"
        fits.append((v, text, fr))
    if unknown:
        reason = unknown[0]
        if fits:
            v, _, fr = min(fits, key=lambda t: t[0])
            reason += f"; {fr.share.name} alone allows {'at most ' if fr.at_most else ''}{plural(v, one, many)}"
        return Ceiling(None, reason)
    v, text, fr = min(fits, key=lambda t: t[0])  # x.frees is sorted: ties go to the first name
    if len(fits) > 1:
        text += f"; the tightest of {len(fits)} databases"
    return Ceiling(v, text, at_most=any(f.at_most for _, _, f in fits), database=fr.share.name)


def own_demand(x: Inputs) -> int | None:
    """``replicas × workers × per_worker``; a known zero factor makes it 0 whatever the others."""
    factors = (x.replicas, x.workers, x.per_worker)
    if 0 in factors:
        return 0
    if None in factors:
        return None
    return (x.replicas or 0) * (x.workers or 0) * (x.per_worker or 0)


def uses(x: Inputs) -> tuple[DatabaseUse, ...]:
    """This workload's share of each database and whether the database is over budget now.

    Over is certain when the known part alone exceeds what is available (unknown clients only
    add to it); fitting is certain only when nothing is unknown.
    """
    own = own_demand(x)
    out = []
    for fr in x.frees:
        s = fr.share
        avail = value(s.available)
        over: bool | None = None
        if avail is not None:
            known = (own or 0) + (s.others or 0)
            if known > avail:
                over = True
            elif own is not None and s.others is not None and s.others_complete:
                over = False
        out.append(DatabaseUse(s.name, s.location, avail, s.others, s.others_complete, own, over))
    return tuple(out)
