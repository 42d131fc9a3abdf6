"""SL001 / SL011: containers without CPU or memory limits (or requests)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from scalelint.check.templates.base import BoundRule, Context, Template
from scalelint.findings import Finding
from scalelint.model import Container, LimitRange, Workload
from scalelint.model.quantity import format_cpu

_WHAT = {"cpu": "CPU", "memory": "memory"}


class ResourceLimits(Template):
    """Each container must declare the listed resources under ``limits`` (or ``requests``)."""

    name = "resource-limits"
    reads_trees = False
    description = "containers must set CPU/memory limits or requests"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "require": {"type": "array", "items": {"enum": ["cpu", "memory"]}, "uniqueItems": True},
            "include-init-containers": {"type": "boolean"},
            "section": {"enum": ["limits", "requests"]},
        },
    }
    defaults: ClassVar[dict[str, Any]] = {"require": ["memory", "cpu"], "include-init-containers": True, "section": "limits"}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        section = rule.params["section"]
        require = [r for r in ("memory", "cpu") if r in rule.params["require"]]
        include_init = rule.params["include-init-containers"]
        for wl in ctx.group.workloads:
            if section == "requests" and wl.kind == "service":
                continue  # Compose has no scheduler requests worth requiring
            covered = _covered_by_limit_range(wl.limit_ranges, section)
            for c in wl.containers:
                if c.init and not include_init:
                    continue
                missing = [r for r in require if r not in covered and not _has(c, section, r)]
                if c.init and section == "requests":
                    # the pod is scheduled on max(largest init request, sum of app requests): an init
                    # container without a request changes nothing once the app containers request it
                    missing = [r for r in missing if not any(_has(a, section, r) for a in wl.app_containers)]
                if missing:
                    yield rule.finding(_message(wl, c, section, missing), c.loc, wl.ref, fix=_fix(wl, section, missing))


def _has(c: Container, section: str, resource: str) -> bool:
    res = c.limits if section == "limits" else c.requests
    if getattr(res, resource) is not None:
        return True
    # Kubernetes copies a limit into the request when the request is not written
    return section == "requests" and getattr(c.limits, resource) is not None


def _covered_by_limit_range(ranges: list[LimitRange], section: str) -> set[str]:
    covered: set[str] = set()
    for lr in ranges:
        if (lr.default_cpu if section == "limits" else lr.request_cpu):
            covered.add("cpu")
        if (lr.default_memory if section == "limits" else lr.request_memory):
            covered.add("memory")
    return covered


def _message(wl: Workload, c: Container, section: str, missing: list[str]) -> str:
    what = " and ".join(_WHAT[m] for m in missing)
    noun = "limit" if section == "limits" else "request"
    plural = "s" if len(missing) > 1 else ""
    if wl.kind == "service":
        return f"service {wl.name} sets no {what} {noun}{plural}: {_unbounded(c, missing, compose=True)}"
    role = "init container" if c.init else "container"
    consequence = (_unbounded(c, missing, compose=False) if section == "limits"
                   else "the scheduler places the pod as if it needed nothing")
    return f"{role} {c.name} of {wl.kind} {wl.name} sets no {what} {noun}{plural}: {consequence}"


def _unbounded(c: Container, missing: list[str], compose: bool) -> str:
    """What a missing limit lets happen, no more: memory is what takes a node down (the kernel's OOM
    killer, kubelet evictions); CPU without a limit is only used while idle where neighbours request
    theirs (CFS shares follow requests), but it leaves worker counts unchecked against a limit (SL005)."""
    place = "host" if compose else "node"
    if "memory" in missing:
        return (f"one leak can take all of the {place}'s memory"
                + ("" if compose else " and get other pods evicted"))
    if compose:
        return "a busy process can take every core of the host, and its workers cannot be checked against a limit"
    request = c.requests.cpu
    above = (f"beyond its {format_cpu(float(request.value))} CPU request"
             if request is not None and request.known and request.value else "without a CPU request")
    return (f"{above} it uses whatever CPU is idle on the node, and its workers cannot be checked against a "
            "CPU limit (teams that do not set CPU limits use `require: [memory]`)")


def _fix(wl: Workload, section: str, missing: list[str]) -> str:
    if wl.kind == "service":
        if (wl.compose_version or "").strip().startswith("2"):
            # the version 2 file format has no deploy: section (docker-compose 1.x refuses it)
            legacy = {"cpu": "cpus", "memory": "mem_limit"}
            return "set " + " and ".join(legacy[m] for m in missing) + f" (the version {wl.compose_version} " \
                "file format has no deploy.resources)"
        keys = {"cpu": "cpus", "memory": "memory"}
        return "set " + " and ".join(f"deploy.resources.limits.{keys[m]}" for m in missing)
    return "set " + " and ".join(f"resources.{section}.{m}" for m in missing)
