package deadletter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/jsontext"
	"github.com/creditrisk/creditd/models/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

var at0 = time.Date(2026, 3, 1, 0, 0, 0, 123456789, time.FixedZone("CST", 8*3600))

// letters covers the encoding's cases.
var letters = []Letter{
	{At: at0, Source: FileSource("/srv/in/2026-03.ndjson", 42), Reason: "invalid_uscc", Detail: "check character is 3, want X",
		EventID: "SAMR-370200-2026-000123", Original: []byte(`{"id":"SAMR-370200-2026-000123","uscc":"91370200MA3C00001 3"}`)},
	{At: at0.Add(time.Second), Source: HTTPSource("req-7f3a", 3), Reason: "not_json", Detail: "invalid character 'x' looking for beginning of value",
		Original: []byte("xyz <b>&amp;</b>\t\"quoted\" \\ back\u2028")},
	{At: at0, Source: KafkaSource("credit.events", 11, 1234567), Reason: "invalid_field", Detail: "名称不能为空: name 为空",
		EventID: "鲁-1", Original: []byte(`{"attrs":{"name":"青岛某某有限公司"}}`)},
	{At: at0, Source: FileSource("C:\\in\\a:b.ndjson", 7), Reason: "not_json", Detail: "bad bytes \xff\xfe in detail",
		Original: []byte{0xff, 0xfe, '{', 0x00, 0x80}},
	{At: at0, Source: FileSource("big.ndjson", 9), Reason: "line_too_long", Detail: "2000000 bytes"},
	{At: at0, Source: HTTPSource("r", 1), Reason: "not_object", Detail: "", Original: []byte{}},
	{At: at0, Source: HTTPSource("r", 2), Reason: "not_json", Detail: "control \x01\x1f\n\r",
		Original: []byte("\x00\x01\x7f\r\n")},
}

// decoded is what a letter reads back as: At in UTC, invalid UTF-8 in
// strings replaced.
func decoded(l Letter) Letter {
	l.At = l.At.UTC()
	// Each invalid byte becomes one U+FFFD, as converting to runes does.
	l.Detail = string([]rune(l.Detail))
	l.Source = string([]rune(l.Source))
	l.EventID = string([]rune(l.EventID))
	return l
}

func sameLetter(a, b Letter) bool {
	return a.At.Equal(b.At) && a.Source == b.Source && a.Reason == b.Reason && a.Detail == b.Detail &&
		a.EventID == b.EventID && bytes.Equal(a.Original, b.Original) && (a.Original == nil) == (b.Original == nil)
}

func TestFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dead.ndjson")
	s, err := OpenFile(path, Options{BufferSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, l := range letters {
		if err := s.Write(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// Synced letters are in the file before Close.
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(letters) {
		t.Fatalf("read %d letters, wrote %d", len(got), len(letters))
	}
	for i := range got {
		if want := decoded(letters[i]); !sameLetter(got[i], want) {
			t.Errorf("letter %d:\ngot  %+v\nwant %+v", i, got[i], want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Write(ctx, letters[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}

	// The file's bytes are the documented format.
	raw, _ := os.ReadFile(path)
	golden := filepath.Join("testdata", "letters.golden")
	if *update {
		os.WriteFile(golden, raw, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("file differs from %s:\n%s", golden, raw)
	}
	// An independent reading of the golden from the format's description,
	// so that a golden rewritten by -update from a wrong encoder fails.
	testenv.Python(t, "testdata", "check_letters.py", "letters.golden")
	for i, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("line %d is not valid JSON: %s", i+1, line)
		}
	}

	// Reopening appends.
	s, err = OpenFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, letters[1]); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = ReadFile(path)
	if err != nil || len(got) != len(letters)+1 || !sameLetter(got[len(letters)], decoded(letters[1])) {
		t.Fatalf("after reopen: %d letters, %v", len(got), err)
	}
}

func TestTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.ndjson")
	good := append(letters[0].AppendJSON(nil), '\n')
	torn := letters[1].AppendJSON(nil)
	torn = torn[:len(torn)/2]
	if err := os.WriteFile(path, append(good, torn...), 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), letters[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	r := NewReader(f)
	var got []Letter
	var lineErrs []int64
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			lineErrs = append(lineErrs, le.Line)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if len(got) != 2 || !sameLetter(got[0], decoded(letters[0])) || !sameLetter(got[1], decoded(letters[2])) {
		t.Errorf("letters around a torn line: %+v", got)
	}
	if fmt.Sprint(lineErrs) != "[2]" {
		t.Errorf("line errors at %v, want [2]", lineErrs)
	}
	if _, err := ReadFile(path); err == nil {
		t.Error("ReadFile accepted a torn line")
	}
}

// TestSinkRejectsInvalid: a sink refuses a letter that fails validation
// (the rules themselves are tested in models/deadletter).
func TestSinkRejectsInvalid(t *testing.T) {
	var m Memory
	for _, bad := range []Letter{{Reason: "not_json"}, {Source: "http:r:1", Reason: "not-json"}} {
		if err := m.Write(context.Background(), bad); !errors.Is(err, ErrInvalidLetter) {
			t.Errorf("Memory.Write(%+v) = %v", bad, err)
		}
	}
	if got := m.Letters(); len(got) != 0 {
		t.Errorf("kept %d invalid letters", len(got))
	}
}

func TestStampAndContext(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "d.ndjson")
	s, err := OpenFile(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Write(ctx, Letter{Source: "http:r:1", Reason: "not_json"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.Write(ctx, Letter{Source: "http:r:2", Reason: "not_json"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context: %v", err)
	}
	s.Close()
	got, err := ReadFile(path)
	if err != nil || len(got) != 1 || !got[0].At.Equal(now) {
		t.Errorf("stamped letters: %+v, %v", got, err)
	}
}

func TestStickyFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.ndjson")
	s, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Write(ctx, letters[0])
	s.f.Close() // the disk goes away
	if err := s.Sync(); err == nil {
		t.Fatal("Sync on a closed file succeeded")
	}
	if err := s.Write(ctx, letters[1]); err == nil {
		t.Error("Write after a failure succeeded")
	}
	if err := s.Sync(); err == nil {
		t.Error("a second Sync after a failure succeeded")
	}
}

func TestConcurrentWriteSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.ndjson")
	s, err := OpenFile(path, Options{BufferSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				l := Letter{Source: HTTPSource(fmt.Sprint("w", w), int64(i+1)), Reason: "not_json", Original: []byte(strings.Repeat("x", i))}
				if err := s.Write(context.Background(), l); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if err := s.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil || len(got) != writers*each {
		t.Fatalf("%d letters, %v", len(got), err)
	}
	next := map[string]int64{}
	for _, l := range got {
		w, line, _ := strings.Cut(strings.TrimPrefix(l.Source, "http:"), ":")
		next[w]++
		if fmt.Sprint(next[w]) != line {
			t.Fatalf("writer %s: letter %s out of order", w, line)
		}
	}
}

func TestMemory(t *testing.T) {
	var m Memory
	orig := []byte("abc")
	m.Write(context.Background(), Letter{Source: "http:r:1", Reason: "not_json", Original: orig})
	orig[0] = 'X'
	if got := m.Letters(); len(got) != 1 || string(got[0].Original) != "abc" || got[0].At.IsZero() {
		t.Errorf("Letters = %+v", got)
	}
	if len(m.Synced()) != 0 {
		t.Error("unsynced letters reported synced")
	}
	m.Sync()
	if len(m.Synced()) != 1 {
		t.Error("Sync did not cover the letter")
	}
	m.Close()
	if err := m.Write(context.Background(), Letter{Source: "s", Reason: "r"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

// TestAppendStringMatchesEncodingJSON checks the hand-written string encoder
// against encoding/json on random strings heavy in the awkward bytes.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "<", "&", "é", "鲁", "\u2028", "\u2029", "\xff", "\xe9", "\xe9\xb2", "😀", "\xf0\x9f"}
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		enc := jsontext.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("%q encoded as %s: %v", s, enc, err)
		}
		if want := string([]rune(s)); back != want {
			t.Fatalf("%q encoded as %s decodes to %q, want %q", s, enc, back, want)
		}
		var ref string
		refEnc, _ := json.Marshal(s)
		json.Unmarshal(refEnc, &ref)
		if back != ref {
			t.Fatalf("%q: ours decodes to %q, encoding/json's to %q", s, back, ref)
		}
	}
}

func FuzzLetter(f *testing.F) {
	for _, l := range letters {
		f.Add(l.Source, l.Detail, l.EventID, l.Original, l.Original == nil)
	}
	f.Fuzz(func(t *testing.T, source, detail, eventID string, original []byte, noOriginal bool) {
		if noOriginal {
			original = nil
		}
		l := Letter{At: at0, Source: "x" + source, Reason: "r", Detail: detail, EventID: eventID, Original: original}
		line := l.AppendJSON(nil)
		if !json.Valid(line) || bytes.ContainsAny(line, "\n\r") {
			t.Fatalf("not one JSON line: %q", line)
		}
		var back Letter
		if err := back.UnmarshalJSON(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if !bytes.Equal(back.Original, original) || (back.Original == nil) != (original == nil) {
			t.Fatalf("original %q came back as %q", original, back.Original)
		}
		var again Letter
		if err := again.UnmarshalJSON(back.AppendJSON(nil)); err != nil || !sameLetter(again, back) {
			t.Fatalf("second round trip: %+v, %v", again, err)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	for _, l := range letters {
		f.Add(l.AppendJSON(nil))
	}
	f.Add([]byte(`{"at":"2026-03-01T00:00:00Z","source":"s","reason":"r","original_b64":"AAE="}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var l Letter
		if err := l.UnmarshalJSON(in); err != nil {
			return
		}
		var back Letter
		if err := back.UnmarshalJSON(l.AppendJSON(nil)); err != nil || !sameLetter(back, decoded(l)) {
			t.Fatalf("%s: re-encoded letter reads back as %+v, %v", in, back, err)
		}
	})
}

// TestReaderLines checks the Reader's line rules on a hand-built file:
// "\r\n" endings, blank lines skipped but counted, a line of exactly
// MaxLineSize bytes read and one byte more reported (and skipped) as
// ErrLineTooLong, a line that is not a letter, and a last line without its
// newline.
func TestReaderLines(t *testing.T) {
	pad := func(l Letter, n int) []byte { // l's JSON padded with spaces to n bytes
		b := l.AppendJSON(nil)
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	var in bytes.Buffer
	in.Write(append(letters[0].AppendJSON(nil), "\r\n"...))   // 1
	in.WriteString("\n \t\r\n")                               // 2, 3: blank
	in.Write(append(pad(letters[1], MaxLineSize), "\r\n"...)) // 4: at the limit
	in.Write(append(pad(letters[1], MaxLineSize+1), '\n'))    // 5: over it
	in.WriteString("not a letter\n")                          // 6
	in.Write(letters[2].AppendJSON(nil))                      // 7: no newline
	r := NewReader(&in)
	var got []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		switch {
		case errors.As(err, &le):
			got = append(got, fmt.Sprintf("error %d too long %v", le.Line, errors.Is(err, ErrLineTooLong)))
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, "letter "+l.Source)
		}
	}
	want := []string{"letter " + letters[0].Source, "letter " + letters[1].Source, "error 5 too long true",
		"error 6 too long false", "letter " + letters[2].Source}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read\n%q\nwant\n%q", got, want)
	}
}
