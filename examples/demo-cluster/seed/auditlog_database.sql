-- Demo data for `auditlog_database`: the audit log, who did what and when.
-- Deterministic; run: psql -v ON_ERROR_STOP=1 -d auditlog_database -f auditlog_database.sql
SET client_min_messages = warning;
BEGIN;

DROP VIEW IF EXISTS denied_actions;
DROP TABLE IF EXISTS audit_log, audit_principals CASCADE;
DROP SEQUENCE IF EXISTS audit_log_seq;
DROP TYPE IF EXISTS audit_event;

CREATE TYPE audit_event AS ENUM ('create', 'read', 'update', 'delete', 'start', 'stop', 'login');
CREATE SEQUENCE audit_log_seq;

CREATE TABLE audit_principals (
    name      text PRIMARY KEY,
    is_system boolean NOT NULL
);
INSERT INTO audit_principals
SELECT 'user' || i || '@demo.continuum.example', false FROM generate_series(1, 40) AS i
UNION ALL
SELECT c || '@apcera.me', true
FROM unnest(ARRAY['stagehand', 'health-manager', 'job-manager', 'api-server']) AS c;

CREATE TABLE audit_log (
    id              bigint PRIMARY KEY DEFAULT nextval('audit_log_seq'),
    uuid            uuid NOT NULL UNIQUE,
    ts              timestamptz NOT NULL,
    event_type      audit_event NOT NULL,
    principal_name  text NOT NULL REFERENCES audit_principals (name),
    resource_type   text NOT NULL,
    fqn             text NOT NULL,
    allowed         boolean NOT NULL,
    requester_addr  inet,
    response_ms     integer NOT NULL,
    payload         jsonb
);
ALTER SEQUENCE audit_log_seq OWNED BY audit_log.id;
INSERT INTO audit_log (uuid, ts, event_type, principal_name, resource_type, fqn, allowed,
                       requester_addr, response_ms, payload)
SELECT md5('audit' || i)::uuid,
       timestamptz '2024-05-01 00:00:00+00' + i * interval '37 seconds',
       (enum_range(NULL::audit_event))[i % 7 + 1],
       CASE WHEN i % 5 = 0 THEN 'stagehand@apcera.me' ELSE 'user' || (i % 40 + 1) || '@demo.continuum.example' END,
       (ARRAY['job', 'package', 'service', 'policy', 'auth'])[i % 5 + 1],
       'job::/demo/team' || (i % 20 + 1) || '::app-' || (i % 1200 + 1),
       i % 17 <> 0,
       CASE WHEN i % 9 <> 0 THEN ('192.0.2.' || (i % 254 + 1))::inet END,
       i * 31 % 900 + 3,
       CASE WHEN i % 3 = 0 THEN jsonb_build_object('request_id', md5('req' || i), 'bytes', i * 3) END
FROM generate_series(1, 8000) AS i;
CREATE INDEX audit_log_ts_idx ON audit_log (ts);
CREATE INDEX audit_log_denied_idx ON audit_log (principal_name) WHERE NOT allowed;

CREATE VIEW denied_actions AS
SELECT principal_name, event_type, count(*) AS attempts, max(ts) AS last_attempt
FROM audit_log
WHERE NOT allowed
GROUP BY principal_name, event_type;

COMMENT ON TABLE audit_log IS 'Demo audit log of the demo cluster (continuum-backup fixture)';
COMMIT;
