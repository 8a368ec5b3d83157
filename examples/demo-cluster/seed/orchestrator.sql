-- Demo data for `orchestrator`: the orchestrator's own records (releases, deploys, machines,
-- configuration versions). Deterministic; run: psql -v ON_ERROR_STOP=1 -d orchestrator -f orchestrator.sql
SET client_min_messages = warning;
BEGIN;

DROP VIEW IF EXISTS current_machines;
DROP TABLE IF EXISTS deploy_steps, deploys, machines, config_versions, releases CASCADE;
DROP SEQUENCE IF EXISTS deploy_seq;

CREATE SEQUENCE deploy_seq START 1;

CREATE TABLE releases (
    version     text PRIMARY KEY,
    released_at date NOT NULL,
    bundle_sha  bytea NOT NULL
);
INSERT INTO releases VALUES
    ('2.2.3', date '2023-06-01', sha256('release 2.2.3'::bytea)),
    ('2.4.0', date '2023-11-15', sha256('release 2.4.0'::bytea)),
    ('2.6.1', date '2024-04-20', sha256('release 2.6.1'::bytea));

CREATE TABLE config_versions (
    id          integer PRIMARY KEY,
    cluster     text NOT NULL DEFAULT 'demo',
    sha256      text NOT NULL,
    committed   timestamptz NOT NULL,
    conf        text NOT NULL
);
INSERT INTO config_versions
SELECT i, 'demo', encode(sha256(convert_to('cluster.conf v' || i, 'UTF8')), 'hex'),
       timestamptz '2024-01-01 00:00:00+00' + i * interval '3 days',
       'provisioner { type: generic }  # version ' || i
FROM generate_series(1, 60) AS i;

CREATE TABLE machines (
    uuid        uuid PRIMARY KEY,
    hostname    text NOT NULL,
    address     inet NOT NULL,
    grp         text NOT NULL,
    tags        text[] NOT NULL,
    config_id   integer NOT NULL REFERENCES config_versions (id),
    retired     boolean NOT NULL DEFAULT false
);
INSERT INTO machines
SELECT md5('machine' || i)::uuid,
       (ARRAY['central', 'monitoring', 'im', 'orchestrator'])[i % 4 + 1] || '-' || i,
       ('10.20.' || (i % 4 = 2)::int || '.' || (i % 250 + 4))::inet,
       (ARRAY['central', 'monitoring', 'instance_manager', 'orchestrator'])[i % 4 + 1],
       CASE i % 4
           WHEN 0 THEN ARRAY['component-database', 'auditlog-database', 'api-server']
           WHEN 1 THEN ARRAY['monitoring', 'graphite-server']
           WHEN 2 THEN ARRAY['instance-manager']
           ELSE ARRAY['orchestrator']
       END,
       i % 60 + 1,
       i <= 180
FROM generate_series(1, 200) AS i;

CREATE TABLE deploys (
    id          bigint PRIMARY KEY DEFAULT nextval('deploy_seq'),
    release     text NOT NULL REFERENCES releases (version),
    config_id   integer NOT NULL REFERENCES config_versions (id),
    started_at  timestamptz NOT NULL,
    duration    interval NOT NULL,
    succeeded   boolean NOT NULL,
    operator    text NOT NULL
);
ALTER SEQUENCE deploy_seq OWNED BY deploys.id;
INSERT INTO deploys (release, config_id, started_at, duration, succeeded, operator)
SELECT (ARRAY['2.2.3', '2.4.0', '2.6.1'])[least(i / 100 + 1, 3)],
       i % 60 + 1,
       timestamptz '2023-06-02 00:00:00+00' + i * interval '13 hours',
       (i % 50 + 10) * interval '1 minute',
       i % 9 <> 0,
       'ops' || (i % 4) || '@demo.continuum.example'
FROM generate_series(1, 300) AS i;

CREATE TABLE deploy_steps (
    deploy_id bigint NOT NULL REFERENCES deploys (id) ON DELETE CASCADE,
    step      integer NOT NULL,
    name      text NOT NULL,
    output    text,
    PRIMARY KEY (deploy_id, step)
);
INSERT INTO deploy_steps
SELECT d, s, (ARRAY['plan', 'provision', 'chef', 'verify'])[s % 4 + 1],
       'deploy ' || d || ' step ' || s || ': ok'
FROM generate_series(1, 300) AS d, generate_series(0, 11) AS s;
CREATE INDEX deploys_started_at_idx ON deploys (started_at);

CREATE VIEW current_machines AS
SELECT hostname, address, grp, tags FROM machines WHERE NOT retired;

COMMENT ON TABLE deploys IS 'Demo deploy history of the demo cluster (continuum-backup fixture)';
COMMIT;
