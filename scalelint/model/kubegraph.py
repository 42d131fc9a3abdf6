"""The graph of plain Kubernetes objects: modelled objects put together, HPAs and PDBs attached.

Objects are modelled one by one (:mod:`.kube`); which other objects an HPA, a PDB or a
Service refers to is only known once a graph is assembled from them, and in a run with
alternative manifest sets it depends on where the reference is written (:mod:`.scope`).
Links are made through indexes, never by scanning workloads × objects.
"""
from __future__ import annotations

from collections.abc import Iterable

from scalelint.load.tree import YMap
from scalelint.model import Autoscaler, ConfigMap, Disruption, Group, LimitRange, Service, Workload
from scalelint.model.kube import Modeled, model_object
from scalelint.model.refs import FlatReferences, ScopedReferences, selects
from scalelint.model.scope import Layout


def assemble(group_id: str, pieces: Iterable[Modeled], layout: Layout | None = None) -> Group:
    """Modelled objects of one graph → a :class:`Group`, with HPAs, PDBs and LimitRanges attached.

    With a ``layout``, references resolve from the referencing file outward, skipping its
    alternatives (:class:`~scalelint.model.scope.ScopedReferences`); without one, every object
    sees every other (:class:`~scalelint.model.scope.FlatReferences`).
    """
    group = Group(id=group_id, kind="kubernetes")
    paths: dict[str, None] = {}
    entries = []
    for m in pieces:
        obj, part = m.obj, m.part
        paths[obj.path] = None
        group.objects.append(obj)
        entries.append((obj.path, obj.kind, obj.namespace, obj.name, obj if part is None else part))
        if part is None:
            continue
        cls = part.__class__
        if cls is Workload:
            group.workloads.append(part)
        elif cls is Service:
            group.services.append(part)
        elif cls is Autoscaler:
            group.autoscalers.append(part)
        elif cls is Disruption:
            group.disruption_budgets.append(part)
        elif cls is ConfigMap:
            group.configmaps[(part.namespace, part.name)] = part
        elif cls is LimitRange:
            group.limit_ranges.append(part)
    group.paths = list(paths)
    group.refs = ScopedReferences(layout, entries) if layout is not None else FlatReferences(entries)
    attach(group)
    return group


def build_graph(group_id: str, objects: Iterable[tuple[YMap, str]]) -> Group:
    """Objects of one graph → a :class:`Group` (their trees kept: rendered and stdin objects)."""
    return assemble(group_id, [model_object(obj, path) for obj, path in objects])


def attach(group: Group) -> None:
    """Link HPAs, PDBs and LimitRanges to the workloads their references reach (``group.refs``)."""
    refs = group.refs
    for hpa in group.autoscalers:
        for wl in refs.named(hpa.loc.path, hpa.target_kind, hpa.namespace, hpa.target_name):
            if isinstance(wl, Workload):
                wl.autoscalers.append(hpa)
                if wl.autoscaler is None:
                    wl.autoscaler = hpa
    for pdb in group.disruption_budgets:
        for wl in refs.selected(pdb.loc.path, pdb.namespace, pdb.selector, pdb.expressions):
            wl.disruption_budgets.append(pdb)
            if not _never_blocks(pdb, wl):
                wl.ha_reasons.append(f"PodDisruptionBudget {pdb.name} selects it")
    if group.limit_ranges:
        for wl in group.workloads:
            wl.limit_ranges = [lr for lr in refs.in_namespace(wl.path, "LimitRange", wl.namespace or "default")
                               if isinstance(lr, LimitRange)]


def _never_blocks(pdb: Disruption, wl: Workload) -> bool:
    """A PDB that allows every pod the workload ever runs to be down at once (``maxUnavailable: 2`` on an
    HPA of 1–2 replicas, ``100%``) asks for no availability, so it is no sign that the workload must stay
    up. ``maxUnavailable: 1`` on one replica still is: that PDB means something from two replicas on."""
    if pdb.min_available is not None or pdb.max_unavailable is None or pdb.max_unavailable < 2:
        return False
    most = wl.autoscaler.max_replicas if wl.autoscaler is not None else wl.replicas
    return most.known and most.value is not None and pdb.max_unavailable >= int(most.value)


__all__ = ["assemble", "attach", "build_graph", "selects"]  # selects: re-exported from .scope
