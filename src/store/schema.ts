/**
 * SQLite schema of {@link SqliteStore}. Hex strings are stored as TEXT (lowercase 0x-hex);
 * uint64 values (fork, seq, timestamps) as INTEGER bound as BigInt; bitmaps and other
 * unbounded integers as decimal TEXT.
 */

/** Bumped on every incompatible change; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1

export const SCHEMA = `
CREATE TABLE channels (
  channel_id TEXT PRIMARY KEY,
  params     TEXT NOT NULL,
  me         INTEGER NOT NULL
);
CREATE TABLE forks (
  channel_id TEXT NOT NULL REFERENCES channels (channel_id),
  fork       INTEGER NOT NULL,
  state      TEXT NOT NULL,
  state_hash TEXT NOT NULL,
  timestamp  INTEGER NOT NULL,
  active     TEXT NOT NULL,
  disputed   INTEGER NOT NULL,
  PRIMARY KEY (channel_id, fork)
);
CREATE TABLE txs (
  channel_id  TEXT NOT NULL REFERENCES channels (channel_id),
  fork        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  digest      TEXT NOT NULL,
  tx          TEXT NOT NULL,
  state       TEXT NOT NULL,
  next_actor  INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, fork, seq)
);
CREATE TABLE signatures (
  channel_id TEXT NOT NULL REFERENCES channels (channel_id),
  digest     TEXT NOT NULL,
  signer     INTEGER NOT NULL,
  signature  TEXT NOT NULL,
  PRIMARY KEY (channel_id, digest, signer)
);
CREATE TABLE own_signatures (
  channel_id TEXT NOT NULL REFERENCES channels (channel_id),
  kind       TEXT NOT NULL CHECK (kind IN ('tx', 'close')),
  fork       INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  digest     TEXT NOT NULL,
  signature  TEXT NOT NULL,
  PRIMARY KEY (channel_id, kind, fork, seq)
);
CREATE INDEX own_signatures_by_fork ON own_signatures (channel_id, fork, seq);
CREATE TABLE meta (
  channel_id TEXT NOT NULL REFERENCES channels (channel_id),
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (channel_id, key)
);
`
