package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/signing"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/scoring"
)

// ConfigProblem is one invalid configuration value.
type ConfigProblem struct {
	Flag   string // flag name without dashes; "" for a problem of the command line as a whole
	Env    string // environment variable the value came from; "" for the command line
	Value  string // the value as given
	Reason string
}

// String is the problem on one line: "--max-body 12: must be at least
// 1024", or "CREDITD_MAX_BODY=12 (--max-body): …" for a value from the
// environment.
func (p ConfigProblem) String() string {
	switch {
	case p.Flag == "":
		return p.Reason
	case p.Env != "":
		return fmt.Sprintf("%s=%s (--%s): %s", p.Env, strconv.Quote(p.Value), p.Flag, p.Reason)
	default:
		return fmt.Sprintf("--%s %s: %s", p.Flag, strconv.Quote(p.Value), p.Reason)
	}
}

// ConfigError lists every invalid value of a configuration; creditd prints
// one line per problem and exits with status 2.
type ConfigError struct {
	Problems []ConfigProblem
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// rawValue wraps a flag's value to keep the text it was set from and to
// describe a value that does not parse.
type rawValue struct {
	flag.Value
	name string
	raw  map[string]string
	bad  **ConfigProblem
}

func (v *rawValue) Set(s string) error {
	v.raw[v.name] = s
	if err := v.Value.Set(s); err != nil {
		*v.bad = &ConfigProblem{Flag: v.name, Value: s, Reason: parseReason(v.Value, err)}
		return err
	}
	return nil
}

// IsBoolFlag keeps "--demo" (without a value) working.
func (v *rawValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseReason says why a value did not parse, by the flag's type.
func parseReason(v flag.Value, err error) string {
	if err.Error() == "value out of range" { // the flag package's errRange
		return "out of range"
	}
	g, _ := v.(flag.Getter)
	if g == nil {
		return err.Error()
	}
	switch g.Get().(type) {
	case bool:
		return "not a boolean (true or false)"
	case int, int64:
		return "not an integer"
	case uint64:
		return "not a non-negative integer"
	case time.Duration:
		return "not a duration (a number with a unit: 90s, 5m, 1h30m)"
	}
	return err.Error()
}

// validate checks every flag's final value and returns the problems
// (Value and Env are filled in by parseConfig).
func (c *Config) validate() []ConfigProblem {
	var out []ConfigProblem
	bad := func(name, format string, a ...any) {
		out = append(out, ConfigProblem{Flag: name, Reason: fmt.Sprintf(format, a...)})
	}
	if err := checkAddr(c.Listen, true); err != nil {
		bad("listen", "%v", err)
	}
	if c.AdvertiseAddr != "" {
		if err := checkAddr(c.AdvertiseAddr, false); err != nil {
			bad("advertise-addr", "%v", err)
		}
	}
	if c.PublicURL != "" {
		if err := checkPublicURL(c.PublicURL); err != nil {
			bad("public-url", "%v", err)
		}
	}
	if c.Data == "" {
		bad("data", "must not be empty")
	}
	if n := len(c.Issuer); n == 0 || n > 16 {
		bad("issuer", "must be 1–16 characters")
	}
	if c.KeyAlg != signing.AlgEd25519 && c.KeyAlg != signing.AlgSM2 {
		bad("key-alg", "unknown key algorithm (want %s or %s)", signing.AlgEd25519, signing.AlgSM2)
	}
	if _, err := scoring.DefaultModel(c.Scheme); err != nil {
		bad("scheme", "unknown tier scheme (want national-4 or shandong-5)")
	}
	if c.DemoEntities < 1 {
		bad("demo-entities", "must be at least 1")
	}
	if c.DemoDays < 1 {
		bad("demo-days", "must be at least 1")
	}
	if c.KafkaBrokers != "" {
		for b := range strings.SplitSeq(c.KafkaBrokers, ",") {
			if err := checkAddr(strings.TrimSpace(b), false); err != nil {
				bad("kafka-brokers", "broker %q: %v", strings.TrimSpace(b), err)
				break
			}
		}
	}
	for _, t := range []struct{ flag, topic string }{{"kafka-topic", c.KafkaTopic}, {"kafka-group", c.KafkaGroup},
		{"kafka-tiers-topic", c.KafkaTiers}, {"kafka-dlq-topic", c.KafkaDLQ}} {
		if err := checkKafkaName(t.topic); err != nil {
			bad(t.flag, "%v", err)
		}
	}
	if _, err := kf.ParsePartitioner(c.KafkaPartition); err != nil {
		bad("kafka-partitioner", "unknown partitioner (want crc32, murmur2 or fnv1a)")
	}
	if c.KafkaSessionTimeout < time.Second {
		bad("kafka-session-timeout", "must be at least 1s (brokers require 6s unless configured otherwise)")
	}
	if c.SnapshotInterval < 0 {
		bad("snapshot-interval", "must not be negative (0: only at shutdown)")
	}
	if c.SnapshotEvents < 0 {
		bad("snapshot-events", "must not be negative (0: no event-count trigger)")
	}
	if c.SweepInterval <= 0 {
		bad("sweep-interval", "must be positive")
	}
	if c.MaxIngest < 1 {
		bad("max-ingest", "must be at least 1")
	}
	if c.MaxConns < 1 {
		bad("max-conns", "must be at least 1")
	}
	if c.DrawMaxWork < 0 {
		bad("draw-max-work", "must not be negative (0: the default)")
	}
	if c.MaxBody < 1024 {
		bad("max-body", "must be at least 1024 (bytes)")
	}
	if c.ReportValidity < time.Second {
		bad("report-validity", "must be at least 1s (valid_until is issued_at plus this, in whole seconds)")
	} else if c.ReportValidity%time.Second != 0 {
		bad("report-validity", "must be whole seconds (report instants have no fraction)")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "unknown level (want debug, info, warn or error)")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "unknown format (want text or json)")
	}
	return out
}

// checkAddr checks a host:port address; listen addresses may leave the
// host empty (all interfaces) and use port 0 (any free port).
func checkAddr(addr string, listen bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("not a host:port address")
	}
	if host == "" && !listen {
		return errors.New("the host is missing (want host:port)")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	switch {
	case err != nil:
		return fmt.Errorf("port %q is not a number 0–65535", port)
	case p == 0 && !listen:
		return errors.New("port 0 is not reachable")
	}
	return nil
}

// maxPublicURL bounds --public-url: the verification URL adds about 105
// bytes, and a QR code of up to 213 bytes (version 10 at level M) stays
// small enough to print at 3 cm.
const maxPublicURL = 100

// checkPublicURL checks --public-url: an absolute http or https URL with a
// host and no query, fragment or user information.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case len(s) > maxPublicURL:
		return fmt.Errorf("longer than %d bytes (the QR code grows with it)", maxPublicURL)
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want an http:// or https:// URL")
	case u.Host == "":
		return errors.New("the host is missing")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.Contains(s, "#"):
		return errors.New("want scheme, host and an optional path only (no user, query or fragment)")
	}
	return nil
}

// publicURL is --public-url, or the default for the listener's address
// addr: http://addr, with the host name (hostname) in place of an
// all-interfaces address, which no reader can open.
func publicURL(given string, addr net.Addr, hostname func() (string, error)) string {
	if given != "" {
		return strings.TrimRight(given, "/")
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if name, err := hostname(); err == nil && name != "" {
			host = name
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// checkKafkaName checks a topic or group name: 1–249 of [a-zA-Z0-9._-]
// (Kafka's own rule for topics).
func checkKafkaName(s string) error {
	if s == "" || len(s) > 249 {
		return errors.New("must be 1–249 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("character %q not allowed (letters, digits, '.', '_', '-')", r)
		}
	}
	return nil
}
