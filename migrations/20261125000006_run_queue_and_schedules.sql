-- Runs from the browser, the job workers and schedules.
--
-- A run is queued (with its apalis job, in the same transaction), claimed by exactly one
-- worker, kept alive by a heartbeat (a lease: a run whose worker stopped beating is failed
-- so the package can run again), canceled at a batch boundary on request, and shows its
-- progress while it runs. At most one queued or running run per package, enforced here.

ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceling', 'canceled', 'skipped'));

ALTER TABLE runs
    -- Who asked: the person (started_by = 'user'), or NULL for 'schedule' and 'cli'.
    ADD COLUMN started_by_user     uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    -- The occurrence a scheduled run was queued for (one run per occurrence).
    ADD COLUMN scheduled_for       timestamptz NULL,
    ADD COLUMN worker              text NULL,
    ADD COLUMN heartbeat_at        timestamptz NULL,
    ADD COLUMN cancel_requested_at timestamptz NULL,
    -- Attempts made (a retryable connection failure is retried with a backoff).
    ADD COLUMN attempts            int NOT NULL DEFAULT 0,
    -- Why earlier attempts failed, oldest first.
    ADD COLUMN retried_after       text[] NOT NULL DEFAULT '{}',
    -- Live counts per task and direction while running (the summary once finished).
    ADD COLUMN progress            jsonb NULL;

CREATE UNIQUE INDEX runs_one_active_per_package ON runs (package_id)
    WHERE state IN ('queued', 'running', 'canceling');
CREATE UNIQUE INDEX runs_one_per_occurrence ON runs (package_id, scheduled_for)
    WHERE scheduled_for IS NOT NULL;
CREATE INDEX runs_leases_idx ON runs (heartbeat_at) WHERE state IN ('running', 'canceling');

CREATE TABLE schedules (
    package_id   uuid PRIMARY KEY REFERENCES packages (id) ON DELETE CASCADE,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- `engine::schedule::Schedule` as JSON (recurring or one-time; see there).
    spec         jsonb NOT NULL,
    -- IANA name, e.g. Europe/Berlin.
    time_zone    text NOT NULL,
    -- Disabled keeps the schedule but stops it.
    enabled      boolean NOT NULL DEFAULT true,
    -- The next occurrence; NULL when none is left (a one-time schedule that ran).
    next_run_at  timestamptz NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_due_idx ON schedules (next_run_at) WHERE enabled;
