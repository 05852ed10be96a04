-- Notifications: when a run fails, a package recovers, or a run leaves more failed records
-- than a threshold, by email to chosen members and to the workspace's webhooks.
--
-- A finished run enters `notification_outbox` in the transaction that finished it (a
-- trigger, so every way a run ends counts: its worker, a lapsed lease, the command line).
-- The dispatcher (`server::notifications`) turns outbox rows into deliveries by the rules,
-- at most one failure notice per package an hour, and delivers them with retries; every
-- delivery and its outcome stays in `notification_deliveries` (the delivery log).

-- The rules: a workspace default (package_id NULL) and per-package overrides.
CREATE TABLE notification_rules (
    id                  uuid PRIMARY KEY,
    workspace_id        uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    package_id          uuid NULL REFERENCES packages (id) ON DELETE CASCADE,
    on_failure          boolean NOT NULL DEFAULT true,
    on_recovery         boolean NOT NULL DEFAULT true,
    -- Also notify when a run has more failed records than this (NULL: never).
    failed_records_over integer NULL CHECK (failed_records_over >= 0),
    by_email            boolean NOT NULL DEFAULT true,
    by_webhook          boolean NOT NULL DEFAULT true,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notification_rules_one_default ON notification_rules (workspace_id) WHERE package_id IS NULL;
CREATE UNIQUE INDEX notification_rules_one_per_package ON notification_rules (package_id) WHERE package_id IS NOT NULL;

-- Members who receive the workspace's notification emails (gone with their membership).
CREATE TABLE notification_recipients (
    workspace_id uuid NOT NULL,
    user_id      uuid NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES memberships (workspace_id, user_id) ON DELETE CASCADE
);

CREATE TABLE webhooks (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    url          text NOT NULL CHECK (url ~* '^https?://'),
    -- The signing secret, sealed with the installation's key (`catalog::secrets`).
    secret       bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_workspace_idx ON webhooks (workspace_id, created_at);

-- Failure notices held back within the hour since the last one, per package.
CREATE TABLE notification_throttle (
    package_id        uuid PRIMARY KEY REFERENCES packages (id) ON DELETE CASCADE,
    last_failure_sent timestamptz NOT NULL,
    held_back         integer NOT NULL DEFAULT 0
);

CREATE TABLE notification_outbox (
    run_id     uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_deliveries (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    package_id      uuid NULL REFERENCES packages (id) ON DELETE SET NULL,
    run_id          uuid NULL REFERENCES runs (id) ON DELETE SET NULL,
    event           text NOT NULL CHECK (event IN ('run.failed', 'package.recovered', 'run.failed_records', 'test')),
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    webhook_id      uuid NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The email address, or the webhook's URL, as it was when the delivery was made.
    recipient       text NOT NULL,
    -- What is sent: counts, names, the error and a link; never a secret or a record's values.
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NULL,
    response_status integer NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz NULL,
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notification_deliveries_workspace_idx ON notification_deliveries (workspace_id, created_at DESC);
-- Finished deliveries are forgotten after a while (`catalog::notifications::prune`).
CREATE INDEX notification_deliveries_done_idx ON notification_deliveries (created_at) WHERE state <> 'pending';

CREATE FUNCTION notify_run_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IN ('succeeded', 'succeeded_with_errors', 'failed')
       AND OLD.state IS DISTINCT FROM NEW.state THEN
        INSERT INTO notification_outbox (run_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER notify_runs_finished AFTER UPDATE OF state ON runs
    FOR EACH ROW EXECUTE FUNCTION notify_run_finished();
-- A run recorded as failed from the start (an occurrence the scheduler could not queue).
CREATE FUNCTION notify_run_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'failed' THEN
        INSERT INTO notification_outbox (run_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER notify_runs_recorded AFTER INSERT ON runs
    FOR EACH ROW EXECUTE FUNCTION notify_run_recorded();
