-- AiOps migration 0001 (SQLite): Orleans ADO.NET grain persistence.
-- Query texts live in OrleansQuery and are loaded by the provider at silo start.
-- Each query is a single statement so SQLite runs it atomically without an explicit transaction.
-- Key columns: the provider always sends every key part; a NULL key extension is stored as ''.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    ServiceId              TEXT    NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdHash            INTEGER NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainIdExtensionString TEXT    NOT NULL DEFAULT '',
    PayloadBinary          BLOB    NULL,
    Version                INTEGER NOT NULL,
    ModifiedOn             TEXT    NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_Grain
    ON OrleansStorage (GrainTypeHash, GrainIdHash, ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString);

-- Write: insert the first version (etag NULL) or bump the version when the etag matches.
-- No row comes back on an etag mismatch, which the provider reports as InconsistentStateException.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
INSERT INTO OrleansStorage
    (ServiceId, GrainTypeHash, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1, GrainIdExtensionString,
     PayloadBinary, Version, ModifiedOn)
SELECT @ServiceId, @GrainTypeHash, @GrainTypeString, @GrainIdHash, @GrainIdN0, @GrainIdN1, ifnull(@GrainIdExtensionString, ''''),
       @PayloadBinary, 1, strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE @GrainStateVersion IS NULL
   OR EXISTS (SELECT 1 FROM OrleansStorage AS cur
              WHERE cur.GrainTypeHash = @GrainTypeHash AND cur.GrainIdHash = @GrainIdHash
                AND cur.ServiceId = @ServiceId AND cur.GrainTypeString = @GrainTypeString
                AND cur.GrainIdN0 = @GrainIdN0 AND cur.GrainIdN1 = @GrainIdN1
                AND cur.GrainIdExtensionString = ifnull(@GrainIdExtensionString, ''''))
ON CONFLICT (GrainTypeHash, GrainIdHash, ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
DO UPDATE SET
    PayloadBinary = excluded.PayloadBinary,
    Version       = Version + 1,
    ModifiedOn    = excluded.ModifiedOn
WHERE Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainTypeHash = @GrainTypeHash AND GrainIdHash = @GrainIdHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString = ifnull(@GrainIdExtensionString, '''');
');

-- Clear keeps the row (payload NULL) and bumps the version, so the etag chain continues.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
UPDATE OrleansStorage
SET PayloadBinary = NULL,
    Version = Version + 1,
    ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
WHERE GrainTypeHash = @GrainTypeHash AND GrainIdHash = @GrainIdHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString = ifnull(@GrainIdExtensionString, '''')
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
');

-- Used when AdoNetGrainStorageOptions.DeleteStateOnClear = true: removes the row.
-- Returns a value different from the caller's etag on success (the provider treats an equal value as a conflict).
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', '
DELETE FROM OrleansStorage
WHERE GrainTypeHash = @GrainTypeHash AND GrainIdHash = @GrainIdHash
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString = ifnull(@GrainIdExtensionString, '''')
  AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion;
');
