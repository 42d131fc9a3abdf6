"""SL004 / SL014: workloads that must stay up but can run a single replica, or stack on one node."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from scalelint.analyze.availability import ha_reasons, needed_replicas
from scalelint.check.templates.base import BoundRule, Context, Template, related
from scalelint.findings import Finding, Loc
from scalelint.model import Val, Workload


class HaReplicas(Template):
    """A highly available workload needs at least ``min-replicas`` pods, also at the HPA's minimum."""

    name = "ha-replicas"
    reads_trees = False
    description = "HA workloads must run at least min-replicas replicas"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"min-replicas": {"type": "integer", "minimum": 1}},
    }
    defaults: ClassVar[dict[str, Any]] = {"min-replicas": 2}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        least = rule.params["min-replicas"]
        for wl in ctx.group.workloads:
            if wl.kind == "DaemonSet":
                continue
            reasons = ha_reasons(wl, ctx.config.ha_required)
            if not reasons:
                continue
            need, pdb = needed_replicas(wl, least)
            low = ctx.facts.replica_range(wl).min
            if not low.known or low.value is None or low.value >= need:
                continue
            source = _source(wl, low)
            loc = low.loc if low.loc is not None and low.loc.line else wl.loc
            plural = "s" if low.value != 1 else ""
            why = (f" (PodDisruptionBudget {pdb.name} minAvailable: {pdb.min_available}: with fewer, no pod may "
                   "ever be evicted and node drains block)") if pdb is not None else ""
            rel = _related(wl, loc)
            if pdb is not None and pdb.min_available_loc is not None:
                rel += related(pdb.min_available_loc, f"minAvailable: {pdb.min_available}")
            yield rule.finding(
                f"{_label(wl)} must be highly available ({'; '.join(reasons)}) but can run "
                f"{low.value} replica{plural} ({source}); needs at least {need}{why}",
                loc, wl.ref, related=rel,
                fix=_fix(wl, need),
            )


class HaSpread(Template):
    """Replicas of an HA workload should be spread over nodes or zones."""

    name = "ha-spread"
    reads_trees = False
    description = "HA workloads with several replicas need anti-affinity or topology spread"
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False, "properties": {}}
    defaults: ClassVar[dict[str, Any]] = {}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        for wl in ctx.group.workloads:
            if wl.kind == "service" or wl.kind == "DaemonSet" or wl.spread:
                continue  # one compose host is one node; a DaemonSet is spread by definition
            reasons = ha_reasons(wl, ctx.config.ha_required)
            low = ctx.facts.replica_range(wl).min
            if not reasons or not low.known or low.value is None or low.value < 2:
                continue
            yield rule.finding(
                f"{_label(wl)} must stay up ({reasons[0]}) and runs {low.value} replicas, with no "
                "topologySpreadConstraints or podAntiAffinity: beyond the scheduler's best-effort spreading, "
                "nothing keeps them off one node, where they would go down together",
                wl.loc, wl.ref, related=_related(wl, wl.loc),
                fix="add topologySpreadConstraints on kubernetes.io/hostname (or topology.kubernetes.io/zone), "
                    "or a podAntiAffinity rule",
            )


def _label(wl: Workload) -> str:
    if wl.kind == "service":
        return f"service {wl.name}"
    return f"{wl.kind} {wl.namespace}/{wl.name}" if wl.namespace and wl.namespace != "default" else f"{wl.kind} {wl.name}"


def _source(wl: Workload, low: Val[int]) -> str:
    if wl.autoscaler is not None:
        hpa = wl.autoscaler
        return f"HPA {hpa.name} minReplicas: {low.value}" + (" (not set)" if low.reason else "")
    if wl.kind == "service":
        return low.reason or f"replicas: {low.value}"
    return low.reason or f"spec.replicas: {low.value}"


def _related(wl: Workload, loc: Loc) -> list:
    out = []
    for pdb in wl.disruption_budgets:
        out += related(pdb.loc, f"PodDisruptionBudget {pdb.name} selects this workload")
    return out


def _fix(wl: Workload, need: int) -> str:
    if wl.autoscaler is not None:
        top = wl.autoscaler.max_replicas
        if top.known and top.value is not None and int(top.value) < need:
            return f"set minReplicas: {need} and maxReplicas: {need} or more on HPA {wl.autoscaler.name}"
        return f"set minReplicas: {need} on HPA {wl.autoscaler.name}"
    if wl.kind == "service":
        return f"set deploy.replicas: {need}"
    return f"set spec.replicas: {need} (or add an HPA with minReplicas: {need})"
