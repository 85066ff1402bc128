package sticky

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseMode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Mode
		err  bool
	}{
		{"", ModeAuto, false},
		{"auto", ModeAuto, false},
		{" Always ", ModeAlways, false},
		{"ALWAYS", ModeAlways, false},
		{"NEVER", ModeNever, false},
		{" never ", ModeNever, false},
		{"update-only", ModeUpdateOnly, false},
		{"sometimes", "", true},
		{"update_only", "", true},
		{"yes", "", true},
		{"true", "", true},
	}
	for _, tc := range cases {
		got, err := ParseMode(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"house-prices", "<!-- modelci:report name=house-prices -->"},
		{"churn_v2.1", "<!-- modelci:report name=churn_v2.1 -->"},
		{"  churn ", "<!-- modelci:report name=churn -->"},
		{"a-->b", "<!-- modelci:report name=a-_b -->"},
		{"x>y", "<!-- modelci:report name=x_y -->"},
		{"x\ny", "<!-- modelci:report name=x_y -->"},
	}
	for _, tc := range cases {
		got := Marker(tc.in)
		if got != tc.want {
			t.Errorf("Marker(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Count(got, "-->") != 1 || strings.ContainsAny(got, "\r\n") {
			t.Errorf("Marker(%q) = %q ends early or spans lines", tc.in, got)
		}
	}
}

func TestCarries(t *testing.T) {
	t.Parallel()
	m := Marker("house-prices")
	cases := []struct {
		body string
		want bool
	}{
		{m + "\n## report\n", true},
		{m, true},
		{m + "\r\n## report\r\n", true},
		{"", false},
		{"intro\n" + m + "\n", false},
		{" " + m + "\n", false},
		{m + " \n", false},
		{m + "x\n", false},
		{Marker("churn") + "\n| `" + m + "` |\n" + m + "\n", false},
		{Marker("house-prices-v2") + "\n", false},
		{Marker("house") + "\n", false},
	}
	for _, tc := range cases {
		if got := Carries(tc.body, m); got != tc.want {
			t.Errorf("Carries(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
	if Carries("anything", "") {
		t.Error("an empty marker is carried")
	}
}

func TestSameBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b string
		same bool
	}{
		{"a\nb\n", "a\r\nb\r\n", true},
		{"a\nb", "a\nb\n\n  ", true},
		{"a\nb", "a\nc", false},
		{" a", "a", false},
	}
	for _, tc := range cases {
		if got := SameBody(tc.a, tc.b); got != tc.same {
			t.Errorf("SameBody(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// memThread is an in-memory Thread. createFails makes that many Creates
// fail with errGateway; landBody, when set, is what a failed Create stores
// all the same (a gateway timeout while the backend completed).
type memThread struct {
	comments    []Comment
	createFails int
	landBody    string
	calls       []string
	waits       []int
}

var errGateway = errors.New("502 Bad Gateway")

func (m *memThread) add(body string, mine bool) int64 {
	id := int64(len(m.comments) + 1)
	m.comments = append(m.comments, Comment{ID: id, Body: body, Mine: mine, CreatedAt: time.Unix(id, 0)})
	return id
}

func (m *memThread) thread() Thread {
	return Thread{
		List: func(context.Context) ([]Comment, error) {
			m.calls = append(m.calls, "list")
			return append([]Comment(nil), m.comments...), nil
		},
		Create: func(_ context.Context, body string) (Comment, error) {
			m.calls = append(m.calls, "create")
			if m.createFails > 0 {
				m.createFails--
				if m.landBody != "" {
					m.add(m.landBody, true)
				}
				return Comment{}, errGateway
			}
			id := m.add(body, true)
			return Comment{ID: id, URL: fmt.Sprint("#", id)}, nil
		},
		Edit: func(_ context.Context, id int64, body string) (Comment, error) {
			m.calls = append(m.calls, fmt.Sprint("edit ", id))
			m.comments[id-1].Body = body
			return Comment{ID: id, URL: fmt.Sprint("#", id), Truncated: true}, nil
		},
		MayHaveLanded: func(err error) bool { return errors.Is(err, errGateway) },
		Wait: func(_ context.Context, try int) error {
			m.waits = append(m.waits, try)
			return nil
		},
	}
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	const marker, body = "<!-- m -->", "<!-- m -->\nnew\n"
	cases := []struct {
		name        string
		mode        Mode
		seed        func(m *memThread)
		createFails int
		landBody    string
		outcome     Outcome
		id          int64
		calls       string
		waits       string
		err         bool
	}{
		{name: "none yet: created", mode: ModeAuto, outcome: Created, id: 1, calls: "[list create]"},
		{name: "ours is edited, the newest of ours", mode: ModeAuto,
			seed: func(m *memThread) {
				m.add(marker+"\nold", true)
				m.add(marker+"\nnewer", true)
				m.add(marker+"\nsomeone else's", false)
				m.add("<!-- other -->", true)
				m.add("<!-- other -->\n"+marker+"\nquoted", true)
				m.add("intro\n"+marker, true)
			},
			outcome: Updated, id: 2, calls: "[list edit 2]"},
		{name: "unchanged: nothing written", mode: ModeAuto,
			seed:    func(m *memThread) { m.add(strings.ReplaceAll(body, "\n", "\r\n"), true) },
			outcome: Unchanged, id: 1, calls: "[list]"},
		{name: "always: a new one beside ours", mode: ModeAlways,
			seed:    func(m *memThread) { m.add(marker+"\nold", true) },
			outcome: Created, id: 2, calls: "[list create]"},
		{name: "update-only without ours: skipped", mode: ModeUpdateOnly,
			seed:    func(m *memThread) { m.add(marker+"\nnot mine", false) },
			outcome: Skipped, calls: "[list]"},
		{name: "a POST that did not land is repeated", mode: ModeAuto, createFails: 1,
			outcome: Created, id: 1, calls: "[list create list create]", waits: "[1]"},
		{name: "a POST that landed is not repeated", mode: ModeAuto, createFails: 1, landBody: body,
			outcome: Created, id: 1, calls: "[list create list]", waits: "[1]"},
		{name: "a POST that landed with another body is edited", mode: ModeAuto, createFails: 1, landBody: marker + "\nstale",
			outcome: Created, id: 1, calls: "[list create list edit 1]", waits: "[1]"},
		{name: "three failed POSTs: the error", mode: ModeAuto, createFails: 5,
			err: true, calls: "[list create list create list create]", waits: "[1 2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := &memThread{createFails: tc.createFails, landBody: tc.landBody}
			if tc.seed != nil {
				tc.seed(m)
			}
			outcome, c, err := Upsert(context.Background(), m.thread(), marker, body, tc.mode)
			if (err != nil) != tc.err || (tc.err && !errors.Is(err, errGateway)) {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if outcome != tc.outcome || c.ID != tc.id {
				t.Errorf("outcome %q, comment %d; want %q, %d", outcome, c.ID, tc.outcome, tc.id)
			}
			if got := fmt.Sprint(m.calls); got != tc.calls {
				t.Errorf("calls %s, want %s", got, tc.calls)
			}
			if got := fmt.Sprint(m.waits); got != tc.waits && !(len(m.waits) == 0 && tc.waits == "") {
				t.Errorf("waits %s, want %s", got, tc.waits)
			}
			if !tc.err && tc.outcome != Skipped && tc.outcome != Unchanged && !SameBody(m.comments[c.ID-1].Body, body) {
				t.Errorf("comment %d holds %q", c.ID, m.comments[c.ID-1].Body)
			}
		})
	}
}

// FuzzCarries: whatever a comment body holds, it carries the marker
// exactly when its first line is the marker, and putting the marker first
// makes any body ours while any text before it makes it not.
func FuzzCarries(f *testing.F) {
	m := Marker("house-prices")
	for _, s := range []string{"", m, m + "\r\n", "x\n" + m, Marker("churn") + "\n" + m, "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		first := strings.SplitN(body, "\n", 2)[0]
		if got, want := Carries(body, m), strings.TrimSuffix(first, "\r") == m; got != want {
			t.Fatalf("Carries(%q) = %v, want %v", body, got, want)
		}
		if !Carries(m+"\n"+body, m) {
			t.Fatalf("marker first, then %q: not carried", body)
		}
		if body != "" && !strings.Contains(body, "\n") && Carries(body+m+"\n", m) {
			t.Fatalf("%q before the marker: carried", body)
		}
	})
}
