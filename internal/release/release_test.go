package release

import (
	"io"
	"strings"
	"testing"

	"github.com/modelci/modelci/internal/config"
	"github.com/modelci/modelci/internal/exitcode"
)

// TestPackagePlatformsSayWhere: a bad platform is a usage error that names
// where it was given.
func TestPackagePlatformsSayWhere(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"flag", Request{Platforms: []string{"windows/amd64"}}, `--platform: platform "windows/amd64": the serving runtime is a Linux binary`},
		{"config", Request{Config: &config.Config{Image: config.Image{Platforms: []string{"linux/mips"}}}}, `image.platforms in modelci.yaml: platform "linux/mips": unsupported architecture`},
		{"flag wins over config", Request{Platforms: []string{"amd64"}, Config: &config.Config{Image: config.Image{Platforms: []string{"linux/arm64"}}}}, `--platform: platform "amd64": want os/arch`},
		{"local build: --runtime", Request{Local: true, RuntimeFlags: []string{"linux/amd64:1=/x"}}, `--runtime: platform "linux/amd64:1": an OS version`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Platforms(io.Discard, tc.req)
			if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (exit %d), want a usage error containing %q", err, exitcode.Of(err), tc.want)
			}
		})
	}
}
