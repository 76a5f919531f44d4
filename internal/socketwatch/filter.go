package socketwatch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
)

// MaxWatchedFrame is the largest payload, in bytes, of a text frame the
// filter holds back to look at. Slack's disconnect frames are a few hundred
// bytes; anything longer cannot be one and is passed on as it arrives.
const MaxWatchedFrame = 4096

// maxHTTPHead bounds the handshake response the filter skips before it
// starts reading frames; a longer head turns the filter off.
const maxHTTPHead = 64 << 10

// Disconnect is a disconnect frame the filter swallowed.
type Disconnect struct {
	// Type is "disconnect".
	Type string `json:"type"`
	// Reason is "warning".
	Reason string `json:"reason"`
	// DebugInfo is Slack's debug_info object, as sent.
	DebugInfo json.RawMessage `json:"debug_info,omitempty"`
}

type phase int

const (
	phaseHTTP   phase = iota // skipping the handshake response head
	phaseHeader              // reading a frame header
	phasePass                // passing a frame's payload on
	phaseHold                // holding a small text frame back to look at it
	phaseOff                 // passing everything on, for good
)

// filter reads a server→client WebSocket byte stream and drops every
// complete, unfragmented, uncompressed, unmasked text frame whose JSON is
// {"type":"disconnect","reason":"warning",…}. Every other byte comes out
// unchanged and in order. It never fails: what it cannot parse, it passes
// on and stops looking.
type filter struct {
	phase  phase
	head   []byte // phaseHTTP: the bytes of the response head seen so far (up to maxHTTPHead)
	hdr    []byte // phaseHeader/phaseHold: the frame header held back
	need   int    // phaseHeader: header length once known, else 0
	left   uint64 // phasePass: payload bytes still to pass on
	body   []byte // phaseHold: payload held back
	bodyN  int    // phaseHold: payload length
	out    []byte // reused output buffer
	warned []Disconnect
}

// newFilter returns a filter; withHTTP says the stream starts with the
// HTTP handshake response, which is passed on before frames are read. A
// response other than 101 Switching Protocols turns the filter off.
func newFilter(withHTTP bool) *filter {
	f := &filter{phase: phaseHeader}
	if withHTTP {
		f.phase = phaseHTTP
	}
	return f
}

// feed takes the next bytes of the stream and returns the bytes to pass on
// (valid until the next call) and the warnings swallowed in them.
func (f *filter) feed(p []byte) ([]byte, []Disconnect) {
	f.out = f.out[:0]
	f.warned = f.warned[:0]
	for len(p) > 0 {
		switch f.phase {
		case phaseOff:
			f.out = append(f.out, p...)
			p = nil
		case phaseHTTP:
			p = f.feedHTTP(p)
		case phaseHeader:
			p = f.feedHeader(p)
		case phasePass:
			n := uint64(len(p))
			if n > f.left {
				n = f.left
			}
			f.out = append(f.out, p[:n]...)
			p = p[n:]
			f.left -= n
			if f.left == 0 {
				f.phase = phaseHeader
			}
		case phaseHold:
			n := min(len(p), f.bodyN-len(f.body))
			f.body = append(f.body, p[:n]...)
			p = p[n:]
			if len(f.body) == f.bodyN {
				f.judge()
			}
		}
	}
	return f.out, f.warned
}

// feedHTTP passes the response head on and finds its end.
func (f *filter) feedHTTP(p []byte) []byte {
	for i, c := range p {
		f.head = append(f.head, c)
		if c == '\n' && bytes.HasSuffix(f.head, []byte("\r\n\r\n")) {
			f.out = append(f.out, p[:i+1]...)
			if bytes.HasPrefix(f.head, []byte("HTTP/1.1 101 ")) {
				f.phase = phaseHeader
			} else {
				f.phase = phaseOff
			}
			f.head = nil
			return p[i+1:]
		}
		if len(f.head) >= maxHTTPHead {
			f.out = append(f.out, p[:i+1]...)
			f.phase, f.head = phaseOff, nil
			return p[i+1:]
		}
	}
	f.out = append(f.out, p...)
	return nil
}

// feedHeader collects a frame header and decides what to do with the frame.
func (f *filter) feedHeader(p []byte) []byte {
	for len(p) > 0 {
		f.hdr = append(f.hdr, p[0])
		p = p[1:]
		if len(f.hdr) == 2 {
			f.need = 2
			switch f.hdr[1] & 0x7f {
			case 126:
				f.need += 2
			case 127:
				f.need += 8
			}
			if f.hdr[1]&0x80 != 0 { // masked: not from a server, but pass it on
				f.need += 4
			}
		}
		if f.need > 0 && len(f.hdr) == f.need {
			f.startFrame()
			return p
		}
	}
	return p
}

// startFrame looks at a complete header: a frame that could be a warning
// is held back; any other passes on as it comes.
func (f *filter) startFrame() {
	b0, b1 := f.hdr[0], f.hdr[1]
	var n uint64
	switch b1 & 0x7f {
	case 126:
		n = uint64(binary.BigEndian.Uint16(f.hdr[2:4]))
	case 127:
		n = binary.BigEndian.Uint64(f.hdr[2:10])
	default:
		n = uint64(b1 & 0x7f)
	}
	const fin, rsv, opText, mask = 0x80, 0x70, 0x1, 0x80
	candidate := b0&fin != 0 && b0&rsv == 0 && b0&0x0f == opText && b1&mask == 0 && n <= MaxWatchedFrame
	f.need = 0
	if candidate {
		f.phase, f.bodyN, f.body = phaseHold, int(n), f.body[:0]
		if n == 0 {
			f.judge()
		}
		return
	}
	f.out = append(f.out, f.hdr...)
	f.hdr = f.hdr[:0]
	f.left = n
	f.phase = phaseHeader
	if n > 0 {
		f.phase = phasePass
	}
}

// judge decides on a held frame: a warning is dropped, anything else
// passed on.
func (f *filter) judge() {
	if d, ok := isWarning(f.body); ok {
		f.warned = append(f.warned, d)
	} else {
		f.out = append(f.out, f.hdr...)
		f.out = append(f.out, f.body...)
	}
	f.hdr, f.body = f.hdr[:0], f.body[:0]
	f.phase = phaseHeader
}

// flush gives up on whatever is held back (the stream ended or failed):
// it returns the held bytes and turns the filter off.
func (f *filter) flush() []byte {
	f.out = f.out[:0]
	if f.phase == phaseHeader || f.phase == phaseHold {
		f.out = append(f.out, f.hdr...)
		f.out = append(f.out, f.body...)
	}
	f.hdr, f.body = nil, nil
	f.phase = phaseOff
	return f.out
}

// isWarning reports whether payload is Slack's disconnect warning.
func isWarning(payload []byte) (Disconnect, bool) {
	if !bytes.Contains(payload, []byte("warning")) {
		return Disconnect{}, false
	}
	var d Disconnect
	if json.Unmarshal(payload, &d) != nil || d.Type != "disconnect" || d.Reason != "warning" {
		return Disconnect{}, false
	}
	return d, true
}
