#!/usr/bin/env bash
# Runs the pre-commit hook for real, the way a user's repository meets it:
#
#   pre-commit try-repo <a git copy of this working tree> scalelint [--files ...]
#
# in a throw-away "user" repository, on these examples:
#   bad/deploy.yaml   a Deployment without resource limits     -> hook fails (SL001)
#   good/deploy.yaml  a Deployment with limits and requests    -> hook passes
#   group/api.yaml    fine alone, but its sibling group/pdb.yaml puts it under a
#                     PodDisruptionBudget with 1 replica        -> hook fails (SL004):
#                     the hook lints the group of each changed file (SPEC §7).
#   budget/           api.yaml (Deployment shop-api, not api: the examples share a
#                     repository, and a named file's context is looked up there by
#                     name), postgres.yaml (the StatefulSet and its max_connections)
#                     and reports.yaml (an unrelated Deployment without limits:
#                     SL001 when linted itself). api.yaml passes as committed;
#                     then, as in a real commit, only api.yaml is changed (2 -> 4
#                     replicas) and staged, and the hook runs on the staged files
#                     (no --files): it must fail with SL003 located in
#                     budget/postgres.yaml, the file the change overloads, and must
#                     not report the untouched, unrelated budget/reports.yaml (SPEC §11).
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

mkdir -p "$work/user/bad" "$work/user/good" "$work/user/group" "$work/user/budget"
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
# budget/: 2 replicas x 4 workers x (5 pool + 5 overflow) = 80 of the 97 connections
# postgres offers (100 - 3 reserved): fine as committed, over budget at 4 replicas
cat >"$work/user/budget/api.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-api
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop-api}
  template:
    metadata:
      labels: {app: shop-api}
    spec:
      containers:
        - name: shop-api
          image: registry.example.com/shop-api:3.1.0
          command: ["gunicorn", "-w", "4", "app:app"]
          env:
            - name: DATABASE_URL
              value: postgresql://app:secret@postgres:5432/app
            - name: DB_POOL_SIZE
              value: "5"
            - name: DB_MAX_OVERFLOW
              value: "5"
          resources:
            requests: {cpu: "4", memory: 4Gi}
            limits: {cpu: "4", memory: 4Gi}
YAML
cat >"$work/user/budget/postgres.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: postgres-config
data:
  postgresql.conf: |
    max_connections = 100
---
apiVersion: v1
kind: Service
metadata:
  name: postgres
spec:
  selector: {app: postgres}
  ports:
    - port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
spec:
  serviceName: postgres
  replicas: 1
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
        - name: postgres
          image: postgres:16
          args: ["-c", "config_file=/etc/postgresql/postgresql.conf"]
          resources:
            requests: {cpu: "2", memory: 4Gi}
            limits: {cpu: "2", memory: 4Gi}
          volumeMounts:
            - name: config
              mountPath: /etc/postgresql
      volumes:
        - name: config
          configMap:
            name: postgres-config
YAML
cat >"$work/user/budget/reports.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reports
spec:
  replicas: 1
  selector:
    matchLabels: {app: reports}
  template:
    metadata:
      labels: {app: reports}
    spec:
      containers:
        - name: reports
          image: registry.example.com/reports:2.0.0
YAML
cd "$work/user"
git_commit "examples"

failures=0
runs=0
# expect <want: fail|pass> <ERE that must match the output, or ""> <ERE that must not, or ""> [<file>]
# With a file: pre-commit try-repo ... --files <file>. Without: the staged files, as `git commit` runs it.
expect() {
    local want="$1" present="$2" absent="$3" file="${4:-}" rc=0 out what
    local -a args=(--color never)
    if [ -n "$file" ]; then args+=(--files "$file"); what="$file"; else what="the staged files"; fi
    runs=$((runs + 1))
    echo "== precommit-check: pre-commit try-repo <project> scalelint ${args[*]}  (expect: $want${present:+, /$present/}${absent:+, not /$absent/})"
    out="$(pre-commit try-repo "$work/project" scalelint "${args[@]}" 2>&1)" || rc=$?
    printf '%s\n' "$out" | sed 's/^/   | /'
    local -a wrong=()
    case "$want" in
        fail) [ "$rc" -eq 1 ] || wrong+=("pre-commit exited $rc, not 1")   # 1 = a hook failed; 3 = pre-commit broke
              grep -q -- '- exit code: 1$' <<<"$out" \
                  || wrong+=("no '- exit code: 1' (scalelint's 1 = findings; 2 = it broke)") ;;
        pass) [ "$rc" -eq 0 ] || wrong+=("pre-commit exited $rc, not 0")
              grep -q 'scalelint\.*Passed' <<<"$out" \
                  || wrong+=("no 'scalelint...Passed' line (skipped: no files to check?)") ;;
    esac
    if [ -n "$present" ] && ! grep -Eq -- "$present" <<<"$out"; then wrong+=("nothing matches /$present/"); fi
    if [ -n "$absent" ] && grep -Eq -- "$absent" <<<"$out"; then wrong+=("the output matches /$absent/"); fi
    if [ "${#wrong[@]}" -eq 0 ]; then
        echo "== ok: $what $want (exit $rc)"
    else
        local why
        why="$(printf '%s; ' "${wrong[@]}")"
        echo "== UNEXPECTED: $what should $want: ${why%; }" >&2
        failures=$((failures + 1))
    fi
}

expect fail SL001 "" bad/deploy.yaml
expect pass ""    "" good/deploy.yaml
expect fail SL004 "" group/api.yaml

# budget/: the committed api.yaml is within the budget, so the SL003 below comes from the change;
# the untouched sibling really has a finding of its own, so its absence below means something
expect pass ""    "" budget/api.yaml
expect fail '^budget/reports\.yaml:[0-9]+:[0-9]+: SL001 ' "" budget/reports.yaml
# a commit that changes api.yaml alone: 4 replicas x 4 workers x 10 = 160 > 97
sed -i.orig 's/^  replicas: 2$/  replicas: 4/' budget/api.yaml && rm -f budget/api.yaml.orig
if ! grep -q '^  replicas: 4$' budget/api.yaml; then
    echo "precommit-check: could not change the replicas of budget/api.yaml" >&2
    exit 2
fi
git add budget/api.yaml
staged="$(git diff --cached --name-only)"
if [ "$staged" != "budget/api.yaml" ]; then
    echo "precommit-check: expected only budget/api.yaml to be staged, got: $staged" >&2
    exit 2
fi
expect fail '^budget/postgres\.yaml:[0-9]+:[0-9]+: SL003 ' 'reports\.yaml|SL001'

if [ "$failures" -ne 0 ]; then
    echo "precommit-check: $failures of $runs pre-commit runs gave an unexpected result" >&2
    exit 1
fi
echo "precommit-check: all $runs pre-commit runs gave the expected result"
