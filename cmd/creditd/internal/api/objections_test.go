package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A JSON body of the write routes is one value and nothing after it but
// whitespace: a stray closing bracket or brace after the object (which
// json.Decoder.More passes) is refused like any other trailing data, and
// a body over the bound is 413.
func TestReadJSONBodyOneValue(t *testing.T) {
	for body, want := range map[string]int{
		`{"a":"x"}`:                           http.StatusOK,
		" \n{\"a\":\"x\"}\r\n\t ":             http.StatusOK,
		`{"a":"x"}]`:                          http.StatusBadRequest,
		`{"a":"x"}}`:                          http.StatusBadRequest,
		`{"a":"x"} x`:                         http.StatusBadRequest,
		`{"a":"x"}{}`:                         http.StatusBadRequest,
		`{"a":"x"}` + "\x00":                  http.StatusBadRequest,
		`{"a":"x","b":1}`:                     http.StatusBadRequest,
		`{"a":"x"}` + strings.Repeat(" ", 64): http.StatusRequestEntityTooLarge,
	} {
		var v struct {
			A string `json:"a"`
		}
		rec := httptest.NewRecorder()
		code := http.StatusOK
		if !readJSONBody(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)), 64, &v) {
			code = rec.Code
		}
		if code != want || code == http.StatusOK && v.A != "x" {
			t.Errorf("%q: %d (%+v), want %d", body, code, v, want)
		}
	}
}
