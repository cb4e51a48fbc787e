package console

import (
	"net/http"
	"strings"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// noticesView is the transfer notices page's data.
type noticesView struct {
	Prefix string
	Doc    api.NoticesDoc
	Error  string
}

// handleNotices lists the announcements due before abnormal listings,
// unresolved for 3 years, move to the serious illegal and dishonest list
// (GET /v1/notices; domain.md §4.2: within the 60 days before the 3-year
// mark), for a region prefix.
func (c *Console) handleNotices(w http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("notices.title")
	nv := noticesView{Prefix: strings.TrimSpace(r.URL.Query().Get("region_prefix"))}
	if a, err := c.getJSON(r.Context(), "/v1/notices?region_prefix="+urlQueryEscape(nv.Prefix), v.token(), &nv.Doc); err != nil {
		nv.Error = err.Error()
		c.render(w, v, a.Status, "notices", nv)
		return
	}
	c.render(w, v, http.StatusOK, "notices", nv)
}
