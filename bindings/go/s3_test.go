package continuum

import (
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// A store in a bucket of the S3-compatible server of CONTINUUM_TEST_S3_ENDPOINT (moto, as
// scripts/test.sh starts it); the test fails, never skips, without it.
func TestS3Store(t *testing.T) {
	endpoint := os.Getenv("CONTINUUM_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Fatal("CONTINUUM_TEST_S3_ENDPOINT is not set: run bash bindings/go/run-tests.sh (or scripts/test.sh)")
	}
	bucket := fmt.Sprintf("continuum-go-%08x", rand.Uint32())
	req, err := http.NewRequest(http.MethodPut, endpoint+"/"+bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket %s: %s", bucket, resp.Status)
	}
	options := &StoreOptions{Endpoint: endpoint, Region: "us-east-1", PathStyle: true,
		AccessKeyID: "testing", SecretAccessKey: "testing"}
	store, err := OpenStore("s3://"+bucket+"/some/prefix", options)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	file := writeFile(t, filepath.Join(t.TempDir(), "cluster.conf"), clusterConf)
	manifest, err := store.CreateSet([]string{file}, &SetOptions{Reason: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := store.ListSets()
	if err != nil || len(sets) != 1 || sets[0].SetID != manifest.SetID {
		t.Fatalf("%+v %v", sets, err)
	}
	report, err := store.VerifySet(manifest.SetID)
	if err != nil || !report.OK {
		t.Fatalf("%+v %v", report, err)
	}
	url, err := store.URL()
	if err != nil || url != "s3://"+bucket+"/some/prefix" {
		t.Fatalf("URL() = %q, %v", url, err)
	}

	// A bucket that does not exist: an error, not a crash.
	missing, err := OpenStore("s3://continuum-go-no-such-bucket/x", options)
	if err == nil {
		defer missing.Close()
		_, err = missing.CreateSet([]string{file}, nil)
	}
	if _, ok := err.(*Error); !ok {
		t.Fatalf("%T %v", err, err)
	}
}
