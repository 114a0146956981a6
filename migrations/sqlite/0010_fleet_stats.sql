-- The fleet (data-plane nodes) and the request statistics they report.

CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    labels TEXT NOT NULL DEFAULT '{}',
    build TEXT NOT NULL DEFAULT '',
    connected INTEGER NOT NULL DEFAULT 0,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    applied_version INTEGER NOT NULL DEFAULT 0,
    applied_sha256 TEXT NOT NULL DEFAULT '',
    applied_at_ms INTEGER,
    last_nack_version INTEGER,
    last_nack_build TEXT,
    last_nack_reason TEXT,
    last_nack_violations TEXT
);

-- One row per delivered batch: a redelivered (node, boot, sequence) is not counted again.
CREATE TABLE stats_batches (
    node_id TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (node_id, boot_id, sequence)
);

CREATE TABLE stats_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket_ms INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    cluster TEXT NOT NULL,
    backend TEXT NOT NULL,
    status_class TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    request_bytes INTEGER NOT NULL,
    response_bytes INTEGER NOT NULL,
    errors TEXT NOT NULL,
    latency_hdr TEXT NOT NULL
);
CREATE INDEX stats_records_bucket ON stats_records (bucket_ms);
