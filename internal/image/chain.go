package image

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// A publisher chain is built from small Publishers combined by decorators,
// the way ko combines its publishers (pkg/publish multi.go and recorder.go):
//
//	RecordOutputs(                     step outputs image, image_digest
//	  Tee(
//	    Recorder(LayoutPublisher),     OCI layout directory
//	    Recorder(RemotePublisher)      registry push, or Refusing when
//	  ))                               PushBlocked says no
//
// NewPublisher builds it; `modelci package` and the image stage of
// `modelci run` both go through it.

// checker is a Publisher that can tell before the build that it will be
// refused (e.g. wrong registry credentials).
type checker interface {
	Check(ctx context.Context) error
}

// check runs p's Check, if it has one.
func check(ctx context.Context, p Publisher) error {
	if c, ok := p.(checker); ok {
		return c.Check(ctx)
	}
	return nil
}

// Tee publishes to each of ps in order and stops at the first error, like
// ko's MultiPublisher. Its result is the last one that published anything
// (a Refusing publisher publishes nothing); with none it publishes nowhere
// and returns nil.
func Tee(ps ...Publisher) Publisher { return tee(ps) }

type tee []Publisher

// Publish implements Publisher.
func (t tee) Publish(ctx context.Context, b *Built) (*Published, error) {
	var last *Published
	for _, p := range t {
		pub, err := p.Publish(ctx, b)
		if err != nil {
			return nil, err
		}
		if pub != nil {
			last = pub
		}
	}
	return last, nil
}

// Check checks every publisher of the tee.
func (t tee) Check(ctx context.Context) error {
	for _, p := range t {
		if err := check(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// Refusing stands in for a registry push that is not allowed: it publishes
// nothing, says why through Logf and succeeds, so that the image is still
// built (and written to a layout, when the chain has one).
type Refusing struct {
	// Repository is the repository that is not pushed to.
	Repository string
	// Reason is why, from CIInfo.PushBlocked.
	Reason string
	// Logf reports the refusal. Nil means silent.
	Logf func(format string, args ...any)
}

// Publish implements Publisher.
func (r Refusing) Publish(context.Context, *Built) (*Published, error) {
	if r.Logf != nil {
		r.Logf("not pushing to %s: %s", r.Repository, r.Reason)
	}
	return nil, nil
}

// Recorder publishes through Inner and hands what it published to Record,
// like ko's recorder, which keeps each reference it publishes. An error
// from Record fails the publish. Nothing is recorded when Inner fails or
// publishes nothing.
type Recorder struct {
	Inner  Publisher
	Record func(b *Built, p *Published) error
}

// Publish implements Publisher.
func (r Recorder) Publish(ctx context.Context, b *Built) (*Published, error) {
	pub, err := r.Inner.Publish(ctx, b)
	if err != nil || pub == nil {
		return pub, err
	}
	if err := r.Record(b, pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// Check checks Inner.
func (r Recorder) Check(ctx context.Context) error { return check(ctx, r.Inner) }

// OutputWriter receives step outputs: GitHub Actions' GITHUB_OUTPUT file in
// the CLI.
type OutputWriter interface {
	SetOutputs(outputs map[string]string) error
}

// Output names.
const (
	// OutputImage is the pushed image by digest (repo@sha256:…); it is
	// not set when nothing was pushed.
	OutputImage = "image"
	// OutputImageDigest is the index digest, set whenever the image was
	// built and published.
	OutputImageDigest = "image_digest"
)

// RecordOutputs publishes through inner and then writes the OutputImage and
// OutputImageDigest outputs to w, once and only when inner succeeded. The
// image output is inner's result when it is a registry reference (not an
// "oci:" layout): put the registry last in a Tee.
func RecordOutputs(inner Publisher, w OutputWriter) Publisher {
	return outputRecorder{inner: inner, w: w}
}

type outputRecorder struct {
	inner Publisher
	w     OutputWriter
}

// Publish implements Publisher.
func (r outputRecorder) Publish(ctx context.Context, b *Built) (*Published, error) {
	pub, err := r.inner.Publish(ctx, b)
	if err != nil {
		return nil, err
	}
	outputs := map[string]string{OutputImageDigest: b.Digest.String()}
	if pub != nil && !strings.HasPrefix(pub.Ref, "oci:") {
		outputs[OutputImage] = pub.Ref
	}
	if err := r.w.SetOutputs(outputs); err != nil {
		return nil, err
	}
	return pub, nil
}

// Check checks the inner publisher.
func (r outputRecorder) Check(ctx context.Context) error { return check(ctx, r.inner) }

// PublishOptions says where an image goes. Empty fields are "none".
type PublishOptions struct {
	// Layout is an OCI layout directory to write.
	Layout string
	// Tags are the explicit tags (--tag): the layout's ref names and the
	// registry tags.
	Tags []string
	// Repository is the registry repository to push to.
	Repository string
	// ConfiguredTags are the registry tags of modelci.yaml (image.tags),
	// used when Tags is empty; with neither, the registry gets
	// DefaultTags(CI).
	ConfiguredTags []string
	// Insecure allows a plain-HTTP registry.
	Insecure bool
	// MountFrom is a repository of the same registry to mount blobs from.
	MountFrom string
	// Credentials log in to the registry; their Registry is set to the
	// repository's.
	Credentials Credentials
	// Keychain builds the keychain of the credentials, only when the push
	// goes ahead (it masks the secrets). Nil means NewKeychain.
	Keychain func(Credentials) *Keychain
	// UserAgent is sent to the registry.
	UserAgent string
	// Transport is the registry's HTTP transport. Nil means
	// remote.DefaultTransport.
	Transport http.RoundTripper
	// CI is the build's CI platform, which decides whether pushing is
	// allowed (PushBlocked) and the default tags.
	CI CIInfo
	// Logf reports a refused push. Nil means silent.
	Logf func(format string, args ...any)
	// OnPublished receives each destination's result, in order. May be nil.
	OnPublished func(*Published)
	// Outputs, when set, receives the image and image_digest outputs.
	Outputs OutputWriter
}

// NewPublisher builds the publisher chain of o: a Tee to the layout and
// the registry, each recorded through OnPublished, with the step outputs
// recorded around the whole.
//
// NewPublisher is the one place where modelci decides whether an image is
// pushed: the registry publisher is replaced by a Refusing one whenever
// o.CI.PushBlocked() gives a reason (a pull or merge request, a fork),
// whatever the flags, the action's push input or image.push say. Those
// only decide whether `modelci run` runs its image stage at all.
//
// Its errors are all about bad input: an invalid repository name or tag.
func NewPublisher(o PublishOptions) (Publisher, error) {
	record := func(p Publisher) Publisher {
		if o.OnPublished == nil {
			return p
		}
		return Recorder{Inner: p, Record: func(_ *Built, pub *Published) error {
			o.OnPublished(pub)
			return nil
		}}
	}
	var ps []Publisher
	if o.Layout != "" {
		ps = append(ps, record(&LayoutPublisher{Dir: o.Layout, Tags: o.Tags}))
	}
	if o.Repository != "" {
		remote, err := o.registryPublisher()
		if err != nil {
			return nil, err
		}
		ps = append(ps, record(remote))
	}
	var out Publisher = Tee(ps...)
	if o.Outputs != nil {
		out = RecordOutputs(out, o.Outputs)
	}
	return out, nil
}

// registryPublisher is the push to o.Repository, or its refusal.
func (o PublishOptions) registryPublisher() (Publisher, error) {
	repo, err := ParseRepository(o.Repository, o.Insecure)
	if err != nil {
		return nil, err
	}
	tags := o.Tags
	if len(tags) == 0 {
		tags = o.ConfiguredTags
	}
	if len(tags) == 0 {
		tags = DefaultTags(o.CI)
	}
	for _, t := range tags {
		if !ValidTag(t) {
			return nil, fmt.Errorf("invalid tag %q: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'", t)
		}
	}
	if reason := o.CI.PushBlocked(); reason != "" {
		return Refusing{Repository: repo.String(), Reason: reason, Logf: o.Logf}, nil
	}
	creds := o.Credentials
	creds.Registry = repo.RegistryStr()
	keychain := o.Keychain
	if keychain == nil {
		keychain = NewKeychain
	}
	return &RemotePublisher{
		Repository: o.Repository,
		Tags:       tags,
		Insecure:   o.Insecure,
		Keychain:   keychain(creds),
		Transport:  o.Transport,
		UserAgent:  o.UserAgent,
		MountFrom:  o.MountFrom,
	}, nil
}
