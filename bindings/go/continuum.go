// Package continuum is the Go binding of continuum-backup: backup stores and sets, policy
// documents, job data (cntmp files), PostgreSQL databases and whole-platform backups,
// over the library's C ABI (bindings/c, libcontinuum_c) with cgo.
//
// Every function that can fail returns an error; a failure of the library is an [*Error]
// holding its [Status], its kind, the library's message and, for a policy document with
// errors, the diagnostics. The sentinels [ErrNotFound], [ErrConflict] … match it with
// [errors.Is]. Results are typed structs decoded from the library's JSON reports; where a
// report is open-ended, its JSON is kept too (Package.JSON, ClusterConf.Tree …).
//
// Strings are UTF-8; an empty optional string (a DSN, a file name) means "not given".
// Options are structs whose zero values are the library's defaults, passed by pointer where
// they are optional (nil is the defaults). A [*Store] may be used by several goroutines at
// once and must be closed with [Store.Close].
//
// Database functions run pg_dump, pg_restore and psql, which must be on the PATH.
package continuum

// #cgo CFLAGS: -I${SRCDIR}/../c/include
// #include <stdlib.h>
// #include <string.h>
// #include "continuum.h"
import "C"

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"
)

// Version is the version of the C library this program runs with ("0.1.0").
func Version() string {
	return C.GoString(C.continuum_version())
}

// args holds the C strings of one call; free releases them. The first argument that cannot
// be converted is remembered and returned by the call instead of calling the library.
type args struct {
	op   string
	ptrs []unsafe.Pointer
	err  error
}

func newArgs(op string) *args {
	return &args{op: op}
}

// str converts a required string. A NUL byte would cut the C string short, so it is refused.
func (a *args) str(name, value string) *C.char {
	if a.err != nil {
		return nil
	}
	if strings.IndexByte(value, 0) >= 0 {
		a.err = argumentError(a.op, fmt.Sprintf("`%s` holds a NUL byte", name))
		return nil
	}
	p := C.CString(value)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p
}

// optional converts an optional string: "" is NULL.
func (a *args) optional(name, value string) *C.char {
	if value == "" {
		return nil
	}
	return a.str(name, value)
}

// json converts a value to JSON text; a nil value is NULL (the library's defaults).
func (a *args) json(name string, value any) *C.char {
	if a.err != nil || isNil(value) {
		return nil
	}
	data, err := json.Marshal(value)
	if err != nil {
		a.err = argumentError(a.op, fmt.Sprintf("`%s`: %v", name, err))
		return nil
	}
	return a.str(name, string(data))
}

func (a *args) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}

// isNil says whether an options value is nil: an untyped nil or a nil pointer.
func isNil(value any) bool {
	if value == nil {
		return true
	}
	v := reflect.ValueOf(value)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// callText calls a function of the C ABI that hands a string out, on one locked OS thread
// with the read of its last error, and returns a copy of the string (freeing the library's).
func callText(a *args, call func(out **C.char) C.ContinuumStatus) (string, error) {
	defer a.free()
	if a.err != nil {
		return "", a.err
	}
	var out *C.char
	runtime.LockOSThread()
	status := call(&out)
	var err error
	if status != C.CONTINUUM_STATUS_OK {
		err = lastError(a.op, Status(status))
	}
	runtime.UnlockOSThread()
	// Free unconditionally: NULL after a failure, which the library accepts.
	defer C.continuum_string_free(out)
	if err != nil {
		return "", err
	}
	if out == nil {
		return "", &Error{Op: a.op, Status: StatusOther, Kind: StatusOther.Kind(),
			Message: "the library returned success and no result"}
	}
	return C.GoString(out), nil
}

// callJSON is callText for a JSON result, decoded into result.
func callJSON(a *args, result any, call func(out **C.char) C.ContinuumStatus) error {
	op := a.op
	text, err := callText(a, call)
	if err != nil {
		return err
	}
	return decode(op, text, result)
}

// strictDecode makes decode refuse fields the result's struct does not have; the tests set
// it, to find what the structs miss when the library's reports grow.
var strictDecode = false

// decode decodes a JSON report of the library.
func decode(op, text string, result any) error {
	decoder := json.NewDecoder(strings.NewReader(text))
	if strictDecode {
		decoder.DisallowUnknownFields()
	}
	if err := decoder.Decode(result); err != nil {
		return &Error{Op: op, Status: StatusOther, Kind: StatusOther.Kind(),
			Message: fmt.Sprintf("cannot decode the library's result: %v", err)}
	}
	return nil
}

// lastError reads the calling thread's last error; the caller holds the thread locked since
// the call that failed.
func lastError(op string, status Status) *Error {
	e := &Error{Op: op, Status: status, Kind: status.Kind()}
	if text := C.continuum_last_error_json(); text != nil {
		var detail struct {
			Kind        string       `json:"kind"`
			Message     string       `json:"message"`
			Diagnostics []Diagnostic `json:"diagnostics"`
		}
		if json.Unmarshal([]byte(C.GoString(text)), &detail) == nil {
			if detail.Kind != "" {
				e.Kind = detail.Kind
			}
			e.Message = detail.Message
			e.Diagnostics = detail.Diagnostics
		}
	}
	if e.Message == "" {
		if text := C.continuum_last_error_message(); text != nil {
			e.Message = C.GoString(text)
		}
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("failed with status %d", int32(status))
	}
	return e
}

func argumentError(op, message string) *Error {
	return &Error{Op: op, Status: StatusInvalidArgument, Kind: StatusInvalidArgument.Kind(),
		Message: message}
}
