-- The stream a node's row was last written by: a stream that ends after its node has
-- reconnected (possibly to another replica) must not mark the node disconnected.
ALTER TABLE nodes ADD COLUMN session TEXT NOT NULL DEFAULT '';
