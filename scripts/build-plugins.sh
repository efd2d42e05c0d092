#!/usr/bin/env bash
# Builds every plugin for wasm32-wasip2 (release) and lays them out as NightOwl loads them:
#   plugins/dist/<id>/{plugin.toml,plugin.wasm}       the shipped plugins (what `serve` loads by default)
#   plugins/dist-test/<id>/{plugin.toml,plugin.wasm}  misbehaving plugins for the sandbox tests
set -euo pipefail
cd "$(dirname "$0")/../plugins"
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

cargo build --locked --release
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
out="$target/wasm32-wasip2/release"

lay_out() { # <dest root> <crate dir> <wasm file stem>
  local id
  id=$(sed -n 's/^id = "\(.*\)"/\1/p' "$2/plugin.toml")
  mkdir -p "$1/$id"
  cp "$2/plugin.toml" "$1/$id/plugin.toml.tmp" && mv "$1/$id/plugin.toml.tmp" "$1/$id/plugin.toml"
  cp "$out/$3.wasm" "$1/$id/plugin.wasm.tmp" && mv "$1/$id/plugin.wasm.tmp" "$1/$id/plugin.wasm"
  printf '  %-14s %s\n' "$id" "$(du -h "$1/$id/plugin.wasm" | cut -f1)"
}
echo "plugins/dist:"
for p in alertmanager keep generic; do lay_out dist "$p" "nightowl_plugin_$p"; done
echo "plugins/dist-test:"
for p in looper hog panicker greedy recorder; do lay_out dist-test "testing/$p" "nightowl_test_plugin_$p"; done
