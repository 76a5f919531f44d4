package incident

import "errors"

// UserError is implemented by errors whose message is written for the
// person who made the request: what was wrong and what to write instead.
// An adapter shows such a message as it is. Any other error (the store's,
// the network's) is an internal failure: its detail belongs in the log,
// never in front of a user or an unauthenticated caller.
type UserError interface {
	error
	// UserError marks the error as written for users. It does nothing.
	UserError()
}

// IsUserError reports whether err, or an error it wraps, is a UserError.
// The whole message of err is then for users: the domain wraps its user
// errors only with more words for users ("INC-3 is restored already:
// nothing to change").
func IsUserError(err error) bool {
	var ue UserError
	return errors.As(err, &ue)
}

// NewUserError returns an error with message text that is a UserError,
// for sentinels the domain packages compare with errors.Is.
func NewUserError(text string) error { return userError(text) }

// userError is a sentinel whose message is for users. It is a string, so
// sentinels compare equal only to themselves.
type userError string

func (e userError) Error() string { return string(e) }

// UserError marks userError as written for users.
func (userError) UserError() {}

// UserError marks FieldError as written for users.
func (*FieldError) UserError() {}

// UserError marks PhaseError as written for users.
func (*PhaseError) UserError() {}

// UserError marks ActionError as written for users.
func (*ActionError) UserError() {}

// UserError marks BatchError as written for users.
func (*BatchError) UserError() {}
