//! `lockstep sync` as a user runs it: exit codes, the JSON summary, the run history, editing
//! rules, and killing the process mid-run.

mod support;

use support::fresh_database;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::{Executor, PgPool};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

struct Env {
    metadata_url: String,
    dir: std::path::PathBuf,
}

impl Env {
    async fn new() -> Env {
        let metadata_url = format!(
            "{}/lockstep_test_meta_{}",
            support::admin_url(),
            Uuid::new_v4().simple()
        );
        let dir = std::env::temp_dir().join(format!("lockstep-sync-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Env { metadata_url, dir }
    }

    fn write(&self, name: &str, package: &Value) -> std::path::PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(package).unwrap()).unwrap();
        path
    }

    fn command(&self, file: &std::path::Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("sync")
            .arg("--file")
            .arg(file)
            .args(extra)
            .env("DATABASE_URL", &self.metadata_url)
            .env("RUST_LOG", "warn");
        cmd
    }

    fn sync(&self, file: &std::path::Path, extra: &[&str]) -> (i32, Value, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command(file, extra).output().unwrap();
        let summary = serde_json::from_slice(&stdout).unwrap_or(Value::Null);
        (
            status.code().unwrap_or(-1),
            summary,
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }
}

fn package(name: &str, source: &str, target: &str, tasks: Value) -> Value {
    serde_json::json!({
        "name": name,
        "source": { "kind": "postgres", "url": source },
        "target": { "kind": "postgres", "url": target },
        "tasks": tasks,
    })
}

fn people_task() -> Value {
    serde_json::json!([{ "source": "people", "target": "people",
        "source_to_target": { "name": "name" }, "target_to_source": { "name": "name" } }])
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_run_prints_its_summary_and_is_recorded() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for pool in [&s, &t] {
        pool.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
            .await
            .unwrap();
    }
    s.execute("INSERT INTO people (name) VALUES ('Ann'), ('Bob')")
        .await
        .unwrap();
    t.execute("INSERT INTO people (name) VALUES ('Cid')")
        .await
        .unwrap();
    let file = env.write("p.json", &package("People", &s_url, &t_url, people_task()));
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["state"], "succeeded");
    assert_eq!(summary["tasks"][0]["task"], "people → people");
    assert_eq!(summary["tasks"][0]["source_to_target"]["inserted"], 2);
    assert_eq!(summary["tasks"][0]["target_to_source"]["inserted"], 1);
    let meta = PgPool::connect(&env.metadata_url).await.unwrap();
    let run_id = Uuid::parse_str(summary["run_id"].as_str().unwrap()).unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM runs WHERE id = $1")
        .bind(run_id)
        .fetch_one(&meta)
        .await
        .unwrap();
    assert_eq!(state, "succeeded");
    assert_eq!(count(&meta, "SELECT count(*) FROM id_map_pairs").await, 3);
    // The audit log names the command line for the package the file made and its run.
    let logged: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor_kind, action, object_kind FROM audit_log ORDER BY at, id")
            .fetch_all(&meta)
            .await
            .unwrap();
    for wanted in [
        ("package", "created"),
        ("task", "created"),
        ("run", "started"),
    ] {
        assert!(
            logged
                .iter()
                .any(|(who, did, what)| who == "command line"
                    && (what.as_str(), did.as_str()) == wanted),
            "{wanted:?} by the command line missing in {logged:?}"
        );
    }
}

#[tokio::test]
async fn invalid_packages_exit_2_naming_the_problem_and_write_nothing() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    s.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
        .await
        .unwrap();
    t.execute("CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL)")
        .await
        .unwrap();
    s.execute("INSERT INTO people (name) VALUES ('Ann')")
        .await
        .unwrap();

    let broken = env.dir.join("broken.json");
    std::fs::write(&broken, "{\"name\": \"x\", ").unwrap();
    let (code, _, stderr) = env.sync(&broken, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("line 1"), "{stderr}");

    let mut bad_zone = package("People", &s_url, &t_url, people_task());
    bad_zone["schedule"] = serde_json::json!({
        "when": { "kind": "one_time", "at": "2027-01-01T08:00:00" },
        "time_zone": "Mars/Base"
    });
    let (code, _, stderr) = env.sync(&env.write("z.json", &bad_zone), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("schedule.time_zone"), "{stderr}");

    let mut unknown_kind = package("People", &s_url, &t_url, people_task());
    unknown_kind["source"]["kind"] = "oracle".into();
    let (code, _, stderr) = env.sync(&env.write("k.json", &unknown_kind), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("oracle"), "{stderr}");

    let (code, _, stderr) = env.sync(
        &env.write("p.json", &package("People", &s_url, &t_url, people_task())),
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("tasks[0]") && stderr.contains("assigned by the application"),
        "{stderr}"
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM people").await,
        0,
        "nothing was written"
    );

    // A lookup in a table the written side does not have, or by a column it lacks.
    for db in [&s, &t] {
        db.execute("CREATE TABLE staff (id serial PRIMARY KEY, name text NOT NULL, team_id int)")
            .await
            .unwrap();
    }
    t.execute("CREATE TABLE teams (id int, code text)")
        .await
        .unwrap();
    s.execute("INSERT INTO staff (name) VALUES ('Ann')")
        .await
        .unwrap();
    for (lookup, named) in [
        (
            serde_json::json!({ "table": "squads", "column": "id", "keys": { "code": "name" } }),
            "squads",
        ),
        (
            serde_json::json!({ "table": "teams", "column": "id", "keys": { "label": "name" } }),
            "“label”",
        ),
    ] {
        let task = serde_json::json!([{ "source": "staff", "target": "staff",
            "source_to_target": { "name": "name", "team_id": { "lookup": lookup } },
            "target_to_source": { "name": "name" } }]);
        let (code, _, stderr) = env.sync(
            &env.write("l.json", &package("Staff", &s_url, &t_url, task)),
            &[],
        );
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("tasks[0]")
                && stderr.contains("source_to_target.team_id: lookup:")
                && stderr.contains(named),
            "{stderr}"
        );
    }
    assert_eq!(count(&t, "SELECT count(*) FROM staff").await, 0);
}

#[tokio::test]
async fn an_unreachable_database_fails_the_run_with_exit_1() {
    let env = Env::new().await;
    let (t_url, _t) = fresh_database("t").await;
    let file = env.write(
        "p.json",
        &package(
            "People",
            "postgres://postgres@127.0.0.1:1/nowhere",
            &t_url,
            people_task(),
        ),
    );
    let (code, summary, _) = env.sync(&file, &[]);
    assert_eq!(code, 1);
    assert_eq!(summary["state"], "failed");
    assert!(
        summary["error"].as_str().unwrap().starts_with("source:"),
        "{summary}"
    );
}

#[tokio::test]
async fn failed_records_make_the_run_succeeded_with_errors_exit_3_or_failed_when_all_fail() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    s.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
        .await
        .unwrap();
    // The target refuses names longer than 5 characters.
    t.execute("CREATE TABLE people (id serial PRIMARY KEY, name varchar(5) NOT NULL)")
        .await
        .unwrap();
    s.execute("INSERT INTO people (name) VALUES ('Ann'), ('Bartholomew')")
        .await
        .unwrap();
    let file = env.write("p.json", &package("People", &s_url, &t_url, people_task()));
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(summary["state"], "succeeded_with_errors", "{summary}");
    assert_eq!(summary["errors"].as_array().unwrap().len(), 1, "{summary}");
    assert_eq!(count(&t, "SELECT count(*) FROM people").await, 1);

    // The next run has only the failing record to write: nothing succeeds, the run failed.
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(summary["state"], "failed", "{summary}");
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .contains("every record failed"),
        "{summary}"
    );
    let meta = PgPool::connect(&env.metadata_url).await.unwrap();
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM runs ORDER BY queued_at")
        .fetch_all(&meta)
        .await
        .unwrap();
    assert_eq!(states, ["succeeded_with_errors", "failed"]);

    // Fixed data: the record is written and the run is a plain success again.
    t.execute("ALTER TABLE people ALTER COLUMN name TYPE text")
        .await
        .unwrap();
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["state"], "succeeded", "{summary}");
    assert_eq!(count(&t, "SELECT count(*) FROM people").await, 2);
}

#[tokio::test]
async fn editing_the_package_after_it_ran_needs_no_reset() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for pool in [&s, &t] {
        pool.execute(
            "CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, tag text);
                      CREATE TABLE pets (id serial PRIMARY KEY, name text NOT NULL)",
        )
        .await
        .unwrap();
    }
    s.execute("INSERT INTO people (name) VALUES ('Ann'); INSERT INTO pets (name) VALUES ('Rex')")
        .await
        .unwrap();
    t.execute("INSERT INTO pets (name) VALUES ('Tom')")
        .await
        .unwrap();
    let file = env.write("p.json", &package("People", &s_url, &t_url, people_task()));
    assert_eq!(env.sync(&file, &[]).0, 0);

    // A mapping change applies to records changed from now on; a new task gets its own first run.
    let mut edited = package("People", &s_url, &t_url, people_task());
    edited["tasks"][0]["source_to_target"]["tag"] = serde_json::json!({ "constant": "synced" });
    edited["tasks"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "source": "pets", "target": "pets",
        "source_to_target": { "name": "name" }, "target_to_source": { "name": "name" } }));
    let file = env.write("p.json", &edited);
    s.execute("INSERT INTO people (name) VALUES ('Bob')")
        .await
        .unwrap();
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        summary["tasks"][1]["source_to_target"]["inserted"], 1,
        "{summary}"
    );
    assert_eq!(
        summary["tasks"][1]["target_to_source"]["inserted"], 1,
        "{summary}"
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM people WHERE tag = 'synced'").await,
        1,
        "only Bob, changed after the edit"
    );
    assert_eq!(
        count(&t, "SELECT count(*) FROM people").await,
        2,
        "no duplicates of Ann"
    );

    // Pointing the target at another database is refused unless asked for.
    let (other_url, _other) = fresh_database("o").await;
    let moved = env.write(
        "moved.json",
        &package("People", &s_url, &other_url, people_task()),
    );
    let (code, _, stderr) = env.sync(&moved, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--allow-connection-change"), "{stderr}");
}

/// Kills `lockstep sync` with SIGKILL at several points of a large first run, then lets a run
/// finish: every row is copied exactly once.
#[tokio::test]
async fn killing_the_process_mid_run_loses_and_duplicates_nothing() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for pool in [&s, &t] {
        pool.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
            .await
            .unwrap();
    }
    s.execute("INSERT INTO people (name) SELECT 's' || g FROM generate_series(1, 20000) g")
        .await
        .unwrap();
    t.execute("INSERT INTO people (name) SELECT 't' || g FROM generate_series(1, 3000) g")
        .await
        .unwrap();
    let file = env.write("p.json", &package("People", &s_url, &t_url, people_task()));
    let mut killed = 0;
    for delay_ms in [400, 900, 1500, 2200] {
        // 100 rows a write (a first run between databases writes five batches at a time).
        let mut child = env
            .command(&file, &["--batch-size", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        // Changes keep arriving between the crashes.
        s.execute(format!("UPDATE people SET name = name || '+' WHERE id = {delay_ms}").as_str())
            .await
            .unwrap();
    }
    assert!(
        killed >= 2,
        "the process must have been killed mid-run at least twice (was {killed})"
    );
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr} {summary}");
    for pool in [&s, &t] {
        assert_eq!(count(pool, "SELECT count(*) FROM people").await, 23000);
        assert_eq!(
            count(pool, "SELECT count(DISTINCT name) FROM people").await,
            23000,
            "no duplicates"
        );
    }
    assert_eq!(
        count(
            &t,
            "SELECT count(*) FROM people WHERE name IN ('s400+', 's900+', 's1500+', 's2200+')"
        )
        .await,
        4,
        "no lost change"
    );
}

async fn names(pool: &PgPool, sql: &str) -> Vec<String> {
    let mut rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
    rows.sort();
    rows
}

fn tagged_people(tag: &str) -> Value {
    serde_json::json!([{ "source": "people", "target": "people",
        "source_to_target": { "name": "name", "tag": { "constant": tag } },
        "target_to_source": { "name": "name" } }])
}

#[tokio::test]
async fn parameter_resets_resync_without_deleting_or_duplicating() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for pool in [&s, &t] {
        pool.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, tag text)")
            .await
            .unwrap();
    }
    s.execute("INSERT INTO people (name) VALUES ('Ann'), ('Bob')")
        .await
        .unwrap();
    let v1 = env.write(
        "p.json",
        &package("People", &s_url, &t_url, tagged_people("v1")),
    );
    assert_eq!(env.sync(&v1, &[]).0, 0);

    // Resync task: a changed mapping reaches every synced record, not only changed ones.
    let v2 = env.write(
        "p2.json",
        &package("People", &s_url, &t_url, tagged_people("v2")),
    );
    assert_eq!(env.sync(&v2, &[]).0, 0);
    assert_eq!(
        names(&t, "SELECT tag FROM people").await,
        ["v1", "v1"],
        "a plain run applies a mapping change only to records changed afterwards"
    );
    let (code, _, stderr) = env.sync(&v2, &["--resync-task", "people"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&t, "SELECT tag FROM people").await, ["v2", "v2"]);
    let (code, _, stderr) = env.sync(&v2, &["--resync-task", "pets"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no task reads the source table “pets”"),
        "{stderr}"
    );

    // LastSyncTime: a change the log never saw (triggers bypassed) is found by the full pass.
    s.execute(
        "SET session_replication_role = replica; UPDATE people SET name = 'Ann (renamed)' WHERE name = 'Ann'; RESET session_replication_role",
    )
    .await
    .unwrap();
    assert_eq!(env.sync(&v2, &[]).0, 0);
    assert_eq!(names(&t, "SELECT name FROM people").await, ["Ann", "Bob"]);
    let (code, _, stderr) = env.sync(&v2, &["--reset", "last-sync-time"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        names(&t, "SELECT name FROM people").await,
        ["Ann (renamed)", "Bob"]
    );
    assert_eq!(
        names(&s, "SELECT name FROM people").await,
        ["Ann (renamed)", "Bob"],
        "nothing duplicated back into the source"
    );

    // InitTrackingObjects: a trigger function someone broke is re-created.
    let function: String = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, p.proname) FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'lockstep'",
    )
    .fetch_one(&s)
    .await
    .unwrap();
    s.execute(
        format!(
            "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
        )
        .as_str(),
    )
    .await
    .unwrap();
    s.execute("INSERT INTO people (name) VALUES ('Cid')")
        .await
        .unwrap();
    assert_eq!(env.sync(&v2, &[]).0, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM people").await, 2);
    let (code, _, stderr) = env.sync(&v2, &["--reset", "tracking"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        count(&t, "SELECT count(*) FROM people WHERE name = 'Cid'").await,
        1
    );
    s.execute("INSERT INTO people (name) VALUES ('Dan')")
        .await
        .unwrap();
    assert_eq!(env.sync(&v2, &[]).0, 0);
    assert_eq!(
        names(&t, "SELECT name FROM people").await,
        ["Ann (renamed)", "Bob", "Cid", "Dan"],
        "changes are logged again after the reset"
    );
    assert_eq!(count(&s, "SELECT count(*) FROM people").await, 4);
}

#[tokio::test]
async fn a_removed_task_leaves_no_tracking_behind() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for pool in [&s, &t] {
        pool.execute(
            "CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL);
             CREATE TABLE pets (id serial PRIMARY KEY, name text NOT NULL)",
        )
        .await
        .unwrap();
    }
    let mut both = package("People", &s_url, &t_url, people_task());
    both["tasks"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "source": "pets", "target": "pets",
            "source_to_target": { "name": "name" }, "target_to_source": { "name": "name" } }));
    let file = env.write("p.json", &both);
    assert_eq!(env.sync(&file, &[]).0, 0);
    let tracking = |pool: PgPool| async move {
        (
            count(&pool, "SELECT count(*) FROM pg_tables WHERE schemaname = 'lockstep' AND tablename LIKE 'log\\_%'").await,
            count(&pool, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'pets'::regclass").await,
        )
    };
    assert_eq!(tracking(s.clone()).await, (2, 1));
    assert_eq!(tracking(t.clone()).await, (2, 1));

    let file = env.write("p.json", &package("People", &s_url, &t_url, people_task()));
    let (code, _, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        tracking(s.clone()).await,
        (1, 0),
        "pets is no longer tracked"
    );
    assert_eq!(tracking(t.clone()).await, (1, 0));
}

#[tokio::test]
async fn a_package_run_from_the_command_line_is_listed_with_its_last_run() {
    let app = support::TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    assert_eq!(
        ann.call_ok("load_packages", &[]).await["packages"],
        serde_json::json!([])
    );
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for pool in [&s, &t] {
        pool.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
            .await
            .unwrap();
    }
    let env = Env {
        metadata_url: app.database_url.clone(),
        dir: std::env::temp_dir().join(format!("lockstep-list-{}", Uuid::new_v4().simple())),
    };
    std::fs::create_dir_all(&env.dir).unwrap();
    let file = env.write("p.json", &package("People", &s_url, &t_url, people_task()));
    let (code, _, stderr) = env.sync(&file, &["--workspace", "My workspace"]);
    assert_eq!(code, 0, "{stderr}");

    let list = ann.call_ok("load_packages", &[]).await;
    let package = &list["packages"][0];
    assert_eq!(package["name"], "People");
    assert_eq!(package["source"], "PostgreSQL");
    assert_eq!(package["tasks"], 1);
    assert_eq!(package["last_run_state"], "succeeded");
    assert_eq!(package["last_run_by"], "cli");
    // Someone else's workspace does not list it.
    let bob = app.browser();
    bob.sign_up("bob@example.com").await;
    assert_eq!(
        bob.call_ok("load_packages", &[]).await["packages"],
        serde_json::json!([])
    );
}

/// Both databases hold people and their companies before the first run: match keys pair the
/// records they share (ignoring case and spaces), an ambiguous key is held and reported
/// by the run that finds it, references follow the pairs, and a bad match key exits 2 naming it.
#[tokio::test]
async fn a_first_run_pairs_the_records_both_sides_hold_and_keeps_references_right() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for (pool, start) in [(&s, 1), (&t, 500)] {
        pool.execute(
            format!(
                "CREATE TABLE companies (id bigint GENERATED BY DEFAULT AS IDENTITY (START {start}) PRIMARY KEY,
                                         name text NOT NULL);
                 CREATE TABLE people (id bigint GENERATED BY DEFAULT AS IDENTITY (START {start}) PRIMARY KEY,
                                      email text, company_id bigint REFERENCES companies (id));"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    s.execute(
        "INSERT INTO companies (name) VALUES ('Acme'), ('Globex');
         INSERT INTO people (email, company_id) VALUES ('ann@x.org', 1), (' BOB@x.org', 2), ('dup@x.org', 1), ('cy@x.org', NULL);",
    )
    .await
    .unwrap();
    t.execute(
        "INSERT INTO companies (name) VALUES ('acme ');
         INSERT INTO people (email, company_id) VALUES ('ann@x.org', 500), ('bob@x.org', NULL), ('dup@x.org', NULL), ('dup@x.org', 500), ('dee@x.org', 500);",
    )
    .await
    .unwrap();
    let matching = |key: &str| serde_json::json!({ "keys": [{ "source": key, "target": key }], "ignore_case_and_spaces": true });
    let tasks = |people_key: &str| {
        serde_json::json!([
            { "source": "people", "target": "people",
              "source_to_target": { "email": "email", "company_id": "company_id" },
              "target_to_source": { "email": "email", "company_id": "company_id" },
              "match": matching(people_key) },
            { "source": "companies", "target": "companies",
              "source_to_target": { "name": "name" }, "target_to_source": { "name": "name" },
              "match": matching("name") }
        ])
    };
    let bad = env.write("bad.json", &package("Match", &s_url, &t_url, tasks("mail")));
    let (code, _, stderr) = env.sync(&bad, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("match.keys[0]") && stderr.contains("mail"),
        "{stderr}"
    );
    assert_eq!(count(&t, "SELECT count(*) FROM people").await, 5);

    let file = env.write("p.json", &package("Match", &s_url, &t_url, tasks("email")));
    let (code, summary, stderr) = env.sync(&file, &[]);
    // 3: succeeded with errors (the held records).
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(summary["state"], "succeeded_with_errors", "{summary}");
    let people = &summary["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task"] == "people → people")
        .unwrap()
        .clone();
    assert_eq!(people["source_to_target"]["paired"], 2, "{summary}");
    let held: Vec<&Value> = summary["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["operation"] == "match")
        .collect();
    assert_eq!(held.len(), 3, "{summary}");
    // No company and no person twice; dup stays one source and two target records.
    assert_eq!(count(&s, "SELECT count(*) FROM companies").await, 2);
    assert_eq!(count(&t, "SELECT count(*) FROM companies").await, 2);
    assert_eq!(count(&s, "SELECT count(*) FROM people").await, 5); // + dee
    assert_eq!(count(&t, "SELECT count(*) FROM people").await, 6); // + cy
    // Every reference names the same company on both sides (Acme was matched, Globex copied).
    let refs = |pool: &PgPool| {
        let pool = pool.clone();
        async move {
            let rows: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT lower(trim(p.email)), lower(trim(c.name)) FROM people p LEFT JOIN companies c ON c.id = p.company_id
                  WHERE p.email <> 'dup@x.org' ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            rows
        }
    };
    assert_eq!(refs(&s).await, refs(&t).await);

    // The next run copies nothing (the held records stay held until a full pass matches again).
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        count(&t, "SELECT count(*) FROM people").await,
        6,
        "{summary}"
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM people").await,
        5,
        "{summary}"
    );
}

/// A large first run of related tables (a child with a NOT NULL foreign key, a parent that
/// references itself), killed mid-run several times: after the next run no record is
/// duplicated and every reference names the same record on both sides.
#[tokio::test]
async fn killing_a_related_first_run_leaves_no_duplicate_and_no_dangling_reference() {
    let env = Env::new().await;
    let (s_url, s) = fresh_database("s").await;
    let (t_url, t) = fresh_database("t").await;
    for (pool, start) in [(&s, 1), (&t, 1_000_000)] {
        pool.execute(
            format!(
                "CREATE TABLE accounts (id bigint GENERATED BY DEFAULT AS IDENTITY (START {start}) PRIMARY KEY,
                                        name text NOT NULL UNIQUE,
                                        parent_id bigint REFERENCES accounts (id) ON DELETE SET NULL);
                 CREATE TABLE contacts (id bigint GENERATED BY DEFAULT AS IDENTITY (START {start}) PRIMARY KEY,
                                        name text NOT NULL UNIQUE,
                                        account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE);"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    // Each account's parent comes later in key order (set in a second pass); contacts spread
    // over the accounts.
    s.execute(
        "INSERT INTO accounts (name) SELECT 'sa' || g FROM generate_series(1, 4000) g;
         UPDATE accounts SET parent_id = id + 1 WHERE id < 4000;
         INSERT INTO contacts (name, account_id) SELECT 'sc' || g, 1 + g % 4000 FROM generate_series(1, 16000) g;",
    )
    .await
    .unwrap();
    t.execute(
        "INSERT INTO accounts (name) SELECT 'ta' || g FROM generate_series(1, 500) g;
         INSERT INTO contacts (name, account_id) SELECT 'tc' || g, 1000000 + g % 500 FROM generate_series(1, 1500) g;",
    )
    .await
    .unwrap();
    let tasks = serde_json::json!([
        { "source": "contacts", "target": "contacts",
          "source_to_target": { "name": "name", "account_id": "account_id" },
          "target_to_source": { "name": "name", "account_id": "account_id" } },
        { "source": "accounts", "target": "accounts",
          "source_to_target": { "name": "name", "parent_id": "parent_id" },
          "target_to_source": { "name": "name", "parent_id": "parent_id" } }
    ]);
    let file = env.write("p.json", &package("Related", &s_url, &t_url, tasks));
    let mut killed = 0;
    for delay_ms in [500, 1100, 1800, 2600] {
        // 200 rows a write where the copy goes five batches at a time.
        let mut child = env
            .command(&file, &["--batch-size", "40"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(killed >= 2, "killed mid-run only {killed} times");
    let (code, summary, stderr) = env.sync(&file, &[]);
    assert_eq!(code, 0, "{stderr} {summary}");
    let view = |pool: &PgPool| {
        let pool = pool.clone();
        async move {
            let contacts: Vec<(String, String)> = sqlx::query_as(
                "SELECT c.name, a.name FROM contacts c JOIN accounts a ON a.id = c.account_id ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let accounts: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT a.name, p.name FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            (contacts, accounts)
        }
    };
    let (s_view, t_view) = (view(&s).await, view(&t).await);
    assert_eq!(s_view.0.len(), 17_500, "every contact once on the source");
    assert_eq!(s_view.1.len(), 4_500, "every account once on the source");
    assert_eq!(s_view, t_view, "the same references on both sides");
}
