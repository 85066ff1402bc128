package revision

import "testing"

func TestAbbreviations(t *testing.T) {
	t.Parallel()
	const sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	const digest = "sha256:4f5d8c2b1e9a7360f0c3b2a1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3"
	cases := []struct {
		name, got, want string
	}{
		{"Short of a commit", Short(sha), "6dcb09b5b578"},
		{"Short of something short", Short("abc"), "abc"},
		{"Short of nothing", Short(""), ""},
		{"Abbrev of a commit", Abbrev(sha), "6dcb09b"},
		{"Abbrev of 7 characters", Abbrev("6dcb09b"), "6dcb09b"},
		{"Display of a digest", Display(digest), "sha256:4f5d8c2b1e9a"},
		{"Display of a commit", Display(sha), "6dcb09b"},
		{"Display of a short digest", Display("sha256:ab"), "sha256:ab"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
