package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/draw"
	"github.com/creditrisk/creditd/sampler"
)

// A draw still running when the service stops is cancelled (its sampler
// sees the context end) instead of holding the shutdown for its whole run;
// a draw whose request ends is cancelled the same way; Stop before a draw
// starts cancels it at once.
func TestDrawServiceStopCancelsRunningDraw(t *testing.T) {
	started := make(chan struct{}, 1)
	blocking := func(ctx context.Context, _ *sampler.Prepared, _ sampler.Source) (*draw.V2, *sampler.Stats, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	newService := func() *drawService {
		d := &drawService{run: blocking}
		d.stopping, d.Stop = context.WithCancel(context.Background())
		return d
	}
	wait := func(errc chan error) error {
		select {
		case err := <-errc:
			return err
		case <-time.After(time.Minute):
			t.Fatal("the draw was not cancelled")
			return nil
		}
	}

	// Stop while running.
	d := newService()
	errc := make(chan error, 1)
	go func() { _, _, err := d.runDraw(context.Background(), nil, nil); errc <- err }()
	<-started
	d.Stop()
	if err := wait(errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("after Stop: %v, want context.Canceled", err)
	}

	// The request's own context ends: the service is not stopped by it.
	d = newService()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, _, err := d.runDraw(ctx, nil, nil); errc <- err }()
	<-started
	cancel()
	if err := wait(errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("after the request ended: %v", err)
	}
	if d.stopping.Err() != nil {
		t.Fatal("a request's end stopped the service")
	}

	// Stopped before the draw starts.
	d.Stop()
	go func() { _, _, err := d.runDraw(context.Background(), nil, nil); errc <- err }()
	<-started
	if err := wait(errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("draw after Stop: %v", err)
	}
}
