#!/usr/bin/env bash
# End-to-end test of `modelci package`: push the example model's image to a
# real registry (Debian's docker-registry, htpasswd auth, on 127.0.0.1),
# check it with independent clients (skopeo for both platforms, umoci for
# the amd64 image), then chroot into the unpacked root filesystem, start the
# image's own entrypoint exactly as its config says, and call its health
# and inference endpoints. Also checks: a wrong password fails clearly and
# pushes nothing; a re-push uploads no blob; a new model uploads only its
# model layer (and the two configs); another repository mounts the layers
# instead of uploading them; the same inputs give the same digest; the
# image is at most 12 MiB compressed.
#
# Needs root (chroot) and: go docker-registry skopeo umoci htpasswd curl
# python3. It installs nothing. On Debian:
#   apt-get install -y docker-registry skopeo umoci apache2-utils curl python3
# No Docker engine is used.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

MAX_IMAGE_BYTES=$((12 * 1024 * 1024))
EPOCH=1700000000
USER_NAME=e2e
PASSWORD="e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

say() { printf '== %s\n' "$*"; }
fail() {
	printf 'e2e-image: FAIL: %s\n' "$*" >&2
	exit 1
}

for c in go docker-registry skopeo umoci htpasswd curl python3 chroot timeout; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is not installed (apt-get install -y docker-registry skopeo umoci apache2-utils curl python3)"
done
[ "$(id -u)" = 0 ] || fail "run as root: the image is started with chroot"
CHROOT=$(command -v chroot)

WORK=$(mktemp -d /tmp/modelci-e2e-image.XXXXXX)
REG_PID=""
SERVE_PID=""
cleanup() {
	local rc=$?
	if [ -n "$SERVE_PID" ]; then
		kill "$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
	fi
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ]; then
		for f in registry.log serve.log package.out package.err; do
			if [ -s "$WORK/$f" ]; then
				printf -- '--- %s (last 30 lines)\n' "$f" >&2
				tail -n 30 "$WORK/$f" >&2
			fi
		done
		printf 'e2e-image: failed (exit %d)\n' "$rc" >&2
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL CODE SECONDS [PID]: wait until URL answers with CODE.
wait_http() {
	local url=$1 want=$2 secs=$3 pid=${4:-} code
	for _ in $(seq $((secs * 10))); do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			fail "the process behind $url exited"
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[ "$code" = "$want" ] && return 0
		sleep 0.1
	done
	fail "$url did not answer $want within ${secs}s (last: ${code:-none})"
}

# json FILE EXPR: evaluate a Python expression over the JSON document j.
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# Build the CLI once; the runtime is built from this checkout's
# cmd/modelci-serve by `modelci package` itself (no prebuilt copy, a fresh
# runtime cache, the Go build cache kept).
say "build modelci"
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}"
export GOFLAGS="${GOFLAGS:-}"
[ -d cmd/modelci-serve ] || fail "cmd/modelci-serve is missing"
timeout 600 go build -o "$WORK/bin/modelci" ./cmd/modelci
MODELCI="$WORK/bin/modelci"
mkdir -p "$WORK/empty-runtime-dir" "$WORK/cache"
export MODELCI_RUNTIME_DIR="$WORK/empty-runtime-dir"
export XDG_CACHE_HOME="$WORK/cache"
export SOURCE_DATE_EPOCH=$EPOCH
unset GITHUB_ACTIONS GITHUB_EVENT_NAME GITHUB_EVENT_PATH GITLAB_CI GITHUB_TOKEN CI_REGISTRY CI_REGISTRY_USER CI_REGISTRY_PASSWORD DOCKER_CONFIG || true
export DOCKER_CONFIG="$WORK/docker-config" # no stray credentials

say "train the example model"
timeout 300 "$MODELCI" train --config examples/house-prices/modelci.yaml --out "$WORK/model" >"$WORK/train.out"
MODEL_NAME=$(json "$WORK/model/model.json" 'j["name"]')

say "start docker-registry with htpasswd auth"
PORT=$(free_port)
REG="127.0.0.1:$PORT"
REPO="$REG/$MODEL_NAME"
htpasswd -Bbn "$USER_NAME" "$PASSWORD" >"$WORK/htpasswd"
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $WORK/registry-data
  delete:
    enabled: true
http:
  addr: $REG
  secret: modelci-e2e-not-a-secret
auth:
  htpasswd:
    realm: modelci-e2e
    path: $WORK/htpasswd
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
wait_http "http://$REG/v2/" 401 30 "$REG_PID"

# Completed blob uploads and cross-repository mounts in the registry's
# access log.
UPLOAD_RE='"PUT /v2/[^ ]*/blobs/uploads/[^ ]*digest=[^ ]* HTTP/[0-9.]+" 201'
MOUNT_RE='"POST /v2/[^ ]*/blobs/uploads/[^ ]*mount=[^ ]* HTTP/[0-9.]+" 201'
# blob_puts: completed blob uploads so far.
blob_puts() {
	grep -cE "$UPLOAD_RE" "$WORK/registry.log" || true
}
# blob_mounts: completed blob mounts so far.
blob_mounts() {
	grep -cE "$MOUNT_RE" "$WORK/registry.log" || true
}
# uploaded_since N: the digests of blob uploads after the first N.
uploaded_since() {
	grep -E "$UPLOAD_RE" "$WORK/registry.log" | tail -n +$(($1 + 1)) |
		sed -E 's/.*digest=(sha256(%3A|:)[0-9a-f]{64}).*/\1/; s/%3A/:/' | sort -u
}

# package_push ARGS…: run modelci package with the password on stdin.
package_push() {
	local pw=$1
	shift
	printf '%s\n' "$pw" | timeout 600 "$MODELCI" package --model "$WORK/model" --registry-username "$USER_NAME" --registry-password-stdin "$@" \
		>"$WORK/package.out" 2>"$WORK/package.err"
}

say "a wrong password fails clearly and pushes nothing"
before=$(blob_puts)
if package_push "not-the-password" --image "$REPO" --tag e2e; then
	fail "push with a wrong password succeeded"
fi
grep -q "registry $REG" "$WORK/package.err" || fail "the error does not name the registry: $(cat "$WORK/package.err")"
grep -q "registry_username/registry_password" "$WORK/package.err" || fail "the error does not say which credentials were tried"
if grep -q "not-the-password" "$WORK/package.out" "$WORK/package.err"; then
	fail "the password was printed"
fi
[ "$(blob_puts)" = "$before" ] || fail "blobs were uploaded with a wrong password"
catalog=$(curl -sf -u "$USER_NAME:$PASSWORD" "http://$REG/v2/_catalog")
[ "$catalog" = '{"repositories":[]}' ] || fail "the registry holds repositories after a refused push: $catalog"
sed -n '1p' "$WORK/package.err" | cut -c1-160

say "push with modelci package"
package_push "$PASSWORD" --image "$REPO" --tag e2e --tag latest --oci-layout "$WORK/dist/image"
cat "$WORK/package.out"
REF=$(tail -n 1 "$WORK/package.out")
[[ "$REF" =~ ^$REG/$MODEL_NAME@sha256:[0-9a-f]{64}$ ]] || fail "the last line is not $REPO@sha256:…: $REF"
DIGEST=${REF#*@}
first_push=$(blob_puts)
[ "$first_push" -eq 6 ] || fail "the first push uploaded $first_push blobs, want 6 (base, 2 runtimes, model, 2 configs)"

SKOPEO=(skopeo --override-os linux)
CREDS=(--creds "$USER_NAME:$PASSWORD" --tls-verify=false)

say "skopeo: the index and both platforms"
skopeo inspect "${CREDS[@]}" --raw "docker://$REPO:e2e" >"$WORK/index.json"
got=$(python3 -c 'import hashlib, sys; print("sha256:" + hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$WORK/index.json")
[ "$got" = "$DIGEST" ] || fail "the tag e2e is $got, modelci pushed $DIGEST"
skopeo inspect "${CREDS[@]}" --raw "docker://$REPO:latest" | cmp -s - "$WORK/index.json" || fail "latest is not the pushed index"
[ "$(json "$WORK/index.json" 'j["mediaType"]')" = "application/vnd.oci.image.index.v1+json" ] || fail "the index is not an OCI index"
[ "$(json "$WORK/index.json" '" ".join(sorted(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in j["manifests"]))')" = "linux/amd64 linux/arm64" ] ||
	fail "the index platforms are not linux/amd64 and linux/arm64"
for arch in amd64 arm64; do
	"${SKOPEO[@]}" --override-arch "$arch" inspect "${CREDS[@]}" "docker://$REPO:e2e" >"$WORK/inspect-$arch.json"
	[ "$(json "$WORK/inspect-$arch.json" 'j["Architecture"]')" = "$arch" ] || fail "skopeo picked the wrong image for $arch"
	[ "$(json "$WORK/inspect-$arch.json" 'j["Labels"]["io.modelci.model.name"]')" = "$MODEL_NAME" ] || fail "$arch: no io.modelci.model.name label"
	pdigest=$(json "$WORK/index.json" "[m['digest'] for m in j['manifests'] if m['platform']['architecture'] == '$arch'][0]")
	skopeo inspect "${CREDS[@]}" --raw "docker://$REPO@$pdigest" >"$WORK/manifest-$arch.json"
	skopeo inspect "${CREDS[@]}" --config --raw "docker://$REPO@$pdigest" >"$WORK/config-$arch.json"
	python3 - "$WORK/manifest-$arch.json" "$WORK/config-$arch.json" "$arch" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))
arch = sys.argv[3]
def check(ok, what):
    if not ok:
        sys.exit(f"{arch}: {what}")
check(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json", "manifest media type " + m["mediaType"])
check(m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json", "config media type")
check(all(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip" for l in m["layers"]), "layer media types")
kinds = [l.get("annotations", {}).get("io.modelci.layer") for l in m["layers"]]
check(kinds == ["base", "runtime", "model"], f"layer annotations {kinds}")
a = m.get("annotations", {})
for k in ("org.opencontainers.image.created", "org.opencontainers.image.title", "io.modelci.metrics", "io.modelci.data.sha256", "io.modelci.model.type"):
    check(k in a, "manifest annotation " + k + " missing")
json.loads(a["io.modelci.metrics"])
cfg = c["config"]
check(c["architecture"] == arch and c["os"] == "linux", "config platform")
check(cfg["User"] == "65532:65532", "user " + cfg.get("User", ""))
check("8080/tcp" in cfg.get("ExposedPorts", {}), "ExposedPorts")
check(any(e.startswith("MODELCI_MODEL_DIR=/models/") for e in cfg["Env"]), "Env lacks MODELCI_MODEL_DIR")
check(c["created"] == "2023-11-14T22:13:20Z", "created is not SOURCE_DATE_EPOCH: " + c["created"])
EOF
done
echo "index $DIGEST: OCI media types; linux/amd64 and linux/arm64"

say "size"
python3 - "$WORK/index.json" "$WORK/manifest-amd64.json" "$WORK/manifest-arm64.json" "$MAX_IMAGE_BYTES" <<'EOF'
import json, os, sys
idx = json.load(open(sys.argv[1]))
blobs = {}
total = os.path.getsize(sys.argv[1])
for d in idx["manifests"]:
    blobs[d["digest"]] = d["size"]
for p in sys.argv[2:4]:
    m = json.load(open(p))
    blobs[m["config"]["digest"]] = m["config"]["size"]
    for l in m["layers"]:
        blobs[l["digest"]] = l["size"]
total += sum(blobs.values())
limit = int(sys.argv[4])
print(f"image {total} bytes ({total / 2**20:.2f} MiB) compressed, both platforms, every blob once; limit {limit / 2**20:.0f} MiB")
if total > limit:
    sys.exit("the image is larger than the limit")
EOF

say "umoci: the README's recipe unpacks the amd64 image of the layout written with the push"
AMD64_DIGEST=$(json "$WORK/index.json" "[m['digest'] for m in j['manifests'] if m['platform']['architecture'] == 'amd64'][0]")
[ "$(json "$WORK/dist/image/index.json" "sorted(set(m['digest'] for m in j['manifests']))")" = "['$DIGEST']" ] ||
	fail "the layout's tags do not all name the pushed index $DIGEST"
# latest names the multi-platform index, which umoci cannot pick from.
if (cd "$WORK" && umoci unpack --rootless --image dist/image:latest dist/ambiguous >"$WORK/umoci-ambiguous.out" 2>&1); then
	fail "umoci unpacked the multi-platform index; the README's skopeo step is then not needed"
fi
grep -q "ambiguous" "$WORK/umoci-ambiguous.out" || fail "umoci on the index: $(cat "$WORK/umoci-ambiguous.out")"
# The README's recipe, verbatim (see "The image: modelci package").
(
	cd "$WORK"
	timeout 120 skopeo copy --override-os linux --override-arch amd64 oci:dist/image:latest oci:dist/image-amd64:latest
	timeout 120 umoci unpack --rootless --image dist/image-amd64:latest dist/bundle
) >"$WORK/recipe.out" 2>&1 || fail "the README's umoci recipe failed: $(cat "$WORK/recipe.out")"
[ "$(json "$WORK/dist/image-amd64/index.json" "[m['digest'] for m in j['manifests']]")" = "['$AMD64_DIGEST']" ] ||
	fail "skopeo copy did not select the amd64 manifest $AMD64_DIGEST unchanged"
BUNDLE="$WORK/dist/bundle"
ROOTFS="$BUNDLE/rootfs"
[ -x "$ROOTFS/usr/local/bin/modelci-serve" ] || fail "the rootfs has no runtime"
[ -f "$ROOTFS/models/$MODEL_NAME/model.json" ] || fail "the rootfs has no /models/$MODEL_NAME/model.json"
cmp -s "$ROOTFS/models/$MODEL_NAME/model.json" "$WORK/model/model.json" || fail "the model in the image differs from the trained one"

say "chroot: start the image's own entrypoint"
mapfile -t ARGS < <(json "$BUNDLE/config.json" '"\n".join(j["process"]["args"])')
mapfile -t ENVS < <(json "$BUNDLE/config.json" '"\n".join(j["process"]["env"])')
UIDGID=$(json "$BUNDLE/config.json" 'str(j["process"]["user"]["uid"]) + ":" + str(j["process"]["user"]["gid"])')
CWD=$(json "$BUNDLE/config.json" 'j["process"].get("cwd", "/")')
[ "${ARGS[0]}" = /usr/local/bin/modelci-serve ] || fail "unexpected entrypoint ${ARGS[*]}"
[ "$UIDGID" = 65532:65532 ] || fail "unexpected user $UIDGID"
SPORT=$(free_port)
echo "args: ${ARGS[*]}; user $UIDGID; cwd $CWD; env: ${ENVS[*]}"
(cd "$ROOTFS$CWD" && exec env -i "${ENVS[@]}" "MODELCI_ADDR=127.0.0.1:$SPORT" \
	"$CHROOT" --userspec="$UIDGID" "$ROOTFS" "${ARGS[@]}") >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
wait_http "http://127.0.0.1:$SPORT/v2/health/ready" 200 30 "$SERVE_PID"
echo "ready: GET /v2/health/ready 200"

say "infer"
head -n 2 examples/house-prices/data.csv >"$WORK/row.csv"
python3 - "$WORK/model/model.json" "$WORK/row.csv" >"$WORK/infer.json" <<'EOF'
import csv, json, sys
m = json.load(open(sys.argv[1]))
row = next(csv.DictReader(open(sys.argv[2])))
inputs = []
for f in m["features"]:
    if f["type"] == "numeric":
        inputs.append({"name": f["name"], "shape": [1], "datatype": "FP64", "data": [float(row[f["name"]])]})
    else:
        inputs.append({"name": f["name"], "shape": [1], "datatype": "BYTES", "data": [row[f["name"]]]})
print(json.dumps({"inputs": inputs}))
EOF
curl -sf --max-time 10 -H 'Content-Type: application/json' --data-binary @"$WORK/infer.json" \
	"http://127.0.0.1:$SPORT/v2/models/$MODEL_NAME/infer" >"$WORK/infer.out" || fail "POST /v2/models/$MODEL_NAME/infer failed"
"$MODELCI" predict --model "$WORK/model" --data "$WORK/row.csv" >"$WORK/predict.csv"
python3 - "$WORK/infer.out" "$WORK/predict.csv" <<'EOF'
import csv, json, math, sys
out = json.load(open(sys.argv[1]))
served = float(out["outputs"][0]["data"][0])
local = float(next(csv.DictReader(open(sys.argv[2])))["prediction"])
print(f"served prediction {served!r}, modelci predict {local!r}")
if not math.isclose(served, local, rel_tol=1e-9, abs_tol=1e-9):
    sys.exit("the served prediction differs from modelci predict")
EOF
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=""

say "reproducible: the same model and runtime give the same digest"
timeout 600 "$MODELCI" package --model "$WORK/model" --oci-layout "$WORK/layout-again" >"$WORK/package.out" 2>"$WORK/package.err"
again=$(tail -n 1 "$WORK/package.out")
[ "${again#*@}" = "$DIGEST" ] || fail "a second build gave ${again#*@}, the first $DIGEST"
echo "rebuilt: ${again#*@}"

say "re-push the same image: no blob is uploaded"
before=$(blob_puts)
package_push "$PASSWORD" --image "$REPO" --tag e2e --tag latest
[ "$(blob_puts)" = "$before" ] || fail "re-push uploaded $(($(blob_puts) - before)) blobs"
grep -q "pushed 0 blob(s)" "$WORK/package.out" || fail "modelci does not report 0 uploads: $(cat "$WORK/package.out")"
echo "re-push: 0 blobs uploaded (registry log)"

say "a new model uploads only its model layer and the configs"
mkdir -p "$WORK/example2"
cp examples/house-prices/data.csv "$WORK/example2/"
sed 's/alpha: 1.0/alpha: 5.0/' examples/house-prices/modelci.yaml >"$WORK/example2/modelci.yaml"
grep -q 'alpha: 5.0' "$WORK/example2/modelci.yaml" || fail "could not change the example's alpha"
"$MODELCI" train --config "$WORK/example2/modelci.yaml" --out "$WORK/model" >/dev/null
before=$(blob_puts)
package_push "$PASSWORD" --image "$REPO" --tag e2e2 --tag latest
NEW_DIGEST=$(tail -n 1 "$WORK/package.out")
NEW_DIGEST=${NEW_DIGEST#*@}
[ "$NEW_DIGEST" != "$DIGEST" ] || fail "a new model kept the digest"
skopeo inspect "${CREDS[@]}" --raw "docker://$REPO:e2e2" >"$WORK/index2.json"
pd=$(json "$WORK/index2.json" "[m['digest'] for m in j['manifests'] if m['platform']['architecture'] == 'amd64'][0]")
skopeo inspect "${CREDS[@]}" --raw "docker://$REPO@$pd" >"$WORK/manifest2.json"
want=$(json "$WORK/manifest2.json" '[l["digest"] for l in j["layers"] if l["annotations"]["io.modelci.layer"] == "model"][0]')
uploaded=$(uploaded_since "$before")
n=$(printf '%s\n' "$uploaded" | grep -c . || true)
printf '%s\n' "$uploaded" | grep -qx "$want" || fail "the new model layer $want was not uploaded"
runtime_layer=$(json "$WORK/manifest2.json" '[l["digest"] for l in j["layers"] if l["annotations"]["io.modelci.layer"] == "runtime"][0]')
if printf '%s\n' "$uploaded" | grep -qx "$runtime_layer"; then
	fail "the runtime layer was uploaded again"
fi
[ "$n" -eq 3 ] || fail "the new model uploaded $n blobs, want 3 (model layer + 2 configs): $uploaded"
echo "new model: uploaded $n blobs (the model layer and the two configs); runtime and base layers reused"

say "another repository mounts the shared layers instead of uploading them"
before=$(blob_puts)
mounts_before=$(blob_mounts)
package_push "$PASSWORD" --image "$REG/$MODEL_NAME-copy" --tag latest --mount-from "$REPO"
uploaded=$(uploaded_since "$before")
n=$(printf '%s\n' "$uploaded" | grep -c . || true)
mounts=$(($(blob_mounts) - mounts_before))
[ "$mounts" -eq 4 ] || fail "mounted $mounts blobs from $REPO, want 4 (base, 2 runtimes, model)"
[ "$n" -eq 2 ] || fail "the copy uploaded $n blobs, want only the 2 configs: $uploaded"
grep -q "4 mounted" "$WORK/package.out" || fail "modelci does not report the mounts: $(cat "$WORK/package.out")"
echo "mount: 4 layers mounted from $REPO, 2 configs uploaded"

say "ok"
echo "e2e-image: all checks passed: $REF"
