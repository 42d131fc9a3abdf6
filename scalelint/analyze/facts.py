"""Facts: derived values computed once per group and shared by every rule and by ``report``.

Each fact is a :class:`~scalelint.model.Val` (value, where it was set, known /
defaulted / unknown). Facts are computed lazily and cached, so a run that
selects only SL001 never computes connection budgets.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..config import Config
from ..findings import Notice
from ..model import Group, State, Val, Workload, default, known, unknown


@dataclass(frozen=True)
class ReplicaRange:
    """How many pods a workload may run: the low end for availability, the high end for budgets."""

    min: Val[int]
    max: Val[int]


class Facts:
    def __init__(self, group: Group, config: Config) -> None:
        self.group = group
        self.config = config
        #: things the user should know about unknown values, filled as facts are computed
        self.notices: list[Notice] = []

    @cached_property
    def replicas(self) -> dict[int, ReplicaRange]:
        """Replica range per workload (keyed by ``id(workload)``), HPA-aware."""
        return {id(wl): replica_range(wl, self.config) for wl in self.group.workloads}

    def replica_range(self, wl: Workload) -> ReplicaRange:
        return self.replicas[id(wl)]


def replica_range(wl: Workload, config: Config) -> ReplicaRange:
    hpa = wl.autoscaler
    if hpa is not None:
        return ReplicaRange(hpa.min_replicas, hpa.max_replicas)
    if wl.kind == "DaemonSet":
        if config.nodes is not None:
            nodes = default(config.nodes, None, f"config nodes: {config.nodes}")
            return ReplicaRange(nodes, nodes)
        return ReplicaRange(wl.replicas, wl.replicas)
    return ReplicaRange(wl.replicas, wl.replicas)


__all__ = ["Facts", "ReplicaRange", "State", "known", "unknown"]
