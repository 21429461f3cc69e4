#!/usr/bin/env bash
# build.sh — builds the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, out of tree, without configure.  SPDX-License-Identifier: MIT
#
#   tests/fuzz/build.sh [OUTDIR]      (default: ./fuzz-build in the current directory)
#
# Writes OUTDIR/config.h, compiles the project's sources (all of lib/ zones/ geoip/ server/
# but the two programs' main files) into OUTDIR/obj/ with -fsanitize=fuzzer-no-link, links
# one OUTDIR/fuzz_* per tests/fuzz/fuzz_*.c, and, when MaxMind::DB::Writer is installed,
# writes the GeoIP fixtures of tests/e2e/geo/mkmmdb.pl into OUTDIR/mmdb/ (fuzz_query and
# fuzz_control find them beside the binary).  Only what changed is rebuilt.
# lib/arena.c is replaced by tests/fuzz/arena_asan.c, one heap block per allocation, so that
# ASan sees overflows between arena allocations (FUZZ_ARENA=project keeps lib/arena.c).
# Environment: CC (default clang), JOBS (default: the number of CPUs), FUZZ_CFLAGS (added),
# FUZZ_ARENA.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-fuzz-build}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)
CC=${CC:-clang}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

command -v "$CC" >/dev/null || {
    echo "build.sh: $CC not found; install clang (Debian: clang libclang-rt-14-dev)" >&2
    exit 1
}
PKGS=(ldns libmaxminddb libevent libevent_pthreads yaml-0.1 libcurl json-c libfstrm libprotobuf-c)
pkg-config --exists "${PKGS[@]}" || {
    echo "build.sh: pkg-config does not know all of: ${PKGS[*]}" >&2
    exit 1
}

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -pthread -D_GNU_SOURCE $SAN ${FUZZ_CFLAGS:-}"
CPPFLAGS="-I$out -I$src $(pkg-config --cflags "${PKGS[@]}")"
LIBS="$(pkg-config --libs "${PKGS[@]}") -lm"

# A minimal config.h: the autoconf one may not exist (or may belong to another build).
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac" | head -1)
cat >"$out/config.h.new" <<EOF
/* config.h for the fuzz build, written by tests/fuzz/build.sh. */
#pragma once
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#define PACKAGE "meridian"
#define PACKAGE_VERSION "${version:-0.0.0}-fuzz"
#define VERSION PACKAGE_VERSION
EOF
if cmp -s "$out/config.h.new" "$out/config.h"; then rm "$out/config.h.new"; else mv "$out/config.h.new" "$out/config.h"; fi

# The newest of the headers and the build flags: anything older than it is rebuilt.
flags="$CC $CFLAGS $CPPFLAGS arena=${FUZZ_ARENA:-asan}"
if [ "$(cat "$out/flags" 2>/dev/null)" != "$flags" ]; then printf '%s' "$flags" >"$out/flags"; fi
newest() {
    local n=$1 f
    for f in "$@"; do [ "$f" -nt "$n" ] && n=$f; done
    echo "$n"
}
lib_dep=$(newest "$out/flags" "$out/config.h" "$src"/{lib,zones,zones/sign,geoip,server,server/fleet}/*.h)
target_dep=$(newest "$lib_dep" "$src"/tests/fuzz/*.h)

# ---- the project's sources, compiled once for every target ------------------------------
sources=()
for f in "$src"/{lib,zones,zones/sign,geoip,server,server/fleet}/*.c; do
    case $(basename "$f") in main.c | meridianctl.c) continue ;; esac
    # The arena gets a stand-in whose allocations ASan can guard (see arena_asan.c).
    [ "$f" = "$src/lib/arena.c" ] && [ "${FUZZ_ARENA:-asan}" != project ] && continue
    sources+=("$f")
done
[ "${FUZZ_ARENA:-asan}" != project ] && sources+=("$src/tests/fuzz/arena_asan.c")
# The dnstap schema's code, generated into OUTDIR/server/ (found through -I$out).
if [ ! -f "$out/server/dnstap.pb-c.c" ] || [ "$src/server/dnstap.proto" -nt "$out/server/dnstap.pb-c.c" ]; then
    (cd "$src" && protoc-c --c_out="$out" server/dnstap.proto)
fi
sources+=("$out/server/dnstap.pb-c.c")

stale=()
for f in "${sources[@]}"; do
    rel=${f#"$src"/}
    rel=${rel#"$out"/}
    obj="$out/obj/${rel//\//_}"
    obj=${obj%.c}.o
    if [ ! -f "$obj" ] || [ "$f" -nt "$obj" ] || [ "$lib_dep" -nt "$obj" ]; then stale+=("$f"); fi
done
if [ ${#stale[@]} -gt 0 ]; then
    echo "build.sh: compiling ${#stale[@]} source file(s) into $out/obj"
    export CC CFLAGS CPPFLAGS src out
    # shellcheck disable=SC2016 # expanded by the inner sh
    printf '%s\n' "${stale[@]}" | xargs -P "$JOBS" -I{} sh -c '
        f={}; rel=${f#"$src"/}; rel=${rel#"$out"/}; obj="$out/obj/$(echo "$rel" | tr / _)"; obj=${obj%.c}.o
        $CC $CFLAGS -fsanitize=fuzzer-no-link $CPPFLAGS -c "$f" -o "$obj.tmp" && mv "$obj.tmp" "$obj"'
fi
# Objects of sources that no longer exist must not linger in the archive.
lib="$out/libmeridian-fuzz.a"
objs=()
for f in "${sources[@]}"; do
    rel=${f#"$src"/}
    rel=${rel#"$out"/}
    o="$out/obj/${rel//\//_}"
    objs+=("${o%.c}.o")
done
present=("$out"/obj/*.o)
if [ ! -f "$lib" ] || [ ${#stale[@]} -gt 0 ] || [ ${#present[@]} != ${#objs[@]} ]; then
    for o in "$out"/obj/*.o; do
        case " ${objs[*]} " in *" $o "*) ;; *) rm -f "$o" ;; esac
    done
    rm -f "$lib"
    ar rcs "$lib" "${objs[@]}"
fi

# ---- one binary per target ------------------------------------------------------------
built=0
for t in "$src"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$t" .c)
    bin="$out/$name"
    if [ -x "$bin" ] && [ "$bin" -nt "$t" ] && [ "$bin" -nt "$lib" ] && [ "$bin" -nt "$target_dep" ]; then
        continue
    fi
    echo "build.sh: linking $name"
    # shellcheck disable=SC2086 # flag lists, split on purpose
    $CC $CFLAGS -fsanitize=fuzzer $CPPFLAGS "$t" "$lib" $LIBS -o "$bin.tmp" && mv "$bin.tmp" "$bin"
    built=$((built + 1))
done

# ---- GeoIP fixtures for the dynamic answers (optional) --------------------------------
if [ ! -s "$out/mmdb/city.mmdb" ] || [ "$src/tests/e2e/geo/mkmmdb.pl" -nt "$out/mmdb/city.mmdb" ]; then
    if perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null; then
        mkdir -p "$out/mmdb"
        perl "$src/tests/e2e/geo/mkmmdb.pl" "$out/mmdb" >/dev/null
    else
        echo "build.sh: no MaxMind::DB::Writer (libmaxmind-db-writer-perl): fuzzing without" \
            "GeoIP fixtures; operator networks and the latency table still place clients" >&2
    fi
fi
names=()
for t in "$src"/tests/fuzz/fuzz_*.c; do names+=("$(basename "$t" .c)"); done
echo "build.sh: targets in $out: ${names[*]}"
