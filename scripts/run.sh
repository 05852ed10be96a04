#!/usr/bin/env bash
# Runs Lockstep at http://127.0.0.1:3000 on a fresh machine: installs what is missing (the
# wasm32 target, wasm-bindgen-cli), finds or starts PostgreSQL, builds, migrates, serves.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/lib/postgres.sh

find_postgres
export DATABASE_URL="${DATABASE_URL:-$PG_SERVER_URL/lockstep}"
./scripts/build-frontend.sh
echo "==> building the server (release)"
cargo build --release -p server
echo "==> Lockstep on http://${LOCKSTEP_ADDR:-127.0.0.1:3000}, metadata database ${DATABASE_URL#*@}"
exec target/release/lockstep serve
