package issue

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/reportid"
	"github.com/creditrisk/creditd/models/objection"
	"github.com/creditrisk/creditd/models/report"
	"github.com/creditrisk/creditd/models/uscc"
	"github.com/creditrisk/creditd/scoring"
)

// Only the copy issued to the subject carries the query code (report.md
// "Objections"): neither edition Build makes does, whatever the issuer's
// key; the subject's copy is the public edition plus the code, the code
// is bound by the report id's digest, and without a query key there is
// no such copy.
func TestQueryCodeOnlyOnTheSubjectsCopy(t *testing.T) {
	code, err := uscc.Parse("914403001922038216")
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	ids, err := reportid.NewKey("44", priv)
	if err != nil {
		t.Fatal(err)
	}
	qk := bytes.Repeat([]byte{9}, 32)
	iss := &Issuer{Code: "44", Name: "广东省市场监督管理局", KeyID: "k", Priv: priv, Validity: 24 * time.Hour, IDs: ids, QueryKey: qk}
	v := &scoring.EntityView{USCC: code, Name: "n", Registered: true}
	now := time.Date(2026, 12, 4, 18, 38, 0, 0, time.UTC)
	for _, ed := range []string{report.EditionPublic, report.EditionRegulatory} {
		if r := Build(v, ed, iss, now); r.QueryCode != "" {
			t.Errorf("Build(%s) carries query code %q", ed, r.QueryCode)
		}
	}
	own, err := BuildForSubject(v, iss, now)
	if err != nil {
		t.Fatal(err)
	}
	if own.Edition != report.EditionPublic || own.Assessment != nil || own.Measures != nil {
		t.Fatalf("the subject's copy: edition %s, assessment %v, measures %v", own.Edition, own.Assessment, own.Measures)
	}
	if want := objection.QueryCode(qk, code); own.QueryCode != want || !objection.CheckQueryCode(qk, code, own.QueryCode) {
		t.Fatalf("query code %q, want %q", own.QueryCode, want)
	}
	// The id was made with the code in place: its digest is the report's.
	d, err := reportid.Digest(own)
	if err != nil {
		t.Fatal(err)
	}
	c, err := reportid.Parse(own.ReportID, code.String(), base64.RawURLEncoding.EncodeToString(d[:]))
	if err != nil || !ids.Genuine(c) {
		t.Fatalf("the subject's copy's id does not bind its content: %v", err)
	}
	tampered := *own
	tampered.QueryCode = "0000000000000000"
	if d2, _ := reportid.Digest(&tampered); d2 == d {
		t.Fatal("the digest does not cover the query code")
	}
	iss.QueryKey = nil
	if _, err := BuildForSubject(v, iss, now); !errors.Is(err, ErrNoQueryKey) {
		t.Fatalf("without a query key: %v", err)
	}
}
