package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/creditrisk/creditd/models/civil"
	"github.com/creditrisk/creditd/models/report"
)

// reportUsage documents "creditctl report".
const reportUsage = `usage: creditctl report verify --report FILE|URL --keys FILE|URL [--at INSTANT] [--token TOKEN]

Verifies a signed credit-report/v1 (spec/report.md): the document's form, its
Ed25519 signature over the RFC 8785 canonical form without "signature", made
with the key named by key_id in the issuer's key set (JWKS, as served at
GET /v1/keys), and that valid_until has not passed.

  --report  the report: a file, or an http(s) URL such as
            http://HOST/v1/reports/USCC (fetched with Accept: application/json)
  --keys    the issuer's JWKS: a file, or a URL such as http://HOST/v1/keys
  --at      check validity at this RFC 3339 instant instead of now
            (e.g. whether a report was still valid when it was submitted)
  --token   bearer token sent with URL requests (for ?edition=regulatory)

Exit status: 0 when the report verifies, 1 with the reason when it does not
(or cannot be read), 2 on a usage error.
`

// maxFetch bounds what is read from a file or URL: a credit report of an
// entity with thousands of records is well under this.
const maxFetch = 32 << 20

// fetchTimeout bounds one URL request.
const fetchTimeout = 30 * time.Second

// cmdReport implements "creditctl report verify".
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(stderr, reportUsage)
		return 2
	}
	fs := flag.NewFlagSet("report verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	reportSrc := fs.String("report", "", "the report: file or http(s) URL")
	keysSrc := fs.String("keys", "", "the issuer's JWKS: file or http(s) URL")
	at := fs.String("at", "", "verify validity at this RFC 3339 instant (default: now)")
	token := fs.String("token", "", "bearer token for URL requests")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *reportSrc == "" || *keysSrc == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, reportUsage)
		return 2
	}
	now := time.Now()
	if *at != "" {
		t, err := civil.ParseInstant(*at)
		if err != nil {
			fmt.Fprintf(stderr, "creditctl report verify: --at %v (e.g. 2026-03-01T08:00:00Z)\n", err)
			return 2
		}
		now = t
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "creditctl report verify: "+format+"\n", a...)
		return 1
	}
	raw, err := fetch(ctx, *reportSrc, "application/json", *token)
	if err != nil {
		return fail("report: %v", err)
	}
	keysRaw, err := fetch(ctx, *keysSrc, "application/jwk-set+json, application/json", *token)
	if err != nil {
		return fail("keys: %v", err)
	}
	keys, err := report.ParseJWKS(keysRaw)
	if err != nil {
		return fail("keys %s: %v", *keysSrc, err)
	}
	r, err := report.Verify(raw, keys, now)
	switch {
	case errors.Is(err, report.ErrExpired):
		return fail("%s does not verify: %v (the signature is authentic; ask the issuer for a fresh report)", *reportSrc, err)
	case err != nil:
		return fail("%s does not verify: %v", *reportSrc, err)
	}
	fmt.Fprintf(stdout, "report %s verifies: issuer %s (%s), key %s, edition %s, subject %s (%s), %d records, issued %s, valid until %s\n",
		r.ReportID, r.Issuer.Code, r.Issuer.Name, r.Signature.KeyID, r.Edition, r.Subject.USCC, r.Subject.Name,
		len(r.Records), r.IssuedAt, r.ValidUntil)
	return 0
}

// fetch reads src: an http(s) URL (GET, status 200 required) or a file.
func fetch(ctx context.Context, src, accept, token string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f, src)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", src, resp.Status, strings.TrimSpace(string(body)))
	}
	return readLimited(resp.Body, src)
}

func readLimited(r io.Reader, src string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFetch+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFetch {
		return nil, fmt.Errorf("%s: larger than %d bytes", src, maxFetch)
	}
	return b, nil
}
