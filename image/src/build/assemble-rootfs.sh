#!/usr/bin/env bash
# Assembles the generated part of the Gatehouse image's root file system, which Jib adds to a
# `scratch` base as an extra directory (the static part is image/src/main/jib):
#
#   /opt/java                      a Java runtime made by jlink from the build's JDK 25
#   /lib/x86_64-linux-gnu, /lib64  glibc (Debian package libc6): what the JVM links against
#   /usr/lib/x86_64-linux-gnu      libpg_query (Debian package libpg-query1504.0), loaded by FFM
#   /bin/sh                        dash (Debian package dash), runs /opt/gatehouse/bin/gatehouse
#   /tmp, /var/lib/gatehouse       empty; the image config makes them writable for uid 10001
#
# Usage: assemble-rootfs.sh OUT_DIR CACHE JDK_HINT MODULES PACKAGES
#   OUT_DIR    folder to (re)create, e.g. image/target/rootfs
#   CACHE      kept between builds, also clean ones: CACHE/debs holds the downloaded .deb files
#              (apt-get download runs only for a package with no .deb there, so a rebuild works
#              offline), CACHE/jre-<key> the jlink'd runtimes
#   JDK_HINT   a Java home to try first (Maven's java.home); used if it is a JDK 25 or newer,
#              otherwise the JDK 25 is found like ./gatehouse and ./mvnw find it
#   MODULES    comma-separated Java modules for jlink
#   PACKAGES   space-separated Debian packages (amd64)
#
# Debian packages are unpacked with dpkg-deb, never copied from the build host. Jib copies the
# targets of symbolic links and cannot place links, so every link is replaced by a copy of the file
# it names inside OUT_DIR (an absolute target is resolved against OUT_DIR, not the host).
set -euo pipefail

OUT="$1"
CACHE="$2"
DEB_CACHE="$CACHE/debs"
JDK_HINT="$3"
MODULES="$4"
read -r -a PACKAGES <<< "$5"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"

die() { echo "assemble-rootfs: $*" >&2; exit 1; }

# --- the JDK ---------------------------------------------------------------------------------
JDK=""
if [[ -x "$JDK_HINT/bin/jlink" ]]; then
  # shellcheck source=../../../.mvn/find-jdk.sh
  . "$ROOT/.mvn/find-jdk.sh"
  if [[ "$(gatehouse_java_major "$JDK_HINT/bin/java")" -ge 25 ]]; then JDK="$JDK_HINT"; fi
fi
if [[ -z "$JDK" ]]; then
  . "$ROOT/.mvn/find-jdk.sh"
  JAVA="$(gatehouse_find_java)" || { gatehouse_no_jdk_message; exit 1; }
  JDK="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
fi
[[ -x "$JDK/bin/jlink" ]] || die "no jlink in $JDK (a JDK, not a JRE, is needed)"

for tool in dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || die "$tool not found: the image is assembled from Debian packages (Debian/Ubuntu build host needed; -Djib.skip skips the image)"
done

# --- the Java runtime (jlink), reused while JDK and module list are unchanged -----------------
JRE_KEY="$JDK $("$JDK/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p') $MODULES"
JRE_CACHE="$CACHE/jre-$(echo "$JRE_KEY" | sha256sum | cut -c1-16)"
if [[ ! -d "$JRE_CACHE" ]]; then
  echo "assemble-rootfs: jlink $MODULES from $JDK" >&2
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/jre-tmp.XXXXXX")"
  "$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
    --generate-cds-archive --output "$tmp/jre"
  # another build may have made the same runtime meanwhile: either copy is right
  mv -T "$tmp/jre" "$JRE_CACHE" 2>/dev/null || true
  rm -rf "$tmp"
fi

# --- Debian packages --------------------------------------------------------------------------
mkdir -p "$DEB_CACHE"
DEBS=()
for pkg in "${PACKAGES[@]}"; do
  deb="$(ls "$DEB_CACHE/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -z "$deb" ]]; then
    echo "assemble-rootfs: apt-get download $pkg" >&2
    (cd "$DEB_CACHE" && apt-get download -q=2 "$pkg:amd64" 2>&1 | grep -v 'unsandboxed as root' >&2 || true)
    deb="$(ls "$DEB_CACHE/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n1 || true)"
    [[ -n "$deb" ]] || die "could not download the Debian package $pkg (apt-get download $pkg; run apt-get update?)"
  fi
  DEBS+=("$deb")
done

# --- the root file system ---------------------------------------------------------------------
# Rebuilt only when an input changed: Jib then finds its layer for it in its cache instead of
# compressing some 130 MB again.
STAMP="$(printf '%s\n' "$JRE_KEY" "${DEBS[@]##*/}" "$(sha256sum < "${BASH_SOURCE[0]}")" | sha256sum | cut -d' ' -f1)"
if [[ -d "$OUT" && -f "$OUT.stamp" && "$(cat "$OUT.stamp")" == "$STAMP" ]]; then
  echo "assemble-rootfs: $OUT is up to date" >&2
  exit 0
fi
rm -rf "$OUT" "$OUT.stamp"
mkdir -p "$OUT"
for deb in "${DEBS[@]}"; do
  dpkg-deb -x "$deb" "$OUT"
done
# Only the shared libraries, the shell and the licences: no docs, man pages, locales, gconv
# modules, ld.so.conf (the loader's built-in multiarch paths suffice) or libc's debug helpers.
find "$OUT/usr/share/doc" -type f ! -name copyright -delete
rm -rf "$OUT/usr/share/man" "$OUT/usr/share/lintian" "$OUT/usr/share/menu" "$OUT/usr/share/locale" \
       "$OUT/usr/lib/x86_64-linux-gnu/gconv" "$OUT/usr/libexec" "$OUT/usr/bin" "$OUT/usr/sbin" "$OUT/sbin" \
       "$OUT/etc" "$OUT/usr/share/debconf" "$OUT/usr/share/debianutils"
find "$OUT/lib/x86_64-linux-gnu" \( -name 'libmemusage.so' -o -name 'libpcprofile.so' -o -name 'libc_malloc_debug.so.*' \
       -o -name 'libthread_db.so.*' -o -name 'libBrokenLocale.so.*' -o -name 'libnss_hesiod.so.*' \) -delete

# Replace every symbolic link by a copy of what it names inside the rootfs (or drop it if that is
# not there); a link to a link is resolved step by step, never against the host.
resolve_in_rootfs() {
  local link="$1" target hops=0
  while [[ -L "$link" ]]; do
    target="$(readlink "$link")"
    if [[ "$target" == /* ]]; then link="$OUT$target"; else link="$(dirname "$link")/$target"; fi
    hops=$((hops + 1))
    [[ $hops -lt 20 ]] || return 1
  done
  [[ -f "$link" ]] && echo "$link"
}
while IFS= read -r -d '' link; do
  if real="$(resolve_in_rootfs "$link")"; then
    cp --remove-destination "$real" "$link"
  else
    rm -f "$link"
  fi
done < <(find "$OUT" -type l -print0)
# The development link name libpg_query.so (from libpg-query-dev) is not needed: the binding also
# looks for libpg_query.so.1504.0, which libpg-query1504.0 provides.
rm -f "$OUT"/usr/lib/x86_64-linux-gnu/libpg_query.so.1504.0.0

cp "$OUT/bin/dash" "$OUT/bin/sh"
mkdir -p "$OUT/opt"
# jlink links each module's legal notices to java.base's: copy the files instead
cp -rL "$JRE_CACHE" "$OUT/opt/java"
# The CDS archive for heaps over 32 GB (no compressed oops) is 15 MB; such a JVM just starts without CDS.
rm -f "$OUT/opt/java/lib/server/classes_nocoops.jsa"
# mount points a container runtime fills (the JVM reads /proc; /dev/urandom feeds SecureRandom)
mkdir -p "$OUT/tmp" "$OUT/var/lib/gatehouse" "$OUT/proc" "$OUT/dev" "$OUT/sys"

echo "assemble-rootfs: $(du -sh "$OUT" | cut -f1) in $OUT (packages: ${DEBS[*]##*/})" >&2
echo "$STAMP" > "$OUT.stamp"
