// A MAP_SHARED|MAP_ANONYMOUS region made before fork() and used by children only (the parent
// never touches it): child i writes one byte into each of its own `pages_i` pages, so
// it takes exactly that many write faults on the region (write faults map one page each,
// never fault-around). The trace-map test's oracle is the page counts it passes.
//
//   anon_shared PAGES...   one child per argument
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: anon_shared PAGES...\n");
        return 2;
    }
    const long page = sysconf(_SC_PAGESIZE);
    std::vector<long> pages;
    long total = 0;
    for (int i = 1; i < argc; ++i) {
        char* end = nullptr;
        const long n = std::strtol(argv[i], &end, 10);
        if (!end || *end || n <= 0 || n > 1 << 20) {
            std::fprintf(stderr, "anon_shared: bad page count '%s'\n", argv[i]);
            return 2;
        }
        pages.push_back(n);
        total += n;
    }
    auto* region = static_cast<volatile char*>(mmap(nullptr, static_cast<size_t>(total * page), PROT_READ | PROT_WRITE,
                                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    if (region == MAP_FAILED) {
        std::perror("anon_shared: mmap");
        return 1;
    }
    long offset = 0;
    for (const long n : pages) {
        const pid_t pid = fork();
        if (pid < 0) {
            std::perror("anon_shared: fork");
            return 1;
        }
        if (pid == 0) {
            for (long p = 0; p < n; ++p) region[(offset + p) * page] = 1;
            _exit(0);
        }
        offset += n;
    }
    int failed = 0;
    for (size_t i = 0; i < pages.size(); ++i) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    // The parent does not read the region back: its only users are the children.
    std::printf("%zu children touched %ld pages\n", pages.size(), total);
    return failed != 0;
}
