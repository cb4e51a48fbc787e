package main

import (
	"io"
	"os"
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
