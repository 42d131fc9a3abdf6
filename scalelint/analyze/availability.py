"""Which workloads must stay up (SPEC §3 SL004): what the files and the config say, in one place
for the HA rules and the planner."""
from __future__ import annotations

import fnmatch

from scalelint.model import Disruption, Workload

_HA_GLOB_KINDS = {"Deployment", "StatefulSet", "service"}


def ha_reasons(wl: Workload, patterns: list[str]) -> list[str]:
    """Why this workload must be highly available; empty when nothing says so."""
    reasons = list(wl.ha_reasons)
    if wl.kind in _HA_GLOB_KINDS:
        for pattern in patterns:
            if fnmatch.fnmatchcase(wl.name, pattern):
                reasons.append(f"config ha-required: {pattern!r}")
                break
    return reasons


def needed_replicas(wl: Workload, least: int) -> tuple[int, Disruption | None]:
    """At least ``least`` pods, and one more than the largest count ``minAvailable`` of a PDB selecting it
    (with exactly minAvailable pods, none may be evicted); the PDB that decides, if one does."""
    pdbs = [p for p in wl.disruption_budgets if p.min_available is not None]
    top = max(pdbs, key=lambda p: p.min_available or 0, default=None)
    if top is not None and (top.min_available or 0) + 1 > least:
        return (top.min_available or 0) + 1, top
    return least, None
