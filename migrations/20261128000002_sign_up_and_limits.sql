-- Sign-up attempts per client address: each costs a password hash, so they are rate-limited
-- (crates/catalog/src/sign_in_limits.rs). Rows older than the window are deleted as new ones
-- arrive.
CREATE TABLE sign_up_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_ip  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_up_attempts_ip_idx ON sign_up_attempts (client_ip, created_at);
