-- API tokens: a member's key for the REST API, scoped to one workspace and one role.
--
-- Only the SHA-256 of the token is stored (a token is 32 random bytes: a slow hash adds
-- nothing). The token belongs to its membership: removing the member, or the member's
-- account, removes their tokens (the foreign key cascades). A token acts with the lower of its
-- own role and the member's current role, so demoting a member limits their tokens at once.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL,
    user_id      uuid NOT NULL,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    role         text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    -- The first characters of the token ("lst_ab12cd"), to recognise it in the list.
    prefix       text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NULL,
    last_used_at timestamptz NULL,
    revoked_at   timestamptz NULL,
    FOREIGN KEY (workspace_id, user_id) REFERENCES memberships (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_workspace_idx ON api_tokens (workspace_id, created_at);
CREATE INDEX api_tokens_member_idx ON api_tokens (workspace_id, user_id);

-- Runs started through the API name the token (kept when the token is revoked; cleared when
-- it is deleted with its member).
ALTER TABLE runs ADD COLUMN started_by_token uuid NULL REFERENCES api_tokens (id) ON DELETE SET NULL;
