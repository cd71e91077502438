#!/usr/bin/env bash
# System packages the tests need, on Debian 12 (bookworm) or newer: Chromium for the end-to-end tests (its
# SwiftShader is also a Vulkan driver for Dawn in Node), Mesa's lavapipe from bookworm-backports, a 5-10x
# faster CPU Vulkan driver for the unit tests, and SVOX Pico's language files (libttspico-data, in Debian's
# non-free component) for the pico synthesis engine. Skips what is already there; needs root (or sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_chromium=1; [ -x /usr/bin/chromium ] && need_chromium=0
need_lavapipe=1; ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && need_lavapipe=0
need_pico=1; [ -f /usr/share/pico/lang/en-US_ta.bin ] && need_pico=0
[ $need_chromium -eq 0 ] && [ $need_lavapipe -eq 0 ] && [ $need_pico -eq 0 ] && { echo "test-deps: chromium, lavapipe and pico present"; exit 0; }

if ! command -v apt-get >/dev/null; then
  echo "test-deps: no apt-get here; install Chromium yourself and set LAB_CHROMIUM to its path" >&2
  [ $need_chromium -eq 0 ] || exit 1
  exit 0
fi

. /etc/os-release
if [ $need_lavapipe -eq 1 ] && [ "${VERSION_CODENAME:-}" = bookworm ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  # Mesa 22 (bookworm) is refused by Dawn; Mesa 25 from backports works.
  $SUDO tee /etc/apt/sources.list.d/lab-backports.sources >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
if [ $need_pico -eq 1 ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  $SUDO tee /etc/apt/sources.list.d/lab-non-free.sources >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME:-bookworm}
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -qq
[ $need_pico -eq 0 ] || $SUDO apt-get install -y -qq libttspico-data >/dev/null ||
  echo "test-deps: libttspico-data not installed; the pico engine's tests will fail" >&2
[ $need_chromium -eq 0 ] || $SUDO apt-get install -y -qq chromium >/dev/null
if [ $need_lavapipe -eq 1 ]; then
  if [ "${VERSION_CODENAME:-}" = bookworm ]; then
    $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null ||
      echo "test-deps: lavapipe not installed; unit tests use Chromium's SwiftShader (slower)" >&2
  else
    $SUDO apt-get install -y -qq mesa-vulkan-drivers >/dev/null || true
  fi
fi
echo "test-deps: done"
