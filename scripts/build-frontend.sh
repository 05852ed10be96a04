#!/usr/bin/env bash
# Builds the browser half into target/site/pkg: lockstep-<hash>.js, lockstep-<hash>_bg.wasm (the
# main WASM), the lazy pages (lockstep-<hash>-*.wasm, loaded by lockstep-<hash>-split.js) and
# lockstep-<hash>.css, named in target/site/pkg/asset-name.
# Uses only crates.io: the wasm32 target from rustup, wasm-bindgen-cli built from source at
# exactly the wasm-bindgen version in Cargo.lock, and wasm-split-cli built from source (no
# prebuilt binaries are downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "==> adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qF " $wb_version"; then
  echo "==> installing wasm-bindgen-cli $wb_version (from source, once per machine; ~3 min)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# wasm-split-cli splits the pages marked lazy (`app::lazy_pages`) out of the WASM, into
# files loaded when such a page is first shown. Built from crates.io source, once.
ws_version=0.2.3
if ! cargo install --list | grep -qF "wasm_split_cli_support v$ws_version:"; then
  echo "==> installing wasm-split-cli $ws_version (from source, once per machine; ~1 min)"
  cargo install wasm_split_cli_support --version "$ws_version" --features build-binary
fi

profile=${LOCKSTEP_WASM_PROFILE:-wasm-release}
echo "==> building the front end (profile $profile)"
# Components are type-erased in this build and the server's alike (.cargo/config.toml; an
# explicit RUSTFLAGS replaces that file's flags, so they are repeated here). The linker keeps
# its relocations for wasm-split-cli and leaves out names, which the lazy pages' files would
# otherwise carry (wasm-bindgen strips them from the main file only).
RUSTFLAGS="--cfg erase_components -Clink-args=--emit-relocs -Clink-args=--strip-all" \
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

# brotli (a Debian package, installed when missing) compresses the assets beforehand; without
# it the build still works (gzip only).
if ! command -v brotli >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "==> installing brotli (Debian package)"
  apt-get install -y brotli >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y brotli >/dev/null 2>&1; } || true
fi

out=target/site/pkg
mkdir -p "$out"
rm -f "$out"/lockstep*
input="target/wasm32-unknown-unknown/$profile/frontend.wasm"
# Content-hashed names (lockstep-<hash>.js, lockstep-<hash>_bg.wasm, lockstep-<hash>.css, and
# the lazy pages' lockstep-<hash>-*.wasm with their loader lockstep-<hash>-split.js), from
# what the build made: browsers keep them for a year, and a new build is new names. The
# server reads the name from asset-name.
hash=$(cat "$input" style/*.css | sha256sum | cut -c1-16)
name="lockstep-$hash"
split=$(mktemp -d)
trap 'rm -rf "$split"' EXIT
wasm-split-cli "$input" "$split" --out-name "$name"
# Without the name section (function names, for debuggers): a third of the file.
# (Debian's wasm-opt 108 is not used: it rewrites the externref table wasm-bindgen makes for
# rustc's default reference types, and the module no longer starts.)
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
  --remove-name-section --remove-producers-section \
  --out-dir "$out" --out-name "$name" "$split/$name.wasm"
# The loader of the lazy pages and their files, under the build's name.
sed -i "s#from \"./__wasm_split.js\"#from \"./$name-split.js\"#" "$out/$name.js"
for chunk in "$split"/*.wasm; do
  file=$(basename "$chunk")
  [ "$file" = "$name.wasm" ] && continue
  mv "$chunk" "$out/$name-$file"
  sed -i "s#\"./$file\"#\"./$name-$file\"#" "$split/__wasm_split.js"
done
mv "$split/__wasm_split.js" "$out/$name-split.js"
cat style/*.css > "$out/$name.css"
echo "$name" > "$out/asset-name"

# Compressed beside each file, once (brotli where the tool is there, and gzip): the server
# sends the smallest the browser accepts.
for file in "$out/$name"*.wasm "$out/$name"*.js "$out/$name.css"; do
  gzip -9 -k -f "$file"
  if command -v brotli >/dev/null 2>&1; then brotli -q 11 -k -f "$file"; fi
done

raw=$(wc -c < "$out/${name}_bg.wasm")
gz=$(wc -c < "$out/${name}_bg.wasm.gz")
br=$( [ -f "$out/${name}_bg.wasm.br" ] && wc -c < "$out/${name}_bg.wasm.br" || echo 0)
lazy=$(cat "$out/$name"-*.wasm.gz 2>/dev/null | wc -c)
echo "==> front end ready in $out as $name: wasm $((raw / 1024)) KiB, $((gz / 1024)) KiB gzipped, $((br / 1024)) KiB brotli; lazy pages $((lazy / 1024)) KiB gzipped, loaded when first shown"
