-- Control-plane store, SQLite flavour (the embedded default). Same tables and meaning as
-- migrations/postgres/0001_init.sql.

CREATE TABLE config_head (
    id INTEGER PRIMARY KEY,
    head INTEGER NOT NULL,
    locked_at_ms INTEGER NOT NULL DEFAULT 0
);
INSERT INTO config_head (id, head) VALUES (1, 0);

CREATE TABLE resources (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);

CREATE TABLE versions (
    number INTEGER PRIMARY KEY,
    parent INTEGER,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    rollback_of INTEGER,
    snapshot TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    tenants TEXT,
    created_at_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at_ms INTEGER
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    version INTEGER,
    before TEXT,
    after TEXT,
    request_id TEXT NOT NULL
);
CREATE INDEX audit_log_resource ON audit_log (resource_kind, resource_name);
