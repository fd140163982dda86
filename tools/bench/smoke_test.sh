#!/usr/bin/env bash
# bench.smoke: tools/bench/run --smoke on tiny data, then checks that the JSON
# table has every figure of README.md#performance with a measured value, a reference, a
# ratio and a bound. Only that the benchmarks run is checked, not their speed.
# usage: smoke_test.sh BUILD_DIR
set -euo pipefail
BUILD=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/signals-bench-smoke-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

"$ROOT/tools/bench/run" --smoke --no-build --build "$BUILD" --workdir "$TMP/work" --json "$TMP/bench.json"

for figure in ingest-1m ingest-http ingest-http-p99 callgraph-1m reach-1m drift-1m stream-read; do
  jq -e --arg f "$figure" '[.figures[] | select(.figure == $f)] | length == 1 and
      (.[0].value | type == "number") and (.[0].value > 0) and (.[0].ratio | type == "number") and
      (.[0].bound | type == "number") and (.[0].reference | type == "number")' "$TMP/bench.json" >/dev/null ||
    { echo "bench.smoke: figure '$figure' is missing or incomplete in the JSON table" >&2; exit 1; }
done
jq -e '.failures == [] and (.machine.nproc | type == "number")' "$TMP/bench.json" >/dev/null ||
  { echo "bench.smoke: failures: $(jq -c .failures "$TMP/bench.json")" >&2; exit 1; }
echo "bench.smoke: PASS"
