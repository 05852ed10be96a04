-- A run that went through every task but could not write some records is
-- 'succeeded_with_errors' (those records are retried by the next run); a run whose every
-- record failed is 'failed'. Plain 'succeeded' now means nothing failed.
ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
    CHECK (state IN ('queued', 'running', 'succeeded', 'succeeded_with_errors', 'failed',
                     'canceling', 'canceled', 'skipped'));
