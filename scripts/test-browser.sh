#!/usr/bin/env bash
# The web UI in a real browser: Debian's Chromium driven by playwright-core, against the real
# `nightowl serve` (debug build, the bundle in ui/dist, real PostgreSQL and Redis) on a database of
# its own. Screenshots go to tests/browser/output. Needs scripts/build-plugins.sh and
# scripts/build-ui.sh to have run (scripts/test.sh runs them first).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=${NIGHTOWL_TOOLS_DIR:-$HOME/.cache/nightowl-tools}
playwright_version=1.57.0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! grep -qs "\"version\": \"$playwright_version\"" "$tools/node/node_modules/playwright-core/package.json"; then
  mkdir -p "$tools/node"
  npm install --silent --no-audit --no-fund --prefix "$tools/node" "playwright-core@$playwright_version" >/dev/null
fi

target=${CARGO_TARGET_DIR:-target}
cargo build --locked --bin nightowl --bin fake-oidc
bin=$target/debug/nightowl

server=${NIGHTOWL_BROWSER_DATABASE_SERVER:-postgres://nightowl:nightowl@127.0.0.1:5432}
db=nightowl_browser
psql "$server/postgres" -v ON_ERROR_STOP=1 -qc "drop database if exists $db with (force)"
psql "$server/postgres" -v ON_ERROR_STOP=1 -qc "create database $db"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
export NIGHTOWL_DATABASE_URL="$server/$db"
export NIGHTOWL_REDIS_URL=${NIGHTOWL_REDIS_URL:-redis://127.0.0.1:6379}
export NIGHTOWL_LISTEN=127.0.0.1:$port
export NIGHTOWL_PUBLIC_URL=http://127.0.0.1:$port
export NIGHTOWL_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
export NIGHTOWL_PLUGIN_DIR=plugins/dist
export NIGHTOWL_LOG=${NIGHTOWL_LOG:-warn}
export NIGHTOWL_SECURE_COOKIES=false
password=browser-test-password
"$bin" migrate >/dev/null
key=$(NIGHTOWL_SEED_ADMIN_PASSWORD=$password "$bin" seed-demo | sed -n 's/^admin API key (shown once): //p')
[ -n "$key" ] || { echo "seed-demo printed no API key" >&2; exit 1; }

out=tests/browser/output
rm -rf "$out"
mkdir -p "$out"

# Single sign-on: a local OpenID provider (tests/src/bin/fake_oidc.rs) that signs its one user in at
# once, with PKCE, state and nonce checked on both sides.
oidc_port=$(free_port)
oidc_email=olga@acme.example
"$target/debug/fake-oidc" --port "$oidc_port" --client-id nightowl-browser --client-secret browser-oidc-secret \
  --redirect-uri "$NIGHTOWL_PUBLIC_URL/auth/oidc/callback" --tenant acme --email "$oidc_email" \
  --name "Olga Oidc" --role engineer > "$out/fake-oidc.log" 2>&1 &
oidc_pid=$!
export NIGHTOWL_OIDC_ISSUER=http://127.0.0.1:$oidc_port
export NIGHTOWL_OIDC_CLIENT_ID=nightowl-browser
export NIGHTOWL_OIDC_CLIENT_SECRET=browser-oidc-secret

"$bin" serve > "$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid $oidc_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$out/fake-oidc.log" && break
  sleep 0.1
done
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

NIGHTOWL_URL=http://127.0.0.1:$port NIGHTOWL_API_KEY=$key NIGHTOWL_PASSWORD=$password NIGHTOWL_OIDC_EMAIL=$oidc_email \
  NIGHTOWL_SHOTS=$out PLAYWRIGHT_CORE="$tools/node/node_modules/playwright-core/index.mjs" \
  node --test --test-concurrency=1 tests/browser/responder.mjs tests/browser/console.mjs tests/browser/management.mjs
