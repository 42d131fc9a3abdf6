"""The planner's decision (SPEC §10): cut, workers, replicas or none, and the sentence that says why.

The order encodes the two-tier strategy: first what is broken now (over budget: cut), then
what a rule requires (HA: replicas), then the cheap step (more workers while the work is
I/O-bound and the pod has room), then replicas, and ``none`` when every knob is at a limit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scalelint.analyze.plan_budget import Inputs, budget_fit, plural
from scalelint.analyze.plan_model import CUT, NONE, REPLICAS, WORKERS, Ceiling, DatabaseUse

_REMEDY = "lower the other clients' demand, put a pooler such as PgBouncer in front, or raise max_connections"


@dataclass(frozen=True)
class Ceilings:
    """The six numbers the decision reads (what :class:`PlanRow` carries)."""

    by_cpu: Ceiling
    by_memory: Ceiling
    by_policy: Ceiling
    by_budget: Ceiling
    max_replicas: Ceiling
    pool: Ceiling

    def workers(self) -> tuple[tuple[str, Ceiling], ...]:
        return (("by_cpu", self.by_cpu), ("by_memory", self.by_memory), ("by_policy", self.by_policy),
                ("by_budget", self.by_budget))


def _over_text(x: Inputs, u: DatabaseUse) -> str:
    """``3 pods × 4 workers × (15 + 10) = 300, plus 30 for the other clients = 330 > 97 available on
    postgres (over by 233)``; "at least" wherever an unknown client would only add."""
    partial = u.others is None or not u.others_complete
    least = "at least " if partial else ""
    if u.connections is None:
        total = u.others or 0
        head = f"the other clients alone need {least}{total}"
    else:
        head = x.demand_text()
        total = u.connections + (u.others or 0)
        if u.others:
            head += f", plus {least}{u.others} for the other clients = {least}{total}"
        elif partial:
            head += ", plus the other clients' unknown demand"
    return f"{head} > {u.available} available on {u.name} (over by {least}{total - (u.available or 0)})"


def _cut(x: Inputs, c: Ceilings, over: list[DatabaseUse], min_replicas: int) -> tuple[str, list[str]]:
    """Over budget now: each knob alone, with the number that fits (only numbers ≥ 1 are offered)."""
    n = x.numbers
    options: list[str] = []
    hints: list[str] = []
    if c.pool.known and (c.pool.value or 0) >= 1:
        options.append(plural(c.pool.value or 0, "connection per worker", "connections per worker"))
    if c.by_budget.known and (c.by_budget.value or 0) >= 1:
        options.append(plural(c.by_budget.value or 0, "worker per pod", "workers per pod"))
    if c.max_replicas.known and (c.max_replicas.value or 0) >= 1:
        mr = c.max_replicas.value or 0
        if n.ha_required and mr < min_replicas:
            hints.append(f"fewer replicas is no way out: HA requires at least {min_replicas} "
                         f"({'; '.join(n.ha_reasons) or 'ha-required'}), and the budget fits {mr} at the current "
                         "workers and pool")
        else:
            options.append(plural(mr, "replica") + (" (HPA maxReplicas)" if n.hpa else ""))
    head = "; ".join(_over_text(x, u) for u in over)
    if options:
        fix = "cut to " + ", or ".join(options)
        if any(ce.at_most for ce in (c.pool, c.by_budget, c.max_replicas) if ce.known):
            fix += " (at most: some other client's demand is unknown)"
    else:
        fix = f"no setting of {n.workload} alone fits: {_REMEDY}"
    return CUT, [f"{head}: {fix}", *hints]


def _budget_of(ce: Ceiling) -> str:
    return f"the budget on {ce.database}" if ce.database else "the connection budget"


def _replicas(x: Inputs, c: Ceilings, lead: str) -> tuple[str, str]:
    """Add replicas as far as the budget allows, or ``none`` naming the budget that binds."""
    n, mr = x.numbers, c.max_replicas
    if n.kind == "DaemonSet":
        return NONE, f"{lead}, but a DaemonSet runs one pod per node: replicas are not a knob"
    what = "raise the HPA's maxReplicas" if n.hpa else "add replicas"
    if not mr.limited:
        return REPLICAS, f"{lead}: {what}; the connection budget does not limit them ({mr.reason})"
    if mr.value is None:
        return REPLICAS, f"{lead}: {what}, but the budget cannot say how far ({mr.reason})"
    at = f"at {plural(x.workers or 0, 'worker')} × {plural(x.per_worker or 0, 'connection')} per worker"
    most = "at most " if mr.at_most else ""
    if x.replicas is None:
        return REPLICAS, f"{lead}: {what}, to {most}{mr.value} in total, as many as {_budget_of(mr)} fits {at}"
    if mr.value > x.replicas:
        return REPLICAS, (f"{lead}: {what} from {x.replicas} up to {most}{mr.value}, as many as "
                          f"{_budget_of(mr)} fits {at}")
    return NONE, (f"{lead}, and {_budget_of(mr)} fits no more replicas: {most}{plural(mr.value, 'replica')} "
                  f"{at}")


def _ha(x: Inputs, c: Ceilings, min_replicas: int) -> tuple[str, str]:
    """HA requires ``min_replicas``; the budget must fit them at the HPA max (or compensate)."""
    n, mr = x.numbers, c.max_replicas
    need = max(x.replicas or 0, min_replicas)
    how = (f"raise the HPA's minReplicas from {x.replicas_min} to {min_replicas}" if n.hpa
           else f"run {min_replicas} replicas, not {x.replicas_min}")
    lead = f"HA required ({'; '.join(n.ha_reasons) or 'ha-required'}): {how}"
    if not mr.limited:
        return REPLICAS, lead
    if mr.value is None:
        return REPLICAS, f"{lead}; the budget cannot confirm that {need} fit ({mr.reason})"
    if mr.value >= need:
        return REPLICAS, f"{lead}; {_budget_of(mr)} fits up to {mr.value}"
    at_need = [budget_fit(x, "workers", replicas=need), budget_fit(x, "pool", replicas=need)]
    units = (("worker per pod", "workers per pod"), ("connection per worker", "connections per worker"))
    options = [f"at most {plural(f.value or 0, *u)}" for f, u in zip(at_need, units)
               if f.known and (f.value or 0) >= 1]
    fits = (f"{_budget_of(mr)} fits only {plural(mr.value, 'replica')} at {plural(x.workers or 0, 'worker')} × "
            f"{plural(x.per_worker or 0, 'connection')} per worker")
    if options:
        return REPLICAS, f"{lead}; {fits}: at {need} replicas it takes {' or '.join(options)}"
    return NONE, f"{lead}, but {fits}, and no workers or pool size make {need} fit: {_REMEDY}"


def decide(x: Inputs, c: Ceilings, used: tuple[DatabaseUse, ...], min_replicas: int) -> tuple[str, list[str]]:
    """``next_step`` and its reasons (the decision first, then the hints that qualify it)."""
    n = x.numbers
    step, reasons = _decide(x, c, used, min_replicas)
    if n.unbounded is not None and c.pool.known:
        reasons.append(f"unbounded connections: {n.unbounded}; bound them to at most "
                       f"{plural(c.pool.value or 0, 'connection per worker', 'connections per worker')} "
                       f"to fit {c.pool.database}")
    if n.ha_required and x.replicas_min is None:
        why = n.replicas_min.reason or "it cannot be read"
        reasons.append(f"HA required, but the minimum replica count is unknown ({why}): SL004 cannot be checked")
    if n.stateful:
        reasons.append("stateful: scaling replicas needs care (each replica holds its own data: volumes, "
                       "replication, failover); prefer workers")
    return step, reasons


def _decide(x: Inputs, c: Ceilings, used: tuple[DatabaseUse, ...], min_replicas: int) -> tuple[str, list[str]]:
    n = x.numbers
    over = [u for u in used if u.over]
    if over:
        return _cut(x, c, over, min_replicas)
    if n.ha_required and x.replicas_min is not None and x.replicas_min < min_replicas:
        step, text = _ha(x, c, min_replicas)
        return step, [text]
    if n.dev_server:
        if n.dev_server.endswith("--reload"):
            return NONE, [(f"{n.dev_server} is a development setup: the reloader serves from one process; drop "
                           "--reload and set the workers before planning workers or replicas")]
        return NONE, [(f"{n.dev_server} is a development server: one process and no workers setting; serve it "
                      "with gunicorn or uvicorn --workers before planning workers or replicas")]
    if not n.runs_server:
        what = x.unknown["workers"] if x.workers is None else f"it runs {plural(x.workers, 'process', 'processes')}"
        return NONE, [(f"no worker server scalelint knows runs here ({what}): workers are no knob to plan; it "
                       "is listed for its share of the database")]
    known = [(name, ce) for name, ce in c.workers() if ce.known]
    cap = min(ce.value or 0 for _, ce in known)  # by_policy is always known
    binding = [(name, ce) for name, ce in known if ce.value == cap]
    why = "; ".join(f"{name}: {ce.reason}" for name, ce in binding)
    unchecked = [f"{name} ({ce.reason})" for name, ce in c.workers() if ce.limited and ce.value is None]
    caveat = f"; not checked: {', '.join(unchecked)}" if unchecked else ""
    cpu_bound = n.profile == "cpu-bound"
    if cap == 0:
        return NONE, [f"no worker fits in a pod ({why}): fix that limit first"]
    if x.workers is None:
        if cpu_bound and not n.stateful:
            step, text = _replicas(x, c, f"profile cpu-bound ({x.unknown['workers']})")
            return step, [text]
        return WORKERS, [f"{x.unknown['workers']}; set them explicitly, to at most {cap} ({why}){caveat}"]
    w = x.workers
    if w > cap:
        lower = f"{plural(w, 'worker')} exceed the smallest ceiling {cap} ({why})"
        if x.replicas is not None and n.kind != "DaemonSet" and not n.stateful:
            target = math.ceil(x.replicas * w / cap)
            at_cap = budget_fit(x, "replicas", workers=cap)
            run = "raise the HPA's maxReplicas to" if n.hpa else "run"
            if not at_cap.known or (at_cap.value or 0) >= target:
                if at_cap.known:
                    fits = f"; {_budget_of(at_cap)} fits up to {at_cap.value}"
                else:
                    fits = f"; the budget cannot confirm it ({at_cap.reason})" if at_cap.limited else ""
                return REPLICAS, [(f"{lower}: lower workers to {cap} and {run} {target} replicas "
                                   f"({target * cap} worker processes for the {x.replicas * w} now){fits}")]
            if (at_cap.value or 0) > x.replicas:
                return REPLICAS, [(f"{lower}: lower workers to {cap} and {run} up to {at_cap.value} replicas, "
                                   f"as many as {_budget_of(at_cap)} fits at {cap} workers")]
        return WORKERS, [f"{lower}: lower workers to {cap}"]
    if cpu_bound and not (n.stateful and w < cap):
        step, text = _replicas(x, c, "profile cpu-bound: more processes in one pod would contend for its CPU")
        return step, [text]
    if w < cap:
        pref = " (stateful: workers before replicas, though cpu-bound)" if cpu_bound else ""
        blind = ""
        if not c.by_cpu.known and not c.by_memory.known:
            # the policy (or a budget) is no measure of what one pod can run: say what is missing
            blind = "; with neither a CPU nor a memory ceiling known, nothing says one pod can run them: set its " \
                    "limits (SL001) and plan again before raising workers"
        return WORKERS, [f"raise workers from {w} to {cap}, the smallest ceiling ({why}){caveat}{blind}{pref}"]
    step, text = _replicas(x, c, f"workers are at their ceiling {cap} ({why}){caveat}")
    return step, [text]

