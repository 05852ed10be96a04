-- A task removed from a package leaves change-log triggers in the synced databases. Until a
-- run of the package removes them, the task's tables and log names are remembered here.
CREATE TABLE retired_tasks (
    id           uuid PRIMARY KEY,
    package_id   uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    source_table text NOT NULL,
    target_table text NOT NULL,
    retired_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retired_tasks_package ON retired_tasks (package_id);
