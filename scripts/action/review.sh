#!/usr/bin/env bash
# On a pull request: what the change does to each cluster, object by object (`synctl diff
# --base`), into the job summary and, with SYNCTL_COMMENT=true, as a pull-request comment.
set -uo pipefail
base="${GITHUB_BASE_REF:-}"
[ -n "$base" ] || exit 0 # not a pull request
spec="${SYNCTL_SPEC:-fleet.yaml}"
summary="${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set}"
# actions/checkout fetches only the pull request's commit: fetch the base branch's tip.
if git fetch --no-tags --quiet --depth=1 origin "$base" 2>/dev/null; then
  ref=FETCH_HEAD
else
  ref="$base"
fi
report="$(mktemp)"
if synctl diff --base "$ref" --format markdown -f "$spec" > "$report" 2> "$report.err"; then
  cat "$report" >> "$summary"
else
  {
    echo "### synctl: \`$spec\` could not be compared with \`$base\`"
    echo
    echo '```'
    cat "$report.err"
    echo '```'
  } >> "$summary"
  exit 0
fi
if [ "${SYNCTL_COMMENT:-false}" = true ] && [ -n "${SYNCTL_PR:-}" ]; then
  gh pr comment "$SYNCTL_PR" --edit-last --body-file "$report" 2>/dev/null \
    || gh pr comment "$SYNCTL_PR" --body-file "$report" \
    || echo "::warning::synctl could not comment on pull request $SYNCTL_PR (permissions: pull-requests: write, and GH_TOKEN)"
fi
exit 0
