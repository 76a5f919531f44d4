package charts

import (
	"bytes"
	"fmt"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format selects the output encoding.
type Format int

const (
	// PNG is a 1200×600 px raster image, for Slack uploads.
	PNG Format = iota
	// SVG is a vector image of the same logical size (900×450 pt), for the web.
	SVG
)

// String returns "png" or "svg" (used as file extension).
func (f Format) String() string {
	switch f {
	case PNG:
		return "png"
	case SVG:
		return "svg"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Every chart is 1200×600 px: 12.5 × 6.25 in at 96 DPI.
const (
	dpi          = 96
	canvasWidth  = 12.5 * vg.Inch
	canvasHeight = 6.25 * vg.Inch
)

// render creates a canvas for f, lets paint draw on it and returns the
// encoded bytes. gonum/plot reports some internal failures by panicking;
// those are turned into errors so a bad chart cannot take the bot down.
func render(f Format, paint func(c draw.Canvas) error) (out []byte, err error) {
	var cw vg.CanvasWriterTo
	switch f {
	case PNG:
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(
			vgimg.UseWH(canvasWidth, canvasHeight),
			vgimg.UseDPI(dpi),
		)}
	case SVG:
		cw = vgsvg.New(canvasWidth, canvasHeight)
	default:
		return nil, fmt.Errorf("unknown format %v", f)
	}

	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("draw: %v", r)
		}
	}()
	if err := paint(draw.New(cw)); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode %v: %w", f, err)
	}
	if f == SVG {
		return webFonts(buf.Bytes()), nil
	}
	return buf.Bytes(), nil
}

// webFonts lets browsers without Liberation Sans fall back to Arial, which
// has the same metrics, so the text still fits the layout computed here.
func webFonts(svg []byte) []byte {
	return bytes.ReplaceAll(svg,
		[]byte("font-family:Liberation Sans;"),
		[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;"))
}
