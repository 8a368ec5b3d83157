package continuum

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A database backed up and restored on the real PostgreSQL server of CONTINUUM_TEST_PG_URL.
func TestDatabaseBackupRestore(t *testing.T) {
	dsn := pgURL(t)
	db := uniqueName("continuum_go")
	copyName := db + "_copy"
	const rows = 25
	createDatabase(t, dsn, db, rows, copyName)
	store, _ := openStore(t)

	databases, err := ListDatabases(dsn)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range databases {
		if d.Name == db {
			found = d.AllowsConnections && !d.IsTemplate && d.Owner != "" && d.Size != nil
		}
	}
	if !found {
		t.Fatalf("%s is not listed as expected in %+v", db, databases)
	}

	manifest, err := store.BackupDatabases(dsn, []string{db}, &DatabaseBackupOptions{SkipGlobals: true, Reason: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Artifacts) != 1 {
		t.Fatalf("%+v", manifest)
	}
	dump := manifest.Artifacts[0]
	if dump.Name != db+".dump.zst" || dump.Compression != "zstd" || dump.Details.Type != "database" ||
		dump.Details.Database != db || dump.Details.RowCounts["public.items"] != rows || dump.Details.ServerVersion == "" {
		t.Fatalf("%+v", dump)
	}
	verified, err := store.VerifySet(manifest.SetID)
	if err != nil || !verified.OK {
		t.Fatalf("%+v %v", verified, err)
	}

	plan, err := store.PlanDatabaseRestore(manifest.SetID, db, dsn, &DatabaseRestoreOptions{AsName: copyName})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Action != "create" || plan.TargetDatabase != copyName || plan.ExpectedRows["public.items"] != rows {
		t.Fatalf("%+v", plan)
	}
	if exists := psql(t, dsn, "SELECT count(*) FROM pg_database WHERE datname = '"+copyName+"'"); exists != "0" {
		t.Fatal("a dry run created the database")
	}

	report, err := store.RestoreDatabase(manifest.SetID, db, dsn, &DatabaseRestoreOptions{AsName: copyName})
	if err != nil {
		t.Fatal(err)
	}
	if report.Action != "create" || report.TotalRows != rows || len(report.Tables) != 1 ||
		report.Tables[0].Expected == nil || report.Tables[0].Actual == nil || *report.Tables[0].Actual != rows {
		t.Fatalf("%+v", report)
	}
	if got := psql(t, withDatabase(t, dsn, copyName), "SELECT count(*) FROM items"); got != strconv.Itoa(rows) {
		t.Fatalf("%s rows restored", got)
	}

	// Again: the copy holds data now; with Force it is replaced.
	_, err = store.RestoreDatabase(manifest.SetID, db, dsn, &DatabaseRestoreOptions{AsName: copyName})
	wantError(t, err, ErrConflict, copyName)
	replaced, err := store.RestoreDatabase(manifest.SetID, db, dsn, &DatabaseRestoreOptions{AsName: copyName, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Action != "replace" || replaced.TotalRows != rows {
		t.Fatalf("%+v", replaced)
	}

	// Failures: a database that does not exist leaves no set; a set or database not in it.
	_, err = store.BackupDatabases(dsn, []string{"continuum_go_no_such_db"}, &DatabaseBackupOptions{SkipGlobals: true})
	wantError(t, err, ErrDatabase, "continuum_go_no_such_db")
	sets, err := store.ListSets()
	if err != nil || len(sets) != 1 {
		t.Fatalf("a failed backup left a set: %d, %v", len(sets), err)
	}
	_, err = store.RestoreDatabase("20200101T000000Z-0000", db, dsn, nil)
	wantError(t, err, ErrNotFound, "20200101T000000Z-0000")
	_, err = store.RestoreDatabase(manifest.SetID, "other", dsn, nil)
	wantError(t, err, ErrNotFound, "other")
	_, err = ListDatabases("postgresql://postgres:hunter2@127.0.0.1:1/postgres?connect_timeout=2")
	e := wantError(t, err, ErrDatabase, "")
	if strings.Contains(e.Message, "hunter2") {
		t.Errorf("the password is shown: %s", e.Message)
	}
}

// The whole platform: databases, installation files and policy documents into one set, and
// back into a new cluster folder and databases of other names.
func TestPlatformBackupRestore(t *testing.T) {
	dsn := pgURL(t)
	component := uniqueName("continuum_go_cdb")
	orchestrator := uniqueName("continuum_go_orch")
	createDatabase(t, dsn, component, 7, component+"_restored")
	createDatabase(t, dsn, orchestrator, 3, orchestrator+"_restored")
	store, _ := openStore(t)
	root := t.TempDir()
	cluster := filepath.Join(root, "cluster")
	conf := writeFile(t, filepath.Join(cluster, "cluster.conf"), clusterConf)
	writeFile(t, filepath.Join(cluster, "policy", "quotas.pol"), quotas)
	writeFile(t, filepath.Join(cluster, "terraform", "main.tf"), "resource \"x\" \"y\" {}\n")

	report, err := store.BackupPlatform(conf, cluster, dsn, &PlatformBackupOptions{
		Databases:   map[string]string{"component-database": component, "orchestrator": orchestrator},
		SkipGlobals: true, Parallel: 2, Reason: "deploy",
	})
	if err != nil {
		t.Fatal(err)
	}
	if report.SetID == "" || len(report.Artifacts) < 4 || len(report.RedactedSecrets) < 2 ||
		report.Plan.ClusterName != "go-test" || report.Duration.Duration() <= 0 {
		t.Fatalf("%+v", report)
	}
	names := map[string]bool{}
	for _, a := range report.Artifacts {
		names[a.Name] = true
	}
	if !names["policy/quotas.pol"] {
		t.Errorf("no policy artifact in %v", names)
	}

	target := filepath.Join(root, "restored")
	renames := map[string]string{component: component + "_restored", orchestrator: orchestrator + "_restored"}
	plan, err := store.PlanPlatformRestore(report.SetID, target, dsn, &PlatformRestoreOptions{Databases: renames})
	if err != nil {
		t.Fatal(err)
	}
	if plan.ClusterName != "go-test" || len(plan.Items) == 0 {
		t.Fatalf("%+v", plan)
	}
	for _, item := range plan.Items {
		if item.Action != "create" {
			t.Errorf("planned %+v", item)
		}
	}
	restored, err := store.RestorePlatform(report.SetID, target, dsn, &PlatformRestoreOptions{Databases: renames, SkipGlobals: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(restored.Items) != len(plan.Items) {
		t.Fatalf("%+v", restored)
	}
	if got := readFile(t, filepath.Join(target, "policy", "quotas.pol")); got != quotas {
		t.Errorf("quotas.pol restored as %q", got)
	}
	if got := psql(t, withDatabase(t, dsn, component+"_restored"), "SELECT count(*) FROM items"); got != "7" {
		t.Errorf("%s rows restored", got)
	}

	// Files only need no server; a file that differs is a conflict.
	if _, err := store.RestorePlatform(report.SetID, filepath.Join(root, "files"), "",
		&PlatformRestoreOptions{Only: []string{"installation_files", "policy"}}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(target, "policy", "quotas.pol"), "on quota::/x { { max.instances 1 } }\n")
	_, err = store.RestorePlatform(report.SetID, target, "", &PlatformRestoreOptions{Only: []string{"policy"}})
	wantError(t, err, ErrConflict, "quotas.pol")
	_, err = store.RestorePlatform(report.SetID, target, "", &PlatformRestoreOptions{Only: []string{"everything"}})
	wantError(t, err, ErrInvalidArgument, "everything")
	_, err = store.BackupPlatform(conf, cluster, dsn, &PlatformBackupOptions{EncryptTo: []string{"age1notakey"}})
	wantError(t, err, ErrInvalidInput, "recipient")
}
