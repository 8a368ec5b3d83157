//go:build !continuum_static

package continuum

// The default: the shared library of a debug build of the workspace
// (target/debug/libcontinuum_c.so, `cargo build -p continuum-c`), found at run time through
// the rpath. Another build (a release build, CARGO_TARGET_DIR) is linked by adding its
// folder in front with CGO_LDFLAGS: `-L DIR -Wl,-rpath,DIR`.

// #cgo LDFLAGS: -L${SRCDIR}/../../target/debug -lcontinuum_c -Wl,-rpath,${SRCDIR}/../../target/debug
import "C"
