# bpf_skeleton(<name> <source.bpf.c>): compiles a BPF object with clang and generates
# <name>.skel.h with bpftool, and <name>.kernel_btf.h (the minimal kernel BTF), as its own
# target <name>_skel, so parallel builds cannot race.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(IPCTRACE_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${IPCTRACE_BPF_GEN_DIR})

function(bpf_skeleton name source)
  set(obj ${IPCTRACE_BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${IPCTRACE_BPF_GEN_DIR}/${name}.skel.h)
  get_filename_component(src_dir ${source} DIRECTORY)
  file(GLOB bpf_headers CONFIGURE_DEPENDS ${src_dir}/*.h ${src_dir}/*.def)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
            -I${src_dir} -I${IPCTRACE_BPF_GEN_DIR} -c ${source} -o ${obj}
    DEPENDS ${source} ${bpf_headers}
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${name}.skel.h"
    VERBATIM)
  # The minimal kernel BTF the loader relocates against on this kernel (see the script): never
  # fails the build; without it the binary relocates against the full kernel BTF.
  set(kbtf ${IPCTRACE_BPF_GEN_DIR}/${name}.kernel_btf.h)
  add_custom_command(
    OUTPUT ${kbtf}
    COMMAND sh ${CMAKE_SOURCE_DIR}/cmake/gen_kernel_btf.sh ${BPFTOOL} ${obj} ${src_dir}/kernel_types.def ${kbtf}
    DEPENDS ${obj} ${CMAKE_SOURCE_DIR}/cmake/gen_kernel_btf.sh ${src_dir}/kernel_types.def
    COMMENT "BPF minimal kernel BTF ${name}.kernel_btf.h"
    VERBATIM)
  add_custom_target(${name}_skel DEPENDS ${skel} ${kbtf})
endfunction()
