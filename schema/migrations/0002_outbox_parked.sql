-- Parked events and payload sizes.
--
-- A row the broker or the AMQP encoder refuses for what it is (not because the broker is
-- down) is parked: kept, with its reason, out of the relay's way, until an operator fixes
-- it and unparks it (`cms events unpark`). A row is pending, parked or sent, never two.
ALTER TABLE outbox
    ADD COLUMN parked_at     timestamptz,
    ADD COLUMN parked_reason text,
    -- Size of the payload as JSON text, set at insert: lets the relay cap a batch by bytes
    -- without serialising rows it will not take. Rows written before this are sized on read.
    ADD COLUMN payload_bytes integer,
    ADD CONSTRAINT outbox_sent_or_parked CHECK (sent_at IS NULL OR parked_at IS NULL),
    ADD CONSTRAINT outbox_parked_with_reason CHECK ((parked_at IS NULL) = (parked_reason IS NULL));

-- The relay's work: rows neither sent nor parked. created_at is included for the backlog's
-- age, so the relay's figures come from this small index alone.
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (sequence) INCLUDE (created_at)
    WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (sequence) WHERE parked_at IS NOT NULL;
