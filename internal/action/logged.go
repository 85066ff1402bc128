package action

// LoggedError is an error Run has already written to the job log (as an
// error line, or a GitHub error annotation). The caller exits non-zero but
// does not print it again.
type LoggedError struct{ Err error }

func (e *LoggedError) Error() string { return e.Err.Error() }

// Unwrap returns the error.
func (e *LoggedError) Unwrap() error { return e.Err }

// errorCountingLog counts the errors written to a logger.
type errorCountingLog struct {
	logger
	errors int
}

func (l *errorCountingLog) Errorf(format string, args ...any) {
	l.errors++
	l.logger.Errorf(format, args...)
}

func (l *errorCountingLog) ErrorTitled(title, format string, args ...any) {
	l.errors++
	l.logger.ErrorTitled(title, format, args...)
}
