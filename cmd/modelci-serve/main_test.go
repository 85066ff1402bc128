package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/exitcode"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/serve"
)

func TestRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		vars   map[string]string
		code   int
		stderr string
	}{
		{"help", []string{"-h"}, nil, 0, "MODELCI_MODEL_DIR"},
		{"bad flag", []string{"--max-rows=-1"}, nil, 2, "modelci-serve: invalid serving configuration"},
		{"no model", nil, nil, 2, "pass --model DIR or set MODELCI_MODEL_DIR"},
		{"port out of range", []string{"--model", "/nonexistent/model", "--addr", "127.0.0.1:99999"}, nil, 2, "out of range"},
		{"unparsable address", []string{"--model", "/nonexistent/model", "--addr", "notanaddr"}, nil, 2, "no port"},
		{"port out of range from env", []string{"--model", "/nonexistent/model"}, map[string]string{"MODELCI_ADDR": ":99999"}, 2, "MODELCI_ADDR"},
		{"missing model", nil, map[string]string{"MODELCI_MODEL_DIR": "/nonexistent/model"}, 1, "/nonexistent/model/model.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			env := serve.Env{Env: proc.Env{Stderr: &stderr, Getenv: func(k string) string { return c.vars[k] }}}
			err := run(context.Background(), env, c.args)
			if got := exitcode.Of(err); got != c.code {
				t.Fatalf("exit %d, want %d (%v)", got, c.code, err)
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, stderr.String())
			}
		})
	}
}
