#!/usr/bin/env bash
# Validates scalelint's SARIF with Microsoft's own validator (sarif-multitool from
# the npm registry), beyond the JSON Schema check in the tests: it also applies
# the SARIF rules GitHub code scanning relies on.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "sarif-check: npm is not installed: skipping sarif-multitool validation"
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
npm install --silent --prefix "$WORK/npm" @microsoft/sarif-multitool >/dev/null
TOOL="$WORK/npm/node_modules/.bin/sarif-multitool"

# the validator must be able to fail: a result without a message and with line 0 is two errors
printf '%s' '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"R1","locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.yaml"},"region":{"startLine":0}}}]}]}]}' > "$WORK/broken.sarif"
"$TOOL" validate "$WORK/broken.sarif" --output "$WORK/broken.validation" --log ForceOverwrite >/dev/null
if ! grep -q '"level": *"error"' "$WORK/broken.validation"; then
  echo "sarif-check: the validator did not reject a broken SARIF file: it is not checking anything" >&2
  exit 1
fi

status=0
for target in examples tests/fixtures/SL003/bad tests/fixtures/SL000/bad; do
  out="$WORK/$(echo "$target" | tr / _).sarif"
  scalelint check "$target" --format sarif > "$out" || true
  "$TOOL" validate "$out" --output "$out.validation" --log ForceOverwrite >/dev/null
  verdict=$(python3 - "$out" "$out.validation" <<'PY'
import json, sys
results = json.load(open(sys.argv[2]))["runs"][0].get("results", [])
bad = [r for r in results if r.get("level", "warning") in ("error", "warning")]
found = len(json.load(open(sys.argv[1]))["runs"][0]["results"])
for r in bad:
    print(f"  {r.get('level')}: {r.get('ruleId')}: {r['message'].get('text', '')[:200]}", file=sys.stderr)
print(f"{found} results, {len(bad)} validation problems")
sys.exit(1 if bad else 0)
PY
) || status=1
  echo "sarif-check: $target: $verdict"
done
exit $status
