-- Connections: how to reach a database. The password is sealed with AES-256-GCM
-- (engine::secrets) and never leaves the server. Packages built in the app point to their
-- connections; a connection in use cannot be deleted.
CREATE TABLE connections (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('postgres', 'mysql')),
    host         text NOT NULL,
    port         integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    database     text NOT NULL,
    username     text NOT NULL,
    password     bytea NULL,
    ssl_mode     text NOT NULL CHECK (ssl_mode IN ('disable', 'prefer', 'require', 'verify-full')),
    created_by   uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX connections_name ON connections (workspace_id, lower(name));

ALTER TABLE packages
    ADD COLUMN source_connection_id uuid NULL REFERENCES connections (id),
    ADD COLUMN target_connection_id uuid NULL REFERENCES connections (id);
CREATE INDEX packages_source_connection ON packages (source_connection_id);
CREATE INDEX packages_target_connection ON packages (target_connection_id);
