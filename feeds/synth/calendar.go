package synth

// Days are int32 counts since 1970-01-01 (UTC), like civil.Date. The
// conversions are H. Hinnant's civil-calendar algorithms: a few integer
// operations, no time.Time on the hot path.

// daysFromCivil returns the day number of y-m-d (proleptic Gregorian).
func daysFromCivil(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// civil returns the calendar date of day n.
func ymd(n int32) (y, m, d int) {
	z := int(n) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func yearOf(n int32) int { y, _, _ := ymd(n); return y }

// weekday returns 0 for Sunday … 6 for Saturday (1970-01-01 was a Thursday).
func weekday(n int32) int {
	w := (int(n) + 4) % 7
	if w < 0 {
		w += 7
	}
	return w
}

// workday reports whether day n is Monday–Friday. Public holidays are not
// modelled (README.md says so).
func workday(n int32) bool { w := weekday(n); return w >= 1 && w <= 5 }

// nextWorkday returns n if it is a working day, else the following Monday.
func nextWorkday(n int32) int32 {
	switch weekday(n) {
	case 6:
		return n + 2
	case 0:
		return n + 1
	}
	return n
}

// addWorkdays returns the k-th working day after n (k ≥ 1).
func addWorkdays(n int32, k int) int32 {
	for k > 0 {
		n++
		if workday(n) {
			k--
		}
	}
	return n
}

// nthWorkdayOfMonth returns the k-th (1-based) working day of y-m.
func nthWorkdayOfMonth(y, m, k int) int32 {
	n := daysFromCivil(y, m, 1) - 1
	return addWorkdays(n, k)
}

// addMonths adds calendar months the way Go's time.AddDate does (31 January
// plus one month is 3 March in a common year), so that it agrees with
// civil.Date.AddMonths.
func addMonths(n int32, months int) int32 {
	y, m, d := ymd(n)
	t := (y*12 + m - 1) + months
	y2, m2 := t/12, t%12+1
	if t < 0 && t%12 != 0 {
		y2--
		m2 = t - y2*12 + 1
	}
	return daysFromCivil(y2, m2, 1) + int32(d-1)
}

// appendDate appends YYYY-MM-DD.
func appendDate(b []byte, n int32) []byte {
	y, m, d := ymd(n)
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

// appendClock appends hh:mm:ss for a second of the day.
func appendClock(b []byte, sec int) []byte {
	h, m, s := sec/3600, sec/60%60, sec%60
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10))
}
