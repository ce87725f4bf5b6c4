#!/usr/bin/env bash
# Builds safeline's MongoDB-compatible server (tools/mongo-server: FerretDB 1.24.2 embedded, with
# the patches in tools/mongo-server/patches applied) and prints the absolute path of the binary.
#
#   bash scripts/build-mongo-server.sh          # -> /root/.cache/safeline/mongo-server/<hash>/mongo-server
#
# stdout: exactly one line, the binary's absolute path. Everything else goes to stderr.
#
# The binary is cached in ${SAFELINE_CACHE_DIR:-$HOME/.cache/safeline}/mongo-server/<hash>/, where
# <hash> covers main.go, go.mod, go.sum, patches/*.patch, this script and the Go version; a cache
# hit returns at once. On a miss it copies the FerretDB module source out of the Go module cache
# (`go mod download -json`), applies every patch with `patch -p1 --forward --fuzz=0` (any hunk
# that does not apply fails the build), and builds against the copy through a generated modfile
# carrying a `replace` directive, so the committed go.mod/go.sum stay plain. The binary is built
# under a temporary name and renamed into place, and builds hold a lock (flock), so concurrent or
# interrupted runs never leave a partial binary. See shared/reference/mongodb-compat.md (steering docs).
set -euo pipefail

log() { printf 'build-mongo-server: %s\n' "$*" >&2; }
die() { printf 'build-mongo-server: ERROR: %s\n' "$*" >&2; exit 1; }

script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
repo_root="$(cd "$(dirname "$script_path")/.." && pwd)"
src_dir="$repo_root/tools/mongo-server"
module="github.com/FerretDB/FerretDB"

[[ -f "$src_dir/go.mod" && -f "$src_dir/go.sum" && -f "$src_dir/main.go" ]] ||
  die "missing sources in $src_dir (main.go, go.mod, go.sum)"

shopt -s nullglob
patches=("$src_dir"/patches/*.patch)
shopt -u nullglob
((${#patches[@]} > 0)) || die "no patches found in $src_dir/patches"

command -v go >/dev/null 2>&1 || die "go is not on PATH (Go 1.24 or newer is needed to build the server)"
go_version="$(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"

# Hash of everything the binary depends on (file names relative to the repo, so the hash does not
# depend on where the repo is checked out).
hash="$(
  cd "$repo_root"
  {
    sha256sum tools/mongo-server/main.go tools/mongo-server/go.mod tools/mongo-server/go.sum
    for p in "${patches[@]}"; do sha256sum "tools/mongo-server/patches/$(basename "$p")"; done
    sha256sum "scripts/$(basename "$script_path")"
    printf 'go %s\n' "$go_version"
  } | sha256sum | cut -c1-16
)"

cache_root="${SAFELINE_CACHE_DIR:-${HOME:-/tmp}/.cache/safeline}"
out_dir="$cache_root/mongo-server/$hash"
bin="$out_dir/mongo-server"

# Fast path: the binary only ever appears through an atomic rename, so if it is there it is whole.
if [[ -x "$bin" ]]; then
  printf '%s\n' "$(cd "$out_dir" && pwd)/mongo-server"
  exit 0
fi

mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
bin="$out_dir/mongo-server"

command -v patch >/dev/null 2>&1 || die "patch is not on PATH (apt-get install patch)"

# One build per hash at a time; others wait for it and then use its result.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out_dir/.lock"
  if ! flock -n 9; then
    log "another build of $hash is running; waiting for it..."
    flock -w 1800 9 || die "timed out waiting for the lock $out_dir/.lock"
  fi
else
  log "warning: flock not found; concurrent builds are not serialised"
fi

if [[ -x "$bin" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi

version="$(awk -v m="$module" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$src_dir/go.mod")"
[[ -n "$version" ]] || die "cannot find the required version of $module in $src_dir/go.mod"

work="$(mktemp -d "${TMPDIR:-/tmp}/safeline-mongo-server.XXXXXX")"
tmp_bin="$out_dir/.mongo-server.tmp.$$"
cleanup() {
  rm -f "$tmp_bin"
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
log "building $bin ($module@$version + ${#patches[@]} patches, $go_version)"

# Locate the module source (downloads it into the module cache if needed; verified against go.sum).
dl_json="$(cd "$src_dir" && go mod download -json "$module@$version")" ||
  die "go mod download $module@$version failed: $dl_json"
mod_dir="$(printf '%s\n' "$dl_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
[[ -n "$mod_dir" && -d "$mod_dir" ]] || die "go mod download did not report a source directory: $dl_json"

# Patch a writable copy; the module cache itself is read-only and shared.
copy="$work/ferretdb"
cp -R "$mod_dir" "$copy"
chmod -R u+w "$copy"

for p in "${patches[@]}"; do
  name="$(basename "$p")"
  if ! out="$(patch -p1 --forward --fuzz=0 --batch --no-backup-if-mismatch --reject-file=- -d "$copy" -i "$p" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "patch $name does not apply cleanly to $module@$version; update it (tools/mongo-server/patches/$name)"
  fi
  log "applied $name"
done

# Build through a generated modfile so the committed go.mod/go.sum stay plain.
cp "$src_dir/go.mod" "$work/build.mod"
cp "$src_dir/go.sum" "$work/build.sum"
printf '\nreplace %s => %s\n' "$module" "$copy" >>"$work/build.mod"

log "go build..."
(
  cd "$src_dir"
  CGO_ENABLED=0 go build -modfile="$work/build.mod" -trimpath -buildvcs=false -ldflags='-s -w' -o "$tmp_bin" .
) >&2 || die "go build failed"

"$tmp_bin" --help >/dev/null 2>&1 || die "the built binary does not run: $tmp_bin"
mv -f "$tmp_bin" "$bin"

log "built in $((SECONDS - start)) s"
printf '%s\n' "$bin"
