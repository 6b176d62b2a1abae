-- Provider callbacks find their delivery by the provider's message id (Meta wamid, Twilio SID)
-- or, when the callback beats the sender's record of that id, by the idempotency key Meta echoes
-- back (biz_opaque_callback_data). Both lookups come without a project (one webhook per Meta app).
CREATE INDEX IF NOT EXISTS alert_notifications_provider_id_idx ON alert_notifications (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS alert_notifications_idempotency_key_idx ON alert_notifications (idempotency_key);
