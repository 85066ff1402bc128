#!/usr/bin/env bash
# Builds what the Dockerfile builds, with the same go build commands, on
# this machine (no Docker engine here), and uses the result the way the
# image is used:
#
#  1. modelci-serve for linux/amd64 and linux/arm64 and modelci for both,
#     CGO_ENABLED=0 -trimpath and `modelci package`'s flags; the build
#     settings recorded in each binary are checked with `go version -m`.
#  2. The container entrypoint (`modelci entrypoint …`, the image's
#     ENTRYPOINT): modelci subcommands and flags, GitLab's sh, Jenkins' cat,
#     exit codes, a missing program.
#  3. As an arbitrary non-root uid with no passwd entry, HOME=/nonexistent
#     and TMPDIR in the workspace, as Jenkins runs the image: modelci train,
#     modelci diff with a git: baseline (a worktree in TMPDIR), and modelci
#     package with the prebuilt runtimes from MODELCI_RUNTIME_DIR. Nothing
#     may be written outside the workspace.
#  4. The image packaged with these runtimes has the same digest as the one
#     packaged with the runtimes of `modelci package`'s own go build.
#
# As root, step 3 drops to uid 64999 with setpriv; otherwise it runs as
# the current (non-root) user. Needs go and git. Run from anywhere:
#   bash scripts/build-native.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

EPOCH=1700000000
TEST_UID=64999
PASSED=0

say() { printf '== %s\n' "$*"; }
ok() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$*"
}
fail() {
	printf 'build-native: FAIL: %s\n' "$*" >&2
	exit 1
}

for c in go git; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is not installed"
done

OUT=$(mktemp -d "${TMPDIR:-/tmp}/modelci-build-native.XXXXXX")
cleanup() {
	local rc=$?
	rm -rf "$OUT"
	if [ "$rc" -ne 0 ]; then
		printf 'build-native: failed (exit %d)\n' "$rc" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$OUT"

# The environment of the Dockerfile's build stage (ENV), which is what
# `modelci package` pins for its own runtime builds (internal/image).
export CGO_ENABLED=0 GOFLAGS='' GOWORK=off GOAMD64=v1 GOARM64=v8.0

say "build: the Dockerfile's go build commands"
# Dockerfile: RUN for arch in amd64 arm64; do GOOS=linux GOARCH=$arch go build … ./cmd/modelci-serve
for arch in amd64 arm64; do
	GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
		-o "$OUT/runtime/linux-$arch/modelci-serve" ./cmd/modelci-serve
done
# Dockerfile: RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build … ./cmd/modelci, once per image platform.
for arch in amd64 arm64; do
	GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
		-o "$OUT/bin/linux-$arch/modelci" ./cmd/modelci
done
for f in "$OUT"/runtime/*/modelci-serve "$OUT"/bin/*/modelci; do
	arch=$(basename "$(dirname "$f")")
	arch=${arch#linux-}
	info=$(go version -m "$f")
	for want in "build	-trimpath=true" "build	CGO_ENABLED=0" "build	GOOS=linux" "build	GOARCH=$arch"; do
		grep -qxF "	$want" <<<"$info" || fail "$f: go version -m lacks \"$want\":
$info"
	done
	if grep -q 'vcs\.' <<<"$info"; then
		fail "$f carries VCS stamps (-buildvcs=false)"
	fi
	# -trimpath keeps -ldflags out of the build info: check its effects.
	[ -z "$(go tool buildid "$f")" ] || fail "$f has a build ID (-ldflags=-buildid=)"
	if go tool nm "$f" >/dev/null 2>&1; then
		fail "$f has a symbol table (-ldflags=-s)"
	fi
	printf '     %-36s %s  %s\n' "${f#"$OUT"/}" "$(sha256sum "$f" | cut -c1-16)" "$(head -n 1 <<<"$info" | sed 's/.*: //')"
done
ok "4 binaries: static (CGO_ENABLED=0), -trimpath, stripped, no build ID, no VCS stamp"

HOST_ARCH=$(go env GOARCH)
MODELCI="$OUT/bin/linux-$HOST_ARCH/modelci"
[ -x "$MODELCI" ] || fail "no modelci for this machine's linux/$HOST_ARCH"

say "entrypoint: what the image's ENTRYPOINT runs"
# run_ep WANT_RC ARGS…: run `modelci entrypoint ARGS…`, stdin from $IN;
# its stdout+stderr land in $OUT/ep.out.
IN=/dev/null
run_ep() {
	local want=$1 rc=0
	shift
	"$MODELCI" entrypoint "$@" <"$IN" >"$OUT/ep.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "modelci entrypoint $*: exit $rc, want $want: $(cat "$OUT/ep.out")"
}
run_ep 0 --version
grep -q '^modelci version ' "$OUT/ep.out" || fail "entrypoint --version: $(cat "$OUT/ep.out")"
run_ep 0 -v
grep -q '^modelci version ' "$OUT/ep.out" || fail "entrypoint -v: $(cat "$OUT/ep.out")"
ok "--version and -v go to modelci"
run_ep 0 help package
grep -q 'OCI image' "$OUT/ep.out" || fail "entrypoint help package: $(cat "$OUT/ep.out")"
run_ep 0 modelci train --help
grep -q 'modelci train' "$OUT/ep.out" || fail "entrypoint modelci train --help: $(cat "$OUT/ep.out")"
ok "subcommands (help package, modelci train --help) go to modelci"
# Without arguments the container runs `modelci run`: the same output and
# exit status as calling it directly (outside CI it refuses to run).
rc_run=0
env -i PATH="$PATH" "$MODELCI" run >"$OUT/run.out" 2>&1 || rc_run=$?
rc_ep=0
env -i PATH="$PATH" "$MODELCI" entrypoint >"$OUT/ep.out" 2>&1 || rc_ep=$?
if [ "$rc_ep" != "$rc_run" ] || ! cmp -s "$OUT/run.out" "$OUT/ep.out"; then
	fail "entrypoint without arguments (exit $rc_ep: $(cat "$OUT/ep.out")) differs from modelci run (exit $rc_run: $(cat "$OUT/run.out"))"
fi
ok "no arguments = modelci run (exit $rc_run)"
IN=$OUT/script.sh
# shellcheck disable=SC2016 # the job script expands it, not this shell
printf 'set -e\necho "job $((6 * 7))"\n' >"$IN"
run_ep 0 sh
[ "$(cat "$OUT/ep.out")" = "job 42" ] || fail "GitLab-style sh with the script on stdin: $(cat "$OUT/ep.out")"
run_ep 0 sh -c 'if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; elif [ -x /bin/bash ]; then exec /bin/bash; else exec sh; fi'
[ "$(cat "$OUT/ep.out")" = "job 42" ] || fail "GitLab's shell detection: $(cat "$OUT/ep.out")"
ok "GitLab: sh and its shell detection run the job script from stdin"
printf 'jenkins\n' >"$IN"
run_ep 0 cat
[ "$(cat "$OUT/ep.out")" = "jenkins" ] || fail "Jenkins-style cat: $(cat "$OUT/ep.out")"
IN=/dev/null
run_ep 7 sh -c 'exit 7'
run_ep 127 modelci-no-such-program
grep -q 'neither a modelci command' "$OUT/ep.out" || fail "a missing program: $(cat "$OUT/ep.out")"
ok "Jenkins: cat is exec'ed; exit codes pass through; a missing program exits 127"

say "as a non-root uid with HOME=/nonexistent, the runtimes from MODELCI_RUNTIME_DIR"
WS=$OUT/ws
mkdir -p "$WS/tmp"
cp -R examples/house-prices "$WS/project"
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || fail "setpriv is not installed (util-linux)"
	chown -R "$TEST_UID:$TEST_UID" "$WS"
	AS_USER=(setpriv --reuid "$TEST_UID" --regid "$TEST_UID" --clear-groups --)
	RUN_UID=$TEST_UID
else
	AS_USER=()
	RUN_UID=$(id -u)
fi
[ ! -e /nonexistent ] || fail "/nonexistent exists"
touch "$OUT/stamp"
sleep 1
# as_user CMD…: run in the project as the uid, with an environment like a
# Jenkins container's: no passwd entry, no writable HOME.
as_user() {
	(cd "$WS/project" && env -i PATH="$PATH" HOME=/nonexistent TMPDIR="$WS/tmp" \
		MODELCI_RUNTIME_DIR="$OUT/runtime" SOURCE_DATE_EPOCH=$EPOCH \
		GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.com \
		GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.com \
		"${AS_USER[@]}" "$@")
}
as_user id -u >"$OUT/id.out"
[ "$(cat "$OUT/id.out")" = "$RUN_UID" ] || fail "ran as uid $(cat "$OUT/id.out"), want $RUN_UID"
[ "$RUN_UID" != 0 ] || fail "the smoke test must not run as root"
if ! { as_user git init -q -b main . && as_user git add -A && as_user git commit -q -m example; }; then
	fail "git as uid $RUN_UID"
fi
as_user "$MODELCI" train --config modelci.yaml --out dist/model >"$OUT/train.out" 2>&1 ||
	fail "train as uid $RUN_UID: $(cat "$OUT/train.out")"
ok "train as uid $RUN_UID"
rc=0
as_user "$MODELCI" diff --config modelci.yaml --model dist/model --baseline git:HEAD --format json --out dist/report.json >"$OUT/diff.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "diff --baseline git:HEAD as uid $RUN_UID: exit $rc: $(cat "$OUT/diff.out")"
[ -s "$WS/project/dist/report.json" ] || fail "diff wrote no report"
[ -z "$(ls -A "$WS/tmp")" ] || fail "diff left $(ls -A "$WS/tmp") in TMPDIR"
ok "diff --baseline git:HEAD as uid $RUN_UID (worktree in TMPDIR, removed)"
META=(--source https://example.com/modelci --revision 0123456789abcdef0123456789abcdef01234567 --version 0.0.0-native)
as_user "$MODELCI" package --model dist/model --oci-layout dist/image "${META[@]}" >"$OUT/package.out" 2>&1 ||
	fail "package as uid $RUN_UID: $(cat "$OUT/package.out")"
for arch in amd64 arm64; do
	grep -qF "from $OUT/runtime/linux-$arch/modelci-serve" "$OUT/package.out" ||
		fail "the linux/$arch image does not use the prebuilt runtime: $(cat "$OUT/package.out")"
done
[ -f "$WS/project/dist/image/index.json" ] || fail "no OCI layout at dist/image"
PREBUILT=$(tail -n 1 "$OUT/package.out")
ok "package as uid $RUN_UID with the prebuilt runtimes: ${PREBUILT#*@}"
[ ! -e /nonexistent ] || fail "something created /nonexistent (HOME)"
stray=$(find /tmp /var/tmp /dev/shm "$ROOT" -xdev -path "$OUT" -prune -o -user "$RUN_UID" -newer "$OUT/stamp" -print 2>/dev/null || true)
[ -z "$stray" ] || fail "uid $RUN_UID wrote outside the workspace and TMPDIR:
$stray"
ok "nothing written outside the workspace and TMPDIR (HOME=/nonexistent untouched)"

say "reproducible: the same image with runtimes from modelci package's own go build"
# No prebuilt runtimes: modelci package builds them from this module with
# go build, the way a user's machine without the image does.
rc=0
env -i PATH="$PATH" HOME="$HOME" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" \
	GOPROXY="$(go env GOPROXY)" GOTOOLCHAIN="$(go env GOTOOLCHAIN)" SOURCE_DATE_EPOCH=$EPOCH \
	MODELCI_RUNTIME_DIR="$OUT/no-runtimes" \
	"$MODELCI" package --model "$WS/project/dist/model" --config "$WS/project/modelci.yaml" \
	--oci-layout "$OUT/image-gobuild" "${META[@]}" >"$OUT/package-gobuild.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "package with go build: exit $rc: $(cat "$OUT/package-gobuild.out")"
grep -q 'go build ./cmd/modelci-serve' "$OUT/package-gobuild.out" ||
	fail "the runtimes did not come from go build: $(cat "$OUT/package-gobuild.out")"
GOBUILD=$(tail -n 1 "$OUT/package-gobuild.out")
[ "${GOBUILD#*@}" = "${PREBUILT#*@}" ] ||
	fail "digest ${GOBUILD#*@} with go-built runtimes, ${PREBUILT#*@} with the Dockerfile's build commands:
$(cat "$OUT/package.out")
$(cat "$OUT/package-gobuild.out")"
ok "same digest with go-built runtimes: ${GOBUILD#*@}"

printf 'build-native: %d passed, 0 failed\n' "$PASSED"
