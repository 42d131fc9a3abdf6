"""Which workloads must stay up (SPEC §3 SL004): what the files and the config say, in one place
for the HA rules and the planner."""
from __future__ import annotations

import fnmatch

from scalelint.model import Workload

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
