#!/usr/bin/env bash
# Builds the web UI into ui/dist: the Leptos crate for wasm32 (profile `ui`: size first), split by
# page (each page's `#[lazy]` view and what only it uses go into modules loaded when it is first
# opened; wasm-split-cli from wasm_split_cli_support, the splitter cargo-leptos uses), bindings by
# wasm-bindgen-cli at exactly the version Cargo.lock pins, wasm-opt from npm's binaryen (Debian's is
# too old and produces a module that crashes in the browser), all in a content-hashed directory, and
# index.html.
#
# Budget: what the browser loads to show a page (the main module, its JS, CSS, and that page's area
# modules) should stay within 250 KB gzip. The script prints each area's figure, says which are over the
# budget, and fails above a ceiling that guards against regressions (320 KB; all areas but the dashboard
# are over the budget today, see docs/architecture.md, "Bundle size").
#
# Tools are installed once into NIGHTOWL_TOOLS_DIR (default ~/.cache/nightowl-tools), outside the
# clone, and reused. The release build of the host embeds ui/dist, so build the UI first.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=${NIGHTOWL_TOOLS_DIR:-$HOME/.cache/nightowl-tools}
target_dir=${CARGO_TARGET_DIR:-target}
budget_kb=${NIGHTOWL_UI_BUDGET_KB:-250}
ceiling_kb=${NIGHTOWL_UI_CEILING_KB:-320}
split_version=0.2.4
binaryen_version=132.0.0
log() { printf '\033[1m[build-ui]\033[0m %s\n' "$*" >&2; }

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
bindgen="$tools/bin/wasm-bindgen"
if ! "$bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $bindgen_version"; then
  log "installing wasm-bindgen-cli $bindgen_version into $tools (once, several minutes)"
  # Not --locked: the CLI's lock file asks for a crate version the registry no longer has.
  CARGO_TARGET_DIR="$tools/target" cargo install -q wasm-bindgen-cli --version "$bindgen_version" --root "$tools"
fi
split="$tools/bin/wasm-split-cli"
if ! [ -x "$split" ] || ! grep -qs "^$split_version\$" "$tools/wasm-split-cli.version"; then
  log "installing wasm_split_cli_support $split_version (wasm-split-cli) into $tools (once, a few minutes)"
  CARGO_TARGET_DIR="$tools/target" cargo install -q --locked wasm_split_cli_support --version "$split_version" \
    --features build-binary --root "$tools"
  echo "$split_version" > "$tools/wasm-split-cli.version"
fi
wasm_opt="$tools/node/node_modules/.bin/wasm-opt"
if ! "$wasm_opt" --version 2>/dev/null | grep -q "version ${binaryen_version%%.*}"; then
  log "installing binaryen $binaryen_version (wasm-opt) from npm into $tools/node"
  mkdir -p "$tools/node"
  npm install --silent --no-audit --no-fund --prefix "$tools/node" "binaryen@$binaryen_version" >/dev/null
fi

log "compiling nightowl-ui for wasm32 (profile ui)"
# erase_components: Leptos types every view as AnyView instead of one type per view (about 10% less
# code). --emit-relocs: the splitter follows the linker's relocations to see what calls what.
# --remap-path-prefix: panic locations name dependencies' files by their path in the registry; the
# registry's own directory adds nothing but bytes to every one of them.
cargo fetch --locked -q  # (the registry's directories exist before their paths are named)
remap=""
for index in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do remap+=" --remap-path-prefix=$index="; done
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components -C link-arg=--emit-relocs$remap" \
  cargo build --locked --profile ui -p nightowl-ui --target wasm32-unknown-unknown
wasm="$target_dir/wasm32-unknown-unknown/ui/nightowl-ui.wasm"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The main module (to be bound by wasm-bindgen), the pages' modules and the chunks they share, and
# __wasm_split.js, which loads them (relative to itself) when a page first needs them.
"$split" "$wasm" "$work/split" --target web --out-name nightowl_ui
mkdir -p "$work/bundle"
# --keep-lld-exports: the pages' modules import the main module's function table, which wasm-bindgen
# would otherwise stop exporting.
"$bindgen" --target web --no-typescript --keep-lld-exports --out-dir "$work/bundle" --out-name nightowl_ui "$work/split/nightowl_ui.wasm"
rm "$work/split/nightowl_ui.wasm"
mv "$work/split/"* "$work/bundle/"
for module in "$work/bundle/"*.wasm; do
  # (The splitter's modules carry a names section wasm-opt does not know and warns about; it strips it.)
  "$wasm_opt" -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types "$module" -o "$module.opt" 2> >(grep -v 'unknown name subsection' >&2)
  mv "$module.opt" "$module"
done
# The start-up module: loads the bindings and the main module (no inline script, so the page's CSP can
# forbid them).
printf "import init from './nightowl_ui.js';\ninit({ module_or_path: new URL('./nightowl_ui_bg.wasm', import.meta.url) });\n" \
  > "$work/bundle/boot.js"

# One directory named by the hash of everything in it: its files never change under their names.
out=ui/dist
rm -rf "$out"
mkdir -p "$out/assets"
build=$(cd "$work/bundle" && sha256sum -- * | sha256sum | cut -c1-16)
cp -r "$work/bundle" "$out/assets/$build"
css_name="style-$(sha256sum ui/style.css | cut -c1-16).css"
cp ui/style.css "$out/assets/$css_name"
sed -e "s|{{style}}|$css_name|" -e "s|{{js}}|$build/nightowl_ui.js|" -e "s|{{wasm}}|$build/nightowl_ui_bg.wasm|" \
  -e "s|{{boot}}|$build/boot.js|" ui/index.html > "$out/index.html"

# What each page costs: the main module, the JS, the CSS, and the modules its loader fetches first.
python3 - "$out/assets/$build" "$out/assets/$css_name" "$budget_kb" "$ceiling_kb" <<'PY' | tee "$out/size.txt"
import gzip, os, re, sys
bundle, css, budget_kb, ceiling_kb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
gz = lambda path: len(gzip.compress(open(path, 'rb').read(), 9))
link = open(os.path.join(bundle, '__wasm_split.js')).read()
base = {name: gz(os.path.join(bundle, name)) for name in
        ['nightowl_ui_bg.wasm', 'nightowl_ui.js', 'boot.js', '__wasm_split.js']}
base_total = sum(base.values()) + gz(css)
chunks = {m.group(1): m.group(2) for m in
          re.finditer(r'const (__chunk_\d+) = makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\./([^"]+)"', link)}
pages = re.finditer(r'export const __wasm_split_load_([a-z_]+?)_view_\d+ = wrapAsyncCb\(makeLoad\(\(\) => \{\s*'
                    r'const src = fetch\(new URL\("\./([^"]+)".*?\n, \[([^\]]*)\]\)\);', link, re.S)
worst, rows = 0, []
for page in pages:
    files = [page.group(2)] + [chunks[d.strip()] for d in page.group(3).split(',') if d.strip()]
    size = base_total + sum(gz(os.path.join(bundle, f)) for f in files)
    worst = max(worst, size)
    over = '  OVER BUDGET' if size > budget_kb * 1024 else ''
    rows.append(f'  {page.group(1):<14} {size / 1024:6.0f} KB ({len(files)} modules){over}')
every = sum(gz(os.path.join(bundle, f)) for f in os.listdir(bundle)) + gz(css)
print(f'ui bundle (gzip -9): main module, JS and CSS {base_total / 1024:.0f} KB '
      f'(wasm {base["nightowl_ui_bg.wasm"]} B); with each page\'s modules:')
print('\n'.join(sorted(rows)))
print(f'largest page {worst / 1024:.0f} KB (budget {budget_kb} KB); every module together {every / 1024:.0f} KB')
if not rows:
    sys.exit('the bundle has no page modules: was it split?')
if worst > ceiling_kb * 1024:
    sys.exit(f'a page needs {worst / 1024:.0f} KB, over the ceiling of {ceiling_kb} KB')
PY
