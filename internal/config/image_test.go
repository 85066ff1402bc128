package config

import (
	"errors"
	"strings"
	"testing"
)

// TestImageSection: the image section decodes (push may be a YAML bool)
// and bad values name their field and line.
func TestImageSection(t *testing.T) {
	t.Parallel()
	base := "data: {path: d.csv, target: y}\nimage:\n"
	cases := []struct {
		name string
		yaml string
		push string
		err  string
	}{
		{"full", "  repository: ghcr.io/acme/house\n  tags: [latest, v1.2.3]\n  platforms: [linux/amd64, linux/arm/v7]\n  licenses: MIT\n  labels: {team: pricing}\n  push: auto\n", "auto", ""},
		{"push as a YAML bool", "  push: true\n", "true", ""},
		{"push false", "  push: false\n", "false", ""},
		{"bad push", "  push: sometimes\n", "", "x.yaml:3:9: image.push: want auto, true or false"},
		{"repository with scheme", "  repository: https://ghcr.io/acme/house\n", "", "image.repository"},
		{"repository with digest", "  repository: ghcr.io/acme/house@sha256:00\n", "", "image.repository"},
		{"bad tag", "  tags: [ok, -bad]\n", "", "image.tags[1]"},
		{"bad platform", "  platforms: [windows/amd64]\n", "", "image.platforms[0]"},
		{"unknown key", "  registry: ghcr.io\n", "", "x.yaml:3:3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(base+tc.yaml), "x.yaml", "/tmp")
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Image.Push != tc.push {
				t.Errorf("push %q, want %q", c.Image.Push, tc.push)
			}
		})
	}
}
