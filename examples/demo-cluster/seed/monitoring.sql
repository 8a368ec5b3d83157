-- Demo data for `monitoring`: a Zabbix-like monitoring database (hosts, items, history, trends).
-- Deterministic; run: psql -v ON_ERROR_STOP=1 -d monitoring -f monitoring.sql
SET client_min_messages = warning;
BEGIN;

DROP VIEW IF EXISTS latest_values;
DROP TABLE IF EXISTS trends, history, items, hosts CASCADE;
DROP SEQUENCE IF EXISTS itemid_seq;

CREATE SEQUENCE itemid_seq START 10001;

CREATE TABLE hosts (
    hostid  integer PRIMARY KEY,
    host    text NOT NULL UNIQUE,
    ip      inet NOT NULL,
    grp     text NOT NULL,
    status  smallint NOT NULL DEFAULT 0
);
INSERT INTO hosts VALUES
    (1, 'central-0', '10.20.0.11', 'central', 0),
    (2, 'central-1', '10.20.0.12', 'central', 0),
    (3, 'monitoring-0', '10.20.0.21', 'monitoring', 0),
    (4, 'im-0', '10.20.1.11', 'instance_manager', 0),
    (5, 'im-1', '10.20.1.12', 'instance_manager', 0),
    (6, 'im-2', '10.20.1.13', 'instance_manager', 1),
    (7, 'orchestrator', '10.20.0.5', 'orchestrator', 0);

CREATE TABLE items (
    itemid     bigint PRIMARY KEY DEFAULT nextval('itemid_seq'),
    hostid     integer NOT NULL REFERENCES hosts (hostid),
    key_       text NOT NULL,
    units      text NOT NULL,
    delay_s    integer NOT NULL,
    UNIQUE (hostid, key_)
);
INSERT INTO items (hostid, key_, units, delay_s)
SELECT h.hostid, k.key_, k.units, k.delay_s
FROM hosts h
CROSS JOIN (VALUES ('system.cpu.load[all,avg1]', '', 60),
                   ('vm.memory.size[available]', 'B', 60),
                   ('vfs.fs.size[/,pfree]', '%', 300),
                   ('net.if.in[eth0]', 'bps', 60)) AS k (key_, units, delay_s)
ORDER BY h.hostid, k.key_;

CREATE TABLE history (
    itemid bigint NOT NULL REFERENCES items (itemid),
    clock  integer NOT NULL,
    value  double precision NOT NULL,
    ns     integer NOT NULL DEFAULT 0
);
INSERT INTO history (itemid, clock, value, ns)
SELECT 10001 + i % 28,
       1714521600 + (i / 28) * 60,
       round((sin(i / 50.0) * 40 + 50 + (i % 7))::numeric, 3)::double precision,
       (i * 7919) % 1000000000
FROM generate_series(0, 5599) AS i;
CREATE INDEX history_itemid_clock_idx ON history (itemid, clock);

CREATE TABLE trends (
    itemid    bigint NOT NULL REFERENCES items (itemid),
    clock     integer NOT NULL,
    num       integer NOT NULL,
    value_min numeric(16, 4) NOT NULL,
    value_avg numeric(16, 4) NOT NULL,
    value_max numeric(16, 4) NOT NULL,
    PRIMARY KEY (itemid, clock)
);
INSERT INTO trends
SELECT itemid, clock / 3600 * 3600, count(*), min(value)::numeric, avg(value)::numeric(16, 4),
       max(value)::numeric
FROM history
GROUP BY itemid, clock / 3600 * 3600;

CREATE VIEW latest_values AS
SELECT DISTINCT ON (h.itemid) hs.host, i.key_, h.value, to_timestamp(h.clock) AS at
FROM history h
JOIN items i USING (itemid)
JOIN hosts hs USING (hostid)
ORDER BY h.itemid, h.clock DESC;

COMMENT ON TABLE history IS 'Demo metrics of the demo cluster (continuum-backup fixture)';
COMMIT;
