#!/usr/bin/env bash
# Builds every plugin for wasm32-wasip2 (release) and lays them out as NightOwl loads them:
#   plugins/dist/<id>/{plugin.toml,plugin.wasm}       the shipped plugins (what `serve` loads by default)
#   plugins/dist-test/<id>/{plugin.toml,plugin.wasm}  test plugins (under plugins/testing/) for the sandbox tests
# A plugin is any folder of plugins/ with a plugin.toml beside its Cargo.toml (integrations/<id>, testing/<id>).
# Its id comes from plugin.toml, its .wasm from the crate name in Cargo.toml; a plugin under testing/ goes to
# dist-test, any other to dist. Nothing here lists plugins by name.
set -euo pipefail
cd "$(dirname "$0")/../plugins"
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

cargo build --locked --release
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
out="$target/wasm32-wasip2/release"

# The first `key = "value"` of a TOML file, optionally only inside [section].
toml_value() { # <file> <key> [section]
  if [ -n "${3:-}" ]; then
    sed -n "/^\[$3\]/,/^\[/s/^$2 *= *\"\(.*\)\"/\1/p" "$1" | head -n1
  else
    sed -n "s/^$2 *= *\"\(.*\)\"/\1/p" "$1" | head -n1
  fi
}

lay_out() { # <dest root> <plugin dir>
  local id crate wasm
  id=$(toml_value "$2/plugin.toml" id)
  [ -n "$id" ] || { echo "$2/plugin.toml has no id" >&2; exit 1; }
  [ -f "$2/Cargo.toml" ] || { echo "$2 has a plugin.toml but no Cargo.toml" >&2; exit 1; }
  crate=$(toml_value "$2/Cargo.toml" name package)
  wasm="$out/${crate//-/_}.wasm"
  [ -f "$wasm" ] || { echo "$2: crate $crate built no $wasm (is its crate-type cdylib?)" >&2; exit 1; }
  if [ -n "${seen[$id]:-}" ]; then
    echo "plugin id $id is used by both ${seen[$id]} and $2" >&2
    exit 1
  fi
  seen[$id]=$2
  mkdir -p "$1/$id"
  cp "$2/plugin.toml" "$1/$id/plugin.toml.tmp" && mv "$1/$id/plugin.toml.tmp" "$1/$id/plugin.toml"
  cp "$wasm" "$1/$id/plugin.wasm.tmp" && mv "$1/$id/plugin.wasm.tmp" "$1/$id/plugin.wasm"
  printf '  %-14s %-8s %s\n' "$id" "$(du -h "$1/$id/plugin.wasm" | cut -f1)" "$2"
}

declare -A seen=()
manifests=$(find . -name plugin.toml -not -path './dist/*' -not -path './dist-test/*' -not -path './target/*' \
  -not -path '*/tests/*' | sed 's|^\./||; s|/plugin.toml$||' | sort)
echo "plugins/dist:"
for dir in $manifests; do
  case "$dir" in testing/*) ;; *) lay_out dist "$dir" ;; esac
done
echo "plugins/dist-test:"
for dir in $manifests; do
  case "$dir" in testing/*) lay_out dist-test "$dir" ;; esac
done
