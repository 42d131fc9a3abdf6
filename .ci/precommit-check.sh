#!/usr/bin/env bash
# Runs the pre-commit hook for real, the way a user's repository meets it:
#
#   pre-commit try-repo <a git copy of this working tree> scalelint --files ...
#
# in a throw-away "user" repository, on three examples:
#   bad/deploy.yaml   a Deployment without resource limits     -> hook fails (SL001)
#   good/deploy.yaml  a Deployment with limits and requests    -> hook passes
#   group/api.yaml    fine alone, but its sibling group/pdb.yaml puts it under a
#                     PodDisruptionBudget with 1 replica        -> hook fails (SL004):
#                     the hook lints the group of each changed file (SPEC §7).
#
# pre-commit must be installed in the active environment (the `test` extra has it).
# pre-commit builds its own virtualenv and `pip install`s the copy into it, so the
# project's dependencies must be installable from the configured package index.
# Exit status: 0 when every result is the expected one, 1 otherwise, 2 on a setup problem.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"

if ! command -v pre-commit >/dev/null 2>&1; then
    echo "precommit-check: pre-commit is not installed (pip install -e '.[test]')" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/scalelint-precommit.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/pre-commit-home"   # a private cache: nothing left behind
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid \
       GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid

git_commit() {  # commit everything in the current directory, whatever the user's git config says
    git init -q .
    git add -A
    git -c commit.gpgsign=false -c core.hooksPath=/dev/null commit -q -m "$1"
}

echo "== precommit-check: copying the working tree of $root"
"$python" - "$root" "$work/project" <<'PY'
import shutil
import sys

skip = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__",
                              ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", "_work",
                              "node_modules")
shutil.copytree(sys.argv[1], sys.argv[2], ignore=skip, symlinks=True)
PY
(cd "$work/project" && git_commit "working tree snapshot")

mkdir -p "$work/user/bad" "$work/user/good" "$work/user/group"
cat >"$work/user/bad/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          command: ["gunicorn", "-w", "4", "app:app"]
YAML
# the good file is the bad one with the resources it lacks
{ cat "$work/user/bad/deploy.yaml"; cat <<'YAML'; } >"$work/user/good/deploy.yaml"
          resources:
            requests: {cpu: "2", memory: 2Gi}
            limits: {cpu: "2", memory: 2Gi}
YAML
cat >"$work/user/group/api.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {cpu: "1", memory: 1Gi}
YAML
cat >"$work/user/group/pdb.yaml" <<'YAML'
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: api}
YAML
cd "$work/user"
git_commit "examples"

failures=0
# expect <want: fail|pass> <code that must appear, or ""> <file>
expect() {
    local want="$1" code="$2" file="$3" rc=0 out
    echo "== precommit-check: pre-commit try-repo <project> scalelint --files $file  (expect: $want${code:+, $code})"
    out="$(pre-commit try-repo "$work/project" scalelint --color never --files "$file" 2>&1)" || rc=$?
    printf '%s\n' "$out" | sed 's/^/   | /'
    local ok=1
    case "$want" in
        fail) [ "$rc" -eq 1 ] || ok=0               # 1 = a hook failed; 3 = pre-commit itself broke
              grep -q -- '- exit code: 1$' <<<"$out" || ok=0 ;;   # scalelint's 1 = findings; 2 = it broke
        pass) [ "$rc" -eq 0 ] || ok=0
              grep -q 'scalelint\.*Passed' <<<"$out" || ok=0 ;;   # not "(no files to check)Skipped"
    esac
    if [ -n "$code" ] && ! grep -q "$code" <<<"$out"; then ok=0; fi
    if [ "$ok" -eq 1 ]; then
        echo "== ok: $file $want (exit $rc)"
    else
        echo "== UNEXPECTED: $file should $want${code:+ with $code}, pre-commit exited $rc" >&2
        failures=$((failures + 1))
    fi
}

expect fail SL001 bad/deploy.yaml
expect pass ""    good/deploy.yaml
expect fail SL004 group/api.yaml

if [ "$failures" -ne 0 ]; then
    echo "precommit-check: $failures unexpected result(s)" >&2
    exit 1
fi
echo "precommit-check: all 3 pre-commit runs gave the expected result"
