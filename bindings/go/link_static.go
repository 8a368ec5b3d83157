//go:build continuum_static

package continuum

// With `-tags continuum_static`: the static library (target/debug/libcontinuum_c.a) linked
// into the Go program, with the system libraries a Rust static library needs on Linux
// (`rustc --print native-static-libs`). The program then needs no libcontinuum_c.so.

// #cgo LDFLAGS: -L${SRCDIR}/../../target/debug -l:libcontinuum_c.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
import "C"
