package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Querier runs migrations and the analytics queries against the history
// database. It is safe for concurrent use. A Sink has one (Sink.Querier);
// OpenQuerier makes a stand-alone one for read-only tools.
type Querier struct {
	conn    driver.Conn
	db      string
	timeout time.Duration
	owned   bool
}

// openConn opens the driver's native-protocol connection pool. The pool
// connects lazily: a server that is down does not make this fail.
func openConn(o *Options) (driver.Conn, error) {
	co := &ch.Options{
		Protocol: ch.Native,
		Addr:     []string{o.Addr},
		// Tables are always named database.table; connecting to the
		// server's default database works before ours exists.
		Auth:            ch.Auth{Username: o.Username, Password: o.Password},
		DialTimeout:     o.DialTimeout,
		ReadTimeout:     o.ReadTimeout,
		MaxOpenConns:    o.MaxOpenConns,
		MaxIdleConns:    min(2, o.MaxOpenConns),
		ConnMaxLifetime: time.Hour,
		ClientInfo:      ch.ClientInfo{Products: []struct{ Name, Version string }{{Name: "creditd-history", Version: "1"}}},
	}
	if !o.NoCompression {
		co.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	}
	conn, err := ch.Open(co)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", o.Addr, err)
	}
	return conn, nil
}

// OpenQuerier connects a Querier that owns its connection pool (Close
// releases it). opts is read as by a Sink; only connection fields matter.
func OpenQuerier(opts Options) (*Querier, error) {
	if err := opts.EnsureDefaults(); err != nil {
		return nil, err
	}
	conn, err := openConn(&opts)
	if err != nil {
		return nil, err
	}
	return &Querier{conn: conn, db: opts.Database, timeout: opts.QueryTimeout, owned: true}, nil
}

// Database is the database the Querier reads.
func (q *Querier) Database() string { return q.db }

// Ping checks that the server answers.
func (q *Querier) Ping(ctx context.Context) error { return q.conn.Ping(ctx) }

// Close releases the connection pool if the Querier owns it (a Sink's
// Querier is closed with the Sink).
func (q *Querier) Close() error {
	if q.owned {
		return q.conn.Close()
	}
	return nil
}

func (q *Querier) queryCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, q.timeout)
}

// Exec runs one statement (DDL or maintenance, such as ALTER TABLE …
// DROP PARTITION) with the Querier's timeout. Name tables with their
// database. Never use it for INSERT … VALUES: 18.16 hangs on it.
func (q *Querier) Exec(ctx context.Context, stmt string) error {
	ctx, cancel := q.queryCtx(ctx)
	defer cancel()
	return q.conn.Exec(ctx, stmt)
}

// QueryRow runs a query that returns one row and scans it into dest.
func (q *Querier) QueryRow(ctx context.Context, query string, dest ...any) error {
	ctx, cancel := q.queryCtx(ctx)
	defer cancel()
	return q.conn.QueryRow(ctx, query).Scan(dest...)
}
