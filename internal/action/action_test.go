package action

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelci/modelci/internal/baseline"
	"github.com/modelci/modelci/internal/ci"
	"github.com/modelci/modelci/internal/compare"
	"github.com/modelci/modelci/internal/github"
	"github.com/modelci/modelci/internal/github/githubtest"
	"github.com/modelci/modelci/internal/proc"
	"github.com/modelci/modelci/internal/revision"
	"github.com/modelci/modelci/internal/workflow"
)

const (
	tokenValue     = "ghs_FAKE_installation_token_abcdef123456"
	readOnlyToken  = "ghs_FAKE_readonly_token_654321"
	registrySecret = "registry-secret-Zx81"
	modelName      = "house-prices"
	repoOwner      = "acme"
	repoName       = "house-prices"
	digest         = "sha256:4f5d8c2b1e9a7360f0c3b2a1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3"
)

// fakeDiffer records the requests and checks the challenger directory is
// real, then returns a canned report.
type fakeDiffer struct {
	mu          sync.Mutex
	calls       []compare.Request
	gatesPassed bool
	regressed   bool
	text        string
}

func (f *fakeDiffer) Compare(ctx context.Context, req compare.Request) (*compare.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	if req.Challenger == nil || req.Challenger.Model == nil || req.Challenger.Selection == nil || len(req.Challenger.Selection.Test) == 0 {
		return nil, errors.New("no trained challenger with its test rows handed to the comparer")
	}
	if !req.Trained || req.Dir == "" {
		return nil, fmt.Errorf("the challenger was trained in the working directory, but the request says trained %v in %q", req.Trained, req.Dir)
	}
	marker := github.Marker(req.Config.Name)
	used := req.Baseline.Raw
	if req.Baseline.Kind == baseline.KindRegistry && req.Fallback != nil {
		// The project configures an image; the fake registry has none yet
		// (the first release), so the comparison uses the fallback.
		used = req.Fallback.Raw
	}
	text := f.text
	if text == "" {
		text = "rmse 1.0 → 0.9"
	}
	return &compare.Report{
		Markdown:    marker + "\n## modelci report: " + req.Config.Name + "\n\nbaseline " + used + ": " + text + "\n",
		JSON:        []byte(`{"baseline":"` + used + `"}` + "\n"),
		Regressed:   f.regressed,
		GatesPassed: f.gatesPassed,
	}, nil
}

type fakePublisher struct {
	mu    sync.Mutex
	calls []PublishRequest
}

func (f *fakePublisher) Publish(ctx context.Context, req PublishRequest) (*PublishResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	if _, err := os.Stat(filepath.Join(req.ModelDir, "model.json")); err != nil {
		return nil, err
	}
	return &PublishResult{Digest: digest, References: []string{req.Repository + ":" + revision.Short(req.SHA), req.Repository + ":latest"}}, nil
}

// project writes a small house-price project into a fresh workspace.
func project(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	var b strings.Builder
	b.WriteString("sqft,rooms,city,price\n")
	cities := []string{"north", "south", "east"}
	for i := 0; i < 80; i++ {
		sqft := 600 + (i*37)%900
		rooms := 1 + i%5
		price := 50*sqft + 9000*rooms + (i*7919)%4000
		fmt.Fprintf(&b, "%d,%d,%s,%d\n", sqft, rooms, cities[i%3], price)
	}
	files := map[string]string{
		"ml/data.csv": b.String(),
		"ml/modelci.yaml": `name: house-prices
data:
  path: data.csv
  target: price
  categorical: [city]
model:
  type: ridge
image:
  repository: ghcr.io/acme/house-prices
`,
	}
	for name, content := range files {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// eventEnv is the environment GitHub sets for a recorded event.
func eventEnv(t *testing.T, file string) map[string]string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Ref         string `json:"ref"`
		After       string `json:"after"`
		Number      int    `json:"number"`
		PullRequest *struct {
			Head struct {
				Ref string `json:"ref"`
			} `json:"head"`
			Base struct {
				Ref string `json:"ref"`
			} `json:"base"`
		} `json:"pull_request"`
		Sender struct {
			Login string `json:"login"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	name := strings.SplitN(strings.TrimSuffix(file, ".json"), "_", 3)
	event := name[0]
	switch {
	case strings.HasPrefix(file, "pull_request_target"):
		event = "pull_request_target"
	case strings.HasPrefix(file, "pull_request"):
		event = "pull_request"
	case strings.HasPrefix(file, "workflow_dispatch"):
		event = "workflow_dispatch"
	}
	env := map[string]string{
		"GITHUB_ACTIONS":          "true",
		"GITHUB_EVENT_NAME":       event,
		"GITHUB_EVENT_PATH":       path,
		"GITHUB_REPOSITORY":       repoOwner + "/" + repoName,
		"GITHUB_REPOSITORY_OWNER": repoOwner,
		"GITHUB_ACTOR":            p.Sender.Login,
		"GITHUB_RUN_ID":           "9876543210",
		"GITHUB_RUN_NUMBER":       "17",
		"GITHUB_RUN_ATTEMPT":      "1",
		"GITHUB_SERVER_URL":       "https://github.com",
		"GITHUB_WORKFLOW":         "modelci",
		"GITHUB_JOB":              "model",
		"RUNNER_OS":               "Linux",
	}
	switch {
	case p.PullRequest != nil:
		env["GITHUB_REF"] = fmt.Sprintf("refs/pull/%d/merge", p.Number)
		env["GITHUB_SHA"] = "e1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e"
		env["GITHUB_HEAD_REF"] = p.PullRequest.Head.Ref
		env["GITHUB_BASE_REF"] = p.PullRequest.Base.Ref
		if event == "pull_request_target" {
			env["GITHUB_REF"] = "refs/heads/main"
		}
	case p.After != "":
		env["GITHUB_REF"], env["GITHUB_SHA"] = p.Ref, p.After
	default:
		env["GITHUB_REF"], env["GITHUB_SHA"] = p.Ref, "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	}
	return env
}

// harness is one `modelci run` in a fake GitHub Actions environment.
type harness struct {
	env       map[string]string
	ws        string
	srv       *githubtest.Server
	clock     *githubtest.Clock
	differ    *fakeDiffer
	publisher *fakePublisher
	stdout    bytes.Buffer
}

func newHarness(t *testing.T, event string) *harness {
	t.Helper()
	h := &harness{
		env:       eventEnv(t, event),
		ws:        project(t),
		clock:     githubtest.NewClock(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)),
		differ:    &fakeDiffer{gatesPassed: true},
		publisher: &fakePublisher{},
	}
	h.srv = githubtest.New(githubtest.Options{Prefix: "/api/v3"}) // a GitHub Enterprise Server
	t.Cleanup(h.srv.Close)
	h.srv.AddToken(tokenValue, githubtest.Token{Account: githubtest.ActionsBot, Installation: true})
	h.srv.AddToken(readOnlyToken, githubtest.Token{Account: githubtest.ActionsBot, Installation: true, ReadOnly: true})
	for _, n := range []int{42, 43, 44} {
		h.srv.AddPullRequest(repoOwner, repoName, n)
	}
	files := t.TempDir()
	for k, v := range map[string]string{
		"GITHUB_WORKSPACE":        h.ws,
		"GITHUB_OUTPUT":           filepath.Join(files, "output"),
		"GITHUB_STEP_SUMMARY":     filepath.Join(files, "summary"),
		"GITHUB_API_URL":          h.srv.URL(),
		"INPUT_CONFIG":            "modelci.yaml",
		"INPUT_GITHUB_TOKEN":      tokenValue,
		"INPUT_COMMENT":           "auto",
		"INPUT_BASELINE":          "auto",
		"INPUT_FAIL_ON_GATE":      "true",
		"INPUT_PUSH":              "auto",
		"INPUT_IMAGE":             "",
		"INPUT_REGISTRY_USERNAME": "alice",
		"INPUT_REGISTRY_PASSWORD": registrySecret,
		"INPUT_WORKING_DIRECTORY": "ml",
	} {
		h.env[k] = v
	}
	return h
}

func (h *harness) run(t *testing.T) (*Outcome, error) {
	t.Helper()
	deps := Deps{Trainer: LocalTrainer{Workers: 1}, Comparer: h.differ, Shipper: h.publisher}
	env := proc.Env{
		Getenv:     func(k string) string { return h.env[k] },
		Stdout:     &h.stdout,
		HTTPClient: h.srv.Client(),
		Clock:      h.clock,
		Rand:       func() float64 { return 0.5 },
	}
	return Run(context.Background(), env, Options{}, deps)
}

// outputs parses GITHUB_OUTPUT the way the runner does: name<<DELIM,
// value lines, DELIM.
func (h *harness) outputs(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(h.env["GITHUB_OUTPUT"])
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			t.Fatalf("output line %q is not a heredoc", sc.Text())
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		if _, dup := out[name]; dup {
			t.Errorf("output %s written twice", name)
		}
		out[name] = strings.Join(lines, "\n")
	}
	return out
}

func (h *harness) summary(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(h.env["GITHUB_STEP_SUMMARY"])
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func apiCounts(srv *githubtest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests() {
		p := r.Path
		switch {
		case strings.HasSuffix(p, "/comments") && strings.Contains(p, "/issues/"):
			p = "list"
		case strings.Contains(p, "/issues/comments/"):
			p = "comment"
		}
		out[r.Method+" "+p]++
	}
	return out
}

// TestRunEvents drives Run once per recorded event.
func TestRunEvents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		event    string
		setup    func(h *harness)
		wantErr  error
		kind     ci.Kind
		baseline string // "" = the differ must not be called
		api      map[string]int
		comments int // comments on the PR at the end (our report included)
		pushed   bool
		outputs  map[string]string // exact values; metrics is checked apart
		logHas   []string
		logLacks []string
		summary  []string
		check    func(t *testing.T, h *harness, o *Outcome)
	}{
		{
			name: "PR opened: train, compare with the base commit, comment, summary, outputs", event: "pull_request_opened.json",
			kind: ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:      map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			comments: 1,
			outputs:  map[string]string{"report_path": "ml/dist/modelci/report.md", "regressed": "false", "gates_passed": "true", "image_digest": ""},
			logHas:   []string{"::group::Train house-prices", "::group::Compare with baseline registry", "::group::Pull request comment", "PR comment created", "Train house-prices: done in"},
			summary:  []string{"<!-- modelci:report name=house-prices -->", "baseline git:6dcb09b5"},
			check: func(t *testing.T, h *harness, o *Outcome) {
				if o.Comment == nil || o.Comment.Outcome != github.Created {
					t.Errorf("comment = %+v", o.Comment)
				}
				b, err := os.ReadFile(filepath.Join(h.ws, "ml", "dist", "modelci", "report.md"))
				if err != nil || !strings.Contains(string(b), "modelci:report") {
					t.Errorf("report file: %v %q", err, b)
				}
				if _, err := os.Stat(filepath.Join(h.ws, "ml", "dist", "modelci", "report.json")); err != nil {
					t.Error(err)
				}
			},
		},
		{
			name: "PR synchronize: the sticky comment is edited", event: "pull_request_synchronize.json",
			setup: func(h *harness) {
				h.srv.Seed(repoOwner, repoName, 42, githubtest.Account{Login: "alice", ID: 583231, Type: "User"}, "Looks good")
				h.srv.Seed(repoOwner, repoName, 42, githubtest.ActionsBot, "<!-- modelci:report name=house-prices -->\nold report\n")
			},
			kind: ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:      map[string]int{"GET /user": 1, "GET list": 1, "PATCH comment": 1},
			comments: 2,
			outputs:  map[string]string{"regressed": "false", "gates_passed": "true", "image_digest": ""},
			logHas:   []string{"PR comment updated"},
		},
		{
			name: "PR from a fork: no API call, summary, workflow_run warning, success", event: "pull_request_fork.json",
			kind: ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:     map[string]int{},
			outputs: map[string]string{"gates_passed": "true", "image_digest": ""},
			logHas:  []string{"::warning title=modelci%3A no PR comment on a fork::", "mallory-dev/house-prices", "workflow_run", DocsWorkflowRun},
			summary: []string{"No PR comment", DocsWorkflowRun, "<!-- modelci:report name=house-prices -->"},
			check: func(t *testing.T, h *harness, o *Outcome) {
				if !o.Event.Fork || !o.Event.ReadOnly || o.Comment != nil {
					t.Errorf("event %+v, comment %+v", o.Event, o.Comment)
				}
			},
		},
		{
			name: "push to main: evaluate, summary, outputs, image pushed", event: "push_main.json",
			kind: ci.KindPushDefault, baseline: "none",
			api:     map[string]int{},
			pushed:  true,
			outputs: map[string]string{"report_path": "ml/dist/modelci/report.md", "regressed": "false", "gates_passed": "true", "image_digest": digest},
			logHas:  []string{"::group::Package and push the image", "pushed ghcr.io/acme/house-prices@" + digest},
			summary: []string{"baseline none"},
			check: func(t *testing.T, h *harness, o *Outcome) {
				c := h.publisher.calls[0]
				if c.Repository != "ghcr.io/acme/house-prices" || c.Username != "alice" || c.Password != registrySecret ||
					c.SHA != "3e7f9a1b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e6f" || c.Ref != "refs/heads/main" {
					t.Errorf("publish request = %+v", c)
				}
				if c.ModelDir != filepath.Join(h.ws, "ml", "dist", "modelci", "model") {
					t.Errorf("model dir = %s", c.ModelDir)
				}
			},
		},
		{
			name: "push to main with the image input: it overrides the config", event: "push_main.json",
			setup: func(h *harness) { h.env["INPUT_IMAGE"] = "registry.example.com/ml/house" },
			kind:  ci.KindPushDefault, baseline: "none", api: map[string]int{}, pushed: true,
			outputs: map[string]string{"image_digest": digest},
			check: func(t *testing.T, h *harness, o *Outcome) {
				if r := h.publisher.calls[0].Repository; r != "registry.example.com/ml/house" {
					t.Errorf("repository = %s", r)
				}
			},
		},
		{
			name: "push to main with push: false", event: "push_main.json",
			setup: func(h *harness) { h.env["INPUT_PUSH"] = "false" },
			kind:  ci.KindPushDefault, baseline: "none", api: map[string]int{},
			outputs: map[string]string{"image_digest": ""},
			logHas:  []string{"image push skipped: push is false"},
		},
		{
			name: "push to main failing a gate: no image, exit 3", event: "push_main.json",
			setup:   func(h *harness) { h.differ.gatesPassed = false },
			wantErr: ErrGateFailed,
			kind:    ci.KindPushDefault, baseline: "none", api: map[string]int{},
			outputs: map[string]string{"gates_passed": "false", "image_digest": ""},
			logHas:  []string{"image push skipped: the model failed its quality gates", "::error title=modelci%3A quality gate failed::"},
		},
		{
			name: "push to another branch with push: true: the image is pushed", event: "push_branch.json",
			setup: func(h *harness) { h.env["INPUT_PUSH"] = "true" },
			kind:  ci.KindOther, baseline: "none", api: map[string]int{}, pushed: true,
			outputs: map[string]string{"image_digest": digest},
		},
		{
			name: "push to another branch: evaluate and summarise only", event: "push_branch.json",
			kind: ci.KindOther, baseline: "none", api: map[string]int{},
			outputs:  map[string]string{"gates_passed": "true", "image_digest": ""},
			logLacks: []string{"Package and push", "Pull request comment"},
		},
		{
			name: "pull_request_target: refused before anything runs", event: "pull_request_target.json",
			wantErr: ErrRefused, kind: ci.KindPullRequestTarget,
			api:    map[string]int{},
			logHas: []string{"::error title=modelci refuses pull_request_target::", "allow_pull_request_target", DocsPwnRequests},
			check: func(t *testing.T, h *harness, o *Outcome) {
				if _, err := os.Stat(filepath.Join(h.ws, "ml", "dist")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("something was written: %v", err)
				}
				if h.outputs(t) != nil || h.summary(t) != "" {
					t.Error("outputs or summary written")
				}
			},
		},
		{
			name: "pull_request_target with allow_pull_request_target: runs like a PR, with a warning", event: "pull_request_target.json",
			setup: func(h *harness) { h.env["INPUT_ALLOW_PULL_REQUEST_TARGET"] = "true" },
			kind:  ci.KindPullRequestTarget, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:      map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			comments: 1,
			logHas:   []string{"::warning title=modelci on pull_request_target::"},
		},
		{
			name: "a report over the 1 MiB job summary limit is cut there", event: "push_branch.json",
			setup: func(h *harness) { h.differ.text = strings.Repeat("| rmse | 1.0 |\n", 80000) },
			kind:  ci.KindOther, baseline: "none", api: map[string]int{},
			logHas: []string{"1 MiB job summary limit"},
			check: func(t *testing.T, h *harness, o *Outcome) {
				sum := h.summary(t)
				if len(sum) > maxSummaryBytes+1 || !strings.Contains(sum, "cut to fit GitHub's 1 MiB") || !strings.Contains(sum, "<!-- modelci:report name=house-prices -->") {
					t.Errorf("summary of %d bytes", len(sum))
				}
				if b, _ := os.ReadFile(o.ReportPath); len(b) < 80000*15 {
					t.Errorf("the report file was cut too: %d bytes", len(b))
				}
			},
		},
		{
			name: "workflow_dispatch: evaluate and summarise", event: "workflow_dispatch.json",
			kind: ci.KindOther, baseline: "none", api: map[string]int{},
			outputs: map[string]string{"regressed": "false", "gates_passed": "true", "image_digest": ""},
		},
		{
			name: "PR failing a gate: comment and summary, then exit 3", event: "pull_request_opened.json",
			setup:   func(h *harness) { h.differ.gatesPassed, h.differ.regressed = false, true },
			wantErr: ErrGateFailed,
			kind:    ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:      map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			comments: 1,
			outputs:  map[string]string{"regressed": "true", "gates_passed": "false"},
			logHas:   []string{"::error title=modelci%3A quality gate failed::quality gates failed for model house-prices"},
			summary:  []string{"modelci report"},
		},
		{
			name: "PR failing a gate with fail_on_gate: false: a warning", event: "pull_request_opened.json",
			setup: func(h *harness) {
				h.differ.gatesPassed = false
				h.env["INPUT_FAIL_ON_GATE"] = "false"
			},
			kind: ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:      map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			comments: 1,
			outputs:  map[string]string{"gates_passed": "false"},
			logHas:   []string{"::warning title=modelci%3A quality gate failed::", "fail_on_gate is false"},
		},
		{
			name: "PR without pull-requests: write: annotation, summary fallback, success", event: "pull_request_opened.json",
			setup: func(h *harness) { h.env["INPUT_GITHUB_TOKEN"] = readOnlyToken },
			kind:  ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:     map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1},
			outputs: map[string]string{"gates_passed": "true"},
			logHas:  []string{"::warning title=modelci%3A missing permission pull-requests%3A write::", "permissions: { pull-requests: write }"},
			summary: []string{"the token lacks `pull-requests: write`", "modelci report"},
			check: func(t *testing.T, h *harness, o *Outcome) {
				var pe *github.PermissionError
				if !errors.As(o.CommentErr, &pe) {
					t.Errorf("CommentErr = %v", o.CommentErr)
				}
			},
		},
		{
			name: "PR with a secondary rate limit: waits, one comment", event: "pull_request_opened.json",
			setup: func(h *harness) {
				h.srv.Inject(githubtest.SecondaryRateLimit("POST", "/repos/acme/house-prices/issues/42/comments", 5))
			},
			kind: ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api:      map[string]int{"GET /user": 1, "GET list": 1, "POST list": 2},
			comments: 1,
			logHas:   []string{"secondary rate limit); retrying in 5s"},
			check: func(t *testing.T, h *harness, o *Outcome) {
				if s := h.clock.Sleeps(); len(s) != 1 || s[0] != 5*time.Second {
					t.Errorf("sleeps = %v", s)
				}
			},
		},
		{
			name: "PR with comment: never", event: "pull_request_opened.json",
			setup: func(h *harness) { h.env["INPUT_COMMENT"] = "never" },
			kind:  ci.KindPullRequest, baseline: "registry (fallback git:6dcb09b5b57875f334f61aebed695e2e4193db5e)",
			api: map[string]int{}, logHas: []string{"no PR comment: comment: never"},
		},
		{
			name: "PR with an explicit baseline input", event: "pull_request_opened.json",
			setup: func(h *harness) { h.env["INPUT_BASELINE"] = "git:origin/main" },
			kind:  ci.KindPullRequest, baseline: "git:origin/main",
			api: map[string]int{"GET /user": 1, "GET list": 1, "POST list": 1}, comments: 1,
		},
		{
			name: "bad inputs: exit 2, but secrets are masked first", event: "pull_request_opened.json",
			setup:   func(h *harness) { h.env["INPUT_COMMENT"] = "sometimes"; h.env["INPUT_PUSH"] = "yes" },
			wantErr: ErrUsage, api: map[string]int{},
			logHas: []string{"comment: want auto, always, never or update-only", "push: want auto, true or false"},
		},
		{
			name: "missing working directory: exit 2", event: "pull_request_opened.json",
			setup:   func(h *harness) { h.env["INPUT_WORKING_DIRECTORY"] = "nope" },
			wantErr: ErrUsage, kind: ci.KindPullRequest, api: map[string]int{},
			logHas: []string{"working_directory \"nope\""},
		},
		{
			name: "missing config: exit 2", event: "pull_request_opened.json",
			setup:   func(h *harness) { h.env["INPUT_CONFIG"] = "other.yaml" },
			wantErr: ErrUsage, kind: ci.KindPullRequest, api: map[string]int{},
			logHas: []string{"other.yaml"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.event)
			if tc.setup != nil {
				tc.setup(h)
			}
			o, err := h.run(t)
			log := h.stdout.String()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v\n%s", err, tc.wantErr, log)
				}
			} else if err != nil {
				t.Fatalf("err = %v\n%s", err, log)
			}
			if tc.kind != "" && (o.Event == nil || o.Event.Kind != tc.kind) {
				t.Errorf("event = %+v, want kind %s", o.Event, tc.kind)
			}
			// The differ.
			if tc.baseline == "" {
				if len(h.differ.calls) != 0 {
					t.Errorf("differ called %d times", len(h.differ.calls))
				}
			} else if len(h.differ.calls) != 1 || wantSpec(h.differ.calls[0]) != tc.baseline {
				t.Errorf("differ calls = %d, baseline %v; want 1 with %s", len(h.differ.calls), baselines(h.differ.calls), tc.baseline)
			} else if c := h.differ.calls[0]; c.Dir != filepath.Join(h.ws, "ml") || c.Config.Name != modelName {
				t.Errorf("differ request: workdir %s, config %s", c.Dir, c.Config.Name)
			}
			// The publisher.
			if n := len(h.publisher.calls); (n == 1) != tc.pushed || n > 1 {
				t.Errorf("publisher called %d times, want pushed=%v", n, tc.pushed)
			}
			// The GitHub API.
			if got := apiCounts(h.srv); fmt.Sprint(got) != fmt.Sprint(tc.api) {
				t.Errorf("API requests = %v, want %v", got, tc.api)
			}
			if tc.comments > 0 {
				cs := h.srv.Comments(repoOwner, repoName, h.prNumber(t))
				own := 0
				for _, c := range cs {
					if c.User.Login == githubtest.ActionsBot.Login && strings.Contains(c.Body, "<!-- modelci:report name=house-prices -->") {
						own++
						if !strings.Contains(c.Body, "baseline "+usedSpec(tc.baseline)) {
							t.Errorf("comment body %q is not this run's report", c.Body)
						}
					}
				}
				if len(cs) != tc.comments || own != 1 {
					t.Errorf("%d comments, %d of them ours; want %d and exactly 1", len(cs), own, tc.comments)
				}
			}
			// Outputs.
			outs := h.outputs(t)
			for k, want := range tc.outputs {
				if got, ok := outs[k]; !ok || got != want {
					t.Errorf("output %s = %q (set %v), want %q", k, got, ok, want)
				}
			}
			if tc.outputs != nil {
				if len(outs) != len(OutputNames) {
					t.Errorf("outputs = %v, want all of %v", outs, OutputNames)
				}
				var m map[string]float64
				if err := json.Unmarshal([]byte(outs["metrics"]), &m); err != nil || len(m) == 0 {
					t.Errorf("metrics output %q: %v", outs["metrics"], err)
				}
				for name, v := range m {
					if o.Metrics[name] != v {
						t.Errorf("metrics output %s = %v, trained %v", name, v, o.Metrics[name])
					}
				}
			}
			// Log and summary.
			for _, s := range tc.logHas {
				if !strings.Contains(log, s) {
					t.Errorf("log lacks %q\n%s", s, log)
				}
			}
			for _, s := range tc.logLacks {
				if strings.Contains(log, s) {
					t.Errorf("log has %q", s)
				}
			}
			sum := h.summary(t)
			for _, s := range tc.summary {
				if !strings.Contains(sum, s) {
					t.Errorf("summary lacks %q:\n%s", s, sum)
				}
			}
			checkMasking(t, log)
			if strings.Count(log, "::group::") != strings.Count(log, "::endgroup::") {
				t.Errorf("unbalanced groups:\n%s", log)
			}
			if tc.check != nil {
				tc.check(t, h, o)
			}
		})
	}
}

func (h *harness) prNumber(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile(h.env["GITHUB_EVENT_PATH"])
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Number int `json:"number"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p.Number
}

func baselines(calls []compare.Request) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Baseline.Raw)
	}
	return out
}

// checkMasking: the log starts with the masks, and the secrets appear
// nowhere else.
func checkMasking(t *testing.T, log string) {
	t.Helper()
	lines := strings.Split(log, "\n")
	if len(lines) < 2 || lines[0] != "::add-mask::"+tokenValue && lines[0] != "::add-mask::"+readOnlyToken {
		t.Errorf("first log line is %q, want the token's mask", lines[0])
	}
	if lines[1] != "::add-mask::"+registrySecret {
		t.Errorf("second log line is %q, want the registry password's mask", lines[1])
	}
	rest := strings.Join(lines[2:], "\n")
	for _, s := range []string{tokenValue, readOnlyToken, registrySecret} {
		if strings.Contains(rest, s) {
			t.Errorf("secret %q printed after the masks", s)
		}
	}
}

func TestRunWithoutComparer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push_branch.json")
	var out bytes.Buffer
	_, err := Run(context.Background(), proc.Env{Getenv: func(k string) string { return h.env[k] }, Stdout: &out, HTTPClient: h.srv.Client(), Clock: h.clock}, Options{}, Deps{})
	if err == nil || !strings.Contains(err.Error(), "Deps needs a Comparer and a Shipper") {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(h.ws, "ml", "dist")); !errors.Is(err, os.ErrNotExist) {
		t.Error("trained although the run could not finish")
	}
}

// TestRunOutsideActions: outside any CI, with no config, a local run says
// which file it looked for.
func TestRunOutsideActions(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	dir := t.TempDir()
	_, err := Run(context.Background(), proc.Env{Getenv: func(k string) string {
		if k == "MODELCI_WORKING_DIRECTORY" {
			return dir
		}
		return ""
	}, Stdout: &out}, Options{}, Deps{Comparer: &fakeDiffer{}, Shipper: &fakePublisher{}})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "modelci.yaml") {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
}

// TestOutputDelimiter: a value containing go-githubactions' fixed
// delimiter would end the heredoc early and could forge outputs, so it is
// refused rather than written.
func TestOutputDelimiter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "push_branch.json")
	var out bytes.Buffer
	env := proc.Env{Getenv: func(k string) string { return h.env[k] }, Stdout: &out, Clock: h.clock}
	rr := &runner{env: env, out: &Outcome{}}
	rr.a = workflow.New(env.Getenv, &out)
	rr.log = rr.a
	snk := githubSink{r: rr}
	err := snk.setOutput("metrics", "{}\n"+workflow.Delimiter+"\ngates_passed<<EOF\ntrue\nEOF")
	if err == nil || !strings.Contains(err.Error(), "delimiter") {
		t.Fatalf("err = %v", err)
	}
	if err := snk.setOutput("multi", "line 1\nline 2"); err != nil {
		t.Fatal(err)
	}
	if got := h.outputs(t); got["multi"] != "line 1\nline 2" || len(got) != 1 {
		t.Errorf("outputs = %q", got)
	}
}

func TestParseEventKinds(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join("..", "..", "testdata", "events"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		kind     ci.Kind
		number   int
		fork     bool
		readOnly bool
	}{
		"pull_request_opened.json":      {ci.KindPullRequest, 42, false, false},
		"pull_request_synchronize.json": {ci.KindPullRequest, 42, false, false},
		"pull_request_fork.json":        {ci.KindPullRequest, 43, true, true},
		"pull_request_target.json":      {ci.KindPullRequestTarget, 44, true, false},
		"push_main.json":                {ci.KindPushDefault, 0, false, false},
		"push_branch.json":              {ci.KindOther, 0, false, false},
		"workflow_dispatch.json":        {ci.KindOther, 0, false, false},
	}
	if len(entries) != len(want) {
		t.Errorf("%d recorded events, want %d", len(entries), len(want))
	}
	// parse classifies an event as `modelci run` does on GitHub Actions
	// (ci.Detect reads the same variables and payload), with edit applied
	// to the decoded payload first.
	parse := func(file, actor string, edit func(p map[string]any)) (*ci.Event, error) {
		t.Helper()
		env := eventEnv(t, file)
		raw, err := os.ReadFile(env["GITHUB_EVENT_PATH"])
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			var p map[string]any
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			edit(p)
			if raw, err = json.Marshal(p); err != nil {
				t.Fatal(err)
			}
		}
		if actor != "" {
			env["GITHUB_ACTOR"] = actor
		}
		return ci.ParseGitHub(ci.GitHubContext{
			EventName: env["GITHUB_EVENT_NAME"], EventPath: env["GITHUB_EVENT_PATH"],
			SHA: env["GITHUB_SHA"], Ref: env["GITHUB_REF"], Actor: env["GITHUB_ACTOR"],
			Repository: env["GITHUB_REPOSITORY"], Payload: raw,
		})
	}
	for _, e := range entries {
		w, ok := want[e.Name()]
		if !ok {
			t.Errorf("unexpected event file %s", e.Name())
			continue
		}
		ev, err := parse(e.Name(), "", nil)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if ev.Kind != w.kind || ev.Number != w.number || ev.Fork != w.fork || ev.ReadOnly != w.readOnly || ev.Owner != repoOwner || ev.Repo != repoName {
			t.Errorf("%s: %+v, want %+v", e.Name(), ev, w)
		}
	}
	// Dependabot's PRs get a read-only token too, though they are not forks.
	if ev, err := parse("pull_request_opened.json", "dependabot[bot]", nil); err != nil || !ev.ReadOnly || ev.Fork {
		t.Errorf("dependabot: %+v %v", ev, err)
	}
	head := func(p map[string]any) map[string]any {
		return p["pull_request"].(map[string]any)["head"].(map[string]any)
	}
	// A PR inside a repository that is itself a fork is not from a fork.
	if ev, err := parse("pull_request_opened.json", "alice", func(p map[string]any) {
		head(p)["repo"].(map[string]any)["fork"] = true
	}); err != nil || ev.Fork || ev.ReadOnly {
		t.Errorf("same-repo PR in a forked repository: %+v %v", ev, err)
	}
	// A PR whose fork was deleted has head.repo null.
	if ev, err := parse("pull_request_opened.json", "alice", func(p map[string]any) { head(p)["repo"] = nil }); err != nil || !ev.Fork || !ev.ReadOnly {
		t.Errorf("deleted fork: %+v %v", ev, err)
	}
	// A pull_request event without its payload is an error, not a guess.
	env := eventEnv(t, "pull_request_opened.json")
	if _, err := ci.ParseGitHub(ci.GitHubContext{EventName: env["GITHUB_EVENT_NAME"], EventPath: env["GITHUB_EVENT_PATH"], Repository: env["GITHUB_REPOSITORY"]}); !errors.Is(err, ErrUsage) {
		t.Errorf("no payload: %v", err)
	}
}

// wantSpec renders the baseline a differ was asked for: with an image
// configured, auto asks for the registry and falls back to the base commit.
func wantSpec(r compare.Request) string {
	if r.Fallback != nil {
		return r.Baseline.Raw + " (fallback " + r.Fallback.Raw + ")"
	}
	return r.Baseline.Raw
}

// usedSpec is the baseline the fake differ reports having used.
func usedSpec(want string) string {
	if i := strings.Index(want, " (fallback "); i >= 0 {
		return strings.TrimSuffix(want[i+len(" (fallback "):], ")")
	}
	return want
}
