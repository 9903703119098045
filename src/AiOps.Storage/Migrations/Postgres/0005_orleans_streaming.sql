-- AiOps migration 0005 (PostgreSQL): Microsoft.Orleans.Streaming.AdoNet (10.4.2-alpha.1) queues.
-- A queue is (ServiceId, ProviderId, QueueId). Messages are leased by bumping Dequeued and pushing
-- VisibleOn into the future; a receipt is (MessageId, Dequeued). Confirm deletes, release (negative
-- Dequeued) makes the message visible again, and messages that exhaust MaxAttempts or expire move to
-- OrleansStreamDeadLetter, which is purged after the removal timeout.
-- All timeouts arrive as whole seconds. Leasing uses SKIP LOCKED so concurrent pollers never block each other.

CREATE TABLE OrleansStreamMessage
(
    ServiceId  varchar(150) NOT NULL,
    ProviderId varchar(150) NOT NULL,
    QueueId    varchar(150) NOT NULL,
    MessageId  bigint GENERATED ALWAYS AS IDENTITY,
    Dequeued   integer      NOT NULL DEFAULT 0,
    VisibleOn  timestamptz  NOT NULL,
    ExpiresOn  timestamptz  NOT NULL,
    CreatedOn  timestamptz  NOT NULL,
    ModifiedOn timestamptz  NOT NULL,
    Payload    bytea        NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

CREATE TABLE OrleansStreamDeadLetter
(
    ServiceId  varchar(150) NOT NULL,
    ProviderId varchar(150) NOT NULL,
    QueueId    varchar(150) NOT NULL,
    MessageId  bigint       NOT NULL,
    Dequeued   integer      NOT NULL,
    VisibleOn  timestamptz  NOT NULL,
    ExpiresOn  timestamptz  NOT NULL,
    CreatedOn  timestamptz  NOT NULL,
    ModifiedOn timestamptz  NOT NULL,
    DeadOn     timestamptz  NOT NULL,
    RemoveOn   timestamptz  NOT NULL,
    Payload    bytea        NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

CREATE INDEX IX_OrleansStreamDeadLetter_RemoveOn ON OrleansStreamDeadLetter (ServiceId, ProviderId, QueueId, RemoveOn);

-- One row per queue: when the next eviction pass is due.
CREATE TABLE OrleansStreamControl
(
    ServiceId  varchar(150) NOT NULL,
    ProviderId varchar(150) NOT NULL,
    QueueId    varchar(150) NOT NULL,
    EvictOn    timestamptz  NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('QueueStreamMessageKey', $q$
INSERT INTO OrleansStreamMessage
    (ServiceId, ProviderId, QueueId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn, Payload)
VALUES
    (@ServiceId, @ProviderId, @QueueId, 0, now(), now() + @ExpiryTimeout * interval '1 second', now(), now(), @Payload)
RETURNING ServiceId, ProviderId, QueueId, MessageId;
$q$),

-- Lease up to @MaxCount visible messages. At most once per @EvictionInterval per queue (whoever wins the
-- control-row update) the same statement also evicts spent/expired messages to dead letters and purges
-- old dead letters, @EvictionBatchSize rows each. Eviction and leasing select disjoint rows.
('GetStreamMessagesKey', $q$
WITH due AS (
    INSERT INTO OrleansStreamControl AS c (ServiceId, ProviderId, QueueId, EvictOn)
    VALUES (@ServiceId, @ProviderId, @QueueId, now() + @EvictionInterval * interval '1 second')
    ON CONFLICT (ServiceId, ProviderId, QueueId)
    DO UPDATE SET EvictOn = excluded.EvictOn
    WHERE c.EvictOn <= now()
    RETURNING 1
), spent AS (
    DELETE FROM OrleansStreamMessage AS m
    WHERE EXISTS (SELECT 1 FROM due)
      AND m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
      AND m.MessageId IN (
          SELECT x.MessageId FROM OrleansStreamMessage AS x
          WHERE x.ServiceId = @ServiceId AND x.ProviderId = @ProviderId AND x.QueueId = @QueueId
            AND x.VisibleOn <= now()
            AND (x.Dequeued >= @MaxAttempts OR x.ExpiresOn <= now())
          ORDER BY x.MessageId
          LIMIT @EvictionBatchSize
          FOR UPDATE SKIP LOCKED)
    RETURNING m.*
), buried AS (
    INSERT INTO OrleansStreamDeadLetter
        (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
         DeadOn, RemoveOn, Payload)
    SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
           now(), now() + @RemovalTimeout * interval '1 second', Payload
    FROM spent
    ON CONFLICT DO NOTHING
), purged AS (
    DELETE FROM OrleansStreamDeadLetter AS d
    WHERE EXISTS (SELECT 1 FROM due)
      AND d.ServiceId = @ServiceId AND d.ProviderId = @ProviderId AND d.QueueId = @QueueId
      AND d.MessageId IN (
          SELECT y.MessageId FROM OrleansStreamDeadLetter AS y
          WHERE y.ServiceId = @ServiceId AND y.ProviderId = @ProviderId AND y.QueueId = @QueueId
            AND y.RemoveOn <= now()
          ORDER BY y.MessageId
          LIMIT @EvictionBatchSize
          FOR UPDATE SKIP LOCKED)
), batch AS (
    SELECT z.MessageId FROM OrleansStreamMessage AS z
    WHERE z.ServiceId = @ServiceId AND z.ProviderId = @ProviderId AND z.QueueId = @QueueId
      AND z.Dequeued < @MaxAttempts AND z.VisibleOn <= now() AND z.ExpiresOn > now()
    ORDER BY z.MessageId
    LIMIT @MaxCount
    FOR UPDATE SKIP LOCKED
)
UPDATE OrleansStreamMessage AS m
SET Dequeued = m.Dequeued + 1,
    VisibleOn = now() + @VisibilityTimeout * interval '1 second',
    ModifiedOn = now()
FROM batch AS b
WHERE m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
  AND m.MessageId = b.MessageId
RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn, m.ExpiresOn,
          m.CreatedOn, m.ModifiedOn, m.Payload;
$q$),

-- @Items = 'MessageId:Dequeued|...'. A positive Dequeued confirms (deletes) the message if the receipt
-- is still current; a negative one releases it for immediate redelivery. Returns the rows acted on.
('ConfirmStreamMessagesKey', $q$
WITH items AS (
    SELECT split_part(item, ':', 1)::bigint AS MessageId, split_part(item, ':', 2)::integer AS Dequeued
    FROM unnest(string_to_array(@Items, '|')) AS item
    WHERE item <> ''
), released AS (
    UPDATE OrleansStreamMessage AS m
    SET VisibleOn = now(), ModifiedOn = now()
    FROM items AS i
    WHERE i.Dequeued < 0
      AND m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
      AND m.MessageId = i.MessageId AND m.Dequeued = -i.Dequeued
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
), confirmed AS (
    DELETE FROM OrleansStreamMessage AS m
    USING items AS i
    WHERE i.Dequeued > 0
      AND m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
      AND m.MessageId = i.MessageId AND m.Dequeued = i.Dequeued
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
)
SELECT ServiceId, ProviderId, QueueId, MessageId FROM released
UNION ALL
SELECT ServiceId, ProviderId, QueueId, MessageId FROM confirmed;
$q$),

-- A delivery failed: make the message visible again while attempts remain, otherwise dead-letter it.
('FailStreamMessageKey', $q$
WITH retried AS (
    UPDATE OrleansStreamMessage
    SET VisibleOn = now(), ModifiedOn = now()
    WHERE ServiceId = @ServiceId AND ProviderId = @ProviderId AND QueueId = @QueueId
      AND MessageId = @MessageId AND Dequeued < @MaxAttempts
    RETURNING 1
), spent AS (
    DELETE FROM OrleansStreamMessage
    WHERE ServiceId = @ServiceId AND ProviderId = @ProviderId AND QueueId = @QueueId
      AND MessageId = @MessageId AND Dequeued >= @MaxAttempts
    RETURNING *
)
INSERT INTO OrleansStreamDeadLetter
    (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
     DeadOn, RemoveOn, Payload)
SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
       now(), now() + @RemovalTimeout * interval '1 second', Payload
FROM spent
ON CONFLICT DO NOTHING;
$q$),

-- Required by the provider's query set (it validates that the key exists); eviction normally runs inside
-- GetStreamMessagesKey. Parameters per the provider: @ServiceId, @ProviderId, @QueueId, @MaxCount,
-- @MaxAttempts, @RemovalTimeout.
('EvictStreamMessagesKey', $q$
WITH spent AS (
    DELETE FROM OrleansStreamMessage AS m
    WHERE m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
      AND m.MessageId IN (
          SELECT x.MessageId FROM OrleansStreamMessage AS x
          WHERE x.ServiceId = @ServiceId AND x.ProviderId = @ProviderId AND x.QueueId = @QueueId
            AND x.VisibleOn <= now()
            AND (x.Dequeued >= @MaxAttempts OR x.ExpiresOn <= now())
          ORDER BY x.MessageId
          LIMIT @MaxCount
          FOR UPDATE SKIP LOCKED)
    RETURNING m.*
)
INSERT INTO OrleansStreamDeadLetter
    (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
     DeadOn, RemoveOn, Payload)
SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
       now(), now() + @RemovalTimeout * interval '1 second', Payload
FROM spent
ON CONFLICT DO NOTHING;
$q$),

('EvictStreamDeadLettersKey', $q$
DELETE FROM OrleansStreamDeadLetter AS d
WHERE d.ServiceId = @ServiceId AND d.ProviderId = @ProviderId AND d.QueueId = @QueueId
  AND d.MessageId IN (
      SELECT y.MessageId FROM OrleansStreamDeadLetter AS y
      WHERE y.ServiceId = @ServiceId AND y.ProviderId = @ProviderId AND y.QueueId = @QueueId
        AND y.RemoveOn <= now()
      ORDER BY y.MessageId
      LIMIT @MaxCount
      FOR UPDATE SKIP LOCKED);
$q$);
