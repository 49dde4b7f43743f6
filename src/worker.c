/* Parent side of the GPU worker (see worker.h): spawn over two pipes, hello, requests with
 * a watchdog deadline, kill + restart + setup replay. No CUDA here. */
#include "worker.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct worker {
    struct worker_opts o;
    char exe[4096];
    char fake_nvml[256], libnvml[1024];
    pid_t pid;
    int fd_to, fd_from;
    struct wp_hello hello;
    uint8_t *rx;
    size_t rxcap;
    uint8_t *setup;
    size_t setup_len;
    int busy, restarts;
    double sent_ms, deadline_ms, busy_ms;
};

/* Child after fork: move the pipe ends to fds 3 and 4, then exec (or serve in-process). */
static void child(const struct worker *w, int req_r, int resp_w) {
    int a = fcntl(req_r, F_DUPFD, 10), b = fcntl(resp_w, F_DUPFD, 10);
    if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0) _exit(126);
    close(a);
    close(b);
    dup2(2, 1);   /* device printf must never reach the protocol pipe */
    if (w->fake_nvml[0]) setenv("HTUNE_FAKE_NVML", w->fake_nvml, 1);   /* the child's env only */
    if (w->libnvml[0]) setenv("HTUNE_LIBNVML", w->libnvml, 1);
    if (!w->exe[0]) _exit(worker_serve(3, 4, w->o.fake));
    char *argv[] = { (char *)w->exe, "__worker", "3", "4", w->o.fake ? "fake" : NULL, NULL };
    execv(w->exe, argv);
    _exit(127);
}

static int spawn(struct worker *w, char *err, size_t errlen) {
    int req[2], resp[2];
    if (pipe2(req, O_CLOEXEC) < 0) return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
    if (pipe2(resp, O_CLOEXEC) < 0) {
        close(req[0]); close(req[1]);
        return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(req[0]); close(req[1]); close(resp[0]); close(resp[1]);
        return snprintf(err, errlen, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) child(w, req[0], resp[1]);
    close(req[0]);
    close(resp[1]);
    w->pid = pid;
    w->fd_to = req[1];
    w->fd_from = resp[0];
    w->busy = 0;
    return 0;
}

void worker_kill(struct worker *w) {
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    if (w->fd_to >= 0) close(w->fd_to);
    if (w->fd_from >= 0) close(w->fd_from);
    w->pid = -1;
    w->fd_to = w->fd_from = -1;
    if (w->busy) w->busy_ms += util_now_ms() - w->sent_ms;
    w->busy = 0;
}

/* Waits until fd is readable or deadline (absolute ms). 1 readable, 0 timeout. */
static int wait_readable(int fd, double deadline_ms) {
    for (;;) {
        double left = deadline_ms - util_now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        int r = poll(&p, 1, left <= 0 ? 0 : left > 1e6 ? 1000000 : (int)left + 1);
        if (r > 0) return 1;
        if (r < 0 && errno == EINTR) continue;
        if (util_now_ms() >= deadline_ms) return 0;
    }
}

static int read_hello(struct worker *w, char *err, size_t errlen) {
    int type;
    const uint8_t *payload;
    size_t len;
    double timeout = w->o.hello_timeout_ms > 0 ? w->o.hello_timeout_ms : 30000;
    if (!wait_readable(w->fd_from, util_now_ms() + timeout)) {
        worker_kill(w);
        return snprintf(err, errlen, "GPU worker did not start within %.0f ms", timeout), -1;
    }
    if (wp_read_frame(w->fd_from, &w->rx, &w->rxcap, &type, &payload, &len) || type != WP_HELLO) {
        worker_kill(w);
        return snprintf(err, errlen, "GPU worker (%s) exited before its hello", w->exe[0] ? w->exe : "fork"), -1;
    }
    struct rbuf r = { payload, len, 0, 0 };
    if (wp_get_hello(&r, &w->hello, err, errlen)) return worker_kill(w), -1;
    if (w->hello.status != 0) {
        snprintf(err, errlen, "%s", w->hello.message);
        worker_kill(w);
        return -2;
    }
    return 0;
}

int worker_start(struct worker **out, const struct worker_opts *opts, char *err, size_t errlen) {
    struct worker *w = calloc(1, sizeof *w);
    if (!w) return snprintf(err, errlen, "out of memory"), -1;
    w->o = *opts;
    w->fd_to = w->fd_from = w->pid = -1;
    if (opts->exe) snprintf(w->exe, sizeof w->exe, "%s", opts->exe);
    if (opts->fake_nvml) snprintf(w->fake_nvml, sizeof w->fake_nvml, "%s", opts->fake_nvml);
    if (opts->libnvml) snprintf(w->libnvml, sizeof w->libnvml, "%s", opts->libnvml);
    w->o.exe = NULL;
    w->o.fake_nvml = w->o.libnvml = NULL;
    int rc = spawn(w, err, errlen);
    if (rc == 0) rc = read_hello(w, err, errlen);
    if (rc) {
        worker_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

const struct wp_hello *worker_hello(const struct worker *w) { return &w->hello; }

int worker_send(struct worker *w, const struct wbuf *req, double timeout_ms) {
    if (w->pid < 0 || w->busy) return -1;
    if (wp_write_frame(w->fd_to, req)) return -1;
    w->busy = 1;
    w->sent_ms = util_now_ms();
    w->deadline_ms = w->sent_ms + timeout_ms;
    return 0;
}

int worker_poll(struct worker *w, double wait_ms, int *type, const uint8_t **payload, size_t *len) {
    if (!w->busy) return w->pid < 0 ? WK_DIED : WK_PENDING;
    double until = util_now_ms() + (wait_ms > 0 ? wait_ms : 0);
    if (until > w->deadline_ms) until = w->deadline_ms;
    if (!wait_readable(w->fd_from, until)) {
        if (util_now_ms() < w->deadline_ms) return WK_PENDING;
        worker_kill(w);
        return WK_TIMEOUT;
    }
    if (wp_read_frame(w->fd_from, &w->rx, &w->rxcap, type, payload, len)) {
        worker_kill(w);
        return WK_DIED;
    }
    w->busy = 0;
    w->busy_ms += util_now_ms() - w->sent_ms;
    return WK_REPLY;
}

int worker_call(struct worker *w, const struct wbuf *req, double timeout_ms, int *type,
                const uint8_t **payload, size_t *len) {
    if (worker_send(w, req, timeout_ms)) return WK_DIED;
    int st;
    while ((st = worker_poll(w, timeout_ms, type, payload, len)) == WK_PENDING) {}
    return st;
}

int worker_busy(const struct worker *w) { return w->busy; }

int worker_remember_setup(struct worker *w, const struct wbuf *setup) {
    uint8_t *p = realloc(w->setup, setup->n);
    if (!p) return -1;
    memcpy(p, setup->p, setup->n);
    w->setup = p;
    w->setup_len = setup->n;
    return 0;
}

static int replay_setup(struct worker *w, char *err, size_t errlen) {
    struct wbuf b = { w->setup, w->setup_len, w->setup_len, 0 };
    int type;
    const uint8_t *payload;
    size_t len;
    int st = worker_call(w, &b, w->o.hello_timeout_ms > 0 ? w->o.hello_timeout_ms : 30000, &type, &payload, &len);
    if (st == WK_REPLY && type == WP_OK) return 0;
    char msg[400] = "no reply";
    int code = 0;
    struct rbuf r = { payload, len, 0, 0 };
    if (st == WK_REPLY && type == WP_ERROR) wp_get_error(&r, &code, msg, sizeof msg);
    snprintf(err, errlen, "replaying the problem setup on a restarted worker: %s", msg);
    return -1;
}

int worker_restart(struct worker *w, char *err, size_t errlen) {
    worker_kill(w);
    w->restarts++;
    int rc = spawn(w, err, errlen);
    if (rc == 0) rc = read_hello(w, err, errlen);
    if (rc == 0 && w->setup) rc = replay_setup(w, err, errlen);
    return rc < 0 ? -1 : 0;
}

int worker_pid(const struct worker *w) { return w->pid; }
int worker_restarts(const struct worker *w) { return w->restarts; }
double worker_busy_ms(const struct worker *w) { return w->busy_ms + (w->busy ? util_now_ms() - w->sent_ms : 0); }

void worker_close(struct worker *w) {
    if (!w) return;
    if (w->pid > 0 && !w->busy) {
        struct wbuf q = { 0 };
        wbuf_begin(&q, WP_QUIT);
        wbuf_end(&q);
        wp_write_frame(w->fd_to, &q);
        wbuf_free(&q);
        for (int i = 0; i < 100 && waitpid(w->pid, NULL, WNOHANG) == 0; i++) usleep(10000);
        if (waitpid(w->pid, NULL, WNOHANG) != 0) w->pid = -1;   /* reaped (or gone) */
    }
    worker_kill(w);
    free(w->rx);
    free(w->setup);
    free(w);
}
