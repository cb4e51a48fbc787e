package kafkamode

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/creditrisk/creditd/cmd/creditd/internal/api"
	"github.com/creditrisk/creditd/cmd/creditd/internal/ingest"
	"github.com/creditrisk/creditd/feeds/deadletter"
	kf "github.com/creditrisk/creditd/feeds/kafka"
	"github.com/creditrisk/creditd/models/event"
)

// handleEvents produces an NDJSON body's events to the source topic, each
// keyed by its USCC on the partition the configured partitioner gives it,
// and answers 202 once the brokers acknowledged them. Applying is
// asynchronous: duplicates and state-dependent rejections (a ref to an
// unknown record, a repair too early) are decided by the partition's owner
// and go to the dead-letter topic. Lines that fail decoding are rejected
// here, reported, and dead-lettered.
func (k *kafkaMode) handleEvents(w http.ResponseWriter, r *http.Request) {
	s := k.s
	st := &kafkaStream{k: k, ctx: r.Context(), reqID: s.NewRequestID(), dec: event.Decoder{Exceptions: k.exc},
		ans: answer{Rejected: []ingest.Rejection{}}}
	err := s.BodyLines(w, r, st.add)
	if err == nil {
		err = st.flush()
	}
	var be *api.BodyError
	switch {
	case errors.As(err, &be):
		if st.chunks == 0 {
			api.WriteProblem(w, r, be.Status, be.Msg+"; nothing was produced")
			return
		}
		api.WriteProblem(w, r, be.Status, fmt.Sprintf("%s; lines 1-%d were produced before (accepted %d, rejected %d, dead letters under source http:%s) and the rest was not read: sending the whole body again is safe, duplicate ids are no-ops",
			be.Msg, st.last, st.ans.Applied, st.ans.RejectedTotal, st.reqID))
		return
	case err != nil:
		detail := err.Error() + "; nothing was produced"
		if st.chunks > 0 {
			detail = fmt.Sprintf("%s; lines 1-%d were produced before: sending the whole body again is safe (duplicate ids are no-ops)", err, st.last)
		}
		api.Unavailable(w, r, 5, detail)
		return
	}
	ans := map[string]any{"accepted": st.ans.Applied, "rejected": st.ans.Rejected, "rejected_total": st.ans.RejectedTotal,
		"rejected_omitted": st.ans.Omitted, "topic": k.mgr.Options().Topic,
		"note": "accepted events are applied asynchronously by the consumer group; duplicates and rejections found against the state go to the dead-letter topic"}
	if st.ans.RejectedTotal > 0 {
		ans["dead_letters"] = map[string]any{"topic": k.mgr.Options().DeadLetterTopic, "source": "http:" + st.reqID,
			"written": st.dl.Written, "omitted": st.dl.Omitted}
	}
	api.WriteJSON(w, http.StatusAccepted, ans)
}

// answer counts what a request's lines became.
type answer struct {
	Applied       int                // accepted: produced to the source topic
	Rejected      []ingest.Rejection // the first api.AnswerRejectedMax rejections
	RejectedTotal int
	Omitted       int // rejections not listed
}

// letterCounts counts a request's dead letters.
type letterCounts struct {
	Written int // letters written one by one
	Omitted int // rejected lines over the budget, each chunk's under one summary letter
}

// kafkaStream produces one POST /v1/events body to the topics chunk by
// chunk, with the limits of the local mode's eventStream: one chunk in
// memory (api.ChunkLines lines or api.ChunkBytes bytes), at most
// api.AnswerRejectedMax rejections listed, and dead letters within
// api.LetterBudget (beyond that one summary letter per chunk names the
// rejected lines it stands for).
type kafkaStream struct {
	k     *kafkaMode
	ctx   context.Context
	reqID string
	dec   event.Decoder
	ev    event.Event

	recs    []kf.Record
	letters []deadletter.Letter
	bytes   int   // raw bytes pending
	read    int64 // body bytes read up to the end of the last line
	chunks  int   // chunks produced
	last    int64 // number of the last line produced

	usedLetters         int64 // bytes of letters produced one by one
	omitted             int   // this chunk's rejected lines over the budget
	firstOmit, lastOmit string
	scratch             []byte
	ans                 answer
	dl                  letterCounts
}

func (st *kafkaStream) add(num int64, b []byte, end int64, rej *event.RejectError) error {
	var raw []byte
	if rej == nil {
		raw = append([]byte(nil), b...)
		if err := st.dec.Decode(raw, &st.ev); err != nil {
			if !errors.As(err, &rej) {
				rej = &event.RejectError{Reason: event.ReasonInvalidField, Detail: err.Error()}
			}
		}
	}
	st.read = end
	st.bytes += len(raw)
	if rej != nil {
		st.reject(num, rej, raw)
	} else {
		st.recs = append(st.recs, kf.Record{Key: []byte(st.ev.USCC.String()), Value: raw})
	}
	st.last = num
	if len(st.recs)+len(st.letters)+st.omitted >= api.ChunkLines || st.bytes >= api.ChunkBytes {
		return st.flush()
	}
	return nil
}

func (st *kafkaStream) reject(num int64, rej *event.RejectError, raw []byte) {
	a := &st.ans
	a.RejectedTotal++
	if len(a.Rejected) < api.AnswerRejectedMax {
		a.Rejected = append(a.Rejected, ingest.Rejection{Line: num, Reason: rej.Reason, Detail: rej.Detail})
	} else {
		a.Omitted++
	}
	src := deadletter.HTTPSource(st.reqID, num)
	l := deadletter.Letter{At: time.Now(), Source: src, Reason: rej.Reason, Detail: rej.Detail, Original: raw}
	st.scratch = l.AppendJSON(st.scratch[:0])
	size := int64(len(st.scratch)) + 1
	if st.usedLetters+size > api.LetterBudget(st.read) {
		if st.omitted == 0 {
			st.firstOmit = src
		}
		st.lastOmit = src
		st.omitted++
		st.dl.Omitted++
		return
	}
	st.usedLetters += size
	st.dl.Written++
	st.letters = append(st.letters, l)
}

// flush produces the pending dead letters, then the pending events.
func (st *kafkaStream) flush() error {
	if st.omitted > 0 {
		st.letters = append(st.letters, ingest.OmittedLetter(time.Now(), st.firstOmit, st.lastOmit, st.omitted))
		st.omitted = 0
	}
	if len(st.recs) == 0 && len(st.letters) == 0 {
		return nil
	}
	if err := st.k.mgr.WriteDeadLetters(st.ctx, st.letters, nil); err != nil {
		return err
	}
	if err := st.k.mgr.ProduceEvents(st.ctx, st.recs); err != nil {
		return err
	}
	st.ans.Applied += len(st.recs)
	st.chunks++
	clear(st.recs)
	clear(st.letters)
	st.recs, st.letters, st.bytes = st.recs[:0], st.letters[:0], 0
	return nil
}
