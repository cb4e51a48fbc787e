package civil

import (
	"fmt"
	"time"
)

// ChinaTime is the fixed UTC+8 zone (China Standard Time; no daylight
// saving since 1991) in which regulatory calendar dates are counted: a
// penalty decided at 2026-03-01T02:00+08:00 was decided on 1 March.
var ChinaTime = time.FixedZone("CST", 8*3600)

const cstOffset = 8 * 3600

// Date is a calendar date in China Standard Time, as days since 1970-01-01
// (proleptic Gregorian). Date d begins at 00:00 CST, which is 16:00 UTC of
// the day before.
type Date int32

// NoDate is the Date value used for "no date".
const NoDate Date = -1 << 31

// DateOf returns the CST calendar date of t.
func DateOf(t time.Time) Date { return DateFromUnix(t.Unix()) }

// DateFromUnix returns the CST calendar date of a unix second.
func DateFromUnix(sec int64) Date { return Date(floorDiv(sec+cstOffset, 86400)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 {
		return NoDate, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return NoDate, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date(floorDiv(t.Unix(), 86400)), nil
}

// MakeDate returns the date of year, month, day.
func MakeDate(year int, month time.Month, day int) Date {
	return Date(floorDiv(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix(), 86400))
}

// Time returns the start of d (00:00 CST).
func (d Date) Time() time.Time { return time.Unix(d.Unix(), 0).In(ChinaTime) }

// Unix returns the start of d (00:00 CST) in unix seconds.
func (d Date) Unix() int64 { return int64(d)*86400 - cstOffset }

// String formats d as YYYY-MM-DD, or "" for NoDate.
func (d Date) String() string {
	if d == NoDate {
		return ""
	}
	return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)
}

// AddMonths returns the date n calendar months after d (Go's normalisation:
// 31 January plus one month is 3 March in a common year).
func (d Date) AddMonths(n int) Date {
	t := time.Unix(int64(d)*86400, 0).UTC().AddDate(0, n, 0)
	return Date(floorDiv(t.Unix(), 86400))
}

// AddYears returns the date n calendar years after d (29 February plus one
// year is 1 March).
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }
