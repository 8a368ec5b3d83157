package continuum

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Every report must decode into its struct without a field left over.
	strictDecode = true
	rand.Seed(time.Now().UnixNano())
	os.Exit(m.Run())
}

const quotas = "// quotas\non quota::/sandbox {\n    {\n        total.memory 2GB\n        max.instances 10\n    }\n}\n"

// writeFile writes a file, making its folder.
func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// openStore opens a new folder store below t's temporary folder, closed at the end.
func openStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatalf("OpenStore(%s): %v", dir, err)
	}
	t.Cleanup(func() { store.Close() })
	return store, dir
}

// wantError checks that err is an *Error of the status, matching its sentinel, whose message
// holds needle.
func wantError(t *testing.T, err error, sentinel error, needle string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v is not an *Error", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("%v (status %v) is not %v", err, e.Status, sentinel)
	}
	if e.Kind != e.Status.Kind() {
		t.Errorf("kind %q, status %v", e.Kind, e.Status)
	}
	if !strings.Contains(e.Message, needle) {
		t.Errorf("message %q does not mention %q", e.Message, needle)
	}
	if !strings.HasPrefix(err.Error(), "continuum "+e.Op+": ") {
		t.Errorf("Error() = %q", err.Error())
	}
	return e
}

// pgURL is the test server; the tests fail (never skip) without it.
func pgURL(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CONTINUUM_TEST_PG_URL")
	if dsn == "" {
		t.Fatal("CONTINUUM_TEST_PG_URL is not set: run bash bindings/go/run-tests.sh (or scripts/test.sh), " +
			"or start PostgreSQL and set it to postgresql://user@host:port/postgres")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql is not on the PATH")
	}
	return dsn
}

// withDatabase gives the server's URL with another database.
func withDatabase(t *testing.T, dsn, database string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + database
	return u.String()
}

// psql runs SQL on a server and gives its unaligned output.
func psql(t *testing.T, dsn, sql string) string {
	t.Helper()
	cmd := exec.Command("psql", dsn, "-q", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("psql %q: %v: %s", sql, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// uniqueName is a database name no other run uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d_%08x", prefix, os.Getpid(), rand.Uint32())
}

// createDatabase creates a database holding table items with rows rows, dropped at the end
// with every database named in drop.
func createDatabase(t *testing.T, dsn, name string, rows int, drop ...string) {
	t.Helper()
	t.Cleanup(func() {
		for _, db := range append([]string{name}, drop...) {
			cmd := exec.Command("psql", dsn, "-q", "-X", "-c",
				fmt.Sprintf(`DROP DATABASE IF EXISTS "%s" WITH (FORCE)`, db))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("drop %s: %v: %s", db, err, out)
			}
		}
	})
	psql(t, dsn, fmt.Sprintf(`CREATE DATABASE "%s"`, name))
	psql(t, withDatabase(t, dsn, name), fmt.Sprintf(
		"CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL); "+
			"INSERT INTO items (label) SELECT 'item-' || i FROM generate_series(1, %d) i", rows))
}

// cli is the Rust command line, target/debug/continuum-backup unless CONTINUUM_CLI names it.
func cli(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CONTINUUM_CLI")
	if path == "" {
		path = filepath.Join("..", "..", "target", "debug", "continuum-backup")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("the continuum-backup command is missing (%v): cargo build -p continuum-cli, or set CONTINUUM_CLI", err)
	}
	return abs
}

// runCLI runs the command line and gives its standard output; it must exit 0.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(cli(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("continuum-backup %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
