#!/usr/bin/env bash
# Installs synctl for the GitHub Action: nothing when the wanted version is already on PATH,
# else a published release binary, else `cargo install --locked` from the tagged source.
set -euo pipefail
version="${SYNCTL_VERSION:-latest}"
repo="${SYNCTL_REPOSITORY:-https://github.com/synctl/synctl}"
if command -v synctl >/dev/null 2>&1; then
  have="$(synctl --version | awk '{print $2}')"
  if [ "$version" = latest ] || [ "v$have" = "$version" ] || [ "$have" = "$version" ]; then
    echo "synctl $have is installed"
    exit 0
  fi
fi
bin="${SYNCTL_BIN_DIR:-$HOME/.local/bin}"
mkdir -p "$bin"
target="$(uname -m)-unknown-linux-gnu"
if [ "$version" = latest ]; then
  url="$repo/releases/latest/download/synctl-$target.tar.gz"
else
  url="$repo/releases/download/$version/synctl-$target.tar.gz"
fi
if curl -fsSL "$url" | tar -xz -C "$bin" synctl 2>/dev/null; then
  echo "installed synctl from $url"
else
  echo "no release binary at $url; building from source with cargo install --locked"
  tag=()
  if [ "$version" != latest ]; then tag=(--tag "$version"); fi
  cargo install --locked --git "$repo" "${tag[@]}" --root "${bin%/bin}" synctl
fi
if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin" >> "$GITHUB_PATH"; fi
