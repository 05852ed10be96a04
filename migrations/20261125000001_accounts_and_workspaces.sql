-- People, team workspaces, roles and invitations. Every object Lockstep stores belongs to
-- exactly one workspace; later tables reference workspaces(id).

CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    -- Stored normalised (trimmed, lower-case) so uniqueness is case-insensitive.
    email                text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND email <> ''),
    password_hash        text NOT NULL,
    default_workspace_id uuid NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workspaces (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    created_by uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE users
    ADD CONSTRAINT users_default_workspace_fk
    FOREIGN KEY (default_workspace_id) REFERENCES workspaces (id) ON DELETE SET NULL;

CREATE TABLE memberships (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        text NOT NULL CHECK (email = lower(btrim(email))),
    role         text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    -- Only a SHA-256 of the link's token is kept: a database leak reveals no usable link.
    token_hash   bytea NOT NULL UNIQUE,
    invited_by   uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz NULL,
    accepted_by  uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   timestamptz NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_workspace_idx ON invitations (workspace_id, created_at DESC);

-- Failed sign-ins, for rate limiting per email and per client address across every process.
CREATE TABLE sign_in_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    client_ip  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_email_idx ON sign_in_failures (email, created_at);
CREATE INDEX sign_in_failures_ip_idx ON sign_in_failures (client_ip, created_at);
