#!/usr/bin/env bash
# Runs every test on a fresh machine: formatting and lints, unit and integration tests on a
# real PostgreSQL and MariaDB (fresh databases per test), then the end-to-end suite in Debian's headless
# Chromium against the real server. Installs what is missing (wasm32 target,
# wasm-bindgen-cli, Chromium, Playwright's npm package — no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/lib/postgres.sh
source scripts/lib/mysql.sh

find_postgres
find_mysql
# sqlx::test creates one database per test on DATABASE_URL's server; our own server tests
# create theirs on TEST_DATABASE_SERVER. Both are dropped below on the next run at the latest.
export DATABASE_URL="$PG_SERVER_URL/postgres"
export TEST_DATABASE_SERVER="$PG_SERVER_URL"

drop_test_databases() {
  command -v psql >/dev/null 2>&1 || return 0
  psql "$PG_SERVER_URL/postgres" -Atq -c \
    "SELECT datname FROM pg_database WHERE datname LIKE 'lockstep\_test\_%' OR datname LIKE 'lockstep\_e2e\_%'" 2>/dev/null |
    while read -r db; do psql "$PG_SERVER_URL/postgres" -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
}
drop_test_databases
drop_mysql_test_databases

echo "==> formatting and lints"
cargo fmt --all -- --check
cargo clippy -p engine -p catalog -p app -p server -p emulators -p wire --all-targets -- -D warnings

echo "==> unit and integration tests"
cargo test -p engine -p catalog -p app -p server -p emulators -p wire 2>&1 | tee target/cargo-test.log

echo "==> end-to-end tests"
# The server and the Salesforce emulator the browser tests talk to (cargo test builds only
# the binaries a crate's own integration tests need).
cargo build -p server --bin lockstep -p emulators --bin lockstep-emulator
./scripts/build-frontend.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's Chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
(cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# The first free port from 3100 (a server left running elsewhere must not fail the suite).
port=3100
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
e2e_db="lockstep_e2e_$$"
# Two databases with tables for the package editor to sync (dropped with the others).
for side in src dst; do
  psql "$PG_SERVER_URL/postgres" -q -c "CREATE DATABASE lockstep_e2e_${side}_$$" >/dev/null
  psql "$PG_SERVER_URL/lockstep_e2e_${side}_$$" -q -f end2end/fixtures.sql >/dev/null
done
mkdir -p target/e2e
DATABASE_URL="$PG_SERVER_URL/$e2e_db" LOCKSTEP_ADDR="127.0.0.1:$port" LOCKSTEP_SITE_ROOT=target/site \
  LOCKSTEP_SECRET_KEY_FILE=target/e2e/secret.key LOCKSTEP_OPEN_SIGNUP=true \
  target/debug/lockstep serve > target/e2e/server.log 2>&1 &
server_pid=$!
# The Salesforce emulator the cloud connection test signs in to.
sf_port=$((port + 100))
while (exec 3<>"/dev/tcp/127.0.0.1/$sf_port") 2>/dev/null; do sf_port=$((sf_port + 1)); done
target/debug/lockstep-emulator salesforce --addr "127.0.0.1:$sf_port" --seed 5 > target/e2e/salesforce.log 2>&1 &
emulator_pid=$!
trap 'kill $server_pid $emulator_pid 2>/dev/null || true; drop_test_databases; drop_mysql_test_databases' EXIT
for _ in $(seq 1 60); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 $server_pid 2>/dev/null; then cat target/e2e/server.log; exit 1; fi
  sleep 0.5
done
(cd end2end && E2E_BASE_URL="http://127.0.0.1:$port" E2E_PG_URL="$PG_SERVER_URL" E2E_MYSQL_URL="$TEST_MYSQL_SERVER" \
  E2E_SRC_DB="lockstep_e2e_src_$$" E2E_DST_DB="lockstep_e2e_dst_$$" E2E_SALESFORCE_URL="http://127.0.0.1:$sf_port" \
  npx playwright test) 2>&1 | tee target/e2e/playwright.log

# One closing line for the whole run.
passed=$(grep -hoE '^test result: ok\. [0-9]+ passed' target/cargo-test.log | awk '{s += $4} END {print s + 0}')
e2e_passed=$(grep -hoE '^ +[0-9]+ passed' target/e2e/playwright.log | awk '{s += $1} END {print s + 0}')
echo "all: $((passed + e2e_passed)) passed, 0 failed"
