package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelci/modelci/internal/exitcode"
)

// Interrupt is the cancellation cause of a run stopped by a signal. Its
// exit code is the shell's 128 + the signal number: 130 for SIGINT, 143 for
// SIGTERM (what CI runners send when a job is canceled).
type Interrupt struct{ Signal os.Signal }

func (i *Interrupt) Error() string {
	return fmt.Sprintf("interrupted by %s; stopped without writing any output", i.Signal)
}

// Code is the exit code of the interrupted process.
func (i *Interrupt) Code() int {
	if s, ok := i.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// NotifyInterrupt returns a context canceled, with an *Interrupt as its
// cause, when one of sigs arrives. Unlike signal.NotifyContext it keeps
// which signal it was, for the exit code. After the first signal the
// default behaviour is restored, so a second one ends the process at once.
// stop releases the signals.
func NotifyInterrupt(parent context.Context, sigs ...os.Signal) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	quit := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&Interrupt{Signal: s})
		case <-quit:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(quit)
		cancel(context.Canceled)
	}
}

// Interrupted attributes err to the signal that canceled ctx, if one did:
// the error then carries the signal's exit code.
func Interrupted(ctx context.Context, err error) error {
	var intr *Interrupt
	if err == nil || !errors.As(context.Cause(ctx), &intr) || errors.As(err, &intr) {
		return err
	}
	return &exitcode.Error{Code: intr.Code(), Err: fmt.Errorf("%w (%w)", intr, err)}
}
