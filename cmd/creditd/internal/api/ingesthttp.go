package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/feeds/ndjson"
	"github.com/creditrisk/creditd/models/event"
)

// POST /v1/events over HTTP.
//
// The body is streamed: lines are decoded as they arrive and handed to the
// ingester in chunks (ChunkLines lines or ChunkBytes bytes), so a request
// holds one chunk in memory however long its body. What an answer and the
// dead letters may cost is bounded too: the answer lists the first
// AnswerRejectedMax rejections and counts the rest, and a request's dead
// letters are at most letterBudgetFactor bytes per body byte plus
// letterBudgetSlack (beyond that one summary letter per chunk stands for
// the rejected lines). At most --max-ingest requests ingest at once; the
// others get 429 with Retry-After before their body is read.

// The bounds of POST /v1/events, shared by both modes.
const (
	AnswerRejectedMax  = 1000             // rejections listed in an answer
	ChunkLines         = ingest.LineBatch // lines of a chunk
	ChunkBytes         = 4 << 20          // bytes of a chunk
	letterBudgetFactor = 2
	letterBudgetSlack  = 64 << 10
	maxLineSize        = 1 << 20
)

// LetterBudget is how many bytes of dead letters a request may write one
// by one once read bytes of its body were read.
func LetterBudget(read int64) int64 { return letterBudgetFactor*read + letterBudgetSlack }

// deadLetterPath is where the local mode's dead letters are, relative to
// the data directory (localmode).
var deadLetterPath = filepath.Join("deadletters", "deadletters.ndjson")

// eventsAnswer is the POST /v1/events answer. "applied", "duplicates" and
// "rejected" are as before; "rejected" lists at most AnswerRejectedMax
// rejections, in line order, and "rejected_total" counts them all.
type eventsAnswer struct {
	Applied       int                `json:"applied"`
	Duplicates    int                `json:"duplicates"`
	Rejected      []ingest.Rejection `json:"rejected"`
	RejectedTotal int                `json:"rejected_total"`
	Omitted       int                `json:"rejected_omitted"`
	DeadLetters   *deadLettersRef    `json:"dead_letters,omitempty"`
}

// deadLettersRef says where a request's rejected lines were dead-lettered.
type deadLettersRef struct {
	File    string `json:"file"`    // relative to the data directory
	Source  string `json:"source"`  // the letters' source is SOURCE:LINE
	Written int    `json:"written"` // letters written one by one
	Omitted int    `json:"omitted"` // rejected lines over the budget, each chunk's under one summary letter
}

// BodyError is a request body that could not be read to its end: Status
// is the answer's (413 over --max-body, 400 otherwise).
type BodyError struct {
	Status int
	Msg    string
}

func (e *BodyError) Error() string { return e.Msg }

// BodyLines reads an NDJSON body of at most --max-body bytes and calls fn
// for every line: b is the line (valid during the call) or, for a line over
// maxLineSize, nil with its line_too_long rejection; end is the body offset
// just past the line. It returns nil at the end of the body, fn's error
// unchanged, or a *BodyError.
func (s *Server) BodyLines(w http.ResponseWriter, r *http.Request, fn func(num int64, b []byte, end int64, rej *event.RejectError) error) error {
	rd := ndjson.NewReader(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), ndjson.Options{MaxLineSize: maxLineSize})
	for {
		l, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		var tl *ndjson.TooLongError
		switch {
		case errors.As(err, &tl):
			err = fn(tl.Number, nil, rd.InputOffset(), &event.RejectError{Reason: event.ReasonLineTooLong,
				Detail: fmt.Sprintf("line of %d bytes exceeds %d", tl.Size, tl.Max)})
		case err != nil:
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return &BodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes", s.cfg.MaxBody)}
			}
			return &BodyError{http.StatusBadRequest, "reading the body: " + err.Error()}
		default:
			err = fn(l.Number, l.Bytes, rd.InputOffset(), nil)
		}
		if err != nil {
			return err
		}
	}
}

// eventStream feeds one request's lines to the ingester chunk by chunk.
type eventStream struct {
	ctx    context.Context
	ing    *ingest.Ingester
	source string
	dec    event.Decoder
	lines  []ingest.Line
	bytes  int   // raw bytes in lines
	read   int64 // body bytes read up to the end of the last line
	chunks int   // chunks submitted
	last   int64 // number of the last line submitted
	// usedLetters is the bytes of dead letters written one by one so far.
	usedLetters int64
	ans         eventsAnswer
	dl          deadLettersRef
}

func (st *eventStream) add(num int64, b []byte, end int64, rej *event.RejectError) error {
	in := ingest.RejectedLine(num, rej)
	if rej == nil {
		in = ingest.DecodeLine(&st.dec, num, b)
	}
	st.lines = append(st.lines, in)
	st.bytes += in.Size()
	st.read = end
	if len(st.lines) >= ChunkLines || st.bytes >= ChunkBytes {
		return st.flush()
	}
	return nil
}

// flush submits the pending lines and adds their outcome to the answer.
func (st *eventStream) flush() error {
	if len(st.lines) == 0 {
		return nil
	}
	budget := max(0, LetterBudget(st.read)-st.usedLetters)
	res, letters, err := st.ing.SubmitBudget(st.ctx, st.source, st.lines, budget)
	if err != nil {
		return err
	}
	st.chunks++
	st.last = st.lines[len(st.lines)-1].Num()
	st.lines, st.bytes = st.lines[:0], 0
	a := &st.ans
	a.Applied += res.Applied
	a.Duplicates += res.Duplicates
	a.RejectedTotal += len(res.Rejected)
	room := min(len(res.Rejected), AnswerRejectedMax-len(a.Rejected))
	a.Rejected = append(a.Rejected, res.Rejected[:room]...)
	a.Omitted += len(res.Rejected) - room
	st.dl.Written += letters.Written
	st.dl.Omitted += letters.Omitted
	st.usedLetters += letters.Bytes
	return nil
}

// handleEvents ingests an NDJSON body (local mode).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if s.notReady(w, r) {
		return
	}
	reqID := s.NewRequestID()
	st := &eventStream{ctx: r.Context(), ing: s.ing, source: "http:" + reqID,
		dec: event.Decoder{Exceptions: s.exc, Borrow: true}, ans: eventsAnswer{Rejected: []ingest.Rejection{}}}
	err := s.BodyLines(w, r, st.add)
	if err == nil {
		err = st.flush()
	}
	var be *BodyError
	switch {
	case errors.As(err, &be):
		if st.chunks == 0 {
			writeProblem(w, r, be.Status, be.Msg+"; nothing was applied")
			return
		}
		a := st.ans
		writeProblem(w, r, be.Status, fmt.Sprintf("%s; lines 1-%d were processed before (applied %d, duplicates %d, rejected %d, dead letters under source %s) and the rest was not read: sending the whole body again is safe, duplicate ids are no-ops",
			be.Msg, st.last, a.Applied, a.Duplicates, a.RejectedTotal, st.source))
		return
	case err != nil:
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	if st.ans.RejectedTotal > 0 {
		st.dl.File, st.dl.Source = deadLetterPath, st.source
		st.ans.DeadLetters = &st.dl
	}
	writeJSON(w, http.StatusOK, st.ans)
}

// ndjsonTypes are the media types POST /v1/events accepts; a body without
// Content-Type is taken as NDJSON too.
var ndjsonTypes = map[string]bool{
	"application/x-ndjson": true, "application/ndjson": true, "application/jsonl": true,
	"application/x-jsonlines": true, "application/jsonlines": true,
}

// IngestGate refuses, before reading the body, an ingest request whose
// body creditd would not take: a Content-Encoding (gzip is not decoded) or
// a media type other than NDJSON (415), a declared Content-Length over
// --max-body (413), or one more request than --max-ingest at once (429).
func (s *Server) IngestGate(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
			w.Header().Set("Accept-Encoding", "identity")
			refuse(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported: send the NDJSON body uncompressed", ce))
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, params, err := mime.ParseMediaType(ct)
			cs := params["charset"]
			if err != nil || !ndjsonTypes[mt] || (cs != "" && !strings.EqualFold(cs, "utf-8")) {
				refuse(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not NDJSON: send application/x-ndjson (UTF-8)", ct))
				return
			}
		}
		if r.ContentLength > s.cfg.MaxBody {
			refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds %d bytes; nothing was read", r.ContentLength, s.cfg.MaxBody))
			return
		}
		select {
		case s.ingestSlots <- struct{}{}:
			defer func() { <-s.ingestSlots }()
		default:
			w.Header().Set("Retry-After", "5")
			refuse(w, r, http.StatusTooManyRequests, fmt.Sprintf("%d ingest requests are running, the most at once; retry shortly", cap(s.ingestSlots)))
			return
		}
		fn(w, r)
	}
}

// refuse answers status without reading the request body: the connection
// is closed after the answer (Connection: close), and the read deadline is
// moved to now so that the server does not read the body after the handler
// either (net/http would otherwise drain up to 256 KiB of it, waiting for
// a slow client, before answering).
func refuse(w http.ResponseWriter, r *http.Request, status int, detail string) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
		defer func() { _ = http.NewResponseController(w).SetReadDeadline(time.Now()) }()
	}
	writeProblem(w, r, status, detail)
}
