package image

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// PackageOptions configures Package.
type PackageOptions struct {
	// ModelDir is the model directory to package.
	ModelDir string
	// Platforms of the index; empty means DefaultPlatforms.
	Platforms []v1.Platform
	// Runtimes finds the runtime binary of each platform.
	Runtimes *RuntimeFinder
	// Metadata describes the image's origin.
	Metadata Metadata
	// Publisher receives the built image, e.g. the chain of NewPublisher.
	// Nil means build only.
	Publisher Publisher
}

// PackageResult is the outcome of Package.
type PackageResult struct {
	Built *Built
	// Published is the publisher's result; nil when it published nowhere.
	Published *Published
}

// Package finds the runtimes, builds the image and publishes it: the code
// path shared by `modelci package` and `modelci run`.
func Package(ctx context.Context, o PackageOptions) (*PackageResult, error) {
	platforms := o.Platforms
	if len(platforms) == 0 {
		var err error
		if platforms, err = ParsePlatforms(nil); err != nil {
			return nil, err
		}
	}
	if o.Runtimes == nil {
		return nil, errors.New("package: no runtime finder")
	}
	// Fail fast, before the build, when the publisher can tell that it
	// will be refused (e.g. wrong registry credentials).
	if o.Publisher != nil {
		if err := check(ctx, o.Publisher); err != nil {
			return nil, err
		}
	}
	rts, err := o.Runtimes.Find(ctx, platforms)
	if err != nil {
		return nil, err
	}
	b, err := Build(Spec{ModelDir: o.ModelDir, Runtimes: rts, Metadata: o.Metadata})
	if err != nil {
		return nil, err
	}
	res := &PackageResult{Built: b}
	if o.Publisher == nil {
		return res, nil
	}
	if res.Published, err = o.Publisher.Publish(ctx, b); err != nil {
		return res, err
	}
	return res, nil
}

// FormatSize renders a byte count as "1.50 MiB", "12.3 KiB" or "512 B".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
