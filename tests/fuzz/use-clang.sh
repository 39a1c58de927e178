#!/bin/sh
# Compiler/linker launcher for the fuzz target: CMake runs `use-clang.sh CLANG++ <configured
# compiler> ARGS…`; the configured compiler (g++) is dropped and clang++ gets the same ARGS,
# so the target keeps the project's include paths, definitions and transitive link line.
clang=$1
shift 2
exec "$clang" "$@"
