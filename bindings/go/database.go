package continuum

// #include <stdbool.h>
// #include "continuum.h"
import "C"

import (
	"encoding/json"
	"time"
)

// Seconds is a duration as the library's reports give it: seconds, with a fraction.
type Seconds float64

// Duration gives the seconds as a time.Duration.
func (s Seconds) Duration() time.Duration {
	return time.Duration(float64(s) * float64(time.Second))
}

// ClusterConf is a parsed cluster.conf, every secret (keys, passwords) replaced by a
// placeholder.
type ClusterConf struct {
	File            string            `json:"file"`
	ClusterName     string            `json:"cluster_name"`
	BaseDomain      string            `json:"base_domain"`
	Provisioner     string            `json:"provisioner"`
	MachineGroups   []MachineGroup    `json:"machine_groups"`
	Components      map[string]uint64 `json:"components"` // tag → count
	DatabaseBackups *DatabaseBackups  `json:"database_backups"`
	PackageStore    *PackageStore     `json:"package_store"`
	// Tree is the whole file as JSON, secrets replaced.
	Tree json.RawMessage `json:"tree"`
}

// MachineGroup is a group of hosts of cluster.conf and the components they may run.
type MachineGroup struct {
	Name         string   `json:"name"`
	Hosts        []string `json:"hosts"`
	SuitableTags []string `json:"suitable_tags"`
}

// DatabaseBackups is where cluster.conf sends database backups (keys redacted).
type DatabaseBackups struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
	Region    string `json:"region"`
	Bucket    string `json:"bucket"`
}

// PackageStore is cluster.conf's package store (keys redacted).
type PackageStore struct {
	Kind      string `json:"kind"`
	Bucket    string `json:"bucket"`
	Endpoint  string `json:"endpoint"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// LoadConf reads and parses a cluster.conf. A missing file is [ErrNotFound]; a malformed one
// [ErrInvalidInput] with the line and column in the message.
func LoadConf(path string) (*ClusterConf, error) {
	a := newArgs("conf_load")
	cpath := a.str("path", path)
	var conf ClusterConf
	err := callJSON(a, &conf, func(out **C.char) C.ContinuumStatus {
		return C.continuum_conf_load(cpath, out)
	})
	if err != nil {
		return nil, err
	}
	return &conf, nil
}

// DatabaseInfo is a database of a PostgreSQL server, as `psql -l` lists it.
type DatabaseInfo struct {
	Name              string  `json:"name"`
	Owner             string  `json:"owner"`
	Encoding          string  `json:"encoding"`
	Size              *uint64 `json:"size"` // nil when the size cannot be read
	IsTemplate        bool    `json:"is_template"`
	AllowsConnections bool    `json:"allows_connections"`
}

// ListDatabases gives every database of a PostgreSQL server. dsn is a
// `postgresql://user:password@host:port/database` URL, or "" for the environment's server
// (DATABASE_URL, PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
func ListDatabases(dsn string) ([]DatabaseInfo, error) {
	a := newArgs("db_list_databases")
	cdsn := a.optional("dsn", dsn)
	databases := []DatabaseInfo{}
	err := callJSON(a, &databases, func(out **C.char) C.ContinuumStatus {
		return C.continuum_db_list_databases(cdsn, out)
	})
	if err != nil {
		return nil, err
	}
	return databases, nil
}

// DatabaseBackupOptions say how [Store.BackupDatabases] works; the zero value is the
// defaults.
type DatabaseBackupOptions struct {
	Reason      string `json:"reason,omitempty"` // default manual
	ClusterName string `json:"cluster_name,omitempty"`
	Component   string `json:"component,omitempty"` // default postgresql
	// SkipGlobals leaves the roles and tablespaces out (dumping them needs a superuser).
	SkipGlobals bool `json:"-"`
	ZstdLevel   int  `json:"zstd_level,omitempty"` // 0: the default (3)
	Threads     int  `json:"threads,omitempty"`    // zstd threads; 0: as many as cores
	Parallel    int  `json:"parallel,omitempty"`   // databases at once; 0: the default (4)
}

// MarshalJSON writes the options as continuum_db_backup reads them.
func (o DatabaseBackupOptions) MarshalJSON() ([]byte, error) {
	type plain DatabaseBackupOptions
	return json.Marshal(struct {
		plain
		WithGlobals *bool `json:"with_globals,omitempty"`
	}{plain(o), falseIf(o.SkipGlobals)})
}

// falseIf gives a pointer to false when skip is set, nil (the default) otherwise.
func falseIf(skip bool) *bool {
	if !skip {
		return nil
	}
	no := false
	return &no
}

// BackupDatabases backs up databases of a PostgreSQL server into one new set of the store:
// per database, pg_dump streamed through zstd into `<db>.dump.zst`, with the row count of
// every table; unless SkipGlobals, the roles and tablespaces in `globals.sql.zst`. Any
// failure leaves no set. dsn is as for [ListDatabases]; options may be nil.
func (s *Store) BackupDatabases(dsn string, databases []string, options *DatabaseBackupOptions) (*Manifest, error) {
	a := newArgs("db_backup")
	cdsn := a.optional("dsn", dsn)
	cdatabases := a.json("databases_json", nonNil(databases))
	coptions := a.json("options_json", options)
	var manifest Manifest
	err := s.storeJSON(a, &manifest, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_db_backup(handle, cdsn, cdatabases, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &manifest, nil
}

// DatabaseRestoreOptions say how [Store.RestoreDatabase] works.
type DatabaseRestoreOptions struct {
	// AsName restores into a database of another name.
	AsName string `json:"as_name,omitempty"`
	// Force replaces a target database that holds data (otherwise [ErrConflict]).
	Force bool `json:"force,omitempty"`
	// WithGlobals restores the roles and tablespaces too.
	WithGlobals bool `json:"with_globals,omitempty"`
}

// DatabaseRestorePlan is what [Store.PlanDatabaseRestore] would do.
type DatabaseRestorePlan struct {
	SetID          string            `json:"set_id"`
	Database       string            `json:"database"`
	Artifact       string            `json:"artifact"`
	ArtifactSize   uint64            `json:"artifact_size"`
	ServerVersion  string            `json:"server_version"` // of the server backed up
	TargetDatabase string            `json:"target_database"`
	Action         string            `json:"action"` // create, fill, replace
	Globals        bool              `json:"globals"`
	ExpectedRows   map[string]uint64 `json:"expected_rows"` // `schema.table` → rows
}

// DatabaseRestoreReport is what [Store.RestoreDatabase] did.
type DatabaseRestoreReport struct {
	SetID           string       `json:"set_id"`
	Database        string       `json:"database"`
	TargetDatabase  string       `json:"target_database"`
	Action          string       `json:"action"` // create, fill, replace
	GlobalsRestored bool         `json:"globals_restored"`
	Tables          []TableCheck `json:"tables"`
	TotalRows       uint64       `json:"total_rows"`
}

// TableCheck is the row count of a table, recorded and found after the restore (nil where
// there is none).
type TableCheck struct {
	Table    string  `json:"table"`
	Expected *uint64 `json:"expected"`
	Actual   *uint64 `json:"actual"`
}

// withDryRun is the options of a restore (a pointer to an options struct, maybe nil) and
// dry_run.
type withDryRun struct {
	options any
	dryRun  bool
}

// MarshalJSON writes the options' fields, and dry_run when set.
func (r withDryRun) MarshalJSON() ([]byte, error) {
	fields := map[string]json.RawMessage{}
	if !isNil(r.options) {
		data, err := json.Marshal(r.options)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &fields); err != nil {
			return nil, err
		}
	}
	if r.dryRun {
		fields["dry_run"] = json.RawMessage("true")
	}
	return json.Marshal(fields)
}

// PlanDatabaseRestore plans the restore of one database of a set, and changes nothing. A
// target database that holds data is [ErrConflict] unless Force. dsn is the server restored
// into, as for [ListDatabases]; options may be nil.
func (s *Store) PlanDatabaseRestore(setID, database, dsn string, options *DatabaseRestoreOptions) (*DatabaseRestorePlan, error) {
	var plan DatabaseRestorePlan
	if err := s.restoreDatabase(setID, database, dsn, withDryRun{options, true}, &plan); err != nil {
		return nil, err
	}
	return &plan, nil
}

// RestoreDatabase restores one database of a set: planned (refusing a target database that
// holds data unless Force: [ErrConflict]), applied with pg_restore, then verified by the row
// count of every table (a count that differs is [ErrCorrupt]). dsn is the server restored
// into, as for [ListDatabases]; options may be nil.
func (s *Store) RestoreDatabase(setID, database, dsn string, options *DatabaseRestoreOptions) (*DatabaseRestoreReport, error) {
	var report DatabaseRestoreReport
	if err := s.restoreDatabase(setID, database, dsn, withDryRun{options, false}, &report); err != nil {
		return nil, err
	}
	return &report, nil
}

func (s *Store) restoreDatabase(setID, database, dsn string, options withDryRun, result any) error {
	a := newArgs("db_restore")
	cset := a.str("set_id", setID)
	cdatabase := a.str("database", database)
	cdsn := a.optional("dsn", dsn)
	coptions := a.json("options_json", options)
	return s.storeJSON(a, result, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_db_restore(handle, cset, cdatabase, cdsn, coptions, out)
	})
}
