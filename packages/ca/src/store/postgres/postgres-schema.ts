import type { Migration } from '../migration.js';

/**
 * PostgreSQL schema; `{{schema}}` is replaced by the quoted schema name. Times are timestamptz, DER bytea,
 * JSON jsonb, ids bigint identities.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE {{schema}}.certificates (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  serial            text NOT NULL UNIQUE,
  der               bytea NOT NULL,
  subject           text NOT NULL,
  sans              text NOT NULL,
  not_before        timestamptz NOT NULL,
  not_after         timestamptz NOT NULL,
  thumbprint        text NOT NULL,
  status            text NOT NULL CHECK (status IN ('valid', 'revoked')),
  revoked_at        timestamptz,
  revocation_reason smallint,
  profile           text NOT NULL,
  transaction_id    text,
  device_id         text,
  created_at        timestamptz NOT NULL,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
);
CREATE INDEX certificates_thumbprint ON {{schema}}.certificates (thumbprint);
CREATE INDEX certificates_not_after ON {{schema}}.certificates (status, not_after);
CREATE INDEX certificates_created ON {{schema}}.certificates (created_at, id);
CREATE INDEX certificates_device ON {{schema}}.certificates (device_id);

CREATE TABLE {{schema}}.transactions (
  transaction_id text NOT NULL,
  profile        text NOT NULL,
  request_hash   text NOT NULL,
  state          text NOT NULL CHECK (state IN ('pending', 'approved', 'issued', 'failed', 'rejected')),
  serial         text REFERENCES {{schema}}.certificates (serial),
  fail_info      text,
  reason         text,
  csr            bytea,
  notified       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  seq            bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (transaction_id, profile),
  CHECK ((state = 'issued') = (serial IS NOT NULL))
);
CREATE INDEX transactions_state ON {{schema}}.transactions (state, created_at);

CREATE TABLE {{schema}}.audit_log (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time           timestamptz NOT NULL,
  actor          text NOT NULL CHECK (actor <> ''),
  action         text NOT NULL CHECK (action <> ''),
  transaction_id text,
  serial         text,
  subject        text,
  details        jsonb NOT NULL
);
CREATE INDEX audit_time ON {{schema}}.audit_log (time);
CREATE INDEX audit_actor ON {{schema}}.audit_log (actor, time);
CREATE INDEX audit_action ON {{schema}}.audit_log (action, time);
CREATE INDEX audit_transaction ON {{schema}}.audit_log (transaction_id);
CREATE INDEX audit_serial ON {{schema}}.audit_log (serial);
-- Append-only: the database refuses updates and deletes.
CREATE FUNCTION {{schema}}.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {{schema}}.audit_log
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_log_append_only();

CREATE TABLE {{schema}}.challenges (
  hash        text PRIMARY KEY,
  profile     text,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz
);
CREATE INDEX challenges_expires ON {{schema}}.challenges (expires_at);

CREATE TABLE {{schema}}.crl_counter (
  id   smallint PRIMARY KEY CHECK (id = 1),
  last bigint NOT NULL
);

CREATE TABLE {{schema}}.crl_latest (
  id          smallint PRIMARY KEY CHECK (id = 1),
  crl_number  bigint NOT NULL,
  der         bytea NOT NULL,
  this_update timestamptz NOT NULL,
  next_update timestamptz NOT NULL
);

CREATE TABLE {{schema}}.outbox (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL,
  payload          jsonb NOT NULL,
  dedupe_key       text UNIQUE,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  last_error       text,
  done             boolean NOT NULL DEFAULT false,
  lease_owner      text,
  lease_expires_at timestamptz,
  created_at       timestamptz NOT NULL
);
CREATE INDEX outbox_due ON {{schema}}.outbox (next_attempt_at) WHERE NOT done;

CREATE TABLE {{schema}}.intune_revocations (
  request_context text PRIMARY KEY,
  serial          text,
  result          text NOT NULL,
  processed_at    timestamptz NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'certificates-by-transaction',
    sql: 'CREATE INDEX certificates_transaction ON {{schema}}.certificates (transaction_id);',
  },
  {
    // Issuance in one round trip: certificate, transaction and audit event in the implicit transaction of one
    // statement, instead of BEGIN, three statements and COMMIT. A transaction not in an allowed state raises
    // SQLSTATE SK409 with its current state (empty when missing) as DETAIL, which rolls back the certificate.
    version: 3,
    name: 'issue-function',
    sql: `
CREATE FUNCTION {{schema}}.issue_certificate(
  p_serial text, p_der bytea, p_subject text, p_sans text, p_not_before timestamptz, p_not_after timestamptz,
  p_thumbprint text, p_profile text, p_transaction_id text, p_device_id text, p_now timestamptz,
  p_key_transaction_id text, p_key_profile text, p_allowed_from text[],
  p_audit_time timestamptz, p_audit_actor text, p_audit_action text, p_audit_transaction_id text,
  p_audit_serial text, p_audit_subject text, p_audit_details jsonb)
RETURNS SETOF {{schema}}.certificates LANGUAGE plpgsql AS $$
DECLARE
  cert {{schema}}.certificates;
  current_state text;
BEGIN
  INSERT INTO {{schema}}.certificates (serial, der, subject, sans, not_before, not_after, thumbprint, status,
      profile, transaction_id, device_id, created_at)
    VALUES (p_serial, p_der, p_subject, p_sans, p_not_before, p_not_after, p_thumbprint, 'valid', p_profile,
      p_transaction_id, p_device_id, p_now)
    RETURNING * INTO cert;
  IF p_key_profile IS NOT NULL THEN
    UPDATE {{schema}}.transactions SET state = 'issued', serial = p_serial, fail_info = NULL, reason = NULL,
        updated_at = p_now, csr = NULL
      WHERE transaction_id = p_key_transaction_id AND profile = p_key_profile AND state = ANY(p_allowed_from);
    IF NOT FOUND THEN
      SELECT state INTO current_state FROM {{schema}}.transactions
        WHERE transaction_id = p_key_transaction_id AND profile = p_key_profile;
      RAISE EXCEPTION 'transaction cannot become issued'
        USING ERRCODE = 'SK409', DETAIL = coalesce(current_state, '');
    END IF;
  END IF;
  INSERT INTO {{schema}}.audit_log (time, actor, action, transaction_id, serial, subject, details)
    VALUES (p_audit_time, p_audit_actor, p_audit_action, p_audit_transaction_id, p_audit_serial, p_audit_subject,
      p_audit_details);
  RETURN NEXT cert;
END $$;
`,
  },
];
