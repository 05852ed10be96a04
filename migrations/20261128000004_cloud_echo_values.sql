-- Echo detection by values (see engine::connectors::cloud): besides the stamps its write can
-- have given a record, the engine remembers what it wrote, so that a modification holding
-- other values in those fields is a change whatever its stamp and author. `written_from`:
-- the oldest stamp the write can have given; `written_fields`: the fields written (a JSON
-- array of names); `written_digest`: of their values, as a poll reads them back. All three
-- are null for echoes recorded before this migration (the stamps alone decide for them,
-- until they are forgotten a few minutes later).
ALTER TABLE cloud_echoes
    ADD COLUMN written_from   timestamptz NULL,
    ADD COLUMN written_fields jsonb NULL,
    ADD COLUMN written_digest bigint NULL,
    ADD CONSTRAINT cloud_echoes_written_check CHECK (
        (written_from IS NULL) = (written_fields IS NULL)
        AND (written_fields IS NULL) = (written_digest IS NULL)
        AND (written_fields IS NULL OR jsonb_typeof(written_fields) = 'array')
    );
