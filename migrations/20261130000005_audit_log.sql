-- The audit log: who created, changed or deleted what in a workspace, and who started or
-- canceled which run.
--
-- Triggers on the audited tables write it, in the transaction of the change: no code path
-- can change a connection, package, task, schedule, member, invitation or token without an
-- entry, and no entry exists for a change that rolled back. Who acted comes from the
-- transaction: `catalog::workspaces::require_role` (which every person's or token's change
-- passes) sets `lockstep.actor_user` and `lockstep.actor_token` for the transaction; a run
-- row says itself who started it. Entries name what changed, never a value of a secret
-- column (only that the password changed), and are never updated.
CREATE TABLE audit_log (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    at               timestamptz NOT NULL DEFAULT now(),
    actor_kind       text NOT NULL CHECK (actor_kind IN ('person', 'token', 'schedule', 'command line', 'system')),
    actor_user       uuid NULL REFERENCES users (id) ON DELETE SET NULL,
    -- Kept as they were: an entry outlives the account and the token.
    actor_email      text NULL,
    actor_token      uuid NULL,
    actor_token_name text NULL,
    action           text NOT NULL,
    object_kind      text NOT NULL CHECK (object_kind IN ('connection', 'package', 'task', 'schedule', 'member',
                                                          'invitation', 'token', 'run')),
    object_id        text NULL,
    object_name      text NULL,
    summary          text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_workspace_idx ON audit_log (workspace_id, at DESC, id DESC);
CREATE INDEX audit_log_kind_idx ON audit_log (workspace_id, object_kind, at DESC, id DESC);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

-- Writes one entry; `actor_kind` NULL: the transaction's actor (see above; a headless
-- change names its kind in `lockstep.actor_kind`), else 'system'.
CREATE FUNCTION audit_write(ws uuid, act text, kind text, object uuid, object_name text, summary text,
                            actor_kind text DEFAULT NULL, actor_user uuid DEFAULT NULL,
                            actor_token uuid DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- A workspace being deleted takes its log with it: nothing to write.
    IF ws IS NULL OR NOT EXISTS (SELECT 1 FROM workspaces WHERE id = ws) THEN
        RETURN;
    END IF;
    IF actor_kind IS NULL THEN
        actor_token := nullif(current_setting('lockstep.actor_token', true), '')::uuid;
        actor_user := nullif(current_setting('lockstep.actor_user', true), '')::uuid;
        actor_kind := CASE WHEN actor_token IS NOT NULL THEN 'token'
                           WHEN actor_user IS NOT NULL THEN 'person'
                           ELSE coalesce(nullif(current_setting('lockstep.actor_kind', true), ''), 'system') END;
    END IF;
    INSERT INTO audit_log (workspace_id, actor_kind, actor_user, actor_email, actor_token, actor_token_name,
                           action, object_kind, object_id, object_name, summary)
    VALUES (ws, actor_kind, actor_user, (SELECT email FROM users WHERE id = actor_user), actor_token,
            (SELECT name FROM api_tokens WHERE id = actor_token), act, kind, object::text, object_name,
            coalesce(summary, ''));
END $$;

-- The columns whose value differs between two rows, minus `ignored`, as people read them.
CREATE FUNCTION audit_changed(old_row jsonb, new_row jsonb, ignored text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(CASE key
                                  WHEN 'extra_secret' THEN 'secret'
                                  WHEN 'source_connection_id' THEN 'source connection'
                                  WHEN 'target_connection_id' THEN 'target connection'
                                  WHEN 'source_to_target' THEN 'source → target mapping'
                                  WHEN 'target_to_source' THEN 'target → source mapping'
                                  WHEN 'match_keys' THEN 'match keys'
                                  WHEN 'spec' THEN 'recurrence'
                                  ELSE replace(key, '_', ' ') END ORDER BY key), '{}')
      FROM jsonb_object_keys(new_row) AS key
     WHERE key <> ALL (ignored) AND old_row -> key IS DISTINCT FROM new_row -> key
$$;

CREATE FUNCTION audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    n jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    r jsonb := coalesce(n, o);
    ws uuid := (r ->> 'workspace_id')::uuid;
    object uuid := (r ->> 'id')::uuid;
    kind text;
    name text;
    act text;
    summary text := '';
    changed text[];
    ignored text[] := ARRAY['created_at', 'updated_at'];
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'connections' THEN
        kind := 'connection';
        name := r ->> 'name';
        ignored := ignored || ARRAY['created_by'];
        IF TG_OP = 'INSERT' THEN summary := (r ->> 'kind'); END IF;
    WHEN 'packages' THEN
        kind := 'package';
        name := r ->> 'name';
        ignored := ignored || ARRAY['source_kind', 'target_kind', 'source_fingerprint', 'target_fingerprint'];
    WHEN 'package_tasks' THEN
        kind := 'task';
        SELECT p.workspace_id, p.name || ': ' INTO ws, name FROM packages p WHERE p.id = (r ->> 'package_id')::uuid;
        name := coalesce(name, '') || (r ->> 'source_table') || ' → ' || (r ->> 'target_table');
        ignored := ignored || ARRAY['position', 'tracking_installed', 'full_pass_direction', 'full_pass_after',
                                    'full_pass_reverse', 'last_sync_at'];
    WHEN 'schedules' THEN
        kind := 'schedule';
        object := (r ->> 'package_id')::uuid;
        SELECT p.name INTO name FROM packages p WHERE p.id = object;
        ignored := ignored || ARRAY['next_run_at'];
        IF TG_OP = 'INSERT' THEN
            summary := CASE WHEN (r ->> 'enabled')::boolean THEN 'enabled' ELSE 'disabled' END
                       || ', ' || (r ->> 'time_zone');
        END IF;
    WHEN 'memberships' THEN
        kind := 'member';
        object := (r ->> 'user_id')::uuid;
        SELECT u.email INTO name FROM users u WHERE u.id = object;
        IF TG_OP = 'INSERT' THEN summary := 'joined as ' || initcap(r ->> 'role'); END IF;
        IF TG_OP = 'UPDATE' AND o ->> 'role' IS DISTINCT FROM n ->> 'role' THEN
            summary := 'role ' || initcap(o ->> 'role') || ' → ' || initcap(n ->> 'role');
        END IF;
    WHEN 'invitations' THEN
        kind := 'invitation';
        name := r ->> 'email';
        ignored := ignored || ARRAY['token_hash', 'accepted_by'];
        IF TG_OP = 'INSERT' THEN summary := 'as ' || initcap(r ->> 'role'); END IF;
    WHEN 'api_tokens' THEN
        kind := 'token';
        name := r ->> 'name';
        ignored := ignored || ARRAY['last_used_at', 'token_hash'];
        IF TG_OP = 'INSERT' THEN
            summary := 'role ' || initcap(r ->> 'role') || ', for ' || coalesce((SELECT email FROM users WHERE id = (r ->> 'user_id')::uuid), '?')
                       || coalesce(', expires ' || to_char((r ->> 'expires_at')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), '');
        END IF;
    END CASE;

    IF TG_OP = 'INSERT' THEN
        act := 'created';
    ELSIF TG_OP = 'DELETE' THEN
        act := 'deleted';
    ELSIF o ->> 'revoked_at' IS NULL AND n ->> 'revoked_at' IS NOT NULL THEN
        act := 'revoked';
    ELSIF o ->> 'accepted_at' IS NULL AND n ->> 'accepted_at' IS NOT NULL THEN
        act := 'accepted';
    ELSE
        changed := audit_changed(o, n, ignored);
        IF cardinality(changed) = 0 THEN
            RETURN NULL;
        END IF;
        act := 'changed';
        IF summary = '' THEN
            summary := array_to_string(changed, ', ');
        END IF;
        IF o ->> 'name' IS DISTINCT FROM n ->> 'name' AND TG_TABLE_NAME IN ('connections', 'packages') THEN
            summary := summary || ' (was “' || (o ->> 'name') || '”)';
        END IF;
    END IF;
    PERFORM audit_write(ws, act, kind, object, name, summary);
    RETURN NULL;
END $$;

CREATE TRIGGER audit_connections AFTER INSERT OR UPDATE OR DELETE ON connections
    FOR EACH ROW EXECUTE FUNCTION audit_change();
CREATE TRIGGER audit_packages AFTER INSERT OR UPDATE OR DELETE ON packages
    FOR EACH ROW EXECUTE FUNCTION audit_change();
CREATE TRIGGER audit_package_tasks AFTER INSERT OR UPDATE OR DELETE ON package_tasks
    FOR EACH ROW EXECUTE FUNCTION audit_change();
CREATE TRIGGER audit_schedules AFTER INSERT OR UPDATE OR DELETE ON schedules
    FOR EACH ROW EXECUTE FUNCTION audit_change();
CREATE TRIGGER audit_memberships AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION audit_change();
CREATE TRIGGER audit_invitations AFTER INSERT OR UPDATE OR DELETE ON invitations
    FOR EACH ROW EXECUTE FUNCTION audit_change();
CREATE TRIGGER audit_api_tokens AFTER INSERT OR UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION audit_change();

-- Runs: started (the run row says by whom) and canceled (by the transaction's actor).
CREATE FUNCTION audit_run() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    package_name text := (SELECT name FROM packages WHERE id = NEW.package_id);
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state = 'skipped' THEN
            RETURN NULL;
        END IF;
        PERFORM audit_write(NEW.workspace_id, 'started', 'run', NEW.id, package_name,
                            CASE NEW.started_by WHEN 'schedule' THEN 'scheduled run' ELSE 'run' END
                            || ' of ' || coalesce(package_name, 'a package'),
                            CASE NEW.started_by WHEN 'user' THEN 'person' WHEN 'api' THEN 'token'
                                                WHEN 'schedule' THEN 'schedule' WHEN 'cli' THEN 'command line'
                                                ELSE 'system' END,
                            NEW.started_by_user, NEW.started_by_token);
    ELSIF NEW.state IN ('canceling', 'canceled') AND OLD.state NOT IN ('canceling', 'canceled') THEN
        PERFORM audit_write(NEW.workspace_id, 'canceled', 'run', NEW.id, package_name,
                            'was ' || OLD.state);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_runs_started AFTER INSERT ON runs
    FOR EACH ROW EXECUTE FUNCTION audit_run();
CREATE TRIGGER audit_runs_canceled AFTER UPDATE OF state ON runs
    FOR EACH ROW EXECUTE FUNCTION audit_run();
