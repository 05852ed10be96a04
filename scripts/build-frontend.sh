#!/usr/bin/env bash
# Builds the browser half into target/site/pkg: lockstep.js, lockstep_bg.wasm, lockstep.css.
# Uses only crates.io: the wasm32 target from rustup and wasm-bindgen-cli built from source
# at exactly the wasm-bindgen version in Cargo.lock (no prebuilt binaries are downloaded).
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

profile=${LOCKSTEP_WASM_PROFILE:-wasm-release}
echo "==> building the front end (profile $profile)"
# (.cargo/config.toml type-erases Leptos components in this build and the server's alike.)
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

out=target/site/pkg
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name lockstep \
  "target/wasm32-unknown-unknown/$profile/frontend.wasm"
cat style/*.css > "$out/lockstep.css"

# Gzipped beside each file, once: the server sends these to browsers that accept gzip.
for file in "$out/lockstep_bg.wasm" "$out/lockstep.js" "$out/lockstep.css"; do
  gzip -9 -k -f "$file"
done

raw=$(wc -c < "$out/lockstep_bg.wasm")
gz=$(wc -c < "$out/lockstep_bg.wasm.gz")
echo "==> front end ready in $out: lockstep_bg.wasm $((raw / 1024)) KiB, $((gz / 1024)) KiB gzipped"
