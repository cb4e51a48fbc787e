package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/scoring"
)

// The operations files (docs/ops) must name only metrics creditd exports:
// a dashboard panel or an alert on a misspelt or removed metric shows
// nothing and never fires, silently. TestOpsFilesUseExportedMetrics
// extracts every metric name and every equality label matcher from the
// Grafana dashboard's queries and the alerting rules' expressions, runs
// creditd in local mode with the ClickHouse history sink (pointed at a
// closed port: the sink still registers its metrics and spools) and in
// Kafka mode (an in-process kfake broker), drives the routes the files
// select, scrapes /metrics of both, and requires each name to be an
// exported family (histogram series by their _bucket, _sum and _count
// names) and each matched label value to occur.

const (
	opsDashboard = "../../docs/ops/grafana-creditd.json"
	opsAlerts    = "../../docs/ops/alerts.yml"
)

// promSynthesised are series Prometheus itself adds to every target.
var promSynthesised = map[string]bool{"up": true}

// promqlWords are PromQL keywords that look like metric names.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
	"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "bool": true, "offset": true, "inf": true, "nan": true,
}

// promqlLabelLists are the keywords followed by a parenthesised list of
// label names (not metrics).
var promqlLabelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// selector is a metric named in an expression with its equality matchers.
type selector struct {
	name   string
	labels map[string]string
}

// promqlSelectors lists the metric selectors of a PromQL expression (with
// Grafana's $variables): identifiers that are not functions, keywords,
// label names, numbers, durations or strings. It is a scanner, not a
// parser, sufficient for checking names; promtool checks the syntax.
func promqlSelectors(expr string) ([]selector, error) {
	var out []selector
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
	}
	skipSpace := func(i int) int {
		for i < len(expr) && strings.ContainsRune(" \t\n\r", rune(expr[i])) {
			i++
		}
		return i
	}
	skipPast := func(i int, close byte) (int, error) {
		j := strings.IndexByte(expr[i:], close)
		if j < 0 {
			return 0, fmt.Errorf("unclosed %q at %d in %q", close, i, expr)
		}
		return i + j + 1, nil
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j, err := skipPast(i+1, c)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '[':
			j, err := skipPast(i+1, ']')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '{': // a selector without a name
			return nil, fmt.Errorf("selector without a metric name at %d in %q", i, expr)
		case c == '$' || '0' <= c && c <= '9' || c == '.': // variable, number or duration
			i++
			for i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.') {
				i++
			}
		case isIdent(c, true):
			j := i
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			word := expr[i:j]
			k := skipSpace(j)
			switch {
			case promqlLabelLists[word] && k < len(expr) && expr[k] == '(':
				next, err := skipPast(k, ')')
				if err != nil {
					return nil, err
				}
				i = next
			case promqlWords[word] || k < len(expr) && expr[k] == '(':
				i = j // keyword or function
			default:
				sel := selector{name: word, labels: map[string]string{}}
				i = j
				if k < len(expr) && expr[k] == '{' {
					end, err := matcherEnd(expr, k)
					if err != nil {
						return nil, err
					}
					for _, m := range promqlMatcher.FindAllStringSubmatch(expr[k+1:end], -1) {
						if m[2] == "=" {
							sel.labels[m[1]] = m[3]
						}
					}
					i = end + 1
				}
				out = append(out, sel)
			}
		default:
			i++
		}
	}
	return out, nil
}

var promqlMatcher = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)

// matcherEnd returns the index of the '}' closing the matchers at open,
// skipping quoted values.
func matcherEnd(expr string, open int) (int, error) {
	for i := open + 1; i < len(expr); i++ {
		switch expr[i] {
		case '"':
			for i++; i < len(expr) && expr[i] != '"'; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
		case '}':
			return i, nil
		}
	}
	return 0, fmt.Errorf("unclosed '{' at %d in %q", open, expr)
}

// A hand-made table: names after "by (...)", functions, keywords,
// durations, numbers, variables and strings are not metrics.
func TestPromQLSelectors(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up{job="creditd"} == 0`, []string{`up{job=creditd}`}},
		{`histogram_quantile(0.99, sum by (job, instance, le) (rate(a_seconds_bucket{route="GET /v1/x/{uscc}",code=~"5.."}[$__rate_interval]))) > 0.05`,
			[]string{`a_seconds_bucket{route=GET /v1/x/{uscc}}`}},
		{"(time() - b_ts > 1800)\nand on (job, instance)\nsum by(job,instance) (rate(c_total{outcome=\"applied\"}[15m])) > 3e6",
			[]string{`b_ts{}`, `c_total{outcome=applied}`}},
		{`x:rate5m - y offset 1h unless z{l!="v"}`, []string{`x:rate5m{}`, `y{}`, `z{}`}},
		{`max without (instance) (m{a="1",b="}"}) * on (p) group_left (q) n`, []string{`m{a=1,b=}}`, `n{}`}},
		{`sum(increase(k_total{job=~"$job"}[1d]))`, []string{`k_total{}`}},
	} {
		sels, err := promqlSelectors(c.expr)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		var got []string
		for _, s := range sels {
			var ls []string
			for k, v := range s.labels {
				ls = append(ls, k+"="+v)
			}
			slices.Sort(ls)
			got = append(got, s.name+"{"+strings.Join(ls, ",")+"}")
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q:\n got %q\nwant %q", c.expr, got, c.want)
		}
	}
	for _, bad := range []string{`{job="x"}`, `a{b="c"`, `rate(a[5m)`} {
		if _, err := promqlSelectors(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// dashboardExprs returns the queries of the Grafana dashboard: every
// panel target (rows' nested panels included) and every query variable
// (label_values(SELECTOR, label) gives its selector).
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(opsDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []dashPanel
		Templating struct {
			List []struct {
				Name, Type string
				Query      json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", opsDashboard, err)
	}
	out := map[string]string{}
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("panel %q target %s has no expr", p.Title, tg.RefID)
				}
				out[fmt.Sprintf("panel %q %s", p.Title, tg.RefID)] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(SELECTOR, label)", v.Name, q.Query)
		}
		out["variable "+v.Name] = m[1]
	}
	return out
}

type dashPanel struct {
	Title   string
	Targets []struct {
		Expr  string
		RefID string `json:"refId"`
	}
	Panels []dashPanel
}

// alertExprs returns each alert's expr from the rules file. The file
// writes them as `expr: ONE LINE` or `expr: |` and an indented block;
// any other form fails the test rather than being skipped.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(opsAlerts)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	out := map[string]string{}
	alert := ""
	alerts := 0
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if name, ok := strings.CutPrefix(l, "- alert:"); ok {
			alert = strings.TrimSpace(name)
			alerts++
			continue
		}
		rest, ok := strings.CutPrefix(l, "expr:")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		switch {
		case rest == "|":
			indent := -1
			var block []string
			for i+1 < len(lines) {
				n := lines[i+1]
				ind := len(n) - len(strings.TrimLeft(n, " "))
				if strings.TrimSpace(n) != "" && (indent >= 0 && ind < indent || indent < 0 && ind <= strings.Index(lines[i], "expr:")) {
					break
				}
				if indent < 0 && strings.TrimSpace(n) != "" {
					indent = ind
				}
				block = append(block, strings.TrimSpace(n))
				i++
			}
			rest = strings.TrimSpace(strings.Join(block, "\n"))
		case rest == "" || strings.ContainsAny(rest[:1], "|>'\"&*"):
			t.Fatalf("%s: alert %s: unsupported expr form %q", opsAlerts, alert, rest)
		}
		if alert == "" || out[alert] != "" || rest == "" {
			t.Fatalf("%s: expr %q without its own alert", opsAlerts, rest)
		}
		out[alert] = rest
	}
	if len(out) != alerts || alerts == 0 {
		t.Fatalf("%s: %d alerts, %d exprs", opsAlerts, alerts, len(out))
	}
	return out
}

// scrapeFamilies parses a /metrics body.
func scrapeFamilies(t *testing.T, s *service) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := s.do("GET", "/metrics", api.RolePublic, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// family finds the family a series name belongs to: itself, or a
// histogram's (or a summary's) _bucket, _sum or _count series.
func family(fams map[string]*dto.MetricFamily, name string) (*dto.MetricFamily, bool) {
	if f, ok := fams[name]; ok {
		return f, true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suf)
		if !ok {
			continue
		}
		f, ok := fams[base]
		if !ok {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			return f, true
		case dto.MetricType_SUMMARY:
			return f, suf != "_bucket"
		}
	}
	return nil, false
}

// hasLabel reports whether a series of f has label name (with value
// *value unless value is nil).
func hasLabel(f *dto.MetricFamily, name string, value *string) bool {
	return slices.ContainsFunc(f.Metric, func(m *dto.Metric) bool {
		return slices.ContainsFunc(m.Label, func(lp *dto.LabelPair) bool {
			return lp.GetName() == name && (value == nil || lp.GetValue() == *value)
		})
	})
}

// opsScrapes runs creditd in both modes, drives the routes the ops files
// select and returns the union of the scraped families.
func opsScrapes(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	all := map[string]*dto.MetricFamily{}
	merge := func(fams map[string]*dto.MetricFamily) {
		for name, f := range fams {
			if g, ok := all[name]; ok {
				g.Metric = append(g.Metric, f.Metric...)
			} else {
				all[name] = f
			}
		}
	}
	lines := genLines(t, 30, 60, 11, 0)

	// Local mode with the ClickHouse sink (nothing listens on port 1) and
	// a model with a reference distribution, so that drift is measured.
	data := t.TempDir()
	champ, _ := testModels(t)
	local := startService(t, data, "--clickhouse-dsn", "127.0.0.1:1", "--model", writeModel(t, t.TempDir(), champ),
		"--monitor-interval", "50ms")
	if res, _ := local.postEvents(api.RoleSource, append(joinLines(lines), "not json\n"...)); res.Applied == 0 || len(res.Rejected) != 1 {
		t.Fatalf("ingest: %+v", res)
	}
	waitUntil(t, "a drift measurement", 30*time.Second, func() bool { _, ok := scrapePSI(t, local)["champion"]; return ok })
	if resp, _ := local.do("GET", "/v1/reports/"+string(keyOf(lines[0])), api.RolePublic, nil); resp.StatusCode != 200 {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	local.do("POST", "/v1/draws", api.RoleRegulator, strings.NewReader("{}")) // a refused draw still counts its route
	merge(scrapeFamilies(t, local))
	local.stop()

	// Kafka mode: one member holding every partition of a kfake topic.
	c := newKafkaCluster(t)
	kdata := t.TempDir()
	sharedTokens(t, kdata)
	produceLines(t, c.ListenAddrs(), lines)
	km := startService(t, kdata, kafkaArgs(c, kdata)...)
	ends := endOffsets(t, c.ListenAddrs(), kf.DefaultTopic, kafkaTestParts)
	waitUntil(t, "caught up", 60*time.Second, func() bool { return caughtUpTo(ends, km.base) })
	merge(scrapeFamilies(t, km))
	return all
}

func TestOpsFilesUseExportedMetrics(t *testing.T) {
	exprs := dashboardExprs(t)
	nDash := len(exprs)
	for name, e := range alertExprs(t) {
		exprs["alert "+name] = e
	}
	// Every metric the files name, with where and the label values matched.
	type use struct {
		where  string
		labels map[string]string
	}
	uses := map[string][]use{}
	dashNames := map[string]bool{}
	for where, e := range exprs {
		sels, err := promqlSelectors(e)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if len(sels) == 0 {
			t.Errorf("%s: no metric in %q", where, e)
		}
		for _, s := range sels {
			uses[s.name] = append(uses[s.name], use{where, s.labels})
			if !strings.HasPrefix(where, "alert ") {
				dashNames[s.name] = true
			}
		}
	}
	if nDash < 30 || len(dashNames) < 30 {
		t.Fatalf("only %d dashboard queries naming %d metrics: the files were not read as expected", nDash, len(dashNames))
	}

	fams := opsScrapes(t)
	for _, name := range slices.Sorted(maps.Keys(uses)) {
		if promSynthesised[name] {
			continue
		}
		f, ok := family(fams, name)
		if !ok {
			t.Errorf("%s (used by %s) is not exported by creditd", name, uses[name][0].where)
			continue
		}
		if hasLabel(f, "tier", nil) {
			t.Errorf("%s has a tier label: tiers are internal and must not be on a dashboard or in an alert", name)
		}
		for _, u := range uses[name] {
			for k, v := range u.labels {
				switch k {
				case "job", "instance", "le": // target labels, bucket bounds
					continue
				case "tier":
					t.Errorf("%s: %s selects by tier", u.where, name)
				}
				if !hasLabel(f, k, &v) {
					t.Errorf("%s: no series of %s has %s=%q", u.where, name, k, v)
				}
			}
		}
	}
}

// The dashboard's queries are valid PromQL: promtool checks them as
// recording rules, with Grafana's variables replaced.
func TestDashboardExprsParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not installed (.ci/run installs it)")
		}
		t.Skip("promtool not installed (apt-get install prometheus; .ci/run installs it)")
	}
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	vars := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*", "$instance", ".*")
	exprs := dashboardExprs(t)
	for i, k := range slices.Sorted(maps.Keys(exprs)) {
		q, _ := json.Marshal(vars.Replace(exprs[k])) // a JSON string is a YAML double-quoted scalar
		fmt.Fprintf(&b, "      - record: dashboard:q%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// The snapshot age the "snapshot too old" alert reads
// (docs/ops/alerts.yml): creditd_snapshot_timestamp_seconds is the newest
// snapshot file's modification time, also right after a restart, and
// creditd_log_unsnapshotted_records counts the log records a restart would
// replay.
func TestSnapshotAgeMetrics(t *testing.T) {
	data := t.TempDir()
	s := startService(t, data)
	_, body := s.do("GET", "/metrics", api.RolePublic, nil)
	if got := metricValue(t, body, `creditd_snapshot_timestamp_seconds`); got != 0 {
		t.Errorf("no snapshot yet: timestamp %v, want 0", got)
	}
	if got := metricValue(t, body, `creditd_log_unsnapshotted_records`); got != 0 {
		t.Errorf("empty log: unsnapshotted %v, want 0", got)
	}
	res, _ := s.postEvents(api.RoleSource, joinLines(genLines(t, 40, 60, 5, 0)))
	if res.Applied == 0 {
		t.Fatal("nothing applied")
	}
	_, body = s.do("GET", "/metrics", api.RolePublic, nil)
	if got := metricValue(t, body, `creditd_log_unsnapshotted_records`); int(got) != res.Applied {
		t.Errorf("unsnapshotted %v, want the %d applied events (no snapshot before shutdown)", got, res.Applied)
	}
	s.stop() // writes the shutdown snapshot

	names, _, err := scoring.SnapshotFiles(filepath.Join(data, "snapshots"))
	if err != nil || len(names) != 1 {
		t.Fatalf("snapshots after shutdown: %v %v", names, err)
	}
	fi, err := os.Stat(names[0])
	if err != nil {
		t.Fatal(err)
	}
	s = startService(t, data)
	_, body = s.do("GET", "/metrics", api.RolePublic, nil)
	want := float64(fi.ModTime().UnixNano()) / 1e9
	if got := metricValue(t, body, `creditd_snapshot_timestamp_seconds`); math.Abs(got-want) > 1e-3 {
		t.Errorf("after a restart: timestamp %v, want the file's mtime %v", got, want)
	}
	if got := metricValue(t, body, `creditd_log_unsnapshotted_records`); got != 0 {
		t.Errorf("after a restart from the shutdown snapshot: unsnapshotted %v, want 0", got)
	}
}
