// Package charts renders the bot's charts: a Pareto chart of problems by
// customer cost, an incident timeline, and weekly incident counts by cost
// class.
//
// It is pure rendering: plain data in, PNG (for Slack uploads) or SVG (for the
// web) bytes out. It does no I/O, keeps no state, and reads no fonts from disk:
// text is set in the Liberation Sans font that gonum/plot embeds, so charts
// render the same on a bare machine. The same input always produces the same
// bytes, and the functions are safe for concurrent use.
package charts
