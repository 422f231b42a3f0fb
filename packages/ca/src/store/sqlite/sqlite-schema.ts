import type { Migration } from '../migration.js';

/** SQLite schema. Times are INTEGER milliseconds since the epoch (UTC); booleans 0/1; JSON as TEXT. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE certificates (
  id                INTEGER PRIMARY KEY,
  serial            TEXT NOT NULL UNIQUE,
  der               BLOB NOT NULL,
  subject           TEXT NOT NULL,
  sans              TEXT NOT NULL,
  not_before        INTEGER NOT NULL,
  not_after         INTEGER NOT NULL,
  thumbprint        TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
  revoked_at        INTEGER,
  revocation_reason INTEGER,
  profile           TEXT NOT NULL,
  transaction_id    TEXT,
  device_id         TEXT,
  created_at        INTEGER NOT NULL,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
);
CREATE INDEX certificates_thumbprint ON certificates (thumbprint);
CREATE INDEX certificates_not_after ON certificates (status, not_after);
CREATE INDEX certificates_created ON certificates (created_at, id);
CREATE INDEX certificates_device ON certificates (device_id);

CREATE TABLE transactions (
  transaction_id TEXT NOT NULL,
  profile        TEXT NOT NULL,
  request_hash   TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'issued', 'failed', 'rejected')),
  serial         TEXT REFERENCES certificates (serial),
  fail_info      TEXT,
  reason         TEXT,
  csr            BLOB,
  notified       INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (transaction_id, profile),
  CHECK ((state = 'issued') = (serial IS NOT NULL))
);
CREATE INDEX transactions_state ON transactions (state, created_at);

CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  time           INTEGER NOT NULL,
  actor          TEXT NOT NULL CHECK (actor <> ''),
  action         TEXT NOT NULL CHECK (action <> ''),
  transaction_id TEXT,
  serial         TEXT,
  subject        TEXT,
  details        TEXT NOT NULL
);
CREATE INDEX audit_time ON audit_log (time);
CREATE INDEX audit_actor ON audit_log (actor, time);
CREATE INDEX audit_action ON audit_log (action, time);
CREATE INDEX audit_transaction ON audit_log (transaction_id);
CREATE INDEX audit_serial ON audit_log (serial);
-- Append-only: the database refuses updates and deletes.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE challenges (
  hash        TEXT PRIMARY KEY,
  profile     TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  consumed_at INTEGER
);
CREATE INDEX challenges_expires ON challenges (expires_at);

CREATE TABLE crl_counter (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  last INTEGER NOT NULL
);

CREATE TABLE crl_latest (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  crl_number  INTEGER NOT NULL,
  der         BLOB NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL
);

CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  kind             TEXT NOT NULL,
  payload          TEXT NOT NULL,
  dedupe_key       TEXT UNIQUE,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_error       TEXT,
  done             INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  created_at       INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (done, next_attempt_at);

CREATE TABLE intune_revocations (
  request_context TEXT PRIMARY KEY,
  serial          TEXT,
  result          TEXT NOT NULL,
  processed_at    INTEGER NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'certificates-by-transaction',
    sql: 'CREATE INDEX certificates_transaction ON certificates (transaction_id);',
  },
];
