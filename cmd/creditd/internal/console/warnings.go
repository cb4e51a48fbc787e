package console

import (
	"strings"

	"github.com/creditrisk/creditd/models/draw"
)

// Draw warnings: the sampler writes them in English into the draw record
// (and the preview), and the record is signed, so their text stays as it
// is. draw.ParseWarning, which owns the text of each known form, gives a
// warning's code and values back; the console renders the code's message
// (i18n.go, "warn."+code) in the visitor's language with those values. A
// warning of an unknown form is shown as written.

// warning is a draw warning as a page shows it.
type warning struct {
	// Code names the known form ("" unknown); Text is in the view's
	// language; Original is the record's text.
	Code, Text, Original string
}

// Warnings renders draw warnings in the view's language: the message's
// {1}, {2}… take the warning's values in the order of its English text
// (draw.Warning.Args), the allocation kind translated.
func (v *View) Warnings(ws []string) []warning {
	out := make([]warning, 0, len(ws))
	for _, s := range ws {
		w, ok := draw.ParseWarning(s)
		if !ok {
			out = append(out, warning{Text: s, Original: s})
			continue
		}
		code := string(w.Code)
		args := w.Args()
		if w.Code == draw.WarnRoundUp {
			// tier, kind, value, N
			args[1] = v.T("warn.kind." + w.Kind())
		}
		text := v.T("warn." + code)
		for i, a := range args {
			text = strings.ReplaceAll(text, "{"+string(rune('1'+i))+"}", a)
		}
		out = append(out, warning{Code: code, Text: text, Original: s})
	}
	return out
}
