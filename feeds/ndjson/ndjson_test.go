package ndjson

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// item is what a Reader yields for one line, in a form tests compare.
type item struct {
	Number  int64
	Offset  int64
	Text    string
	TooLong int64 // size of an over-long line, or 0
}

func (it item) String() string {
	if it.TooLong > 0 {
		return fmt.Sprintf("%d@%d TOO LONG (%d bytes)", it.Number, it.Offset, it.TooLong)
	}
	return fmt.Sprintf("%d@%d %q", it.Number, it.Offset, it.Text)
}

// collect reads everything with Next.
func collect(t testing.TB, rd io.Reader, opts Options) ([]item, error) {
	t.Helper()
	r := NewReader(rd, opts)
	var out []item
	for {
		l, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		var tl *TooLongError
		if errors.As(err, &tl) {
			if tl.Number != l.Number || tl.Offset != l.Offset || l.Bytes != nil {
				t.Fatalf("TooLongError %+v with line %+v", tl, l)
			}
			out = append(out, item{Number: tl.Number, Offset: tl.Offset, TooLong: tl.Size})
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, item{Number: l.Number, Offset: l.Offset, Text: string(l.Bytes)})
	}
}

// reference is the obvious, slow implementation of the line rules.
func reference(data []byte, max int) []item {
	var out []item
	off := 0
	if bytes.HasPrefix(data, utf8BOM) {
		off = len(utf8BOM)
	}
	num := int64(0)
	for off < len(data) {
		line, next := data[off:], len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			line, next = data[off:off+i], off+i+1
		}
		num++
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(line) > max:
			out = append(out, item{Number: num, Offset: int64(off), TooLong: int64(len(line))})
		case len(bytes.Trim(line, " \t\r")) > 0:
			out = append(out, item{Number: num, Offset: int64(off), Text: string(line)})
		}
		off = next
	}
	return out
}

func TestLines(t *testing.T) {
	long := strings.Repeat("x", 20)
	tests := []struct {
		name string
		in   string
		max  int
		want []item
	}{
		{"empty", "", 0, nil},
		{"one line", `{"a":1}` + "\n", 0, []item{{1, 0, `{"a":1}`, 0}}},
		{"no final newline", "a\nb", 0, []item{{1, 0, "a", 0}, {2, 2, "b", 0}}},
		{"crlf", "a\r\nb\r\n", 0, []item{{1, 0, "a", 0}, {2, 3, "b", 0}}},
		{"final cr without newline", "a\r\nb\r", 0, []item{{1, 0, "a", 0}, {2, 3, "b", 0}}},
		{"lone cr inside a line", "a\rb\n", 0, []item{{1, 0, "a\rb", 0}}},
		{"blank lines counted", "\n\na\n\r\n \t \nb\n\n", 0, []item{{3, 2, "a", 0}, {6, 10, "b", 0}}},
		{"only blanks", "\n \n\r\n", 0, nil},
		{"bom", "\xEF\xBB\xBFa\nb\n", 0, []item{{1, 3, "a", 0}, {2, 5, "b", 0}}},
		{"bom alone", "\xEF\xBB\xBF", 0, nil},
		{"bom only at start", "a\n\xEF\xBB\xBFb\n", 0, []item{{1, 0, "a", 0}, {2, 2, "\xEF\xBB\xBFb", 0}}},
		{"at the limit", long + "\n", 20, []item{{1, 0, long, 0}}},
		{"at the limit with crlf", long + "\r\n" + long + "\r\n", 20, []item{{1, 0, long, 0}, {2, 22, long, 0}}},
		{"over the limit", "a\n" + long + "y\nb\n", 20, []item{{1, 0, "a", 0}, {2, 2, "", 21}, {3, 24, "b", 0}}},
		{"over the limit with crlf", long + "yy\r\nb", 20, []item{{1, 0, "", 22}, {2, 24, "b", 0}}},
		{"far over the limit", strings.Repeat("z", 1000) + "\nok\n", 20, []item{{1, 0, "", 1000}, {2, 1001, "ok", 0}}},
		{"over the limit at the end", "a\n" + strings.Repeat("z", 100), 20, []item{{1, 0, "a", 0}, {2, 2, "", 100}}},
		{"over the limit at the end with cr", "a\n" + strings.Repeat("z", 100) + "\r", 20, []item{{1, 0, "a", 0}, {2, 2, "", 100}}},
		{"tiny limit", "ab\na\n\n", 1, []item{{1, 0, "", 2}, {2, 3, "a", 0}}},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+eof": iotest.DataErrReader,
	}
	for _, tc := range tests {
		for rname, wrap := range readers {
			for _, bufSize := range []int{1, 3, 7, 64 << 10} {
				t.Run(fmt.Sprintf("%s/%s/%d", tc.name, rname, bufSize), func(t *testing.T) {
					got, err := collect(t, wrap(strings.NewReader(tc.in)), Options{MaxLineSize: tc.max, BufferSize: bufSize})
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Errorf("got  %v\nwant %v", got, tc.want)
					}
					max := tc.max
					if max == 0 {
						max = DefaultMaxLineSize
					}
					if ref := reference([]byte(tc.in), max); fmt.Sprint(ref) != fmt.Sprint(tc.want) {
						t.Errorf("the reference disagrees with the table: %v", ref)
					}
				})
			}
		}
	}
}

func TestGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "mixed.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(t, bytes.NewReader(in), Options{MaxLineSize: 120})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range got {
		fmt.Fprintln(&b, it)
	}
	golden := filepath.Join("testdata", "mixed.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	// The golden must also be what the obvious implementation of the line
	// rules (reference, checked against the hand-written table of
	// TestLines) derives from the input, so a golden rewritten by -update
	// from a wrong reader fails here.
	var r strings.Builder
	for _, it := range reference(in, 120) {
		fmt.Fprintln(&r, it)
	}
	if r.String() != string(want) {
		t.Errorf("%s differs from the reference's reading of the input:\nreference:\n%s\ngolden:\n%s", golden, r.String(), want)
	}
}

// TestAgainstReference compares random streams, mostly of the awkward bytes,
// with the reference, across buffer sizes and read patterns.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab{}\n\n\r \t\xEF\xBB\xBF")
	for i := range 2000 {
		data := make([]byte, rng.IntN(200))
		for j := range data {
			data[j] = alphabet[rng.IntN(len(alphabet))]
		}
		if rng.IntN(5) == 0 {
			data = append(utf8BOM[:3:3], data...)
		}
		max := 1 + rng.IntN(30)
		bufSize := 1 + rng.IntN(40)
		var rd io.Reader = bytes.NewReader(data)
		if rng.IntN(2) == 0 {
			rd = iotest.OneByteReader(rd)
		}
		got, err := collect(t, rd, Options{MaxLineSize: max, BufferSize: bufSize})
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(data, max); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("case %d, max %d, buffer %d, input %q:\ngot  %v\nwant %v", i, max, bufSize, data, got, want)
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	rd := io.MultiReader(strings.NewReader("a\nb\nparti"), iotest.ErrReader(boom))
	r := NewReader(rd, Options{})
	var lines []string
	var err error
	for {
		var l Line
		if l, err = r.Next(); err != nil {
			break
		}
		lines = append(lines, string(l.Bytes))
	}
	if !errors.Is(err, boom) || strings.Join(lines, ",") != "a,b" {
		t.Fatalf("lines %q, err %v", lines, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("the read error is not sticky: %v", err)
	}
}

func TestInputOffset(t *testing.T) {
	in := "\xEF\xBB\xBFa\r\n\nbb\n" + strings.Repeat("z", 30) + "\nc"
	r := NewReader(iotest.OneByteReader(strings.NewReader(in)), Options{MaxLineSize: 10, BufferSize: 4})
	var got []string
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		got = append(got, fmt.Sprintf("%d/%d", r.LineNumber(), r.InputOffset()))
	}
	// After "a\r\n" (offset 3+3), after the blank line and "bb\n" (6+1+3),
	// after the long line (10+31), after "c" (41+1).
	if want := "1/6 3/10 4/41 5/42"; strings.Join(got, " ") != want {
		t.Errorf("line/offset after each Next: %v, want %s", got, want)
	}
}

func TestNoProgress(t *testing.T) {
	r := NewReader(zeroReader{}, Options{})
	if _, err := r.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("a reader that returns 0, nil forever: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReset(t *testing.T) {
	r := NewReader(strings.NewReader("a\nb\n"), Options{})
	r.Next()
	r.Reset(strings.NewReader("\nc\n"))
	l, err := r.Next()
	if err != nil || string(l.Bytes) != "c" || l.Number != 2 || l.Offset != 1 {
		t.Errorf("after Reset: %+v, %v", l, err)
	}
}

func TestForEach(t *testing.T) {
	in := "a\n" + strings.Repeat("x", 50) + "\n\nb\n"
	var got []string
	err := ForEach(context.Background(), strings.NewReader(in), Options{MaxLineSize: 10}, func(l Line, err error) error {
		var tl *TooLongError
		switch {
		case errors.As(err, &tl):
			got = append(got, fmt.Sprintf("%d:too long %d", tl.Number, tl.Size))
		case err != nil:
			t.Fatalf("unexpected error %v", err)
		default:
			got = append(got, fmt.Sprintf("%d:%s", l.Number, l.Bytes))
		}
		return nil
	})
	if err != nil || strings.Join(got, " ") != "1:a 2:too long 50 4:b" {
		t.Errorf("ForEach: %q, %v", got, err)
	}

	stop := errors.New("stop")
	n := 0
	err = ForEach(context.Background(), strings.NewReader("a\nb\nc\n"), Options{}, func(Line, error) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("fn error: %v after %d lines", err, n)
	}

	boom := errors.New("boom")
	err = ForEach(context.Background(), iotest.ErrReader(boom), Options{}, func(Line, error) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}

func TestForEachCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// An endless stream: only cancellation ends it.
	rd := &endless{line: []byte(`{"id":"x"}` + "\n")}
	n := 0
	err := ForEach(ctx, rd, Options{BufferSize: 64}, func(Line, error) error {
		n++
		if n == 1000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1000 {
		t.Errorf("after cancel: %v, %d lines", err, n)
	}

	// Cancellation is also seen between reads, inside a long line.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	err = ForEach(ctx, &endless{line: []byte("x")}, Options{}, func(Line, error) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before start: %v", err)
	}
}

type endless struct {
	line []byte
	off  int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.line[e.off]
		e.off = (e.off + 1) % len(e.line)
	}
	return len(p), nil
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nb\r\n\n c \n"), uint16(3), uint8(2))
	f.Add([]byte("\xEF\xBB\xBF{}\n"), uint16(100), uint8(0))
	f.Add([]byte(strings.Repeat("y", 70)+"\r\nz"), uint16(10), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, max uint16, buf uint8) {
		m := int(max)%200 + 1
		opts := Options{MaxLineSize: m, BufferSize: int(buf)}
		for _, rd := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
			got, err := collect(t, rd, opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := reference(data, m); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
		}
	})
}
