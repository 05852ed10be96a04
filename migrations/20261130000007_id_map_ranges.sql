-- Runs of consecutive integer keys in the ID map, one row per run: source keys
-- source_first … source_first + length - 1 pair with target keys target_first … in step.
-- A first run into a table with identity keys writes its copies under consecutive keys, so
-- its pairs come as runs, and a run costs one row instead of one row per pair (a pair row,
-- with its two unique indexes, cost more to write than the copied row itself).
--
-- A key is in at most one place: one pair of `id_map` or one run here (`catalog::sync_state`
-- keeps that: adding or removing a pair first takes its keys out of any run).
CREATE TABLE id_map_ranges (
    task_id      uuid   NOT NULL,
    source_first bigint NOT NULL,
    target_first bigint NOT NULL,
    length       bigint NOT NULL CHECK (length >= 2),
    PRIMARY KEY (task_id, source_first),
    UNIQUE (task_id, target_first)
);

-- Every pair, whichever way it is stored (for reading and counting, not for lookups).
CREATE VIEW id_map_pairs AS
    SELECT task_id, source_key, target_key FROM id_map
    UNION ALL
    SELECT r.task_id, (r.source_first + i)::text, (r.target_first + i)::text
      FROM id_map_ranges r, generate_series(0, r.length - 1) AS i;

CREATE OR REPLACE FUNCTION id_map_forget_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM id_map WHERE task_id = OLD.id;
    DELETE FROM id_map_ranges WHERE task_id = OLD.id;
    RETURN NULL;
END
$$;
