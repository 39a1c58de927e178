#!/usr/bin/env bash
# ipctrace(1) from the real --help: help2man formats `ipctrace --help` and --version, and this
# script adds each subcommand's --help to OPTIONS (listed from the top-level help, so a new
# subcommand is never left out) to the written sections of packaging/ipctrace.h2m.
# Usage: make-man.sh IPCTRACE_BINARY OUTPUT.1
set -euo pipefail
bin=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
include=$(mktemp)
trap 'rm -f "$include"' EXIT
{
  cat "$here/ipctrace.h2m"
  echo "[>OPTIONS]"
  "$bin" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }' | while read -r sub; do
    echo ".SS \"ipctrace $sub\""
    echo ".nf"
    # roff: a backslash is \e; a line starting with . or ' would be a request.
    "$bin" "$sub" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
    echo ".fi"
  done
} > "$include"
# The version line only: the rest of --version (commit, kernel) is the build machine's.
version=$("$bin" --version | head -n 1)
help2man --no-info --version-string "${version#ipctrace }" --section 1 --source "ipctrace" --manual "User Commands" \
  --name "where inter-process communication spends its time" --include "$include" --output "$out" "$bin"
