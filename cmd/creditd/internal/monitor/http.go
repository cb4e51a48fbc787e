package monitor

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
)

// ServeChallenger implements api.ModelMonitor: the latest scan's Doc
// (503 with Retry-After before the first scan finished).
func (m *Monitor) ServeChallenger(w http.ResponseWriter, r *http.Request) {
	d := m.Latest()
	if d == nil {
		api.Unavailable(w, r, 5, "the first model monitoring scan has not finished; retry shortly")
		return
	}
	api.WriteJSON(w, http.StatusOK, d)
}

// ServeMetrics implements api.ModelMonitor: the tier-labelled metrics of
// the latest scan in the Prometheus text format.
func (m *Monitor) ServeMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
