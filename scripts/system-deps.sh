#!/usr/bin/env bash
# Debian packages the pipeline and its tests use: the offline Fashion-MNIST copy and a CJK font for
# the Chinese class names. Installs them when run as root on Debian/Ubuntu; otherwise says what to
# install and carries on (the pipeline then downloads the data and falls back to English labels).
set -u
packages=(dataset-fashion-mnist fonts-wqy-microhei)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "Note: Debian packages not installed: ${missing[*]}" >&2
    echo "      sudo apt-get install ${missing[*]}   (or the pipeline downloads the data itself)" >&2
fi
exit 0
