package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/creditrisk/creditd/feeds/wal"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/uscc"
)

// Recover restores the newest valid snapshot into the engine and replays
// the log from its position; call it before Run. Log records that do not
// apply (they did not when first submitted either) are counted and logged.
func (g *Ingester) Recover(ctx context.Context, exc *uscc.Exceptions, logger *slog.Logger) error {
	eng, log := g.eng, g.log
	t0 := time.Now()
	pos, found, err := g.snaps.restore(eng, logger)
	if err != nil {
		return err
	}
	if found {
		logger.Info("snapshot restored", "position", pos, "entities", eng.Len(), "seconds", time.Since(t0).Seconds())
	}
	// Each record is used only inside the callback: the event may borrow it.
	d := event.Decoder{Exceptions: exc, Borrow: true}
	var ev event.Event
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
