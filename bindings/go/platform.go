package continuum

// #include <stdbool.h>
// #include "continuum.h"
import "C"

import "encoding/json"

// PlanOptions shape a backup plan.
type PlanOptions struct {
	WithJobData bool              `json:"with_job_data,omitempty"`
	Host        string            `json:"host,omitempty"`      // plan for one host only
	Databases   map[string]string `json:"databases,omitempty"` // component → database name
	Encrypted   bool              `json:"encrypted,omitempty"` // the set will be encrypted
}

// BackupPlan is the backup plan of a cluster: every component, what is backed up, what not
// and why.
type BackupPlan struct {
	ClusterName   string             `json:"cluster_name"`
	Components    []PlannedComponent `json:"components"`
	Placements    []Placement        `json:"placements"`
	MachineGroups []MachineGroup     `json:"machine_groups"`
	Encrypted     bool               `json:"encrypted"`
	Secrets       string             `json:"secrets"` // what happens to cluster.conf's secrets
	Warnings      []string           `json:"warnings"`
}

// PlannedComponent is a component of the plan.
type PlannedComponent struct {
	Component    string            `json:"component"`
	Kind         string            `json:"kind"`
	Coverage     string            `json:"coverage"` // backed_up, optional, not_backed_up
	Reason       string            `json:"reason"`
	Hosts        []string          `json:"hosts"`
	Destinations []string          `json:"destinations"`
	Artifacts    []PlannedArtifact `json:"artifacts"`
}

// PlannedArtifact is an artifact the plan will produce.
type PlannedArtifact struct {
	// Source is where it comes from, as the library describes it (a tagged JSON object).
	Source      json.RawMessage `json:"source"`
	Description string          `json:"description"`
}

// Placement is where a host's database backups go, by the placement rule.
type Placement struct {
	Host      string   `json:"host"`
	Databases []string `json:"databases"`
	KeepLocal bool     `json:"keep_local"`
	UploadS3  bool     `json:"upload_s3"`
	LocalDir  string   `json:"local_dir"`
	Reason    string   `json:"reason"`
}

// Plan makes the backup plan of a cluster from its cluster.conf. options may be nil.
func Plan(config string, options *PlanOptions) (*BackupPlan, error) {
	a := newArgs("platform_plan")
	cconfig := a.str("config", config)
	coptions := a.json("options_json", options)
	var plan BackupPlan
	err := callJSON(a, &plan, func(out **C.char) C.ContinuumStatus {
		return C.continuum_platform_plan(cconfig, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &plan, nil
}

// PlatformBackupOptions say how [Store.BackupPlatform] works; the zero value is the
// defaults.
type PlatformBackupOptions struct {
	Reason      string            `json:"reason,omitempty"` // default manual
	WithJobData bool              `json:"with_job_data,omitempty"`
	Databases   map[string]string `json:"databases,omitempty"` // component → database name
	// SkipGlobals leaves the roles and tablespaces out (dumping them needs a superuser).
	SkipGlobals bool     `json:"-"`
	Parallel    int      `json:"parallel,omitempty"`   // 0: the default (4)
	ZstdLevel   int      `json:"zstd_level,omitempty"` // 0: the default (3)
	EncryptTo   []string `json:"encrypt_to,omitempty"` // age recipients (age1…)
}

// MarshalJSON writes the options as continuum_platform_backup reads them.
func (o PlatformBackupOptions) MarshalJSON() ([]byte, error) {
	type plain PlatformBackupOptions
	return json.Marshal(struct {
		plain
		WithGlobals *bool `json:"with_globals,omitempty"`
	}{plain(o), falseIf(o.SkipGlobals)})
}

// PlatformBackupReport is what [Store.BackupPlatform] did.
type PlatformBackupReport struct {
	SetID           string             `json:"set_id"`
	Store           string             `json:"store"`
	Plan            BackupPlan         `json:"plan"`
	Artifacts       []BackedUpArtifact `json:"artifacts"`
	BytesStored     uint64             `json:"bytes_stored"`
	BytesRead       uint64             `json:"bytes_read"`
	Parallel        int                `json:"parallel"`
	Duration        Seconds            `json:"duration"`
	RedactedSecrets []string           `json:"redacted_secrets"`
	Warnings        []string           `json:"warnings"`
}

// BackedUpArtifact is an artifact of a platform backup.
type BackedUpArtifact struct {
	Name        string  `json:"name"`
	Component   string  `json:"component"`
	Kind        string  `json:"kind"`
	Size        uint64  `json:"size"`
	SourceBytes uint64  `json:"source_bytes"`
	Duration    Seconds `json:"duration"`
}

// BackupPlatform backs up the whole platform into one new set of the store, as the plan made
// from config (cluster.conf) says: the component databases, the roles, the installation
// files, every policy document of clusterDir and, with WithJobData, all job data. Any
// failure leaves no set. dsn is the server of the component databases, as for
// [ListDatabases]; options may be nil.
func (s *Store) BackupPlatform(config, clusterDir, dsn string, options *PlatformBackupOptions) (*PlatformBackupReport, error) {
	a := newArgs("platform_backup")
	cconfig := a.str("config", config)
	ccluster := a.str("cluster_dir", clusterDir)
	cdsn := a.optional("dsn", dsn)
	coptions := a.json("options_json", options)
	var report PlatformBackupReport
	err := s.storeJSON(a, &report, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_platform_backup(handle, cconfig, ccluster, cdsn, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &report, nil
}

// PlatformRestoreOptions say how [Store.RestorePlatform] works; the zero value is the
// defaults.
type PlatformRestoreOptions struct {
	// Only restores these kinds: databases, installation_files, policy, job_data; empty
	// restores everything.
	Only []string `json:"only,omitempty"`
	// Databases renames databases: backed up → restored as.
	Databases map[string]string `json:"databases,omitempty"`
	// Force replaces files that differ and databases that hold data.
	Force bool `json:"force,omitempty"`
	// SkipGlobals leaves the roles and tablespaces alone.
	SkipGlobals bool `json:"-"`
	Parallel    int  `json:"parallel,omitempty"` // 0: the default (4)
	// Identity is an age identity file that opens an encrypted set.
	Identity string `json:"identity,omitempty"`
}

// MarshalJSON writes the options as continuum_platform_restore reads them.
func (o PlatformRestoreOptions) MarshalJSON() ([]byte, error) {
	type plain PlatformRestoreOptions
	return json.Marshal(struct {
		plain
		WithGlobals *bool `json:"with_globals,omitempty"`
	}{plain(o), falseIf(o.SkipGlobals)})
}

// PlatformRestorePlan is what [Store.PlanPlatformRestore] would do.
type PlatformRestorePlan struct {
	SetID       string               `json:"set_id"`
	ClusterName string               `json:"cluster_name"`
	Items       []PlannedRestoreItem `json:"items"`
	Notes       []string             `json:"notes"`
}

// PlannedRestoreItem is an artifact of the set and what the restore would do with it.
type PlannedRestoreItem struct {
	Kind        string `json:"kind"` // databases, installation_files, policy, job_data
	Artifact    string `json:"artifact"`
	Destination string `json:"destination"`
	Action      string `json:"action"` // create, fill, skip, replace, conflict
	Size        uint64 `json:"size"`
	Note        string `json:"note"`
}

// PlatformRestoreReport is what [Store.RestorePlatform] did.
type PlatformRestoreReport struct {
	SetID     string         `json:"set_id"`
	Items     []RestoredItem `json:"items"`
	BytesRead uint64         `json:"bytes_read"`
	Duration  Seconds        `json:"duration"`
	Notes     []string       `json:"notes"`
}

// RestoredItem is an artifact restored, and how it was verified.
type RestoredItem struct {
	Kind        string `json:"kind"`
	Artifact    string `json:"artifact"`
	Destination string `json:"destination"`
	Action      string `json:"action"`
	Verified    string `json:"verified"`
}

// PlanPlatformRestore plans the restore of a platform set into a cluster folder and a
// PostgreSQL server, and changes nothing. dsn is as for [ListDatabases] (read only when
// databases are restored); options may be nil.
func (s *Store) PlanPlatformRestore(setID, clusterDir, dsn string, options *PlatformRestoreOptions) (*PlatformRestorePlan, error) {
	var plan PlatformRestorePlan
	if err := s.restorePlatform(setID, clusterDir, dsn, withDryRun{options, true}, &plan); err != nil {
		return nil, err
	}
	return &plan, nil
}

// RestorePlatform restores a platform set into a cluster folder and a PostgreSQL server:
// planned (files that differ and databases that hold data are conflicts unless Force; a
// plan with conflicts changes nothing and is [ErrConflict]), applied, then verified. dsn is
// as for [ListDatabases] (read only when databases are restored); options may be nil.
func (s *Store) RestorePlatform(setID, clusterDir, dsn string, options *PlatformRestoreOptions) (*PlatformRestoreReport, error) {
	var report PlatformRestoreReport
	if err := s.restorePlatform(setID, clusterDir, dsn, withDryRun{options, false}, &report); err != nil {
		return nil, err
	}
	return &report, nil
}

func (s *Store) restorePlatform(setID, clusterDir, dsn string, options withDryRun, result any) error {
	a := newArgs("platform_restore")
	cset := a.str("set_id", setID)
	ccluster := a.str("cluster_dir", clusterDir)
	cdsn := a.optional("dsn", dsn)
	coptions := a.json("options_json", options)
	return s.storeJSON(a, result, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_platform_restore(handle, cset, ccluster, cdsn, coptions, out)
	})
}
