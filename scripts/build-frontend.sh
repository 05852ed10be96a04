#!/usr/bin/env bash
# Builds the browser half into target/site/pkg: lockstep-<hash>.js, lockstep-<hash>_bg.wasm and
# lockstep-<hash>.css, named in target/site/pkg/asset-name.
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

# brotli (a Debian package, installed when missing) compresses the assets beforehand; without
# it the build still works (gzip only).
if ! command -v brotli >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "==> installing brotli (Debian package)"
  apt-get install -y brotli >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y brotli >/dev/null 2>&1; } || true
fi

out=target/site/pkg
mkdir -p "$out"
rm -f "$out"/lockstep*
# Without the name section (function names, for debuggers): a third of the file.
# (Debian's wasm-opt 108 is not used: it rewrites the externref table wasm-bindgen makes for
# rustc's default reference types, and the module no longer starts.)
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$out" --out-name lockstep \
  "target/wasm32-unknown-unknown/$profile/frontend.wasm"
cat style/*.css > "$out/lockstep.css"

# Content-hashed names (lockstep-<hash>.js, lockstep-<hash>_bg.wasm, lockstep-<hash>.css):
# browsers keep them for a year, and a new build is new names. The server reads the name
# from asset-name.
hash=$(cat "$out/lockstep.js" "$out/lockstep_bg.wasm" "$out/lockstep.css" | sha256sum | cut -c1-16)
name="lockstep-$hash"
mv "$out/lockstep.js" "$out/$name.js"
mv "$out/lockstep_bg.wasm" "$out/${name}_bg.wasm"
mv "$out/lockstep.css" "$out/$name.css"
echo "$name" > "$out/asset-name"

# Compressed beside each file, once (brotli where the tool is there, and gzip): the server
# sends the smallest the browser accepts.
for file in "$out/${name}_bg.wasm" "$out/$name.js" "$out/$name.css"; do
  gzip -9 -k -f "$file"
  if command -v brotli >/dev/null 2>&1; then brotli -q 11 -k -f "$file"; fi
done

raw=$(wc -c < "$out/${name}_bg.wasm")
gz=$(wc -c < "$out/${name}_bg.wasm.gz")
br=$( [ -f "$out/${name}_bg.wasm.br" ] && wc -c < "$out/${name}_bg.wasm.br" || echo 0)
echo "==> front end ready in $out as $name: wasm $((raw / 1024)) KiB, $((gz / 1024)) KiB gzipped, $((br / 1024)) KiB brotli"
