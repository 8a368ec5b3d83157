package continuum

import "fmt"

// Status is the status code of a call of the C ABI: 0 for success, a negative kind of
// failure otherwise. A Status is an error itself, so that an [*Error] matches its status
// with [errors.Is] (see [ErrNotFound] …) and gives it with [errors.As].
type Status int32

// The status codes of continuum.h (ContinuumStatus).
const (
	StatusOK              Status = 0   // success
	StatusInvalidArgument Status = -1  // a malformed call: a NUL byte, JSON that does not parse, an unknown option
	StatusInvalidInput    Status = -2  // the library refused a value: an FQN, a store URL, a set id, a DSN …
	StatusNotFound        Status = -3  // a file, a set, an artifact, a document or an object that does not exist
	StatusConflict        Status = -4  // something exists and would be replaced, or a restore conflicts
	StatusCorrupt         Status = -5  // a digest, a size or a row count differs from the one recorded
	StatusIO              Status = -6  // a file system, store or stream operation failed
	StatusDatabase        Status = -7  // PostgreSQL: the connection, a query, pg_dump, pg_restore, psql
	StatusPolicy          Status = -8  // a policy document with errors ([Error.Diagnostics])
	StatusDecrypt         Status = -9  // encrypted data and no identity, or none that matches
	StatusPanic           Status = -10 // a bug, caught at the library's boundary
	StatusOther           Status = -11 // a failure the library does not classify
)

// The sentinels of each kind of failure: errors.Is(err, continuum.ErrNotFound) holds for an
// [*Error] of that status.
var (
	ErrInvalidArgument error = StatusInvalidArgument
	ErrInvalidInput    error = StatusInvalidInput
	ErrNotFound        error = StatusNotFound
	ErrConflict        error = StatusConflict
	ErrCorrupt         error = StatusCorrupt
	ErrIO              error = StatusIO
	ErrDatabase        error = StatusDatabase
	ErrPolicy          error = StatusPolicy
	ErrDecrypt         error = StatusDecrypt
	ErrPanic           error = StatusPanic
	ErrOther           error = StatusOther
)

var statusKinds = map[Status]string{
	StatusOK:              "ok",
	StatusInvalidArgument: "invalid_argument",
	StatusInvalidInput:    "invalid_input",
	StatusNotFound:        "not_found",
	StatusConflict:        "conflict",
	StatusCorrupt:         "corrupt",
	StatusIO:              "io",
	StatusDatabase:        "database",
	StatusPolicy:          "policy",
	StatusDecrypt:         "decrypt",
	StatusPanic:           "panic",
	StatusOther:           "other",
}

// Kind is the name the library gives the status (`not_found` …); "unknown" for a status this
// binding does not know (a newer library).
func (s Status) Kind() string {
	if kind, ok := statusKinds[s]; ok {
		return kind
	}
	return "unknown"
}

// String gives the kind and the number: `not_found (-3)`.
func (s Status) String() string {
	return fmt.Sprintf("%s (%d)", s.Kind(), int32(s))
}

// Error makes a Status an error, for the sentinels.
func (s Status) Error() string {
	return "continuum: " + s.Kind()
}

// Error is a failed call: what the library said went wrong.
type Error struct {
	// Op names the call that failed, as the C ABI names it without its `continuum_`
	// prefix: `policy_import`, `store_open` …
	Op string
	// Status is the status the call returned.
	Status Status
	// Kind is the library's name of the status (`not_found` …).
	Kind string
	// Message is the library's message: never a password or a key; one line, except that
	// of a policy document with errors, which shows each diagnostic.
	Message string
	// Diagnostics are the findings of a policy document with errors (StatusPolicy), with
	// its warnings; empty otherwise.
	Diagnostics []Diagnostic
}

// Error gives the call and the message: `continuum policy_check: broken.pol has 1 error`.
func (e *Error) Error() string {
	return fmt.Sprintf("continuum %s: %s", e.Op, e.Message)
}

// Unwrap gives the status, so that errors.Is(err, ErrNotFound) and errors.As(err, &status)
// work through wrapping.
func (e *Error) Unwrap() error {
	return e.Status
}

// Diagnostic is a finding in a policy document: an error or a warning at a place.
type Diagnostic struct {
	Severity   string `json:"severity"` // "error" or "warning"
	Message    string `json:"message"`
	File       string `json:"file"`
	Line       int    `json:"line"`   // 1-based
	Column     int    `json:"column"` // 1-based
	SourceLine string `json:"source_line"`
	Width      int    `json:"width"` // characters the caret underlines
	Caret      int    `json:"caret"` // where the caret stands in SourceLine (1-based)
	Help       string `json:"help"`  // a hint, when there is a likely fix
}

// String gives `file:line:column: severity: message`.
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Severity, d.Message)
}
