package continuum_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"continuum.example/continuum"
)

// Backs a file up into a new set of a folder store, verifies the set, and shows what a
// failure looks like.
func Example() {
	dir, err := os.MkdirTemp("", "continuum-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "cluster.conf")
	if err := os.WriteFile(file, []byte("chef: { continuum: { cluster_name: prod } }\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	store, err := continuum.OpenStore(filepath.Join(dir, "backups"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	manifest, err := store.CreateSet([]string{file}, &continuum.SetOptions{Reason: "daily", ClusterName: "prod"})
	if err != nil {
		log.Fatal(err)
	}
	report, err := store.VerifySet(manifest.SetID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("artifacts:", manifest.Artifacts[0].Name, "verified:", report.OK)

	// A failure is an *continuum.Error; errors.Is matches its kind.
	_, err = continuum.ParseFQN("package::no-slash::x", "")
	var e *continuum.Error
	if errors.As(err, &e) {
		fmt.Println(e.Kind, int32(e.Status), errors.Is(err, continuum.ErrInvalidInput))
	}
	fmt.Println(err)
	_, err = store.VerifySet("20200101T000000Z-0000")
	fmt.Println(errors.Is(err, continuum.ErrNotFound))
	// Output:
	// artifacts: cluster.conf verified: true
	// invalid_input -2 true
	// continuum fqn_parse: invalid FQN `package::no-slash::x` at column 10: namespace must start with `/`
	// true
}

// A policy document with errors: the diagnostics say where.
func ExampleCheckPolicy() {
	_, err := continuum.CheckPolicy("on quota::/sandbox {\n  { total.memory 2GB\n", "quotas.pol")
	var e *continuum.Error
	if errors.As(err, &e) {
		for _, d := range e.Diagnostics {
			fmt.Println(d)
		}
	}
	// Output:
	// quotas.pol:3:1: error: expected `}` to close the rule opened at line 2
	// quotas.pol:3:1: error: expected `}` to close the policy opened at line 1
}
