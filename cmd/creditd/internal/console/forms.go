package console

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// formFile reads an uploaded file field, or else a pasted text field.
func formFile(r *http.Request, file, text string) ([]byte, error) {
	if f, _, err := r.FormFile(file); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxForm))
		if err == nil && len(b) > 0 {
			return b, nil
		}
	}
	if s := strings.TrimSpace(r.FormValue(text)); s != "" {
		return []byte(s), nil
	}
	return nil, errors.New("no file")
}

func urlPathEscape(s string) string { return url.PathEscape(s) }
