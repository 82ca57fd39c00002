/* zreplay: sends a recording of dropscope-fleetsim --record (each message a
 * 4-byte little-endian length, then the frame) to an aggregator, in order,
 * at most WINDOW unanswered at a time, and waits for every answer: the same
 * run stored again by another aggregator or store. Prints "sent N, stored
 * S, other O"; exits 1 when a message was answered anything but stored (a
 * resend of one stored already is answered stored too) or an answer did
 * not come within 60 s.
 * Usage: zreplay ENDPOINT FILE */
#include <czmq.h>
#include <stdio.h>

#include "bytes.h"
#include "codec.h"

#define WINDOW 256
#define WAIT_MS 60000

typedef struct {
    size_t sent, stored, other;
} tally_t;

/* Waits for one answer and counts it. -1 when none came in time. */
static int s_answer(zsock_t *dealer, tally_t *t)
{
    zsock_set_rcvtimeo(dealer, WAIT_MS);
    zframe_t *frame = zframe_recv(dealer);
    if (!frame)
        return -1;
    char err[256];
    msg_t *msg = codec_decode(zframe_data(frame), zframe_size(frame), err, sizeof err);
    zframe_destroy(&frame);
    if (msg && msg->type == MSG_TYPE_ACK && msg->ack.status == ACK_STORED)
        t->stored++;
    else
        t->other++;
    if (msg && msg->type == MSG_TYPE_ACK && msg->ack.status != ACK_STORED)
        fprintf(stderr, "zreplay: message %llu answered %d: %s\n",
                (unsigned long long)msg->ack.seq, (int)msg->ack.status, msg->ack.error);
    codec_msg_destroy(&msg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: zreplay ENDPOINT FILE\n");
        return 2;
    }
    FILE *in = fopen(argv[2], "rb");
    if (!in) {
        fprintf(stderr, "zreplay: cannot open %s\n", argv[2]);
        return 1;
    }
    zsys_handler_set(NULL);
    zsock_t *dealer = zsock_new_dealer(argv[1]);
    if (!dealer) {
        fprintf(stderr, "zreplay: cannot connect to %s\n", argv[1]);
        return 1;
    }
    zsock_set_sndhwm(dealer, 0);
    tally_t t = {0, 0, 0};
    unsigned char prefix[4];
    static unsigned char buf[16 << 20];
    int rc = 0;
    while (rc == 0 && fread(prefix, 4, 1, in) == 1) {
        size_t len = (size_t)bytes_get_le(prefix, 4);
        if (len > sizeof buf || fread(buf, 1, len, in) != len) {
            fprintf(stderr, "zreplay: %s is cut short after %zu messages\n", argv[2], t.sent);
            rc = 1;
            break;
        }
        zframe_t *frame = zframe_new(buf, len);
        if (zframe_send(&frame, dealer, 0) != 0) {
            fprintf(stderr, "zreplay: send failed\n");
            rc = 1;
            break;
        }
        t.sent++;
        if (t.sent - t.stored - t.other >= WINDOW && s_answer(dealer, &t) != 0)
            rc = 1;
    }
    while (rc == 0 && t.stored + t.other < t.sent)
        if (s_answer(dealer, &t) != 0)
            rc = 1;
    if (rc != 0)
        fprintf(stderr, "zreplay: no answer within %d s (%zu of %zu answered)\n", WAIT_MS / 1000,
                t.stored + t.other, t.sent);
    printf("sent %zu, stored %zu, other %zu\n", t.sent, t.stored, t.other);
    zsock_destroy(&dealer);
    fclose(in);
    return rc != 0 || t.other != 0;
}
