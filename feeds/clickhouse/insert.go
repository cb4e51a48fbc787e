package clickhouse

import (
	"context"
	"fmt"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// insertBatch inserts one batch as one INSERT, column by column (the
// driver's columnar append avoids per-row reflection). Columns are always
// named: 18.16 rejects the bare INSERT form the driver would otherwise send.
func (s *Sink) insertBatch(ctx context.Context, b *batch) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.InsertTimeout)
	defer cancel()
	if s.liftPartitionLimit.Load() {
		ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"max_partitions_per_insert_block": 0}))
	}
	cols := columnsOf(b)
	bt, err := s.conn.PrepareBatch(ctx, s.insertSQL[b.tbl])
	if err != nil {
		return fmt.Errorf("clickhouse insert %s: prepare: %w", b.tbl, err)
	}
	defer bt.Close()
	for i, c := range cols {
		if err := bt.Column(i).Append(c); err != nil {
			_ = bt.Abort()
			return &permanentError{fmt.Errorf("clickhouse insert %s: column %d: %w", b.tbl, i, err)}
		}
	}
	if err := bt.Send(); err != nil {
		return fmt.Errorf("clickhouse insert %s: %d rows: %w", b.tbl, b.len(), err)
	}
	return nil
}

// columnsOf builds b's column slices in the table's column order.
func columnsOf(b *batch) []any { return tableDefs[b.tbl].columns(b) }
