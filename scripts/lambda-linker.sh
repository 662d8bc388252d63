# Sourced by scripts/test and scripts/start: makes this workspace's builds link the way `cargo lambda build` links
# Lambda artifacts, so the handler binaries that run locally (in the tests and under `start`) are linked as the
# ones that deploy: zig as C compiler and linker, against the glibc of zig's default x86_64-linux-gnu target
# (2.30 today) instead of the build machine's. The wrappers are cargo-lambda's own (cargo-zigbuild's):
# `cargo-lambda zig cc -- -g -fno-sanitize=all -target x86_64-linux-gnu`. Installs cargo-lambda and ziglang (PyPI)
# when missing. tests/deploy.rs checks the glibc the handlers then need.
#
# Plain `cargo` commands without these variables link with the host toolchain, and cargo then rebuilds the C
# dependencies (aws-lc-sys) and what depends on them: run `source scripts/lambda-linker.sh` in a shell to share
# the build with the scripts.

lambda_linker_setup() {
  if ! python3 -m pip show --quiet cargo-lambda >/dev/null 2>&1 || ! python3 -m ziglang version >/dev/null 2>&1; then
    printf '\033[1m==> %s\033[0m\n' "installing cargo-lambda and ziglang (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check cargo-lambda ziglang
  fi
  local scripts cargo_lambda zig_version dir
  scripts=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))")
  cargo_lambda="$scripts/cargo-lambda"
  [ -x "$cargo_lambda" ] || cargo_lambda=$(command -v cargo-lambda || true)
  if [ -z "$cargo_lambda" ]; then
    printf 'cargo-lambda is installed but not found in %s or on PATH; add pip'"'"'s scripts folder to PATH\n' "$scripts" >&2
    return 1
  fi
  zig_version=$(python3 -m ziglang version)
  dir="$PWD/target/lambda-linker"
  mkdir -p "$dir"
  for tool in cc c++; do
    cat >"$dir/zig$tool.tmp" <<WRAPPER
#!/bin/sh
export CARGO_ZIGBUILD_ZIG_VERSION=$zig_version
exec "$cargo_lambda" zig $tool -- -g -fno-sanitize=all -target x86_64-linux-gnu "\$@"
WRAPPER
    chmod +x "$dir/zig$tool.tmp"
    # Rewritten only when different, so cargo's fingerprints of C dependencies stay put between runs.
    cmp -s "$dir/zig$tool.tmp" "$dir/zig$tool" && rm "$dir/zig$tool.tmp" || mv "$dir/zig$tool.tmp" "$dir/zig$tool"
  done
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$dir/zigcc"
  export CC_x86_64_unknown_linux_gnu="$dir/zigcc"
  export CXX_x86_64_unknown_linux_gnu="$dir/zigc++"
}

if [ "$(uname -m)" = x86_64 ]; then
  lambda_linker_setup
else
  printf 'the Lambda-style link is set up for x86_64 hosts only (this is %s): the host toolchain links\n' "$(uname -m)" >&2
fi
