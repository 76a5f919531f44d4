package socketwatch

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// frameOpts describes a frame for frame.
type frameOpts struct {
	notFin bool
	rsv    byte // RSV bits, already shifted (0x40 is RSV1)
	op     byte
	masked bool
	ext    int // force the 16-bit (2) or 64-bit (8) length form
}

// frame encodes one WebSocket frame as a server would (or, masked, as a
// client would: the mask key is zero so the payload reads as given).
func frame(o frameOpts, payload string) []byte {
	b0 := o.op | o.rsv
	if !o.notFin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var mask byte
	if o.masked {
		mask = 0x80
	}
	n := len(payload)
	switch {
	case o.ext == 8 || n > 0xffff:
		out = append(out, mask|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	case o.ext == 2 || n > 125:
		out = append(out, mask|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mask|byte(n))
	}
	if o.masked {
		out = append(out, 0, 0, 0, 0)
	}
	return append(out, payload...)
}

func text(payload string) []byte { return frame(frameOpts{op: 1}, payload) }

const (
	warning   = `{"type":"disconnect","reason":"warning","debug_info":{"host":"applink-1"}}`
	refresh   = `{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-1"}}`
	hello     = `{"type":"hello","num_connections":2}`
	envelope  = `{"envelope_id":"e1","type":"slash_commands","payload":{"text":"warning"}}`
	http101   = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	http400   = "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\n"
	bigPadded = `{"type":"disconnect","reason":"warning","pad":"`
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFilter(t *testing.T) {
	t.Parallel()
	long := bigPadded + strings.Repeat("x", 200) + `"}`
	tooLong := bigPadded + strings.Repeat("x", MaxWatchedFrame) + `"}`
	for _, tc := range []struct {
		name     string
		withHTTP bool
		in, want []byte
		warnings int
	}{
		{"warning alone", false, text(warning), nil, 1},
		{"refresh_requested passes", false, text(refresh), text(refresh), 0},
		{"warning between frames", false, cat(text(hello), text(warning), text(envelope)), cat(text(hello), text(envelope)), 1},
		{"two warnings", false, cat(text(warning), text(envelope), text(warning)), text(envelope), 2},
		{"16-bit length", false, cat(text(long), text(envelope)), text(envelope), 1},
		{"64-bit length", false, cat(frame(frameOpts{op: 1, ext: 8}, warning), text(envelope)), text(envelope), 1},
		{"empty text frame", false, text(""), text(""), 0},
		{"after handshake", true, cat([]byte(http101), text(hello), text(warning)), cat([]byte(http101), text(hello)), 1},
		{"failed handshake: off", true, cat([]byte(http400), text(warning)), cat([]byte(http400), text(warning)), 0},
		{"fragmented", false,
			cat(frame(frameOpts{op: 1, notFin: true}, warning[:10]), frame(frameOpts{op: 0}, warning[10:])),
			cat(frame(frameOpts{op: 1, notFin: true}, warning[:10]), frame(frameOpts{op: 0}, warning[10:])), 0},
		{"ping between fragments", false,
			cat(frame(frameOpts{op: 1, notFin: true}, "{"), frame(frameOpts{op: 9}, "p"), frame(frameOpts{op: 0}, "}"), text(warning)),
			cat(frame(frameOpts{op: 1, notFin: true}, "{"), frame(frameOpts{op: 9}, "p"), frame(frameOpts{op: 0}, "}")), 1},
		{"compressed (RSV1)", false, frame(frameOpts{op: 1, rsv: 0x40}, warning), frame(frameOpts{op: 1, rsv: 0x40}, warning), 0},
		{"masked", false, frame(frameOpts{op: 1, masked: true}, warning), frame(frameOpts{op: 1, masked: true}, warning), 0},
		{"binary", false, frame(frameOpts{op: 2}, warning), frame(frameOpts{op: 2}, warning), 0},
		{"ping with warning JSON", false, frame(frameOpts{op: 9}, warning), frame(frameOpts{op: 9}, warning), 0},
		{"close", false, frame(frameOpts{op: 8}, "\x03\xe8"), frame(frameOpts{op: 8}, "\x03\xe8"), 0},
		{"too long to be one", false, text(tooLong), text(tooLong), 0},
		{"not JSON", false, text("warning disconnect"), text("warning disconnect"), 0},
		{"other reason", false, text(`{"type":"disconnect","reason":"link_disabled"}`), text(`{"type":"disconnect","reason":"link_disabled"}`), 0},
		{"envelope mentioning warning", false, text(envelope), text(envelope), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{len(tc.in), 1, 3, 7} {
				out, warned := feedChunks(newFilter(tc.withHTTP), tc.in, chunk)
				if !bytes.Equal(out, tc.want) {
					t.Errorf("chunk %d: out\n%q\nwant\n%q", chunk, out, tc.want)
				}
				if warned != tc.warnings {
					t.Errorf("chunk %d: %d warnings, want %d", chunk, warned, tc.warnings)
				}
			}
		})
	}
}

func TestFilterWarningFields(t *testing.T) {
	t.Parallel()
	_, warned := newFilter(false).feed(text(warning))
	if len(warned) != 1 || warned[0].Reason != "warning" || string(warned[0].DebugInfo) != `{"host":"applink-1"}` {
		t.Errorf("warned = %+v", warned)
	}
}

func TestFilterFlushReturnsHeldBytes(t *testing.T) {
	t.Parallel()
	f := newFilter(false)
	partial := text(warning)[:20]
	out, _ := f.feed(partial)
	if len(out) != 0 {
		t.Fatalf("a partial candidate frame should be held, got %q", out)
	}
	if got := f.flush(); !bytes.Equal(got, partial) {
		t.Errorf("flush = %q, want %q", got, partial)
	}
	if out, _ := f.feed(text(warning)); !bytes.Equal(out, text(warning)) {
		t.Errorf("after a flush the filter passes everything: %q", out)
	}
}

// feedChunks feeds in in pieces of chunk bytes, then flushes, and returns
// everything passed on and the number of warnings dropped.
func feedChunks(f *filter, in []byte, chunk int) ([]byte, int) {
	var out []byte
	n := 0
	for len(in) > 0 {
		c := min(chunk, len(in))
		o, w := f.feed(in[:c])
		out = append(out, o...)
		n += len(w)
		in = in[c:]
	}
	return append(out, f.flush()...), n
}

// reference filters a whole stream at once, written apart from the
// streaming filter: the fuzz target checks one against the other.
func reference(in []byte, withHTTP bool) ([]byte, int) {
	var out []byte
	i, warned := 0, 0
	if withHTTP {
		end := bytes.Index(in, []byte("\r\n\r\n"))
		if end < 0 || end+4 > maxHTTPHead || !bytes.HasPrefix(in, []byte("HTTP/1.1 101 ")) {
			return in, 0
		}
		i = end + 4
		out = append(out, in[:i]...)
	}
	for i < len(in) {
		rest := in[i:]
		if len(rest) < 2 {
			break
		}
		need := 2
		switch rest[1] & 0x7f {
		case 126:
			need += 2
		case 127:
			need += 8
		}
		masked := rest[1]&0x80 != 0
		if masked {
			need += 4
		}
		if len(rest) < need {
			break
		}
		var n uint64
		switch rest[1] & 0x7f {
		case 126:
			n = uint64(binary.BigEndian.Uint16(rest[2:]))
		case 127:
			n = binary.BigEndian.Uint64(rest[2:])
		default:
			n = uint64(rest[1] & 0x7f)
		}
		avail := uint64(len(rest) - need)
		candidate := rest[0]&0xf0 == 0x80 && rest[0]&0x0f == 1 && !masked && n <= MaxWatchedFrame
		if candidate {
			if avail < n {
				break // incomplete: held, then flushed as is
			}
			if _, ok := isWarning(rest[need : need+int(n)]); ok {
				warned++
			} else {
				out = append(out, rest[:need+int(n)]...)
			}
			i += need + int(n)
			continue
		}
		if avail <= n {
			return append(out, rest...), warned
		}
		out = append(out, rest[:need+int(n)]...)
		i += need + int(n)
	}
	return append(out, in[i:]...), warned
}

// FuzzFilter feeds arbitrary byte streams in arbitrary chunks: the filter
// never panics, agrees with the reference, and a stream it drops nothing
// from comes out unchanged.
func FuzzFilter(f *testing.F) {
	f.Add(cat(text(hello), text(warning), text(envelope)), uint8(1), false)
	f.Add(cat([]byte(http101), text(warning), frame(frameOpts{op: 9}, "x")), uint8(5), true)
	f.Add(cat(frame(frameOpts{op: 1, notFin: true}, "{"), frame(frameOpts{op: 0}, "}")), uint8(2), false)
	f.Add(frame(frameOpts{op: 1, ext: 8}, warning), uint8(0), false)
	f.Add(frame(frameOpts{op: 1, masked: true}, warning), uint8(3), false)
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2}, uint8(1), false)
	f.Add([]byte(http400), uint8(4), true)
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, withHTTP bool) {
		out, warned := feedChunks(newFilter(withHTTP), in, int(chunk)%64+1)
		want, wantWarned := reference(in, withHTTP)
		if !bytes.Equal(out, want) || warned != wantWarned {
			t.Fatalf("in %q:\nout  %q (%d warnings)\nwant %q (%d)", in, out, warned, want, wantWarned)
		}
		if warned == 0 && !bytes.Equal(out, in) {
			t.Fatalf("nothing dropped but the stream changed:\nin  %q\nout %q", in, out)
		}
		if len(out) > len(in) {
			t.Fatalf("out longer than in")
		}
	})
}
