/* fault_shim.c — an LD_PRELOAD library that makes chosen file system calls of
 * a process fail with a chosen errno, so that tests can prove what signalsd
 * does on I/O errors (README.md#full-disk-and-io-errors). Built as a shared
 * library in the test tree only; never installed.
 *
 *   SIGNALS_FAULT=RULE[,RULE...]
 *   RULE = CALLS:ERRNO:PATH[:COUNT[:SKIP]]
 *
 *   CALLS  calls to fail, joined with '+': write (write, writev, pwrite,
 *          pwrite64, pwritev), fsync, fdatasync, rename (rename, renameat,
 *          renameat2), link (link, linkat), open (open, open64, openat, when
 *          creating or opening for writing), mkdir, unlink.
 *   ERRNO  a name: EIO, ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EMFILE, EINVAL,
 *          ENOSYS, ENOTSUP, EXDEV, EINTR; or a number.
 *   PATH   a substring of the file's path (for fd calls: the path the fd was
 *          opened as, read from /proc/self/fd; for rename and link: either
 *          name). A trailing '$' anchors it at the end, e.g. "/acme$" for the
 *          directory itself and not the files in it. Empty matches every path.
 *   COUNT  how many matching calls fail (default 1; 0 = every one).
 *   SKIP   how many matching calls succeed before the first failure (default 0).
 *
 *   SIGNALS_FAULT_ARM=FILE  rules apply only while FILE exists, so a test can
 *          start the process cleanly and arm the fault later (touch FILE).
 *   SIGNALS_FAULT_LOG=FILE  every call a rule matches (while armed) appends
 *          one line "CALL ERRNO PATH" for a failure it injected, or "CALL ok
 *          PATH" for one it let through (skipped or after COUNT), so a test
 *          can tell that the fault fired and what was retried after it (an
 *          fsync of a file whose fsync failed, say).
 *
 * Example: SIGNALS_FAULT=fsync+fdatasync:EIO:/runtime-facts/acme$:1:0 fails the
 * first fsync of that directory with EIO and lets every later one succeed.
 *
 * A failed call does nothing: the real function is not called. Counting is
 * per process and thread-safe (atomics). The shim reads SIGNALS_FAULT once, at
 * the first intercepted call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
  kWrite = 1 << 0,
  kFsync = 1 << 1,
  kFdatasync = 1 << 2,
  kRename = 1 << 3,
  kLink = 1 << 4,
  kOpen = 1 << 5,
  kMkdir = 1 << 6,
  kUnlink = 1 << 7,
};

#define MAX_RULES 8

struct rule {
  int calls;
  int err;
  char path[256];
  int anchored; /* PATH ended with '$' */
  long count;   /* 0: unlimited */
  long skip;
  atomic_long matched; /* matching calls seen so far */
};

static struct rule rules[MAX_RULES];
static int rule_count;
static const char* arm_file;
static const char* log_file;
static pthread_once_t once_ = PTHREAD_ONCE_INIT;

static int parse_calls(const char* text) {
  static const struct {
    const char* name;
    int bits;
  } names[] = {{"write", kWrite}, {"fsync", kFsync}, {"fdatasync", kFdatasync}, {"rename", kRename},
               {"link", kLink},   {"open", kOpen},   {"mkdir", kMkdir},         {"unlink", kUnlink}};
  int bits = 0;
  char buffer[128];
  snprintf(buffer, sizeof buffer, "%s", text);
  for (char *save = NULL, *name = strtok_r(buffer, "+", &save); name; name = strtok_r(NULL, "+", &save)) {
    int known = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
      if (strcmp(name, names[i].name) == 0) {
        bits |= names[i].bits;
        known = 1;
      }
    }
    if (!known) {
      fprintf(stderr, "fault_shim: unknown call '%s' in SIGNALS_FAULT\n", name);
      abort(); /* a typo must not make a test pass without its fault */
    }
  }
  return bits;
}

static int parse_errno(const char* text) {
  static const struct {
    const char* name;
    int value;
  } names[] = {{"EIO", EIO},       {"ENOSPC", ENOSPC},   {"EDQUOT", EDQUOT}, {"EROFS", EROFS},
               {"EACCES", EACCES}, {"EPERM", EPERM},     {"EMFILE", EMFILE}, {"EINVAL", EINVAL},
               {"ENOSYS", ENOSYS}, {"ENOTSUP", ENOTSUP}, {"EXDEV", EXDEV},   {"EINTR", EINTR}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    if (strcmp(text, names[i].name) == 0) return names[i].value;
  }
  char* end = NULL;
  long value = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value <= 0) {
    fprintf(stderr, "fault_shim: unknown errno '%s' in SIGNALS_FAULT\n", text);
    abort();
  }
  return (int)value;
}

static void parse(void) {
  arm_file = getenv("SIGNALS_FAULT_ARM");
  log_file = getenv("SIGNALS_FAULT_LOG");
  const char* spec = getenv("SIGNALS_FAULT");
  if (spec == NULL || *spec == '\0') return;
  char* copy = strdup(spec);
  for (char *save = NULL, *text = strtok_r(copy, ",", &save); text && rule_count < MAX_RULES;
       text = strtok_r(NULL, ",", &save)) {
    /* Fields split by hand: strtok would merge an empty PATH with its neighbours. */
    char* field[5] = {text, NULL, NULL, NULL, NULL};
    int fields = 1;
    for (char* p = text; *p && fields < 5; ++p) {
      if (*p == ':') {
        *p = '\0';
        field[fields++] = p + 1;
      }
    }
    if (fields < 3) {
      fprintf(stderr, "fault_shim: rule '%s' needs CALLS:ERRNO:PATH\n", text);
      abort();
    }
    struct rule* r = &rules[rule_count++];
    r->calls = parse_calls(field[0]);
    r->err = parse_errno(field[1]);
    snprintf(r->path, sizeof r->path, "%s", field[2]);
    size_t len = strlen(r->path);
    if (len > 0 && r->path[len - 1] == '$') {
      r->path[len - 1] = '\0';
      r->anchored = 1;
    }
    r->count = fields > 3 ? strtol(field[3], NULL, 10) : 1;
    r->skip = fields > 4 ? strtol(field[4], NULL, 10) : 0;
    atomic_init(&r->matched, 0);
  }
  free(copy);
}

static int path_matches(const struct rule* r, const char* path) {
  if (path == NULL) return 0;
  if (!r->anchored) return strstr(path, r->path) != NULL;
  size_t len = strlen(path), want = strlen(r->path);
  return len >= want && strcmp(path + len - want, r->path) == 0;
}

static void log_call(const char* call, int err, const char* path) {
  if (log_file == NULL) return;
  /* The real write would do, but a plain stdio append keeps this readable;
   * fopen's own writes go through glibc's internal entry points, not ours. */
  FILE* out = fopen(log_file, "a");
  if (out == NULL) return;
  if (err != 0) {
    fprintf(out, "%s %s %s\n", call, strerrorname_np(err) ? strerrorname_np(err) : "E?", path);
  } else {
    fprintf(out, "%s ok %s\n", call, path);
  }
  fclose(out);
}

/* Returns the errno to fail with (0: let the call through). `path2` is the
 * second name of rename and link, or NULL. */
static int decide(int call, const char* name, const char* path, const char* path2) {
  pthread_once(&once_, parse);
  if (rule_count == 0) return 0;
  for (int i = 0; i < rule_count; ++i) {
    struct rule* r = &rules[i];
    if (!(r->calls & call)) continue;
    if (!path_matches(r, path) && !path_matches(r, path2)) continue;
    if (arm_file != NULL && access(arm_file, F_OK) != 0) continue;
    const char* shown = path2 != NULL && !path_matches(r, path) ? path2 : path;
    long n = atomic_fetch_add(&r->matched, 1);
    if (n < r->skip || (r->count != 0 && n >= r->skip + r->count)) {
      log_call(name, 0, shown);
      continue;
    }
    log_call(name, r->err, shown);
    return r->err;
  }
  return 0;
}

/* The path an fd was opened as ("" when unknown, e.g. a socket is "socket:[n]"). */
static const char* fd_path(int fd, char* buffer, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buffer, size - 1);
  buffer[n > 0 ? (size_t)n : 0] = '\0';
  return buffer;
}

static int decide_fd(int call, const char* name, int fd) {
  pthread_once(&once_, parse);
  if (rule_count == 0) return 0; /* no readlink per write when no rule is set */
  char path[PATH_MAX];
  return decide(call, name, fd_path(fd, path, sizeof path), NULL);
}

/* An at-call's path as an absolute one when it is relative to a directory fd. */
static const char* at_path(int dirfd, const char* path, char* buffer, size_t size) {
  if (path == NULL || path[0] == '/' || dirfd == AT_FDCWD) return path;
  char dir[PATH_MAX];
  int n = snprintf(buffer, size, "%s/%s", fd_path(dirfd, dir, sizeof dir), path);
  /* Too long to be a real path: match on the name as given. */
  return n < 0 || (size_t)n >= size ? path : buffer;
}

/* The body of every interceptor: `decision` (an expression) yields the errno
 * to fail with, or 0 to call the next definition of `name` (libc's) with the
 * remaining arguments. A failed call sets errno, returns -1 and calls nothing.
 * Each interceptor passes its own name (__func__) to decide, so what the log
 * shows is the intercepted function. dlsym returns an object pointer; copying
 * it into the function pointer keeps ISO C (-Wpedantic). */
#define INTERCEPT(name, decision, ...)         \
  do {                                         \
    int err = (decision);                      \
    if (err != 0) {                            \
      errno = err;                             \
      return -1;                               \
    }                                          \
    name##_fn real_fn;                         \
    void* symbol = dlsym(RTLD_NEXT, #name);    \
    memcpy(&real_fn, &symbol, sizeof real_fn); \
    return real_fn(__VA_ARGS__);               \
  } while (0)

/* The mode argument of open, open64 and openat: read only when it is there. */
#define OPEN_MODE(flags, mode)          \
  do {                                  \
    if (has_mode(flags)) {              \
      va_list args;                     \
      va_start(args, flags);            \
      mode = (mode_t)va_arg(args, int); \
      va_end(args);                     \
    }                                   \
  } while (0)

typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec*, int);
typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void*, size_t, off64_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec*, int, off_t);
typedef int (*fsync_fn)(int);
typedef int (*fdatasync_fn)(int);
typedef int (*rename_fn)(const char*, const char*);
typedef int (*renameat_fn)(int, const char*, int, const char*);
typedef int (*renameat2_fn)(int, const char*, int, const char*, unsigned int);
typedef int (*link_fn)(const char*, const char*);
typedef int (*linkat_fn)(int, const char*, int, const char*, int);
typedef int (*open_fn)(const char*, int, ...);
typedef int (*open64_fn)(const char*, int, ...);
typedef int (*openat_fn)(int, const char*, int, ...);
typedef int (*mkdir_fn)(const char*, mode_t);
typedef int (*unlink_fn)(const char*);

ssize_t write(int fd, const void* data, size_t len) {
  INTERCEPT(write, decide_fd(kWrite, __func__, fd), fd, data, len);
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  INTERCEPT(writev, decide_fd(kWrite, __func__, fd), fd, iov, count);
}

ssize_t pwrite(int fd, const void* data, size_t len, off_t offset) {
  INTERCEPT(pwrite, decide_fd(kWrite, __func__, fd), fd, data, len, offset);
}

ssize_t pwrite64(int fd, const void* data, size_t len, off64_t offset) {
  INTERCEPT(pwrite64, decide_fd(kWrite, __func__, fd), fd, data, len, offset);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  INTERCEPT(pwritev, decide_fd(kWrite, __func__, fd), fd, iov, count, offset);
}

int fsync(int fd) { INTERCEPT(fsync, decide_fd(kFsync, __func__, fd), fd); }

int fdatasync(int fd) { INTERCEPT(fdatasync, decide_fd(kFdatasync, __func__, fd), fd); }

int rename(const char* from, const char* to) {
  INTERCEPT(rename, decide(kRename, __func__, from, to), from, to);
}

int renameat(int from_dir, const char* from, int to_dir, const char* to) {
  char a[PATH_MAX], b[PATH_MAX];
  INTERCEPT(renameat,
            decide(kRename, __func__, at_path(from_dir, from, a, sizeof a), at_path(to_dir, to, b, sizeof b)),
            from_dir, from, to_dir, to);
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to, unsigned int flags) {
  char a[PATH_MAX], b[PATH_MAX];
  INTERCEPT(renameat2,
            decide(kRename, __func__, at_path(from_dir, from, a, sizeof a), at_path(to_dir, to, b, sizeof b)),
            from_dir, from, to_dir, to, flags);
}

int link(const char* from, const char* to) { INTERCEPT(link, decide(kLink, __func__, from, to), from, to); }

int linkat(int from_dir, const char* from, int to_dir, const char* to, int flags) {
  char a[PATH_MAX], b[PATH_MAX];
  INTERCEPT(linkat,
            decide(kLink, __func__, at_path(from_dir, from, a, sizeof a), at_path(to_dir, to, b, sizeof b)),
            from_dir, from, to_dir, to, flags);
}

/* Only opens that create or write are candidates: a read-only open is not
 * storage taking data. */
static int opens_for_writing(int flags) { return (flags & (O_CREAT | O_WRONLY | O_RDWR)) != 0; }

/* Whether open's third argument is there. O_TMPFILE includes O_DIRECTORY, so
 * a plain O_DIRECTORY open must not count. */
static int has_mode(int flags) { return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE; }

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  OPEN_MODE(flags, mode);
  INTERCEPT(open, opens_for_writing(flags) ? decide(kOpen, __func__, path, NULL) : 0, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  OPEN_MODE(flags, mode);
  INTERCEPT(open64, opens_for_writing(flags) ? decide(kOpen, __func__, path, NULL) : 0, path, flags, mode);
}

int openat(int dir, const char* path, int flags, ...) {
  mode_t mode = 0;
  OPEN_MODE(flags, mode);
  char buffer[PATH_MAX];
  INTERCEPT(
      openat,
      opens_for_writing(flags) ? decide(kOpen, __func__, at_path(dir, path, buffer, sizeof buffer), NULL) : 0,
      dir, path, flags, mode);
}

int mkdir(const char* path, mode_t mode) {
  INTERCEPT(mkdir, decide(kMkdir, __func__, path, NULL), path, mode);
}

int unlink(const char* path) { INTERCEPT(unlink, decide(kUnlink, __func__, path, NULL), path); }
