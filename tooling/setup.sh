#!/usr/bin/env bash
# One-step set-up on a fresh machine that has only Node 20 and npm:
#   npm run setup
# installs pnpm, the Debian packages the tests need (when run as root with
# apt), the workspace's dependencies from the lockfile, and builds everything.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2 # pnpm 12 works on Node 20; corepack's signature check fails here

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION"
fi

# WebGPU in Node (Dawn) needs a Vulkan loader and driver. On machines without
# a GPU, Debian's chromium package brings the SwiftShader Vulkan driver; the
# same chromium runs the demo's end-to-end tests.
missing=()
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || missing+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || missing+=(libvulkan1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: WARNING: missing ${missing[*]}; WebGPU tests need them (sudo apt-get install ${missing[*]})" >&2
  fi
fi

pnpm install --frozen-lockfile
pnpm build
