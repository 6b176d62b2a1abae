-- Delivery ordering and attempt visibility (issue 14).
--
-- superseded: a queued repeat that a later notification of the same group to
-- the same receiver made stale; it is never sent (the later one carries the
-- group's current state).
ALTER TABLE alert_notifications DROP CONSTRAINT IF EXISTS alert_notifications_status_check;
ALTER TABLE alert_notifications ADD CONSTRAINT alert_notifications_status_check
  CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'superseded'));

-- A receiver (project, channel, recipient) is a FIFO queue: only its oldest
-- unfinished delivery may be sent. This index answers "is there an older one?".
CREATE INDEX IF NOT EXISTS alert_notifications_receiver_idx
  ON alert_notifications (project_id, channel, (COALESCE(recipient, '')), id) WHERE status IN ('pending', 'sending');

-- An attempt is written as 'started' before the send and updated with its
-- outcome after it, so a send cut off by a crash still leaves a record.
ALTER TABLE alert_notification_attempts DROP CONSTRAINT IF EXISTS alert_notification_attempts_outcome_check;
ALTER TABLE alert_notification_attempts ADD CONSTRAINT alert_notification_attempts_outcome_check
  CHECK (outcome IN ('started', 'ok', 'retriable', 'permanent'));
ALTER TABLE alert_notification_attempts ADD COLUMN IF NOT EXISTS finished_at timestamptz;
