-- Synchronization packages, their tasks with per-task sync state, the ID map, and runs.
-- Connection secrets are not stored here: packages run from the file (or, later, from
-- encrypted connections); only a fingerprint of each connection is kept, so a package whose
-- database changed is not silently run against the old ID map.

CREATE TABLE packages (
    id                 uuid PRIMARY KEY,
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    source_kind        text NOT NULL,
    target_kind        text NOT NULL,
    source_fingerprint text NOT NULL,
    target_fingerprint text NOT NULL,
    locale             text NOT NULL DEFAULT 'invariant',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

CREATE TABLE package_tasks (
    id                  uuid PRIMARY KEY,
    package_id          uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    position            int NOT NULL,
    source_table        text NOT NULL,
    target_table        text NOT NULL,
    source_to_target    jsonb NOT NULL,
    target_to_source    jsonb NOT NULL,
    -- InitTrackingObjects done.
    tracking_installed  boolean NOT NULL DEFAULT false,
    -- A full pass is due (first run, LastSyncTime reset) or under way: direction + cursor.
    full_pass_direction text NULL CHECK (full_pass_direction IN ('source_to_target', 'target_to_source')),
    full_pass_after     text NULL,
    -- LastSyncTime.
    last_sync_at        timestamptz NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (package_id, source_table, target_table)
);

CREATE TABLE id_map (
    task_id    uuid NOT NULL REFERENCES package_tasks (id) ON DELETE CASCADE,
    source_key text NOT NULL,
    target_key text NOT NULL,
    PRIMARY KEY (task_id, source_key),
    UNIQUE (task_id, target_key)
);

CREATE TABLE runs (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    package_id   uuid NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    state        text NOT NULL CHECK (state IN ('new', 'queued', 'running', 'succeeded', 'failed', 'canceling', 'canceled')),
    started_by   text NOT NULL,
    error        text NULL,
    summary      jsonb NULL,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz NULL,
    finished_at  timestamptz NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_package_idx ON runs (package_id, queued_at DESC);
CREATE INDEX runs_workspace_idx ON runs (workspace_id, queued_at DESC);

CREATE TABLE run_errors (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    task       text NOT NULL,
    direction  text NOT NULL,
    side       text NOT NULL,
    record_key text NOT NULL,
    operation  text NOT NULL,
    message    text NOT NULL
);
CREATE INDEX run_errors_run_idx ON run_errors (run_id);
