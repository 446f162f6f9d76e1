/* The floor under the runtime's cold start: sends GET /next over a raw socket
 * as soon as main runs, then waits to be stopped. Built twice by the Makefile,
 * once alone and once linked (unused) against libcurl, so the benchmark can
 * tell the dynamic loader's share of our first /next from our own code's. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) {
        return 1;
    }
    char host[128];
    snprintf(host, sizeof(host), "%s", api);
    char *colon = strrchr(host, ':');
    if (!colon) {
        return 1;
    }
    *colon = '\0';
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *addr;
    if (getaddrinfo(host, colon + 1, &hints, &addr) != 0) {
        return 1;
    }
    int fd = socket(addr->ai_family, addr->ai_socktype, 0);
    if (fd < 0 || connect(fd, addr->ai_addr, addr->ai_addrlen) != 0) {
        return 1;
    }
    freeaddrinfo(addr);
    static const char request[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
                                  "Host: runtime\r\n\r\n";
    if (write(fd, request, sizeof(request) - 1) < 0) {
        return 1;
    }
    pause();
    return 0;
}
