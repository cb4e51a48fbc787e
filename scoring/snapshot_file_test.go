package scoring

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// VerifySnapshotFile accepts exactly the snapshots ReadSnapshot accepts:
// every single flipped byte and every truncation of a written snapshot is
// ErrSnapshotCorrupt, the intact file gives its position.
func TestVerifySnapshotFile(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, err := e.WriteSnapshotFile(dir, 42)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	if pos, err := VerifySnapshotFile(path); err != nil || pos != 42 {
		t.Fatalf("intact snapshot: %d, %v", pos, err)
	}
	bad := filepath.Join(dir, "bad.snap")
	step := max(1, len(orig)/500)
	for i := 0; i < len(orig); i += step {
		b := append([]byte(nil), orig...)
		b[i] ^= 0x01
		os.WriteFile(bad, b, 0o640)
		if _, err := VerifySnapshotFile(bad); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Fatalf("byte %d of %d flipped: %v", i, len(orig), err)
		}
	}
	for _, n := range []int{0, 10, 40, len(orig) / 2, len(orig) - 1} {
		os.WriteFile(bad, orig[:n], 0o640)
		if _, err := VerifySnapshotFile(bad); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Fatalf("cut to %d bytes: %v", n, err)
		}
	}
}

// A snapshot set aside is no longer listed, restored or counted; its bytes
// are kept. Temporary files of interrupted writes are removed, snapshots
// are not.
func TestSetAsideAndTemps(t *testing.T) {
	e, _ := New(Options{})
	dir := t.TempDir()
	p1, _ := e.WriteSnapshotFile(dir, 1)
	p2, _ := e.WriteSnapshotFile(dir, 2)
	orig, _ := os.ReadFile(p2)
	aside, err := SetAsideSnapshot(p2)
	if err != nil {
		t.Fatal(err)
	}
	if kept, _ := os.ReadFile(aside); string(kept) != string(orig) {
		t.Fatal("set-aside snapshot lost its bytes")
	}
	names, _, _ := SnapshotFiles(dir)
	if len(names) != 1 || names[0] != p1 {
		t.Fatalf("snapshots after setting one aside: %v", names)
	}
	tmp := filepath.Join(dir, ".snapshot-999.tmp")
	os.WriteFile(tmp, []byte("x"), 0o640)
	removed, err := RemoveSnapshotTemps(dir)
	if err != nil || len(removed) != 1 || removed[0] != tmp {
		t.Fatalf("RemoveSnapshotTemps = %v, %v", removed, err)
	}
	if _, err := os.Stat(p1); err != nil {
		t.Fatalf("a snapshot was removed as a temporary file: %v", err)
	}
}
