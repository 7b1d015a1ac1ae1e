#!/bin/sh
# Fails when a tracked C/C++ file differs from what clang-format (with the
# repository's .clang-format) would write. Fix with:
#   git ls-files '*.cc' '*.h' '*.c' | xargs clang-format -i
set -eu
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then
  echo "format_check: clang-format is missing (package clang-format)" >&2
  exit 1
fi
files=$(git ls-files '*.cc' '*.h' '*.c')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
