"""Kustomize: map each rendered object's nodes to the resource, patch or kustomization that wrote them.

The ``config.kubernetes.io/origin`` annotation names the resource file (no line) and
``alpha.config.kubernetes.io/transformations`` names the kustomizations whose patches
and replica counts touched the object. The object is matched to its document in the
origin file and to the patch documents, and the rendered tree is walked in parallel
with them: each node takes the position of the source that wrote it (a patch wins for
values it set), and a node no source holds takes the position of its nearest ancestor
that one does.

A map has one ``path`` for all its keys, so a mapping whose keys come from two files is
placed in the file that wrote most of its scalar values; its other keys point at its start.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scalelint.load.parse import LoadError, compose_documents
from scalelint.load.read import LoadedFile
from scalelint.load.tree import Pos, YMap, YSeq, get_map, get_str
from scalelint.render.sourcemap import (
    SourceFiles,
    plain_yaml,
    point_all,
    repoint,
    strip_build_annotations,
)

#: keys that identify an item of a list when kustomize merges lists (strategic merge)
_MERGE_KEYS = ("name", "containerPort", "mountPath", "devicePath", "topologyKey", "ip", "port")
_REPLICATED = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}


@dataclass
class _Ptr:
    """A JSON-patch operation (or a kustomization field) that sets the value at ``tokens``."""

    tokens: list[str]
    value: Any
    path: str
    pos: Pos


@dataclass
class KustomizeMapper:
    """Maps objects of one kustomize build. Annotation paths are relative to ``base``."""

    base: str  # real directory the annotation paths are relative to
    display: Callable[[str], str]  # absolute path → path as the user writes it
    files: SourceFiles
    #: the kustomization file: where an object with no known source points ("": leave it)
    fallback: str
    #: the objects of each origin file, by path
    _objects: dict[str, list[YMap]] = field(default_factory=dict)

    def _path(self, rel: str) -> str:
        return self.display(os.path.normpath(os.path.join(self.base, rel)))

    def map(self, obj: YMap) -> bool:
        """Re-point ``obj`` at its sources; False when nothing was known (it then points at the fallback)."""
        origin_text, trans_text = strip_build_annotations(obj)
        origin = plain_yaml(origin_text)
        trans = plain_yaml(trans_text)
        sources: list[Any] = []
        fallback = (self.fallback, (1, 1))
        if isinstance(origin, dict):
            if isinstance(origin.get("path"), str) and not origin.get("repo"):
                src = self._origin_doc(self._path(origin["path"]), obj)
                if src is not None:
                    sources.append(src)
                elif self.files.load(self._path(origin["path"])) is not None:
                    fallback = (self._path(origin["path"]), (1, 1))
            elif isinstance(origin.get("configuredIn"), str):
                kpath = self._path(origin["configuredIn"])
                kind = str((origin.get("configuredBy") or {}).get("kind", ""))
                src = self._generated(kpath, kind, obj)
                if src is not None:
                    sources.append(src)
                elif self.files.load(kpath) is not None:
                    fallback = (kpath, (1, 1))
        if isinstance(trans, list):
            done: set[tuple[str, str]] = set()
            for step in trans:
                if not isinstance(step, dict) or not isinstance(step.get("configuredIn"), str):
                    continue
                kind = str((step.get("configuredBy") or {}).get("kind", ""))
                key = (step["configuredIn"], kind)
                if key in done:
                    continue
                done.add(key)
                sources.extend(self._transformer_sources(self._path(step["configuredIn"]), kind, obj))
        if not sources:
            if fallback[0]:  # "" (stdin): keep the stream's own positions
                point_all(obj, *fallback)
            return False
        _walk(obj, sources, fallback)
        return True

    def _origin_doc(self, path: str, obj: YMap) -> YMap | None:
        if path not in self._objects:
            from scalelint.model.kube import flatten

            lf = self.files.load(path)
            self._objects[path] = [o for d in lf.documents for o in flatten(d.root)] if lf else []
        return _match_object(self._objects[path], obj)

    def _generated(self, kpath: str, kind: str, obj: YMap) -> YMap | None:
        """A ConfigMap/Secret from a generator: the generator's entry, its literals and env file lines."""
        lf = self.files.load(kpath)
        field_name = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}.get(kind)
        root = lf.documents[0].root if lf and lf.documents else None
        entries = root.get(field_name) if isinstance(root, dict) and field_name else None
        if not isinstance(entries, list):
            return None
        name = _name(obj)
        best = None
        for entry in entries:
            ename = get_str(entry, "name")
            if ename and (ename == name or ename in name) and (best is None or len(ename) > len(get_str(best, "name") or "")):
                best = entry
        if best is None:
            return None
        syn = YMap(best.pos, kpath)
        meta = YMap(best.pos, kpath)
        meta.put("name", best.get("name"), best.key_pos("name"), best.value_pos("name"))
        syn.put("metadata", meta, best.pos, best.pos)
        data = self._generated_data(best, kpath, lf.text if lf else "")
        if data is not None:
            syn.put("data", data, data.pos, data.pos)
        return syn

    def _generated_data(self, entry: YMap, kpath: str, ktext: str) -> YMap | None:
        lit, env = entry.get("literals"), entry.get("envs")
        literals: YSeq = lit if isinstance(lit, YSeq) else YSeq()
        envs: YSeq = env if isinstance(env, YSeq) else YSeq()
        if not literals and len(envs) == 1 and isinstance(envs[0], str):
            env_path = os.path.normpath(os.path.join(os.path.dirname(kpath), envs[0]))
            text = self.files.text(env_path)
            if text is not None:
                data = YMap((1, 1), env_path)
                for lineno, row in enumerate(text.splitlines(), 1):
                    key, eq, _ = row.partition("=")
                    if eq and key.strip() and not key.lstrip().startswith("#"):
                        col = len(row) - len(row.lstrip()) + 1
                        data.put(key.strip(), "", (lineno, col), (lineno, row.index("=") + 2))
                return data
        data = YMap(entry.key_pos("literals") if literals else entry.pos, kpath)
        lines = ktext.splitlines()
        for i, item in enumerate(literals):
            if not isinstance(item, str) or "=" not in item:
                continue
            key = item.split("=", 1)[0]
            line, col = literals.item_pos(i)
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            at = text.find(key + "=", col - 1)
            vcol = at + len(key) + 2 if at >= 0 else col
            data.put(key.strip(), "", (line, at + 1 if at >= 0 else col), (line, vcol))
        for key_name in ("envs", "files"):
            seq = entry.get(key_name)
            if isinstance(seq, YSeq):
                for i, item in enumerate(seq):
                    if isinstance(item, str) and key_name == "files":
                        key = item.split("=", 1)[0] if "=" in item else os.path.basename(item)
                        data.put(key, "", seq.item_pos(i), seq.item_pos(i))
        return data

    def _transformer_sources(self, kpath: str, kind: str, obj: YMap) -> Iterator[Any]:
        """Patch documents and ``replicas:`` counts of one kustomization that apply to ``obj``."""
        lf = self.files.load(kpath)
        root = lf.documents[0].root if lf and lf.documents else None
        if lf is None or not isinstance(root, YMap):
            return
        kdir = os.path.dirname(kpath)
        if kind == "ReplicaCountTransformer":
            for entry in root.get("replicas") or ():
                if (isinstance(entry, YMap) and "count" in entry and obj.get("kind") in _REPLICATED
                        and _name_matches(get_str(entry, "name"), _name(obj))):
                    yield _Ptr(["spec", "replicas"], entry["count"], kpath, entry.value_pos("count"))
            return
        field_name = {"PatchTransformer": "patches", "PatchStrategicMergeTransformer": "patchesStrategicMerge",
                      "PatchJson6902Transformer": "patchesJson6902"}.get(kind)
        entries = root.get(field_name) if field_name else None
        if not isinstance(entries, YSeq):
            return
        for i, entry in enumerate(entries):
            target = None
            if isinstance(entry, str):  # patchesStrategicMerge: a file, or an inline patch
                docs = (self._inline(lf, entries, i) if "\n" in entry or ":" in entry
                        else self._patch_file(os.path.join(kdir, entry)))
            elif isinstance(entry, YMap):
                target = get_map(entry, "target")
                if isinstance(entry.get("path"), str):
                    docs = self._patch_file(os.path.join(kdir, entry["path"]))
                elif isinstance(entry.get("patch"), str):
                    docs = self._inline(lf, entry, "patch")
                else:
                    continue
            else:
                continue
            if target is not None and not _target_matches(target, obj):
                continue
            for doc in docs:
                if isinstance(doc, YSeq):
                    if target is not None:
                        yield from _json_ops(doc)
                elif (isinstance(doc, YMap) and doc.get("$patch") != "delete"
                      and (target is not None or _match_object([doc], obj) is doc)):
                    yield doc

    def _patch_file(self, path: str) -> list[Any]:
        lf = self.files.load(os.path.normpath(path))
        return [d.root for d in lf.documents] if lf else []

    def _inline(self, lf: LoadedFile, holder: YMap | YSeq, key: Any) -> list[Any]:
        """Documents of a patch written inside the kustomization, at their lines in that file."""
        text = holder[key]
        line, col = holder.value_pos(key) if isinstance(holder, YMap) else holder.item_pos(key)
        lines = lf.text.splitlines()
        raw = lines[line - 1][col - 1:] if 0 < line <= len(lines) else ""
        try:
            docs = compose_documents(text, lf.path)
        except LoadError:
            return []
        if raw[:1] == "|":  # a literal block: content starts on the next line, indented
            indent = 0
            for body in lines[line:]:
                if body.strip():
                    indent = len(body) - len(body.lstrip(" "))
                    break
            shift: Callable[[Pos], Pos] = lambda p: (p[0] + line, p[1] + indent)
        else:
            shift = lambda _p: (line, col)
        for d in docs:
            repoint(d.root, lf.path, shift)
        return [d.root for d in docs]


def _name(obj: Any) -> str:
    return get_str(get_map(obj, "metadata"), "name") or ""


def _name_matches(pattern: str | None, name: str) -> bool:
    if not pattern:
        return True
    if pattern == name or pattern in name:
        return True
    try:
        return re.fullmatch(pattern, name) is not None
    except re.error:
        return False


def _target_matches(target: YMap, obj: YMap) -> bool:
    kind = get_str(target, "kind")
    if kind and kind != obj.get("kind"):
        return False
    return _name_matches(get_str(target, "name"), _name(obj))


def _match_object(candidates: list[Any], obj: YMap) -> YMap | None:
    """The candidate that is ``obj`` before name prefixes/suffixes: same kind, name equal or contained."""
    name = _name(obj)
    same_kind = [c for c in candidates if isinstance(c, YMap) and c.get("kind") == obj.get("kind")]
    exact = [c for c in same_kind if _name(c) == name]
    if exact:
        return exact[0]
    inside = sorted((c for c in same_kind if _name(c) and _name(c) in name), key=lambda c: -len(_name(c)))
    if inside:
        return inside[0]
    return same_kind[0] if len(same_kind) == 1 else None


def _json_ops(ops: YSeq) -> Iterator[_Ptr]:
    for op in ops:
        if not isinstance(op, YMap) or op.get("op") not in ("add", "replace") or "value" not in op:
            continue
        pointer = get_str(op, "path") or ""
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
        if tokens:
            yield _Ptr(tokens, op["value"], op.path, op.value_pos("value"))


def _same(a: Any, b: Any) -> bool:
    return a == b or (a is not None and b is not None and str(a) == str(b))


def _walk(node: Any, sources: list[Any], fallback: tuple[str, Pos]) -> None:
    """Give ``node`` the positions of its sources (lowest priority first; later patches win)."""
    if isinstance(node, YMap):
        _walk_map(node, sources, fallback)
    elif isinstance(node, YSeq):
        _walk_seq(node, sources, fallback)


def _walk_map(node: YMap, sources: list[Any], fallback: tuple[str, Pos]) -> None:
    maps: list[YMap] = []
    synthetic: set[int] = set()
    for s in sources:
        if isinstance(s, YMap):
            maps.append(s)
        elif isinstance(s, _Ptr) and s.tokens and s.tokens[0] in node:
            key = s.tokens[0]
            child = s.value if len(s.tokens) == 1 else _Ptr(s.tokens[1:], s.value, s.path, s.pos)
            syn = YMap(s.pos, s.path)
            vpos = child.pos if isinstance(child, (YMap, YSeq)) else s.pos
            syn.put(key, child, s.pos, vpos)
            maps.append(syn)
            synthetic.add(id(syn))
    if not maps:
        point_all(node, *fallback)
        return
    chosen = _choose_map(node, maps, synthetic)
    node.path, node.pos = chosen.path, chosen.pos
    for key in list(node):
        if key in chosen:
            kpos, vpos = chosen.key_pos(key), chosen.value_pos(key)
        else:
            kpos = vpos = chosen.pos
        node.kpos[key], node.vpos[key] = kpos, vpos
        child = node[key]
        if isinstance(child, (YMap, YSeq)):
            _walk(child, [s[key] for s in maps if key in s], (chosen.path, kpos))


def _choose_map(node: YMap, maps: list[YMap], synthetic: set[int]) -> YMap:
    """The source that wrote most of the map's scalar values (a value comes from the first source
    holding it unchanged, else from the first holding the key); ties go to the later real source."""
    votes = [0] * len(maps)
    for key, value in node.items():
        if isinstance(value, (dict, list)):
            continue
        having = [i for i, s in enumerate(maps) if key in s and not isinstance(s[key], (dict, list, _Ptr))]
        if not having:
            continue
        equal = [i for i in having if _same(maps[i][key], value)]
        votes[(equal or having)[0]] += 1
    if not any(votes):
        real = [s for s in maps if id(s) not in synthetic]
        return real[0] if real else maps[0]
    best = max(range(len(maps)), key=lambda i: (votes[i], id(maps[i]) not in synthetic, i))
    return maps[best]


def _match_item(item: Any, index: int, seq: YSeq) -> int | None:
    if isinstance(item, dict):
        for key in _MERGE_KEYS:
            if key in item:
                for j, other in enumerate(seq):
                    if isinstance(other, dict) and key in other and _same(other[key], item[key]):
                        return j
                return None
        return index if index < len(seq) and isinstance(seq[index], dict) else None
    if isinstance(item, list):
        return index if index < len(seq) and isinstance(seq[index], list) else None
    if index < len(seq) and _same(seq[index], item):
        return index
    for j, other in enumerate(seq):
        if not isinstance(other, (dict, list)) and _same(other, item):
            return j
    return None


def _walk_seq(node: YSeq, sources: list[Any], fallback: tuple[str, Pos]) -> None:
    seqs = [s for s in sources if isinstance(s, YSeq)]
    ptrs = [s for s in sources if isinstance(s, _Ptr) and s.tokens]
    matches = [[_match_item(item, i, s) for s in seqs] for i, item in enumerate(node)]
    if not seqs and not ptrs:
        point_all(node, *fallback)
        return
    if seqs:
        # a list of scalars (command, args) is replaced whole by a patch: the last source equal to it wrote it
        whole = [k for k, s in enumerate(seqs) if len(s) == len(node) and all(
            not isinstance(a, (dict, list)) and _same(a, b) for a, b in zip(s, node))]
        votes = [0] * len(seqs)
        for row in matches:
            owners = [k for k, j in enumerate(row) if j is not None]
            if owners:
                votes[owners[0]] += 1
        chosen_i = whole[-1] if whole else max(range(len(seqs)), key=lambda k: (votes[k], k))
        chosen = seqs[chosen_i]
        node.path, node.pos = chosen.path, chosen.pos
    else:
        chosen_i, chosen = -1, None
        node.path, node.pos = fallback
    ipos: list[Pos] = []
    for i, item in enumerate(node):
        j = matches[i][chosen_i] if chosen is not None else None
        ipos.append(chosen.item_pos(j) if chosen is not None and j is not None else node.pos)
        if not isinstance(item, (YMap, YSeq)):
            continue
        child_sources: list[Any] = [s[j] for s, j in zip(seqs, matches[i]) if j is not None]
        for p in ptrs:
            if p.tokens[0] == str(i) or (p.tokens[0] == "-" and i == len(node) - 1):
                child_sources.append(p.value if len(p.tokens) == 1 else _Ptr(p.tokens[1:], p.value, p.path, p.pos))
        _walk(item, child_sources, (node.path, ipos[-1]))
    node.ipos = ipos
