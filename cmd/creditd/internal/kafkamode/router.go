package kafkamode

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// kafkaRouter is the Server's api.EntityRouter in Kafka mode.
type kafkaRouter struct {
	mgr    *kf.Manager
	self   string
	km     *kafkaMetrics
	logger *slog.Logger
	client *http.Client
	mu     sync.Mutex
	proxy  map[string]*httputil.ReverseProxy
}

func newKafkaRouter(mgr *kf.Manager, self string, km *kafkaMetrics, logger *slog.Logger) *kafkaRouter {
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 60 * time.Second}
	return &kafkaRouter{mgr: mgr, self: self, km: km, logger: logger, client: &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		proxy: map[string]*httputil.ReverseProxy{}}
}

// Route implements api.EntityRouter.
func (k *kafkaRouter) Route(w http.ResponseWriter, r *http.Request, code uscc.Code) (*scoring.Engine, bool) {
	p := k.mgr.PartitionFor(code[:])
	if p < 0 {
		api.Unavailable(w, r, 2, "this instance has not joined its consumer group yet")
		return nil, false
	}
	st, ph := k.mgr.Lookup(p)
	switch ph {
	case kf.PhaseLive, kf.PhaseRetained:
		w.Header().Set(HeaderServedBy, k.self)
		return st.(*kafkaState).eng, true
	case kf.PhaseRestoring:
		retry, detail := 2, fmt.Sprintf("partition %d, which holds %s, is being restored", p, code)
		for _, ps := range k.mgr.Status().Held {
			if ps.Partition == p {
				detail += fmt.Sprintf(" (%.0f%% done)", 100*ps.Progress)
			}
		}
		api.Unavailable(w, r, retry, detail)
		return nil, false
	}
	owner, ok := k.mgr.Owner(p)
	if r.Header.Get(hdrForwarded) != "" || !ok || owner.Self || owner.Addr == "" || owner.Addr == k.self {
		k.mgr.RefreshOwners()
		k.km.proxied.WithLabelValues("unavailable").Inc()
		api.Unavailable(w, r, 1, fmt.Sprintf("partition %d, which holds %s, is changing owner", p, code))
		return nil, false
	}
	k.km.proxied.WithLabelValues("proxied").Inc()
	k.reverseProxy(owner.Addr).ServeHTTP(w, r)
	return nil, false
}

// Engines implements api.EntityRouter: the states held here that may be
// queried.
func (k *kafkaRouter) Engines() []*scoring.Engine {
	sts := k.mgr.States()
	ps := make([]int, 0, len(sts))
	for p := range sts {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	out := make([]*scoring.Engine, 0, len(ps))
	for _, p := range ps {
		out = append(out, sts[p].(*kafkaState).eng)
	}
	return out
}

// parts lists the held states as the monitoring scan takes them.
func (k *kafkaRouter) parts() []monitor.Part {
	sts := k.mgr.States()
	out := make([]monitor.Part, 0, len(sts))
	for p, st := range sts {
		out = append(out, monitor.Part{Partition: p, Engine: st.(*kafkaState).eng})
	}
	slices.SortFunc(out, func(a, b monitor.Part) int { return a.Partition - b.Partition })
	return out
}

// localPartitions lists the partitions Engines covers.
func (k *kafkaRouter) localPartitions() []int {
	var ps []int
	for p := range k.mgr.States() {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (k *kafkaRouter) reverseProxy(addr string) *httputil.ReverseProxy {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p := k.proxy[addr]; p != nil {
		return p
	}
	target := &url.URL{Scheme: "http", Host: addr}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(hdrForwarded, k.self)
		},
		Transport: k.client.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			k.logger.Warn("proxying to the partition's owner failed", "owner", addr, "err", err)
			k.mgr.RefreshOwners()
			api.Unavailable(w, r, 1, "the instance that holds this entity's partition did not answer; ownership is probably changing")
		},
	}
	k.proxy[addr] = p
	return p
}
