package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/kafkamode"
	"github.com/creditrisk/creditd/cmd/creditd/internal/localmode"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportpage"
	"github.com/creditrisk/creditd/cmd/creditd/internal/signing"
	"github.com/creditrisk/creditd/models/workday"
)

// loadIssuer loads the signing key (--key, or DATA/keys/signing.pem,
// generated with mode 0600 and algorithm --key-alg on first start) and returns the issuer and the
// JWKS document served at GET /v1/keys.
func loadIssuer(cfg *Config, keyDir string) (*issue.Issuer, []byte, error) {
	var (
		k   *signing.Key
		err error
	)
	if cfg.Key != "" {
		k, err = signing.Load(cfg.Key)
	} else {
		k, _, err = signing.LoadOrGenerate(filepath.Join(keyDir, "signing.pem"), cfg.KeyAlg)
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
	ids, err := reportid.NewKey(cfg.Issuer, k.Private)
	if err != nil {
		return nil, nil, err
	}
	qk, err := signing.QueryKey(k.Private)
	if err != nil {
		return nil, nil, err
	}
	return &issue.Issuer{Code: cfg.Issuer, Name: name, KeyID: k.KeyID, Priv: k.Private, Validity: cfg.ReportValidity,
		IDs: ids, QueryKey: qk, Calendar: workday.New()}, jwks, nil
}

// newLocal is the local mode (internal/localmode).
func newLocal(ctx context.Context, c *common) (*localmode.Service, error) {
	cfg := c.cfg
	o := localmode.Options{Dirs: c.dirs, DataDir: cfg.Data, WALSalvage: cfg.WALSalvage, SnapshotInterval: cfg.SnapshotInterval,
		SnapshotEvents: cfg.SnapshotEvents, SweepInterval: cfg.SweepInterval, ClickHouseDSN: cfg.ClickHouseDSN, Files: cfg.Files,
		Shared: c.shared()}
	if cfg.Demo {
		o.Demo = &ingest.DemoOptions{Entities: cfg.DemoEntities, Days: cfg.DemoDays, Seed: cfg.DemoSeed, Region: cfg.Issuer}
	}
	return localmode.New(ctx, o)
}

// newKafka is the Kafka mode (internal/kafkamode) listening on addr.
func newKafka(ctx context.Context, c *common, addr net.Addr) (*kafkamode.Member, error) {
	cfg := c.cfg
	return kafkamode.New(ctx, kafkamode.Options{
		Brokers: cfg.KafkaBrokers, Topic: cfg.KafkaTopic, Group: cfg.KafkaGroup, TiersTopic: cfg.KafkaTiers,
		DeadLetterTopic: cfg.KafkaDLQ, Partitioner: cfg.KafkaPartition, Advertise: cfg.AdvertiseAddr,
		SessionTimeout: cfg.KafkaSessionTimeout, SnapshotEvents: cfg.SnapshotEvents, SnapshotInterval: cfg.SnapshotInterval,
		SweepInterval: cfg.SweepInterval, ShutdownTimeout: cfg.ShutdownTimeout, ClickHouseDSN: cfg.ClickHouseDSN,
		DataDir: cfg.Data, DrawDir: c.dirs["draws"], Shared: c.shared()}, addr)
}

// shared is what both modes take from the wiring.
func (c *common) shared() api.Shared {
	return api.Shared{API: c.cfg.apiConfig(), Model: c.model, Exceptions: c.exc, Tokens: c.tokens, Issuer: c.issuer,
		JWKS: c.jwks, RenderHTML: reportpage.Renderer{PublicURL: c.publicURL}.Render, Metrics: c.metrics, Logger: c.logger, Stdout: c.stdout}
}
