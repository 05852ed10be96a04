-- Change tracking of cloud objects. A CRM has no triggers we could install, so each task
-- side that reads a cloud object keeps its change log here, filled by polling the vendor's
-- created/modified stamps (see engine::connectors::cloud).

CREATE TABLE cloud_tracking (
    log_name       text PRIMARY KEY,
    object         text NOT NULL,
    -- The next poll reads records modified at or after this, minus the overlap window.
    modified_after timestamptz NOT NULL,
    -- The same for deletions.
    deleted_after  timestamptz NOT NULL,
    -- False until the first poll, which logs nothing older than the installation: the
    -- first run's full pass reads those records.
    polled         boolean NOT NULL DEFAULT false,
    installed_at   timestamptz NOT NULL DEFAULT now()
);

-- The change log: one entry per changed record found, consumed by exact sequence number.
CREATE TABLE cloud_changes (
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    log_name text NOT NULL REFERENCES cloud_tracking (log_name) ON DELETE CASCADE,
    key      text NOT NULL,
    PRIMARY KEY (log_name, seq)
);

-- The newest stamp already logged per record, so records re-read inside the overlap window
-- (or sharing the checkpoint's second) are logged once. `digest`: of the record's values,
-- so a second edit within the same (whole-second) stamp is still told apart.
CREATE TABLE cloud_seen (
    log_name text NOT NULL REFERENCES cloud_tracking (log_name) ON DELETE CASCADE,
    key      text NOT NULL,
    stamp    timestamptz NOT NULL,
    deleted  boolean NOT NULL DEFAULT false,
    digest   bigint NULL,
    PRIMARY KEY (log_name, key)
);

-- The engine's own writes, so they do not come back as changes (echo). `until`: the newest
-- stamp the write can have given the record. `by_user_only`: the vendor did not tell the
-- exact stamp, so a modification counts as the echo only when made by the connection's user.
CREATE TABLE cloud_echoes (
    log_name     text NOT NULL REFERENCES cloud_tracking (log_name) ON DELETE CASCADE,
    key          text NOT NULL,
    until        timestamptz NOT NULL,
    by_user_only boolean NOT NULL,
    PRIMARY KEY (log_name, key)
);

-- Records the engine created in a cloud object: (origin on the other side → new id), until
-- the engine has moved them into the ID map.
CREATE TABLE cloud_journal (
    journal text NOT NULL,
    origin  text NOT NULL,
    key     text NOT NULL,
    PRIMARY KEY (journal, origin)
);

-- "Dedicated account for synchronization": changes made by the cloud connection's own user
-- are not synced back.
ALTER TABLE packages ADD COLUMN dedicated_account boolean NOT NULL DEFAULT false;

-- API calls a run made to each cloud side (users pay for API quota): {"source": n, "target": n}.
ALTER TABLE runs ADD COLUMN api_calls jsonb NULL;

-- Cloud connections: `host` holds the API's base URL; `database` Salesforce's consumer key or
-- Dynamics 365's tenant id; `username` Salesforce's user or Dynamics 365's client id;
-- `password` the client secret or HubSpot's access token; `extra_secret` (sealed like the
-- password) Salesforce's user password with its security token.
ALTER TABLE connections DROP CONSTRAINT connections_kind_check;
ALTER TABLE connections ADD CONSTRAINT connections_kind_check
    CHECK (kind IN ('postgres', 'mysql', 'salesforce', 'hubspot', 'dynamics'));
ALTER TABLE connections ADD COLUMN extra_secret bytea NULL;

-- The record ids a cloud object held at the last poll, for connectors that find deletions by
-- comparing id sets (Dynamics 365).
CREATE TABLE cloud_known (
    log_name text NOT NULL REFERENCES cloud_tracking (log_name) ON DELETE CASCADE,
    key      text NOT NULL,
    PRIMARY KEY (log_name, key)
);
