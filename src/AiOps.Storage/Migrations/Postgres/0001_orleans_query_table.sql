-- AiOps migration 0001 (PostgreSQL): the table the Orleans ADO.NET providers read their SQL from.
-- Identifiers are unquoted on purpose: the providers issue "SELECT QueryKey, QueryText FROM OrleansQuery"
-- and read result columns by name (Npgsql falls back to a case-insensitive match).

CREATE TABLE OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);
