#!/usr/bin/env bash
# Writes what `synctl generate` would change, with its blast radius, to the job summary.
set -uo pipefail
spec="${SYNCTL_SPEC:-fleet.yaml}"
summary="${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set}"
out="$(synctl diff --exit-code -f "$spec" 2>&1)"
code=$?
{
  echo "## synctl: \`$spec\`"
  echo
  case "$code" in
    0) echo "The committed tree is what the spec compiles to." ;;
    1)
      echo "**$(printf '%s\n' "$out" | tail -n 1)**"
      echo
      echo '```diff'
      printf '%s\n' "$out" | head -n 2000
      echo '```'
      ;;
    *)
      echo "synctl could not compile the spec:"
      echo
      echo '```'
      printf '%s\n' "$out"
      echo '```'
      ;;
  esac
} >> "$summary"
exit 0
