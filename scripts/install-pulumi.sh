#!/usr/bin/env bash
# Puts the Pulumi CLI (the version matching the pinned @pulumi/pulumi SDK) and the dynamic-provider
# launcher into .tools/pulumi/bin/ (git-ignored), reusing what is already there. The CLI comes from, in order:
#   1. .tools/pulumi/bin/ itself, when `pulumi version` already matches;
#   2. this machine's build cache ($PULUMI_TOOLS_CACHE, default ~/.cache/iothub-as-code), filled by an earlier run;
#   3. a `pulumi` on PATH that reports the same version;
#   4. Pulumi's official release archive (skipped with --no-download, or when it cannot be reached in 15 s);
#   5. a build from the Go module proxy (needs Go; 10-20 min cold on 2 cores, about a minute warm).
# The Node.js language host (pulumi-language-nodejs) is installed when it can be had (from the official archive,
# or the Go module proxy if it ever serves it). Without it, scripts/pulumi-engine.ts runs programs through the
# Automation API with an inline program instead (docs/pulumi-cli-offline.md).
#
#   scripts/install-pulumi.sh [--no-download] [--quiet]
set -euo pipefail

project_dir=$(cd "$(dirname "$0")/.." && pwd)
no_download=0
quiet=0
for arg in "$@"; do
  case "$arg" in
    --no-download) no_download=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-pulumi: unknown option '$arg' (valid: --no-download, --quiet)" >&2; exit 2 ;;
  esac
done

step() { [ "$quiet" = 1 ] || printf '[install-pulumi] %s\n' "$*" >&2; }
fail() { printf '[install-pulumi] error: %s\n' "$*" >&2; exit 1; }

sdk_pkg="$project_dir/node_modules/@pulumi/pulumi/package.json"
[ -f "$sdk_pkg" ] || fail "node_modules/@pulumi/pulumi is missing: run 'npm ci' first (the CLI version follows the pinned SDK)."
version="v$(node -p "require('$sdk_pkg').version")"
launcher_src="$project_dir/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[ -f "$launcher_src" ] || fail "$launcher_src is missing: the @pulumi/pulumi package should ship it."

tools_dir="$project_dir/.tools/pulumi/bin"
cache_dir="${PULUMI_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iothub-as-code}/pulumi-$version"
mkdir -p "$tools_dir" "$cache_dir"

reports_version() { [ -x "$1" ] && [ "$("$1" version 2>/dev/null)" = "$version" ]; }

# The launcher must sit next to `pulumi` (the CLI looks there and on PATH, never in node_modules).
install_launcher() {
  install -m 0755 "$launcher_src" "$tools_dir/pulumi-resource-pulumi-nodejs"
}

finish() {
  install_launcher
  if [ -x "$tools_dir/pulumi-language-nodejs" ]; then
    step "language host: $tools_dir/pulumi-language-nodejs"
  else
    step "language host: not available here; programs run through the Automation API (inline program)"
  fi
  step "ready: $tools_dir/pulumi ($version)"
  exit 0
}

from_dir() { # copy pulumi (and the language host, if present) from $1 when it reports the version
  reports_version "$1/pulumi" || return 1
  [ "$1" = "$tools_dir" ] || install -m 0755 "$1/pulumi" "$tools_dir/pulumi"
  if [ -x "$1/pulumi-language-nodejs" ] && [ "$1" != "$tools_dir" ]; then
    install -m 0755 "$1/pulumi-language-nodejs" "$tools_dir/pulumi-language-nodejs"
  fi
  return 0
}

if from_dir "$tools_dir"; then step "already installed"; finish; fi
if from_dir "$cache_dir"; then step "reused this machine's build cache ($cache_dir)"; finish; fi
on_path=$(command -v pulumi 2>/dev/null || true)
if [ -n "$on_path" ] && from_dir "$(dirname "$on_path")"; then step "reused $on_path"; finish; fi

if [ "$no_download" = 0 ] && command -v curl >/dev/null 2>&1; then
  arch=$(uname -m); case "$arch" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
  url="https://get.pulumi.com/releases/sdk/pulumi-$version-linux-$arch.tar.gz"
  step "downloading $url"
  tmp=$(mktemp -d)
  if curl -fsSL --connect-timeout 15 --max-time 300 "$url" | tar -xz -C "$tmp" 2>/dev/null && from_dir "$tmp/pulumi"; then
    cp "$tools_dir/pulumi" "$cache_dir/pulumi"
    [ ! -x "$tools_dir/pulumi-language-nodejs" ] || cp "$tools_dir/pulumi-language-nodejs" "$cache_dir/"
    rm -rf "$tmp"; step "downloaded"; finish
  fi
  rm -rf "$tmp"
  step "the official archive is unreachable; building from the Go module proxy instead"
fi

command -v go >/dev/null 2>&1 || fail "no Pulumi CLI $version found and no Go toolchain to build it: install Go (1.26 or newer) or put pulumi $version on PATH."

# Building: a throwaway main module (go install refuses pkg/v3, whose go.mod has replace directives).
build_dir="$cache_dir/build"
mkdir -p "$build_dir"
cd "$build_dir"
go_line=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$version" | node -e '
  const info = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const mod = require("fs").readFileSync(info.GoMod, "utf8");
  process.stdout.write((mod.match(/^go (\S+)/m) || [])[1] || "");') || fail "the Go module proxy does not serve github.com/pulumi/pulumi/pkg/v3@$version"
have=$(go env GOVERSION | sed 's/^go//')
if [ -n "$go_line" ] && [ "$(printf '%s\n%s\n' "$go_line" "$have" | sort -V | head -n1)" != "$go_line" ]; then
  export GOTOOLCHAIN="go$go_line"
  step "pulumi $version needs Go $go_line (have $have): using GOTOOLCHAIN=$GOTOOLCHAIN"
fi
if [ ! -f go.mod ]; then
  go mod init iothub-as-code/pulumi-build >/dev/null 2>&1
fi
step "resolving pulumi $version and its ~340 modules (progress below is Go's)"
go mod edit -require="github.com/pulumi/pulumi/pkg/v3@$version" -require="github.com/pulumi/pulumi/sdk/v3@$version"
# Upstream's one other replace (a Windows-only clipboard fix); kept when the proxy serves it.
clip=$(grep -E '^replace github.com/atotto/clipboard' "$(go env GOMODCACHE)/cache/download/github.com/pulumi/pulumi/pkg/v3/@v/$version.mod" | sed 's/^replace //' || true)
if [ -n "$clip" ]; then
  target=$(echo "$clip" | sed 's/.*=> //' | tr ' ' '@')
  if go mod download "$target" >/dev/null 2>&1; then go mod edit -replace="github.com/atotto/clipboard=$target"; fi
fi
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
go mod tidy -e >&2 || fail "go mod tidy failed (see above)"
step "compiling pulumi $version (CGO_ENABLED=0, -trimpath, tags osusergo,grpcnotrace)"
start=$(date +%s)
CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$cache_dir/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi || fail "go build failed (see above)"
mv "$cache_dir/pulumi.tmp" "$cache_dir/pulumi"
step "compiled in $(( $(date +%s) - start )) s"

# The language host is its own Go module that has never been tagged; try the release version in case the proxy serves it.
if go mod download "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@$version" >/dev/null 2>&1; then
  step "building the Node.js language host"
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$cache_dir/pulumi-language-nodejs" \
    "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@$version" 2>/dev/null || true
fi

from_dir "$cache_dir" || fail "the built binary does not report $version"
finish
