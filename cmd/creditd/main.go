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

	"github.com/creditrisk/creditd/feeds/ndjson"
	"github.com/creditrisk/creditd/feeds/synth"
	"github.com/creditrisk/creditd/feeds/wal"
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
	log, err := openLog(dirs["log"], cfg.WALSalvage, logger.With("component", "log"))
	if err != nil {
		return err
	}
	defer log.Close()
	dlq, err := openDeadLetters(dirs["deadletters"])
	if err != nil {
		return err
	}
	defer dlq.Close()

	m := NewMetrics()
	m.WatchSnapshots(dirs["snapshots"], log)
	ing := NewIngester(eng, log, dlq, m, logger.With("component", "ingest"), IngesterOptions{
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
	if err := recoverState(ctx, eng, log, ing.snaps, exc, logger); err != nil {
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
			if err := ingestFile(ctx, ing, f, exc, logger); err != nil {
				return err
			}
		}
		if cfg.Demo {
			return loadDemo(ctx, ing, eng, cfg, exc, logger)
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
	issuer *Issuer
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

// recoverState restores the newest valid snapshot and replays the log
// from its position.
func recoverState(ctx context.Context, eng *scoring.Engine, log *wal.Log, snaps *snapshotSet, exc *models.USCCExceptions, logger *slog.Logger) error {
	t0 := time.Now()
	pos, found, err := snaps.restore(eng, logger)
	if err != nil {
		return err
	}
	if found {
		logger.Info("snapshot restored", "position", pos, "entities", eng.Len(), "seconds", time.Since(t0).Seconds())
	}
	// Each record is used only inside the callback: the event may borrow it.
	d := models.EventDecoder{Exceptions: exc, Borrow: true}
	var ev models.Event
	n, bad := 0, 0
	now := eng.Now()
	err = log.Replay(wal.Position(pos), func(p wal.Position, rec []byte) error {
		if n&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n++
		if err := d.Decode(rec, &ev); err != nil {
			bad++
			return nil
		}
		if _, err := eng.ApplyAt(&ev, now, false, nil); err != nil {
			bad++
		}
		return nil
	})
	if ce := (*wal.CorruptionError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("replaying the event log from position %d: %w; an older segment is damaged, which --wal-salvage does not repair: "+
			"nothing was changed; restore %s from a backup (events acknowledged after the damage are in the later segments)", pos, err, log.Dir())
	}
	if err != nil {
		return fmt.Errorf("replaying the event log from position %d: %w", pos, err)
	}
	if bad > 0 {
		logger.Warn("log records that did not apply on replay", "count", bad)
	}
	logger.Info("log replayed", "from", pos, "records", n, "entities", eng.Len(), "seconds", time.Since(t0).Seconds())
	return nil
}

// lineBatch is how many lines a file or demo loader hands over at once.
const lineBatch = 4096

// ingestFile ingests an NDJSON file of events.
func ingestFile(ctx context.Context, ing *Ingester, path string, exc *models.USCCExceptions, logger *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("events file: %w", err)
	}
	defer f.Close()
	t0 := time.Now()
	var total IngestResult
	rejected := 0
	src := "file:" + path
	feed := newLineFeeder(ctx, ing, src, exc, func(r IngestResult) {
		total.Applied += r.Applied
		total.Duplicates += r.Duplicates
		rejected += len(r.Rejected)
	})
	rd := ndjson.NewReader(f, ndjson.Options{})
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		var tl *ndjson.TooLongError
		if errors.As(err, &tl) {
			feed.reject(tl.Number, &models.RejectError{Reason: models.ReasonLineTooLong, Detail: tl.Error()})
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if err := feed.add(l.Number, l.Bytes); err != nil {
			return err
		}
	}
	if err := feed.flush(); err != nil {
		return err
	}
	logger.Info("file ingested", "path", path, "applied", total.Applied, "duplicates", total.Duplicates,
		"rejected", rejected, "seconds", time.Since(t0).Seconds())
	return nil
}

// lineFeeder decodes lines and submits them in batches.
type lineFeeder struct {
	ctx    context.Context
	ing    *Ingester
	source string
	dec    models.EventDecoder
	lines  []inLine
	done   func(IngestResult)
}

func newLineFeeder(ctx context.Context, ing *Ingester, source string, exc *models.USCCExceptions, done func(IngestResult)) *lineFeeder {
	return &lineFeeder{ctx: ctx, ing: ing, source: source, dec: models.EventDecoder{Exceptions: exc, Borrow: true}, done: done}
}

func (f *lineFeeder) add(num int64, b []byte) error {
	f.lines = append(f.lines, decodeLine(&f.dec, num, b))
	if len(f.lines) >= lineBatch {
		return f.flush()
	}
	return nil
}

func (f *lineFeeder) reject(num int64, rej *models.RejectError) {
	f.lines = append(f.lines, inLine{num: num, rej: rej})
}

func (f *lineFeeder) flush() error {
	if len(f.lines) == 0 {
		return nil
	}
	res, err := f.ing.Submit(f.ctx, f.source, f.lines)
	if err != nil {
		return err
	}
	f.done(res)
	f.lines = nil
	return nil
}

// loadDemo generates and ingests the synthetic demo province, unless the
// state already holds entities (a restart keeps what was loaded).
func loadDemo(ctx context.Context, ing *Ingester, eng *scoring.Engine, cfg *Config, exc *models.USCCExceptions, logger *slog.Logger) error {
	if eng.Len() > 0 {
		logger.Info("demo: state is not empty, not loading the demo province again", "entities", eng.Len())
		return nil
	}
	t0 := time.Now()
	end := time.Now().UTC().Truncate(24 * time.Hour)
	opts := synth.Options{Entities: cfg.DemoEntities, Days: cfg.DemoDays, Seed: cfg.DemoSeed,
		Region: strings.TrimSpace(cfg.Issuer), End: end}
	if len(opts.Region) != 2 {
		opts.Region = "37"
	}
	var total IngestResult
	rejected := 0
	feed := newLineFeeder(ctx, ing, "demo", exc, func(r IngestResult) {
		total.Applied += r.Applied
		total.Duplicates += r.Duplicates
		rejected += len(r.Rejected)
	})
	var n int64
	err := synth.Generate(ctx, opts, func(line []byte) error {
		n++
		return feed.add(n, line)
	})
	if err == nil {
		err = feed.flush()
	}
	if err != nil {
		return fmt.Errorf("demo province: %w", err)
	}
	logger.Info("demo province loaded", "entities", eng.Len(), "events", n, "applied", total.Applied,
		"rejected", rejected, "seconds", time.Since(t0).Seconds())
	return nil
}
