// Package human writes quantities the way people say them in sitrep's
// messages, exports and command-line output.
package human

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// ParseDuration reads a duration as people type it: Go's own form ("90m",
// "1h30m", "24h") and days and weeks ("2d", "1d12h", "2w"). Units may be
// upper or lower case; a sign is refused, as are empty text and a number
// without a unit other than 0. The error says what was wrong and shows
// the forms that are read.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return 0, errors.New("no duration given: write it as 30m, 24h, 2d or 1d12h")
	}
	if in == "0" {
		return 0, nil
	}
	if in[0] == '-' || in[0] == '+' {
		return 0, fmt.Errorf("%q is not a duration: write it without a sign, as 30m, 24h, 2d or 1d12h", s)
	}
	var total time.Duration
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%q is not a duration: write it as 30m, 24h, 2d or 1d12h", s)
		}
		num := rest[:i]
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		var d time.Duration
		switch unit {
		case "d", "w":
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration: write it as 30m, 24h, 2d or 1d12h", s)
			}
			per := 24 * time.Hour
			if unit == "w" {
				per *= 7
			}
			if n*float64(per) > float64(1<<62) {
				return 0, fmt.Errorf("%q is too long a duration", s)
			}
			d = time.Duration(n * float64(per))
		default:
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				if unit == "" {
					return 0, fmt.Errorf("%q has no unit: write it as 30m, 24h, 2d or 1d12h", s)
				}
				return 0, fmt.Errorf("%q is not a duration: write it as 30m, 24h, 2d or 1d12h", s)
			}
		}
		if total > time.Duration(1<<62)-d {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
		total += d
	}
	return total, nil
}
