package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// sessionCookie names the session id cookie: HttpOnly, SameSite=Strict,
// Path /console/, Secure over TLS. The id is 32 random bytes; the session
// itself (role, bearer token, CSRF token, expiry) stays on the server.
const sessionCookie = "creditd_session"

// maxSessions bounds the store: anonymous sessions (a visitor's CSRF
// token) are dropped first when it is full, so that hostile clients
// cost bounded memory.
const maxSessions = 50000

// session is one visitor's: anonymous (Role public: only a CSRF token for
// its forms) or a signed-in regulator's.
type session struct {
	id      string
	Role    api.Role
	token   string // the bearer token signed in with; never sent back
	CSRF    string
	created time.Time
	seen    time.Time
}

// sessions is the server-side store.
type sessions struct {
	now      func() time.Time
	ttl, max time.Duration
	mu       sync.Mutex
	byID     map[string]*session
}

func newSessions(now func() time.Time, ttl, max time.Duration) *sessions {
	return &sessions{now: now, ttl: ttl, max: max, byID: map[string]*session{}}
}

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// live reports whether s is unexpired at now: used within ttl and younger
// than max.
func (st *sessions) live(s *session, now time.Time) bool {
	return now.Sub(s.seen) < st.ttl && now.Sub(s.created) < st.max
}

// get returns the request's live session (and marks it used), or nil.
func (st *sessions) get(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || len(ck.Value) != 43 {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[ck.Value]
	if s == nil {
		return nil
	}
	now := st.now()
	if !st.live(s, now) {
		delete(st.byID, s.id)
		return nil
	}
	s.seen = now
	return s
}

// create stores a new session and sets its cookie.
func (st *sessions) create(w http.ResponseWriter, r *http.Request, role api.Role, token string) *session {
	now := st.now()
	s := &session{id: randomID(), Role: role, token: token, CSRF: randomID(), created: now, seen: now}
	st.mu.Lock()
	if len(st.byID) >= maxSessions {
		st.sweepLocked(now)
	}
	for id, o := range st.byID {
		if len(st.byID) < maxSessions {
			break
		}
		if o.Role == api.RolePublic {
			delete(st.byID, id)
		}
	}
	st.byID[s.id] = s
	st.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.id, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return s
}

// anonymous is a new anonymous session (for the CSRF token of a visitor's
// forms).
func (st *sessions) anonymous(w http.ResponseWriter, r *http.Request) *session {
	return st.create(w, r, api.RolePublic, "")
}

// end removes the request's session and clears its cookie.
func (st *sessions) end(w http.ResponseWriter, r *http.Request, s *session) {
	if s != nil {
		st.mu.Lock()
		delete(st.byID, s.id)
		st.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

func (st *sessions) sweepLocked(now time.Time) {
	for id, s := range st.byID {
		if !st.live(s, now) {
			delete(st.byID, id)
		}
	}
}

// checkCSRF is the synchroniser-token check of a form post: the form's
// csrf field (or the X-CSRF-Token header of a script's request) must be
// the session's token. Without a session there is no token to match.
func (st *sessions) checkCSRF(s *session, r *http.Request) bool {
	if s == nil {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.FormValue("csrf") // parses the form (multipart included)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}
