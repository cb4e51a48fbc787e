package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodTokens = "# comment\nregulator 0123456789abcdef0123\n"

// A tokens file others may read or write is refused unless allowed; one
// without tokens is always refused (it would lock everyone out).
func TestLoadTokensFileChecks(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		body    string
		mode    os.FileMode
		allow   bool
		wantErr string // "" = accepted
	}{
		{"owner only", goodTokens, 0o600, false, ""},
		{"owner read-only", goodTokens, 0o400, false, ""},
		{"group readable", goodTokens, 0o640, false, "mode 0640 lets other users"},
		{"world readable", goodTokens, 0o644, false, "mode 0644 lets other users"},
		{"world writable only", goodTokens, 0o602, false, "mode 0602"},
		{"group executable", goodTokens, 0o610, false, "mode 0610"},
		{"world readable, allowed", goodTokens, 0o644, true, ""},
		{"empty", "", 0o600, false, "no tokens"},
		{"comments only", "# nothing\n\n   \n", 0o600, false, "no tokens"},
		{"empty, allowed mode", "", 0o644, true, "no tokens"},
		{"bad role", "admin 0123456789abcdef0123\n", 0o600, false, "unknown role"},
	}
	for i, tc := range cases {
		p := filepath.Join(dir, "tokens"+string(rune('a'+i)))
		if err := os.WriteFile(p, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil { // not subject to the umask
			t.Fatal(err)
		}
		tok, err := LoadTokens(p, tc.allow)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.wantErr == "" && tok.Len() != 1:
			t.Errorf("%s: %d tokens", tc.name, tok.Len())
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p)):
			t.Errorf("%s: got %v, want an error naming the file and %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := LoadTokens(dir, false); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}
