# shellcheck shell=bash
# Finds a PostgreSQL server for Lockstep and exports PG_SERVER_URL (no database part):
#   1. DATABASE_URL, when set (its server is used);
#   2. else a server already answering on 127.0.0.1:5432;
#   3. else a project-local cluster under .local/postgres (initdb + pg_ctl), started on 5433;
#   4. else it stops with a message saying how to get one.

pg_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Runs a command as the postgres user when we are root (initdb refuses to run as root).
as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_local_cluster() {
  local initdb pg_ctl dir port=5433
  initdb=$(pg_bin initdb) && pg_ctl=$(pg_bin pg_ctl) || {
    cat >&2 <<MSG
No PostgreSQL found: DATABASE_URL is not set, nothing answers on 127.0.0.1:5432, and the
initdb/pg_ctl binaries are not installed, so no project-local cluster can be started.
Fix one of:
  - set DATABASE_URL=postgres://user:password@host:5432/lockstep to a server you have;
  - install PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql) and run this again.
MSG
    exit 1
  }
  dir="$PWD/.local/postgres"
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "Running as root without a 'postgres' user: initdb cannot run. Create a user or set DATABASE_URL." >&2
    exit 1
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    echo "==> creating a project-local PostgreSQL cluster in $dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg_owner "$initdb" -D "$dir/data" -U postgres --auth=trust >"$dir/initdb.log"
  fi
  if ! port_open 127.0.0.1 "$port"; then
    echo "==> starting the project-local PostgreSQL on 127.0.0.1:$port"
    as_pg_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  PG_SERVER_URL="postgres://postgres@127.0.0.1:$port"
}

find_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_SERVER_URL="${DATABASE_URL%/*}"
  elif port_open 127.0.0.1 5432; then
    PG_SERVER_URL="postgres://postgres@127.0.0.1:5432"
  else
    start_local_cluster
  fi
  export PG_SERVER_URL
}
