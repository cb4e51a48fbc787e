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

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/console"
	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/kafkamode"
	"github.com/creditrisk/creditd/cmd/creditd/internal/metrics"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := exitCode(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

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
	case errors.Is(err, kafkamode.ErrUsage):
		fmt.Fprintln(stderr, "creditd:", strings.TrimPrefix(err.Error(), kafkamode.ErrUsage.Error()+": "))
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
	c, err := setup(cfg, stdout, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	c.publicURL = publicURL(cfg.PublicURL, ln.Addr(), os.Hostname)
	var md mode
	if cfg.KafkaBrokers != "" {
		md, err = newKafka(ctx, c, ln.Addr())
	} else {
		md, err = newLocal(ctx, c)
	}
	if err != nil {
		ln.Close()
		return err
	}
	return serve(ctx, c, md, ln)
}

// mode is what differs between local and Kafka mode; serve drives either
// through one start and shutdown sequence.
type mode interface {
	// Server is the HTTP API (readiness, draws).
	Server() *api.Server
	// Handler serves HTTP: the Server, with Kafka mode's routes over it.
	Handler() http.Handler
	// Listening returns the "listening" log line's attributes and the note
	// after the address on stdout.
	Listening() (attrs []any, note string)
	// Recover restores the state, once HTTP serves and before Run.
	Recover(ctx context.Context) error
	// Run is the background work until ctx ends (the ingester, or the
	// consumer group member); it saves the state before returning.
	Run(ctx context.Context) error
	// Start runs once Run started (runCtx is Run's): it loads inputs and
	// announces readiness. run returns its error at the end.
	Start(ctx, runCtx context.Context) error
	// StopRunFirst says whether Run stops before the HTTP server (Kafka:
	// snapshot, commit and leave the group while requests finish) or
	// after it (local: requests in flight still ingest).
	StopRunFirst() bool
	// Stopped returns the "stopped" log line's attributes.
	Stopped() []any
	// Close releases what the mode holds, after Run returned.
	Close(ctx context.Context)
}

// serve is the sequence of both modes: serve HTTP, recover, run, start;
// on ctx's end (or if HTTP or the background work stops) shut down: not
// ready, cancel running draws, stop HTTP and the background work (in the
// mode's order), close.
func serve(ctx context.Context, c *common, md mode, ln net.Listener) error {
	cfg, logger, srv, m := c.cfg, c.logger, md.Server(), c.metrics
	con, err := console.New(console.Options{API: md.Handler(), Tokens: c.tokens, Logger: logger.With("component", "console")})
	if err != nil {
		return err
	}
	hs := newHTTPServer(con.Handler(md.Handler()), logger)
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(api.LimitConns(ln, cfg.MaxConns)) }()
	attrs, note := md.Listening()
	logger.Info("listening", append([]any{"addr", ln.Addr().String()}, attrs...)...)
	fmt.Fprintf(c.stdout, "creditd listening on http://%s (%s)\n", ln.Addr(), note)

	if err := md.Recover(ctx); err != nil {
		_ = hs.Close()
		md.Close(context.Background())
		return err
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- md.Run(runCtx) }()
	startErr := md.Start(ctx, runCtx)
	if startErr != nil && ctx.Err() == nil {
		logger.Error("loading inputs failed", "err", startErr)
	}

	select {
	case <-ctx.Done():
	case err := <-httpDone:
		logger.Error("http server stopped", "err", err)
	case err := <-runDone:
		runDone <- err
		logger.Error("background work stopped", "err", err)
	}
	logger.Info("shutting down")
	srv.SetReady(false)
	m.Ready.Set(0)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if md.StopRunFirst() {
		stopRun()
	}
	srv.StopDraws() // a running draw is cancelled, not waited for
	if err := hs.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	stopRun()
	runErr := <-runDone
	logger.Info("stopped", md.Stopped()...)
	md.Close(sctx)
	if startErr != nil && ctx.Err() == nil {
		return startErr
	}
	return runErr
}

var errFlagHelp = errors.New("help requested")

// common is what every mode of the service shares.
type common struct {
	cfg     *Config
	logger  *slog.Logger
	dirs    map[string]string // data sub-directories: log, snapshots, keys, draws, deadletters
	model   *scoring.Model
	exc     *uscc.Exceptions
	tokens  *api.Tokens
	issuer  *issue.Issuer
	jwks    []byte
	metrics *metrics.Set
	stdout  io.Writer
	// publicURL is the base of the verification URLs of printed reports
	// (--public-url or its default), known once the listener is.
	publicURL string
}

// setup makes the data directories and loads what every mode needs: the
// model, the USCC exceptions, the bearer tokens (generated on first start
// unless --tokens names a file) and the signing key.
func setup(cfg *Config, stdout, stderr io.Writer) (*common, error) {
	logger := newLogger(cfg, stderr)
	dirs := map[string]string{}
	for _, d := range []string{"log", "snapshots", "keys", "draws", "deadletters"} {
		dirs[d] = filepath.Join(cfg.Data, d)
		if err := os.MkdirAll(dirs[d], 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	model, err := loadModel(cfg)
	if err != nil {
		return nil, err
	}
	exc, err := loadExceptions(cfg.Exceptions)
	if err != nil {
		return nil, err
	}
	if cfg.Tokens == "" {
		// No tokens file named: use DATA/tokens, created with a random token
		// per role on first start, so that the service is usable at once.
		cfg.Tokens = filepath.Join(cfg.Data, "tokens")
		created, err := api.EnsureTokensFile(cfg.Tokens)
		if err != nil {
			return nil, err
		}
		if created {
			logger.Info("generated bearer tokens (one per role)", "file", cfg.Tokens)
		}
	}
	tokens, err := api.LoadTokens(cfg.Tokens, cfg.AllowSharedTokens)
	if err != nil {
		return nil, err
	}
	issuer, jwks, err := loadIssuer(cfg, dirs["keys"])
	if err != nil {
		return nil, err
	}
	return &common{cfg: cfg, logger: logger, dirs: dirs, model: model, exc: exc, tokens: tokens, issuer: issuer, jwks: jwks,
		metrics: metrics.New(), stdout: stdout}, nil
}

// apiConfig is what the HTTP API takes from the configuration.
func (c *Config) apiConfig() *api.Config {
	return &api.Config{MaxBody: c.MaxBody, MaxIngest: c.MaxIngest, DrawMaxWork: c.DrawMaxWork}
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

func loadExceptions(path string) (*uscc.Exceptions, error) {
	if path == "" {
		return uscc.NewExceptions(uscc.PilotExceptions...)
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
	x, err := uscc.NewExceptions(codes...)
	if err != nil {
		return nil, fmt.Errorf("uscc exceptions %s: %w", path, err)
	}
	return x, nil
}
