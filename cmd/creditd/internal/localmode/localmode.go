// Package localmode is creditd in local mode: one engine holding every
// entity, the durable log under DATA/log and the ingester (internal/ingest)
// applying every event, files and the demo province loaded at start.
package localmode

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/creditrisk/creditd/models/uscc"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/history"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/monitor"
	"github.com/creditrisk/creditd/feeds/deadletter"
	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/scoring"
)

// Options configure a Service.
type Options struct {
	Dirs             map[string]string // DATA's sub-directories: log, snapshots, deadletters, draws
	DataDir          string
	WALSalvage       bool // --wal-salvage
	SnapshotInterval time.Duration
	SnapshotEvents   int
	SweepInterval    time.Duration
	ClickHouseDSN    string
	Files            []string            // NDJSON event files ingested at start
	Demo             *ingest.DemoOptions // the demo province, nil: none

	// Shared is what every mode takes: configuration, model, keys,
	// tokens, observability.
	api.Shared
}

// Service is creditd in local mode.
type Service struct {
	o    Options
	eng  *scoring.Engine
	log  *wal.Log
	dlq  *deadletter.FileSink
	ing  *ingest.Ingester
	hist *history.History // nil without --clickhouse-dsn
	srv  *api.Server
	mon  *monitor.Monitor
	t0   time.Time // start of recovery
}

// New opens the log and the dead letters and builds the Service; Recover
// restores the state.
func New(ctx context.Context, o Options) (_ *Service, err error) {
	logger, m := o.Logger, o.Metrics
	l := &Service{o: o}
	defer func() {
		if err != nil {
			l.Close(context.Background())
		}
	}()
	if l.eng, err = scoring.New(scoring.Options{Model: o.Model, Rules: o.Rules}); err != nil {
		return nil, err
	}
	if l.log, err = ingest.OpenLog(o.Dirs["log"], o.WALSalvage, logger.With("component", "log")); err != nil {
		return nil, err
	}
	if l.dlq, err = openDeadLetters(o.Dirs["deadletters"]); err != nil {
		return nil, err
	}
	m.WatchSnapshots(o.Dirs["snapshots"], l.log)
	l.ing = ingest.New(l.eng, l.log, l.dlq, m, logger.With("component", "ingest"), ingest.Options{
		SnapshotDir: o.Dirs["snapshots"], SnapshotInterval: o.SnapshotInterval,
		SnapshotEvents: o.SnapshotEvents, SweepInterval: o.SweepInterval})
	ao := api.Options{Config: o.API, Engine: l.eng, Ingester: l.ing, Tokens: o.Tokens, Issuer: o.Issuer, JWKS: o.JWKS,
		Metrics: m, Logger: logger, Exceptions: o.Exceptions, RenderHTML: o.RenderHTML, DrawDir: o.Dirs["draws"]}
	if o.ClickHouseDSN != "" {
		l.hist, err = history.Open(ctx, history.Options{DSN: o.ClickHouseDSN, DataDir: o.DataDir, Metrics: m,
			Logger: logger.With("component", "clickhouse"), Scheme: l.eng.Scheme().ID,
			Engine: func(uscc.Code) *scoring.Engine { return l.eng }, Model: o.Model})
		if err != nil {
			return nil, err
		}
		l.ing.AddObserver(l.hist)
		ao.History, ao.OnDraw = l.hist, l.hist.DrawDone
	}
	mo := monitor.Options{Champion: o.Model, Challenger: o.Challenger, Interval: o.MonitorInterval, Metrics: m,
		Logger: logger.With("component", "monitor"), Parts: func() []monitor.Part { return []monitor.Part{{Partition: -1, Engine: l.eng}} }}
	if l.hist != nil {
		mo.Export = l.hist.Monitored
	}
	if l.mon, err = monitor.New(mo); err != nil {
		return nil, err
	}
	ao.Monitor = l.mon
	if l.srv, err = api.New(ao); err != nil {
		return nil, err
	}
	return l, nil
}

// Server is the HTTP API.
func (l *Service) Server() *api.Server { return l.srv }

// Handler serves the HTTP API.
func (l *Service) Handler() http.Handler { return l.srv }

// StopRunFirst is false: requests in flight still ingest while the HTTP
// server shuts down; Run stops after it.
func (l *Service) StopRunFirst() bool { return false }

// Run is the ingester until ctx ends; it then drains what was submitted
// and writes a final snapshot.
func (l *Service) Run(ctx context.Context) error { return l.ing.Run(ctx) }

// Stopped is what the "stopped" line says.
func (l *Service) Stopped() []any { return []any{"applied", l.ing.Applied()} }

// Listening describes the service for the "listening" lines.
func (l *Service) Listening() ([]any, string) {
	return []any{"model", l.eng.ModelName(), "data", l.o.DataDir, "tokens", l.o.Tokens.Len(), "key_id", l.o.Issuer.KeyID},
		"model " + l.eng.ModelName()
}

// Recover restores the newest valid snapshot, then the log tail.
func (l *Service) Recover(ctx context.Context) error {
	l.t0 = time.Now()
	if err := l.ing.Recover(ctx, l.o.Exceptions, l.o.Logger); err != nil {
		return err
	}
	l.o.Metrics.Recovery.Set(time.Since(l.t0).Seconds())
	return nil
}

// Start ingests the files on the command line, then the demo province,
// and then announces readiness; the model monitoring scans run from then
// on until runCtx ends, the first at once.
func (l *Service) Start(ctx, runCtx context.Context) error {
	go l.mon.Run(runCtx)
	logger := l.o.Logger
	for _, f := range l.o.Files {
		if err := ingest.File(ctx, l.ing, f, l.o.Exceptions, logger); err != nil {
			return err
		}
	}
	if l.o.Demo != nil {
		if err := ingest.Demo(ctx, l.ing, *l.o.Demo, l.o.Exceptions, logger); err != nil {
			return err
		}
	}
	l.srv.SetReady(true)
	l.o.Metrics.Ready.Set(1)
	l.mon.Trigger()
	logger.Info("ready", "entities", l.eng.Len(), "recovery_seconds", time.Since(l.t0).Seconds())
	fmt.Fprintf(l.o.Stdout, "creditd ready: %d entities\n", l.eng.Len())
	return nil
}

// Close flushes the history store and closes the dead letters and the log.
func (l *Service) Close(ctx context.Context) {
	if l.hist != nil {
		l.hist.Close(ctx)
	}
	if l.dlq != nil {
		l.dlq.Close()
	}
	if l.log != nil {
		l.log.Close()
	}
}

// openDeadLetters opens the dead-letter file of the data directory
// (DATA/deadletters/deadletters.ndjson, as POST /v1/events answers say).
func openDeadLetters(dir string) (*deadletter.FileSink, error) {
	s, err := deadletter.OpenFile(filepath.Join(dir, "deadletters.ndjson"), deadletter.Options{})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return s, nil
}
