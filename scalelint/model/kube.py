"""Model: Kubernetes objects → :mod:`scalelint.model`.

Every read tolerates any shape: a wrong type is treated as absent, never raised.

Why this module is long: it holds one small reader per kind the rules read (workloads and their
containers, HPAs, PDBs, Services, ConfigMaps, LimitRanges), sharing the tolerant helpers at the top;
the graph they form lives in :mod:`scalelint.model.kubegraph`.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scalelint.findings import Loc
from scalelint.load.tree import YMap, YSeq, get_map, get_seq, get_str
from scalelint.model import (
    Autoscaler,
    ConfigMap,
    Container,
    Disruption,
    EnvRef,
    EnvVar,
    KubeObject,
    LimitRange,
    Resources,
    Service,
    Spot,
    Val,
    VolumeMount,
    Workload,
    default,
    known,
    loc_key,
    loc_node,
    loc_value,
    quantity,
    spot_value,
    unknown,
)

WORKLOAD_KINDS = {
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod",
}
#: kinds whose ``spec.replicas`` is the pod count
_REPLICATED = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
HA_ANNOTATION = "scalelint.io/ha-required"
IGNORE_ANNOTATION = "scalelint.io/ignore"
_SPREAD_KEYS = {"kubernetes.io/hostname", "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone",
                "topology.kubernetes.io/region"}


def is_object(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("apiVersion"), str) and isinstance(node.get("kind"), str)


def flatten(node: Any) -> Iterator[YMap]:
    """A document's objects: itself, or the ``items`` of a ``List``/``*List`` kind."""
    if not is_object(node):
        return
    kind = node["kind"]
    if kind == "List" or (kind.endswith("List") and isinstance(node.get("items"), list)):
        for item in get_seq(node, "items") or ():
            yield from flatten(item)
    else:
        yield node


def _str_map(node: Any) -> dict[str, str]:
    if not isinstance(node, dict):
        return {}
    out = {}
    for k, v in node.items():
        if isinstance(v, (str, int, float, bool)) and not isinstance(k, (dict, list)):
            out[str(k)] = (("true" if v else "false") if isinstance(v, bool) else str(v))
    return out


def identity(obj: YMap) -> tuple[str, str, str]:
    meta = get_map(obj, "metadata")
    name = get_str(meta, "name") or get_str(meta, "generateName") or "<unnamed>"
    namespace = get_str(meta, "namespace") or "default"
    return namespace, str(obj.get("kind")), name


def name_loc(obj: YMap) -> Loc:
    meta = get_map(obj, "metadata")
    if meta is not None and "name" in meta:
        return loc_value(meta, "name")
    return loc_node(obj)


def pod_template(obj: YMap) -> tuple[YMap | None, YMap | None]:
    """(pod metadata, pod spec) wherever the kind keeps them."""
    kind = obj.get("kind")
    spec = get_map(obj, "spec")
    if kind == "Pod":
        return get_map(obj, "metadata"), spec
    if kind == "CronJob":
        spec = get_map(get_map(spec, "jobTemplate"), "spec")
    template = get_map(spec, "template")
    return get_map(template, "metadata"), get_map(template, "spec")


def _int_val(node: YMap, key: str, what: str) -> Val[int]:
    """A count, located at its key (``replicas:``), where a user looks to change it."""
    value = node.get(key)
    loc = loc_key(node, key)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return known(int(value.strip()), loc)
        return unknown(loc, f"{what} is {value!r}, not a whole number")
    return known(value, loc)


def _replicas(obj: YMap) -> Val[int]:
    kind = obj.get("kind")
    spec = get_map(obj, "spec")
    if kind in _REPLICATED:
        if spec is not None and "replicas" in spec and spec.get("replicas") is not None:
            return _int_val(spec, "replicas", "replicas")
        return default(1, name_loc(obj), "spec.replicas not set: Kubernetes runs 1")
    if kind in ("Job", "CronJob"):
        job = get_map(get_map(spec, "jobTemplate"), "spec") if kind == "CronJob" else spec
        if job is not None and job.get("parallelism") is not None:
            return _int_val(job, "parallelism", "parallelism")
        return default(1, name_loc(obj), "parallelism not set: 1 pod at a time")
    if kind == "DaemonSet":
        return unknown(name_loc(obj), "a DaemonSet runs one pod per node")
    return default(1, name_loc(obj), "a bare Pod")


def _resources(container: YMap, which: str) -> Resources:
    res = get_map(container, "resources")
    block = get_map(res, which)
    out = Resources(loc=loc_key(res, which) if block is not None and res is not None else None)
    if block is None:
        return out
    if "cpu" in block:
        cores = quantity.k8s_cpu(block.get("cpu"))
        loc = loc_value(block, "cpu")
        out.cpu = known(cores, loc) if cores is not None else unknown(loc, f"cpu {block.get('cpu')!r} is not a quantity")
    if "memory" in block:
        size = quantity.k8s_memory(block.get("memory"))
        loc = loc_value(block, "memory")
        out.memory = (known(size, loc) if size is not None
                      else unknown(loc, f"memory {block.get('memory')!r} is not a quantity"))
    return out


def _argv(container: YMap) -> tuple[list[str], list[Spot], int, bool, bool]:
    """command + args as tokens with their spots; how many tokens the command has; whether each is written."""
    argv: list[str] = []
    spots: list[Spot] = []
    count = 0
    for key in ("command", "args"):
        seq = container.get(key)
        if isinstance(seq, YSeq):
            for i, item in enumerate(seq):
                if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                    argv.append(str(item))
                    spots.append(spot_value(seq, i))
        elif isinstance(seq, str):  # invalid in Kubernetes, but say what it holds
            argv.append(seq)
            spots.append(spot_value(container, key))
        if key == "command":
            count = len(argv)
    return argv, spots, count, "command" in container, "args" in container


def _env(container: YMap) -> tuple[list[EnvVar], list[tuple[EnvRef, Loc]]]:
    env: list[EnvVar] = []
    for i, item in enumerate(get_seq(container, "env") or ()):
        name = get_str(item, "name")
        if not name:
            continue
        if "valueFrom" in item:
            ref = _value_from(get_map(item, "valueFrom"))
            env.append(EnvVar(name, None, loc_value(item, "valueFrom"), "ref", ref))
        else:
            value = item.get("value")
            text = "" if value is None else (get_str(item, "value") or "")
            spot = spot_value(item, "value") if "value" in item else spot_value(item, "name")
            env.append(EnvVar(name, text, spot.loc, spot=spot))
    env_from: list[tuple[EnvRef, Loc]] = []
    for item in get_seq(container, "envFrom") or ():
        if not isinstance(item, YMap):
            continue
        prefix = get_str(item, "prefix") or ""
        for key, source in (("configMapRef", "configmap"), ("secretRef", "secret")):
            node = get_map(item, key)
            if node is not None:
                env_from.append((EnvRef(source, get_str(node, "name") or "", None, prefix,
                                        node.get("optional") is True), loc_value(item, key)))
    return env, env_from


def _value_from(node: YMap | None) -> EnvRef:
    if node is None:
        return EnvRef("unknown", "")
    for key, source in (("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")):
        ref = get_map(node, key)
        if ref is not None:
            return EnvRef(source, get_str(ref, "name") or "", get_str(ref, "key"), "", ref.get("optional") is True)
    if "fieldRef" in node:
        return EnvRef("field", get_str(get_map(node, "fieldRef"), "fieldPath") or "")
    if "resourceFieldRef" in node:
        return EnvRef("resource", get_str(get_map(node, "resourceFieldRef"), "resource") or "")
    return EnvRef("unknown", "")


def _containers(spec: YMap) -> list[Container]:
    out: list[Container] = []
    for key, init in (("initContainers", True), ("containers", False)):
        for i, item in enumerate(get_seq(spec, key) or ()):
            if not isinstance(item, YMap):
                continue
            seq = spec[key]
            name = get_str(item, "name") or f"{key}[{i}]"
            loc = loc_value(item, "name") if "name" in item else loc_value(seq, i)
            argv, argv_spots, entry_count, entry_set, args_set = _argv(item)
            env, env_from = _env(item)
            mounts = {}
            volume_mounts = []
            for m in get_seq(item, "volumeMounts") or ():
                vname, path = get_str(m, "name"), get_str(m, "mountPath")
                if vname and path:
                    mounts[vname] = path
                    volume_mounts.append(VolumeMount(vname, path, get_str(m, "subPath") or None,
                                                     loc_value(m, "mountPath")))
            out.append(Container(
                name=name, loc=loc, image=get_str(item, "image"), argv=argv,
                argv_locs=[sp.loc for sp in argv_spots], argv_spots=argv_spots,
                default_command=not (entry_set or args_set), entrypoint_count=entry_count,
                entrypoint_set=entry_set, command_set=args_set, env=env, env_from=env_from,
                limits=_resources(item, "limits"), requests=_resources(item, "requests"), init=init,
                mounts=mounts, volume_mounts=volume_mounts,
                image_loc=loc_value(item, "image") if "image" in item else None,
            ))
    return out


def _has_spread(spec: YMap) -> bool:
    for c in get_seq(spec, "topologySpreadConstraints") or ():
        if get_str(c, "topologyKey") in _SPREAD_KEYS:
            return True
    anti = get_map(get_map(spec, "affinity"), "podAntiAffinity")
    if anti is None:
        return False
    for key in ("requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution"):
        for term in get_seq(anti, key) or ():
            term = get_map(term, "podAffinityTerm") or term
            if get_str(term, "topologyKey") in _SPREAD_KEYS:
                return True
    return False


def _ignore_codes(text: str | None) -> set[str]:
    if not text:
        return set()
    return {c.strip().upper() if c.strip().upper().startswith("SL") or c.strip().lower() == "all"
            else c.strip().lower() for c in text.split(",") if c.strip()} | (
        {"ALL"} if text.strip().lower() == "all" else set())


def workload(obj: YMap, path: str) -> Workload | None:
    namespace, kind, name = identity(obj)
    meta = get_map(obj, "metadata")
    pod_meta, spec = pod_template(obj)
    labels = _str_map(get_map(meta, "labels"))
    annotations = _str_map(get_map(meta, "annotations"))
    wl = Workload(
        kind=kind, name=name, namespace=namespace, path=path, loc=name_loc(obj), replicas=_replicas(obj),
        labels=labels, annotations=annotations,
        pod_labels=_str_map(get_map(pod_meta, "labels")) if kind != "Pod" else labels, raw=obj,
    )
    if spec is not None:
        wl.containers = _containers(spec)
        wl.spread = _has_spread(spec)
        for vol in get_seq(spec, "volumes") or ():
            cm = get_map(vol, "configMap")
            vname = get_str(vol, "name")
            if cm is not None and vname:
                wl.configmap_volumes[vname] = get_str(cm, "name") or ""
                items = {get_str(i, "path") or "": get_str(i, "key") or "" for i in get_seq(cm, "items") or ()}
                if items:
                    wl.configmap_items[vname] = {p: k for p, k in items.items() if p and k}
            for src in get_seq(get_map(vol, "projected"), "sources") or ():
                pcm = get_map(src, "configMap")
                if pcm is not None and vname:
                    wl.configmap_volumes[vname] = get_str(pcm, "name") or ""
    wl.ignore = _ignore_codes(annotations.get(IGNORE_ANNOTATION))
    for where, values in (("annotation", annotations), ("label", labels)):
        if values.get(HA_ANNOTATION, "").strip().lower() == "true":
            wl.ha_reasons.append(f"{where} {HA_ANNOTATION}: \"true\"")
    return wl


def _selector(node: YMap | None) -> tuple[dict[str, str] | None, list[Any]]:
    if node is None:
        return None, []
    labels = get_map(node, "matchLabels")
    exprs: list[Any] = get_seq(node, "matchExpressions") or []
    if labels is None and not exprs:
        # a bare map (Service-style) used as a selector
        plain = _str_map(node)
        return (plain or None), []
    return _str_map(labels), list(exprs)


#: operator kinds whose tree the analysis reads after modelling (``databases.operator_database``,
#: ``analyze.poolers``: the poolers and clusters operators run for them)
_RAW_KINDS = {("Cluster", "postgresql.cnpg.io/"), ("postgresql", "acid.zalan.do/"), ("Pooler", "postgresql.cnpg.io/"),
              ("PostgresCluster", "postgres-operator.crunchydata.com/"), ("PerconaPGCluster", "pgv2.percona.com/")}


class Modeled:
    """One object modelled on its own, before it meets the rest of its graph.

    What the object is in the model (a workload, a Service, an HPA …) depends only on
    the object itself, so it is computed right after loading — in a worker process when
    the run has many files — and the YAML tree is dropped unless something still reads
    it: checks whose template ``reads_trees`` (custom JSON Schema checks, plugins) and
    operator kinds whose database settings the analysis reads.
    """

    __slots__ = ("key", "obj", "part")

    def __init__(self, key: tuple[str, str, str], obj: KubeObject, part: Any = None) -> None:
        self.key = key
        self.obj = obj
        #: the object in the model: a Workload, Service, Autoscaler, Disruption, ConfigMap, LimitRange or None
        self.part = part


def model_object(obj: YMap, path: str, keep_raw: bool = True) -> Modeled:
    namespace, kind, name = key = identity(obj)
    loc = name_loc(obj)
    api = str(obj.get("apiVersion"))
    raw = obj if keep_raw or any(kind == k and api.startswith(a) for k, a in _RAW_KINDS) else None
    spec = get_map(obj, "spec")
    part: Any = None
    if kind in WORKLOAD_KINDS:
        part = workload(obj, path)
        if part is not None and raw is None:
            part.raw = None
    elif kind == "HorizontalPodAutoscaler":
        part = _hpa(obj, namespace, name, loc)
    elif kind == "PodDisruptionBudget":
        selector, exprs = _selector(get_map(spec, "selector"))
        part = Disruption(name, namespace, loc, selector, exprs)
        if spec is not None and type(spec.get("minAvailable")) is int:  # a count, not "50%" (nor a bool)
            part.min_available, part.min_available_loc = spec["minAvailable"], loc_value(spec, "minAvailable", path)
        most = spec.get("maxUnavailable") if spec is not None else None
        part.max_unavailable = most if type(most) is int else (1 << 31 if str(most).strip() == "100%" else None)
    elif kind == "Service":
        part = Service(name, namespace, loc, _str_map(get_map(spec, "selector")), _service_ports(spec))
    elif kind == "ConfigMap":
        data_node = get_map(obj, "data")
        data = _str_map(data_node)
        spots = {k: spot_value(data_node, k) for k in data} if data_node is not None else {}
        part = ConfigMap(name, namespace, loc, data, {k: sp.loc for k, sp in spots.items()}, spots)
    elif kind == "LimitRange":
        part = _limit_range(obj, namespace, name, loc)
    return Modeled(key, KubeObject(api, kind, name, namespace, path, loc, raw), part)  # type: ignore[arg-type]


def _service_ports(spec: YMap | None) -> list[tuple[int, int | str | None, Loc]]:
    """``spec.ports`` as (port, targetPort, where the port is written); entries without a numeric port are left out."""
    out: list[tuple[int, int | str | None, Loc]] = []
    for item in get_seq(spec, "ports") or ():
        port, target = get_str(item, "port"), get_str(item, "targetPort")
        if port is not None and port.isdigit() and not isinstance(item.get("port"), (bool, str)):
            out.append((int(port), int(target) if target and target.isdigit() else target, loc_value(item, "port")))
    return out


def _hpa(obj: YMap, namespace: str, name: str, loc: Loc) -> Autoscaler:
    spec = get_map(obj, "spec") or YMap(obj.pos, obj.path)
    target = get_map(spec, "scaleTargetRef")
    if spec.get("minReplicas") is None:
        # nothing written: rules fall back to the workload's own name (SPEC §3 SL004 location chain)
        min_r: Val[int] = default(1, None, "minReplicas not set: the HPA keeps at least 1")
    else:
        min_r = _int_val(spec, "minReplicas", "minReplicas")
    max_r = _int_val(spec, "maxReplicas", "maxReplicas") if "maxReplicas" in spec else unknown(
        loc, "maxReplicas not set")
    return Autoscaler(name, namespace, loc, get_str(target, "kind") or "", get_str(target, "name") or "",
                      min_r, max_r)


def _limit_range(obj: YMap, namespace: str, name: str, loc: Loc) -> LimitRange:
    lr = LimitRange(name, namespace, loc, False, False, False, False)
    for item in get_seq(get_map(obj, "spec"), "limits") or ():
        if get_str(item, "type") != "Container":
            continue
        dflt: dict[str, Any] = get_map(item, "default") or {}
        req: dict[str, Any] = get_map(item, "defaultRequest") or {}
        lr.default_cpu |= "cpu" in dflt
        lr.default_memory |= "memory" in dflt
        # Kubernetes uses the default limit as the request when no defaultRequest is set
        lr.request_cpu |= "cpu" in req or "cpu" in dflt
        lr.request_memory |= "memory" in req or "memory" in dflt
    return lr


__all__ = ["Modeled", "flatten", "identity", "is_object", "model_object", "workload"]
