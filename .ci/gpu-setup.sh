#!/usr/bin/env bash
# Software GPUs for the conformance suites, on a Debian 12 machine without a GPU:
# - Dawn (the `webgpu` package) on SwiftShader's Vulkan driver, which ships with Debian's
#   `chromium` (Debian's own lavapipe is too old for Dawn), through the Vulkan loader
#   `libvulkan1`;
# - headless-gl (the optional native `gl` package gpu.js uses), compiled from source by
#   `pnpm install` (no prebuilt binary is downloaded where GitHub is unreachable), and
#   Mesa's software GL under an X server (`Xvfb`, started by the gpu.js tests themselves);
# - Chromium itself, for the in-page WebGL / WebGPU runs.
#
# Source it BEFORE `pnpm install`: the `gl` build needs the headers installed here, and
# `npm_config_nodedir` (exported here) keeps node-gyp from downloading Node's headers
# (without network the optional build fails silently and headlessgl goes missing).
# Idempotent: installs only what is missing, with at most one `apt-get update`.

gpu_setup() {
  local started=$SECONDS
  local packages=(
    build-essential python3 pkg-config # node-gyp's toolchain
    libx11-dev libxext-dev libxi-dev libgl-dev # what headless-gl links against
    libgl1-mesa-dri xvfb xauth # Mesa's software GL (llvmpipe) and an X server for it
    libvulkan1 chromium # the Vulkan loader and SwiftShader's Vulkan driver, for Dawn
  )
  local need=() pkg
  for pkg in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = 'install ok installed' ] || need+=("$pkg")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "gpu-setup: installing ${need[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi

  # node-gyp builds against the running Node's own headers: <prefix>/include/node.
  local prefix
  prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [ -f "$prefix/include/node/node.h" ]; then
    export npm_config_nodedir="$prefix"
  else
    echo "gpu-setup: no Node headers under $prefix/include/node; the gl build will try to download them" >&2
  fi
  echo "gpu-setup: done in $((SECONDS - started)) s${need[*]:+ (installed ${#need[@]} packages)}"
}

gpu_setup
