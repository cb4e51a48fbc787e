// Command creditd is the credit-risk supervision service: it consumes
// credit events, keeps every entity's risk score and tier in memory,
// serves signed credit reports and runs double-random inspection draws.
//
// With no flags it runs on embedded defaults: HTTP on 127.0.0.1:8080,
// state and its durable log under ./data. See the README for every flag.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/models"
	"github.com/creditrisk/creditd/scoring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := exitCode(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

var errUsage = errors.New("usage")

// exitCode reports run's error on stderr and returns the exit status: 0,
// 2 for a configuration error (one line per invalid value), 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	var ce *ConfigError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			fmt.Fprintln(stderr, "creditd:", p)
		}
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "creditd:", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return 2
	}
	fmt.Fprintln(stderr, "creditd:", err)
	return 1
}

// run is the whole service; it returns when ctx is cancelled and the
// shutdown is complete, or on a start-up error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, errFlagHelp) {
			return nil
		}
		return err
	}
	logger := newLogger(cfg, stderr)

	dirs := map[string]string{}
	for _, d := range []string{"log", "snapshots", "keys", "draws", "deadletters"} {
		dirs[d] = filepath.Join(cfg.Data, d)
		if err := os.MkdirAll(dirs[d], 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}

	model, err := loadModel(cfg)
	if err != nil {
		return err
	}
	exc, err := loadExceptions(cfg.Exceptions)
	if err != nil {
		return err
	}
	eng, err := scoring.New(scoring.Options{Model: model})
	if err != nil {
		return err
	}
	if cfg.Tokens == "" {
		// No tokens file named: use DATA/tokens, created with a random token
		// per role on first start, so that the service is usable at once.
		cfg.Tokens = filepath.Join(cfg.Data, "tokens")
		created, err := EnsureTokensFile(cfg.Tokens)
		if err != nil {
			return err
		}
		if created {
			logger.Info("generated bearer tokens (one per role)", "file", cfg.Tokens)
		}
	}
	tokens, err := LoadTokens(cfg.Tokens, cfg.AllowSharedTokens)
	if err != nil {
		return err
	}
	issuer, jwks, err := loadIssuer(cfg, dirs["keys"])
	if err != nil {
		return err
	}
	if cfg.KafkaBrokers != "" {
		return runKafka(ctx, &common{cfg: cfg, logger: logger, dirs: dirs, model: model, exc: exc, tokens: tokens,
			issuer: issuer, jwks: jwks, stdout: stdout})
	}
	log, err := ingest.OpenLog(dirs["log"], cfg.WALSalvage, logger.With("component", "log"))
	if err != nil {
		return err
	}
	defer log.Close()
	dlq, err := openDeadLetters(dirs["deadletters"])
	if err != nil {
		return err
	}
	defer dlq.Close()

	m := metrics.New()
	m.WatchSnapshots(dirs["snapshots"], log)
	ing := ingest.New(eng, log, dlq, m, logger.With("component", "ingest"), ingest.Options{
		SnapshotDir: dirs["snapshots"], SnapshotInterval: cfg.SnapshotInterval,
		SnapshotEvents: cfg.SnapshotEvents, SweepInterval: cfg.SweepInterval})
	srv := NewServer(&Server{cfg: cfg, eng: eng, ing: ing, tokens: tokens, issuer: issuer, jwks: jwks, m: m,
		logger: logger, exc: exc, renderHTML: reportHTML})
	draws, err := newDrawService(dirs["draws"], eng, cfg, m, logger.With("component", "draws"))
	if err != nil {
		return err
	}
	srv.draws = draws
	var hist *history
	if cfg.ClickHouseDSN != "" {
		hist, err = openHistory(ctx, cfg, cfg.Data, m, logger.With("component", "clickhouse"))
		if err != nil {
			return err
		}
		hist.eng = func(models.USCC) *scoring.Engine { return eng }
		hist.scheme = eng.Scheme().ID
		ing.AddObserver(hist)
		srv.history = hist
		draws.onDraw = hist.DrawDone
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := newHTTPServer(srv, logger)
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(limitConns(ln, cfg.MaxConns)) }()
	logger.Info("listening", "addr", ln.Addr().String(), "model", eng.ModelName(), "data", cfg.Data,
		"tokens", tokens.Len(), "key_id", issuer.KeyID)
	fmt.Fprintf(stdout, "creditd listening on http://%s (model %s)\n", ln.Addr(), eng.ModelName())

	// Recover: newest valid snapshot, then the log tail.
	t0 := time.Now()
	if err := ing.Recover(ctx, exc, logger); err != nil {
		_ = hs.Close()
		return err
	}
	m.Recovery.Set(time.Since(t0).Seconds())

	ingCtx, stopIngest := context.WithCancel(context.WithoutCancel(ctx))
	ingDone := make(chan error, 1)
	go func() { ingDone <- ing.Run(ingCtx) }()

	// Files on the command line, then the demo province.
	loadErr := func() error {
		for _, f := range cfg.Files {
			if err := ingest.File(ctx, ing, f, exc, logger); err != nil {
				return err
			}
		}
		if cfg.Demo {
			return ingest.Demo(ctx, ing, ingest.DemoOptions{Entities: cfg.DemoEntities, Days: cfg.DemoDays, Seed: cfg.DemoSeed, Region: cfg.Issuer}, exc, logger)
		}
		return nil
	}()
	if loadErr == nil {
		srv.ready.Store(true)
		m.Ready.Set(1)
		logger.Info("ready", "entities", eng.Len(), "recovery_seconds", time.Since(t0).Seconds())
		fmt.Fprintf(stdout, "creditd ready: %d entities\n", eng.Len())
	} else if ctx.Err() == nil {
		logger.Error("loading inputs failed", "err", loadErr)
	}

	select {
	case <-ctx.Done():
	case err := <-httpDone:
		logger.Error("http server stopped", "err", err)
	case err := <-ingDone:
		ingDone <- err
		logger.Error("ingest stopped", "err", err)
	}
	logger.Info("shutting down")
	srv.ready.Store(false)
	m.Ready.Set(0)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	srv.draws.Stop() // a running draw is cancelled, not waited for
	if err := hs.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	stopIngest()
	ingErr := <-ingDone
	if hist != nil {
		hist.Close(sctx)
	}
	logger.Info("stopped", "applied", ing.Applied())
	if loadErr != nil && ctx.Err() == nil {
		return loadErr
	}
	return ingErr
}

var errFlagHelp = errors.New("help requested")

// common is what every mode of the service shares.
type common struct {
	cfg    *Config
	logger *slog.Logger
	dirs   map[string]string // data sub-directories: log, snapshots, keys, draws, deadletters
	model  *scoring.Model
	exc    *models.USCCExceptions
	tokens *Tokens
	issuer *issue.Issuer
	jwks   []byte
	stdout io.Writer
}

// newHTTPServer returns the HTTP server with the service's limits: 10 s
// for headers, 5 minutes to read or write a request (large ingest bodies,
// population files), 64 KiB of headers.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func loadModel(cfg *Config) (*scoring.Model, error) {
	if cfg.Model == "" {
		return scoring.DefaultModel(cfg.Scheme)
	}
	b, err := os.ReadFile(cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return scoring.ParseModel(b)
}

func loadExceptions(path string) (*models.USCCExceptions, error) {
	if path == "" {
		return models.NewUSCCExceptions(models.PilotExceptions...)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("uscc exceptions: %w", err)
	}
	defer f.Close()
	var codes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			codes = append(codes, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	x, err := models.NewUSCCExceptions(codes...)
	if err != nil {
		return nil, fmt.Errorf("uscc exceptions %s: %w", path, err)
	}
	return x, nil
}
