//! The ID map keeps runs of consecutive integer keys as one row each, and answers exactly as
//! a map of single pairs: random sequences of a first run's new pairs, replacing pairs,
//! removals from either side and lookups, checked against the engine's in-memory map.
//! Seeded (ID_MAP_SEED replays one); the seed is printed on failure.
//! Needs DATABASE_URL pointing at a server where the user may create databases.

use std::collections::BTreeSet;

use catalog::sync_state::PgStateStore;
use engine::connectors::Key;
use engine::sync::{MemoryState, Side, StateStore};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::PgPool;
use uuid::Uuid;

fn key(rng: &mut StdRng, range: i64) -> Key {
    // Mostly integers (some negative, some not canonical), a few text keys.
    match rng.gen_range(0..20) {
        0 => Key(format!("k{}", rng.gen_range(0..range))),
        1 => Key(format!("0{}", rng.gen_range(0..range))),
        2 => Key(format!("-{}", rng.gen_range(1..range))),
        _ => Key(rng.gen_range(0..range).to_string()),
    }
}

async fn check(pg: &PgStateStore, memory: &MemoryState, task: Uuid, keys: &[Key], seed: u64) {
    for side in [Side::Source, Side::Target] {
        let expected = memory.counterparts(task, side, keys).await.unwrap();
        let found = pg.counterparts(task, side, keys).await.unwrap();
        assert_eq!(found, expected, "seed {seed}, {side:?}");
    }
    assert_eq!(
        pg.knows_records(task).await.unwrap(),
        !memory.pairs(task).is_empty(),
        "seed {seed}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn runs_of_pairs_answer_as_single_pairs_would(pool: PgPool) {
    let seed = std::env::var("ID_MAP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("ID_MAP_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let pg = PgStateStore::new(pool.clone());
    let memory = MemoryState::new();
    let task = Uuid::new_v4();
    const RANGE: i64 = 400;
    let every_key: Vec<Key> = (-RANGE..1000 + RANGE + 60)
        .map(|i| Key(i.to_string()))
        .chain((0..RANGE).map(|i| Key(format!("k{i}"))))
        .chain((0..RANGE).map(|i| Key(format!("0{i}"))))
        .collect();

    // A first run: new pairs in batches, source keys with gaps, target keys from a sequence.
    let mut next_source = 0i64;
    let mut next_target = 1000i64;
    for _ in 0..6 {
        let mut batch = Vec::new();
        for _ in 0..rng.gen_range(1..40) {
            next_source += if rng.gen_bool(0.1) { 2 } else { 1 };
            if rng.gen_bool(0.05) {
                batch.push((Key(format!("k{next_source}")), Key(next_target.to_string())));
            } else {
                batch.push((Key(next_source.to_string()), Key(next_target.to_string())));
            }
            next_target += 1;
        }
        pg.add_new_pairs(task, &batch).await.unwrap();
        memory.add_new_pairs(task, &batch).await.unwrap();
    }
    check(&pg, &memory, task, &every_key, seed).await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM id_map WHERE task_id = $1")
        .bind(task)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        (stored as usize) < memory.pairs(task).len() / 2,
        "runs are stored as one row each: {stored} rows for {} pairs (seed {seed})",
        memory.pairs(task).len()
    );

    // Later runs: pairs replaced (keys re-used on either side), removed, looked up.
    for _ in 0..60 {
        match rng.gen_range(0..3) {
            0 => {
                let pairs: Vec<(Key, Key)> = (0..rng.gen_range(1..6))
                    .map(|_| {
                        let s = key(&mut rng, RANGE);
                        let t = Key((1000 + rng.gen_range(0..RANGE)).to_string());
                        (s, t)
                    })
                    // One pair per source and per target key in a batch, as journals give.
                    .fold(Vec::new(), |mut v: Vec<(Key, Key)>, (s, t)| {
                        if !v.iter().any(|(a, b)| *a == s || *b == t) {
                            v.push((s, t));
                        }
                        v
                    });
                pg.add_pairs(task, &pairs).await.unwrap();
                memory.add_pairs(task, &pairs).await.unwrap();
            }
            1 => {
                let keys: BTreeSet<Key> = (0..rng.gen_range(1..6))
                    .map(|_| key(&mut rng, RANGE))
                    .collect();
                let keys: Vec<Key> = keys.into_iter().collect();
                pg.remove_pairs(task, Side::Source, &keys).await.unwrap();
                memory
                    .remove_pairs(task, Side::Source, &keys)
                    .await
                    .unwrap();
            }
            _ => {
                let keys: Vec<Key> = (0..rng.gen_range(1..6))
                    .map(|_| Key((1000 + rng.gen_range(0..RANGE)).to_string()))
                    .collect();
                pg.remove_pairs(task, Side::Target, &keys).await.unwrap();
                memory
                    .remove_pairs(task, Side::Target, &keys)
                    .await
                    .unwrap();
            }
        }
        check(&pg, &memory, task, &every_key, seed).await;
    }

    // Every pair, however stored, is in the view.
    let listed: i64 = sqlx::query_scalar("SELECT count(*) FROM id_map_pairs WHERE task_id = $1")
        .bind(task)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(listed as usize, memory.pairs(task).len(), "seed {seed}");
}
