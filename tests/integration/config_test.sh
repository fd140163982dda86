#!/usr/bin/env bash
# Configuration (README.md#configuration): file + environment + command line with command
# line beating environment beating file; `signalsd --check-config` lists every
# problem (section, key, reason, origin) and exits 2; unknown keys, sections
# and plugins get a "did you mean"; `signalsd --help` lists every loaded
# plugin's options; --data-dir places state under DIR.
# usage: config_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"

step "--check-config on a file with six problems lists all six and exits 2"
cat >bad.conf <<'CONF'
[kernel]
log_levl = debug
zstd_level = 99

[cass]
plugin = cas-fs

[cas]
plugin = cas-fs
rooot = cas

[index]
plugin = index-sqlit

[signing]
plugin = signer-ed25519
algorithm = RSA
CONF
run_expect 2 out.txt err.txt "$SIGNALSD" --config bad.conf --data-dir "$TMP/data" --check-config
expect_in err.txt "bad.conf" "stderr (names the file)"
expect_in err.txt "[kernel]: unknown option 'log_levl'; did you mean 'log_level'?" "stderr"
expect_in err.txt "[kernel]: option 'zstd_level'" "stderr"
expect_in err.txt "outside [1, 19]" "stderr"
expect_in err.txt "[cass]: unknown section; did you mean [cas]?" "stderr"
expect_in err.txt "unknown option 'rooot'; did you mean 'root'?" "stderr"
expect_in err.txt "[index] plugin: no plugin component named 'index-sqlit'" "stderr"
expect_in err.txt "did you mean 'index-sqlite'?" "stderr"
expect_in err.txt "[signing]: option 'algorithm': 'RSA' is not one of" "stderr"
# Every problem line says where the value came from.
[[ $(grep -c "file bad.conf)" err.txt) -ge 6 ]] || { cat err.txt >&2; fail "not every problem names the file it came from"; }
[[ ! -e $TMP/data ]] || fail "--check-config created the data dir"

step "signalsctl refuses the same file with exit 2"
run_expect 2 out.txt err.txt "$SIGNALSCTL" --config bad.conf --data-dir "$TMP/data" keys list
expect_in err.txt "did you mean 'log_level'?" "signalsctl stderr"

step "a valid file passes"
cat >good.conf <<CONF
[kernel]
data_dir = $TMP/from-file
zstd_level = 3

[cas]
plugin = cas-fs
root = cas

[index]
plugin = index-sqlite

[signing]
plugin = signer-ed25519
create_if_missing = true
CONF
run_expect 0 out.txt err.txt "$SIGNALSD" --config good.conf --check-config
expect_in out.txt "data dir $TMP/from-file" "stdout (file's data dir)"

step "environment beats file"
SIGNALS_KERNEL__DATA_DIR=$TMP/from-env run_expect 0 out.txt err.txt "$SIGNALSD" --config good.conf --check-config
expect_in out.txt "data dir $TMP/from-env" "stdout (environment's data dir)"
SIGNALS_KERNEL__ZSTD_LEVEL=99 run_expect 2 out.txt err.txt "$SIGNALSD" --config good.conf --check-config
# The problem names where the bad value came from, not every origin of [kernel].
expect_in err.txt "value '99' is outside [1, 19] (environment SIGNALS_KERNEL__ZSTD_LEVEL)" \
  "stderr (bad value from the environment)"
sed 's/^zstd_level = 3$/zstd_level = 99/' good.conf >bad-level.conf
run_expect 2 out.txt err.txt "$SIGNALSD" --config bad-level.conf --check-config
SIGNALS_KERNEL__ZSTD_LEVEL=5 run_expect 0 out.txt err.txt "$SIGNALSD" --config bad-level.conf --check-config

step "command line beats environment"
SIGNALS_KERNEL__DATA_DIR=$TMP/from-env run_expect 0 out.txt err.txt \
  "$SIGNALSD" --config good.conf --kernel.data_dir="$TMP/from-cli" --check-config
expect_in out.txt "data dir $TMP/from-cli" "stdout (command line's data dir)"
SIGNALS_KERNEL__DATA_DIR=$TMP/from-env run_expect 0 out.txt err.txt \
  "$SIGNALSD" --config good.conf --data-dir "$TMP/from-flag" --check-config
expect_in out.txt "data dir $TMP/from-flag" "stdout (--data-dir)"
SIGNALS_KERNEL__ZSTD_LEVEL=99 run_expect 0 out.txt err.txt \
  "$SIGNALSD" --config good.conf --kernel.zstd_level 7 --check-config
SIGNALS_KERNEL__ZSTD_LEVEL=5 run_expect 2 out.txt err.txt \
  "$SIGNALSD" --config good.conf --kernel.zstd_level=0 --check-config
expect_in err.txt "value '0' is outside [1, 19] (command line)" "stderr (bad value from the command line)"

step "the environment mapping reaches instance sections and reports malformed names"
SIGNALS_CAS__ROOOT=x run_expect 2 out.txt err.txt "$SIGNALSD" --config good.conf --check-config
expect_in err.txt "did you mean 'root'?" "stderr (misspelt env key)"
expect_in err.txt "environment SIGNALS_CAS__ROOOT" "stderr (misspelt env key)"
SIGNALS_CAS__=x run_expect 2 out.txt err.txt "$SIGNALSD" --config good.conf --check-config
expect_in err.txt "SIGNALS_CAS__" "stderr (malformed env name)"

step "unknown plugin name and wrong plugin kind"
sed 's/^plugin = cas-fs$/plugin = cas-fz/' good.conf >unknown-plugin.conf
run_expect 2 out.txt err.txt "$SIGNALSD" --config unknown-plugin.conf --check-config
expect_in err.txt "[cas] plugin: no plugin component named 'cas-fz'" "stderr (unknown plugin)"
expect_in err.txt "did you mean 'cas-fs'?" "stderr (unknown plugin)"
sed 's/^plugin = cas-fs$/plugin = index-sqlite/' good.conf >wrong-kind.conf
run_expect 2 out.txt err.txt "$SIGNALSD" --config wrong-kind.conf --check-config
expect_in err.txt "needs a cas plugin" "stderr (wrong kind)"

step "a missing required section and rekor without a tlog"
grep -v '^\[index\]\|^plugin = index-sqlite' good.conf >no-index.conf
run_expect 2 out.txt err.txt "$SIGNALSD" --config no-index.conf --check-config
expect_in err.txt "[index]" "stderr (no [index])"
run_expect 2 out.txt err.txt "$SIGNALSD" --config good.conf --provenance.rekor_enabled=true --check-config
expect_in err.txt "rekor_enabled" "stderr (rekor without tlog)"

step "unreadable config file and unknown argument exit 2"
run_expect 2 out.txt err.txt "$SIGNALSD" --config "$TMP/nope.conf" --check-config
expect_in err.txt "$TMP/nope.conf" "stderr (missing file)"
run_expect 2 out.txt err.txt "$SIGNALSD" --frobnicate
expect_in err.txt "--frobnicate" "stderr (unknown argument)"

step "signalsd --help lists every loaded plugin's options"
run_expect 0 help.txt err.txt "$SIGNALSD" --help
for text in cas-fs index-sqlite signer-ed25519 --cas.root --cas.bucket_prefix --index.path --signing.key_dir \
  --signing.key_id --signing.create_if_missing --kernel.data_dir --kernel.max_line_bytes --provenance.rekor_enabled \
  SIGNALS_; do
  expect_in help.txt "$text" "signalsd --help"
done
"$SIGNALSCTL" plugins list >plugins.txt
while read -r name _; do
  [[ $name == NAME ]] && continue
  expect_in help.txt "$name" "signalsd --help (plugin $name of 'signalsctl plugins list')"
done <plugins.txt

step "--data-dir places state under DIR"
mkdir work && cd work
run_expect 0 out.txt err.txt "$SIGNALSCTL" --data-dir "$TMP/state" tenant add acme
[[ -f $TMP/state/index.sqlite ]] || fail "no index under --data-dir: $(find "$TMP/state" 2>&1)"
[[ -z $(ls -A | grep -vxE 'out.txt|err.txt') ]] || fail "state written to the working directory: $(ls -A)"
run_expect 0 tenants.txt err.txt "$SIGNALSCTL" --data-dir "$TMP/state" tenant list
expect_in tenants.txt acme "tenant list"
run_expect 0 tenants.txt err.txt "$SIGNALSCTL" --data-dir "$TMP/other" tenant list
if grep -qx acme tenants.txt; then fail "another --data-dir sees the tenant"; fi
cd "$TMP"
