"""Rule documentation from ``rules/*.yaml``: ``scalelint explain`` and the README's rule table.

The rule files are the single source (ruff's way: what it does, why is this
bad, example, use instead), so the CLI, the README and the tests that run each
documented example cannot drift apart.

``python -m scalelint.output.docs --readme-table`` prints the table;
``--update-readme README.md`` rewrites it between the markers.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalelint.check.registry import Registry, Rule
    from scalelint.config import Config

TABLE_START = "<!-- rules-table:start -->"
TABLE_END = "<!-- rules-table:end -->"
EXAMPLE_FILES = {"kubernetes": "deploy.yaml", "compose": "compose.yaml"}


def _block(title: str, text: str) -> list[str]:
    return [f"## {title}", "", text.strip(), ""] if text.strip() else []


def _yaml_block(text: str) -> list[str]:
    return ["```yaml", text.rstrip("\n"), "```"]


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _params(rule: Rule, registry: Registry, config: Config) -> list[tuple[str, str, list[str]]]:
    """(name, effective value as JSON, notes) per param of the rule's template."""
    from scalelint.check.engine import params_for
    from scalelint.check.rule import INTERNAL

    if rule.template == INTERNAL:
        return []
    schema = registry.template(rule.template).params_schema.get("properties", {})
    effective = params_for(rule, registry, config)
    configured = {k for key in (rule.code, rule.name) for k in config.rule_params.get(key, {})}
    out = []
    for name in sorted(set(schema) | set(effective)):
        sub = schema.get(name) if isinstance(schema.get(name), dict) else {}
        notes = []
        if name in configured and config.source:
            notes.append(f"from {config.source}")
        if sub.get("enum"):
            notes.append("one of " + ", ".join(str(c) for c in sub["enum"]))
        elif isinstance(sub.get("items"), dict) and sub["items"].get("enum"):
            notes.append("items from " + ", ".join(str(c) for c in sub["items"]["enum"]))
        if sub.get("description"):
            notes.append(str(sub["description"]))
        out.append((name, _value(effective[name]) if name in effective else "", notes))
    return out


def explain(rule: Rule, registry: Registry, config: Config) -> str:
    """A rule's documentation as Markdown (readable in a terminal, pasteable into docs)."""
    from scalelint.check.engine import select

    info = select(registry, config).infos[rule.code]
    state = "on" if info.enabled else "off"
    out = [f"# {rule.code} {rule.name}", "", rule.summary.strip(), "",
           (f"Severity: {info.severity.label} · {state} in this configuration"
           f" (ships {'enabled' if rule.enabled else 'disabled'}) · template: {rule.template}"), ""]
    out += _block("What it does", rule.what)
    out += _block("Why is this bad", rule.why)
    if rule.example_bad or rule.example_good:
        out += ["## Example", ""]
        file = EXAMPLE_FILES.get(rule.example_kind, "")
        if rule.example_bad:
            out += [f"Reported (`{file}`):" if file else "Reported:", ""] + _yaml_block(rule.example_bad) + [""]
        if rule.example_good:
            out += ["Use instead:", ""] + _yaml_block(rule.example_good) + [""]
        for name, text in sorted(rule.example_files.items()):
            out += [f"With `{name}` beside it:", "", "```", *text.rstrip("\n").splitlines(), "```", ""]
    out += _block("How to fix", rule.fix)
    params = _params(rule, registry, config)
    if params:
        out += ["## Params", ""]
        for name, value, notes in params:
            shown = f"`{value}`" if value else "(not set)"
            out.append(f"- `{name}`: {shown}" + (f" — {'; '.join(notes)}" if notes else ""))
        short = [(n, v) for n, v, _ in params if v and len(v) <= 60]
        out.append("")
        if short:
            out += ["Set them in the config file (`.scalelint.yaml`):", "", "```yaml", "rules:",
                    f"  {rule.code}:", f"    {short[0][0]}: {short[0][1]}", "```", ""]
    out += [f"Source: {rule.source}" if not rule.builtin else f"Documentation: {info.help_uri}"]
    return "\n".join(out) + "\n"


def builtin_rules() -> list[Rule]:
    """The built-in rule files only (never plugins: the README documents what ships)."""
    from scalelint.check.rule import builtin_rules_dir, load_rules_dir

    return sorted(load_rules_dir(builtin_rules_dir(), builtin=True), key=lambda r: r.code)


def readme_table(rules: list[Rule] | None = None) -> str:
    rows = ["| Code | Name | Severity | Default | What it reports |", "|---|---|---|---|---|"]
    for rule in rules if rules is not None else builtin_rules():
        summary = " ".join(rule.summary.split()).replace("|", "\\|")
        rows.append(f"| [{rule.code}](rules/{rule.code}.yaml) | `{rule.name}` | {rule.severity.label} | "
                    f"{'on' if rule.enabled else 'off'} | {summary} |")
    return "\n".join(rows) + "\n"


def replace_table(readme: str, table: str) -> str:
    """The README with ``table`` between the markers; ``ValueError`` when the markers are missing."""
    start, end = readme.find(TABLE_START), readme.find(TABLE_END)
    if start == -1 or end == -1 or end < start:
        raise ValueError(f"markers {TABLE_START} … {TABLE_END} not found")
    return readme[:start + len(TABLE_START)] + "\n" + table + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scalelint.output.docs", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--readme-table", action="store_true", help="print the README's rule table")
    group.add_argument("--update-readme", metavar="README", help="rewrite the table between the markers")
    args = parser.parse_args(argv)
    table = readme_table()
    if args.readme_table:
        sys.stdout.write(table)
        return 0
    try:
        with open(args.update_readme, encoding="utf-8") as fh:
            text = fh.read()
        updated = replace_table(text, table)
    except (OSError, ValueError) as exc:
        print(f"scalelint.output.docs: error: {args.update_readme}: {exc}", file=sys.stderr)
        return 2
    if updated != text:
        with open(args.update_readme, "w", encoding="utf-8", newline="") as fh:
            fh.write(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
