#!/usr/bin/env bash
# Debian/Ubuntu packages pressrun needs: Chromium to render (the headless shell renders; the full
# browser runs the browser tests and the benchmark baseline), Noto fonts as fallbacks (CJK, color
# emoji) so no name renders as empty boxes, poppler-utils for looking at PDFs.
set -euo pipefail
packages=(chromium chromium-headless-shell fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core poppler-utils)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
