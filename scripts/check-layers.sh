#!/usr/bin/env bash
# Checks that the folders of src/ are layers: a file may include headers of its own
# folder and of folders in lower layers, never of a folder in its own layer or above (so
# no two folders can include each other). Run by the test command; fails naming the file
# and line of each include that breaks the order. include/outpost/ (the public headers)
# may be included from anywhere.
# Usage: bash scripts/check-layers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# src/layers.txt: lowest first; folders on one line are one layer.
layers=()
while IFS= read -r line; do
  line=${line%%#*}
  [ -n "${line// /}" ] && layers+=("$line")
done < src/layers.txt

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

while IFS= read -r file; do
  folder=$(basename "$(dirname "$file")")
  [ "$file" = src/main.cpp ] && folder=app
  while IFS= read -r line; do
    number=${line%%:*}
    target=$(sed -E 's/^[0-9]+:#include "([^"]+)".*/\1/' <<<"$line")
    to=${target%%/*}
    [ "$to" = outpost ] || [ "$to" = "$folder" ] && continue
    [ -n "${rank[$to]+set}" ] || continue
    [ "${rank[$to]}" -lt "${rank[$folder]}" ] && continue
    where="a higher layer"
    [ "${rank[$to]}" -eq "${rank[$folder]}" ] && where="the same layer"
    echo "check-layers: $file:$number: $folder/ includes $target, in $where" >&2
    status=1
  done < <(grep -n '^#include "[a-z_]*/' "$file" || true)
done < <(find src -name '*.h' -o -name '*.cpp' | sort)

if [ "$status" -eq 0 ]; then
  echo "check-layers: ${#layers[@]} layers, every include of src/ points down"
fi
exit "$status"
