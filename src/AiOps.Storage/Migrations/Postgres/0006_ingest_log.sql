-- The cluster's ingest log: one partition per running silo (claimed at start, heartbeated while alive), one row per
-- group commit. A partition whose silo stopped heartbeating is replayed by a surviving silo and emptied once the
-- entities' saved state covers it; an empty, abandoned partition is claimed again by the next silo that starts.
CREATE TABLE IF NOT EXISTS aiops_ingest_partitions (
    id integer PRIMARY KEY,
    owner text NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS aiops_ingest_log (
    partition_id integer NOT NULL,
    position bigint NOT NULL,
    payload bytea NOT NULL,
    PRIMARY KEY (partition_id, position)
);
