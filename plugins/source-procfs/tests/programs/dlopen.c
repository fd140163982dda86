/* dlopen.c — a process that loads a library with dlopen() (no DT_NEEDED on
 * it) and sleeps: source-procfs sees it mapped, but no static path in the
 * module graph leads to it (lattice state X).
 * usage: procfs-test-dlopen LIBRARY [SECONDS]   (default 600) */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LIBRARY [SECONDS]\n", argv[0]);
    return 2;
  }
  const int seconds = argc > 2 ? atoi(argv[2]) : 600;
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
    return 1;
  }
  printf("ready %s\n", argv[1]);
  fflush(stdout);
  for (int i = 0; i < seconds; ++i) sleep(1);
  dlclose(library);
  return 0;
}
