package continuum

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// decodeCLI decodes the JSON the command line printed into a Go type of this package.
func decodeCLI(t *testing.T, text string, v any) {
	t.Helper()
	if err := decode("cli", text, v); err != nil {
		t.Fatalf("%v:\n%s", err, text)
	}
}

// What Go writes, the Rust command line reads: a backup set, a cntmp file, policy files.
func TestCrossLanguageGoWritesRustReads(t *testing.T) {
	root := t.TempDir()
	store, storeDir := openStore(t)
	conf := writeFile(t, filepath.Join(root, "cluster.conf"), clusterConf)

	manifest, err := store.CreateSet([]string{conf}, &SetOptions{Reason: "migration", ClusterName: "from-go"})
	if err != nil {
		t.Fatal(err)
	}
	var verified []VerifyReport
	decodeCLI(t, runCLI(t, "sets", "verify", storeDir, manifest.SetID, "--json"), &verified)
	if len(verified) != 1 || !verified[0].OK || verified[0].SetID != manifest.SetID {
		t.Fatalf("the CLI's verify of a set Go wrote: %+v", verified)
	}
	var listed struct {
		Sets       []Manifest        `json:"sets"`
		Incomplete []json.RawMessage `json:"incomplete"`
		Unreadable []json.RawMessage `json:"unreadable"`
	}
	decodeCLI(t, runCLI(t, "sets", "list", storeDir, "--json"), &listed)
	if len(listed.Sets) != 1 || !reflect.DeepEqual(listed.Sets[0], *manifest) {
		t.Fatalf("the CLI lists\n%+v\nGo wrote\n%+v", listed.Sets, *manifest)
	}

	// A cntmp file Go exported: the CLI verifies, inspects and imports it.
	from := filepath.Join(root, "from")
	layer := writeFile(t, filepath.Join(root, "layer.tar.gz"), "a layer written by Go")
	if _, err := PackageFromFiles(from, []string{layer}, PackageOptions{Name: "gotool", Provides: []string{"runtime.go"}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "go.cntmp")
	if _, err := ExportCntmp(from, Selection{All: true}, file, false); err != nil {
		t.Fatal(err)
	}
	if out := runCLI(t, "cntmp", "verify", file); !strings.Contains(out, "ok") {
		t.Fatalf("cntmp verify: %s", out)
	}
	goInfo, err := InspectCntmp(file)
	if err != nil {
		t.Fatal(err)
	}
	var rustInfo CntmpInfo
	decodeCLI(t, runCLI(t, "cntmp", "inspect", file, "--json"), &rustInfo)
	if !reflect.DeepEqual(rustInfo, *goInfo) {
		t.Fatalf("the CLI inspects\n%+v\nGo inspects\n%+v", rustInfo, *goInfo)
	}
	other := filepath.Join(root, "other")
	runCLI(t, "import", file, "--cluster", other, "--override", "/acme")
	objects, err := ListJobObjects(other, "")
	if err != nil || len(objects) != 1 || objects[0] != "package::/acme::gotool" {
		t.Fatalf("Go lists %v (%v) in what the CLI imported", objects, err)
	}

	// Policy files Go exported: the CLI checks and imports them.
	writeFile(t, filepath.Join(from, "policy", "quotas.pol"), quotas)
	out := filepath.Join(root, "policy-out")
	if _, err := ExportPolicies(from, out, nil); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "policy", "check", filepath.Join(out, "quotas.pol"))
	runCLI(t, "policy", "import", filepath.Join(out, "*.pol"), "--cluster", other)
	if got := readFile(t, filepath.Join(other, "policy", "quotas.pol")); got != quotas {
		t.Fatalf("the CLI imported %q", got)
	}
}

// What the Rust command line writes, Go reads: a backup set, a cntmp file, policy files.
func TestCrossLanguageRustWritesGoReads(t *testing.T) {
	root := t.TempDir()
	storeDir := filepath.Join(root, "store")
	conf := writeFile(t, filepath.Join(root, "cluster.conf"), clusterConf)
	tf := writeFile(t, filepath.Join(root, "main.tf"), "resource \"x\" \"y\" {}\n")

	setID := strings.TrimSpace(runCLI(t, "sets", "create", storeDir, conf, tf, "--reason", "daily", "--cluster-name", "from-rust"))
	store, err := OpenStore(storeDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sets, err := store.ListSets()
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || sets[0].SetID != setID || sets[0].ClusterName != "from-rust" || sets[0].Reason != "daily" ||
		len(sets[0].Artifacts) != 2 || sets[0].Artifacts[1].Name != "main.tf" {
		t.Fatalf("Go lists %+v for the set %s the CLI wrote", sets, setID)
	}
	report, err := store.VerifySet(setID)
	if err != nil || !report.OK || len(report.Artifacts) != 2 {
		t.Fatalf("%+v %v", report, err)
	}

	// A cntmp file the CLI exported: Go inspects, verifies and imports it.
	cluster := filepath.Join(root, "cluster")
	layer := writeFile(t, filepath.Join(root, "layer.tar.gz"), "a layer written by Rust")
	runCLI(t, "package", "from-file", layer, "--name", "rusttool", "--provides", "runtime.rust", "--cluster", cluster)
	file := filepath.Join(root, "rust.cntmp")
	runCLI(t, "export", "all", "--cluster", cluster, "-o", file)
	info, err := InspectCntmp(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Legacy || len(info.Objects) != 1 || info.Objects[0].FQN != "package::/apcera/pkg/packages::rusttool" {
		t.Fatalf("%+v", info)
	}
	checked, err := VerifyCntmp(file)
	if err != nil || checked != uint64(len("a layer written by Rust")) {
		t.Fatalf("%d bytes checked, %v", checked, err)
	}
	imported, err := ImportCntmp(filepath.Join(root, "go-cluster"), []string{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(imported.Objects) != 1 || imported.Objects[0].FQN != "package::/apcera/pkg/packages::rusttool" ||
		imported.BytesChecked != checked {
		t.Fatalf("%+v", imported)
	}

	// Policy files the CLI exported: Go imports them.
	writeFile(t, filepath.Join(cluster, "policy", "quotas.pol"), quotas)
	out := filepath.Join(root, "policy-out")
	runCLI(t, "policy", "export", "--cluster", cluster, "--dir", out)
	policies, err := ImportPolicies(filepath.Join(root, "go-cluster"), []string{filepath.Join(out, "*.pol")}, nil)
	if err != nil || len(policies.Documents) != 1 || policies.Documents[0].Outcome != "created" {
		t.Fatalf("%+v %v", policies, err)
	}
	if got := readFile(t, filepath.Join(root, "go-cluster", "policy", "quotas.pol")); got != quotas {
		t.Fatalf("Go imported %q", got)
	}
}

// A database set Go wrote, the CLI restores, and the other way round.
func TestCrossLanguageDatabase(t *testing.T) {
	dsn := pgURL(t)
	db := uniqueName("continuum_go_x")
	const rows = 11
	createDatabase(t, dsn, db, rows, db+"_by_rust", db+"_by_go")
	store, storeDir := openStore(t)

	manifest, err := store.BackupDatabases(dsn, []string{db}, &DatabaseBackupOptions{SkipGlobals: true})
	if err != nil {
		t.Fatal(err)
	}
	var restored DatabaseRestoreReport
	decodeCLI(t, runCLI(t, "db", "restore", "--from", storeDir, "--set", manifest.SetID, "--database", db,
		"--as", db+"_by_rust", "--dsn", dsn, "--json"), &restored)
	if restored.TotalRows != rows || restored.TargetDatabase != db+"_by_rust" {
		t.Fatalf("the CLI restored %+v", restored)
	}

	rustStore := filepath.Join(t.TempDir(), "rust-store")
	var rustManifest Manifest
	decodeCLI(t, runCLI(t, "db", "backup", "--dsn", dsn, "--database", db, "--to", rustStore, "--no-globals", "--json"), &rustManifest)
	other, err := OpenStore(rustStore, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	report, err := other.RestoreDatabase(rustManifest.SetID, db, dsn, &DatabaseRestoreOptions{AsName: db + "_by_go"})
	if err != nil {
		t.Fatal(err)
	}
	if report.TotalRows != rows {
		t.Fatalf("%+v", report)
	}
	if got := psql(t, withDatabase(t, dsn, db+"_by_go"), "SELECT count(*) FROM items"); got != strconv.Itoa(rows) {
		t.Fatalf("%s rows", got)
	}
}

// The JSON of a report and of Go's struct agree (nothing the library reports is dropped).
func TestReportsDecodeStrictly(t *testing.T) {
	var m Manifest
	err := decode("test", `{"format_version": 1, "set_id": "x", "created_at": "2024-01-02T03:04:05Z",
		"producer": "p", "reason": "manual", "artifacts": [], "surprise": 1}`, &m)
	if err == nil || !strings.Contains(err.Error(), "surprise") {
		t.Fatalf("strict decoding let an unknown field pass: %v", err)
	}
	data, _ := json.Marshal(PruneOptions{KeepLast: 2, IncompleteGrace: 90e9})
	if string(data) != `{"keep_last":2,"incomplete_grace_seconds":90}` {
		t.Errorf("%s", data)
	}
	data, _ = json.Marshal(DatabaseBackupOptions{SkipGlobals: true})
	if string(data) != `{"with_globals":false}` {
		t.Errorf("%s", data)
	}
	data, _ = json.Marshal(withDryRun{(*PlatformRestoreOptions)(nil), true})
	if string(data) != `{"dry_run":true}` {
		t.Errorf("%s", data)
	}
}
