-- Related records: a task's first-run match keys, and the records matching left unpaired
-- because their key matched more than one record (held: neither paired nor copied until a
-- person fixes the data and a full pass matches again).
ALTER TABLE package_tasks ADD COLUMN match_keys jsonb;

CREATE TABLE held_records (
    task_id    uuid NOT NULL REFERENCES package_tasks (id) ON DELETE CASCADE,
    side       text NOT NULL CHECK (side IN ('source', 'target')),
    record_key text COLLATE "C" NOT NULL,
    PRIMARY KEY (task_id, side, record_key)
);
