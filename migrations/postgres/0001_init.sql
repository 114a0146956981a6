-- Control-plane store, PostgreSQL flavour. Documents are JSON text (the raw config types), so
-- the same runtime queries run on PostgreSQL and SQLite. Names use the C collation so ordering
-- and keyset pagination match SQLite's byte order.

-- One row: the newest version number. Every commit locks it first, which serializes writers
-- across control-plane replicas.
CREATE TABLE config_head (
    id INTEGER PRIMARY KEY,
    head BIGINT NOT NULL,
    locked_at_ms BIGINT NOT NULL DEFAULT 0
);
INSERT INTO config_head (id, head) VALUES (1, 0);

-- The live resources. `revision` is the version that last wrote the row: the ETag.
CREATE TABLE resources (
    kind TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    revision BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);

-- Immutable accepted versions, each with its whole snapshot.
CREATE TABLE versions (
    number BIGINT PRIMARY KEY,
    parent BIGINT,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    rollback_of BIGINT,
    snapshot TEXT NOT NULL
);

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    tenants TEXT,
    created_at_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at_ms BIGINT
);

-- Every write: who, when, what (before/after, keys redacted), request id.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    version BIGINT,
    before TEXT,
    after TEXT,
    request_id TEXT NOT NULL
);
CREATE INDEX audit_log_resource ON audit_log (resource_kind, resource_name);
