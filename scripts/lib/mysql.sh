# shellcheck shell=bash
# Finds MySQL/MariaDB for the connector tests and exports TEST_MYSQL_SERVER (no database part):
# TEST_MYSQL_SERVER when set; else 127.0.0.1:3306 as root, starting the installed mariadbd if
# nothing answers there; else it stops with a message saying how to get one.

find_mysql() {
  if [ -n "${TEST_MYSQL_SERVER:-}" ]; then
    export TEST_MYSQL_SERVER
    return
  fi
  export TEST_MYSQL_SERVER="mysql://root@127.0.0.1:3306"
  port_open 127.0.0.1 3306 && return
  if [ -x /usr/sbin/mariadbd ]; then
    echo "==> starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do port_open 127.0.0.1 3306 && return; sleep 0.5; done
  fi
  cat >&2 <<MSG
No MySQL/MariaDB answers on 127.0.0.1:3306, and none could be started. The connector tests
need one. Fix one of:
  - install and start MariaDB (Debian/Ubuntu: sudo apt-get install mariadb-server);
  - set TEST_MYSQL_SERVER=mysql://user:password@host:3306 to a server where the user may
    create databases.
MSG
  exit 1
}

drop_mysql_test_databases() {
  command -v mariadb >/dev/null 2>&1 || return 0
  [ "$TEST_MYSQL_SERVER" = "mysql://root@127.0.0.1:3306" ] || return 0
  mariadb -uroot -h127.0.0.1 -N -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'lockstep\\_test\\_%'" 2>/dev/null |
    while read -r db; do mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true; done
}
