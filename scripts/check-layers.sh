#!/usr/bin/env bash
# Checks that the folders of src/ are layers: a file may include headers of its own
# folder and of folders in lower layers, never of a folder in its own layer or above (so
# no two folders can include each other). Run by the test command; fails naming the file
# and line of each include that breaks the order. include/outpost/ (the public headers)
# may be included from anywhere.
#
# scripts/layer-exceptions.txt lists the includes that still break it while issue 14
# untangles src/; an include listed there is tolerated, and a listed one that no longer
# exists is an error too, so the list can only shrink.
# Usage: bash scripts/check-layers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Lowest first. Folders on one line are one layer: they must not include each other.
layers=(
  "common config"
  "resilience"
  "store"
  "idempotency"
  "clients observability"
  "jobs"
  "orders outbox"
  "delivery"
  "saga alerts"
  "reconciliation review"
  "http"
  "app"
)

declare -A rank=()
for i in "${!layers[@]}"; do
  for folder in ${layers[$i]}; do rank[$folder]=$i; done
done

status=0
for dir in src/*/; do
  folder=$(basename "$dir")
  if [ -z "${rank[$folder]+set}" ]; then
    echo "check-layers: src/$folder/ is in no layer; add it to scripts/check-layers.sh" >&2
    status=1
  fi
done

exceptions=scripts/layer-exceptions.txt
found=$(mktemp)
trap 'rm -f "$found"' EXIT
while IFS= read -r file; do
  folder=$(basename "$(dirname "$file")")
  [ "$file" = src/main.cpp ] && folder=app
  while IFS= read -r line; do
    number=${line%%:*}
    target=$(sed -E 's/^[0-9]+:#include "([^"]+)".*/\1/' <<<"$line")
    target_folder=${target%%/*}
    [ "$target_folder" = outpost ] || [ "$target_folder" = "$folder" ] && continue
    [ -n "${rank[$target_folder]+set}" ] || continue
    if [ "${rank[$target_folder]}" -ge "${rank[$folder]}" ]; then
      echo "$file:$number: $target"
    fi
  done < <(grep -n '^#include "[a-z_]*/' "$file" || true)
done < <(find src -name '*.h' -o -name '*.cpp' | sort) >"$found"

listed() { grep -v '^#' "$exceptions" 2>/dev/null | grep -v '^$' | sed -E 's/^([^:]+):[0-9]+: /\1: /' | sort -u; }
while IFS= read -r violation; do
  key=$(sed -E 's/^([^:]+):[0-9]+: /\1: /' <<<"$violation")
  if ! listed | grep -qxF "$key"; then
    file=${violation%%:*}
    target=${violation##* }
    from=$(basename "$(dirname "$file")")
    to=${target%%/*}
    where="a lower layer"
    [ "${rank[$to]}" -eq "${rank[$from]}" ] && where="the same layer"
    [ "${rank[$to]}" -gt "${rank[$from]}" ] && where="a higher layer"
    echo "check-layers: $violation: $from/ includes $to/, which is in $where" >&2
    status=1
  fi
done <"$found"
while IFS= read -r key; do
  if ! sed -E 's/^([^:]+):[0-9]+: /\1: /' "$found" | grep -qxF "$key"; then
    echo "check-layers: $exceptions lists '$key', which no longer happens: remove it" >&2
    status=1
  fi
done < <(listed)

tolerated=$(listed | wc -l)
if [ "$status" -eq 0 ]; then
  echo "check-layers: ${#layers[@]} layers, every include of src/ points down" \
    "($tolerated known exceptions left in $exceptions)"
fi
exit "$status"
