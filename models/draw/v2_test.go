package draw

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// goldenV2 returns the golden draw/v2 documents of the sampler's tests.
func goldenV2(t testing.TB, name string) [][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "..", "sampler", "testdata", "golden_v2", "*", name))
	if len(paths) == 0 {
		t.Fatalf("no golden %s", name)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// A parsed record re-encodes to its own bytes; the public edition is the
// cut of the regulatory one.
func TestV2CanonicalRoundTrip(t *testing.T) {
	pubs, regs := goldenV2(t, "public.json"), goldenV2(t, "regulatory.json")
	for i := range regs {
		r, err := ParseV2(regs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(EncodeV2(r), '\n'), regs[i]) {
			t.Fatalf("regulatory %d does not re-encode to itself", i)
		}
		if cut, _ := PublicBytes(regs[i]); !bytes.Equal(append(cut, '\n'), pubs[i]) {
			t.Fatalf("record %d: the public edition is not the cut of the regulatory one", i)
		}
		if !bytes.Equal(append(EncodeV2(r.Public()), '\n'), pubs[i]) {
			t.Fatalf("record %d: Public() differs from the public edition", i)
		}
	}
	// a duplicate member, a space, and a reordered member are refused
	reg := bytes.TrimSuffix(regs[0], []byte("\n"))
	for name, bad := range map[string][]byte{
		"duplicate": bytes.Replace(reg, []byte(`{"format":"draw/v2",`), []byte(`{"format":"draw/v2","format":"draw/v2",`), 1),
		"space":     bytes.Replace(reg, []byte(`"edition":`), []byte(`"edition": `), 1),
		"case":      bytes.Replace(reg, []byte(`"edition":`), []byte(`"Edition":`), 1),
	} {
		if _, err := ParseV2(bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// FuzzParseDrawV2: no panic; whatever parses re-encodes to its input.
func FuzzParseV2(f *testing.F) {
	for _, b := range goldenV2(f, "public.json") {
		f.Add(b)
	}
	for _, b := range goldenV2(f, "regulatory.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseV2(data)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeV2(r), bytes.TrimSuffix(data, []byte("\n"))) {
			t.Fatalf("parsed but not canonical")
		}
		PublicBytes(data)
	})
}

// FuzzParseDrawAmendments: no panic; a parsed document has a valid chain.
func FuzzParseAmendments(f *testing.F) {
	for _, b := range goldenV2(f, "amendments.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAmendments(data)
		if err != nil {
			return
		}
		prev := ""
		for i := range a.Amendments {
			if a.Amendments[i].Prev != prev || AmendmentID(a.DrawID, &a.Amendments[i]) != a.Amendments[i].ID {
				t.Fatalf("broken chain accepted")
			}
			prev = a.Amendments[i].ID
		}
	})
}
