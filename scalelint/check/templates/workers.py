"""SL002 / SL005 / SL006: worker counts against the pod's limit, its CPU and its memory."""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

from scalelint.analyze.facts import MEMORY_ANNOTATION
from scalelint.analyze.workers import Workers
from scalelint.check.templates.base import BoundRule, Context, Template, related
from scalelint.findings import Finding
from scalelint.model import Container, State, Workload
from scalelint.model.quantity import format_bytes, format_cpu, k8s_memory


def _label(wl: Workload) -> str:
    if wl.kind == "service":
        return f"service {wl.name}"
    return f"{wl.kind} {wl.name}"


def _who(c: Container, wl: Workload) -> str:
    """``service api`` for a compose service's own container, ``api of Deployment api`` otherwise."""
    return _label(wl) if wl.kind == "service" and c.name == wl.name else f"{c.name} of {_label(wl)}"


def _workers(n: int) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"


class WorkersPerPod(Template):
    """Worker processes per pod (summed over its app containers) above a limit."""

    name = "workers-per-pod"
    reads_trees = False
    description = "too many worker processes in one pod"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"max-workers-per-pod": {"type": "integer", "minimum": 1}},
    }
    defaults: ClassVar[dict[str, Any]] = {"max-workers-per-pod": 8}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        limit = int(rule.params["max-workers-per-pod"])
        for wl in ctx.group.workloads:
            counted = [(c, w) for c, w in ctx.facts.pod_workers(wl) if w.count.known and w.count.value is not None]
            total = sum(int(w.count.value or 0) for _, w in counted)
            if total <= limit or not counted:
                continue
            top_c, top = max(counted, key=lambda cw: int(cw[1].count.value or 0))
            loc = top.count.loc or top_c.loc
            parts = " + ".join(f"{c.name} {w.count.value} ({w.source})" for c, w in counted)
            breakdown = f"{parts} = {total}" if len(counted) > 1 else f"{top.source} → {total}"
            rel = []
            for c, w in counted:
                if w.count.loc is not loc:
                    rel += related(w.count.loc, f"{c.name}: {w.source}")
                if w.via is not None:
                    rel += related(w.via, f"{c.name}: the flag that reads it")
            unit = "pod" if wl.kind != "service" else "container"
            yield rule.finding(
                f"{_label(wl)} runs {total} worker processes per {unit} ({breakdown}), more than {limit}: "
                "workers fight over the same CPU and memory",
                loc, wl.ref, related=rel,
                fix=f"keep workers at {limit} or fewer per {unit} and add replicas instead",
            )


class WorkersCpu(Template):
    """More workers than gunicorn's guidance (2 × cores + 1) for the container's CPU limit."""

    name = "workers-cpu"
    reads_trees = False
    description = "workers exceed 2 x CPU limit + 1"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"per-core": {"type": "number", "exclusiveMinimum": 0}, "extra": {"type": "number"}},
    }
    defaults: ClassVar[dict[str, Any]] = {"per-core": 2, "extra": 1}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        per_core, extra = float(rule.params["per-core"]), float(rule.params["extra"])
        for wl in ctx.group.workloads:
            for c, w in ctx.facts.pod_workers(wl):
                cpu = c.limits.cpu
                if not _explicit(w) or not _python(c, w) or cpu is None or not cpu.known or cpu.value is None:
                    continue
                exact = per_core * float(cpu.value) + extra
                cap = max(math.ceil(exact - 1e-9), 1)  # workers are whole: 2 × 0.4 + 1 = 1.8 allows 2
                count = int(w.count.value or 0)
                if count <= cap:
                    continue
                formula = f"{_num(per_core)} × {format_cpu(cpu.value)} + {_num(extra)} = {_num(exact)}"
                if cap != exact:
                    formula += f", {cap} whole workers"
                yield rule.finding(
                    f"{_who(c, wl)} runs {count} workers on a CPU limit of {format_cpu(cpu.value)}: "
                    f"more than {formula}",
                    w.count.loc or c.loc, wl.ref, related=related(cpu.loc, f"CPU limit {format_cpu(cpu.value)}"),
                    fix=f"use at most {_workers(cap)}, or raise the CPU limit to "
                        f"{format_cpu(max((count - extra) / per_core, 0.001))}",
                )


class WorkersMemory(Template):
    """Workers × memory per worker above the container's memory limit."""

    name = "workers-memory"
    reads_trees = False
    description = "workers need more memory than the limit"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"memory-per-worker": {"type": ["string", "integer"]},
                       "floor-when-assumed": {"type": ["string", "integer"]}},
    }
    defaults: ClassVar[dict[str, Any]] = {"memory-per-worker": "512Mi", "floor-when-assumed": "256Mi"}

    def check(self, ctx: Context, rule: BoundRule) -> Iterator[Finding]:
        fallback = k8s_memory(rule.params["memory-per-worker"]) or 512 * 1024 * 1024
        floor = k8s_memory(rule.params["floor-when-assumed"]) or 256 * 1024 * 1024
        own = ctx.config.rule_params.get(rule.code) or ctx.config.rule_params.get(rule.rule.name) or {}
        configured = ctx.config.memory_per_worker is not None or "memory-per-worker" in own
        for wl in ctx.group.workloads:
            for c, w in ctx.facts.pod_workers(wl):
                mem = c.limits.memory
                if not _explicit(w) or mem is None or not mem.known or mem.value is None:
                    continue
                count = int(w.count.value or 0)
                if count <= 1:
                    continue  # one worker that does not fit is not a scaling problem: it would not even start
                per, source = ctx.facts.memory_per_worker(wl, fallback, configured)
                need = count * per
                if need <= mem.value:
                    continue
                fits = int(mem.value // per)
                fix = (f"use at most {_workers(fits)}, or raise the memory limit to {_mem(need)}" if fits >= 1
                       else f"raise the memory limit to {_mem(need)}")
                if source == "assumed":
                    # 512Mi is a guess about a Python worker, not evidence: report only a limit that leaves
                    # each worker less than even a small one needs, never another runtime's workers, and not
                    # a limit below one guessed worker (the service says its workers are smaller)
                    each = mem.value // count
                    if each >= floor or per > mem.value or not _python(c, w):
                        continue
                    yield rule.finding(
                        f"{_who(c, wl)} runs {count} workers on a memory limit of {_mem(int(mem.value))}: "
                        f"{_mem(int(each))} each, less than the {_mem(floor)} even a small Python worker needs "
                        f"({_mem(per)} per worker assumed for sizing: set memory-per-worker, or the annotation "
                        f"{MEMORY_ANNOTATION} on the workload)",
                        w.count.loc or c.loc, wl.ref,
                        related=related(mem.loc, f"memory limit {_mem(int(mem.value))}"), fix=fix,
                    )
                    continue
                yield rule.finding(
                    f"{_who(c, wl)} runs {count} workers × {_mem(per)} = {_mem(need)}, "
                    f"more than its memory limit of {_mem(int(mem.value))}",
                    w.count.loc or c.loc, wl.ref,
                    related=related(mem.loc, f"memory limit {_mem(int(mem.value))}"), fix=fix,
                )


def _python(c: Container, w: Workers) -> bool:
    """A Python server's workers (gunicorn's 2 × CPU + 1 and 512Mi a worker are about those), or a count
    from the image's own, unreadable command: a bash loop or a Go binary with WORKERS=8 is another story."""
    return w.server is not None or c.default_command


def _explicit(w: Workers) -> bool:
    """A worker count somebody wrote down; the implicit 1 of a bare server is nobody's choice."""
    return w.count.state is State.KNOWN and w.count.value is not None


def _mem(n: int) -> str:
    """Exact binary units when they fit (``1536Mi``), else MiB with one decimal."""
    text = format_bytes(n)
    return text if not text.isdigit() else f"{n / 2**20:.1f}Mi"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
