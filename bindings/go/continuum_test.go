package continuum

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestVersion(t *testing.T) {
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Fatalf("Version() = %q", v)
	}
}

func TestParseFQN(t *testing.T) {
	fqn, err := ParseFQN("/apcera/pkg/runtimes::go-1.5.1", "package")
	if err != nil {
		t.Fatal(err)
	}
	want := FQN{FQN: "package::/apcera/pkg/runtimes::go-1.5.1", ResourceType: "package",
		Namespace: "/apcera/pkg/runtimes", LocalName: "go-1.5.1"}
	if *fqn != want {
		t.Fatalf("got %#v, want %#v", *fqn, want)
	}
	realm, err := ParseFQN("job::/sandbox", "")
	if err != nil {
		t.Fatal(err)
	}
	if realm.LocalName != "" || realm.Namespace != "/sandbox" {
		t.Fatalf("%#v", *realm)
	}
}

// Bad input of every kind is a Go error (an *Error of the right status), never a crash.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()

	_, err := ParseFQN("package::no-slash::x", "")
	e := wantError(t, err, ErrInvalidInput, "invalid FQN")
	if e.Status != StatusInvalidInput || e.Kind != "invalid_input" || e.Op != "fqn_parse" {
		t.Errorf("%#v", e)
	}
	var status Status
	if !errors.As(err, &status) || status != StatusInvalidInput {
		t.Errorf("errors.As status: %v", status)
	}
	if errors.Is(err, ErrNotFound) {
		t.Error("an invalid FQN is not ErrNotFound")
	}
	wrapped := fmt.Errorf("loading: %w", err)
	if !errors.Is(wrapped, ErrInvalidInput) {
		t.Error("errors.Is does not see through wrapping")
	}

	// A NUL byte would cut the C string short: refused before the call.
	_, err = ParseFQN("job::/a\x00::b", "")
	wantError(t, err, ErrInvalidArgument, "NUL")

	_, err = LoadConf("/nonexistent/cluster.conf")
	wantError(t, err, ErrNotFound, "/nonexistent/cluster.conf")
	_, err = InspectCntmp("/nonexistent/x.cntmp")
	wantError(t, err, ErrNotFound, "/nonexistent/x.cntmp")
	junk := writeFile(t, filepath.Join(dir, "junk.cntmp"), "this is not a zip file")
	_, err = VerifyCntmp(junk)
	wantError(t, err, ErrInvalidInput, "junk.cntmp")
	_, err = ImportCntmp(filepath.Join(dir, "cluster"), []string{junk}, nil)
	wantError(t, err, ErrInvalidInput, "junk.cntmp")
	_, err = ExportCntmp(filepath.Join(dir, "cluster"), Selection{}, filepath.Join(dir, "x.cntmp"), false)
	wantError(t, err, ErrInvalidInput, "nothing to export")
	_, err = ListJobObjects(dir, "gadget")
	wantError(t, err, ErrInvalidInput, "gadget")
	_, err = ImportPolicies(dir, []string{"/nonexistent/*.pol"}, nil)
	wantError(t, err, ErrInvalidInput, "/nonexistent")

	// A policy document with errors: the diagnostics come with the error.
	_, err = CheckPolicy("on quota::/x {\n  { total.memory 2GB\n", "broken.pol")
	e = wantError(t, err, ErrPolicy, "broken.pol")
	if len(e.Diagnostics) == 0 {
		t.Fatal("no diagnostics")
	}
	d := e.Diagnostics[0]
	if d.Severity != "error" || d.File != "broken.pol" || d.Line < 1 || d.Column < 1 {
		t.Errorf("%#v", d)
	}
	if !strings.HasPrefix(d.String(), "broken.pol:") {
		t.Errorf("%s", d)
	}
	_, err = FormatPolicy("on quota::/x {", "")
	wantError(t, err, ErrPolicy, "<text>")
	_, err = ParsePolicy("on {", "x.pol")
	wantError(t, err, ErrPolicy, "x.pol")

	// Stores: credentials in a URL (never echoed), an unknown scheme.
	_, err = OpenStore("s3://user:secret@bucket/x", nil)
	e = wantError(t, err, ErrInvalidInput, "")
	if strings.Contains(e.Message, "secret") {
		t.Errorf("a secret in %q", e.Message)
	}
	_, err = OpenStore("ftp://host/x", nil)
	wantError(t, err, ErrInvalidInput, "ftp")

	store, _ := openStore(t)
	_, err = store.VerifySet("20200101T000000Z-0000")
	wantError(t, err, ErrNotFound, "20200101T000000Z-0000")
	_, err = store.CreateSet([]string{"/nonexistent/file"}, nil)
	wantError(t, err, ErrNotFound, "/nonexistent/file")
	_, err = store.CreateSet(nil, nil)
	wantError(t, err, ErrInvalidInput, "")
	_, err = store.CreateSet([]string{junk}, &SetOptions{Kind: "gadget"})
	wantError(t, err, ErrInvalidInput, "gadget")
	_, err = store.Prune(PruneOptions{})
	wantError(t, err, ErrInvalidInput, "")
	_, err = store.BackupDatabases("mysql://root@localhost/x", []string{"x"}, nil)
	wantError(t, err, ErrInvalidInput, "")
	_, err = ListDatabases("mysql://root@localhost/x")
	wantError(t, err, ErrInvalidInput, "")

	// A closed store: an error, not a use after free; Close twice is fine.
	closed, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = closed.ListSets()
	wantError(t, err, ErrInvalidArgument, "closed")
	_, err = closed.URL()
	wantError(t, err, ErrInvalidArgument, "closed")
}

// Each goroutine reads its own call's error, whatever threads the calls run on.
func TestErrorsOfConcurrentCalls(t *testing.T) {
	var wg sync.WaitGroup
	failures := make(chan string, 1000)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				name := fmt.Sprintf("::g%d-i%d", g, i)
				_, err := ParseFQN(name, "")
				var e *Error
				if !errors.As(err, &e) || !strings.Contains(e.Message, name) {
					failures <- fmt.Sprintf("%s: %v", name, err)
				}
				if _, err := ParseFQN("job::/a::b", ""); err != nil {
					failures <- err.Error()
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
}

func TestPolicyText(t *testing.T) {
	warnings, err := CheckPolicy(quotas, "quotas.pol")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	formatted, err := FormatPolicy(quotas, "")
	if err != nil {
		t.Fatal(err)
	}
	if formatted != quotas {
		t.Errorf("formatted:\n%s", formatted)
	}
	doc, err := ParsePolicy("on job::/sandbox/tom {\n  if (auth_server@apcera.me->name == \"tom\") { permit read, update }\n}\n"+quotas, "mixed.pol")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != "mixed.pol" || len(doc.Policies) != 2 {
		t.Fatalf("%+v", doc)
	}
	rule := doc.Policies[0].Rules[0]
	if doc.Policies[0].Realm != "job::/sandbox/tom" || rule.Condition == nil {
		t.Fatalf("%+v", doc.Policies[0])
	}
	if c := rule.Condition; c.Op != "clause" || c.Issuer != "auth_server@apcera.me" ||
		c.Claim != "name" || c.Comparator != "==" || c.Value.String() != `"tom"` {
		t.Errorf("condition %+v (value %v)", c, c.Value)
	}
	if got := rule.Consequents[0]; got.Claim != "permit" || len(got.Values) != 2 || got.Values[1].String() != "update" {
		t.Errorf("consequent %+v", got)
	}
	memory := doc.Policies[1].Rules[0]
	if memory.Condition != nil || memory.Consequents[0].Claim != "total.memory" {
		t.Fatalf("%+v", memory)
	}
	if v := memory.Consequents[0].Values[0]; v.Type != "number" || v.Number != "2" || v.Unit != "GB" || v.String() != "2GB" {
		t.Errorf("value %+v", v)
	}
	// Conditions joined with && and ! nest.
	nested, err := ParsePolicy("on job::/x {\n  if (a->b == \"c\" && !(d->e == \"f\")) { permit read }\n}\n", "")
	if err != nil {
		t.Fatal(err)
	}
	c := nested.Policies[0].Rules[0].Condition
	if c.Op != "all" || len(c.Of) != 2 || c.Of[1].Op != "not" || len(c.Of[1].Of) != 1 || c.Of[1].Of[0].Claim != "e" {
		t.Errorf("nested condition %+v", c)
	}
}

// Policy documents backed up from one cluster folder and restored into another.
func TestPolicyExportImport(t *testing.T) {
	root := t.TempDir()
	from, to, out := filepath.Join(root, "from"), filepath.Join(root, "to"), filepath.Join(root, "out")
	root2 := "on job::/sandbox/tom { { permit read } }\n"
	writeFile(t, filepath.Join(from, "policy", "quotas.pol"), quotas)
	writeFile(t, filepath.Join(from, "policy", "root.pol"), root2)

	files, err := ExportPolicies(from, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "quotas.pol" || filepath.Base(files[1]) != "root.pol" {
		t.Fatalf("exported %v", files)
	}
	_, err = ExportPolicies(from, out, nil)
	wantError(t, err, ErrConflict, "already exists")
	files, err = ExportPolicies(from, out, &PolicyExportOptions{Name: "root", Force: true})
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	_, err = ExportPolicies(from, out, &PolicyExportOptions{Name: "absent"})
	wantError(t, err, ErrNotFound, "absent")

	pattern := []string{filepath.Join(out, "*.pol")}
	dry, err := ImportPolicies(to, pattern, &PolicyImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || len(dry.Documents) != 2 {
		t.Fatalf("%+v", dry)
	}
	if _, err := os.Stat(filepath.Join(to, "policy", "quotas.pol")); !os.IsNotExist(err) {
		t.Fatalf("a dry run stored something: %v", err)
	}
	report, err := ImportPolicies(to, pattern, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range report.Documents {
		if d.Outcome != "created" {
			t.Errorf("%+v", d)
		}
	}
	if got := readFile(t, filepath.Join(to, "policy", "quotas.pol")); got != quotas {
		t.Errorf("the round trip changed quotas.pol:\n%s", got)
	}
	if got := readFile(t, filepath.Join(to, "policy", "root.pol")); got != root2 {
		t.Errorf("the round trip changed root.pol:\n%s", got)
	}
	again, err := ImportPolicies(to, pattern, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Documents[0].Outcome != "unchanged" {
		t.Errorf("%+v", again.Documents[0])
	}

	// All or nothing: one broken document, and nothing is stored.
	writeFile(t, filepath.Join(out, "zz-broken.pol"), "on quota::/x {\n")
	_, err = ImportPolicies(filepath.Join(root, "none"), pattern, nil)
	e := wantError(t, err, ErrPolicy, "zz-broken.pol")
	if len(e.Diagnostics) == 0 {
		t.Error("no diagnostics")
	}
	if _, err := os.Stat(filepath.Join(root, "none", "policy", "quotas.pol")); !os.IsNotExist(err) {
		t.Errorf("a failed import stored something: %v", err)
	}
}

// Job data: a package made from files, exported to a cntmp file and imported into another
// cluster folder.
func TestCntmpRoundTrip(t *testing.T) {
	root := t.TempDir()
	from, to := filepath.Join(root, "from"), filepath.Join(root, "to")
	layer1 := writeFile(t, filepath.Join(root, "layer1.tar.gz"), "the bytes of a layer")
	layer2 := writeFile(t, filepath.Join(root, "layer2.tar.gz"), "the bytes of another layer")
	file := filepath.Join(root, "all.cntmp")

	pkg, err := PackageFromFiles(from, []string{layer1, layer2}, PackageOptions{
		Name: "tool", Provides: []string{"runtime.go"}, Depends: []string{"os.linux"},
		Env: map[string]string{"GOPATH": "/go"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pkg.FQN != "package::/apcera/pkg/packages::tool" || pkg.Name != "tool" || pkg.UUID == "" ||
		len(pkg.Resources) != 2 || pkg.Environment["GOPATH"] != "/go" || len(pkg.JSON) == 0 {
		t.Fatalf("%+v", pkg)
	}
	if len(pkg.Provides) != 1 || pkg.Provides[0] != (Dependency{Type: "runtime", Name: "go"}) ||
		len(pkg.Dependencies) != 1 || pkg.Dependencies[0] != (Dependency{Type: "os", Name: "linux"}) {
		t.Errorf("provides %v, depends %v", pkg.Provides, pkg.Dependencies)
	}
	_, err = PackageFromFiles(from, []string{layer1}, PackageOptions{Name: "tool"})
	wantError(t, err, ErrConflict, "tool")
	_, err = PackageFromFiles(from, []string{filepath.Join(root, "missing.tar.gz")}, PackageOptions{Name: "other"})
	wantError(t, err, ErrNotFound, "missing.tar.gz")

	exported, err := ExportCntmp(from, Selection{All: true}, file, false)
	if err != nil {
		t.Fatal(err)
	}
	if exported.Resources != 2 || len(exported.Objects) != 1 || exported.Objects[0] != pkg.FQN {
		t.Fatalf("%+v", exported)
	}
	_, err = ExportCntmp(from, Selection{All: true}, file, false)
	wantError(t, err, ErrConflict, "all.cntmp")
	if _, err := ExportCntmp(from, Selection{Packages: []string{"to*"}}, file, true); err != nil {
		t.Fatal(err)
	}

	info, err := InspectCntmp(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Legacy || info.FormatVersion != 1 || !strings.HasPrefix(info.Producer, "continuum-backup") ||
		len(info.Objects) != 1 || info.Objects[0].Kind != "package" || len(info.Objects[0].Resources) != 2 {
		t.Fatalf("%+v", info)
	}
	checked, err := VerifyCntmp(file)
	if err != nil {
		t.Fatal(err)
	}
	if checked != uint64(len("the bytes of a layer")+len("the bytes of another layer")) {
		t.Errorf("bytes checked %d", checked)
	}

	dry, err := ImportCntmp(to, []string{file}, &CntmpImportOptions{OverrideNamespace: "/acme", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun {
		t.Errorf("%+v", dry)
	}
	if objects, err := ListJobObjects(to, ""); err != nil || len(objects) != 0 {
		t.Fatalf("a dry run stored %v (%v)", objects, err)
	}
	imported, err := ImportCntmp(to, []string{file}, &CntmpImportOptions{OverrideNamespace: "/acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imported.Objects) != 1 || imported.Objects[0].FQN != "package::/acme::tool" ||
		imported.Objects[0].SourceFQN != pkg.FQN || imported.ResourcesStored != 2 {
		t.Fatalf("%+v", imported)
	}
	objects, err := ListJobObjects(to, "package")
	if err != nil || len(objects) != 1 || objects[0] != "package::/acme::tool" {
		t.Fatalf("%v %v", objects, err)
	}
	_, err = ImportCntmp(to, []string{file}, &CntmpImportOptions{OverrideNamespace: "/acme"})
	wantError(t, err, ErrConflict, "tool")
	skipped, err := ImportCntmp(to, []string{file}, &CntmpImportOptions{OverrideNamespace: "/acme", SkipExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if skipped.ResourcesStored != 0 {
		t.Errorf("%+v", skipped)
	}

	// A damaged file imports nothing.
	data := []byte(readFile(t, file))
	i := strings.Index(string(data), "the bytes of a layer")
	if i < 0 {
		t.Fatal("the resource is not stored as is")
	}
	data[i] = 'T'
	damaged := filepath.Join(root, "damaged.cntmp")
	if err := os.WriteFile(damaged, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = VerifyCntmp(damaged)
	wantError(t, err, ErrCorrupt, "")
	_, err = ImportCntmp(filepath.Join(root, "third"), []string{damaged}, nil)
	if err == nil {
		t.Fatal("a damaged file imported")
	}
	if objects, _ := ListJobObjects(filepath.Join(root, "third"), ""); len(objects) != 0 {
		t.Errorf("a failed import stored %v", objects)
	}
}

func TestSets(t *testing.T) {
	store, dir := openStore(t)
	root := t.TempDir()
	conf := writeFile(t, filepath.Join(root, "cluster.conf"), "chef: { continuum: { cluster_name: go-test } }\n")
	tf := writeFile(t, filepath.Join(root, "main.tf"), "resource \"x\" \"y\" {}\n")

	url, err := store.URL()
	if err != nil || !strings.Contains(url, filepath.Base(dir)) {
		t.Fatalf("URL() = %q, %v", url, err)
	}
	manifest, err := store.CreateSet([]string{conf, tf}, &SetOptions{Reason: "daily", ClusterName: "go-test"})
	if err != nil {
		t.Fatal(err)
	}
	if manifest.SetID == "" || manifest.Reason != "daily" || manifest.ClusterName != "go-test" ||
		len(manifest.Artifacts) != 2 || manifest.CreatedAt.IsZero() {
		t.Fatalf("%+v", manifest)
	}
	a := manifest.Artifacts[0]
	if a.Name != "cluster.conf" || a.Kind != "cluster" || a.Component != "files" || a.Size == 0 ||
		!strings.HasPrefix(a.SHA256, "sha256:") || a.Details.Type != "file" || a.Encryption.Scheme != "none" {
		t.Errorf("%+v", a)
	}
	second, err := store.CreateSet([]string{tf}, &SetOptions{Kind: "policy", Component: "policy"})
	if err != nil {
		t.Fatal(err)
	}

	sets, err := store.ListSets()
	if err != nil {
		t.Fatal(err)
	}
	// Newest first (by creation time, to the nanosecond).
	if len(sets) != 2 || sets[0].SetID != second.SetID || sets[1].SetID != manifest.SetID {
		t.Fatalf("%+v", sets)
	}
	report, err := store.VerifySet(manifest.SetID)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || len(report.Artifacts) != 2 || report.Artifacts[0].Status != "ok" || report.BytesChecked == 0 {
		t.Fatalf("%+v", report)
	}

	// Damage is a report, not an error.
	object := filepath.Join(dir, "sets", manifest.SetID, a.Path)
	if err := os.Chmod(object, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(object, []byte("chef: { continuum: { cluster_name: go-tesT } }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	damaged, err := store.VerifySet(manifest.SetID)
	if err != nil {
		t.Fatal(err)
	}
	if damaged.OK || damaged.Artifacts[0].Status != "digest_mismatch" || len(damaged.Artifacts[0].Expected) == 0 {
		t.Fatalf("%+v", damaged)
	}

	pruned, err := store.Prune(PruneOptions{KeepLast: 1, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !pruned.DryRun || len(pruned.Decisions) != 2 || !pruned.Decisions[0].Keep || pruned.Decisions[1].Keep {
		t.Fatalf("%+v", pruned)
	}
	pruned, err = store.Prune(PruneOptions{KeepLast: 1})
	if err != nil {
		t.Fatal(err)
	}
	if pruned.RemovedObjects == 0 {
		t.Errorf("%+v", pruned)
	}
	sets, err = store.ListSets()
	if err != nil || len(sets) != 1 || sets[0].SetID != second.SetID {
		t.Fatalf("%+v %v", sets, err)
	}
}

// One store used by many goroutines at once, then closed.
func TestStoreConcurrency(t *testing.T) {
	store, _ := openStore(t)
	file := writeFile(t, filepath.Join(t.TempDir(), "f.txt"), "content\n")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				m, err := store.CreateSet([]string{file}, nil)
				if err != nil {
					errs <- err
					return
				}
				if r, err := store.VerifySet(m.SetID); err != nil || !r.OK {
					errs <- fmt.Errorf("verify %s: %+v %v", m.SetID, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sets, err := store.ListSets()
	if err != nil || len(sets) != 32 {
		t.Fatalf("%d sets, %v", len(sets), err)
	}
}

const clusterConf = `
machines: {
  central: { hosts: ["10.0.0.11"], suitable_tags: ["component-database", "redis-server"] }
}
components: { component-database: 1, redis-server: 1 }
chef: { continuum: { cluster_name: go-test,
  database_backups: { access_key: AKIAGOTEST, secret_key: "go/secret/key", endpoint: eu-west-1, bucket: backups }
} }
`

func TestConfAndPlan(t *testing.T) {
	conf := writeFile(t, filepath.Join(t.TempDir(), "cluster.conf"), clusterConf)
	loaded, err := LoadConf(conf)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.ClusterName != "go-test" || len(loaded.MachineGroups) != 1 ||
		loaded.MachineGroups[0].Hosts[0] != "10.0.0.11" || loaded.Components["redis-server"] != 1 ||
		loaded.DatabaseBackups == nil || loaded.DatabaseBackups.Bucket != "backups" {
		t.Fatalf("%+v", loaded)
	}
	everything := fmt.Sprintf("%+v %s", loaded, loaded.Tree)
	for _, secret := range []string{"AKIAGOTEST", "go/secret/key"} {
		if strings.Contains(everything, secret) {
			t.Errorf("the secret %s is shown", secret)
		}
	}

	plan, err := Plan(conf, &PlanOptions{WithJobData: true})
	if err != nil {
		t.Fatal(err)
	}
	coverage := map[string]string{}
	for _, c := range plan.Components {
		coverage[c.Component] = c.Coverage
	}
	if plan.ClusterName != "go-test" || coverage["component-database"] != "backed_up" ||
		coverage["redis-server"] != "not_backed_up" {
		t.Fatalf("%+v", plan)
	}
	broken := writeFile(t, filepath.Join(t.TempDir(), "broken.conf"), "machines: {\n  central: [\n")
	_, err = LoadConf(broken)
	wantError(t, err, ErrInvalidInput, "broken.conf")
	_, err = Plan(broken, nil)
	wantError(t, err, ErrInvalidInput, "broken.conf")
}
