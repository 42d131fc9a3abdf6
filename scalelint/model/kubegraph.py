"""The graph of plain Kubernetes objects: modelled objects put together, HPAs and PDBs attached.

Objects are modelled one by one (:mod:`.kube`); which other objects an HPA, a PDB or a
Service refers to is only known once a graph is assembled from them. Links are made
with hash joins, never by scanning workloads × objects.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scalelint.load.tree import YMap, get_seq, get_str
from scalelint.model import Autoscaler, ConfigMap, Disruption, Group, LimitRange, Service, Workload
from scalelint.model.kube import Modeled, model_object


def assemble(group_id: str, pieces: Iterable[Modeled]) -> Group:
    """Modelled objects of one graph → a :class:`Group`, with HPAs, PDBs and LimitRanges attached."""
    group = Group(id=group_id, kind="kubernetes")
    paths: dict[str, None] = {}
    for m in pieces:
        obj, part = m.obj, m.part
        paths[obj.path] = None
        group.objects.append(obj)
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
    attach(group)
    return group


def build_graph(group_id: str, objects: Iterable[tuple[YMap, str]]) -> Group:
    """Objects of one graph → a :class:`Group` (their trees kept: rendered and stdin objects)."""
    return assemble(group_id, [model_object(obj, path) for obj, path in objects])


def selects(selector: dict[str, str] | None, expressions: list[Any], labels: dict[str, str]) -> bool:
    """Label-selector semantics (matchLabels and matchExpressions); an empty selector selects nothing here."""
    if not selector and not expressions:
        return False
    for k, v in (selector or {}).items():
        if labels.get(k) != v:
            return False
    for expr in expressions:
        key, op = get_str(expr, "key"), get_str(expr, "operator")
        values = [str(v) for v in get_seq(expr, "values") or ()]
        if key is None or op is None:
            return False
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def attach(group: Group) -> None:
    """Link HPAs and PDBs to workloads with hash joins (no workload × object scans)."""
    by_target: dict[tuple[str, str, str], Autoscaler] = {}
    for hpa in group.autoscalers:
        by_target.setdefault((hpa.namespace, hpa.target_kind, hpa.target_name), hpa)
    by_namespace: dict[str, list[Workload]] = {}
    #: (namespace, label, value) → workloads whose pods carry it: a PDB with matchLabels looks at
    #: those only (thousands of PDBs × workloads in one namespace would otherwise be quadratic)
    by_label: dict[tuple[str, str, str], list[Workload]] = {}
    for wl in group.workloads:
        ns = wl.namespace or "default"
        wl.autoscaler = by_target.get((ns, wl.kind, wl.name))
        by_namespace.setdefault(ns, []).append(wl)
        for k, v in wl.pod_labels.items():
            by_label.setdefault((ns, k, v), []).append(wl)
    for pdb in group.disruption_budgets:
        if pdb.selector:
            candidates = min((by_label.get((pdb.namespace, k, v), []) for k, v in pdb.selector.items()), key=len)
        else:
            candidates = by_namespace.get(pdb.namespace, [])
        for wl in candidates:
            if selects(pdb.selector, pdb.expressions, wl.pod_labels):
                wl.disruption_budgets.append(pdb)
                wl.ha_reasons.append(f"PodDisruptionBudget {pdb.name} selects it")


__all__ = ["assemble", "attach", "build_graph", "selects"]
