package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportpage"
	"github.com/creditrisk/creditd/cmd/creditd/internal/signing"
	"github.com/creditrisk/creditd/feeds/deadletter"
	"github.com/creditrisk/creditd/models"
)

// loadIssuer loads the signing key (--key, or DATA/keys/signing.pem,
// generated with mode 0600 on first start) and returns the issuer and the
// JWKS document served at GET /v1/keys.
func loadIssuer(cfg *Config, keyDir string) (*issue.Issuer, []byte, error) {
	var (
		k   *signing.Key
		err error
	)
	if cfg.Key != "" {
		k, err = signing.Load(cfg.Key)
	} else {
		k, _, err = signing.LoadOrGenerate(filepath.Join(keyDir, "signing.pem"))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("signing key: %w", err)
	}
	name := cfg.IssuerName
	if name == "" {
		name = issue.ProvinceName(cfg.Issuer)
	}
	if name == "" {
		name = "Issuer " + cfg.Issuer
	}
	jwks, err := json.Marshal(k.JWKS)
	if err != nil {
		return nil, nil, err
	}
	return &issue.Issuer{Code: cfg.Issuer, Name: name, KeyID: k.KeyID, Priv: k.Private, Validity: cfg.ReportValidity}, jwks, nil
}

// openDeadLetters opens the dead-letter file of the data directory.
func openDeadLetters(dir string) (*deadletter.FileSink, error) {
	s, err := deadletter.OpenFile(filepath.Join(dir, "deadletters.ndjson"), deadletter.Options{})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return s, nil
}

// reportHTML renders a report as the printable page.
func reportHTML(w io.Writer, r *models.Report) error { return reportpage.Render(w, r) }
