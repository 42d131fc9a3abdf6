"""A container's environment as the process would see it, resolved statically.

Kubernetes: ``envFrom`` first, then ``env`` in order (later wins); ``$(VAR)`` in a
value expands from variables defined before it; ``configMapKeyRef`` and
``configMapRef`` read ConfigMaps of the same graph; Secrets and field refs are
unknown. Compose: ``env_file`` values, then ``environment`` (already
interpolated by the model).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from scalelint.findings import Loc
from scalelint.model import ConfigMap, Container, EnvRef, Group, State, Val, unknown

_KUBE_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")

Env = dict[str, Val[str]]


def kube_expand(text: str, env: Mapping[str, Val[str]]) -> tuple[str, list[str]]:
    """Kubelet's ``$(VAR)`` expansion: defined names are replaced, ``$$`` is ``$``,
    undefined references stay as written. Returns the text and the names that were unknown."""
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        val = env.get(name)
        if val is None:
            return m.group(0)
        if not val.known:
            missing.append(name)
            return m.group(0)
        return str(val.value)

    if "$" not in text:
        return text, missing
    return _KUBE_REF.sub(sub, text), missing


def resolve(container: Container, group: Group, namespace: str | None, origin: str = "") -> Env:
    """The container's env; ConfigMaps are found from ``origin``, the workload's file (SPEC §11)."""
    env: Env = {}
    ns = namespace or "default"
    for ref, _loc in container.env_from:
        if ref.source == "configmap":
            maps = _configmaps(group, origin, ns, ref.name)
            if not maps:
                continue  # a ConfigMap outside the graph: its names are unknown, so nothing to add
            keys = dict.fromkeys(key for cm in maps for key in cm.data)  # in the order written
            for key in keys:
                env[ref.prefix + key] = _value(maps, key, ref.name)
    for var in container.env:
        if var.ref is not None:
            env[var.name] = _from_ref(var.ref, group, ns, var.loc, origin)
        elif var.unset:
            env[var.name] = unknown(var.loc, f"{var.name} is not set in the environment")
        elif var.unset_vars:  # keep the text: a URL whose password is unset still names its host
            env[var.name] = Val(var.value or "", var.loc, State.UNKNOWN,
                                f"it uses ${{{var.unset_vars[0]}}}, which is not set (no .env or --env-file sets it)",
                                var.spot)
        else:
            text = var.value or ""
            if group.kind == "kubernetes":
                text, missing = kube_expand(text, env)
                if missing:
                    # keep the partial text: a URL with a Secret password still names its host
                    env[var.name] = Val(text, var.loc, State.UNKNOWN, f"it uses $({missing[0]}), which is unknown")
                    continue
            env[var.name] = Val(text, var.loc, State.KNOWN, "", var.spot)
    return env


def _from_ref(ref: EnvRef, group: Group, ns: str, where: Loc, origin: str) -> Val[str]:
    if ref.source == "configmap":
        maps = _configmaps(group, origin, ns, ref.name)
        if ref.key is not None and maps and any(ref.key in cm.data for cm in maps):
            return _value(maps, ref.key, ref.name)
        return unknown(where, f"ConfigMap {ref.name} key {ref.key} is not in the files linted")
    if ref.source == "secret":
        return unknown(where, f"from Secret {ref.name}")
    if ref.source == "field":
        return unknown(where, f"from the pod field {ref.name}")
    if ref.source == "resource":
        return unknown(where, f"from the container resource {ref.name}")
    return unknown(where, "from an unreadable valueFrom")


def _configmaps(group: Group, origin: str, namespace: str, name: str) -> list[ConfigMap]:
    if group.kind != "kubernetes":
        return []
    return [cm for cm in group.refs.named(origin, "ConfigMap", namespace, name) if isinstance(cm, ConfigMap)]


def _value(maps: list[ConfigMap], key: str, name: str) -> Val[str]:
    """One key of a ConfigMap; alternative copies that disagree on it make it unknown (never a guess)."""
    first = maps[0]
    if key not in first.data or any(cm.data.get(key) != first.data[key] for cm in maps[1:]):
        where = ", ".join(str(cm.loc) for cm in maps)
        return unknown(first.data_locs.get(key, first.loc),
                       f"ConfigMap {name} key {key} differs between alternative manifest sets ({where})")
    return Val(first.data[key], first.data_locs.get(key, first.loc), State.KNOWN, "", first.data_spots.get(key))


#: what is left of ``$(`` after Kubernetes expansion (or any ``$(`` in compose, where
#: ``$$(`` is the only way to write one) is the shell's: a command substitution or arithmetic
_SHELL_SUBST = re.compile(r"\$\(|`")


def expand_value(text: str, env: Env, kube: bool) -> tuple[Val[str] | None, str, list[str]]:
    """Resolve a flag value such as ``$(WORKERS)``, ``${UVICORN_WORKERS:-4}`` or ``4``.

    Returns (the env var it came from, if exactly one, the text, reasons it is unknown).
    The shell inside the container expands ``$VAR`` at run time from the same env.
    """
    reasons: list[str] = []
    source: Val[str] | None = None
    undefined: list[str] = []
    if kube:
        names = [m.group(1) for m in _KUBE_REF.finditer(text) if m.group(1)]
        if len(names) == 1 and names[0] in env:
            source = env[names[0]]
        undefined = [n for n in names if n not in env]
        text, missing = kube_expand(text, env)
        reasons += [f"{n} is unknown ({env[n].reason})" for n in missing]
    if _SHELL_SUBST.search(text):
        if undefined:
            reasons.append(f"$({undefined[0]}) is no env var of the container: a shell command substitution, "
                           "or a literal")
        else:
            reasons.append(f"{text!r} is a shell command substitution")
        return source, text, reasons
    if "$" in text:
        plain = {k: str(v.value) for k, v in env.items() if v.known}
        from scalelint.model.interpolate import interpolate  # compose-style ${VAR} in a value: rare in manifests

        result = interpolate(text, plain)
        used = [n for n in result.used if n in env]
        if len(used) == 1:
            source = env[used[0]]
        for name in result.used:
            if name in env and not env[name].known:
                reasons.append(f"{name} is unknown ({env[name].reason})")
        for name in result.unset:
            reasons.append(f"{name} is not set in the container's environment")
        text = result.value
    return source, text, reasons


__all__ = ["Env", "State", "expand_value", "kube_expand", "resolve"]
