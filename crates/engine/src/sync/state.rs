//! What the engine remembers between runs, per task: the ID map (which source record is
//! whose copy) and where the task stands (tracking installed, a full pass under way).
//! Kept in our metadata database in production; in memory for algorithm tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::connectors::Key;
use crate::package::Direction;

/// Which side of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Source,
    Target,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }
}

/// A full pass (first run, or after LastSyncTime was reset): every row of one side, then the
/// other, in key order. The cursor lets a killed run resume instead of starting over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullPass {
    pub direction: Direction,
    pub after: Option<Key>,
    /// Whether the target's rows are read back after the source's. Decided when the pass
    /// begins: false when the target held no row then (tracking already installed), so every
    /// row it holds afterwards is a copy this pass wrote or a change its log recorded.
    pub reverse: bool,
}

impl FullPass {
    pub fn start() -> Self {
        FullPass {
            direction: Direction::SourceToTarget,
            after: None,
            reverse: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    /// `InitTrackingObjects` done (false: install on the next run).
    pub tracking_installed: bool,
    /// `Some` while a full pass is due or under way.
    pub full_pass: Option<FullPass>,
    /// `LastSyncTime`: when the last run of this task finished.
    pub last_sync_at: Option<DateTime<Utc>>,
}

impl Default for TaskState {
    /// A task that never ran: install tracking, then copy everything.
    fn default() -> Self {
        TaskState {
            tracking_installed: false,
            full_pass: Some(FullPass::start()),
            last_sync_at: None,
        }
    }
}

/// The ID map or a task's state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("state store: {message}")]
pub struct StateError {
    pub message: String,
    /// The same call may succeed a moment later (the store's connection dropped, …).
    pub retryable: bool,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T> = std::result::Result<T, StateError>;

#[async_trait]
pub trait StateStore: Send + Sync {
    /// For keys on side `of`, their counterparts on the other side (absent: not mapped).
    async fn counterparts(&self, task: Uuid, of: Side, keys: &[Key]) -> Result<HashMap<Key, Key>>;
    /// Records (source key, target key) pairs, replacing any pair either key was in (the
    /// journal that reports a new pair is newer than what the map holds).
    async fn add_pairs(&self, task: Uuid, pairs: &[(Key, Key)]) -> Result<()>;
    /// Records pairs none of whose keys is in the map (a first run's copies, in the order
    /// they were written); a store may keep them more compactly than one by one.
    async fn add_new_pairs(&self, task: Uuid, pairs: &[(Key, Key)]) -> Result<()> {
        self.add_pairs(task, pairs).await
    }
    /// Forgets the pairs of these keys on side `of`.
    async fn remove_pairs(&self, task: Uuid, of: Side, keys: &[Key]) -> Result<()>;
    async fn load(&self, task: Uuid) -> Result<TaskState>;
    async fn save(&self, task: Uuid, state: &TaskState) -> Result<()>;
    /// Holds records first-run matching could not pair (their key matched several records):
    /// neither paired nor copied until a full pass matches again.
    async fn hold(&self, task: Uuid, side: Side, keys: &[Key]) -> Result<()>;
    /// Which of these keys on side `side` are held.
    async fn held(&self, task: Uuid, side: Side, keys: &[Key]) -> Result<HashSet<Key>>;
    /// Releases every held record of a task (a full pass is about to match again).
    async fn release_held(&self, task: Uuid) -> Result<()>;
    /// Whether the task has any pair or held record. A full pass that starts with none
    /// knows every record it meets is unmapped and not held, without asking per batch.
    async fn knows_records(&self, task: Uuid) -> Result<bool>;
}

/// The ID map and task state in memory (tests).
#[derive(Default)]
pub struct MemoryState {
    inner: Mutex<HashMap<Uuid, (IdMap, TaskState)>>,
    held: Mutex<HashSet<(Uuid, Side, Key)>>,
}

#[derive(Default, Clone)]
struct IdMap {
    by_source: BTreeMap<Key, Key>,
    by_target: BTreeMap<Key, Key>,
}

impl MemoryState {
    pub fn new() -> Self {
        Self::default()
    }

    /// All (source, target) pairs of a task.
    pub fn pairs(&self, task: Uuid) -> Vec<(Key, Key)> {
        let inner = self.inner.lock().unwrap();
        inner.get(&task).map_or_else(Vec::new, |(m, _)| {
            m.by_source
                .iter()
                .map(|(s, t)| (s.clone(), t.clone()))
                .collect()
        })
    }

    fn with<T>(&self, task: Uuid, f: impl FnOnce(&mut (IdMap, TaskState)) -> T) -> T {
        let mut inner = self.inner.lock().unwrap();
        f(inner.entry(task).or_default())
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn counterparts(&self, task: Uuid, of: Side, keys: &[Key]) -> Result<HashMap<Key, Key>> {
        Ok(self.with(task, |(map, _)| {
            let side = if of == Side::Source {
                &map.by_source
            } else {
                &map.by_target
            };
            keys.iter()
                .filter_map(|k| Some((k.clone(), side.get(k)?.clone())))
                .collect()
        }))
    }

    async fn add_pairs(&self, task: Uuid, pairs: &[(Key, Key)]) -> Result<()> {
        self.with(task, |(map, _)| {
            for (s, t) in pairs {
                if let Some(old_t) = map.by_source.remove(s) {
                    map.by_target.remove(&old_t);
                }
                if let Some(old_s) = map.by_target.remove(t) {
                    map.by_source.remove(&old_s);
                }
                map.by_source.insert(s.clone(), t.clone());
                map.by_target.insert(t.clone(), s.clone());
            }
        });
        Ok(())
    }

    async fn remove_pairs(&self, task: Uuid, of: Side, keys: &[Key]) -> Result<()> {
        self.with(task, |(map, _)| {
            for k in keys {
                let other = if of == Side::Source {
                    map.by_source.remove(k)
                } else {
                    map.by_target.remove(k)
                };
                if let Some(other) = other {
                    if of == Side::Source {
                        map.by_target.remove(&other)
                    } else {
                        map.by_source.remove(&other)
                    };
                }
            }
        });
        Ok(())
    }

    async fn load(&self, task: Uuid) -> Result<TaskState> {
        Ok(self.with(task, |(_, s)| s.clone()))
    }

    async fn save(&self, task: Uuid, state: &TaskState) -> Result<()> {
        self.with(task, |(_, s)| *s = state.clone());
        Ok(())
    }

    async fn hold(&self, task: Uuid, side: Side, keys: &[Key]) -> Result<()> {
        let mut held = self.held.lock().unwrap();
        held.extend(keys.iter().map(|k| (task, side, k.clone())));
        Ok(())
    }

    async fn held(&self, task: Uuid, side: Side, keys: &[Key]) -> Result<HashSet<Key>> {
        let held = self.held.lock().unwrap();
        Ok(keys
            .iter()
            .filter(|k| held.contains(&(task, side, (*k).clone())))
            .cloned()
            .collect())
    }

    async fn release_held(&self, task: Uuid) -> Result<()> {
        self.held.lock().unwrap().retain(|(t, _, _)| *t != task);
        Ok(())
    }

    async fn knows_records(&self, task: Uuid) -> Result<bool> {
        let pairs = self.with(task, |(map, _)| !map.by_source.is_empty());
        let held = self.held.lock().unwrap().iter().any(|(t, _, _)| *t == task);
        Ok(pairs || held)
    }
}
