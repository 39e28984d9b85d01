#!/usr/bin/env bash
# Keeps one GitHub issue per stack open while the stack's tenant or database differs from the code
# deployed to it, for .github/workflows/drift.yml (docs/ci.md, "drift.yml").
#
#   scripts/drift-issue.sh <stack> <result dir>
#
# The result dir is what the drift job of the stack uploaded:
#   status       clean | drift | failed | not-deployed
#   preview.txt  the output of `pulumi preview --refresh --diff --expect-no-changes`
#   commit       the commit the stack was last deployed from
#
#   drift         no open issue: one is opened (label "drift") with the diff; an open one: its
#                 description gets the latest diff, and a comment says so when the diff changed
#   clean         an open issue gets a comment and is closed
#   failed        the check did not run to the end (credentials, network, a policy): the issue is
#                 left as it is; the drift job itself failed and shows why
#   not-deployed  nothing to compare: nothing happens
#
# Needs gh (GH_TOKEN with issues: write) and jq. RUN_URL (the workflow run) goes into the texts.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: scripts/drift-issue.sh <stack> <result dir>" >&2
  exit 2
fi
stack="$1"
dir="$2"
status="$(tr -d '[:space:]' < "${dir}/status")"
commit="$(tr -d '[:space:]' < "${dir}/commit" 2>/dev/null || true)"
run="${RUN_URL:-this run}"
label="drift"
title="Drift: ${stack} differs from the code deployed to it"
# GitHub refuses issue bodies over 65536 characters.
max_diff=60000

open_issue() {
  gh issue list --state open --label "$label" --limit 100 --json number,title \
    | jq -r --arg t "$title" '[.[] | select(.title == $t) | .number] | first // empty'
}

# The preview without what changes on every run (permalinks, timings, progress), so that the same
# drift gives the same digest.
stable_diff() {
  grep -Ev '^(View (Live|in Browser)|Previewing |@ |Duration:|    Resources:|[[:space:]]*[0-9]+ unchanged)' "${dir}/preview.txt" || true
}

body_file() {
  local digest="$1" out diff
  out="$(mktemp)"
  diff="$(mktemp)"
  stable_diff > "$diff"
  {
    echo "The scheduled refresh-preview of **${stack}** (\`pulumi preview --refresh --expect-no-changes\`, at commit \`${commit:-unknown}\`, the one last deployed to it) found changes: the tenant or the database differs from the code (a change in the Auth0 dashboard or by hand in the database)."
    echo
    echo "To resolve it: either put the change into the code (a pull request), or let the next deploy of ${stack} revert it (re-run the deploy, or \`pulumi up\`). This issue is closed by the first clean check. Latest check: ${run}."
    echo
    echo '```diff'
    head -c "$max_diff" "$diff"
    if [[ "$(wc -c < "$diff")" -gt "$max_diff" ]]; then echo; echo "... (cut: the whole preview is in the run's log)"; fi
    echo
    echo '```'
    echo
    echo "<!-- drift-digest: ${digest} -->"
  } > "$out"
  rm -f "$diff"
  echo "$out"
}

case "$status" in
  drift)
    digest="$(stable_diff | sha256sum | cut -d ' ' -f 1)"
    body="$(body_file "$digest")"
    number="$(open_issue)"
    if [[ -z "$number" ]]; then
      gh label create "$label" --color D93F0B --description "The tenant or database differs from the deployed code" --force > /dev/null
      gh issue create --title "$title" --label "$label" --body-file "$body"
    else
      previous="$(gh issue view "$number" --json body | jq -r '.body' | grep -o 'drift-digest: [0-9a-f]*' | cut -d ' ' -f 2 || true)"
      gh issue edit "$number" --body-file "$body" > /dev/null
      if [[ "$previous" != "$digest" ]]; then
        gh issue comment "$number" --body "The drift of ${stack} changed (${run}): the description shows the latest diff." > /dev/null
      fi
      echo "updated issue #${number}"
    fi
    rm -f "$body"
    ;;
  clean)
    number="$(open_issue)"
    if [[ -n "$number" ]]; then
      gh issue comment "$number" --body "No drift in ${stack} any more (${run}, commit \`${commit:-unknown}\`): closing." > /dev/null
      gh issue close "$number" > /dev/null
      echo "closed issue #${number}"
    fi
    ;;
  failed)
    echo "::warning::the drift check of ${stack} did not run to the end; its issue (if any) is left as it is"
    ;;
  not-deployed)
    echo "${stack} has no successful deployment yet: nothing to compare"
    ;;
  *)
    echo "unknown status \"${status}\" in ${dir}/status" >&2
    exit 1
    ;;
esac
