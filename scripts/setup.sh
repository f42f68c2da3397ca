#!/usr/bin/env bash
# Installs what pdeinv needs on a fresh Debian machine: the HDF5 C library
# (for the hdf5-metno crate) and pkg-config. Safe to run again.
set -euo pipefail
need=()
for pkg in libhdf5-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
# The AVX-512 intrinsics of the acoustic kernel need Rust 1.89 or newer
# (the workspace's rust-version).
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "${rust_minor:-0}" -lt 89 ]; then
  if command -v rustup >/dev/null; then
    echo "setup: rustc $(rustc --version) is older than 1.89; updating the stable toolchain"
    rustup update stable
  else
    echo "setup: pdeinv needs Rust 1.89 or newer (found $(rustc --version)); install it with rustup" >&2
    exit 1
  fi
fi
