#!/usr/bin/env bash
# Print the Debian archive URI and keyring of this machine's own apt
# configuration, as "URI KEYRING" (KEYRING may be "-").  Reads deb822
# *.sources files first, then classic sources.list lines.  Never invents a host.
set -euo pipefail

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
dirs=(/etc/apt/sources.list.d)

# deb822: paragraphs with Types/URIs/Suites/Signed-By.
for f in "${dirs[0]}"/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in *itc-workbench*) continue ;; esac
    out=$(awk -v cn="$codename" '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && uris != "" && suites != "" &&
                (cn == "" || (" " suites " ") ~ (" " cn " ")) && comps ~ /main/)
                { print uris, (key == "" ? "-" : key); found = 1; exit }
            types = uris = suites = comps = key = ""
        }
        /^[ \t]*$/ { flush(); next }
        /^#/ { next }
        /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
        /^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, " "); uris = u[1] }
        /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
        /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
        /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); key = $0 }
        END { if (!found) flush() }' "$f")
    if [ -n "$out" ]; then
        echo "$out"
        exit 0
    fi
done

# Classic one-line format.
for f in /etc/apt/sources.list "${dirs[0]}"/*.list; do
    [ -f "$f" ] || continue
    out=$(awk -v cn="$codename" '
        $1 == "deb" {
            i = 2; key = "-"
            if ($i ~ /^\[/) {
                opts = $i
                while ($i !~ /\]$/) { i++; opts = opts " " $i }
                if (match(opts, /signed-by=[^] ]+/))
                    key = substr(opts, RSTART + 10, RLENGTH - 10)
                i++
            }
            uri = $i; suite = $(i + 1)
            if ((cn == "" || suite == cn) && $0 ~ / main/) { print uri, key; exit }
        }' "$f")
    if [ -n "$out" ]; then
        echo "$out"
        exit 0
    fi
done

echo "apt-sources: no Debian archive entry for '${codename:-?}' with component main" \
     "found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources" >&2
exit 1
