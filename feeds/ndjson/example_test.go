package ndjson_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/creditrisk/creditd/feeds/ndjson"
)

func ExampleForEach() {
	in := "{\"id\":\"E-1\"}\r\n\n{\"id\":\"" + strings.Repeat("x", 40) + "\"}\n{\"id\":\"E-3\"}"
	err := ndjson.ForEach(context.Background(), strings.NewReader(in), ndjson.Options{MaxLineSize: 32},
		func(l ndjson.Line, err error) error {
			var tl *ndjson.TooLongError
			if errors.As(err, &tl) {
				fmt.Printf("line %d: too long (%d bytes)\n", tl.Number, tl.Size)
				return nil
			}
			fmt.Printf("line %d at byte %d: %s\n", l.Number, l.Offset, l.Bytes)
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// line 1 at byte 0: {"id":"E-1"}
	// line 3: too long (49 bytes)
	// line 4 at byte 65: {"id":"E-3"}
}
