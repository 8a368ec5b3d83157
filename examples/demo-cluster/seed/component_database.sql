-- Demo data for `component_database`: the platform components' state (namespaces, packages,
-- jobs, their instances, the auth server's users). Deterministic: the same rows every run.
-- Run: psql -v ON_ERROR_STOP=1 -d component_database -f component_database.sql (re-runnable).
SET client_min_messages = warning;
BEGIN;

DROP VIEW IF EXISTS job_summary;
DROP TABLE IF EXISTS job_instances, jobs, packages, namespaces, auth_users CASCADE;
DROP SEQUENCE IF EXISTS job_version_seq;
DROP TYPE IF EXISTS job_state;

CREATE TYPE job_state AS ENUM ('created', 'ready', 'started', 'stopped', 'errored');
CREATE SEQUENCE job_version_seq START 1000 INCREMENT 1;

CREATE TABLE namespaces (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);
INSERT INTO namespaces (path, created_at)
SELECT '/demo/team' || i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 day'
FROM generate_series(1, 20) AS i;

CREATE TABLE packages (
    uuid         uuid PRIMARY KEY,
    fqn          text NOT NULL UNIQUE,
    namespace_id integer NOT NULL REFERENCES namespaces (id),
    size_bytes   bigint NOT NULL,
    sha256       bytea NOT NULL,
    provides     text[] NOT NULL DEFAULT '{}',
    environment  jsonb NOT NULL DEFAULT '{}',
    ready        boolean NOT NULL
);
INSERT INTO packages
SELECT md5('package' || i)::uuid,
       'package::/demo/team' || (i % 20 + 1) || '::pkg-' || i || '-1.0.' || (i % 7),
       i % 20 + 1,
       1024 * (i * 37 % 5000 + 1),
       sha256(convert_to('package ' || i, 'UTF8')),
       ARRAY['package.pkg-' || i, 'runtime.demo-shell'],
       jsonb_build_object('PKG', i, 'TIER', CASE WHEN i % 3 = 0 THEN 'back' ELSE 'front' END),
       i % 11 <> 0
FROM generate_series(1, 500) AS i;

CREATE TABLE jobs (
    uuid        uuid PRIMARY KEY,
    fqn         text NOT NULL UNIQUE,
    state       job_state NOT NULL,
    version_id  bigint NOT NULL DEFAULT nextval('job_version_seq'),
    cpu_ms      integer NOT NULL,
    memory_mb   integer NOT NULL,
    weight      numeric(5, 2) NOT NULL,
    package_ids uuid[] NOT NULL,
    tags        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL
);
INSERT INTO jobs (uuid, fqn, state, cpu_ms, memory_mb, weight, package_ids, tags, updated_at)
SELECT md5('job' || i)::uuid,
       'job::/demo/team' || (i % 20 + 1) || '::app-' || i,
       (ARRAY['created', 'ready', 'started', 'started', 'stopped', 'errored']::job_state[])[i % 6 + 1],
       100 * (i % 8 + 1),
       128 * (i % 4 + 1),
       round((i % 100) / 100.0, 2),
       ARRAY[md5('package' || (i % 500 + 1))::uuid, md5('package' || ((i * 7) % 500 + 1))::uuid],
       jsonb_build_object('tier', CASE WHEN i % 2 = 0 THEN 'front' ELSE 'back' END, 'n', i),
       timestamptz '2024-03-01 00:00:00+00' + i * interval '17 minutes'
FROM generate_series(1, 1200) AS i;

CREATE TABLE job_instances (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_uuid   uuid NOT NULL REFERENCES jobs (uuid) ON DELETE CASCADE,
    host       inet NOT NULL,
    port       integer NOT NULL,
    started_at timestamptz NOT NULL,
    exit_code  smallint,
    log_tail   text
);
INSERT INTO job_instances (job_uuid, host, port, started_at, exit_code, log_tail)
SELECT md5('job' || (i % 1200 + 1))::uuid,
       ('10.20.1.' || (11 + i % 3))::inet,
       20000 + i % 10000,
       timestamptz '2024-03-02 00:00:00+00' + i * interval '1 minute',
       CASE WHEN i % 13 = 0 THEN 1 WHEN i % 5 = 0 THEN 0 END,
       'instance ' || i || E' log line\nsecond line with ''quotes'' and ünïcode'
FROM generate_series(1, 5000) AS i;
CREATE INDEX job_instances_job_uuid_idx ON job_instances (job_uuid);
CREATE INDEX jobs_tags_idx ON jobs USING gin (tags);

CREATE TABLE auth_users (
    name       text PRIMARY KEY,
    provider   text NOT NULL CHECK (provider IN ('google', 'ldap', 'basic')),
    roles      text[] NOT NULL,
    last_login timestamptz
);
INSERT INTO auth_users
SELECT 'user' || i || '@demo.continuum.example',
       (ARRAY['google', 'ldap', 'basic'])[i % 3 + 1],
       CASE WHEN i % 10 = 0 THEN ARRAY['admin'] ELSE ARRAY['developer', 'viewer'] END,
       CASE WHEN i % 4 <> 0 THEN timestamptz '2024-04-01 00:00:00+00' + i * interval '1 hour' END
FROM generate_series(1, 300) AS i;

CREATE VIEW job_summary AS
SELECT n.path AS namespace, j.state, count(*) AS jobs, sum(j.memory_mb) AS memory_mb
FROM jobs j
JOIN namespaces n ON j.fqn LIKE 'job::' || n.path || '::%'
GROUP BY n.path, j.state;

COMMENT ON TABLE jobs IS 'Demo jobs of the demo cluster (continuum-backup fixture)';
COMMIT;
