#!/bin/sh
# tests/install-check.sh - installs airsrt into a temporary root and builds
# a program against it with pkg-config, as a user would; run by .ci/run.
set -eu
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

make -s install DESTDIR="$root" PREFIX=/usr >/dev/null
for f in usr/include/airsrt/airsrt.h usr/lib/libairsrt.a usr/lib/libairsrt.so \
         usr/lib/pkgconfig/airsrt.pc usr/bin/airsrt-bench \
         usr/share/man/man1/airsrt-bench.1; do
    [ -e "$root/$f" ] || { echo "install-check: $f not installed" >&2; exit 1; }
done

cat > "$root/app.c" <<'EOF'
#include <airsrt/airsrt.h>
#include <stdio.h>

int main(void)
{
    struct airsrt_address a = { .worker = 3, .incarnation = 7,
                                .slot = 1042, .generation = 2 };
    char buf[AIRSRT_ADDRESS_STR_MAX];

    airsrt_address_format(&a, buf, sizeof(buf));
    puts(buf);
    return 0;
}
EOF
export PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
# shellcheck disable=SC2046
cc -std=gnu17 -Wall -Wextra -Werror "$root/app.c" -o "$root/app" \
    $(pkg-config --cflags --libs airsrt)
out=$(LD_LIBRARY_PATH="$root/usr/lib" "$root/app")
[ "$out" = "<3.7:1042.2>" ] || { echo "install-check: app printed '$out'" >&2; exit 1; }
echo "install-check: installed tree builds and runs a program"
