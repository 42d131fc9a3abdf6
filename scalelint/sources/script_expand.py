"""Word expansion for the script walker: parameters, defaults, ``"$@"``, field splitting.

``${VAR:-4}`` yields the located ``4`` when VAR is unset and VAR's own value (located where
it was set) when it is not; unquoted results are split like the shell splits them;
``$(...)`` and ``$((...))`` are delegated to :mod:`scalelint.sources.script_test`.
"""
from __future__ import annotations

from .located import Word, WordBuilder
from .script_builtins import Exit
from .script_parse import Lit, Param, Sub, WordTok
from .script_test import arithmetic, substitution

__all__ = ["Expander"]


class Expander:
    """The variables of a running script and how words expand with them."""

    def __init__(self, env: dict[str, Word], args: list[Word], name: Word) -> None:
        self.vars: dict[str, Word] = env
        self.exported = set(env)
        self.positional = args
        self.name = name

    def expand_all(self, toks: list[WordTok]) -> list[Word]:
        return [w for tok in toks for w in self.expand(tok, split=True)]

    def expand(self, tok: WordTok, split: bool) -> list[Word]:
        """The fields a word expands to: unquoted expansions split, ``"$@"`` one per argument."""
        fields: list[Word] = []
        current = WordBuilder()
        keep = False  # the current field exists even if empty (quotes)
        for part in tok.parts:
            if isinstance(part, Lit):
                current.add(part.word)
                keep = keep or part.quoted
                continue
            values = self._part(part)
            many = isinstance(part, Param) and part.name == "@" and part.op == ""
            quoted = part.quoted
            if quoted and many:
                for i, value in enumerate(values):
                    if i:
                        fields.append(current.build())
                        current, keep = WordBuilder(), True
                    current.add(value)
                    keep = True
                continue
            joined = Word.join(values, " ")
            if quoted or not split or joined.unknown_span() is not None:
                current.add(joined)
                keep = keep or quoted
                continue
            text = joined.text
            pieces = joined.split()
            if text[:1] in (" ", "\t", "\n") and (len(current) or keep):
                fields.append(current.build())
                current, keep = WordBuilder(), False
            for i, piece in enumerate(pieces):
                if i:
                    fields.append(current.build())
                    current, keep = WordBuilder(), False
                current.add(piece)
            if pieces and text[-1:] in (" ", "\t", "\n"):
                fields.append(current.build())
                current, keep = WordBuilder(), False
        if len(current) or keep:
            fields.append(current.build())
        return fields

    def _part(self, part: Param | Sub | Lit) -> list[Word]:
        if isinstance(part, Lit):
            return [part.word]
        if isinstance(part, Sub):
            if part.arith:
                return [arithmetic(part.raw, self.lookup)]
            return [substitution(part.raw)]
        return self.param(part)

    def lookup(self, name: str) -> Word | None:
        return self.vars.get(name)

    def param(self, part: Param) -> list[Word]:
        name, op = part.name, part.op
        where = part.raw.loc(0)
        if part.other:
            return [Word.unknown(part.raw.text, where, f"{part.raw.text} is not evaluated statically")]
        if name in ("@", "*"):
            return list(self.positional)
        if name.isdigit():
            index = int(name)
            value: Word | None = self.name if index == 0 else (
                self.positional[index - 1] if index <= len(self.positional) else None
            )
        elif name == "#":
            return [Word(str(len(self.positional)))]
        elif name == "?":
            return [Word("0")]
        elif name in ("$", "!", "-"):
            return [Word.unknown(part.raw.text, where, f"{part.raw.text} is known only at run time")]
        else:
            value = self.vars.get(name)
        if op == "#":
            if value is None or value.unknown_span() is None:
                return [Word(str(len(value.text if value is not None else "")))]
            return [Word.unknown(part.raw.text, where, "length of an unknown value")]
        if value is not None and value.unknown_span() is not None:
            return [value]
        is_set = value is not None
        nonempty = is_set and bool(value.text if value is not None else "")
        test = nonempty if op.startswith(":") else is_set
        if op in ("", ):
            return [value] if value is not None else []
        if op in (":-", "-", ":=", "="):
            if test and value is not None:
                return [value]
            default = Word.join(w for p in part.arg for w in self._part(p))
            if op.endswith("=") and not name.isdigit():
                self.vars[name] = default
            return [default]
        if op in (":+", "+"):
            return [Word.join(w for p in part.arg for w in self._part(p))] if test else []
        if test and value is not None:  # :? and ?
            return [value]
        raise Exit(where)
