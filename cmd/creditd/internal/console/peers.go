package console

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// peersView is the peers page's data: the live JWKS and, for a USCC
// asked for, a live public report as the example.
type peersView struct {
	JWKS    string
	USCC    string
	Example string
	Error   string
}

// handlePeers explains credit-report/v1 to other provinces with a live
// example and the service's keys (GET /v1/keys), and links the verifier.
func (c *Console) handlePeers(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("peers.title")
	d := peersView{USCC: normUSCC(r.URL.Query().Get("uscc"))}
	keys := c.call(r.Context(), http.MethodGet, "/v1/keys", "", nil)
	d.JWKS = indent(keys.Body)
	if d.USCC != "" {
		if _, raw, err := c.publicReport(r, d.USCC); err != nil {
			d.Error = err.Error()
		} else {
			d.Example = indent(raw)
		}
	}
	c.render(w, v, http.StatusOK, "peers", d)
}

func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, bytes.TrimSpace(b), "", "  ") != nil {
		return string(b)
	}
	return out.String()
}
