package clickhouse

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Options configure a Sink or a Querier. The zero value works against a
// server on 127.0.0.1:9000; EnsureDefaults fills every zero field.
type Options struct {
	// Addr is the host:port of ClickHouse's native protocol (not HTTP).
	// Default "127.0.0.1:9000".
	Addr string
	// DSN, if set, is a clickhouse://user:password@host:port/database URL
	// parsed by the driver; its address, credentials and database (when
	// present) override Addr, Username, Password and Database. Other DSN
	// settings are ignored: timeouts and sizes come from these Options.
	DSN string
	// Database holds every table; created if missing. Default "creditd".
	// Letters, digits and underscores only.
	Database string
	// Username and Password authenticate. Default "default" and "".
	Username, Password string

	// BatchRows is the number of rows per table after which a batch is
	// sealed and inserted. Default 50,000 (ClickHouse wants large, rare
	// inserts: 100k-row batches ran at 80k–156k rows/s on 18.16, 10k-row
	// batches at about 50k rows/s).
	BatchRows int
	// FlushInterval is the longest a row waits in an open batch before the
	// batch is sealed anyway. Default 1 s.
	FlushInterval time.Duration
	// MaxMemRows bounds the rows held in memory (open and sealed batches);
	// above it the oldest sealed batches go to the spool. Default 4 ×
	// BatchRows.
	MaxMemRows int
	// HardMaxMemRows is the row count at which Add* starts refusing rows
	// with ErrOverloaded (counted as dropped) because the spool cannot take
	// them either (disabled or failing). Default 4 × MaxMemRows.
	HardMaxMemRows int

	// SpoolDir holds batches that could not be inserted yet. Default
	// <os.TempDir()>/creditd-clickhouse-spool/<Database>; services should
	// set it under their data directory so it survives a reboot.
	SpoolDir string
	// DisableSpool keeps everything in memory (up to HardMaxMemRows); rows
	// not inserted by Close are lost and reported. Default false.
	DisableSpool bool
	// SpoolAfter is how long a sealed batch may wait in memory for its
	// insert before it is written to the spool (ClickHouse slow or down).
	// Default 10 s.
	SpoolAfter time.Duration
	// SpoolAlways writes every sealed batch to the spool before inserting
	// it, so a crash loses at most the open batches (≤ FlushInterval).
	// Costs one sequential disk write per row. Default false.
	SpoolAlways bool
	// SegmentBytes is the size at which the spool starts a new segment
	// file. Default 64 MiB.
	SegmentBytes int64

	// DialTimeout bounds connecting. Default 5 s.
	DialTimeout time.Duration
	// ReadTimeout bounds each read from the server (the driver's default
	// of 300 s would stall the inserter). Default 30 s.
	ReadTimeout time.Duration
	// InsertTimeout bounds one batch insert. Default 60 s.
	InsertTimeout time.Duration
	// QueryTimeout bounds one analytics query. Default 30 s.
	QueryTimeout time.Duration
	// RetryMin and RetryMax bound the exponential back-off between failed
	// inserts. Defaults 200 ms and 10 s.
	RetryMin, RetryMax time.Duration
	// NoCompression turns off LZ4 on the wire. Default false (LZ4 on).
	NoCompression bool
	// MaxOpenConns bounds the connection pool (one insert at a time plus
	// concurrent queries). Default 4.
	MaxOpenConns int

	// Logger receives warnings and errors. Default slog.Default().
	Logger *slog.Logger
}

// DefaultDatabase is the database used when Options.Database is empty.
const DefaultDatabase = "creditd"

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// EnsureDefaults fills zero fields with their documented defaults and
// checks the result.
func (o *Options) EnsureDefaults() error {
	if o.DSN != "" {
		d, err := ch.ParseDSN(o.DSN)
		if err != nil {
			return fmt.Errorf("clickhouse: DSN: %w", err)
		}
		if len(d.Addr) > 0 {
			o.Addr = d.Addr[0]
		}
		if d.Auth.Username != "" {
			o.Username, o.Password = d.Auth.Username, d.Auth.Password
		}
		if d.Auth.Database != "" {
			o.Database = d.Auth.Database
		}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:9000"
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if !identRE.MatchString(o.Database) {
		return fmt.Errorf("clickhouse: database name %q: use letters, digits and underscores", o.Database)
	}
	if o.Username == "" {
		o.Username = "default"
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 50_000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.MaxMemRows <= 0 {
		o.MaxMemRows = 4 * o.BatchRows
	}
	if o.HardMaxMemRows <= 0 {
		o.HardMaxMemRows = 4 * o.MaxMemRows
	}
	if o.HardMaxMemRows < o.MaxMemRows {
		return fmt.Errorf("clickhouse: HardMaxMemRows %d < MaxMemRows %d", o.HardMaxMemRows, o.MaxMemRows)
	}
	if o.SpoolDir == "" {
		o.SpoolDir = filepath.Join(os.TempDir(), "creditd-clickhouse-spool", o.Database)
	}
	if o.SpoolAfter <= 0 {
		o.SpoolAfter = 10 * time.Second
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 30 * time.Second
	}
	if o.InsertTimeout <= 0 {
		o.InsertTimeout = 60 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 30 * time.Second
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 200 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 10 * time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 4
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}
