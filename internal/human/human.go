// Package human writes quantities the way people say them in sitrep's
// messages, exports and command-line output.
package human

import (
	"strconv"
	"time"
)

// Duration says how long d is, rounded down to its largest two units:
// "26 s", "12 min", "1 h 30 min", "24 h", "36 h", "7 days", "2 days 3 h".
// Up to two days it counts hours, as people do ("24 h", "36 h"); from two
// days on it counts days. A negative d is written with a leading "-".
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	const day = 24 * time.Hour
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 2*day:
		return pair(int(d/time.Hour), "h", int(d%time.Hour/time.Minute), "min")
	}
	days := int(d / day)
	out := strconv.Itoa(days) + " days"
	if h := int(d % day / time.Hour); h > 0 {
		out += " " + strconv.Itoa(h) + " h"
	}
	return out
}

// pair writes "n unit" and, if m is not 0, " m sub".
func pair(n int, unit string, m int, sub string) string {
	out := strconv.Itoa(n) + " " + unit
	if m > 0 {
		out += " " + strconv.Itoa(m) + " " + sub
	}
	return out
}
