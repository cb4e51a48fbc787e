package scoring

import (
	"hash/fnv"
	"math/rand/v2"
	"testing"
)

// hashID is persisted in snapshots: it must stay FNV-1a 64, checked against
// the algorithm's published vectors and hash/fnv on random ids.
func TestHashIDIsFNV1a64(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
	} {
		if got := hashID(c.in); got != c.want {
			t.Errorf("hashID(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, r.IntN(80))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		h := fnv.New64a()
		h.Write(b)
		if got, want := hashID(string(b)), h.Sum64(); got != want {
			t.Fatalf("hashID(%x) = %#x, hash/fnv says %#x", b, got, want)
		}
	}
}
