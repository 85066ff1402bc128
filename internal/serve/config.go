package serve

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/modelci/modelci/internal/exitcode"
)

// ErrConfig marks an invalid setting (exit code 2).
var ErrConfig = exitcode.NewUsage("invalid serving configuration")

// Log formats.
const (
	LogText = "text"
	LogJSON = "json"
)

// Config holds the runtime's settings. Every setting has a flag and an
// environment variable; a flag given on the command line wins over the
// variable, which wins over the default.
type Config struct {
	// Addr is the listen address (host:port, or :port).
	Addr string
	// ModelDir is the model directory (model.json, profile.json, …).
	ModelDir string
	// MaxBodyBytes bounds a request body; larger bodies get 413.
	MaxBodyBytes int64
	// MaxRows bounds the rows of one request; more get 413.
	MaxRows int
	// MaxInflightBytes bounds the request body bytes handled at once;
	// requests past it get 503 with Retry-After. 0 means
	// DefaultInflightFactor × MaxBodyBytes.
	MaxInflightBytes int64
	// ReadTimeout, WriteTimeout and IdleTimeout are the HTTP server's.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// ShutdownDelay is how long the server keeps serving with readiness
	// false before it stops accepting connections, so that load balancers
	// see it leave first.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests to finish.
	ShutdownTimeout time.Duration
	// LogFormat is text or json.
	LogFormat string
	// DriftWindow is the number of recent rows the drift gauges cover; 0
	// turns drift off.
	DriftWindow int
	// PredictionLog is a file path, "-" for stdout, or empty for none.
	PredictionLog string
	// PredictionLogSample is the fraction of rows logged, in (0, 1].
	PredictionLogSample float64
	// PredictionLogMaxBytes bounds the log file: past it, the file is
	// renamed to <path>.1 (replacing an older one) and a new file started.
	PredictionLogMaxBytes int64
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:                  ":8080",
		MaxBodyBytes:          16 << 20,
		MaxRows:               100000,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		ShutdownDelay:         0,
		ShutdownTimeout:       30 * time.Second,
		LogFormat:             LogText,
		DriftWindow:           10000,
		PredictionLogSample:   1,
		PredictionLogMaxBytes: 100 << 20,
	}
}

// setting is one flag/variable pair.
type setting struct {
	flag  string
	env   string
	usage string
	value flag.Value
	set   bool
}

// tracked wraps a flag value and records whether the command line set it.
type tracked struct {
	v   flag.Value
	set *bool
}

func (t *tracked) String() string {
	if t == nil || t.v == nil {
		return "" // the flag package probes a zero value
	}
	return t.v.String()
}

func (t *tracked) Set(s string) error {
	*t.set = true
	return t.v.Set(s)
}

// settings lists the settings bound to c's fields.
func (c *Config) settings() []*setting {
	return []*setting{
		{flag: "addr", env: "MODELCI_ADDR", usage: "listen `address`, host:port or :port", value: (*addrValue)(&c.Addr)},
		{flag: "model", env: "MODELCI_MODEL_DIR", usage: "model `directory` (model.json, profile.json)", value: (*stringValue)(&c.ModelDir)},
		{flag: "max-body-bytes", env: "MODELCI_MAX_BODY_BYTES", usage: "largest request body in `bytes`, e.g. 16MiB (413 above)", value: (*sizeValue)(&c.MaxBodyBytes)},
		{flag: "max-inflight-bytes", env: "MODELCI_MAX_INFLIGHT_BYTES", usage: "request body `bytes` handled at once, e.g. 256MiB (503 with Retry-After above; default 4 × --max-body-bytes)", value: (*sizeValue)(&c.MaxInflightBytes)},
		{flag: "max-rows", env: "MODELCI_MAX_ROWS", usage: "most `rows` in one request (413 above)", value: (*positiveInt)(&c.MaxRows)},
		{flag: "read-timeout", env: "MODELCI_READ_TIMEOUT", usage: "`time` to read a request, headers and body", value: (*durationValue)(&c.ReadTimeout)},
		{flag: "write-timeout", env: "MODELCI_WRITE_TIMEOUT", usage: "`time` to handle a request and write its response", value: (*durationValue)(&c.WriteTimeout)},
		{flag: "idle-timeout", env: "MODELCI_IDLE_TIMEOUT", usage: "how long (`time`) an idle keep-alive connection stays open", value: (*durationValue)(&c.IdleTimeout)},
		{flag: "shutdown-delay", env: "MODELCI_SHUTDOWN_DELAY", usage: "on SIGTERM, how long (`time`) to keep serving with readiness false before closing the listener", value: (*durationValue)(&c.ShutdownDelay)},
		{flag: "shutdown-timeout", env: "MODELCI_SHUTDOWN_TIMEOUT", usage: "on SIGTERM, how long (`time`) to wait for in-flight requests", value: (*durationValue)(&c.ShutdownTimeout)},
		{flag: "log-format", env: "MODELCI_LOG_FORMAT", usage: "log `format`: text or json (logs go to stderr)", value: (*logFormatValue)(&c.LogFormat)},
		{flag: "drift-window", env: "MODELCI_DRIFT_WINDOW", usage: "`rows` of recent inputs the drift gauges cover (0: off)", value: (*nonNegativeInt)(&c.DriftWindow)},
		{flag: "prediction-log", env: "MODELCI_PREDICTION_LOG", usage: "JSONL log of inputs and predictions: a `file`, - for stdout, empty for none", value: (*stringValue)(&c.PredictionLog)},
		{flag: "prediction-log-sample", env: "MODELCI_PREDICTION_LOG_SAMPLE", usage: "`fraction` of rows written to the prediction log, in (0, 1]", value: (*fractionValue)(&c.PredictionLogSample)},
		{flag: "prediction-log-max-bytes", env: "MODELCI_PREDICTION_LOG_MAX_BYTES", usage: "size in `bytes` at which the prediction log file is rotated to <file>.1", value: (*sizeValue)(&c.PredictionLogMaxBytes)},
	}
}

// Flags binds the settings to a flag set. After the flag set has parsed
// the command line, call ApplyEnv.
//
// The returned Flags remembers which flags the command line set; it works
// with any parser that calls flag.Value.Set, including pflag's
// AddGoFlagSet.
func (c *Config) Flags(fs *flag.FlagSet) *Flags {
	f := &Flags{list: c.settings()}
	for _, s := range f.list {
		fs.Var(&tracked{v: s.value, set: &s.set}, s.flag, s.usage+" (env "+s.env+")")
	}
	return f
}

// Flags tracks the settings bound to a flag set.
type Flags struct {
	list []*setting
}

// ApplyEnv sets every setting whose flag was not given from its
// environment variable, when that is set and not empty.
func (f *Flags) ApplyEnv(getenv func(string) string) error {
	for _, s := range f.list {
		if s.set || getenv == nil {
			continue
		}
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := s.value.Set(v); err != nil {
			return fmt.Errorf("%w: %s=%q: %w", ErrConfig, s.env, v, err)
		}
	}
	return nil
}

// ParseArgs parses the command line of modelci-serve (without the program
// name) and the environment. -h prints usage to out and returns
// flag.ErrHelp.
func ParseArgs(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("modelci-serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, not printed
	f := cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(out, "Usage: modelci-serve [flags]\n\nServes a modelci model over HTTP: KServe V2 (/v2/...), MLflow scoring\n(/invocations), Prometheus metrics (/metrics). Flags win over environment\nvariables.\n\n")
			fs.SetOutput(out)
			fs.PrintDefaults()
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected argument %q (settings are flags, e.g. --model DIR)", ErrConfig, fs.Arg(0))
	}
	if err := f.ApplyEnv(getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Validate checks settings that only make sense together.
func (c *Config) Validate() error {
	if c.ModelDir == "" {
		return fmt.Errorf("%w: no model directory: pass --model DIR or set MODELCI_MODEL_DIR", ErrConfig)
	}
	if c.Addr == "" {
		return fmt.Errorf("%w: empty listen address", ErrConfig)
	}
	return nil
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

// addrValue accepts host:port, :port, or a bare port number.
type addrValue string

func (v *addrValue) String() string { return string(*v) }
func (v *addrValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("empty address")
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if n > 65535 {
			return fmt.Errorf("port %d is out of range (0-65535)", n)
		}
		s = ":" + s
	}
	if !strings.Contains(s, ":") {
		return fmt.Errorf("address %q has no port (want host:port or :port)", s)
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("address %q: %w", s, err)
	}
	if n, err := strconv.ParseUint(port, 10, 64); err == nil && n > 65535 {
		return fmt.Errorf("address %q: port %d is out of range (0-65535)", s, n)
	} else if err != nil && !isServiceName(port) {
		return fmt.Errorf("address %q: port %q is not a number in 0-65535", s, port)
	}
	*v = addrValue(s)
	return nil
}

// isServiceName reports whether p looks like a service name such as
// "http", which net.Listen resolves (a port must be a number or a name).
func isServiceName(p string) bool {
	if p == "" {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	c := p[0] | 0x20 // lower case
	return c >= 'a' && c <= 'z'
}

type positiveInt int

func (v *positiveInt) String() string { return strconv.Itoa(int(*v)) }
func (v *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return fmt.Errorf("want a positive integer, got %q", s)
	}
	*v = positiveInt(n)
	return nil
}

type nonNegativeInt int

func (v *nonNegativeInt) String() string { return strconv.Itoa(int(*v)) }
func (v *nonNegativeInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return fmt.Errorf("want a non-negative integer, got %q", s)
	}
	*v = nonNegativeInt(n)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 30s or 1m, got %q", s)
	}
	*v = durationValue(d)
	return nil
}

type fractionValue float64

func (v *fractionValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *fractionValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f > 0 && f <= 1) {
		return fmt.Errorf("want a fraction in (0, 1], got %q", s)
	}
	*v = fractionValue(f)
	return nil
}

type logFormatValue string

func (v *logFormatValue) String() string { return string(*v) }
func (v *logFormatValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if s != LogText && s != LogJSON {
		return fmt.Errorf("want text or json, got %q", s)
	}
	*v = logFormatValue(s)
	return nil
}

// sizeValue is a byte count: a plain number or one with a KiB, MiB, GiB (or
// K, M, G, KB, MB, GB: all binary) suffix.
type sizeValue int64

func (v *sizeValue) String() string { return formatSize(int64(*v)) }
func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	upper := strings.ToUpper(t)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{
		{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
	} {
		if strings.HasSuffix(upper, u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("want a positive size such as 16MiB or 1048576, got %q", s)
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}
