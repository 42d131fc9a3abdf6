"""The neutral model: what compose projects and Kubernetes graphs have in common.

Rules and analysis read only these classes. Every value a rule may report on
is a :class:`Val`: the value, where it was set, and whether it is known,
defaulted or unknown — the question every later rule asks.

Why this module is long: it declares every class of the neutral model, about
twenty small dataclasses that every rule imports from this one place.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from scalelint.findings import Loc, ObjectRef, by_fields
from scalelint.load.spans import Anchors, find_after, position
from scalelint.load.tree import YMap, YSeq, anchors_of

T = TypeVar("T")


class State(str, Enum):
    KNOWN = "known"
    DEFAULT = "default"  # not written anywhere: the platform's or a library's documented default applies
    ASSUMED = "assumed"  # nothing says: scalelint's guess, and every message says so
    UNKNOWN = "unknown"  # written, but not resolvable statically (Secret, $(nproc), unset var)


@by_fields
@dataclass(frozen=True, slots=True)
class Spot:
    """Where a string was written, able to point at a character inside it (a flag in a script)."""

    loc: Loc
    anchors: Anchors | None = None
    #: the text as written when it differs from the value the model uses (before compose
    #: interpolation, or the whole command string a token was split from)
    source: str | None = None
    #: a token split out of a longer string (a compose command string), not a scalar of its own
    part: bool = False

    def at(self, k: int = 0) -> Loc:
        line, col = position(self.anchors, (self.loc.line, self.loc.column), max(k, 0))
        return Loc(self.loc.path, line, col)

    def find(self, text: str, needles: list[str]) -> Loc:
        """Where the last of ``needles`` (each searched after the previous) was written.

        Searched in the written text: ``--workers ${W:-4}`` finds the default ``4``; when the
        value came from elsewhere (``.env``), the position right after the flag is the answer.
        """
        written = self.source if self.source is not None else text
        offset = find_after(written, needles)
        if offset < 0 and len(needles) > 1:
            flag = find_after(written, needles[:-1])
            offset = flag + len(needles[-2]) + 1 if flag >= 0 else 0
        return self.at(max(offset, 0))


@by_fields
@dataclass(frozen=True, slots=True)
class Val(Generic[T]):
    value: T | None
    loc: Loc | None
    state: State = State.KNOWN
    #: for DEFAULT: which default; for UNKNOWN: why it cannot be known
    reason: str = ""
    #: for text values: where each character was written (see :class:`Spot`)
    spot: Spot | None = None

    @property
    def known(self) -> bool:
        return self.state is not State.UNKNOWN and self.value is not None


def known(value: T, loc: Loc | None) -> Val[T]:
    return Val(value, loc, State.KNOWN)


def default(value: T, loc: Loc | None, reason: str) -> Val[T]:
    return Val(value, loc, State.DEFAULT, reason)


def assumed(value: T, loc: Loc | None, reason: str) -> Val[T]:
    return Val(value, loc, State.ASSUMED, reason)


def unknown(loc: Loc | None, reason: str) -> Val[Any]:
    return Val(None, loc, State.UNKNOWN, reason)


def loc_key(node: YMap | YSeq, key: Any, path: str = "") -> Loc:
    """Where ``key`` is written in ``node`` (the key itself)."""
    line, col = node.key_pos(key) if isinstance(node, YMap) else node.item_pos(key)
    return Loc(node.key_path(key) or path, line, col)


def loc_value(node: YMap | YSeq, key: Any, path: str = "") -> Loc:
    """Where the value of ``key`` (or item ``key`` of a sequence) is written."""
    line, col = node.value_pos(key) if isinstance(node, YMap) else node.item_pos(key)
    return Loc(node.key_path(key) or path, line, col)


def spot_value(node: YMap | YSeq, key: Any) -> Spot:
    written = anchors_of(node, key)
    if written is None:
        return Spot(loc_value(node, key))
    return Spot(loc_value(node, key), written.anchors, written.text)


def loc_node(node: YMap | YSeq, path: str = "") -> Loc:
    return Loc(node.path or path, node.pos[0], node.pos[1])


@by_fields
@dataclass(frozen=True, slots=True)
class EnvRef:
    """A reference to env that lives elsewhere: ``valueFrom`` or ``envFrom`` (Kubernetes)."""

    source: str  # "configmap" | "secret" | "field" | "resource"
    name: str  # ConfigMap/Secret name; field path for "field"
    key: str | None = None  # for valueFrom.*KeyRef
    prefix: str = ""  # for envFrom
    optional: bool = False


@by_fields
@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    #: the text as written after compose interpolation; None when it comes from a reference
    value: str | None
    loc: Loc
    origin: str = "literal"  # "literal" | "env_file" | "shell" (compose bare KEY)
    ref: EnvRef | None = None
    unset: bool = False  # compose bare KEY / null value with nothing to take it from
    spot: Spot | None = None
    #: compose variables the written value uses that were not set (they interpolated to ""): what the
    #: container really gets depends on an environment scalelint does not see
    unset_vars: tuple[str, ...] = ()


@by_fields
@dataclass(frozen=True, slots=True)
class Build:
    """A compose ``build:``: the context directory, the Dockerfile in it, the stage built."""

    context: str
    dockerfile: str | None
    target: str | None
    loc: Loc
    #: why it cannot be followed (a remote context, a missing directory), else empty
    problem: str = ""


@by_fields
@dataclass(frozen=True, slots=True)
class FileMount:
    """A compose bind mount: a file or directory of the host mounted into the container.

    ``source`` is the host path resolved against the project directory (relative sources are
    files of the repository, which the analysis may read); ``host`` marks an absolute or ``~``
    source, a path of whatever machine runs the container, which scalelint never reads.
    """

    source: str
    target: str
    loc: Loc
    host: bool = False


@by_fields
@dataclass(frozen=True, slots=True)
class VolumeMount:
    """A Kubernetes ``volumeMounts`` entry: which pod volume, where, and which file of it (``subPath``)."""

    volume: str
    path: str
    sub_path: str | None
    loc: Loc


@dataclass(slots=True)
class Resources:
    cpu: Val[float] | None = None
    memory: Val[int] | None = None
    #: where the enclosing block is (to point at when something is missing)
    loc: Loc | None = None


@dataclass(slots=True)
class Container:
    name: str
    loc: Loc
    image: str | None
    #: entrypoint/command + command/args as one token list, compose strings split with shell rules
    argv: list[str] = field(default_factory=list)
    argv_locs: list[Loc] = field(default_factory=list)
    #: per token: where each of its characters was written (for a flag inside a script or string)
    argv_spots: list[Spot] = field(default_factory=list)
    #: True when neither command nor args is written: the image's default runs
    default_command: bool = True
    #: how many leading argv tokens replace the image's ENTRYPOINT (compose ``entrypoint``, Kubernetes
    #: ``command``); the rest replace its CMD. ``entrypoint_set``/``command_set``: written at all (an
    #: empty list written still replaces, and an entrypoint clears the image's CMD)
    entrypoint_count: int = 0
    entrypoint_set: bool = False
    command_set: bool = False
    #: where the image is built from (compose ``build:``), when it is
    build: Build | None = None
    env: list[EnvVar] = field(default_factory=list)
    env_from: list[tuple[EnvRef, Loc]] = field(default_factory=list)
    limits: Resources = field(default_factory=Resources)
    requests: Resources = field(default_factory=Resources)
    init: bool = False
    #: volume name → mount path
    mounts: dict[str, str] = field(default_factory=dict)
    #: compose service names/aliases this container answers to (DB linking)
    hostnames: list[str] = field(default_factory=list)
    #: where the image is named: image-level defaults (a pooler's settings) are located there
    image_loc: Loc | None = None
    #: compose bind mounts (a pooler's ``pgbouncer.ini`` from the repository), in the order written
    bind_mounts: list[FileMount] = field(default_factory=list)
    #: Kubernetes volume mounts with their ``subPath`` (``mounts`` keeps volume → path only)
    volume_mounts: list[VolumeMount] = field(default_factory=list)

    def token_loc(self, index: int, needles: list[str] | None = None) -> Loc:
        """Where token ``index`` of argv was written; with ``needles``, where the last of them is inside it."""
        if index >= len(self.argv_locs):
            return self.loc
        if not needles or index >= len(self.argv_spots):
            return self.argv_locs[index]
        return self.argv_spots[index].find(self.argv[index], needles)

    def env_map(self) -> dict[str, EnvVar]:
        """Later entries win, as in Kubernetes and Compose."""
        return {e.name: e for e in self.env}


@dataclass(slots=True)
class Autoscaler:
    name: str
    namespace: str
    loc: Loc
    target_kind: str
    target_name: str
    min_replicas: Val[int]
    max_replicas: Val[int]


@dataclass(slots=True)
class Disruption:
    """A PodDisruptionBudget."""

    name: str
    namespace: str
    loc: Loc
    selector: dict[str, str] | None  # None: selector absent or uses expressions we cannot read
    expressions: list[Any] = field(default_factory=list)
    #: ``minAvailable`` when it is a count (not a percentage): fewer than count + 1 pods block every drain
    min_available: int | None = None
    min_available_loc: Loc | None = None
    #: ``maxUnavailable`` as a count; ``"100%"`` is read as a count no workload reaches
    max_unavailable: int | None = None


@dataclass(slots=True)
class Workload:
    kind: str  # Kubernetes kind, or "service" for compose
    name: str
    namespace: str | None
    path: str
    loc: Loc  # metadata.name or the service key
    replicas: Val[int]
    containers: list[Container] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    #: codes (and names) suppressed on this object; "all" suppresses everything
    ignore: set[str] = field(default_factory=set)
    #: why the workload must be highly available (empty: not known to)
    ha_reasons: list[str] = field(default_factory=list)
    spread: bool = False  # pod anti-affinity or topology spread on hostname/zone
    #: pod volumes: name → ConfigMap name
    configmap_volumes: dict[str, str] = field(default_factory=dict)
    #: ConfigMap volumes that list ``items``: volume → {file path inside the volume: ConfigMap key}
    configmap_items: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the HPA whose numbers the rules quote (see ``autoscalers`` when several target it)
    autoscaler: Autoscaler | None = None
    #: every HPA that targets it: one per alternative manifest set that scales a shared workload
    autoscalers: list[Autoscaler] = field(default_factory=list)
    disruption_budgets: list[Disruption] = field(default_factory=list)
    #: LimitRanges of its namespace, as its references reach them (SPEC §11)
    limit_ranges: list[LimitRange] = field(default_factory=list)
    #: compose x-scalelint extension or other per-object settings
    settings: dict[str, Any] = field(default_factory=dict)
    #: the source object (read-only), for custom JSON Schema checks
    raw: YMap | None = None
    #: compose: the file's top-level ``version`` ("2.4"), which decides where limits are written
    compose_version: str | None = None
    #: compose ``network_mode: host``: localhost is the host's network, shared with other such services
    host_network: bool = False

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.name, self.namespace)

    @property
    def app_containers(self) -> list[Container]:
        return [c for c in self.containers if not c.init]


@dataclass(slots=True)
class Service:
    """A Kubernetes Service: the names clients use to reach pods."""

    name: str
    namespace: str
    loc: Loc
    selector: dict[str, str]
    #: ``spec.ports``: (port, targetPort — a number, a port name or None for "same as port", where
    #: the port is written); a client's port must be one of them
    ports: list[tuple[int, int | str | None, Loc]] = field(default_factory=list)


class DataSpots(Mapping[str, Spot]):
    """A ConfigMap's data spots: a value written plainly is ``Spot(data_locs[key])``, made when asked;
    only the others are kept (a cluster dump holds tens of thousands of ConfigMaps of plain values)."""

    __slots__ = ("locs", "written")

    def __init__(self, locs: dict[str, Loc], written: dict[str, Spot] | None) -> None:
        self.locs, self.written = locs, written

    def __getitem__(self, key: str) -> Spot:
        spot = self.written.get(key) if self.written else None
        return spot if spot is not None else Spot(self.locs[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.locs)

    def __len__(self) -> int:
        return len(self.locs)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(slots=True)
class ConfigMap:
    name: str
    namespace: str
    loc: Loc
    data: dict[str, str]
    data_locs: dict[str, Loc]
    data_spots: Mapping[str, Spot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        spots, locs = self.data_spots, self.data_locs
        if type(spots) is dict and spots.keys() == locs.keys():
            written = {k: sp for k, sp in spots.items()
                       if sp.anchors is not None or sp.source is not None or sp.part or sp.loc != locs[k]}
            self.data_spots = DataSpots(locs, written or None)


@dataclass(slots=True)
class LimitRange:
    name: str
    namespace: str
    loc: Loc
    default_cpu: bool
    default_memory: bool
    request_cpu: bool
    request_memory: bool


@dataclass(slots=True)
class KubeObject:
    """Any Kubernetes object of the graph, for checks that apply to every kind."""

    api_version: str
    kind: str
    name: str
    namespace: str
    path: str
    loc: Loc
    #: the tree, kept only while something reads it (see :class:`scalelint.model.kube.Modeled`)
    raw: YMap | None


class References:
    """How the objects of a group find each other (SPEC §11), seen from the referencing object's file.

    Every lookup names the file the reference is written in (``origin``): in a run with
    alternative manifest sets (``deploy/dev`` beside ``deploy/prod``) the answer depends on
    where one looks from. Several answers are alternatives of each other (ambiguous); the
    caller decides what a value check does with each. This base class finds nothing; see
    :mod:`scalelint.model.scope` for the implementations.
    """

    def named(self, origin: str, kind: str, namespace: str, name: str) -> list[Any]:
        """Model parts (Workload, Service, ConfigMap ...) or :class:`KubeObject` s of ``kind`` called ``name``."""
        return []

    def selected(self, origin: str, namespace: str, selector: dict[str, str] | None,
                 expressions: list[Any]) -> list[Workload]:
        """Workloads whose pods a label selector picks."""
        return []

    def in_namespace(self, origin: str, kind: str, namespace: str) -> list[Any]:
        """Every part of ``kind`` in ``namespace`` (LimitRanges)."""
        return []


@dataclass
class Group:
    """The scope of cross-object analysis: one compose project or one Kubernetes graph."""

    id: str
    kind: str  # "compose" | "kubernetes"
    paths: list[str] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    configmaps: dict[tuple[str, str], ConfigMap] = field(default_factory=dict)
    autoscalers: list[Autoscaler] = field(default_factory=list)
    disruption_budgets: list[Disruption] = field(default_factory=list)
    limit_ranges: list[LimitRange] = field(default_factory=list)
    objects: list[KubeObject] = field(default_factory=list)
    #: compose: the project directory (for env files); kubernetes: None
    directory: str | None = None
    #: how objects find each other (Kubernetes graphs)
    refs: References = field(default_factory=References)
