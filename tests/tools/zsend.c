/* zsend: sends its standard input as one ZeroMQ frame over a DEALER, for
 * tests that feed an aggregator hostile bytes. Waits up to a second for a
 * reply and prints its size ("reply N bytes" or "no reply").
 * Usage: zsend ENDPOINT < bytes */
#include <czmq.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: zsend ENDPOINT < bytes\n");
        return 2;
    }
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    zsys_handler_set(NULL);
    zsock_t *dealer = zsock_new_dealer(argv[1]);
    if (!dealer) {
        fprintf(stderr, "zsend: cannot connect to %s\n", argv[1]);
        return 1;
    }
    zframe_t *frame = zframe_new(buf, n);
    if (zframe_send(&frame, dealer, 0) != 0) {
        fprintf(stderr, "zsend: send failed\n");
        return 1;
    }
    zsock_set_rcvtimeo(dealer, 1000);
    zframe_t *reply = zframe_recv(dealer);
    if (reply)
        printf("reply %zu bytes\n", zframe_size(reply));
    else
        printf("no reply\n");
    zframe_destroy(&reply);
    zsock_set_linger(dealer, 500);
    zsock_destroy(&dealer);
    return 0;
}
