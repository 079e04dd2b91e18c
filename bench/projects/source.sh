# Sourced by the project benchmarks: extract_source PKG DEST [dpkg-source
# options] unpacks Debian source package PKG (patched) into DEST, from the
# cache $GG_TEST_CACHE (default /var/cache/gg-test-sources), downloading it
# there first if missing.
extract_source() {
  pkg=$1 dest=$2
  shift 2
  cache=${GG_TEST_CACHE:-/var/cache/gg-test-sources}
  mkdir -p "$cache"
  if ! ls "$cache"/${pkg}_*.dsc >/dev/null 2>&1; then
    # A mirror may lack the newest (security) version's files: try the others.
    (cd "$cache" && apt-get source -qq --download-only "$pkg") ||
      for v in $(apt-cache showsrc "$pkg" | sed -n 's/^Version: //p' | sort -r); do
        (cd "$cache" && apt-get source -qq --download-only "$pkg=$v") && break
      done
  fi
  dpkg-source -x --no-check "$@" "$(ls "$cache"/${pkg}_*.dsc | tail -1)" "$dest" >/dev/null
}

# extract_orig PKG DEST: the upstream release (`*.orig.tar.*` beside the
# Debian source) unpacked into DEST, for builds Debian's patches change
# (openssh's configure then wants autoreconf). PKG may be "name/suite".
extract_orig() {
  pkg=$1 dest=$2
  name=${pkg%%/*}
  cache=${GG_TEST_CACHE:-/var/cache/gg-test-sources}
  mkdir -p "$cache" "$dest"
  if ! ls "$cache"/${name}_*.orig.tar.* >/dev/null 2>&1; then
    (cd "$cache" && apt-get source -qq --download-only "$pkg")
  fi
  tar -xf "$(ls "$cache"/${name}_*.orig.tar.* | grep -v '\.asc$' | tail -1)" -C "$dest" --strip-components=1
}
