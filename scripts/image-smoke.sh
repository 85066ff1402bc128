#!/usr/bin/env bash
# Starts the action image the ways the three CI systems start it, on a
# real Docker engine. CI's `image` job runs it (.github/workflows/ci.yml);
# the development machines have no Docker engine, where
# scripts/build-native.sh checks the same build commands natively.
#
#   GitHub   docker run as root with the checkout, owned by the runner's
#            user, at /github/workspace: train and diff --baseline git:HEAD
#            (git must accept the checkout: safe.directory).
#   GitLab   the image's own entrypoint with GitLab's `sh -c <find a
#            shell>` and the job script on standard input, as a non-root uid.
#   Jenkins  docker run -t -d -u UID:GID … IMAGE cat, `cat` must be the
#            container's process (Jenkins checks with docker top), then
#            docker exec sh -c '…' as that uid with HOME=/.
#   Read-only root filesystem as a non-root uid, HOME=/nonexistent: train,
#            diff with a git: baseline and package write only to the
#            workspace and TMPDIR.
#   The serving runtimes in the image are byte for byte the go build of
#            `modelci package`'s flags here, when the toolchains agree, so
#            model images packaged in the container and outside have the
#            same digest.
#
# Usage: bash scripts/image-smoke.sh IMAGE   (needs docker, git and go)
set -euo pipefail

IMAGE=${1:?usage: image-smoke.sh IMAGE}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNTIME_DIR=/usr/local/lib/modelci/runtime
# GitLab Runner's shell detection (the command it gives the container).
GITLAB_SHELL='if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash; elif [ -x /bin/bash ]; then exec /bin/bash; elif [ -x /usr/local/bin/sh ]; then exec /usr/local/bin/sh; elif [ -x /usr/bin/sh ]; then exec /usr/bin/sh; elif [ -x /bin/sh ]; then exec /bin/sh; elif [ -x /busybox/sh ]; then exec /busybox/sh; else echo shell not found; exit 1; fi'
PASSED=0

say() { printf '== %s\n' "$*"; }
ok() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$*"
}
fail() {
	printf 'image-smoke: FAIL: %s\n' "$*" >&2
	exit 1
}

for c in docker git go; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is not installed"
done
UIDGID="$(id -u):$(id -g)"
[ "$(id -u)" != 0 ] || fail "run as a non-root user: the checks need a workspace owned by someone else than the container's root"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/modelci-image-smoke.XXXXXX")
CID=""
cleanup() {
	local rc=$?
	if [ -n "$CID" ]; then
		docker rm -f "$CID" >/dev/null 2>&1 || true
	fi
	# Files the root container wrote are root's: hand them back first.
	docker run --rm -v "$WORK:/w" "$IMAGE" chown -R "$UIDGID" /w >/dev/null 2>&1 || true
	rm -rf "$WORK"
	if [ "$rc" -ne 0 ]; then
		printf 'image-smoke: failed (exit %d)\n' "$rc" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# workspace NAME: a git checkout of the example project owned by this user.
workspace() {
	local ws=$WORK/$1
	cp -R examples/house-prices "$ws"
	git -C "$ws" init -q -b main
	git -C "$ws" add -A
	git -C "$ws" -c user.name=ci -c user.email=ci@example.com commit -q -m example
	mkdir -p "$ws/tmp"
	printf '%s\n' "$ws"
}

# expect_rc WANT CMD…: run CMD, output in $WORK/out, exit status WANT.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want:
$(cat "$WORK/out")"
}

say "the image"
docker image inspect -f 'size {{.Size}} bytes, entrypoint {{json .Config.Entrypoint}}, cmd {{json .Config.Cmd}}, user "{{.Config.User}}"' "$IMAGE"
[ "$(docker image inspect -f '{{json .Config.Entrypoint}}' "$IMAGE")" = '["/usr/local/bin/modelci","entrypoint"]' ] ||
	fail "unexpected entrypoint"
[ -z "$(docker image inspect -f '{{.Config.User}}' "$IMAGE")" ] || fail "the image sets a USER"
expect_rc 0 docker run --rm "$IMAGE" --version
grep -q '^modelci version ' "$WORK/out" || fail "--version: $(cat "$WORK/out")"
expect_rc 0 docker run --rm "$IMAGE" help package
grep -q 'OCI image' "$WORK/out" || fail "help package: $(cat "$WORK/out")"
ok "flags and subcommands go to modelci"
expect_rc 0 docker run --rm "$IMAGE" sh -c "command -v cat git && git --version && test -s /etc/ssl/certs/ca-certificates.crt && ls $RUNTIME_DIR/linux-amd64/modelci-serve $RUNTIME_DIR/linux-arm64/modelci-serve"
ok "sh, cat, git, CA certificates and both runtimes are there"
expect_rc 127 docker run --rm "$IMAGE" modelci-no-such-program
ok "a missing program exits 127"

say "GitHub: root, the checkout owned by uid $(id -u) at /github/workspace"
WS=$(workspace github)
mkdir -p "$WORK/github-home"
GH=(docker run --rm -w /github/workspace -v "$WS:/github/workspace" -v "$WORK/github-home:/github/home" -e HOME=/github/home -e CI=true)
expect_rc 0 "${GH[@]}" "$IMAGE" train --config modelci.yaml --out dist/model
expect_rc 0 "${GH[@]}" "$IMAGE" diff --config modelci.yaml --model dist/model --baseline git:HEAD --out dist/report.md
[ -s "$WS/dist/report.md" ] || fail "diff wrote no report"
ok "train and diff --baseline git:HEAD as root on another user's checkout"
# The control: without the image's system git config, git refuses it.
expect_rc 128 "${GH[@]}" -e GIT_CONFIG_NOSYSTEM=1 "$IMAGE" git rev-parse HEAD
grep -q 'dubious ownership' "$WORK/out" || fail "git without safe.directory: $(cat "$WORK/out")"
ok "(without the image's safe.directory git refuses the checkout)"

say "GitLab: the entrypoint with GitLab's shell detection, the job script on stdin, uid $UIDGID"
WS=$(workspace gitlab)
# shellcheck disable=SC2016 # the job's shell expands it
printf 'set -e\nmodelci --version\nmodelci train --config modelci.yaml --out dist/model\nmodelci package --model dist/model --oci-layout dist/image\necho "gitlab job done as $(id -u)"\n' >"$WORK/gitlab-job.sh"
docker run --rm -i -u "$UIDGID" -v "$WS:/builds/acme/project" -w /builds/acme/project "$IMAGE" sh -c "$GITLAB_SHELL" \
	<"$WORK/gitlab-job.sh" >"$WORK/out" 2>&1 || fail "the GitLab-style job failed: $(cat "$WORK/out")"
grep -qx "gitlab job done as $(id -u)" "$WORK/out" || fail "the GitLab-style job did not finish: $(cat "$WORK/out")"
grep -qF "from $RUNTIME_DIR/linux-arm64/modelci-serve" "$WORK/out" || fail "package did not use the image's runtimes: $(cat "$WORK/out")"
ok "GitLab job: train and package with the image's runtimes"

say "Jenkins: docker.image(…).inside { } — cat, then docker exec as uid $UIDGID"
WS=$(workspace jenkins)
CID=$(docker run -t -d -u "$UIDGID" -w "$WS" -v "$WS:$WS:rw" -e JENKINS=1 "$IMAGE" cat)
sleep 1
docker top "$CID" -eo pid,comm >"$WORK/top"
awk 'NR > 1 { print $2 }' "$WORK/top" | grep -qx cat || fail "cat is not the container's process (docker top):
$(cat "$WORK/top")"
ok "the container runs cat, as Jenkins checks"
# shellcheck disable=SC2016 # the container's shell expands it
expect_rc 0 docker exec "$CID" sh -c 'set -e; echo "uid $(id -u) HOME=$HOME"; modelci train --config modelci.yaml --out dist/model; modelci package --model dist/model --oci-layout dist/image'
grep -q "^uid $(id -u) " "$WORK/out" || fail "docker exec did not run as $UIDGID: $(cat "$WORK/out")"
grep -qF "from $RUNTIME_DIR/linux-amd64/modelci-serve" "$WORK/out" || fail "package did not use the image's runtimes: $(cat "$WORK/out")"
docker rm -f "$CID" >/dev/null
CID=""
ok "sh steps: train and package as uid $(id -u) ($(grep -o 'HOME=[^ ]*' "$WORK/out"))"

say "read-only root filesystem, uid $UIDGID, HOME=/nonexistent, TMPDIR in the workspace"
WS=$(workspace readonly)
expect_rc 0 docker run --rm --read-only -u "$UIDGID" -e HOME=/nonexistent -e TMPDIR=/ws/tmp -v "$WS:/ws" -w /ws "$IMAGE" \
	sh -c 'set -e; modelci train --config modelci.yaml --out dist/model; modelci diff --config modelci.yaml --model dist/model --baseline git:HEAD --out dist/report.md; modelci package --model dist/model --oci-layout dist/image'
[ -f "$WS/dist/image/index.json" ] || fail "no OCI layout"
ok "train, diff --baseline git:HEAD and package write only to the workspace and TMPDIR"

say "reproducible: the image's runtimes are the go build of modelci package's flags"
for arch in amd64 arm64; do
	docker run --rm "$IMAGE" cat "$RUNTIME_DIR/linux-$arch/modelci-serve" >"$WORK/image-$arch"
	CGO_ENABLED=0 GOFLAGS='' GOWORK=off GOAMD64=v1 GOARM64=v8.0 GOOS=linux GOARCH=$arch \
		go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$WORK/local-$arch" ./cmd/modelci-serve
	in_image=$(go version "$WORK/image-$arch" | sed 's/.*: //')
	here=$(go version "$WORK/local-$arch" | sed 's/.*: //')
	[ "$in_image" = "$here" ] || fail "linux/$arch: the image's runtime was built with $in_image, go here is $here: make the Dockerfile's golang image and go.mod's go line agree"
	cmp -s "$WORK/image-$arch" "$WORK/local-$arch" || fail "linux/$arch: the image's runtime differs from a local go build with $here"
	ok "linux/$arch runtime: identical to a local go build ($here, sha256 $(sha256sum "$WORK/local-$arch" | cut -c1-16))"
done

printf 'image-smoke: %d passed, 0 failed\n' "$PASSED"
