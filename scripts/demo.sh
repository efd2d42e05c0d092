#!/usr/bin/env bash
# Runs NightOwl with demo data on http://127.0.0.1:8080: starts services, builds, re-creates the demo
# tenant `acme`, prints its credentials and serves until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

# Local settings: .env (git-ignored) is created once from .env.example with a fresh encryption key.
if [ ! -f .env ]; then
  key=$(head -c 32 /dev/urandom | base64)
  sed "s|^NIGHTOWL_SECRET_KEY=.*|NIGHTOWL_SECRET_KEY=$key|" .env.example > .env
  echo "created .env with a fresh NIGHTOWL_SECRET_KEY"
fi
# Variables already set in the environment win over .env.
while IFS= read -r line; do
  name=${line%%=*}
  [[ $name =~ ^NIGHTOWL_[A-Z0-9_]+$ ]] && [ -z "${!name+x}" ] && export "$name=${line#*=}"
done < .env
export NIGHTOWL_SEED_ADMIN_PASSWORD=${NIGHTOWL_SEED_ADMIN_PASSWORD:-nightowl-demo}

bash scripts/build-plugins.sh
bash scripts/build-ui.sh
cargo build --locked --bin nightowl
bin=${CARGO_TARGET_DIR:-target}/debug/nightowl
"$bin" migrate
"$bin" seed-demo
echo "web UI: http://${NIGHTOWL_LISTEN}/   admin password: $NIGHTOWL_SEED_ADMIN_PASSWORD   API docs: http://${NIGHTOWL_LISTEN}/api/docs"
exec "$bin" serve
