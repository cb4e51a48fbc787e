package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestConfigEnvAndFlags(t *testing.T) {
	env := map[string]string{"CREDITD_DATA": "/tmp/x", "CREDITD_DEMO": "true", "CREDITD_SNAPSHOT_INTERVAL": "10s", "CREDITD_LISTEN": "127.0.0.1:1"}
	c, err := parseConfig([]string{"--listen", "127.0.0.1:2", "a.ndjson", "b.ndjson"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Data != "/tmp/x" || !c.Demo || c.SnapshotInterval != 10*time.Second || c.Listen != "127.0.0.1:2" || len(c.Files) != 2 {
		t.Errorf("config %+v", c)
	}
	if _, err := parseConfig(nil, func(k string) string {
		if k == "CREDITD_DEMO" {
			return "maybe"
		}
		return ""
	}, io.Discard); err == nil {
		t.Error("a bad environment value was accepted")
	}
	if _, err := parseConfig([]string{"--no-such-flag"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

// The README documents every flag and its environment variable.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, name := range envNames() {
		flag := "--" + strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "CREDITD_")), "_", "-")
		if !strings.Contains(readme, flag) || !strings.Contains(readme, name) {
			t.Errorf("README does not document %s / %s", flag, name)
		}
	}
}

// Every invalid value of every flag is refused with one line naming the
// flag and why; from the environment the line names the variable too.
func TestConfigInvalidValues(t *testing.T) {
	cases := []struct {
		flag, value, reason string
	}{
		{"listen", "8080", "not a host:port address"},
		{"listen", "127.0.0.1:65536", "not a number 0–65535"},
		{"listen", "127.0.0.1:http", "not a number"},
		{"advertise-addr", ":8080", "host is missing"},
		{"advertise-addr", "10.0.0.1:0", "port 0"},
		{"advertise-addr", "10.0.0.1", "not a host:port"},
		{"public-url", "credit.example.gov.cn", "want an http:// or https:// URL"},
		{"public-url", "ftp://credit.example.gov.cn", "want an http:// or https:// URL"},
		{"public-url", "https://", "host is missing"},
		{"public-url", "https://credit.example.gov.cn/?x=1", "no user, query or fragment"},
		{"public-url", "https://credit.example.gov.cn/#top", "no user, query or fragment"},
		{"public-url", "https://u:p@credit.example.gov.cn", "no user, query or fragment"},
		{"public-url", "https://credit.example.gov.cn/" + strings.Repeat("p", 71), "longer than 100 bytes"},
		{"public-url", "https://bad host", "not a URL"},
		{"data", "", "must not be empty"},
		{"issuer", "", "1–16 characters"},
		{"issuer", "12345678901234567", "1–16 characters"},
		{"scheme", "national-5", "unknown tier scheme"},
		{"key-alg", "rsa", "unknown key algorithm (want ed25519 or sm2)"},
		{"key-alg", "SM2", "unknown key algorithm"},
		{"demo", "maybe", "not a boolean"},
		{"demo-entities", "0", "at least 1"},
		{"demo-entities", "-5", "at least 1"},
		{"demo-entities", "many", "not an integer"},
		{"demo-entities", "99999999999999999999", "out of range"},
		{"demo-days", "0", "at least 1"},
		{"demo-seed", "-1", "not a non-negative integer"},
		{"kafka-brokers", "broker1", "not a host:port"},
		{"kafka-brokers", "b1:9092,:9092", "host is missing"},
		{"kafka-topic", "credit events", "not allowed"},
		{"kafka-group", strings.Repeat("g", 250), "1–249"},
		{"kafka-tiers-topic", "tiers/x", "not allowed"},
		{"kafka-dlq-topic", "dlq!", "not allowed"},
		{"kafka-partitioner", "random", "unknown partitioner"},
		{"kafka-session-timeout", "999ms", "at least 1s"},
		{"kafka-session-timeout", "0", "at least 1s"},
		{"kafka-session-timeout", "10", "not a duration"},
		{"snapshot-interval", "-1s", "must not be negative"},
		{"snapshot-interval", "5 minutes", "not a duration"},
		{"snapshot-events", "-1", "must not be negative"},
		{"draw-max-work", "-1", "must not be negative"},
		{"max-ingest", "0", "must be at least 1"},
		{"max-conns", "0", "must be at least 1"},
		{"sweep-interval", "0", "must be positive"},
		{"sweep-interval", "-1m", "must be positive"},
		{"max-body", "0", "at least 1024"},
		{"max-body", "1023", "at least 1024"},
		{"max-body", "-1", "at least 1024"},
		{"max-body", "1KiB", "not an integer"},
		{"report-validity", "-1h", "at least 1s"},
		{"report-validity", "0s", "at least 1s"},
		{"report-validity", "999ms", "at least 1s"},
		{"report-validity", "1.5s", "whole seconds"},
		{"report-validity", "1d", "not a duration"},
		{"shutdown-timeout", "0", "must be positive"},
		{"shutdown-timeout", "-5s", "must be positive"},
		{"log-level", "verbose", "unknown level"},
		{"log-level", "INFO+2", "unknown level"},
		{"log-format", "xml", "unknown format"},
	}
	for _, tc := range cases {
		env := envName(tc.flag)
		// On the command line.
		_, err := parseConfig([]string{"--" + tc.flag + "=" + tc.value}, func(string) string { return "" }, io.Discard)
		want := "--" + tc.flag + " " + strconv.Quote(tc.value) + ": "
		checkOneProblem(t, err, want, tc.reason)
		// From the environment (an empty variable is unset: skip those).
		if tc.value == "" {
			continue
		}
		_, err = parseConfig(nil, func(k string) string {
			if k == env {
				return tc.value
			}
			return ""
		}, io.Discard)
		checkOneProblem(t, err, env+"="+strconv.Quote(tc.value)+" (--"+tc.flag+"): ", tc.reason)
	}
}

func checkOneProblem(t *testing.T, err error, prefix, reason string) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("%s: got %v, want a ConfigError", prefix, err)
		return
	}
	msg := ce.Error()
	if len(ce.Problems) != 1 || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, reason) {
		t.Errorf("got %q, want one line %q…%q", msg, prefix, reason)
	}
}

// The defaults are valid; a valid command-line value overrides an invalid
// environment value that parses; every invalid value is reported.
func TestConfigDefaultsOverridesAndAllProblems(t *testing.T) {
	if _, err := parseConfig(nil, func(string) string { return "" }, io.Discard); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	env := map[string]string{"CREDITD_MAX_BODY": "12"}
	c, err := parseConfig([]string{"--max-body", "2048"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.MaxBody != 2048 {
		t.Fatalf("override: %v %+v", err, c)
	}
	// Boundary values that are valid.
	c, err = parseConfig([]string{"--max-body", "1024", "--report-validity", "1s", "--snapshot-interval", "0",
		"--snapshot-events", "0", "--listen", ":0", "--log-level", "DEBUG", "--kafka-session-timeout", "1s",
		"--demo-entities", "1", "--demo-days", "1", "--kafka-brokers", "a:1, b:9092", "--advertise-addr", "h:1"},
		func(string) string { return "" }, io.Discard)
	if err != nil || c.MaxBody != 1024 || c.ReportValidity != time.Second {
		t.Fatalf("valid boundary values refused: %v", err)
	}
	env = map[string]string{"CREDITD_DEMO_ENTITIES": "0", "CREDITD_LOG_FORMAT": "xml"}
	_, err = parseConfig([]string{"--max-body", "0"}, func(k string) string { return env[k] }, io.Discard)
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

// The binary's entry point: an invalid value exits with status 2 and one
// line on stderr (it used to exit 2 in silence).
func TestConfigErrorExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		line string
	}{
		{[]string{"--max-body", "0"}, nil, "creditd: --max-body \"0\": must be at least 1024 (bytes)\n"},
		{[]string{"--demo-entities", "0"}, nil, "creditd: --demo-entities \"0\": must be at least 1\n"},
		{nil, map[string]string{"CREDITD_MAX_BODY": "12"}, "creditd: CREDITD_MAX_BODY=\"12\" (--max-body): must be at least 1024 (bytes)\n"},
		{[]string{"--report-validity", "-1h"}, nil, "creditd: --report-validity \"-1h\": must be at least 1s (valid_until is issued_at plus this, in whole seconds)\n"},
		{[]string{"--no-such-flag"}, nil, "creditd: flag provided but not defined: -no-such-flag\n"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"--data", t.TempDir()}, tc.args...),
			func(k string) string { return tc.env[k] }, &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 {
			t.Errorf("%v %v: exit status %d, want 2", tc.args, tc.env, code)
		}
		if stderr.String() != tc.line || stdout.Len() != 0 {
			t.Errorf("%v %v: stderr %q stdout %q, want %q", tc.args, tc.env, stderr.String(), stdout.String(), tc.line)
		}
	}
}

// --public-url: as given (without a trailing slash), or http:// and the
// listener's address, with the host name for an all-interfaces address
// (which no reader of a printout could open) and the port actually bound.
func TestPublicURL(t *testing.T) {
	host := func() (string, error) { return "creditd-1.example", nil }
	noHost := func() (string, error) { return "", errors.New("no name") }
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		given, addr string
		hostname    func() (string, error)
		want        string
	}{
		{"https://credit.example.gov.cn/", "127.0.0.1:8080", host, "https://credit.example.gov.cn"},
		{"https://credit.example.gov.cn/creditd", "0.0.0.0:8080", host, "https://credit.example.gov.cn/creditd"},
		{"", "127.0.0.1:41234", host, "http://127.0.0.1:41234"},
		{"", "[::1]:8080", host, "http://[::1]:8080"},
		{"", "0.0.0.0:8080", host, "http://creditd-1.example:8080"},
		{"", "[::]:8080", host, "http://creditd-1.example:8080"},
		{"", "0.0.0.0:8080", noHost, "http://0.0.0.0:8080"},
	} {
		if got := publicURL(tc.given, tcp(tc.addr), tc.hostname); got != tc.want {
			t.Errorf("publicURL(%q, %s) = %q, want %q", tc.given, tc.addr, got, tc.want)
		}
	}
	// 100 bytes is the most (TestConfigInvalidValues refuses 101).
	if u := "https://credit.example.gov.cn/" + strings.Repeat("p", 70); len(u) != 100 || checkPublicURL(u) != nil {
		t.Errorf("a %d-byte URL refused: %v", len(u), checkPublicURL(u))
	}
}
