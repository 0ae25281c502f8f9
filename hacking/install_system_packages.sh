#!/usr/bin/env bash
# Install the Debian packages that bindep.txt lists for the run time and the `test` profile, when they are missing.
# Used by `make system-deps` (part of `make test`); a machine that has them all changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
while read -r line; do
    line="${line%%#*}"
    [[ -z "${line// }" ]] && continue
    pkg="${line%% *}"
    profiles=""
    [[ "$line" == *"["* ]] && profiles="${line#*[}" && profiles="${profiles%]*}"
    [[ -n "$profiles" && "$profiles" != *platform:dpkg* ]] && continue
    # keep run-time packages and the test profile's; skip other profiles
    for w in $profiles; do
        case "$w" in platform:*|test) ;; *) continue 2 ;; esac
    done
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done < bindep.txt
if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
    export DEBIAN_FRONTEND=noninteractive
    # slapd: no directory of its own and no system service; the test bed starts its own on loopback (tests/testbed/ldap.py).
    if command -v debconf-set-selections >/dev/null; then
        echo "slapd slapd/no_configuration boolean true" | $sudo debconf-set-selections
    fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
