#!/usr/bin/env bash
# End-to-end test of the newcomer's path outside a clone: `go install
# github.com/modelci/modelci/cmd/modelci@VERSION`, then `modelci run` with no
# flags in a project of one's own. The runtime then comes from the module
# cache at the binary's own version (internal/image.RuntimeFinder).
#
# No network: this checkout is published as VERSION in a file-based module
# proxy (git archive of HEAD), and the dependencies come from this machine's
# module cache, read as a second file proxy. A fresh GOMODCACHE and GOBIN.
#
# Usage: scripts/e2e-install.sh   (from the repository root; needs go, git)
set -euo pipefail

VERSION=v0.99.0
MODULE=github.com/modelci/modelci

fail() {
	echo "e2e-install: FAIL: $*" >&2
	exit 1
}
say() { echo "== $*"; }

[ -f go.mod ] && grep -q "^module $MODULE\$" go.mod || fail "run from the root of the $MODULE checkout"
for c in go git; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is not installed"
done
WORK=$(mktemp -d)
cleanup() {
	chmod -R u+w "$WORK" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

say "publish HEAD as $MODULE@$VERSION in a file module proxy"
REAL_CACHE=$(go env GOMODCACHE)
P="$WORK/proxy/$MODULE/@v"
mkdir -p "$P"
echo "$VERSION" >"$P/list"
printf '{"Version":"%s","Time":"2026-01-01T00:00:00Z"}\n' "$VERSION" >"$P/$VERSION.info"
git show HEAD:go.mod >"$P/$VERSION.mod"
# A module zip holds no nested module (lint/): the go command rejects a
# go.mod below the root, and module proxies leave those directories out.
exclude=()
while IFS= read -r nested; do
	exclude+=(":(exclude)${nested%/go.mod}")
done < <(git ls-tree -r --name-only HEAD | grep '/go\.mod$')
git archive --format=zip --prefix="$MODULE@$VERSION/" -o "$P/$VERSION.zip" HEAD -- . "${exclude[@]}"

export GOPROXY="file://$WORK/proxy,file://$REAL_CACHE/cache/download"
export GOMODCACHE="$WORK/modcache"
export GOSUMDB=off
export GOFLAGS=
export GOBIN="$WORK/bin"
export GOTOOLCHAIN=local
unset GOPRIVATE GONOPROXY GONOSUMDB GOWORK || true

say "go install $MODULE/cmd/modelci@$VERSION"
timeout 900 go install "$MODULE/cmd/modelci@$VERSION"
go version -m "$GOBIN/modelci" | grep -q "mod[[:space:]]*$MODULE[[:space:]]*$VERSION" ||
	fail "the installed modelci does not carry $VERSION: $(go version -m "$GOBIN/modelci" | head -3)"

say "modelci run, no flags, in a project outside the module"
mkdir -p "$WORK/project"
cp examples/house-prices/modelci.yaml examples/house-prices/data.csv "$WORK/project/"
rc=0
(
	cd "$WORK/project"
	env -u GITHUB_ACTIONS -u GITHUB_EVENT_NAME -u GITLAB_CI -u JENKINS_URL -u CI \
		HOME="$WORK/home" XDG_CACHE_HOME="$WORK/cache" MODELCI_RUNTIME_DIR="$WORK/no-runtimes" \
		SOURCE_DATE_EPOCH=1700000000 timeout 900 "$GOBIN/modelci" run
) >"$WORK/run.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "modelci run: exit $rc: $(tail -20 "$WORK/run.out")"
grep -q "the module cache copy $GOMODCACHE/$MODULE@$VERSION" "$WORK/run.out" ||
	fail "the runtime was not built from the module cache: $(grep -i runtime "$WORK/run.out")"
[ -f "$WORK/project/dist/modelci/image/index.json" ] || fail "no image layout in dist/modelci/image"
grep -E "runtime|platforms|wrote" "$WORK/run.out"
echo "e2e-install: ok: go install @$VERSION, then modelci run outside the module wrote an image"
