package api

import (
	_ "embed"
	"net/http"
)

// openAPIJSON is docs/openapi.yaml as JSON, generated from it by
// `go test ./cmd/creditd/internal/api -run TestOpenAPIJSON -update`; the
// test fails while the two differ.
//
//go:embed openapi.json
var openAPIJSON []byte

// OpenAPIJSON returns the API's OpenAPI 3.1 document (GET /v1/openapi.json).
func OpenAPIJSON() []byte { return append([]byte(nil), openAPIJSON...) }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeBytes(w, http.StatusOK, "application/json", openAPIJSON)
}
