-- Clusters get an explicit owner tenant instead of one inferred from routes. The owners that
-- existing clusters were inferred to have are assigned once, by the control plane at its next
-- start (a configuration change, so a version), while this marker row exists.

CREATE TABLE pending_upgrades (
    name TEXT PRIMARY KEY
);

INSERT INTO pending_upgrades (name) VALUES ('cluster_owners');
