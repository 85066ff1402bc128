package proc

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestExec(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	tests := []struct {
		name    string
		script  string
		wantOut string
		wantErr string
	}{
		{name: "stdout", script: "printf out; printf err >&2", wantOut: "out"},
		{name: "failure carries stderr", script: "printf partial; echo boom >&2; exit 3", wantOut: "partial", wantErr: "exit status 3: boom"},
		{name: "failure without stderr", script: "exit 4", wantErr: "exit status 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Exec(context.Background(), Command{Name: sh, Args: []string{"-c", tc.script}})
			if string(out) != tc.wantOut {
				t.Errorf("stdout = %q, want %q", out, tc.wantOut)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestExecLongStderrKeepsTheEnd(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, err = Exec(context.Background(), Command{Name: sh, Args: []string{"-c", `i=0; while [ $i -lt 2000 ]; do printf xxxxx >&2; i=$((i+1)); done; echo LAST >&2; exit 1`}})
	if err == nil || !strings.HasSuffix(err.Error(), "LAST") || len(err.Error()) > maxStderr+200 {
		t.Fatalf("err has %d bytes, want the last %d bytes of stderr ending in LAST", len(err.Error()), maxStderr)
	}
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	e := Env{Getenv: func(k string) string { return "v-" + k }}.WithDefaults()
	if got := e.Getenv("A"); got != "v-A" {
		t.Errorf("Getenv kept = %q", got)
	}
	if _, err := e.ReadFile("/etc/passwd"); err == nil {
		t.Error("default ReadFile read a real file")
	}
	if _, err := e.Git(context.Background(), ".", "status"); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("default Run = %v, want exec.ErrNotFound", err)
	}
	a, b := e.Rand(), e.Rand()
	if a < 0 || a >= 1 || a == b {
		t.Errorf("Rand gave %v then %v", a, b)
	}
	e2 := Env{}.WithDefaults()
	if c := e2.Rand(); c != a {
		t.Errorf("default Rand is not reproducible: %v then %v", a, c)
	}
}

func TestSystemClockSleepCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := (SystemClock{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep did not return on cancel")
	}
}
