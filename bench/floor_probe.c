// The bench's floor tracer (floor_probe.bpf.c): attaches the `empty` or the `clock` pair to
// sys_enter/sys_exit, prints "ready" once both are live, and detaches on SIGINT or SIGTERM.
//   floor_probe OBJECT empty|clock
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char** argv) {
    if (argc != 3 || (strcmp(argv[2], "empty") && strcmp(argv[2], "clock"))) {
        fprintf(stderr, "usage: floor_probe OBJECT empty|clock\n");
        return 2;
    }
    struct bpf_object* obj = bpf_object__open_file(argv[1], NULL);
    if (!obj) {
        perror("floor_probe: open");
        return 1;
    }
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, obj) bpf_program__set_autoload(prog, strncmp(bpf_program__name(prog), argv[2], strlen(argv[2])) == 0);
    if (bpf_object__load(obj)) {
        perror("floor_probe: load");
        return 1;
    }
    bpf_object__for_each_program(prog, obj) {
        if (bpf_program__autoload(prog) && !bpf_program__attach(prog)) {
            perror("floor_probe: attach");
            return 1;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("ready\n");
    fflush(stdout);
    while (!stop) pause();
    bpf_object__close(obj);
    return 0;
}
