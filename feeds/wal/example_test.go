package wal_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/creditrisk/creditd/feeds/wal"
)

// The service's pattern: append each accepted event's bytes, Sync, then
// acknowledge; on start, replay from the latest snapshot's position.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range []string{`{"id":"E-1"}`, `{"id":"E-2"}`, `{"id":"E-3"}`} {
		if _, err := l.Append([]byte(ev)); err != nil {
			log.Fatal(err)
		}
	}
	if err := l.Sync(); err != nil { // only now may the events be acknowledged
		log.Fatal(err)
	}
	snapshot := wal.Position(1) // say a snapshot covers records 0..0
	if err := l.Replay(snapshot, func(pos wal.Position, rec []byte) error {
		fmt.Println(pos, string(rec))
		return nil
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("next:", l.Next())
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1 {"id":"E-2"}
	// 2 {"id":"E-3"}
	// next: 3
}
