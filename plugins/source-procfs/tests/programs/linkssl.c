/* linkssl.c — a process that links libssl (DT_NEEDED libssl.so.3, used, so
 * that --as-needed keeps it) and sleeps: what source-procfs must report with
 * libssl3's purl, reachable from this executable in the module graph.
 * usage: procfs-test-linkssl [SECONDS]   (default 600: never outlives a test) */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? atoi(argv[1]) : 600;
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL) return 1;
  printf("ready %s\n", OpenSSL_version(OPENSSL_VERSION));
  fflush(stdout);
  for (int i = 0; i < seconds; ++i) sleep(1);
  SSL_CTX_free(ctx);
  return 0;
}
