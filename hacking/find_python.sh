#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter, or explain why there is none and exit 1.
# Looks in pyenv's versions first (newest patch release first), then for pythonX.Y on PATH. Every candidate
# is run once: a pyenv shim for a version that the shell's pyenv does not select exists but does not run.
set -uo pipefail
want="${1:?usage: find_python.sh X.Y}"
candidates=()
if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root 2>/dev/null)"
    while IFS= read -r dir; do
        candidates+=("$dir/bin/python$want")
    done < <(for dir in "$root/versions/$want".*; do [ -d "$dir" ] && printf '%s\n' "$dir"; done | sort -rV)
fi
candidates+=("$(command -v "python$want" 2>/dev/null)")
for python in "${candidates[@]}"; do
    [ -n "$python" ] && [ -x "$python" ] || continue
    if "$python" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" >/dev/null 2>&1; then
        echo "$python"
        exit 0
    fi
done
echo "Python $want not found: install it (for example 'pyenv install $want') or put python$want on PATH." >&2
exit 1
