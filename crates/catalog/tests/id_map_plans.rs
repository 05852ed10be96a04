//! The ID map's lookups keep their index plan as a first run grows the map, with no
//! autovacuum to analyze it: a connection that prepared the lookup while the map was small
//! must not keep reading every pair of the task for each batch.
//! Needs DATABASE_URL pointing at a server where the user may create databases.

use catalog::sync_state::PgStateStore;
use engine::connectors::Key;
use engine::sync::{Side, StateStore};
use sqlx::{Executor, PgPool};
use uuid::Uuid;

fn pairs(from: u32, to: u32) -> Vec<(Key, Key)> {
    (from..to)
        .map(|i| (Key(format!("s{i:07}")), Key(format!("t{i:07}"))))
        .collect()
}

fn keys(from: u32, to: u32) -> String {
    let inner: Vec<String> = (from..to).map(|i| format!("s{i:07}")).collect();
    format!("{{{}}}", inner.join(","))
}

#[sqlx::test(migrations = "../../migrations")]
async fn lookups_prepared_on_a_small_map_use_the_key_index_once_it_is_large(pool: PgPool) {
    pool.execute("ALTER TABLE id_map SET (autovacuum_enabled = false)")
        .await
        .unwrap();
    let store = PgStateStore::new(pool.clone());
    let task = Uuid::new_v4();
    store.add_pairs(task, &pairs(0, 500)).await.unwrap();

    // A connection prepares the lookup while the map is small and uses it often enough for
    // PostgreSQL to settle on one plan for every later execution.
    let mut early = pool.acquire().await.unwrap();
    early
        .execute("PREPARE lookup(uuid, text[]) AS SELECT source_key, target_key FROM id_map WHERE task_id = $1 AND source_key = ANY($2)")
        .await
        .unwrap();
    let execute = format!("EXECUTE lookup('{task}', '{}')", keys(0, 400));
    for _ in 0..8 {
        early.execute(execute.as_str()).await.unwrap();
    }

    // The run goes on: the map grows to 200,000 pairs, batch by batch.
    for batch in 0..200 {
        let from = 500 + batch * 1000;
        store
            .add_pairs(task, &pairs(from, from + 1000))
            .await
            .unwrap();
    }

    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN EXECUTE lookup('{task}', '{}')",
        keys(150_000, 151_000)
    ))
    .fetch_all(&mut *early)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("id_map_pkey") && plan.contains("source_key = ANY"),
        "the lookup must probe the (task_id, source_key) index for its keys:\n{plan}"
    );

    // And the answer is right.
    let found = store
        .counterparts(task, Side::Source, &[Key("s0030000".into())])
        .await
        .unwrap();
    assert_eq!(found[&Key("s0030000".into())], Key("t0030000".into()));
}
