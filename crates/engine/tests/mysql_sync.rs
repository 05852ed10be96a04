//! The MySQL/MariaDB connector and the algorithm on real MariaDB, alone and against PostgreSQL.

mod support;

use engine::connectors::mysql::MySqlConnector;
use engine::connectors::postgres::PostgresConnector;
use engine::connectors::{Connector, ConnectorError};
use engine::package::TableRef;
use rand::{Rng, SeedableRng, rngs::StdRng};
use support::harness::Harness;

async fn my_exec(pool: &sqlx::MySqlPool, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn pg_exec(pool: &sqlx::PgPool, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn mysql_tables_that_cannot_be_synced_are_refused_with_the_fix() {
    let (url, pool) = support::fresh_mysql("req").await;
    my_exec(&pool, "CREATE TABLE no_key (a int); CREATE TABLE composite (a int, b int, PRIMARY KEY (a, b)); CREATE TABLE app_key (id int PRIMARY KEY, name text);").await;
    let my = MySqlConnector::connect(&url).await.unwrap();
    for (table, needle) in [
        ("missing", "does not exist"),
        ("no_key", "AUTO_INCREMENT PRIMARY KEY"),
        ("composite", "composite primary key (a, b)"),
        ("app_key", "assigned by the application"),
    ] {
        match my.describe(&TableRef::parse(table).unwrap()).await {
            Err(ConnectorError::Requirement(m)) => assert!(m.contains(needle), "{table}: {m}"),
            other => panic!("{table}: expected a requirement error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn hostile_mysql_names_are_quoted_everywhere() {
    let ddl = "CREATE TABLE `order lines; DROP TABLE x` (`key` bigint AUTO_INCREMENT PRIMARY KEY, `select` varchar(20) NOT NULL, `First Name` text, `Größe` int, `back``tick` int)";
    let (su, sp) = support::fresh_mysql("hs").await;
    let (tu, tp) = support::fresh_mysql("ht").await;
    my_exec(&sp, ddl).await;
    my_exec(&tp, ddl).await;
    my_exec(&sp, "INSERT INTO `order lines; DROP TABLE x` (`select`, `First Name`, `Größe`, `back``tick`) VALUES ('a''b', 'Zoë', 3, 1)").await;
    my_exec(
        &tp,
        "INSERT INTO `order lines; DROP TABLE x` (`select`) VALUES ('c')",
    )
    .await;
    let h = Harness::new(
        Box::new(MySqlConnector::connect(&su).await.unwrap()),
        Box::new(MySqlConnector::connect(&tu).await.unwrap()),
        "order lines; DROP TABLE x",
        "order lines; DROP TABLE x",
        &["select", "First Name", "Größe", "back`tick"],
    );
    let first = h.run().await;
    assert_eq!(
        (
            first.source_to_target.inserted,
            first.target_to_source.inserted
        ),
        (1, 1)
    );
    my_exec(
        &tp,
        "UPDATE `order lines; DROP TABLE x` SET `Größe` = 9 WHERE `select` = 'a''b'",
    )
    .await;
    assert_eq!(h.run().await.target_to_source.updated, 1);
    h.assert_converged("hostile names").await;
}

#[tokio::test]
async fn postgresql_and_mariadb_types_round_trip() {
    let (pu, pp) = support::fresh_pg("pgmy").await;
    let (mu, mp) = support::fresh_mysql("pgmy").await;
    pg_exec(&pp, "CREATE TABLE t (id bigserial PRIMARY KEY, i8 bigint, n numeric(20,6), f double precision, s varchar(20),
        u text, b boolean, d date, tm time, ts timestamp, tz timestamptz, g uuid, j jsonb, bytes bytea)").await;
    my_exec(&mp, "CREATE TABLE t (id bigint AUTO_INCREMENT PRIMARY KEY, i8 bigint, n decimal(20,6), f double, s varchar(20),
        u text, b tinyint(1), d date, tm time(6), ts datetime(6), tz datetime(6), g uuid, j json, bytes blob)").await;
    pg_exec(&pp, r#"INSERT INTO t (i8, n, f, s, u, b, d, tm, ts, tz, g, j, bytes) VALUES
        (9223372036854775807, -12345678901234.123456, 0.1, 'héllo ✓', '日本語 "q" \ z', true, '1999-12-31',
         '23:59:59.999999', '2024-02-29 12:00:00.5', '2024-06-01 10:00:00.123456+02', '67e55044-10b1-426f-9247-bb680e5fe0c8',
         '{"a": [1, 2.5, null]}', '\x00ff10'),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"#).await;
    my_exec(&mp, "INSERT INTO t (i8, n, f, s, u, b, d, tm, ts, tz, g, j, bytes) VALUES
        (-5, 0.000001, -2.5e-10, 'x', 'ÿ', 0, '2000-01-01', '00:00:00', '1970-01-01 00:00:01', '2038-01-19 03:14:08',
         '00000000-0000-0000-0000-000000000001', '[true]', X'DEADBEEF')").await;
    let columns = [
        "i8", "n", "f", "s", "u", "b", "d", "tm", "ts", "tz", "g", "j", "bytes",
    ];
    let h = Harness::new(
        Box::new(PostgresConnector::connect(&pu).await.unwrap()),
        Box::new(MySqlConnector::connect(&mu).await.unwrap()),
        "t",
        "t",
        &columns,
    );
    let summary = h.run().await;
    assert_eq!(
        (
            summary.source_to_target.inserted,
            summary.target_to_source.inserted
        ),
        (2, 1),
        "{:?}",
        summary.errors
    );
    h.assert_converged("first run").await;
    // And back: an edit in MariaDB flows to PostgreSQL with the same precision.
    my_exec(
        &mp,
        "UPDATE t SET n = 99999999999999.999999, tz = '2030-01-01 00:00:00.000001' WHERE i8 = -5",
    )
    .await;
    assert_eq!(h.run().await.target_to_source.updated, 1);
    h.assert_converged("after an edit in MariaDB").await;
    // Updates into MariaDB go many rows per statement: every type keeps its exact value,
    // whether the other rows of the statement hold a value or NULL in that column.
    pg_exec(
        &pp,
        r#"UPDATE t SET i8 = CASE WHEN i8 IS NULL THEN -1 ELSE NULL END,
                       n = CASE WHEN n IS NULL THEN 0.000001 ELSE NULL END,
                       f = CASE WHEN f IS NULL THEN 0.30000000000000004 ELSE NULL END,
                       s = CASE WHEN s IS NULL THEN 'ü' ELSE NULL END,
                       b = CASE WHEN b IS NULL THEN false ELSE NULL END,
                       d = CASE WHEN d IS NULL THEN DATE '2000-02-29' ELSE NULL END,
                       tm = CASE WHEN tm IS NULL THEN TIME '12:34:56.654321' ELSE NULL END,
                       ts = CASE WHEN ts IS NULL THEN TIMESTAMP '2031-12-31 23:59:59.999999' ELSE NULL END,
                       j = CASE WHEN j IS NULL THEN '{"b": "✓"}'::jsonb ELSE NULL END,
                       bytes = CASE WHEN bytes IS NULL THEN '\x0001'::bytea ELSE NULL END"#,
    )
    .await;
    let updated = h.run().await;
    assert_eq!(updated.source_to_target.updated, 3, "{:?}", updated.errors);
    h.assert_converged("after every row changed in PostgreSQL")
        .await;
}

#[tokio::test]
async fn a_late_mariadb_commit_is_picked_up_by_a_later_run() {
    let (su, sp) = support::fresh_mysql("ls").await;
    let (tu, tp) = support::fresh_mysql("lt").await;
    for pool in [&sp, &tp] {
        my_exec(
            pool,
            "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL)",
        )
        .await;
    }
    let h = Harness::new(
        Box::new(MySqlConnector::connect(&su).await.unwrap()),
        Box::new(MySqlConnector::connect(&tu).await.unwrap()),
        "t",
        "t",
        &["name"],
    );
    h.run().await;
    let mut long = sp.begin().await.unwrap();
    sqlx::query("INSERT INTO t (name) VALUES ('slow')")
        .execute(&mut *long)
        .await
        .unwrap();
    my_exec(&sp, "INSERT INTO t (name) VALUES ('fast')").await;
    assert_eq!(h.run().await.source_to_target.inserted, 1);
    long.commit().await.unwrap();
    assert_eq!(
        h.run().await.source_to_target.inserted,
        1,
        "the late commit is not skipped"
    );
    h.assert_converged("after the late commit").await;
    // The engine's own writes left nothing in the target's change log.
    let logs: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'lockstep\\_log\\_%'",
    )
    .fetch_all(&tp)
    .await
    .unwrap();
    assert_eq!(logs.len(), 1);
    let mut logged = 0i64;
    for log in logs {
        logged += sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM `{log}`"))
            .fetch_one(&tp)
            .await
            .unwrap();
    }
    assert_eq!(logged, 0);
}

/// Updates go to MariaDB in a few statements per batch and only then are their rows looked
/// up, when some were not found: copies deleted there meanwhile are re-created from the
/// source (source wins), and the rest are updated, in the same batch. 1,200 rows: a batch
/// of 1,000 updates goes in more than one statement, and a missing row in each.
#[tokio::test]
async fn updates_of_copies_deleted_in_mariadb_recreate_them_and_update_the_rest() {
    let (su, sp) = support::fresh_pg("ups").await;
    let (tu, tp) = support::fresh_mysql("upt").await;
    pg_exec(
        &sp,
        "CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL)",
    )
    .await;
    my_exec(
        &tp,
        "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL)",
    )
    .await;
    pg_exec(
        &sp,
        "INSERT INTO t (name) SELECT 'n' || g FROM generate_series(1, 1200) g",
    )
    .await;
    let h = Harness::new(
        Box::new(PostgresConnector::connect(&su).await.unwrap()),
        Box::new(MySqlConnector::connect(&tu).await.unwrap()),
        "t",
        "t",
        &["name"],
    );
    h.run().await;
    // Three copies go in MariaDB while every source row changes.
    my_exec(&tp, "DELETE FROM t WHERE name IN ('n3', 'n617', 'n1200')").await;
    pg_exec(&sp, "UPDATE t SET name = name || 'u'").await;
    let run = h.run().await;
    assert_eq!(
        (
            run.source_to_target.updated,
            run.source_to_target.inserted,
            run.target_to_source.deleted
        ),
        (1197, 3, 0),
        "{run:?}"
    );
    h.assert_converged("after updating deleted copies").await;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM t ORDER BY name")
        .fetch_all(&tp)
        .await
        .unwrap();
    assert_eq!(names.len(), 1200);
    assert!(names.iter().all(|n| n.ends_with('u')), "{names:?}");
}

/// Random changes on both sides between runs, PostgreSQL↔MariaDB and MariaDB↔MariaDB.
/// Seeded (SYNC_SEED replays one); the seed is printed on failure.
#[tokio::test]
async fn random_changes_converge_with_mariadb() {
    let seeds: Vec<u64> = match std::env::var("SYNC_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => vec![21, 22],
    };
    for seed in seeds {
        for pg_source in [true, false] {
            let (mu, mp) = support::fresh_mysql("rt").await;
            my_exec(&mp, "CREATE TABLE c (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, score int, note text)").await;
            let (source, source_db): (Box<dyn Connector>, SourceDb) = if pg_source {
                let (pu, pp) = support::fresh_pg("rs").await;
                pg_exec(&pp, "CREATE TABLE c (id bigserial PRIMARY KEY, name varchar(40) NOT NULL, score int, note text)").await;
                (
                    Box::new(PostgresConnector::connect(&pu).await.unwrap()),
                    SourceDb::Pg(pp),
                )
            } else {
                let (su, sp) = support::fresh_mysql("rs").await;
                my_exec(&sp, "CREATE TABLE c (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, score int, note text)").await;
                (
                    Box::new(MySqlConnector::connect(&su).await.unwrap()),
                    SourceDb::My(sp),
                )
            };
            let h = Harness::new(
                source,
                Box::new(MySqlConnector::connect(&mu).await.unwrap()),
                "c",
                "c",
                &["name", "score", "note"],
            );
            let mut rng = StdRng::seed_from_u64(seed);
            for round in 0..6 {
                for _ in 0..rng.gen_range(0..20) {
                    let value = rng.gen_range(0..100);
                    let on_source = rng.gen_bool(0.5);
                    let random_id = if on_source && pg_source {
                        "(SELECT id FROM c ORDER BY random() LIMIT 1)"
                    } else {
                        "(SELECT id FROM (SELECT id FROM c ORDER BY rand() LIMIT 1) x)"
                    };
                    let sql = match rng.gen_range(0..4) {
                        0 | 1 => format!(
                            "INSERT INTO c (name, score) VALUES ('r{round}-{value}', {value})"
                        ),
                        2 => format!(
                            "UPDATE c SET score = {value}, note = 'u{round}' WHERE id = {random_id}"
                        ),
                        _ => format!("DELETE FROM c WHERE id = {random_id}"),
                    };
                    if on_source {
                        source_db.exec(&sql).await
                    } else {
                        my_exec(&mp, &sql).await
                    }
                }
                h.run().await;
                h.assert_converged(&format!(
                    "seed {seed} round {round} pg_source={pg_source} (rerun with SYNC_SEED={seed})"
                ))
                .await;
            }
        }
    }
}

/// Whichever database plays the source.
enum SourceDb {
    Pg(sqlx::PgPool),
    My(sqlx::MySqlPool),
}

impl SourceDb {
    async fn exec(&self, sql: &str) {
        match self {
            SourceDb::Pg(pool) => pg_exec(pool, sql).await,
            SourceDb::My(pool) => my_exec(pool, sql).await,
        }
    }
}

#[tokio::test]
async fn a_record_the_database_refuses_fails_alone_and_is_retried() {
    let (pu, pp) = support::fresh_pg("ck").await;
    let (mu, mp) = support::fresh_mysql("ck").await;
    pg_exec(
        &pp,
        "CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL, score int)",
    )
    .await;
    my_exec(&mp, "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, name varchar(20) NOT NULL, score int CHECK (score < 100))").await;
    pg_exec(
        &pp,
        "INSERT INTO t (name, score) VALUES ('ok', 1), ('too high', 150), ('fine', 2)",
    )
    .await;
    let h = Harness::new(
        Box::new(PostgresConnector::connect(&pu).await.unwrap()),
        Box::new(MySqlConnector::connect(&mu).await.unwrap()),
        "t",
        "t",
        &["name", "score"],
    );
    let first = h.run().await;
    assert_eq!(
        (
            first.source_to_target.inserted,
            first.source_to_target.failed
        ),
        (2, 1),
        "{:?}",
        first.errors
    );
    assert_eq!(first.errors[0].operation, "insert");
    assert!(
        first.errors[0]
            .message
            .to_lowercase()
            .contains("constraint"),
        "{:?}",
        first.errors
    );
    assert_eq!(
        h.run().await.source_to_target.failed,
        1,
        "retried, not skipped"
    );
    pg_exec(&pp, "UPDATE t SET score = 99 WHERE name = 'too high'").await;
    assert_eq!(h.run().await.source_to_target.inserted, 1);
    h.assert_converged("after the fix").await;
}

/// Every MariaDB column type people store text, bytes, choices, JSON, bits and times in,
/// under binary and mixed collations (including the database's own default), synced on the
/// first run and on later runs that read the change log, both ways.
#[tokio::test]
async fn binary_and_mixed_collations_and_every_column_type_sync_on_every_run() {
    const DDL: &str = "CREATE TABLE items (
        id bigint AUTO_INCREMENT PRIMARY KEY,
        code varchar(40) COLLATE utf8mb4_bin NOT NULL,
        name varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
        latin varchar(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
        latin_bin char(10) CHARACTER SET latin1 COLLATE latin1_bin,
        note text COLLATE utf8mb4_bin,
        tiny tinytext COLLATE utf8mb4_unicode_ci,
        medium mediumtext,
        long_text longtext COLLATE utf8mb4_bin,
        raw varbinary(16),
        fixed binary(4),
        data blob,
        small_blob tinyblob,
        status enum('new', 'Done', 'done') COLLATE utf8mb4_bin,
        tags set('a', 'b', 'C') COLLATE utf8mb4_bin,
        doc json,
        flags bit(8),
        flag bit(1),
        born date,
        at_time time(3),
        stamp datetime(6),
        changed timestamp(6) NULL,
        year_of year
    ) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_bin";
    let columns = [
        "code",
        "name",
        "latin",
        "latin_bin",
        "note",
        "tiny",
        "medium",
        "long_text",
        "raw",
        "fixed",
        "data",
        "small_blob",
        "status",
        "tags",
        "doc",
        "flags",
        "flag",
        "born",
        "at_time",
        "stamp",
        "changed",
        "year_of",
    ];
    let (su, sp) = support::fresh_mysql("coll_s").await;
    let (tu, tp) = support::fresh_mysql("coll_t").await;
    // The target database's own default collation is binary too: the change log and journal
    // tables Lockstep creates there inherit it.
    let target_db = tu.rsplit('/').next().unwrap().to_owned();
    my_exec(
        &tp,
        &format!("ALTER DATABASE `{target_db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    )
    .await;
    my_exec(&sp, DDL).await;
    my_exec(&tp, DDL).await;
    let row = |code: &str| {
        format!(
            "('{code}', 'Ärger', 'façade', 'Ab', 'Case Sensitive', 'tiny ✓', 'medium', 'long', X'00FF10', X'DEADBEEF',
              X'0102', X'03', 'Done', 'a,C', '{{\"k\": [1, \"x\"]}}', b'10100101', b'1', '2000-02-29', '23:59:59.125',
              '2024-06-01 10:00:00.123456', '2024-06-01 10:00:00.5', 2026)"
        )
    };
    let insert = "INSERT INTO items (code, name, latin, latin_bin, note, tiny, medium, long_text, raw, fixed, data,
        small_blob, status, tags, doc, flags, flag, born, at_time, stamp, changed, year_of) VALUES ";
    my_exec(&sp, &format!("{insert} {}, {}", row("A-1"), row("a-1"))).await;
    my_exec(&tp, &format!("{insert} {}", row("T-1"))).await;
    let h = Harness::new(
        Box::new(MySqlConnector::connect(&su).await.unwrap()),
        Box::new(MySqlConnector::connect(&tu).await.unwrap()),
        "items",
        "items",
        &columns,
    );
    let first = h.run().await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(
        (
            first.source_to_target.inserted,
            first.target_to_source.inserted
        ),
        (2, 1)
    );
    h.assert_converged("first run").await;

    // Later runs read the change logs: edits on both sides, including a case-only change a
    // binary collation tells apart, and NULLs.
    for round in 0..2 {
        my_exec(&sp, &format!("UPDATE items SET code = 'a-{round}x', note = 'case {round}', status = 'done', flags = b'0', raw = NULL WHERE code LIKE 'a-%'")).await;
        my_exec(&sp, &format!("INSERT INTO items {} VALUES ('NEW-{round}', 'neu', 'é', 'z', 'n', 't', 'm', 'l', X'01', X'00000000', X'', X'', 'new', '', 'null', b'0', b'0', NULL, NULL, NULL, NULL, NULL)",
            "(code, name, latin, latin_bin, note, tiny, medium, long_text, raw, fixed, data, small_blob, status, tags, doc, flags, flag, born, at_time, stamp, changed, year_of)")).await;
        my_exec(&tp, &format!("UPDATE items SET name = 'ÄRGER {round}', tags = 'b', doc = '[{round}]', latin_bin = 'aB' WHERE code = 'T-1'")).await;
        let later = h.run().await;
        assert!(later.errors.is_empty(), "round {round}: {:?}", later.errors);
        assert_eq!(
            (
                later.source_to_target.inserted,
                later.source_to_target.updated,
                later.target_to_source.updated
            ),
            (1, 1, 1),
            "round {round}"
        );
        h.assert_converged(&format!("round {round}")).await;
    }
    my_exec(&tp, "DELETE FROM items WHERE code = 'NEW-0'").await;
    let deleted = h.run().await;
    assert_eq!(deleted.target_to_source.deleted, 1, "{:?}", deleted.errors);
    h.assert_converged("after a delete").await;
}
