package api

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Role is what a caller may do.
type Role string

// Roles. A caller without a token is public.
const (
	RolePublic    Role = "public"
	RoleRegulator Role = "regulator"
	RoleSource    Role = "source"
	RolePeer      Role = "peer"
)

// Tokens maps bearer tokens to roles. Tokens are compared by their SHA-256
// in constant time, so timing reveals nothing about stored tokens.
type Tokens struct {
	byHash map[[32]byte]Role
}

// LoadTokens reads a tokens file: one "ROLE TOKEN" pair per line; blank
// lines and text after # are ignored. Like ssh with private keys, it
// refuses a file that its group or others may read or write unless
// allowShared is set (--allow-shared-tokens-file), and a file without any
// token: either is a mistake that would leave the service open or unusable.
func LoadTokens(path string, allowShared bool) (*Tokens, error) {
	t := &Tokens{byHash: map[[32]byte]Role{}}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("tokens %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && !allowShared {
		return nil, fmt.Errorf("tokens %s: mode %04o lets other users read or change the bearer tokens; "+
			"run chmod 600 %s (or start with --allow-shared-tokens-file)", path, perm, path)
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("tokens %s:%d: want \"ROLE TOKEN\"", path, n)
		}
		role := Role(fields[0])
		switch role {
		case RoleRegulator, RoleSource, RolePeer:
		default:
			return nil, fmt.Errorf("tokens %s:%d: unknown role %q (regulator, source, peer)", path, n, fields[0])
		}
		if len(fields[1]) < 16 {
			return nil, fmt.Errorf("tokens %s:%d: token shorter than 16 characters", path, n)
		}
		h := sha256.Sum256([]byte(fields[1]))
		if _, dup := t.byHash[h]; dup {
			return nil, fmt.Errorf("tokens %s:%d: token listed twice", path, n)
		}
		t.byHash[h] = role
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens %s: %w", path, err)
	}
	if len(t.byHash) == 0 {
		return nil, fmt.Errorf("tokens %s: no tokens (want \"ROLE TOKEN\" lines; roles: regulator, source, peer)", path)
	}
	return t, nil
}

// EnsureTokensFile creates a tokens file at path with a fresh random token
// for each role (mode 0600) unless it exists. It reports whether it
// created the file.
func EnsureTokensFile(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	var b strings.Builder
	b.WriteString("# creditd bearer tokens: ROLE TOKEN. Generated on first start; edit freely.\n")
	for _, role := range []Role{RoleRegulator, RoleSource, RolePeer} {
		var raw [24]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return false, err
		}
		fmt.Fprintf(&b, "%s %s\n", role, base64.RawURLEncoding.EncodeToString(raw[:]))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, fmt.Errorf("tokens: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	return true, f.Close()
}

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.byHash) }

// errBadToken is returned for a presented token that is not known.
var errBadToken = fmt.Errorf("unknown bearer token")

// RoleOf returns the caller's role: public without an Authorization
// header, the token's role for a known bearer token, an error otherwise.
func (t *Tokens) RoleOf(r *http.Request) (Role, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return RolePublic, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", fmt.Errorf("the Authorization header must be \"Bearer TOKEN\"")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	var found Role
	for k, role := range t.byHash {
		if subtle.ConstantTimeCompare(k[:], sum[:]) == 1 {
			found = role
		}
	}
	if found == "" {
		return "", errBadToken
	}
	return found, nil
}
