#!/usr/bin/env bash
# Packs one function for Lambda's provided.al2023 runtime:
#   tools/package.sh DIR [ZIP]
# DIR holds what stage-<LogicalId> put there (bootstrap, config/). Every
# shared library bootstrap needs that is not part of glibc goes under
# DIR/lib (Lambda puts /var/task/lib on LD_LIBRARY_PATH); then no file may
# need a glibc symbol version newer than Amazon Linux 2023's 2.34, and,
# given ZIP, DIR is zipped into it. Prints
# "package: NAME [zip_kb=N] bootstrap_kb=N libs=N".
set -euo pipefail
dir=$1 zip=${2:-}
max_glibc=2.34

# glibc's own libraries: the runtime provides these, newer or not.
glibc='^(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libnsl|libmvec|ld-linux[-a-z0-9_]*)\.so'

# Symbols are for debugging here, not for Lambda's cold start.
strip --strip-unneeded "$dir/bootstrap"
mkdir -p "$dir/lib"
libs=0
while read -r name path; do
    [ -n "$path" ] && [ -f "$path" ] || continue
    if [[ $name =~ $glibc ]]; then continue; fi
    cp -L "$path" "$dir/lib/$name"
    libs=$((libs + 1))
done < <(ldd "$dir/bootstrap" | awk '$2 == "=>" {print $1, $3}')

# The newest GLIBC_x.y each file asks for; a failure names file and version.
newest() {
    objdump -T "$1" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1
}
status=0
for f in "$dir/bootstrap" "$dir"/lib/*; do
    [ -f "$f" ] || continue
    v=$(newest "$f")
    if [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$v" "$max_glibc" | sort -V | tail -1)" != "$max_glibc" ]; then
        echo "package: $f needs GLIBC_$v, newer than Amazon Linux 2023's $max_glibc" >&2
        status=1
    fi
done
[ $status -eq 0 ] || exit 1

sizes="bootstrap_kb=$(($(stat -c %s "$dir/bootstrap") / 1024)) libs=$libs"
if [ -z "$zip" ]; then
    echo "package: $(basename "$dir") $sizes"
    exit 0
fi
zip=$(realpath -m "$zip")
rm -f "$zip"
(cd "$dir" && zip -q -r -X "$zip" bootstrap config lib)
echo "package: $(basename "$zip" .zip) zip_kb=$(($(stat -c %s "$zip") / 1024)) $sizes"
