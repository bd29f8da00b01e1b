#!/usr/bin/env bash
# tools/setup.sh: installs the Debian 12 packages vmapjit needs that are missing (as root, or
# through sudo). Safe to run again: it installs nothing when everything is there.
set -euo pipefail
packages=(cmake ninja-build g++ llvm-19-dev llvm-19-tools libfmt-dev doctest-dev python3)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch python3-matplotlib libeigen3-dev) ;;
    --sanitizers) packages+=(clang-19 libclang-rt-19-dev) ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
