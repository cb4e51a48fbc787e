package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/issue"
	"github.com/creditrisk/creditd/cmd/creditd/internal/reportverify"
	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/event"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// fuzzNow is the fuzzed engine's clock.
var fuzzNow = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

// fuzzEventTypes are the event types the fuzzer draws, referencing ones
// last.
var fuzzEventTypes = []string{"penalty", "abnormal_listed", "dishonest_listed", "court_debtor_listed", "inspection",
	"annual_report", "tax_rating", "honor", "complaint", "commitment_made",
	"abnormal_removed", "dishonest_removed", "court_debtor_removed", "commitment_breached", "commitment_fulfilled", "repair"}

// fuzzLines turns fuzz bytes into credit-event/v1 lines for one entity:
// a registration, then one event per 4 bytes (type, age in days over two
// bytes, an argument choosing the enumerated attribute, the referenced
// earlier event, and whether unknown attributes — a float, a nested object
// naming a tier — ride along).
func fuzzLines(code string, data []byte) [][]byte {
	lines := [][]byte{fmt.Appendf(nil, `{"id":"F-0","uscc":"%s","type":"registered","occurred_at":"2015-01-01T00:00:00Z","attrs":{"name":"模糊企业","region":"370102","registered_on":"2015-01-01"}}`, code)}
	for i := 0; i+4 <= len(data) && len(lines) < 64; i += 4 {
		typ := fuzzEventTypes[int(data[i])%len(fuzzEventTypes)]
		days := (int(data[i+1]) | int(data[i+2])<<8) % 2400
		arg := int(data[i+3])
		at := fuzzNow.Add(-time.Duration(days)*24*time.Hour - time.Duration(arg)*time.Minute)
		var attrs string
		switch typ {
		case "penalty":
			attrs = fmt.Sprintf(`{"severity":"%s","decision_no":"罚%d","amount_yuan":%d}`, []string{"minor", "general", "serious"}[arg%3], i, arg*1000)
		case "abnormal_listed":
			attrs = fmt.Sprintf(`{"reason":"%s"}`, []string{"annual_report_missing", "not_publicized", "false_information", "unreachable_at_address"}[arg%4])
		case "dishonest_listed":
			attrs = `{"reason":"严重违法"}`
		case "court_debtor_listed":
			attrs = fmt.Sprintf(`{"case_no":"(2026)执%d号"}`, i)
		case "inspection":
			attrs = fmt.Sprintf(`{"plan_id":"P-%d","result":"%s"}`, i, []string{"no_problem", "corrected", "problem_found", "refused", "unreachable"}[arg%5])
		case "annual_report":
			attrs = fmt.Sprintf(`{"year":%d,"on_time":%v}`, at.Year()-1, arg%2 == 0)
		case "tax_rating":
			attrs = fmt.Sprintf(`{"year":%d,"level":"%s"}`, at.Year()-1, []string{"A", "B", "M", "C", "D"}[arg%5])
		case "honor":
			attrs = fmt.Sprintf(`{"title":"荣誉%d","level":"%s"}`, i, []string{"national", "provincial", "municipal"}[arg%3])
		case "complaint":
			attrs = fmt.Sprintf(`{"substantiated":%v}`, arg%2 == 0)
		case "commitment_made":
			attrs = fmt.Sprintf(`{"commitment_no":"C-%d","matter":"许可"}`, i)
		default: // a referencing event
			ref := fmt.Sprintf("F-%d", 1+(arg>>1)%max(1, len(lines)-1))
			if typ == "repair" {
				attrs = fmt.Sprintf(`{"ref":"%s","decided_on":"%s"}`, ref, civil.DateOf(at))
			} else {
				attrs = fmt.Sprintf(`{"ref":"%s"}`, ref)
			}
		}
		if arg&0x80 != 0 && attrs[len(attrs)-1] == '}' {
			attrs = attrs[:len(attrs)-1] + `,"internal_note":1.5,"risk":{"tier":"D","score":300}}`
		}
		lines = append(lines, fmt.Appendf(nil, `{"id":"F-%d","uscc":"%s","type":"%s","occurred_at":"%s","authority":"A","attrs":%s}`,
			len(lines), code, typ, at.UTC().Format(time.RFC3339), attrs))
	}
	return lines
}

// FuzzReportBuild builds both editions of the report of an arbitrary
// engine state (fuzz bytes → events applied to an engine, valid or
// rejected as the engine decides) at now and at an earlier instant: both
// must sign, verify with the issuer's and the independent verifier, carry
// the same records, and the public edition must pass the allow-list.
//
//	go test -run X -fuzz FuzzReportBuild -fuzztime 60s ./cmd/creditd
func FuzzReportBuild(f *testing.F) {
	model, err := scoring.DefaultModel("national-4")
	if err != nil {
		f.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	keysJSON, _ := json.Marshal(report.NewJWKS(pub))
	keys := report.NewJWKS(pub)
	iss := &issue.Issuer{Code: "37", Name: "山东省市场监督管理局", KeyID: report.KeyID(pub), Priv: priv, Validity: 24 * time.Hour}
	code := testUSCC(300)
	uscc, err := uscc.Parse(code)
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: each list alone, lists combined, lists with point reasons,
	// removals and repairs, nothing at all.
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{2, 30, 0, 0}, uint16(0))                             // serious list
	f.Add([]byte{1, 30, 0, 0, 3, 20, 0, 0, 7, 10, 0, 0}, uint16(10))  // abnormal + debtor + honour
	f.Add([]byte{2, 30, 0, 0, 1, 0x66, 4, 3, 6, 30, 0, 0}, uint16(5)) // serious + abnormal 3y + tax A
	f.Add([]byte{0, 30, 0, 1, 0, 200, 0, 2, 15, 10, 0, 0, 10, 5, 0, 2}, uint16(400))
	f.Add([]byte{9, 100, 0, 0x81, 13, 10, 0, 0, 8, 5, 0, 0, 4, 20, 0, 2}, uint16(50))
	f.Fuzz(func(t *testing.T, data []byte, back uint16) {
		eng, err := scoring.New(scoring.Options{Model: model, Now: func() time.Time { return fuzzNow }, Shards: 1})
		if err != nil {
			t.Fatal(err)
		}
		var dec event.Decoder
		for _, line := range fuzzLines(code, data) {
			var ev event.Event
			if err := dec.Decode(line, &ev); err != nil {
				t.Fatalf("generated line does not decode: %v\n%s", err, line)
			}
			_, _ = eng.ApplyAt(&ev, fuzzNow, true, nil) // the engine decides what is valid
		}
		for _, at := range []time.Time{fuzzNow, fuzzNow.Add(-time.Duration(back%2400) * 24 * time.Hour)} {
			v, ok := eng.Entity(uscc, at, true)
			if !ok || !v.Registered {
				t.Fatalf("entity not found as of %s", at)
			}
			var records [2][]report.Record
			for i, ed := range []string{report.EditionPublic, report.EditionRegulatory} {
				rep := issue.Build(&v, ed, iss, fuzzNow)
				if err := report.Sign(rep, priv, iss.KeyID); err != nil {
					t.Fatalf("%s edition as of %s does not sign: %v\nreasons %+v", ed, at, err, v.Reasons)
				}
				raw, err := rep.CanonicalJSON()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := report.Verify(raw, keys, fuzzNow); err != nil {
					t.Fatalf("%s: issuer's verifier: %v\n%s", ed, err, raw)
				}
				if _, err := reportverify.Verify(raw, keysJSON, fuzzNow); err != nil {
					t.Fatalf("%s: independent verifier: %v\n%s", ed, err, raw)
				}
				if ed == report.EditionPublic {
					if err := checkPublicReport(raw); err != nil {
						t.Fatalf("%v\n%s", err, raw)
					}
				}
				records[i] = rep.Records
			}
			// The editions list the same records but for penalties, which
			// follow each edition's channel (report.md "Channels") and
			// carry both channels' blocks, the same in both editions.
			other := func(recs []report.Record) (out []report.Record) {
				for _, r := range recs {
					if r.Category != "penalty" {
						out = append(out, r)
					}
				}
				return out
			}
			if !reflect.DeepEqual(other(records[0]), other(records[1])) {
				t.Fatalf("the editions' records differ:\n%+v\n%+v", records[0], records[1])
			}
			for i, ch := range []string{report.ChannelCreditChina, report.ChannelSAMR} {
				for _, r := range records[i] {
					if r.Category != "penalty" {
						continue
					}
					b := r.CreditChina
					if ch == report.ChannelSAMR {
						b = r.SAMR
					}
					if b == nil || r.SAMR == nil || b.Status != r.Status || !reflect.DeepEqual(b.PublicityUntil, r.PublicityUntil) || !reflect.DeepEqual(b.RepairedOn, r.RepairedOn) {
						t.Fatalf("%s edition: penalty %s does not follow its channel block: %+v %+v %+v", ch, r.ID, r, r.SAMR, r.CreditChina)
					}
				}
			}
		}
	})
}
