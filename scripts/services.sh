#!/usr/bin/env bash
# Makes sure what NightOwl needs on this machine is there and running: a C toolchain and Rust (with the
# wasm targets), PostgreSQL with a `nightowl` role, and Redis — installing Debian packages when missing.
# Idempotent; safe to run before every demo or test run. Needs root (or sudo) only to install.
set -euo pipefail

log() { printf '\033[1m[services]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- toolchain -------------------------------------------------------------------------------------
missing=()
command -v cc >/dev/null || missing+=(build-essential)
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v psql >/dev/null || missing+=(postgresql postgresql-client)
command -v redis-server >/dev/null || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi
if ! command -v cargo >/dev/null; then
  log "installing Rust with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if command -v rustup >/dev/null; then
  installed=$(rustup target list --installed)
  for target in wasm32-wasip2 wasm32-unknown-unknown; do
    grep -qx "$target" <<<"$installed" || rustup target add "$target" >/dev/null
  done
fi

# --- PostgreSQL ------------------------------------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  [ -n "$version" ] || { log "no PostgreSQL cluster found in /etc/postgresql"; exit 1; }
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi

# Superuser access: trust on loopback (CI machines) or the postgres OS user (a stock Debian install).
psql_admin() {
  if psql -h 127.0.0.1 -U postgres -d postgres -qtAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
  else
    as_root runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
  fi
}
if [ "$(psql_admin -c "select count(*) from pg_roles where rolname = 'nightowl'")" = 0 ]; then
  log "creating PostgreSQL role nightowl"
  psql_admin -c "create role nightowl login createdb password 'nightowl'"
fi
if [ "$(psql_admin -c "select count(*) from pg_database where datname = 'nightowl'")" = 0 ]; then
  psql_admin -c "create database nightowl owner nightowl"
fi

# --- Redis -----------------------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /tmp/nightowl-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/nightowl-redis --logfile /tmp/nightowl-redis/redis.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
log "PostgreSQL and Redis are up"
