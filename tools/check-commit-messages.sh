#!/usr/bin/env bash
# Commit messages a reader can follow: every commit since the rule was adopted
# (11933d8, 2026-12-05) has a subject of at most 72 characters and a body
# saying why. Prints each commit that breaks it; exit 1 if any.
# Outside a git checkout (a source tarball) there is nothing to check.
# Usage: tools/check-commit-messages.sh (ctest: commit_messages)
set -euo pipefail
cd "$(dirname "$0")/.."
first=11933d8
if ! git rev-parse --git-dir >/dev/null 2>&1 || ! git cat-file -e "$first^{commit}" 2>/dev/null; then
  echo "not a git checkout with the project's history: nothing to check"
  exit 0
fi
breaches=0
for commit in $(git rev-list --no-merges "$first~1..HEAD"); do
  subject=$(git log -1 --format=%s "$commit")
  body=$(git log -1 --format=%b "$commit" | tr -d '[:space:]')
  if ((${#subject} > 72)); then
    echo "${commit:0:7}: subject of ${#subject} characters (at most 72): $subject" >&2
    breaches=$((breaches + 1))
  fi
  if [[ -z $body ]]; then
    echo "${commit:0:7}: no body saying why: $subject" >&2
    breaches=$((breaches + 1))
  fi
done
if ((breaches)); then exit 1; fi
echo "every commit since $first has a subject of at most 72 characters and a body"
