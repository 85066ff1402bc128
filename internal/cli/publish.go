package cli

import (
	"context"
	"errors"

	"github.com/modelci/modelci/internal/action"
	"github.com/modelci/modelci/internal/image"
)

// imagePublisher is the Shipper of `modelci run`: the same build and push
// as `modelci package`. action.Run sets the image_digest output itself.
type imagePublisher struct {
	env Env
	// runtimes are the --runtime values of `modelci run`.
	runtimes []string
}

var _ action.Shipper = imagePublisher{}

// Publish implements action.Shipper.
func (p imagePublisher) Publish(ctx context.Context, req action.PublishRequest) (*action.PublishResult, error) {
	// The commit `modelci run` detected (GIT_COMMIT on Jenkins, git HEAD
	// in another CI) tags the image even where image.DetectCI, which reads
	// only the platform's variables, finds none.
	var tags []string
	if req.SHA != "" && (req.Config == nil || len(req.Config.Image.Tags) == 0) {
		tags = image.DefaultTags(image.CIInfo{SHA: req.SHA})
	}
	res, err := packageImage(ctx, p.env, packageRequest{
		Layout:     req.Layout,
		ModelDir:   req.ModelDir,
		Config:     req.Config,
		Repository: req.Repository,
		Tags:       tags,
		Username:   req.Username,
		Password:   req.Password,
		Revision:   req.SHA,
		NoOutputs:  true,
		// A local run writes only the layout: the host's platform by
		// default, and platforms without a runtime are skipped. A push
		// (in CI) fails instead of shipping part of the platforms.
		Local:        req.Layout != "" && req.Repository == "",
		RuntimeFlags: p.runtimes,
	})
	if err != nil {
		return nil, err
	}
	out := &action.PublishResult{Digest: res.built.Digest.String()}
	for _, pub := range res.published {
		out.References = append(out.References, pub.Ref)
	}
	if len(res.published) == 0 {
		return nil, errors.New("image push: nothing was pushed (see the log above)")
	}
	return out, nil
}
