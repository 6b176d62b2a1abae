-- Channel outcomes as the vendors report them (issue 16).
--
-- partial:   the receiver accepted the message for some recipients and refused
--            others (SMTP: one RCPT answered 550); not retried (the refusals are
--            permanent, and a resend would repeat it to the accepted ones).
-- delivered: the provider reported delivery later (Twilio StatusCallback
--            delivered/read). A later 'failed' verdict (Twilio failed/undelivered,
--            e.g. 63016 outside the WhatsApp window) turns 'sent' into 'failed'.
ALTER TABLE alert_notifications DROP CONSTRAINT IF EXISTS alert_notifications_status_check;
ALTER TABLE alert_notifications ADD CONSTRAINT alert_notifications_status_check
  CHECK (status IN ('pending', 'sending', 'sent', 'partial', 'delivered', 'failed', 'superseded'));

-- The provider's id of the accepted message (Twilio SM.../MM..., Meta wamid, SMTP Message-ID),
-- its last reported status and when it was reported. A callback may arrive before the sender
-- records the send; it is kept in provider_status and applied when the send is recorded.
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS provider_id text;
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS provider_status text;
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS provider_error text;
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS provider_updated_at timestamptz;
-- Per-recipient results of channels that address several recipients in one send (email).
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS recipient_results jsonb;
