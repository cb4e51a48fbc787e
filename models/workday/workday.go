// Package workday counts Chinese working days (工作日): Monday to Friday,
// less the public holidays of the State Council's yearly notice
// (国务院办公厅关于部分节假日安排的通知), plus the weekend days that notice
// makes working days (调休上班, "make-up workdays").
//
// The holiday data is github.com/6tail/lunar-go's HolidayUtil, a
// maintained transcription of every notice since 2001, not a table kept
// here. A year the library has no entry for (a notice not yet published, or
// not yet in the library) is counted as plain Monday to Friday and
// reported by Covered, so that a caller can say its deadline is provisional.
//
// Deadlines follow the general rule for periods in Chinese law: the day
// on which the period starts is not counted (民法典 Art. 201; 行政许可法
// Art. 82 counts 工作日 the same way), so a deadline of n working days
// after day d is the n-th working day after d.
package workday

import (
	"strings"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"github.com/creditrisk/creditd/models/civil"
)

// Calendar answers whether a day is a working day. Build it once with
// New; it is read-only afterwards and safe for concurrent use.
type Calendar struct {
	// special maps a day of a notice to true for a make-up workday and
	// false for a day off.
	special map[civil.Date]bool
	years   map[int]bool // years with notice data
}

// First and last years New loads from the library. The library starts at
// 2001-12-29; the upper bound only limits work at start-up.
const (
	firstYear = 2001
	lastYear  = 2060
)

// New loads the holiday data of lunar-go.
func New() *Calendar {
	c := &Calendar{special: map[civil.Date]bool{}, years: map[int]bool{}}
	for y := firstYear; y <= lastYear; y++ {
		l := HolidayUtil.GetHolidaysByYear(y)
		for e := l.Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			d, err := civil.ParseDate(strings.TrimSpace(h.GetDay()))
			if err != nil {
				continue
			}
			c.special[d] = h.IsWork()
			c.years[y] = true
		}
	}
	return c
}

// Covered reports whether the notice of d's year is in the data.
func (c *Calendar) Covered(d civil.Date) bool { return c.years[d.Time().Year()] }

// IsWorkday reports whether d is a working day.
func (c *Calendar) IsWorkday(d civil.Date) bool {
	if w, ok := c.special[d]; ok {
		return w
	}
	wd := d.Time().Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Add returns the n-th working day after d (d itself not counted); n ≤ 0
// returns d.
func (c *Calendar) Add(d civil.Date, n int) civil.Date {
	for n > 0 {
		d++
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// Between counts the working days after from up to and including to (0
// when to ≤ from).
func (c *Calendar) Between(from, to civil.Date) int {
	n := 0
	for d := from + 1; d <= to; d++ {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

// Source names the holiday data, for documents and answers.
func Source() string { return "github.com/6tail/lunar-go HolidayUtil " + libVersion }

// libVersion is the lunar-go version in go.mod.
const libVersion = "v1.4.7"
