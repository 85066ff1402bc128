package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/synthetic"
)

// TestMain runs the real main when the test binary is started as the
// modelci child process of TestSignalExitCodes.
func TestMain(m *testing.M) {
	if os.Getenv("MODELCI_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// cpuTicks is the user+system CPU time of a process, in clock ticks.
func cpuTicks(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name in parentheses; utime and stime are
	// fields 14 and 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s, nil
}

// TestSignalExitCodes sends SIGTERM and SIGINT to a real `modelci train`
// while it fits (a gradient descent that would run for hours): the process
// stops, exits 143 or 130, and leaves neither the --out directory nor a
// temporary one behind.
func TestSignalExitCodes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	t.Parallel()
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var csv strings.Builder
			if err := synthetic.RegressionCSV(&csv, 300, 30, 1); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{
				"data.csv":     csv.String(),
				"modelci.yaml": "data:\n  path: data.csv\n  target: y\nmodel:\n  solver: gd\n  learning_rate: 0.01\n  max_iter: 2000000000\n  tol: 1e-300\n",
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(os.Args[0], "train", "-c", filepath.Join(dir, "modelci.yaml"), "-o", filepath.Join(dir, "model"))
			cmd.Env = append(os.Environ(), "MODELCI_TEST_RUN_MAIN=1")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill() }()
			// Wait until the child has spent 0.3 s of CPU: it has then long
			// installed its signal handler and is inside the fit.
			for i := 0; ; i++ {
				ticks, err := cpuTicks(cmd.Process.Pid)
				if err != nil {
					t.Fatalf("child: %v (%s)", err, stderr.String())
				}
				if ticks >= 30 {
					break
				}
				if i == 6000 {
					t.Fatal("the child did not start fitting within 60 s")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("modelci kept running 30 s after %s", tc.sig)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit: %v, want code %d; stderr: %s", err, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted by") {
				t.Errorf("stderr does not say it was interrupted: %s", stderr.String())
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"data.csv", "modelci.yaml"}) {
				t.Errorf("the interrupted run left files behind: %v", names)
			}
		})
	}
}
