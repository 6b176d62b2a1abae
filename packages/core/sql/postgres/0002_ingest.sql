-- The batch a consumer is about to insert, per partition, written before the
-- ClickHouse insert. After a crash the next owner of the partition replays
-- exactly this offset range with the same deduplication token, so ClickHouse
-- drops the repeat instead of counting it twice.
CREATE TABLE IF NOT EXISTS ingest_batch_intents (
  consumer_group text    NOT NULL,
  topic          text    NOT NULL,
  partition      integer NOT NULL,
  first_offset   bigint  NOT NULL,
  last_offset    bigint  NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);
