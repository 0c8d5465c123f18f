# Sourced by ./gatehouse and ./mvnw: finds a JDK of at least GATEHOUSE_JDK_REQUIRED (25) in the
# places Maven's toolchains discovery also looks, or explains what to install.

GATEHOUSE_JDK_REQUIRED="${GATEHOUSE_JDK_REQUIRED:-25}"

gatehouse_java_major() {
  local v
  v="$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)"
  echo "${v%%.*}"
}

# Prints the path of a suitable java binary, or returns 1.
gatehouse_find_java() {
  local candidates=() d c major
  [[ -n "${GATEHOUSE_JAVA:-}" ]] && candidates+=("$GATEHOUSE_JAVA")
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [[ -x "$d/bin/java" ]] && candidates+=("$d/bin/java")
  done
  for c in "${candidates[@]}"; do
    [[ -x "$c" ]] || continue
    major="$(gatehouse_java_major "$c" 2>/dev/null || true)"
    if [[ -n "$major" && "$major" -ge "$GATEHOUSE_JDK_REQUIRED" ]]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

gatehouse_no_jdk_message() {
  cat >&2 <<MSG
Gatehouse needs a JDK $GATEHOUSE_JDK_REQUIRED or newer, and none was found.
  Looked at GATEHOUSE_JAVA, JAVA_HOME, java on PATH, /usr/lib/jvm, /opt/java, ~/.sdkman and ~/.jdks.
  Install a JDK $GATEHOUSE_JDK_REQUIRED, for example Eclipse Temurin 25 (package temurin-25-jdk from the
  Adoptium repository, or 'sdk install java 25-tem'), or point GATEHOUSE_JAVA at its bin/java.
  (Maven itself may keep running on an older JDK: the build finds the JDK 25 by toolchains discovery.)
MSG
}
