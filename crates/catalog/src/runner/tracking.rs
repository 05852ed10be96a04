//! Change tracking of tasks taken out of a package: removed from both databases by the
//! package's next run.

use sqlx::PgPool;
use uuid::Uuid;

use super::RunnerError;
use crate as catalog;
use engine::connectors::{Connector, ConnectorError, KeyGeneration, TableSchema};
use engine::package::{Direction, TableRef};
use engine::sync::{Side, log_name};

/// Removes the change tracking of tasks taken out of the package. A failure is logged and
/// retried by the next run; it does not stop this one.
pub(super) async fn remove_retired_tracking(
    pool: &PgPool,
    package_id: Uuid,
    source: &dyn Connector,
    target: &dyn Connector,
) -> Result<(), RunnerError> {
    for task in catalog::packages::retired_tasks(pool, package_id).await? {
        match remove_tracking(&task, source, target).await {
            Ok(()) => catalog::packages::forget_retired_task(pool, task.id).await?,
            Err(e) => {
                tracing::warn!(task = %task.id, error = %e, "could not remove the change tracking of a removed task; will retry");
            }
        }
    }
    Ok(())
}

/// Removes a task's change logs, triggers and insert-journal entries from both databases
/// (idempotent; the tables may be gone already). The connectors drop their shared objects
/// with the last tracked table of a database.
pub async fn remove_tracking(
    task: &catalog::packages::RetiredTask,
    source: &dyn Connector,
    target: &dyn Connector,
) -> Result<(), ConnectorError> {
    for (connector, table, side) in [
        (source, &task.source_table, Side::Source),
        (target, &task.target_table, Side::Target),
    ] {
        let Ok(table) = TableRef::parse(table) else {
            continue;
        };
        // Removing tracking needs only the table and the log's name.
        let schema = TableSchema {
            table,
            columns: Vec::new(),
            key: String::new(),
            key_generation: KeyGeneration::Identity,
            log_name: log_name(task.id, side),
            foreign_keys: Vec::new(),
        };
        // Pairs a stopped run left in the insert journal are of no use any more.
        for direction in [Direction::SourceToTarget, Direction::TargetToSource] {
            let journal = format!("{}:{}", task.id, direction.as_str());
            if let Err(e) = connector.clear_journal(&journal).await {
                tracing::debug!(task = %task.id, error = %e, "no insert journal to clear");
            }
        }
        connector.remove_tracking(&schema).await?;
    }
    Ok(())
}
