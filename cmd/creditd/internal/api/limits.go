package api

import (
	"net"
	"net/http"
	"strings"
	"sync"
)

// probeMethods are the methods tried when a path matched no route with the
// request's method, to tell 405 from 404.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// allowedMethods returns the methods any of muxes routes r's path with,
// other than through a catch-all "/" pattern.
func allowedMethods(r *http.Request, muxes ...*http.ServeMux) []string {
	var out []string
	for _, m := range probeMethods {
		probe := *r
		probe.Method = m
		for _, mux := range muxes {
			if _, pattern := mux.Handler(&probe); pattern != "" && pattern != "/" {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// methodNotAllowed answers 405 with the Allow header (RFC 9110 §15.5.6).
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed []string) {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	refuse(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+strings.Join(allowed, ", "))
}

// limitListener accepts at most cap(slots) connections at once (--max-conns):
// Accept waits while that many are open, and the kernel's listen backlog
// holds the callers meanwhile.
type limitListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
}

// LimitConns returns ln accepting at most n connections at once.
func LimitConns(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max(1, n)), closed: make(chan struct{})}
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close implements net.Listener; an Accept waiting for a slot returns.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back when closed (once).
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close implements net.Conn.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
