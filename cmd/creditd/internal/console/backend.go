package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

// answer is an API answer to an in-process call.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is the detail of a problem+json answer, or the body.
func (a *answer) problem() string {
	var p struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(a.Body, &p) == nil && p.Detail != "" {
		return p.Detail
	}
	return fmt.Sprintf("HTTP %d", a.Status)
}

// call asks the API in process: anonymously when token is "", else with
// the token (a signed-in regulator's), so the API's roles and editions
// apply to the console exactly as to any client.
func (c *Console) call(ctx context.Context, method, path, token string, body []byte) *answer {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequestWithContext(ctx, method, path, rd)
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	c.o.API.ServeHTTP(rec, req)
	return &answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// token is the bearer token of the view's session ("" for anonymous).
func (v *View) token() string {
	if v.Session == nil {
		return ""
	}
	return v.Session.token
}

// getJSON calls the API and decodes a 200 answer into out.
func (c *Console) getJSON(ctx context.Context, path, token string, out any) (*answer, error) {
	a := c.call(ctx, http.MethodGet, path, token, nil)
	if a.Status != http.StatusOK {
		return a, fmt.Errorf("%s", a.problem())
	}
	return a, json.Unmarshal(a.Body, out)
}
