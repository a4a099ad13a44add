#!/usr/bin/env bash
# Installs synctl for the GitHub Action, in two steps around actions/cache:
#   install.sh resolve   the release tag (`latest` asked of GitHub), the platform's target and
#                        the folder the binary goes to, as step outputs (the cache's key)
#   install.sh install   nothing when that folder (restored from the cache) or PATH already
#                        has this version; else the release archive for the target, checked
#                        against its published SHA-256; built from the tagged source with
#                        `cargo install --locked` only when SYNCTL_BUILD_FROM_SOURCE is true.
set -euo pipefail
version="${SYNCTL_VERSION:-latest}"
repo="${SYNCTL_REPOSITORY:-https://github.com/synctl/synctl}"
from_source="${SYNCTL_BUILD_FROM_SOURCE:-false}"

target() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) echo "synctl publishes no binary for $(uname -m)" >&2; return 1 ;;
  esac
  case "$(uname -s)" in
    Linux) echo "$arch-unknown-linux-musl" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    *) echo "synctl publishes no binary for $(uname -s)" >&2; return 1 ;;
  esac
}

resolve() {
  if [ "$version" = latest ]; then
    # GitHub answers /releases/latest with a redirect to /releases/tag/<tag>.
    local url
    url="$(curl -fsSLI -o /dev/null -w '%{url_effective}' "$repo/releases/latest" || true)"
    case "$url" in
      */releases/tag/*) version="${url##*/}" ;;
      *) version=unreleased ;;
    esac
  fi
  case "$version" in v*) ;; unreleased) ;; *) version="v$version" ;; esac
  # Without a release, the build from the action's own checkout is cached per commit.
  if [ "$version" = unreleased ] && [ -n "${GITHUB_ACTION_PATH:-}" ]; then
    version="unreleased-$(git -C "$GITHUB_ACTION_PATH" rev-parse --short HEAD 2>/dev/null || echo local)"
  fi
  local t
  t="$(target)"
  local dir="${RUNNER_TOOL_CACHE:-${HOME}/.cache}/synctl/$version/$t"
  {
    echo "version=$version"
    echo "target=$t"
    echo "dir=$dir"
  } >> "${GITHUB_OUTPUT:-/dev/stdout}"
}

sha256_check() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum -c "$1"; else shasum -a 256 -c "$1"; fi
}

install() {
  local dir="${SYNCTL_DIR:?run resolve first}" t="${SYNCTL_TARGET:?run resolve first}"
  version="${SYNCTL_RESOLVED:-$version}"
  if [ -x "$dir/synctl" ]; then
    echo "synctl $version from the cache"
  elif command -v synctl >/dev/null 2>&1 && [ "v$(synctl --version | awk '{print $2}')" = "$version" ]; then
    echo "synctl $version is installed"
    return 0
  else
    local archive="synctl-$t.tar.gz" scratch
    scratch="$(mktemp -d)"
    if [[ "$version" != unreleased* ]] &&
      curl -fsSL -o "$scratch/$archive" "$repo/releases/download/$version/$archive" &&
      curl -fsSL -o "$scratch/$archive.sha256" "$repo/releases/download/$version/$archive.sha256"; then
      if ! (cd "$scratch" && sha256_check "$archive.sha256" >/dev/null); then
        echo "::error::$archive of synctl $version does not match its published SHA-256: not installed" >&2
        return 1
      fi
      mkdir -p "$dir"
      tar -xzf "$scratch/$archive" -C "$dir" synctl
      echo "synctl $version from $repo/releases (SHA-256 checked)"
    elif [ "$from_source" = true ]; then
      echo "no release archive of synctl $version for $t: building from source (cargo install --locked)"
      local tag=()
      if [[ "$version" != unreleased* ]]; then tag=(--tag "$version"); fi
      if [ -f "${GITHUB_ACTION_PATH:-/nonexistent}/Cargo.toml" ]; then
        cargo install --locked --path "$GITHUB_ACTION_PATH" --root "$dir" --bin synctl
      else
        cargo install --locked --git "$repo" "${tag[@]}" --root "$dir" synctl
      fi
      mv "$dir/bin/synctl" "$dir/synctl"
    else
      echo "::error::no release archive of synctl $version for $t at $repo/releases; set the action's build-from-source: \"true\" to build it with cargo" >&2
      return 1
    fi
    rm -rf "$scratch"
  fi
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$dir" >> "$GITHUB_PATH"; fi
}

case "${1:-}" in
  resolve) resolve ;;
  install) install ;;
  *) echo "usage: install.sh resolve|install" >&2; exit 2 ;;
esac
