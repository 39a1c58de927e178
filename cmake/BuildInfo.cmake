# Run at build time (cmake -P): writes OUT with the commit the binary is built from, so
# `ipctrace --version` and a report's `tool` say which code ran. configure_file leaves OUT
# untouched when nothing changed, so an unchanged tree rebuilds nothing.
# Inputs: SRC (the source tree), OUT, VERSION, LIBBPF (the libbpf version built against).
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")  # a tarball, not a git checkout
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes ERROR_QUIET)
  if(NOT changes STREQUAL "")
    string(APPEND commit "-dirty")
  endif()
endif()
set(IPCTRACE_COMMIT "${commit}")
set(IPCTRACE_VERSION "${VERSION}")
set(IPCTRACE_LIBBPF_VERSION "${LIBBPF}")
configure_file("${SRC}/src/common/build_info.h.in" "${OUT}" @ONLY)
