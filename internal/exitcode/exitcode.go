// Package exitcode provides the one mapping from errors to process exit
// codes, shared by modelci and modelci-serve: 0 success, 1 failure, 2 a
// usage or configuration error (the user must fix an input), 3 a failed
// quality gate, and an explicit code carried by an *Error (a program the
// container entrypoint ran, or a signal: 128 + its number).
//
// Packages mark their errors by kind rather than by code: a usage error
// wraps ErrUsage (directly, through a sentinel made by NewUsage, or through
// Usage), a gate failure wraps ErrGate. main calls Of once.
//
// The package is standard library only, so the serving runtime can use it.
package exitcode

import (
	"errors"
	"fmt"
)

// Exit codes.
const (
	OK      = 0
	Failure = 1
	Usage   = 2
	Gate    = 3
)

var (
	// ErrUsage is the kind of every error the user fixes by changing an
	// input: flags, modelci.yaml, the CI environment, a file that is not
	// what it should be. Exit code 2.
	ErrUsage = errors.New("usage error")
	// ErrGate is the kind of a failed quality gate. Exit code 3.
	ErrGate = errors.New("quality gate failed")
)

// Error is an error with an explicit exit code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// kinded is an error whose message is its own and whose kind is another
// error: errors.Is sees both.
type kinded struct {
	err  error
	kind error
}

func (k *kinded) Error() string   { return k.err.Error() }
func (k *kinded) Unwrap() []error { return []error{k.err, k.kind} }

// NewUsage returns a sentinel error with the message msg and the kind
// ErrUsage: errors.Is matches it by identity, and Of maps it to 2.
func NewUsage(msg string) error { return &kinded{err: errors.New(msg), kind: ErrUsage} }

// NewGate returns a sentinel error with the message msg and the kind
// ErrGate.
func NewGate(msg string) error { return &kinded{err: errors.New(msg), kind: ErrGate} }

// AsUsage marks err as a usage error without changing its message. It
// returns nil for nil.
func AsUsage(err error) error {
	if err == nil || errors.Is(err, ErrUsage) {
		return err
	}
	return &kinded{err: err, kind: ErrUsage}
}

// AsGate marks err as a failed quality gate without changing its message.
// It returns nil for nil.
func AsGate(err error) error {
	if err == nil || errors.Is(err, ErrGate) {
		return err
	}
	return &kinded{err: err, kind: ErrGate}
}

// Usagef formats a usage error.
func Usagef(format string, args ...any) error { return AsUsage(fmt.Errorf(format, args...)) }

// Of maps err to the exit code.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, ErrGate):
		return Gate
	case errors.Is(err, ErrUsage):
		return Usage
	}
	return Failure
}
