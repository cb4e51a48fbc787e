package workday

import (
	"testing"
	"time"

	"github.com/creditrisk/creditd/models/civil"
)

func day(y int, m time.Month, d int) civil.Date { return civil.MakeDate(y, m, d) }

// The values are worked out by hand from the State Council's notices:
//
//   - 2026: 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号):
//     春节 2月15日（星期日）至23日（星期一）放假调休，共9天；2月14日（星期六）、
//     2月28日（星期六）上班. 国庆节、中秋节 … 9月20日（星期日）、10月10日（星期六）上班.
//   - 2027: the 2027 notice (issued November 2026) as transcribed in
//     lunar-go v1.4.7: 春节 2月5日（星期五）至13日（星期六）放假，1月31日（星期日）、
//     2月14日（星期日）上班. The notice's number is not in domain.md
//     (§10 "unconfirmed"); the library's data is what the service uses.
//
// Counting starts the day after filing (民法典 Art. 201); Shandong Social
// Credit Regulation Art. 39 gives 3 working days, 7 when another unit
// must verify (domain.md §4.8).
func TestAddAcrossSpringFestival(t *testing.T) {
	c := New()
	cases := []struct {
		name string
		from civil.Date
		n    int
		want civil.Date
	}{
		// 2026: Fri 13 Feb; Sat 14 Feb is a make-up workday (1), 15–23 Feb
		// are off, Tue 24 (2), Wed 25 (3). Plain Mon–Fri would give 18 Feb.
		{"2026 eve, 3 days", day(2026, 2, 13), 3, day(2026, 2, 25)},
		// Thu 12 Feb: Fri 13 (1), Sat 14 (2), 24 (3), 25 (4), 26 (5), 27 (6),
		// Sat 28 Feb, a make-up workday (7).
		{"2026 7 days end on make-up Saturday", day(2026, 2, 12), 7, day(2026, 2, 28)},
		// Filed on a holiday (Mon 23 Feb, day off): 24, 25, 26.
		{"2026 filed on holiday", day(2026, 2, 23), 3, day(2026, 2, 26)},
		// Fri 27 Feb: Sat 28 (1), Mon 2 Mar (2), Tue 3 Mar (3).
		{"2026 make-up Saturday counts", day(2026, 2, 27), 3, day(2026, 3, 3)},
		// Filed on the make-up Saturday itself: Mon 2, Tue 3, Wed 4 March.
		{"2026 filed on make-up Saturday", day(2026, 2, 28), 3, day(2026, 3, 4)},
		// An ordinary week: Wed 4 Mar → Thu 5, Fri 6, Mon 9.
		{"ordinary weekend", day(2026, 3, 4), 3, day(2026, 3, 9)},
		// 2026 National Day: Fri 18 Sep → Sun 20 Sep is a make-up workday (1), Mon 21 (2), Tue 22 (3).
		{"2026 make-up Sunday before National Day", day(2026, 9, 18), 3, day(2026, 9, 22)},
		// 2027: Fri 29 Jan → Sun 31 Jan make-up (1), Mon 1 Feb (2), Tue 2 Feb (3).
		{"2027 make-up Sunday", day(2027, 1, 29), 3, day(2027, 2, 2)},
		// Thu 4 Feb 2027: 5–13 off, Sun 14 make-up (1), Mon 15 (2), Tue 16 (3).
		{"2027 eve, 3 days", day(2027, 2, 4), 3, day(2027, 2, 16)},
		// 7 days from Thu 4 Feb 2027: 14 (1), 15–19 (2–6), Mon 22 (7).
		{"2027 eve, 7 days", day(2027, 2, 4), 7, day(2027, 2, 22)},
		{"zero days", day(2026, 2, 13), 0, day(2026, 2, 13)},
	}
	for _, tc := range cases {
		if got := c.Add(tc.from, tc.n); got != tc.want {
			t.Errorf("%s: Add(%s, %d) = %s, want %s", tc.name, tc.from, tc.n, got, tc.want)
		}
		if tc.n > 0 {
			if got := c.Between(tc.from, tc.want); got != tc.n {
				t.Errorf("%s: Between(%s, %s) = %d, want %d", tc.name, tc.from, tc.want, got, tc.n)
			}
		}
	}
}

func TestIsWorkday(t *testing.T) {
	c := New()
	cases := []struct {
		d    civil.Date
		want bool
	}{
		{day(2026, 2, 14), true},  // Saturday, make-up workday
		{day(2026, 2, 16), false}, // Monday, Spring Festival
		{day(2026, 2, 23), false}, // Monday, last day off
		{day(2026, 2, 24), true},  // Tuesday
		{day(2026, 2, 21), false}, // Saturday in the holiday
		{day(2026, 3, 7), false},  // ordinary Saturday
		{day(2026, 10, 10), true}, // Saturday, make-up workday
		{day(2027, 2, 14), true},  // Sunday, make-up workday
		{day(2027, 2, 5), false},  // Friday, Spring Festival
	}
	for _, tc := range cases {
		if got := c.IsWorkday(tc.d); got != tc.want {
			t.Errorf("IsWorkday(%s) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// A year without notice data is counted Monday to Friday and reported as
// not covered.
func TestCovered(t *testing.T) {
	c := New()
	if !c.Covered(day(2026, 6, 1)) || !c.Covered(day(2027, 6, 1)) {
		t.Fatal("2026 and 2027 must be covered by lunar-go v1.4.7")
	}
	if c.Covered(day(2059, 6, 1)) {
		t.Fatal("2059 has no notice yet")
	}
	// Fri 2059-01-31 → Mon 3, Tue 4, Wed 5 Feb.
	if got := c.Add(day(2059, 1, 31), 3); got != day(2059, 2, 5) {
		t.Fatalf("uncovered year: got %s", got)
	}
}

func FuzzAddBetween(f *testing.F) {
	c := New()
	f.Add(int32(20500), uint8(3))
	f.Fuzz(func(t *testing.T, d int32, n uint8) {
		from := civil.Date(d%40000 + 10000)
		to := c.Add(from, int(n%30))
		if got := c.Between(from, to); got != int(n%30) {
			t.Fatalf("Between(Add(%s,%d)) = %d", from, n%30, got)
		}
		if n%30 > 0 && !c.IsWorkday(to) {
			t.Fatalf("Add(%s,%d) = %s is not a working day", from, n%30, to)
		}
	})
}
