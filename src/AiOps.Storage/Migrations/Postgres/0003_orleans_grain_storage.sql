-- AiOps migration 0003 (PostgreSQL): Orleans ADO.NET grain persistence.
-- One row per (service, grain type, grain id). Version is the etag; each query is one atomic statement.
-- A NULL key extension is stored as '' so the identity can be a plain unique key.

CREATE TABLE OrleansStorage
(
    ServiceId              varchar(150) NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainIdExtensionString varchar(512) NOT NULL DEFAULT '',
    PayloadBinary          bytea        NULL,
    Version                integer      NOT NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT UX_OrleansStorage_Grain UNIQUE
        (GrainTypeHash, GrainIdHash, ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey', $q$
INSERT INTO OrleansStorage AS s
    (ServiceId, GrainTypeHash, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1, GrainIdExtensionString,
     PayloadBinary, Version, ModifiedOn)
SELECT @ServiceId, @GrainTypeHash, @GrainTypeString, @GrainIdHash, @GrainIdN0, @GrainIdN1, coalesce(@GrainIdExtensionString, ''),
       @PayloadBinary, 1, now()
WHERE @GrainStateVersion::integer IS NULL
   OR EXISTS (SELECT 1 FROM OrleansStorage AS cur
              WHERE cur.GrainTypeHash = @GrainTypeHash AND cur.GrainIdHash = @GrainIdHash
                AND cur.ServiceId = @ServiceId AND cur.GrainTypeString = @GrainTypeString
                AND cur.GrainIdN0 = @GrainIdN0 AND cur.GrainIdN1 = @GrainIdN1
                AND cur.GrainIdExtensionString = coalesce(@GrainIdExtensionString, ''))
ON CONFLICT ON CONSTRAINT UX_OrleansStorage_Grain
DO UPDATE SET
    PayloadBinary = excluded.PayloadBinary,
    Version       = s.Version + 1,
    ModifiedOn    = excluded.ModifiedOn
WHERE s.Version = @GrainStateVersion
RETURNING s.Version AS NewGrainStateVersion;
$q$),

('ReadFromStorageKey', $q$
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainTypeHash = @GrainTypeHash AND GrainIdHash = @GrainIdHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString = coalesce(@GrainIdExtensionString, '');
$q$),

('ClearStorageKey', $q$
UPDATE OrleansStorage
SET PayloadBinary = NULL, Version = Version + 1, ModifiedOn = now()
WHERE GrainTypeHash = @GrainTypeHash AND GrainIdHash = @GrainIdHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString = coalesce(@GrainIdExtensionString, '')
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
$q$),

-- DeleteStateOnClear = true: the returned value must differ from the caller's etag to count as success.
('DeleteStorageKey', $q$
DELETE FROM OrleansStorage
WHERE GrainTypeHash = @GrainTypeHash AND GrainIdHash = @GrainIdHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString = coalesce(@GrainIdExtensionString, '')
  AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion;
$q$);
