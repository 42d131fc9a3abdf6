"""Wrong types where the models read: one notice each, at the value (SPEC §6).

The models treat a value of the wrong shape as absent (``replicas: three``, ``resources: "abc"``,
``env`` as a mapping, ``command: 42``); this module says so, so that a typo does not silently
switch a rule off. It checks only the places the models read, and only what they would drop:
a whole number written as ``"3"`` is read, so it is not reported. ``null`` counts as absent
(as in Kubernetes and Compose) except where a section is required (``containers``, ``services``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scalelint.findings import Notice
from scalelint.load.tree import YMap, YSeq
from scalelint.model import quantity


@dataclass(frozen=True)
class Shape:
    """What a value must be: ``check`` says yes or no; ``keys``/``values``/``items`` go further in."""

    expected: str
    check: Callable[[Any], bool]
    keys: dict[str, Shape] = field(default_factory=dict)
    #: the shape of every value of a mapping with free keys (compose ``services``)
    values: Shape | None = None
    #: the shape of every item of a sequence
    items: Shape | None = None
    required: bool = False


def _is_map(v: Any) -> bool:
    return isinstance(v, dict)


def _is_seq(v: Any) -> bool:
    return isinstance(v, list)


def _is_text(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool))


def _is_count(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, str) and v.strip().isdigit())


def _parses(parse: Callable[[Any], Any]) -> Callable[[Any], bool]:
    return lambda v: not isinstance(v, bool) and parse(v) is not None


def Map(keys: dict[str, Shape] | None = None, *, values: Shape | None = None, required: bool = False) -> Shape:
    return Shape("a mapping", _is_map, keys or {}, values, None, required)


def Seq(items: Shape | None = None, *, required: bool = False) -> Shape:
    return Shape("a list", _is_seq, items=items, required=required)


def Either(expected: str, *shapes: Shape) -> Shape:
    """One of several shapes (``command`` as a string or a list); the first that fits goes further in."""
    return Shape(expected, lambda v: any(s.check(v) for s in shapes), items=next(
        (s.items for s in shapes if s.items is not None), None), keys=next((s.keys for s in shapes if s.keys), {}))


TEXT = Shape("text", _is_text)
SCALAR = Shape("a scalar", _is_scalar)
COUNT = Shape("a whole number", _is_count)
K8S_CPU = Shape("a CPU quantity (500m, 1)", _parses(quantity.k8s_cpu))
K8S_MEMORY = Shape("a memory quantity (512Mi, 1Gi)", _parses(quantity.k8s_memory))
CPUS = Shape("a CPU count (0.5)", _parses(quantity.compose_cpus))
MEMORY = Shape("a memory size (512m, 1g)", _parses(quantity.compose_memory))

# ---------------------------------------------------------------------------------------- Kubernetes

_META = Map({"name": TEXT, "namespace": TEXT, "labels": Map(values=SCALAR), "annotations": Map(values=SCALAR)})
_K8S_RESOURCES = Map({"cpu": K8S_CPU, "memory": K8S_MEMORY})
_CONTAINER = Map({
    "name": TEXT, "image": TEXT,
    "command": Seq(SCALAR), "args": Seq(SCALAR),
    "env": Seq(Map({"name": TEXT, "value": SCALAR, "valueFrom": Map()})),
    "envFrom": Seq(Map({"configMapRef": Map(), "secretRef": Map(), "prefix": TEXT})),
    "resources": Map({"limits": _K8S_RESOURCES, "requests": _K8S_RESOURCES}),
    "volumeMounts": Seq(Map({"name": TEXT, "mountPath": TEXT})),
})
_POD_SPEC = Map({
    "containers": Seq(_CONTAINER, required=True), "initContainers": Seq(_CONTAINER),
    "volumes": Seq(Map({"name": TEXT, "configMap": Map()})),
    "topologySpreadConstraints": Seq(Map()), "affinity": Map(),
}, required=True)
_TEMPLATE = Map({"metadata": _META, "spec": _POD_SPEC}, required=True)
_REPLICATED = Map({"replicas": COUNT, "selector": Map(), "template": _TEMPLATE}, required=True)
_JOB = Map({"parallelism": COUNT, "template": _TEMPLATE}, required=True)

KINDS: dict[str, dict[str, Shape]] = {
    **{k: {"spec": _REPLICATED} for k in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")},
    "DaemonSet": {"spec": Map({"template": _TEMPLATE}, required=True)},
    "Job": {"spec": _JOB},
    "CronJob": {"spec": Map({"jobTemplate": Map({"spec": _JOB}, required=True)}, required=True)},
    "Pod": {"spec": _POD_SPEC},
    "HorizontalPodAutoscaler": {"spec": Map({
        "scaleTargetRef": Map({"kind": TEXT, "name": TEXT}, required=True),
        "minReplicas": COUNT, "maxReplicas": COUNT}, required=True)},
    "PodDisruptionBudget": {"spec": Map({"selector": Map({"matchLabels": Map(), "matchExpressions": Seq(Map())})})},
    "Service": {"spec": Map({"selector": Map()})},
    "ConfigMap": {"data": Map(values=SCALAR)},
    "List": {"items": Seq(Map(), required=True)},
    "LimitRange": {"spec": Map({"limits": Seq(Map({"type": TEXT, "default": Map(), "defaultRequest": Map()}))})},
}

# ---------------------------------------------------------------------------------------- Compose

_COMPOSE_RESOURCES = Map({"cpus": CPUS, "memory": MEMORY})
_COMMAND = Either("a string or a list", TEXT, Seq(SCALAR))
_KEYED = Either("a mapping or a list", Map(), Seq(TEXT))
SERVICE = Map({
    "image": TEXT, "build": Either("a string or a mapping", TEXT, Map()),
    "command": _COMMAND, "entrypoint": _COMMAND,
    "environment": _KEYED, "labels": _KEYED,
    "env_file": Either("a string or a list", TEXT, Seq()),
    "deploy": Map({"replicas": COUNT, "mode": TEXT, "placement": Map(),
                   "resources": Map({"limits": _COMPOSE_RESOURCES, "reservations": _COMPOSE_RESOURCES})}),
    "scale": COUNT, "cpus": CPUS, "mem_limit": MEMORY,
    "x-scalelint": Map({"ignore": Either("a string or a list", TEXT, Seq(SCALAR)), "ha-required": SCALAR}),
    "networks": Either("a mapping or a list", Map(), Seq()),
    "container_name": TEXT, "hostname": TEXT,
}, required=True)
COMPOSE = Map({"services": Map(values=SERVICE, required=True)})


# ---------------------------------------------------------------------------------------- the walk

def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    kind = "a string" if isinstance(value, str) else "a number"
    return f"{kind} ({' '.join(text.split())})"


def _walk(node: Any, shape: Shape, where: str, parent: Any, key: Any) -> Iterator[tuple[str, Any, Any]]:
    if node is None:
        if shape.required:
            yield f"{where} is null, expected {shape.expected}: there is nothing to check", parent, key
        return
    if not shape.check(node):
        yield f"{where} is {_describe(node)}, expected {shape.expected}: ignored", parent, key
        return
    if isinstance(node, dict):
        for name, sub in shape.keys.items():
            if name in node and not _reset(node, name):
                yield from _walk(node[name], sub, f"{where}.{name}", node, name)
        if shape.values is not None:
            for name, value in node.items():
                if (shape.values is not SERVICE or not str(name).startswith("x-")) and not _reset(node, name):
                    yield from _walk(value, shape.values, f"{where}.{name}", node, name)
    elif isinstance(node, list) and shape.items is not None:
        for i, item in enumerate(node):
            yield from _walk(item, shape.items, f"{where}[{i}]", node, i)


def _reset(node: Any, key: Any) -> bool:
    """Compose's ``!reset`` (removes what the base file set): any value goes."""
    return isinstance(node, YMap) and node.tag(key) == "!reset"


def _notices(found: Iterator[tuple[str, Any, Any]], path: str) -> list[Notice]:
    out = []
    for message, parent, key in found:
        if isinstance(parent, YMap):
            line, col = parent.value_pos(key)
            where = parent.key_path(key) or path
        elif isinstance(parent, YSeq):
            line, col = parent.item_pos(key)
            where = parent.key_path(key) or path
        else:  # pragma: no cover - trees always come from the loader
            line, col, where = 0, 0, path
        out.append(Notice(f"wrong type: {message}", where, line, col))
    return out


def kube_notices(obj: YMap, path: str) -> list[Notice]:
    """Wrong types in one Kubernetes object, for its kind (a missing section is not this module's business)."""
    kind = obj.get("kind")
    found: list[tuple[str, Any, Any]] = []
    if "metadata" in obj:
        found.extend(_walk(obj["metadata"], _META, "metadata", obj, "metadata"))
    for name, shape in KINDS.get(kind, {}).items() if isinstance(kind, str) else ():
        if name in obj:
            found.extend(_walk(obj[name], shape, name, obj, name))
    return _notices(iter(found), path)


def compose_notices(root: YMap, path: str) -> list[Notice]:
    """Wrong types in one (interpolated) compose file."""
    if "services" not in root:
        return []
    return _notices(_walk(root["services"], COMPOSE.keys["services"], "services", root, "services"), path)


def document_notices(root: Any, path: str) -> list[Notice]:
    """Wrong types in a document's Kubernetes objects: itself, or a ``List`` and its items."""
    if not (isinstance(root, YMap) and isinstance(root.get("apiVersion"), str) and isinstance(root.get("kind"), str)):
        return []
    out = kube_notices(root, path)
    kind = root["kind"]
    items = root.get("items")
    if (kind == "List" or kind.endswith("List")) and isinstance(items, list):
        for item in items:
            out.extend(document_notices(item, path))
    return out
