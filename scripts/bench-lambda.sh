#!/usr/bin/env bash
# Figures for alb-timeout-lambda: release binary size, cold start (process start to the first
# answer) and warm invocation time, against moto on loopback. Uses the tools that
# scripts/install-test-tools.sh puts in .tools/venv (moto, cargo-lambda).
# Usage: scripts/bench-lambda.sh [invocations, default 20]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${1:-20}"
export PATH="$PWD/.tools/venv/bin:$PATH"
command -v cargo-lambda >/dev/null || { echo "cargo-lambda missing: run scripts/install-test-tools.sh" >&2; exit 1; }

cargo lambda build --release -p alb-timeout-lambda --quiet
binary=target/lambda/alb-timeout-lambda/bootstrap
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); z.write(sys.argv[2],'bootstrap'); z.close()" "$work/bootstrap.zip" "$binary"
echo "binary: $(stat -c %s "$binary") bytes ($(uname -m)), zipped: $(stat -c %s "$work/bootstrap.zip") bytes"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
moto_port=$(free_port); api_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$moto_port),1)" 2>/dev/null; do sleep 0.1; done
python tests/python/moto_setup.py "http://127.0.0.1:$moto_port" >"$work/account.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
account = json.load(open(f"{work}/account.json"))
event = json.load(open("alb-timeout-lambda/events/create.json"))
event["ResponseURL"] = account["responseUrls"]["create"]
json.dump(event, open(f"{work}/create.json", "w"))
event.update(RequestType="Update", OldResourceProperties={}, PhysicalResourceId="alb-idle-timeout:60:" + account["public"])
event["ResourceProperties"]["IdleTimeoutSeconds"] = "700"
event["ResponseURL"] = account["responseUrls"]["update"]
json.dump(event, open(f"{work}/update.json", "w"))
PY

cargo lambda watch --only-lambda-apis -A 127.0.0.1 -P "$api_port" >"$work/apis.log" 2>&1 &
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$api_port),1)" 2>/dev/null; do sleep 0.1; done
AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_NAME=_ \
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$api_port/.rt" AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" \
  AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  "$binary" >"$work/function.log" 2>&1 &
cargo lambda invoke _ -A 127.0.0.1 -P "$api_port" --data-file "$work/create.json" >/dev/null
for _ in $(seq "$runs"); do
  cargo lambda invoke _ -A 127.0.0.1 -P "$api_port" --data-file "$work/update.json" >/dev/null
done

python3 - "$work/function.log" <<'PY'
import json, sys
from datetime import datetime
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ts = lambda r: datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).timestamp() * 1000
start = next(r for r in rows if r.get("step") == "cold start")
received = [r for r in rows if r.get("step") == "received"]
answered = [r for r in rows if r.get("step") == "answered"]
first = ts(answered[0]) - ts(start) + start["init_ms"]
warm = sorted(ts(b) - ts(a) for a, b in zip(received[1:], answered[1:]))
print(f"cold start: init {start['init_ms']:.1f} ms; process start to first answer delivered {first:.1f} ms")
print(f"warm invocation (Update: discovery over {len(warm)} runs, read, modify, verify, answer PUT), received to answered:"
      f" p50 {warm[len(warm)//2]:.1f} ms, max {warm[-1]:.1f} ms")
PY
