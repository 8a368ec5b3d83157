package continuum

// #include <stdbool.h>
// #include "continuum.h"
import "C"

import "encoding/json"

// PackageOptions describe a package made by [PackageFromFiles].
type PackageOptions struct {
	Name      string            `json:"name"`                // required
	Namespace string            `json:"namespace,omitempty"` // default /apcera/pkg/packages
	Provides  []string          `json:"provides,omitempty"`  // TYPE.NAME: runtime.go, os.linux …
	Depends   []string          `json:"depends,omitempty"`   // TYPE.NAME
	Env       map[string]string `json:"env,omitempty"`
}

// Package is a package in the platform API's shape. JSON holds the whole object, with the
// fields the struct does not model (the API's shape is open: `state`, `created_at` …).
type Package struct {
	FQN          string            `json:"fqn"`
	UUID         string            `json:"uuid"`
	Name         string            `json:"name"`
	Resources    []PackageResource `json:"resources"`
	Dependencies []Dependency      `json:"dependencies"`
	Provides     []Dependency      `json:"provides"`
	Environment  map[string]string `json:"environment"`
	Tags         map[string]string `json:"tags"`
	JSON         json.RawMessage   `json:"-"`
}

// PackageResource is one layer of a package.
type PackageResource struct {
	UUID   string `json:"uuid"`
	Digest string `json:"digest"` // sha256:<hex>
	Length uint64 `json:"length"`
}

// Dependency is what a package needs or provides (`runtime.go`).
type Dependency struct {
	Type string `json:"type"` // os, package, file, runtime
	Name string `json:"name"`
}

// PackageFromFiles stores a package whose layers (resources) are the files, in order, in the
// job data of a cluster folder. A package that exists is [ErrConflict].
func PackageFromFiles(clusterDir string, files []string, options PackageOptions) (*Package, error) {
	a := newArgs("cntmp_package_from_files")
	ccluster := a.str("cluster_dir", clusterDir)
	cfiles := a.json("files_json", nonNil(files))
	coptions := a.json("options_json", options)
	var raw json.RawMessage
	err := callJSON(a, &raw, func(out **C.char) C.ContinuumStatus {
		return C.continuum_cntmp_package_from_files(ccluster, cfiles, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	var pkg Package
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return nil, &Error{Op: "cntmp_package_from_files", Status: StatusOther, Kind: StatusOther.Kind(),
			Message: "cannot decode the library's result: " + err.Error()}
	}
	pkg.JSON = raw
	return &pkg, nil
}

// ListJobObjects gives the FQNs of the job-data objects of a cluster folder, sorted; kind is
// package, job, stagpipe, service, provider or binding, or "" for every kind.
func ListJobObjects(clusterDir, kind string) ([]string, error) {
	a := newArgs("cntmp_list_objects")
	ccluster := a.str("cluster_dir", clusterDir)
	ckind := a.optional("kind", kind)
	fqns := []string{}
	err := callJSON(a, &fqns, func(out **C.char) C.ContinuumStatus {
		return C.continuum_cntmp_list_objects(ccluster, ckind, out)
	})
	if err != nil {
		return nil, err
	}
	return fqns, nil
}

// Selection chooses the job data [ExportCntmp] writes: packages by FQN or name (`*` matches
// any text), jobs and staging pipelines by FQN or name, or All. Selecting nothing is
// [ErrInvalidInput].
type Selection struct {
	Packages         []string `json:"packages,omitempty"`
	Jobs             []string `json:"jobs,omitempty"`
	Pipelines        []string `json:"pipelines,omitempty"`
	All              bool     `json:"all,omitempty"`
	WithDependencies bool     `json:"with_dependencies,omitempty"`
}

// CntmpExportReport is what [ExportCntmp] wrote.
type CntmpExportReport struct {
	File          string   `json:"file"`
	Objects       []string `json:"objects"` // FQNs
	Resources     int      `json:"resources"`
	ResourceBytes uint64   `json:"resource_bytes"`
	Notes         []string `json:"notes"`
}

// ExportCntmp exports job data of a cluster folder into one cntmp file; force replaces the
// file when it exists (otherwise [ErrConflict]).
func ExportCntmp(clusterDir string, selection Selection, outFile string, force bool) (*CntmpExportReport, error) {
	a := newArgs("cntmp_export")
	ccluster := a.str("cluster_dir", clusterDir)
	cselection := a.json("selection_json", selection)
	cfile := a.str("out_file", outFile)
	cforce := C.bool(force)
	var report CntmpExportReport
	err := callJSON(a, &report, func(out **C.char) C.ContinuumStatus {
		return C.continuum_cntmp_export(ccluster, cselection, cfile, cforce, out)
	})
	if err != nil {
		return nil, err
	}
	return &report, nil
}

// CntmpImportOptions say how [ImportCntmp] works.
type CntmpImportOptions struct {
	// SkipExisting leaves objects that exist alone; without it they are [ErrConflict].
	SkipExisting bool `json:"skip_existing,omitempty"`
	// OverrideNamespace imports every object into this namespace (/acme).
	OverrideNamespace string `json:"override_namespace,omitempty"`
	// DryRun plans, reads and checks everything, and stores nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// CntmpImportReport is what [ImportCntmp] did (or would do, in a dry run).
type CntmpImportReport struct {
	DryRun          bool             `json:"dry_run"`
	Objects         []ImportedObject `json:"objects"`
	ResourcesStored int              `json:"resources_stored"`
	BytesChecked    uint64           `json:"bytes_checked"`
	Notes           []string         `json:"notes"`
}

// ImportedObject is one object imported.
type ImportedObject struct {
	Kind      string `json:"kind"`
	FQN       string `json:"fqn"`        // as stored
	SourceFQN string `json:"source_fqn"` // as in the file
	File      string `json:"file"`
	Action    string `json:"action"`
}

// ImportCntmp imports cntmp files into the job data of a cluster folder, all or nothing:
// every file is opened, planned and every resource read and checked before anything is
// stored. options may be nil.
func ImportCntmp(clusterDir string, files []string, options *CntmpImportOptions) (*CntmpImportReport, error) {
	a := newArgs("cntmp_import")
	ccluster := a.str("cluster_dir", clusterDir)
	cfiles := a.json("files_json", nonNil(files))
	coptions := a.json("options_json", options)
	var report CntmpImportReport
	err := callJSON(a, &report, func(out **C.char) C.ContinuumStatus {
		return C.continuum_cntmp_import(ccluster, cfiles, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &report, nil
}

// CntmpInfo is what a cntmp file holds.
type CntmpInfo struct {
	File string `json:"file"`
	// Legacy is true for a file made by the platform's own tool (no manifest); then
	// FormatVersion is 0 and Producer "".
	Legacy        bool          `json:"legacy"`
	FormatVersion int           `json:"format_version"`
	Producer      string        `json:"producer"`
	Objects       []CntmpObject `json:"objects"`
	Entries       []CntmpEntry  `json:"entries"`
	Notes         []string      `json:"notes"`
}

// CntmpObject is an object of a cntmp file.
type CntmpObject struct {
	Kind      string          `json:"kind"`
	FQN       string          `json:"fqn"`
	Resources []CntmpResource `json:"resources"`
}

// CntmpResource is a resource of a cntmp file.
type CntmpResource struct {
	Entry       string `json:"entry"` // PACKAGE_RESOURCE_0001.tar.gz
	SHA256      string `json:"sha256"`
	Length      uint64 `json:"length"`
	Compression string `json:"compression"`
}

// CntmpEntry is a ZIP entry of a cntmp file.
type CntmpEntry struct {
	Name   string `json:"name"`
	Size   uint64 `json:"size"`
	Method string `json:"method"`
}

// InspectCntmp says what a cntmp file holds, without importing it. A missing file is
// [ErrNotFound]; a file that is not a cntmp [ErrInvalidInput].
func InspectCntmp(file string) (*CntmpInfo, error) {
	a := newArgs("cntmp_inspect")
	cfile := a.str("file", file)
	var info CntmpInfo
	err := callJSON(a, &info, func(out **C.char) C.ContinuumStatus {
		return C.continuum_cntmp_inspect(cfile, out)
	})
	if err != nil {
		return nil, err
	}
	return &info, nil
}

// VerifyCntmp reads every resource of a cntmp file and checks it against its recorded
// SHA-256 and length, and gives the bytes checked. Damage is [ErrCorrupt].
func VerifyCntmp(file string) (uint64, error) {
	a := newArgs("cntmp_verify")
	cfile := a.str("file", file)
	var report struct {
		File         string `json:"file"`
		BytesChecked uint64 `json:"bytes_checked"`
	}
	err := callJSON(a, &report, func(out **C.char) C.ContinuumStatus {
		return C.continuum_cntmp_verify(cfile, out)
	})
	return report.BytesChecked, err
}
