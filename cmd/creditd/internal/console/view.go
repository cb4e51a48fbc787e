package console

import (
	"net/http"
	"net/url"
	"strings"
)

// View is what every page template gets: the language and its messages,
// the session, the CSRF token of its forms, the navigation, and the
// page's own Data.
type View struct {
	c       *Console
	Lang    string // "zh" or "en"
	Title   string
	Path    string
	Query   string
	Area    Area
	Session *session
	CSRF    string
	Nav     []navItem
	Data    any
}

// T returns the message key in the view's language.
func (v *View) T(key string) string { return message(v.Lang, key) }

// SignedIn reports whether a regulator is signed in.
func (v *View) SignedIn() bool { return v.Session != nil && v.Session.Role == "regulator" }

// LangLink is the current page in the other language.
func (v *View) LangLink(lang string) string {
	q, _ := url.ParseQuery(v.Query)
	q.Set("lang", lang)
	return v.Path + "?" + q.Encode()
}

// Other is the language the switch offers.
func (v *View) Other() string {
	if v.Lang == "en" {
		return "zh"
	}
	return "en"
}

// HTMLLang is the page's lang attribute.
func (v *View) HTMLLang() string {
	if v.Lang == "en" {
		return "en"
	}
	return "zh-CN"
}

// langCookie remembers the chosen language.
const langCookie = "creditd_lang"

// langOf is the request's language: ?lang= (remembered in a cookie), the
// cookie, else Chinese.
func langOf(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "zh" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: Prefix, MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil && (ck.Value == "en" || ck.Value == "zh") {
		return ck.Value
	}
	return "zh"
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(s string) string {
	if !strings.HasPrefix(s, Prefix) || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return Prefix + "reg/"
	}
	return s
}
