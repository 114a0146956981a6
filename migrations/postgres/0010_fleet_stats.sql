-- The fleet (data-plane nodes) and the request statistics they report.

CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    labels TEXT NOT NULL DEFAULT '{}',
    build TEXT NOT NULL DEFAULT '',
    connected INTEGER NOT NULL DEFAULT 0,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    applied_version BIGINT NOT NULL DEFAULT 0,
    applied_sha256 TEXT NOT NULL DEFAULT '',
    applied_at_ms BIGINT,
    last_nack_version BIGINT,
    last_nack_build TEXT,
    last_nack_reason TEXT,
    last_nack_violations TEXT
);

-- One row per delivered batch: a redelivered (node, boot, sequence) is not counted again.
CREATE TABLE stats_batches (
    node_id TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (node_id, boot_id, sequence)
);

CREATE TABLE stats_records (
    id BIGSERIAL PRIMARY KEY,
    bucket_ms BIGINT NOT NULL,
    node_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    cluster TEXT NOT NULL,
    backend TEXT NOT NULL,
    status_class TEXT NOT NULL,
    config_version BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    request_bytes BIGINT NOT NULL,
    response_bytes BIGINT NOT NULL,
    errors TEXT NOT NULL,
    latency_hdr TEXT NOT NULL
);
CREATE INDEX stats_records_bucket ON stats_records (bucket_ms);
