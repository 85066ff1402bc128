# The modelci image: the GitHub Action (action.yml builds it, or points at
# the prebuilt ghcr.io image), a GitLab CI `image:` and a Jenkins
# `docker.image(…).inside { }` container, all the same image.
#
# Base images are pinned by the digest of their multi-platform index. To
# refresh one, read the index digest of the tag and replace it here:
#   docker buildx imagetools inspect golang:1.26-alpine   (the top "Digest:")
#   docker buildx imagetools inspect alpine:3.22
# (or `crane digest golang:1.26-alpine`). Keep the golang tag's minor
# version in step with go.mod's go line.
#
# `go test -C lint ./...` parses this file with BuildKit's parser
# and checks what it must keep: pinned bases, the cached module download,
# the runtime build flags of `modelci package`, no USER, the ENTRYPOINT.
# scripts/build-native.sh runs the same go build commands without Docker.

# The builder runs on the build machine's platform and cross-compiles, so
# a multi-platform build never emulates the Go compiler.
FROM --platform=$BUILDPLATFORM golang:1.26-alpine@sha256:7a3e50096189ad57c9f9f865e7e4aa8585ed1585248513dc5cda498e2f41812c AS build
# go.mod's go line may name a newer 1.26.x than the image holds, and the
# image sets GOTOOLCHAIN=local: auto lets the go command fetch the
# toolchain go.mod asks for. The other settings are the ones `modelci
# package` pins for its reproducible runtime build (internal/image).
ENV GOTOOLCHAIN=auto \
    CGO_ENABLED=0 \
    GOFLAGS= \
    GOWORK=off \
    GOAMD64=v1 \
    GOARM64=v8.0
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The serving runtime for every platform `modelci package` builds images
# for, whatever platform this image is for, built exactly as `modelci
# package` builds it (image.GoBuildFlags): the same source and toolchain
# give the same bytes, so a model image packaged with these runtimes has
# the digest of one packaged from a local go build.
RUN for arch in amd64 arm64; do \
      GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
        -o /out/runtime/linux-$arch/modelci-serve ./cmd/modelci-serve || exit 1; \
    done
# modelci itself for the image's platform (set by BuildKit).
ARG TARGETOS
ARG TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
      -o /out/modelci ./cmd/modelci

FROM alpine:3.22@sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412
# sh and cat (busybox) for GitLab's and Jenkins' shells, git for the git:
# baseline, CA certificates for registries and the GitHub API.
# safe.directory: GitHub runs this container as root on a checkout owned
# by the runner's user, which git refuses without it; it is system-wide
# (/etc/gitconfig) because HOME may be unwritable.
RUN apk add --no-cache git ca-certificates \
 && git config --system --add safe.directory '*'
COPY --from=build /out/runtime/ /usr/local/lib/modelci/runtime/
COPY --from=build /out/modelci /usr/local/bin/modelci
# No USER: GitHub runs container actions as root (the workspace is only
# writable so); Jenkins and GitLab may run any uid, and modelci writes
# only to the workspace, RUNNER_TEMP and TMPDIR, never to HOME.
# No arguments → modelci run; a modelci subcommand or flag → modelci;
# anything else (Jenkins' cat, GitLab's sh) → exec'ed as given.
ENTRYPOINT ["/usr/local/bin/modelci", "entrypoint"]
