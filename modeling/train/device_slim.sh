#!/usr/bin/env bash
# Make the checkout small enough for a device call, and put it back afterwards.
#
# A device call carries the checkout's tracked and untracked-not-ignored files plus what `carry` names, 64 MiB in
# all. The tracked files alone are over that (each committed checkpoint is about 18 MB, the shipped bundle 36 MB),
# and a training call needs only the code, the checkpoint it continues and the prepared data (28 MB, carried).
#
#   bash modeling/train/device_slim.sh enter modeling/checkpoints/<the one the call continues>
#   ... the device call (run from this checkout) ...
#   bash modeling/train/device_slim.sh leave
#
# enter: needs a clean tree; commits on a throw-away branch `device-slim` a tree without resources/models and the
#        other checkpoints, moves those folders (with their ignored files) to $STASH, prints what will travel.
# leave: returns to the branch you were on (git restores the tracked files), copies the ignored files back from
#        $STASH, deletes the branch and the stash.
set -euo pipefail
cd "$(dirname "$0")/../.."
STASH="${STASH:-/tmp/atelier-device-slim}"
BRANCH=device-slim

case "${1:-}" in
  enter)
    keep="${2:?usage: device_slim.sh enter modeling/checkpoints/<checkpoint folder to keep>}"
    keep="${keep%/}"
    [[ -d "$keep" ]] || { echo "no folder $keep" >&2; exit 2; }
    [[ -z "$(git status --porcelain)" ]] || { echo "the tree is not clean: commit or stash first" >&2; exit 2; }
    [[ ! -e "$STASH" ]] || { echo "$STASH exists: a previous enter was not left (run leave)" >&2; exit 2; }
    from="$(git rev-parse --abbrev-ref HEAD)"
    drop=(resources/models)
    for d in modeling/checkpoints/*/; do d="${d%/}"; [[ "$d" == "$keep" ]] || drop+=("$d"); done
    git checkout -q -b "$BRANCH"
    git rm -q -r --cached "${drop[@]}"
    git commit -q -m "device-slim: a tree small enough for a device call (throw-away, not for main)"
    mkdir -p "$STASH"
    echo "$from" > "$STASH/.from"
    for d in "${drop[@]}"; do mkdir -p "$STASH/$(dirname "$d")"; mv "$d" "$STASH/$d"; done
    bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
    echo "on branch $BRANCH (from $from); the checkout now carries $((bytes / 1000000)) MB before what carry adds"
    ;;
  leave)
    [[ -f "$STASH/.from" ]] || { echo "nothing to leave: $STASH/.from is missing" >&2; exit 2; }
    from="$(cat "$STASH/.from")"
    git checkout -q "$from"
    git branch -q -D "$BRANCH"
    # the tracked files are back from git; bring back what git ignores (logs beside the checkpoints)
    (cd "$STASH" && find . -type f ! -name .from -print0) | while IFS= read -r -d '' f; do
      [[ -e "$f" ]] || { mkdir -p "$(dirname "$f")"; cp -p "$STASH/$f" "$f"; }
    done
    rm -rf "$STASH"
    echo "back on $from"; git status --short
    ;;
  *) echo "usage: device_slim.sh enter CHECKPOINT_DIR | leave" >&2; exit 2 ;;
esac
