package bot

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
)

// Why a request failed, when the reason is not the person's: what
// sitrep tells them. An error's own text (a driver's, a network address)
// never reaches Slack: it goes to the log, next to the words the person saw.
const (
	causeDatabase = "its database is unavailable"
	causeTimeout  = "it took too long"
	causeStopping = "sitrep is restarting"
	causeSlackOff = "Slack could not be reached"
	causeLimited  = "Slack is limiting how fast sitrep may call it"
	causeInternal = "sitrep hit an internal error, which has been logged"
	causeNotFound = "sitrep has no record of it"

	adviceRetry = "Try again in a minute."
	adviceTell  = "Try again, or tell whoever runs sitrep."
)

// userProblem says why a request failed with err, in words for the person
// who made it, as mrkdwn (escaped): the domain's own message when the error
// is meant for users (incident.IsUserError; a field error shows its
// problem), Slack's error code when Slack refused the call, and otherwise a
// plain sentence (the database is unavailable, an internal error) that
// names no internal detail. It reads well after "sitrep could not record
// the incident: "; couldNot builds that sentence and logs the error.
func userProblem(err error) string {
	text, cause, advice := classify(err)
	if text != "" || err == nil {
		return text
	}
	return cause + ". " + advice
}

// classify sorts err: text is the message to show as it is when the error
// is the person's to fix (or Slack's answer to show); else cause (a clause
// without internal detail) and advice say why it failed and what to do.
func classify(err error) (text, cause, advice string) {
	var fe *incident.FieldError
	var ue *usageError
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var ul *url.Error
	switch {
	case err == nil:
		return "", "", ""
	case errors.As(err, &fe):
		return sentence(fe.Problem), "", ""
	case incident.IsUserError(err):
		return sentence(err.Error()), "", ""
	case errors.As(err, &ue):
		return ue.Problem, "", ""
	case errors.Is(err, errPrivateChannel):
		return sentence(errPrivateChannel.Error()), "", ""
	case errors.Is(err, incident.ErrNotFound), errors.Is(err, checklist.ErrNotFound):
		return "", causeNotFound, adviceTell
	case errors.As(err, &rl):
		return "", causeLimited, adviceRetry
	case slackCode(err) != "":
		return "", "Slack answered `" + escape(slackCode(err)) + "`", adviceTell
	case errors.As(err, &sc):
		return "", fmt.Sprintf("Slack answered HTTP %d", sc.Code), adviceRetry
	case errors.Is(err, context.DeadlineExceeded):
		return "", causeTimeout, adviceRetry
	case errors.Is(err, context.Canceled):
		return "", causeStopping, adviceRetry
	case errors.As(err, &ul):
		// Only HTTP calls fail with a *url.Error: sitrep's are to Slack.
		return "", causeSlackOff, adviceRetry
	case databaseDown(err):
		return "", causeDatabase, adviceRetry
	}
	return "", causeInternal, adviceTell
}

// sentence escapes text for mrkdwn, capitalised and ending with a full stop.
func sentence(text string) string {
	text = strings.TrimSpace(text)
	if text != "" && !strings.HasSuffix(text, ".") && !strings.HasSuffix(text, "?") && !strings.HasSuffix(text, "!") {
		text += "."
	}
	return capitalize(escape(text))
}

// databaseDown reports whether err says the database cannot be reached: a
// connection refused, reset or closed, on either driver. The storage
// package hides which; what is left to see is the standard library's
// errors and the drivers' words for a closed or busy database.
func databaseDown(err error) bool {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &oe), errors.As(err, &ne):
		return true
	}
	msg := err.Error()
	for _, s := range []string{"database is closed", "database is locked", "connection refused", "bad connection", "the database system is"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// failureReason is why err happened, for a sentence sitrep composes
// itself: the person's mistake as the domain words it, else a clause that
// names no internal detail ("its database is unavailable").
func failureReason(err error) string {
	text, cause, _ := classify(err)
	if text != "" {
		return strings.TrimSuffix(text, ".")
	}
	return cause
}

// couldNot is what to tell a person whose request to do what ("record the
// incident") failed with err. When the mistake is theirs (a field error, a
// closed incident) it is the domain's message; else "sitrep could not
// <what>: <why>. <outcome>. <advice>", naming no internal detail, and err
// is logged with the words the person was shown. outcome ("Nothing was
// opened") may be empty.
func (b *Bot) couldNot(what string, err error, outcome string) string {
	text, cause, advice := classify(err)
	if text != "" {
		return text
	}
	text = "sitrep could not " + what + ": " + cause + "."
	if outcome != "" {
		text += " " + outcome + "."
	}
	text += " " + advice
	b.log.Error("could not "+what, "err", err, "told", text)
	return text
}
