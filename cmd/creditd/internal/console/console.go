// Package console is creditd's web console, served by creditd itself under
// /console/ on the API's port: server-rendered pages (html/template, assets
// embedded, no request leaves creditd), Chinese first with English on
// ?lang=en (remembered in a cookie). Enterprises look up and verify their
// public report; regulators sign in with a bearer token once and then hold
// a server-side session (session.go) for the dashboard, entity drill-down,
// the draw wizard and the front desk (issue.go: an enterprise's own
// report with its query code); anyone can verify a published draw; peers
// read the report format and verify reports.
//
// The console is a client of the API: every page calls the API's handler
// in process (backend.go) as the visitor would, anonymously or with the
// signed-in regulator's token, so that the API's rules (roles, editions,
// the tier never in a public answer) are the console's too.
//
// Pages are entries of a registry (Page, Console.Register): a page names
// its path, its area (public, regulator, peers), its navigation label and
// its handler; the layout builds the navigation from the registry. Pages
// for features merged later (objections, model monitoring) register there;
// see extensionPoints in pages.go.
package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// Options configure a Console.
type Options struct {
	// API is the handler of the HTTP API (a mode's Handler) the pages
	// call in process.
	API    http.Handler
	Tokens *api.Tokens
	Logger *slog.Logger
	// SessionTTL is how long a signed-in session lasts without use
	// (default 30 minutes); SessionMax its whole life (default 8 hours).
	SessionTTL, SessionMax time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Area groups pages: who they are for and whether they need a session.
type Area int

// Areas.
const (
	AreaPublic    Area = iota // enterprises and the public
	AreaRegulator             // signed-in regulators only
	AreaPeer                  // other provinces (public)
)

// Page is one entry of the console's page registry.
type Page struct {
	// Pattern is the ServeMux pattern, e.g. "GET /console/report".
	Pattern string
	// Nav is the message key of the navigation label; "" keeps the page
	// out of the navigation (form targets, sub-pages).
	Nav string
	// Link is the navigation target (default: the pattern's path).
	Link string
	Area Area
	// Handle serves the page; v is the request's view, filled with the
	// language, the session and the navigation.
	Handle func(w http.ResponseWriter, r *http.Request, v *View)
}

// Console serves the pages.
type Console struct {
	o        Options
	sessions *sessions
	mu       sync.Mutex
	pages    []Page
	tmpl     map[string]*template.Template
	mux      *http.ServeMux
}

// New returns a Console with its built-in pages registered.
func New(o Options) (*Console, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 30 * time.Minute
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 8 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{o: o, sessions: newSessions(o.Now, o.SessionTTL, o.SessionMax)}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	for _, p := range builtinPages(c) {
		c.Register(p)
	}
	return c, nil
}

// Register adds a page; it must be called before Handler.
func (c *Console) Register(p Page) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pages = append(c.pages, p)
}

// Handler serves the console's pages and assets and, for every other
// path, next (the API). A browser asking for / (Accept: text/html) is sent
// to the console; API clients get the API's index.
func (c *Console) Handler(next http.Handler) http.Handler {
	c.mu.Lock()
	defer c.mu.Unlock()
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", cacheStatic(http.FileServerFS(static))))
	for _, p := range c.pages {
		mux.Handle(p.Pattern, c.wrap(p))
	}
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/html") && r.Header.Get("Authorization") == "" {
			http.Redirect(w, r, Prefix, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	}))
	mux.Handle("/", next)
	c.mux = mux
	return mux
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// wrap gives a page its view: security headers, the language, the
// session (regulator pages without one go to sign-in) and the CSRF check
// of every form post.
func (c *Console) wrap(p Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		v := &View{c: c, Lang: langOf(w, r), Path: r.URL.Path, Query: r.URL.RawQuery, Area: p.Area}
		v.Session = c.sessions.get(r)
		if p.Area == AreaRegulator && (v.Session == nil || v.Session.Role != api.RoleRegulator) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, v, http.StatusForbidden, "err.session")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !c.sessions.checkCSRF(v.Session, r) {
				c.fail(w, r, v, http.StatusForbidden, "err.csrf")
				return
			}
		}
		if v.Session == nil {
			// every visitor gets a session for the CSRF token of its forms
			v.Session = c.sessions.anonymous(w, r)
		}
		v.CSRF = v.Session.CSRF
		v.Nav = c.nav(v)
		p.Handle(w, r, v)
	})
}

// maxForm bounds a form post (a report file of the verifier is the
// largest).
const maxForm = 4 << 20

// navItem is one navigation link.
type navItem struct {
	Label, Link string
	Current     bool
}

func (c *Console) nav(v *View) []navItem {
	var out []navItem
	for _, p := range c.pages {
		if p.Nav == "" || p.Area == AreaRegulator && !v.SignedIn() {
			continue
		}
		link := p.Link
		if link == "" {
			_, link, _ = strings.Cut(p.Pattern, " ")
		}
		out = append(out, navItem{Label: v.T(p.Nav), Link: link, Current: link == v.Path})
	}
	return out
}

// render writes the named page template inside the layout.
func (c *Console) render(w http.ResponseWriter, v *View, status int, name string, data any) {
	t := c.tmpl[name]
	if t == nil {
		c.o.Logger.Error("console: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Data = data
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.o.Logger.Error("console: rendering", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders an error page with a message key.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *View, status int, key string, detail ...string) {
	if v.Nav == nil {
		v.Nav = c.nav(v)
	}
	v.Title = v.T("err.title")
	c.render(w, v, status, "error", map[string]any{"Message": v.T(key), "Detail": strings.Join(detail, " "), "Status": status})
}

func (c *Console) parseTemplates() error {
	funcs := template.FuncMap{
		"add":  func(a, b int) int { return a + b },
		"list": func(xs ...any) []any { return xs },
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	c.tmpl = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(assets, n)
		if err != nil {
			return err
		}
		c.tmpl[name] = t
	}
	return nil
}
