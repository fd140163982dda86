#!/usr/bin/env bash
# Every plugin README's options table is what the plugin declares: the block
# after "<!-- options: signalsctl plugins describe NAME --format markdown -->"
# equals that command's output (tools/plugin-readmes rewrites them), and every
# plugin folder has one.
# usage: plugin_readmes_test.sh SIGNALSCTL SIGNALSD TESTDATA_DIR
set -euo pipefail
SIGNALSCTL=$1 SIGNALSD=$2 TESTDATA=$3
source "$(dirname "$0")/lib.sh"
PLUGINS=$(cd "$HERE/../../plugins" && pwd)

checked=0
for dir in "$PLUGINS"/*/; do
  plugin=$(basename "$dir")
  readme=$dir/README.md
  [[ -f $readme ]] || fail "plugins/$plugin has no README.md"
  [[ -d $dir/src && -d $dir/tests ]] || fail "plugins/$plugin lacks src/ or tests/ (every plugin has the same shape)"
  grep -qx "<!-- options: signalsctl plugins describe $plugin --format markdown -->" "$readme" ||
    fail "plugins/$plugin/README.md has no generated options table (see tools/plugin-readmes)"
  if [[ $plugin == tlog-rekor ]] && ! "$SIGNALSCTL" --data-dir "$TMP/d" plugins list 2>/dev/null | grep -q '^tlog-rekor '; then
    continue  # an air-gap build has no tlog-rekor to describe
  fi
  "$SIGNALSCTL" --data-dir "$TMP/d" plugins describe "$plugin" --format markdown >want.md 2>/dev/null ||
    fail "signalsctl plugins describe $plugin --format markdown failed"
  sed -n "/^<!-- options: signalsctl plugins describe $plugin --format markdown -->$/,/^<!-- end of options -->$/p" "$readme" |
    sed '1d;$d' >have.md
  diff -u want.md have.md >diff.txt ||
    fail "plugins/$plugin/README.md options differ from the plugin (run tools/plugin-readmes):
$(cat diff.txt)"
  checked=$((checked + 1))
done
((checked >= 6)) || fail "only $checked plugin READMEs checked"
echo "  $checked plugin READMEs match their option tables"
