package civil

import (
	"fmt"
	"strconv"
	"time"
)

// Accepted instants: from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
var (
	minInstant = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxInstant = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

// InstantError says why a text is not an accepted instant.
type InstantError struct {
	Text string
	// Range is set for a text that has the form of an RFC 3339 date-time
	// but names no instant creditd accepts (month 13, 30 February, hour 24,
	// a leap second, a year outside 1900–9999).
	Range  bool
	Reason string
}

func (e *InstantError) Error() string {
	q := strconv.Quote(clip(e.Text, 64))
	if e.Range {
		return q + " is out of range: " + e.Reason
	}
	return q + " is not an RFC 3339 instant: " + e.Reason
}

// ParseInstant parses an RFC 3339 date-time (RFC 3339 §5.6:
// YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm), where T and Z may be
// lowercase and the fraction has any number of digits, of which the first
// nine count) and returns it in UTC. Every instant creditd reads (events'
// occurred_at, draws' as_of, ?as_of= queries, command-line instants) goes
// through it. Leap seconds (:60) are refused: Go's time cannot represent
// them. Go's time.Parse is laxer (a comma before the fraction, one-digit
// hours) and stricter (lowercase t and z); this follows the RFC.
func ParseInstant(s string) (time.Time, error) {
	syntax := func(format string, a ...any) (time.Time, error) {
		return time.Time{}, &InstantError{Text: s, Reason: fmt.Sprintf(format, a...)}
	}
	outOfRange := func(format string, a ...any) (time.Time, error) {
		return time.Time{}, &InstantError{Text: s, Range: true, Reason: fmt.Sprintf(format, a...)}
	}
	const shape = "want YYYY-MM-DDThh:mm:ss[.fraction] and Z or ±hh:mm"
	if len(s) < len("2006-01-02T15:04:05Z") {
		return syntax("too short (%s)", shape)
	}
	digits := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := digits(0, 4)
	month, ok2 := digits(5, 2)
	day, ok3 := digits(8, 2)
	hour, ok4 := digits(11, 2)
	minute, ok5 := digits(14, 2)
	sec, ok6 := digits(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return syntax("%s", shape)
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			if n <= 9 {
				nsec = nsec*10 + int(rest[n]-'0')
			}
			n++
		}
		if n == 1 {
			return syntax("no digits after the decimal point")
		}
		for k := n; k <= 9; k++ {
			nsec *= 10
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(len(s)-5, 2)
		om, ok2 := digits(len(s)-2, 2)
		if !ok1 || !ok2 {
			return syntax("bad UTC offset %q (want Z or ±hh:mm)", rest)
		}
		if oh > 23 || om > 59 {
			return outOfRange("UTC offset %s", rest)
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return syntax("bad UTC offset %q (want Z or ±hh:mm)", clip(rest, 16))
	}
	switch {
	case month < 1 || month > 12:
		return outOfRange("month %02d", month)
	case day < 1 || day > daysIn(time.Month(month), year):
		return outOfRange("%s %d has no day %02d", time.Month(month), year, day)
	case hour > 23:
		return outOfRange("hour %02d", hour)
	case minute > 59:
		return outOfRange("minute %02d", minute)
	case sec == 60:
		return outOfRange("leap seconds (:60) are not supported")
	case sec > 60:
		return outOfRange("second %02d", sec)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	if t.Before(minInstant) || !t.Before(maxInstant) {
		return outOfRange("instants are accepted from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z")
	}
	return t, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// clip shortens s to n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
