package serve

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/exitcode"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	def := DefaultConfig()
	with := func(f func(*Config)) Config {
		c := def
		f(&c)
		return c
	}
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		want   Config
		errSub string
	}{
		{name: "defaults", want: def},
		{name: "env only", env: map[string]string{"MODELCI_ADDR": "127.0.0.1:9000", "MODELCI_MODEL_DIR": "/models/houses"},
			want: with(func(c *Config) { c.Addr = "127.0.0.1:9000"; c.ModelDir = "/models/houses" })},
		{name: "flag wins over env", args: []string{"--addr", ":7000", "-model=/a"}, env: map[string]string{"MODELCI_ADDR": ":9000", "MODELCI_MODEL_DIR": "/b"},
			want: with(func(c *Config) { c.Addr = ":7000"; c.ModelDir = "/a" })},
		{name: "a flag shields a bad env value", args: []string{"--max-rows", "5"}, env: map[string]string{"MODELCI_MAX_ROWS": "many"},
			want: with(func(c *Config) { c.MaxRows = 5 })},
		{name: "bare port", env: map[string]string{"MODELCI_ADDR": "9000"}, want: with(func(c *Config) { c.Addr = ":9000" })},
		{name: "limits and log format", args: []string{"--max-body-bytes=1MiB", "--read-timeout=5s", "--log-format=JSON"},
			env: map[string]string{"MODELCI_WRITE_TIMEOUT": "1m", "MODELCI_IDLE_TIMEOUT": "3s", "MODELCI_DRIFT_WINDOW": "0", "MODELCI_SHUTDOWN_DELAY": "5s",
				"MODELCI_PREDICTION_LOG": "-", "MODELCI_PREDICTION_LOG_SAMPLE": "0.25", "MODELCI_PREDICTION_LOG_MAX_BYTES": "512k"},
			want: with(func(c *Config) {
				c.MaxBodyBytes = 1 << 20
				c.ReadTimeout = 5 * time.Second
				c.LogFormat = LogJSON
				c.WriteTimeout = time.Minute
				c.IdleTimeout = 3 * time.Second
				c.DriftWindow = 0
				c.ShutdownDelay = 5 * time.Second
				c.PredictionLog = "-"
				c.PredictionLogSample = 0.25
				c.PredictionLogMaxBytes = 512 << 10
			})},
		{name: "bad size", env: map[string]string{"MODELCI_MAX_BODY_BYTES": "-1"}, errSub: "MODELCI_MAX_BODY_BYTES"},
		{name: "size overflow", args: []string{"--max-body-bytes=99999999999GiB"}, errSub: "max-body-bytes"},
		{name: "bad duration", args: []string{"--read-timeout=soon"}, errSub: "read-timeout"},
		{name: "bad log format", env: map[string]string{"MODELCI_LOG_FORMAT": "xml"}, errSub: "text or json"},
		{name: "sample zero", args: []string{"--prediction-log-sample=0"}, errSub: "(0, 1]"},
		{name: "no port", args: []string{"--addr=localhost"}, errSub: "no port"},
		{name: "port out of range", args: []string{"--addr=127.0.0.1:99999"}, errSub: "out of range"},
		{name: "port out of range from env", env: map[string]string{"MODELCI_ADDR": ":65536"}, errSub: "MODELCI_ADDR"},
		{name: "negative port", args: []string{"--addr=:-1"}, errSub: "0-65535"},
		{name: "two colons", args: []string{"--addr=a:b:c"}, errSub: "too many colons"},
		{name: "bare port out of range", env: map[string]string{"MODELCI_ADDR": "70000"}, errSub: "out of range"},
		{name: "highest port", args: []string{"--addr=127.0.0.1:65535"}, want: with(func(c *Config) { c.Addr = "127.0.0.1:65535" })},
		{name: "IPv6 and a service name", args: []string{"--addr=[::1]:http"}, want: with(func(c *Config) { c.Addr = "[::1]:http" })},
		{name: "unknown flag", args: []string{"--port=1"}, errSub: "port"},
		{name: "positional argument", args: []string{"dir"}, errSub: `unexpected argument "dir"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			got, err := ParseArgs(c.args, func(k string) string { return c.env[k] }, &out)
			if c.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSub) || !errors.Is(err, ErrConfig) || exitcode.Of(err) != 2 {
					t.Fatalf("error %v, want a config error mentioning %q", err, c.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q", out.String())
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	_, err := ParseArgs([]string{"-h"}, nil, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"MODELCI_ADDR", "MODELCI_MODEL_DIR", "MODELCI_MAX_BODY_BYTES", "(default 16MiB)", "(default :8080)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "MODELCI_MODEL_DIR") {
		t.Errorf("no model dir: %v", err)
	}
	c.ModelDir = "/m"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// FuzzAddr: the --addr parser never panics, and an address it accepts has
// a host and a port net.Listen takes: a number in 0-65535 or a service
// name.
func FuzzAddr(f *testing.F) {
	for _, s := range []string{":8080", "8080", "127.0.0.1:99999", "notanaddr", "[::1]:http", ":-1", "a:b:c", "99999", " :1 ", "[::1]:65535", "host:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v addrValue
		if err := v.Set(s); err != nil {
			return
		}
		_, port, err := net.SplitHostPort(string(v))
		if err != nil {
			t.Fatalf("accepted %q as %q: %v", s, v, err)
		}
		if n, err := strconv.ParseUint(port, 10, 64); err == nil {
			if n > 65535 {
				t.Fatalf("accepted %q with port %d", s, n)
			}
		} else if !isServiceName(port) {
			t.Fatalf("accepted %q with port %q", s, port)
		}
	})
}
