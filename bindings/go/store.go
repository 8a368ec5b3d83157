package continuum

// #include <stdbool.h>
// #include "continuum.h"
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"
)

// Store is an open backup store: a folder or an S3 bucket. It may be used by several
// goroutines at once. Close it when done; a finalizer closes a Store that is forgotten, but
// only when the garbage collector gets to it.
type Store struct {
	mu  sync.RWMutex // held for reading by every call, for writing by Close
	ptr *C.ContinuumStore
}

// StoreOptions are the S3 settings of [OpenStore]; what is left empty comes from the AWS_*
// environment variables. A folder store needs none.
type StoreOptions struct {
	Endpoint        string `json:"endpoint,omitempty"` // http://127.0.0.1:9000
	Region          string `json:"region,omitempty"`
	PathStyle       bool   `json:"path_style,omitempty"`
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
}

// OpenStore opens the store a URL names: a folder path, `file:///…`, or
// `s3://bucket/prefix` (never with credentials in it). options may be nil.
func OpenStore(url string, options *StoreOptions) (*Store, error) {
	a := newArgs("store_open")
	curl := a.str("url", url)
	coptions := a.json("options_json", options)
	defer a.free()
	if a.err != nil {
		return nil, a.err
	}
	var handle *C.ContinuumStore
	runtime.LockOSThread()
	status := C.continuum_store_open(curl, coptions, &handle)
	var err error
	if status != C.CONTINUUM_STATUS_OK {
		err = lastError(a.op, Status(status))
	}
	runtime.UnlockOSThread()
	if err != nil {
		C.continuum_store_free(handle) // NULL after a failure; freeing it is safe
		return nil, err
	}
	store := &Store{ptr: handle}
	runtime.SetFinalizer(store, (*Store).Close)
	return store, nil
}

// Close frees the store's handle, once every call using it has returned. Calls on a closed
// store fail with [ErrInvalidArgument]; closing it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.continuum_store_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

// use runs a call with the store's handle, which Close cannot free meanwhile.
func (s *Store) use(a *args, call func(handle *C.ContinuumStore) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ptr == nil {
		a.free()
		return argumentError(a.op, "the store is closed")
	}
	return call(s.ptr)
}

// storeJSON calls a function of the C ABI with the store's handle and decodes its JSON result.
func (s *Store) storeJSON(a *args, result any, call func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus) error {
	return s.use(a, func(handle *C.ContinuumStore) error {
		return callJSON(a, result, func(out **C.char) C.ContinuumStatus {
			return call(handle, out)
		})
	})
}

// URL is the store's URL, as the library writes it in reports.
func (s *Store) URL() (string, error) {
	a := newArgs("store_url")
	var url string
	err := s.use(a, func(handle *C.ContinuumStore) error {
		var err error
		url, err = callText(a, func(out **C.char) C.ContinuumStatus {
			return C.continuum_store_url(handle, out)
		})
		return err
	})
	return url, err
}

// Manifest is the manifest of a backup set (docs/schemas/manifest.schema.json).
type Manifest struct {
	FormatVersion int        `json:"format_version"`
	SetID         string     `json:"set_id"`
	CreatedAt     time.Time  `json:"created_at"`
	Producer      string     `json:"producer"` // continuum-backup <version>
	ClusterName   string     `json:"cluster_name"`
	Reason        string     `json:"reason"` // daily, deploy, manual, migration
	Artifacts     []Artifact `json:"artifacts"`
	// Catalog refers to the encrypted catalog of an encrypted set; null for a set in clear.
	Catalog json.RawMessage `json:"catalog,omitempty"`
}

// Artifact is one artifact of a backup set.
type Artifact struct {
	Kind        string          `json:"kind"`      // cluster, policy, job, log
	Component   string          `json:"component"` // component-database, installation-files …
	Name        string          `json:"name"`
	Path        string          `json:"path"`        // inside the set
	Size        uint64          `json:"size"`        // as stored
	SHA256      string          `json:"sha256"`      // sha256:<hex>
	Compression string          `json:"compression"` // none, gzip, bzip2, zstd
	CreatedAt   time.Time       `json:"created_at"`
	Details     ArtifactDetails `json:"details"`
	Encryption  Encryption      `json:"encryption"`
	// Plaintext is the size and SHA-256 of an encrypted artifact's plaintext, in the
	// encrypted catalog only.
	Plaintext *Plaintext `json:"plaintext,omitempty"`
}

// ArtifactDetails are the kind-specific details of an artifact; Type says which fields hold.
type ArtifactDetails struct {
	Type          string            `json:"type"`           // none, file, database, job, policy
	Source        string            `json:"source"`         // file: the file it was read from
	Database      string            `json:"database"`       // database
	RowCounts     map[string]uint64 `json:"row_counts"`     // database: `schema.table` → rows
	ServerVersion string            `json:"server_version"` // database
	FQNs          []string          `json:"fqns"`           // job
	Documents     []string          `json:"documents"`      // policy
}

// Encryption says how an artifact's stored bytes are encrypted.
type Encryption struct {
	Scheme     string   `json:"scheme"` // none, age
	Recipients []string `json:"recipients,omitempty"`
}

// Plaintext is the size and SHA-256 of an encrypted artifact's plaintext.
type Plaintext struct {
	Size   uint64 `json:"size"`
	SHA256 string `json:"sha256"`
}

// ListSets gives every committed backup set of the store, newest first.
func (s *Store) ListSets() ([]Manifest, error) {
	a := newArgs("store_list_sets")
	var sets []Manifest
	err := s.storeJSON(a, &sets, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_store_list_sets(handle, out)
	})
	return sets, err
}

// VerifyReport is what [Store.VerifySet] found.
type VerifyReport struct {
	SetID        string          `json:"set_id"`
	OK           bool            `json:"ok"` // every artifact checked out
	BytesChecked uint64          `json:"bytes_checked"`
	Artifacts    []ArtifactCheck `json:"artifacts"`
	// Catalog is the check of an encrypted set's catalog; nil for a set in clear.
	Catalog           *ArtifactCheck `json:"catalog,omitempty"`
	UnexpectedObjects []string       `json:"unexpected_objects"`
}

// ArtifactCheck is the outcome for one artifact.
type ArtifactCheck struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Status is ok, missing, size_mismatch, digest_mismatch or read_error.
	Status string `json:"status"`
	// Expected and Actual are the sizes or digests that differ (a number or a string).
	Expected json.RawMessage `json:"expected,omitempty"`
	Actual   json.RawMessage `json:"actual,omitempty"`
	// Message says why a read_error could not be read.
	Message string `json:"message,omitempty"`
}

// VerifySet reads every artifact of a set and checks its size and SHA-256. Damage is a report
// with OK false and a nil error; a set that does not exist is [ErrNotFound].
func (s *Store) VerifySet(setID string) (*VerifyReport, error) {
	a := newArgs("store_verify_set")
	cset := a.str("set_id", setID)
	var report VerifyReport
	err := s.storeJSON(a, &report, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_store_verify_set(handle, cset, out)
	})
	if err != nil {
		return nil, err
	}
	return &report, nil
}

// PruneOptions are a retention policy (at least one rule must keep something) and how to
// apply it.
type PruneOptions struct {
	KeepLast    uint32 `json:"keep_last,omitempty"`
	KeepDaily   uint32 `json:"keep_daily,omitempty"`
	KeepWeekly  uint32 `json:"keep_weekly,omitempty"`
	KeepMonthly uint32 `json:"keep_monthly,omitempty"`
	MinKeep     uint32 `json:"min_keep,omitempty"`
	DryRun      bool   `json:"dry_run,omitempty"`
	// IncompleteGrace is how old an incomplete set must be to be removed; 0 is the
	// library's default (1 h). Whole seconds.
	IncompleteGrace time.Duration `json:"-"`
	// Reason limits the policy to the sets of that reason.
	Reason string `json:"reason,omitempty"`
}

// MarshalJSON writes the options as continuum_store_prune reads them.
func (o PruneOptions) MarshalJSON() ([]byte, error) {
	type plain PruneOptions
	var grace *uint64
	if o.IncompleteGrace > 0 {
		seconds := uint64(o.IncompleteGrace / time.Second)
		grace = &seconds
	}
	return json.Marshal(struct {
		plain
		IncompleteGraceSeconds *uint64 `json:"incomplete_grace_seconds,omitempty"`
	}{plain(o), grace})
}

// PruneReport is what [Store.Prune] decided and did.
type PruneReport struct {
	DryRun             bool                `json:"dry_run"`
	Decisions          []PruneDecision     `json:"decisions"` // per committed set, newest first
	Leftovers          []LeftoverDecision  `json:"leftovers"` // incomplete and unreadable sets
	Temporaries        []TemporaryDecision `json:"temporaries"`
	StaleLeases        []string            `json:"stale_leases"` // lease objects left in committed sets
	RemovedObjects     uint64              `json:"removed_objects"`
	RemovedTemporaries uint64              `json:"removed_temporaries"`
	RemovedBytes       uint64              `json:"removed_bytes"`
}

// PruneDecision is the decision for one committed set.
type PruneDecision struct {
	SetID     string    `json:"set_id"`
	CreatedAt time.Time `json:"created_at"`
	Keep      bool      `json:"keep"`
	Reasons   []string  `json:"reasons"`
}

// LeftoverDecision is the decision for an incomplete or unreadable set.
type LeftoverDecision struct {
	SetID   string `json:"set_id"`
	Objects int    `json:"objects"`
	Remove  bool   `json:"remove"`
	Reason  string `json:"reason"`
	// Lease is the set's lease when it has one ({"state": "live"|"changing"|"expired", …}):
	// a live one is why an incomplete set is kept.
	Lease json.RawMessage `json:"lease,omitempty"`
}

// TemporaryDecision is the decision for what a killed writer left.
type TemporaryDecision struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Size   uint64 `json:"size"`
	Remove bool   `json:"remove"`
	Reason string `json:"reason"`
}

// Prune removes the sets the retention policy does not keep, and incomplete sets older than
// the grace period. A policy that keeps nothing is [ErrInvalidInput].
func (s *Store) Prune(options PruneOptions) (*PruneReport, error) {
	a := newArgs("store_prune")
	coptions := a.json("options_json", options)
	var report PruneReport
	err := s.storeJSON(a, &report, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_store_prune(handle, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &report, nil
}

// SetOptions describe a set made by [Store.CreateSet]; the zero value is the defaults.
type SetOptions struct {
	Kind        string   `json:"kind,omitempty"`      // cluster (default), policy, job, log
	Component   string   `json:"component,omitempty"` // default "files"
	Reason      string   `json:"reason,omitempty"`    // daily, deploy, manual (default), migration
	ClusterName string   `json:"cluster_name,omitempty"`
	EncryptTo   []string `json:"encrypt_to,omitempty"` // age recipients (age1…)
}

// CreateSet makes a new backup set of files, one artifact each, and commits it (manifest
// last). options may be nil. A file that does not exist is [ErrNotFound].
func (s *Store) CreateSet(paths []string, options *SetOptions) (*Manifest, error) {
	a := newArgs("sets_create_from_files")
	cpaths := a.json("paths_json", nonNil(paths))
	coptions := a.json("options_json", options)
	var manifest Manifest
	err := s.storeJSON(a, &manifest, func(handle *C.ContinuumStore, out **C.char) C.ContinuumStatus {
		return C.continuum_sets_create_from_files(handle, cpaths, coptions, out)
	})
	if err != nil {
		return nil, err
	}
	return &manifest, nil
}

// nonNil makes a nil slice an empty one, so that it is JSON `[]`, not `null`.
func nonNil(values []string) []string {
	if values == nil {
		return []string{}
	}
	return values
}
