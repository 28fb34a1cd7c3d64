#!/usr/bin/env bash
# First `make run` in a fresh clone, timed to /healthz answering (issue 17).
#   bench/first_run.sh REF [PORT]
# Clones REF of this repository into a new temporary folder (no .venv), with empty
# pip and uv caches (as a fresh machine has them), starts `make run` and polls
# /healthz every 0.2 s. Prints the load average before and after and the seconds taken.
set -euo pipefail
ref="${1:-HEAD}"
port="${2:-18731}"
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
dir="$(mktemp -d /tmp/pooled-first-run.XXXXXX)"
git clone -q "$repo" "$dir/clone"
git -C "$dir/clone" checkout -q "$ref"
export PIP_CACHE_DIR="$dir/pip-cache" UV_CACHE_DIR="$dir/uv-cache"
export POOLED_PORT="$port"
echo "ref $(git -C "$dir/clone" rev-parse --short HEAD); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$dir/clone"
start=$(date +%s.%N)
setsid make run >"$dir/run.log" 2>&1 &
pid=$!
ok=0
installed=""
for _ in $(seq 1 3000); do
  if [ -z "$installed" ] && compgen -G "$dir/clone/.venv/.installed*" >/dev/null; then
    installed=$(date +%s.%N)
  fi
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=1; break; fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.2
done
end=$(date +%s.%N)
kill -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$ok" = 1 ]; then
  printf 'first make run to /healthz: %.1f s, of which installing %.1f s  (log: %s/run.log)\n' \
    "$(echo "$end - $start" | bc)" "$(echo "${installed:-$end} - $start" | bc)" "$dir"
else
  echo "FAILED: /healthz never answered; see $dir/run.log"; tail -20 "$dir/run.log"; exit 1
fi
