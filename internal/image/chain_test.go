package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakePublisher publishes to a named place, or fails, and logs its calls.
type fakePublisher struct {
	name     string
	err      error
	nothing  bool
	checkErr error
	log      *[]string
}

func (f fakePublisher) Publish(context.Context, *Built) (*Published, error) {
	*f.log = append(*f.log, "publish "+f.name)
	if f.err != nil {
		return nil, f.err
	}
	if f.nothing {
		return nil, nil
	}
	return &Published{Ref: f.name + "@sha256:1"}, nil
}

func (f fakePublisher) Check(context.Context) error {
	*f.log = append(*f.log, "check "+f.name)
	return f.checkErr
}

// outputsFile is an OutputWriter that keeps each call.
type outputsFile struct {
	calls []map[string]string
	err   error
}

func (o *outputsFile) SetOutputs(m map[string]string) error {
	o.calls = append(o.calls, m)
	return o.err
}

var fakeBuilt = &Built{Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}}

// TestChain: the tee publishes in order and stops at the first error, its
// result is the last destination that published, checks reach every
// publisher through the decorators, and the outputs are written once, only
// on success, with image only for a registry reference.
func TestChain(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	cases := []struct {
		name     string
		pubs     []fakePublisher
		wantRef  string
		wantErr  error
		wantLog  []string
		outputs  map[string]string // nil: none written
		checkErr error
	}{
		{
			name:    "layout then registry",
			pubs:    []fakePublisher{{name: "oci:dir"}, {name: "reg/repo"}},
			wantRef: "reg/repo@sha256:1",
			wantLog: []string{"check oci:dir", "check reg/repo", "publish oci:dir", "publish reg/repo"},
			outputs: map[string]string{"image": "reg/repo@sha256:1", "image_digest": fakeBuilt.Digest.String()},
		},
		{
			name:    "layout only: no image output",
			pubs:    []fakePublisher{{name: "oci:dir"}},
			wantRef: "oci:dir@sha256:1",
			wantLog: []string{"check oci:dir", "publish oci:dir"},
			outputs: map[string]string{"image_digest": fakeBuilt.Digest.String()},
		},
		{
			name:    "a destination that publishes nothing keeps the earlier result",
			pubs:    []fakePublisher{{name: "oci:dir"}, {name: "refused", nothing: true}},
			wantRef: "oci:dir@sha256:1",
			wantLog: []string{"check oci:dir", "check refused", "publish oci:dir", "publish refused"},
			outputs: map[string]string{"image_digest": fakeBuilt.Digest.String()},
		},
		{
			name:    "the first error stops the tee and writes no outputs",
			pubs:    []fakePublisher{{name: "a", err: boom}, {name: "b"}},
			wantErr: boom,
			wantLog: []string{"check a", "check b", "publish a"},
		},
		{
			name:     "a failed check stops the checks",
			pubs:     []fakePublisher{{name: "a", checkErr: boom}, {name: "b"}},
			checkErr: boom,
			wantLog:  []string{"check a"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log, recorded []string
			var ps []Publisher
			for _, f := range tc.pubs {
				f.log = &log
				ps = append(ps, Recorder{Inner: f, Record: func(_ *Built, p *Published) error {
					recorded = append(recorded, p.Ref)
					return nil
				}})
			}
			out := &outputsFile{}
			chain := RecordOutputs(Tee(ps...), out)
			if err := check(context.Background(), chain); !errors.Is(err, tc.checkErr) {
				t.Fatalf("Check = %v, want %v", err, tc.checkErr)
			}
			if tc.checkErr != nil {
				if !slices.Equal(log, tc.wantLog) {
					t.Errorf("calls %q, want %q", log, tc.wantLog)
				}
				return
			}
			pub, err := chain.Publish(context.Background(), fakeBuilt)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Publish = %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(log, tc.wantLog) {
				t.Errorf("calls %q, want %q", log, tc.wantLog)
			}
			if tc.wantErr != nil {
				if pub != nil || len(out.calls) != 0 {
					t.Errorf("a failed publish gave %+v and outputs %v", pub, out.calls)
				}
				return
			}
			if pub == nil || pub.Ref != tc.wantRef {
				t.Errorf("result %+v, want %s", pub, tc.wantRef)
			}
			var wantRecorded []string
			for _, f := range tc.pubs {
				if !f.nothing {
					wantRecorded = append(wantRecorded, f.name+"@sha256:1")
				}
			}
			if !slices.Equal(recorded, wantRecorded) {
				t.Errorf("recorded %q, want %q", recorded, wantRecorded)
			}
			if len(out.calls) != 1 || fmt.Sprint(out.calls[0]) != fmt.Sprint(tc.outputs) {
				t.Errorf("outputs %v, want one call with %v", out.calls, tc.outputs)
			}
		})
	}
}

// TestRecordOutputsError: an output that cannot be written fails the
// publish.
func TestRecordOutputsError(t *testing.T) {
	t.Parallel()
	var log []string
	_, err := RecordOutputs(fakePublisher{name: "r", log: &log}, &outputsFile{err: errors.New("disk full")}).Publish(context.Background(), fakeBuilt)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the output error", err)
	}
}

// TestNewPublisher: the push decision (PushBlocked) replaces the registry
// by a refusal that still builds and writes the layout; tags are checked
// before anything is built; bad repositories are refused.
func TestNewPublisher(t *testing.T) {
	t.Parallel()
	b := buildTest(t, "house", 1, Metadata{})
	host, rec := testRegistry(t, "", "")
	// After the parallel subtests.
	t.Cleanup(func() {
		for _, r := range rec.take() {
			if strings.Contains(r.Path, "/acme/pr/") || strings.Contains(r.Path, "/acme/fork/") {
				t.Errorf("a blocked push reached the registry: %s %s", r.Method, r.Path)
			}
		}
	})
	cases := []struct {
		name       string
		opts       PublishOptions
		err        string
		wantLog    string
		wantPushed bool
		wantTags   []string
	}{
		{
			name:     "pull request: not pushed, layout written",
			opts:     PublishOptions{Repository: host + "/acme/pr", CI: CIInfo{PullRequest: true, SHA: "abc"}},
			wantLog:  "not pushing to " + host + "/acme/pr: this build runs for a pull request; modelci pushes only after merge",
			wantTags: []string{"oci:LAYOUT:latest"},
		},
		{
			name:     "fork: not pushed",
			opts:     PublishOptions{Repository: host + "/acme/fork", CI: CIInfo{Fork: true}},
			wantLog:  "not pushing to " + host + "/acme/fork: this build runs in a fork",
			wantTags: []string{"oci:LAYOUT:latest"},
		},
		{
			name:       "push with the default tags",
			opts:       PublishOptions{Repository: host + "/acme/push", CI: CIInfo{SHA: "abc", Tag: "v1.2.0"}},
			wantPushed: true,
			wantTags:   []string{"oci:LAYOUT:latest", host + "/acme/push:abc", host + "/acme/push:latest", host + "/acme/push:1.2.0", host + "/acme/push:1.2", host + "/acme/push:1"},
		},
		{
			name:       "configured tags go to the registry only",
			opts:       PublishOptions{Repository: host + "/acme/cfg", ConfiguredTags: []string{"stable"}, CI: CIInfo{SHA: "abc"}},
			wantPushed: true,
			wantTags:   []string{"oci:LAYOUT:latest", host + "/acme/cfg:stable"},
		},
		{
			name:       "explicit tags go to both",
			opts:       PublishOptions{Repository: host + "/acme/explicit", Tags: []string{"t1"}, ConfiguredTags: []string{"stable"}},
			wantPushed: true,
			wantTags:   []string{"oci:LAYOUT:t1", host + "/acme/explicit:t1"},
		},
		{
			name: "an invalid tag is refused even where pushing is blocked",
			opts: PublishOptions{Repository: host + "/acme/x", Tags: []string{"-x"}, CI: CIInfo{PullRequest: true}},
			err:  `invalid tag "-x"`,
		},
		{
			name: "a repository with a tag",
			opts: PublishOptions{Repository: host + "/acme/x:v1"},
			err:  "without a tag",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			layout := filepath.Join(t.TempDir(), "image")
			var logs []string
			var published []*Published
			o := tc.opts
			o.Layout = layout
			o.Logf = func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
			o.OnPublished = func(p *Published) { published = append(published, p) }
			p, err := NewPublisher(o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NewPublisher error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Publish(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(layout, "index.json")); err != nil {
				t.Errorf("no layout: %v", err)
			}
			if tc.wantLog != "" && (len(logs) != 1 || !strings.HasPrefix(logs[0], tc.wantLog)) {
				t.Errorf("logs %q, want %q", logs, tc.wantLog)
			}
			var tags []string
			for _, pub := range published {
				for _, tag := range pub.Tags {
					tags = append(tags, strings.Replace(tag, layout, "LAYOUT", 1))
				}
			}
			if !slices.Equal(tags, tc.wantTags) {
				t.Errorf("tags %q, want %q", tags, tc.wantTags)
			}
			if got := len(published) == 2; got != tc.wantPushed {
				t.Errorf("pushed = %v, want %v (%d results)", got, tc.wantPushed, len(published))
			}
		})
	}
}
