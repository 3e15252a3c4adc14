/* worker: a proxy's threads, listeners, accept, signals, restart and grace. */
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/filter.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "sock.h"
#include "worker.h"

#define ACCEPT_PAUSE_MS	100		/* out of descriptors: look again after */
#define HANDOVER_MS	200		/* on TERM: keep accepting this long */

struct worker {
	int		 w_id;
	pthread_t	 w_thread;
	struct evloop	*w_ev;
	int		*w_lfd;			/* per listener; -1 once closed */
	int		 w_open;		/* listeners still open */
	int		 w_efd;			/* eventfd: stop */
	void		*w_data;
	long		 w_active;		/* connections accepted, not ended */
	int		 w_stopping;
	int		 w_paused;
	int		 w_said;		/* the pause was logged */
	struct evtimer	 w_accept_timer, w_stop_timer;
};

/* Set by worker_listen() and worker_run(), read-only in the workers. */
static struct {
	const struct worker_conf *c;
	struct worker	*w;
	struct addr	*bound;			/* per listener */
	int		*shared;		/* per listener: a unix socket's fd */
	int		 ok;			/* worker_listen() succeeded */
} W;

/* The descriptor budget, in descriptors, shared by every worker. */
static _Atomic long	 budget_left;
static long		 budget_max, budget_base;
static long		 budget_limit;

void
worker_signals(void)
{
	sigset_t	 sigs;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* Threads made later inherit the mask: signals come to main alone. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
}

int
worker_listen(const struct worker_conf *c, char *err, size_t errlen)
{
	struct worker	*w;
	struct addr	 a;
	size_t		 li;
	int		 i, fd;

	if ((W.w = calloc((size_t)c->wc_nworkers, sizeof(*W.w))) == NULL ||
	    (W.bound = calloc(c->wc_nlisten, sizeof(*W.bound))) == NULL ||
	    (W.shared = calloc(c->wc_nlisten, sizeof(*W.shared))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	W.c = c;
	for (li = 0; li < c->wc_nlisten; li++)
		W.shared[li] = -1;
	for (i = 0; i < c->wc_nworkers; i++) {
		w = &W.w[i];
		w->w_id = i;
		w->w_efd = -1;
		if ((w->w_lfd = calloc(c->wc_nlisten, sizeof(int))) == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			return (-1);
		}
		for (li = 0; li < c->wc_nlisten; li++) {
			if (W.shared[li] != -1) {
				w->w_lfd[li] = W.shared[li];
				continue;
			}
			/* Port 0 is the first's to settle; the rest join it. */
			a = i == 0 ? c->wc_listen[li] : W.bound[li];
			if ((fd = sock_listen(&a, SOCK_BACKLOG, err,
			    errlen)) == -1)
				return (-1);
			w->w_lfd[li] = fd;
			if (i > 0)
				continue;
			if (a.a_ss.ss_family == AF_UNIX) {
				W.bound[li] = a;
				W.shared[li] = fd;
			} else if (sock_bound(fd, &W.bound[li]) == -1) {
				snprintf(err, errlen, "getsockname: %s",
				    strerror(errno));
				return (-1);
			}
		}
		w->w_open = (int)c->wc_nlisten;
	}
	W.ok = 1;
	return (0);
}

const struct addr *
worker_bound(size_t li)
{
	return (&W.bound[li]);
}

struct evloop *
worker_loop(struct worker *w)
{
	return (w->w_ev);
}

int
worker_id(const struct worker *w)
{
	return (w->w_id);
}

void *
worker_data(const struct worker *w)
{
	return (w->w_data);
}

void
worker_set_data(struct worker *w, void *data)
{
	w->w_data = data;
}

int
worker_stopping(const struct worker *w)
{
	return (w->w_stopping);
}

long
worker_fds_used(void)
{
	return (budget_max - atomic_load(&budget_left));
}

long
worker_fds_max(void)
{
	return (budget_max);
}

int
worker_fds_take(int n)
{
	if (atomic_fetch_sub(&budget_left, n) < n) {
		atomic_fetch_add(&budget_left, n);
		return (-1);
	}
	return (0);
}

void
worker_fds_give(int n)
{
	atomic_fetch_add(&budget_left, n);
}

/* Descriptors open now: the base every connection comes on top of. */
static long
fds_open(void)
{
	DIR		*d;
	struct dirent	*de;
	long		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (64);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

/* Descriptors the open-files limit leaves for connections. */
static long
budget_of(long limit)
{
	long	 n;

	n = limit - budget_base - W.c->wc_fds_spare;
	return (n > 0 ? n : 0);
}

/* The limit may have been changed from outside (prlimit): follow it. */
static void
budget_follow(void)
{
	struct rlimit	 rl;
	long		 limit, m;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	limit = rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
	if (limit == budget_limit)
		return;
	m = budget_of(limit);
	atomic_fetch_add(&budget_left, m - budget_max);
	log_info("open files: %ld: room for %ld connections", limit,
	    m / W.c->wc_fds);
	budget_max = m;
	budget_limit = limit;
}

static void	do_accept(struct worker *, size_t);

static void
accept_all(struct worker *w)
{
	size_t	 li;

	for (li = 0; li < W.c->wc_nlisten && !w->w_paused; li++)
		if (w->w_lfd[li] != -1)
			do_accept(w, li);
}

static void
on_accept_timer(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;

	(void)ev;
	w->w_paused = 0;
	accept_all(w);
}

static void
pause_accept(struct worker *w, const char *why)
{
	if (!w->w_said)
		log_info("accept: %s: pausing", why);
	w->w_said = 1;
	w->w_paused = 1;
	evtimer_set(w->w_ev, &w->w_accept_timer, ACCEPT_PAUSE_MS,
	    on_accept_timer, w);
}

static void
do_accept(struct worker *w, size_t li)
{
	struct addr	 a;
	char		 why[128];
	int		 fd;

	while (w->w_lfd[li] != -1 && !w->w_paused) {
		/* Room for this one's descriptors first, or it waits. */
		if (worker_fds_take(W.c->wc_fds) == -1) {
			snprintf(why, sizeof(why), "out of descriptors (%ld "
			    "of %ld in use)", worker_fds_used(),
			    worker_fds_max());
			pause_accept(w, why);
			return;
		}
		a.a_len = sizeof(a.a_ss);
		fd = accept4(w->w_lfd[li], (struct sockaddr *)&a.a_ss,
		    &a.a_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			worker_fds_give(W.c->wc_fds);
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				/* Leave them in the backlog; look again soon. */
				pause_accept(w, strerror(errno));
			return;
		}
		w->w_said = 0;
		w->w_active++;
		W.c->wc_ops->wo_accept(w, (int)li, fd, &a);
	}
}

static void
on_listen(struct evloop *ev, int fd, int what, void *arg)
{
	struct worker	*w = arg;
	size_t		 li;

	(void)ev;
	(void)what;
	for (li = 0; li < W.c->wc_nlisten; li++)
		if (w->w_lfd[li] == fd)
			break;
	if (li < W.c->wc_nlisten && !w->w_paused)
		do_accept(w, li);
}

void
worker_conn_end(struct worker *w)
{
	worker_fds_give(W.c->wc_fds);
	w->w_active--;
	if (w->w_paused) {
		w->w_paused = 0;
		evtimer_cancel(w->w_ev, &w->w_accept_timer);
		accept_all(w);
	}
	if (w->w_stopping && w->w_open == 0 && w->w_active == 0)
		evloop_stop(w->w_ev);
}

static void
on_grace(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;

	/* Whatever is still open is cut. */
	if (W.c->wc_ops->wo_cut != NULL)
		W.c->wc_ops->wo_cut(w);
	evloop_stop(ev);
}

static void
on_handover(struct evloop *ev, void *arg)
{
	struct worker	*w = arg;
	size_t		 li;

	/* The last who came in are served; then no more. */
	w->w_paused = 0;
	evtimer_cancel(ev, &w->w_accept_timer);
	accept_all(w);
	for (li = 0; li < W.c->wc_nlisten; li++) {
		if (w->w_lfd[li] == -1)
			continue;
		evloop_del(ev, w->w_lfd[li]);
		if (W.shared[li] == -1)
			close(w->w_lfd[li]);
		w->w_lfd[li] = -1;
	}
	w->w_open = 0;
	evtimer_cancel(ev, &w->w_accept_timer);
	if (w->w_active == 0) {
		evloop_stop(ev);
		return;
	}
	evtimer_set(ev, &w->w_stop_timer, W.c->wc_grace_ms > HANDOVER_MS ?
	    W.c->wc_grace_ms - HANDOVER_MS : 0, on_grace, w);
}

static void
on_stop(struct evloop *ev, int fd, int what, void *arg)
{
	struct worker	*w = arg;
	uint64_t	 v;

	(void)what;
	if (read(fd, &v, sizeof(v)) != sizeof(v) || w->w_stopping)
		return;
	w->w_stopping = 1;
	/*
	 * A new instance on the same port takes new connections from now
	 * on (see steer_away()); keep accepting a moment for those already
	 * on their way to us, so that none is refused.
	 */
	evtimer_set(ev, &w->w_stop_timer, W.c->wc_grace_ms < HANDOVER_MS ?
	    W.c->wc_grace_ms : HANDOVER_MS, on_handover, w);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	if (evloop_run(w->w_ev) == -1)
		fatal("worker %d: epoll", w->w_id);
	if (W.c->wc_ops->wo_fini != NULL)
		W.c->wc_ops->wo_fini(w);
	return (NULL);
}

/*
 * Ask the kernel to hand new connections on our port to the sockets
 * bound after ours (a new instance's): a classic BPF program that
 * returns the index of the first of them.  With none, the index is out
 * of range and the kernel hashes as usual.
 */
static void
steer_away(int fd, int nsocks)
{
	struct sock_filter code[] = {
		{ BPF_RET | BPF_K, 0, 0, (uint32_t)nsocks },
	};
	struct sock_fprog prog = { 1, code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof(prog)) == -1)
		log_info("SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
}

/* Every second, from the main thread (or the one worker's loop). */
static void
main_tick(const struct worker_conf *c)
{
	budget_follow();
	if (c->wc_ops->wo_tick != NULL)
		c->wc_ops->wo_tick(c->wc_arg);
}

/* TERM or INT: hand new connections over, and tell every worker. */
static void
main_stop(const struct worker_conf *c)
{
	size_t		 li;
	int		 i;

	log_info("stopping: %llu ms of grace",
	    (unsigned long long)c->wc_grace_ms);
	for (li = 0; li < c->wc_nlisten; li++)
		if (W.shared[li] == -1)
			steer_away(W.w[0].w_lfd[li], c->wc_nworkers);
	for (i = 0; i < c->wc_nworkers; i++) {
		uint64_t one = 1;

		if (write(W.w[i].w_efd, &one, sizeof(one)) == -1)
			log_warn("eventfd");
	}
}

/*
 * One worker: its loop runs on the main thread, which takes its signals
 * from a signalfd and its tick from a timer of that loop.  A process of
 * one thread keeps the kernel's fast path for descriptors (no reference
 * taken on each system call's file), about 3% of a proxy's CPU.
 */
static struct {
	int		 fd;
	int		 stopped;
	struct evtimer	 tick;
} S = { -1, 0, { 0 } };

static void
on_tick1(struct evloop *ev, void *arg)
{
	main_tick(W.c);
	if (!S.stopped)
		evtimer_set(ev, &S.tick, 1000, on_tick1, arg);
}

static void
on_signal1(struct evloop *ev, int fd, int what, void *arg)
{
	struct signalfd_siginfo si;

	(void)what;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (W.c->wc_ops->wo_hup != NULL)
				W.c->wc_ops->wo_hup(W.c->wc_arg);
			continue;
		}
		if (S.stopped)
			continue;
		S.stopped = 1;
		evtimer_cancel(ev, &S.tick);
		main_stop(W.c);
	}
	(void)arg;
}

static int
run_one(const sigset_t *sigs, char *err, size_t errlen)
{
	struct evloop	*ev = W.w[0].w_ev;

	if ((S.fd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    evloop_add(ev, S.fd, EVLOOP_READ, on_signal1, NULL) == -1 ||
	    evtimer_set(ev, &S.tick, 1000, on_tick1, NULL) == -1) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return (-1);
	}
	worker_main(&W.w[0]);
	evtimer_cancel(ev, &S.tick);
	evloop_del(ev, S.fd);
	close(S.fd);
	S.fd = -1;
	return (0);
}

int
worker_run(const struct worker_conf *c, char *err, size_t errlen)
{
	struct worker	*w;
	sigset_t	 sigs;
	size_t		 li;
	long		 nofile;
	int		 i, k, sig, e;

	if (!W.ok) {
		snprintf(err, errlen, "worker_listen() first");
		return (-1);
	}
	nofile = sock_nofile_raise();
	budget_base = fds_open() + 3 * c->wc_nworkers;
	budget_limit = nofile;
	budget_max = budget_of(nofile);
	atomic_store(&budget_left, budget_max);
	log_info("open files: %ld: room for %ld connections", nofile,
	    budget_max / c->wc_fds);
	for (i = 0; i < c->wc_nworkers; i++) {
		w = &W.w[i];
		if ((w->w_ev = evloop_new()) == NULL ||
		    (w->w_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
		    evloop_add(w->w_ev, w->w_efd, EVLOOP_READ, on_stop,
		    w) == -1) {
			snprintf(err, errlen, "worker %d: %s", i,
			    strerror(errno));
			return (-1);
		}
		for (li = 0; li < c->wc_nlisten; li++)
			if (evloop_add(w->w_ev, w->w_lfd[li], EVLOOP_READ,
			    on_listen, w) == -1) {
				snprintf(err, errlen, "worker %d: epoll: %s",
				    i, strerror(errno));
				return (-1);
			}
		if (c->wc_ops->wo_init != NULL && c->wc_ops->wo_init(w) == -1) {
			snprintf(err, errlen, "worker %d: %s", i,
			    strerror(errno));
			return (-1);
		}
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	if (c->wc_nworkers == 1) {
		if (run_one(&sigs, err, errlen) == -1)
			return (-1);
		goto done;
	}
	for (i = 0; i < c->wc_nworkers; i++)
		if ((e = pthread_create(&W.w[i].w_thread, NULL, worker_main,
		    &W.w[i])) != 0) {
			snprintf(err, errlen, "pthread_create: %s",
			    strerror(e));
			return (-1);
		}
	for (;;) {
		struct timespec	 tick = { 1, 0 };

		if ((sig = sigtimedwait(&sigs, NULL, &tick)) == -1) {
			if (errno == EAGAIN) {
				main_tick(c);
				continue;
			}
			if (errno == EINTR)
				continue;
			fatal("sigtimedwait");
		}
		if (sig != SIGHUP)
			break;
		if (c->wc_ops->wo_hup != NULL)
			c->wc_ops->wo_hup(c->wc_arg);
	}
	main_stop(c);
	for (i = 0; i < c->wc_nworkers; i++)
		pthread_join(W.w[i].w_thread, NULL);
 done:
	for (li = 0; li < c->wc_nlisten; li++) {
		if (W.shared[li] == -1)
			continue;
		close(W.shared[li]);
		unlink(((struct sockaddr_un *)&W.bound[li].a_ss)->sun_path);
	}
	for (i = 0; i < c->wc_nworkers; i++) {
		w = &W.w[i];
		evloop_free(w->w_ev);
		close(w->w_efd);
		for (k = 0; k < (int)c->wc_nlisten; k++)
			if (w->w_lfd[k] != -1 && W.shared[k] == -1)
				close(w->w_lfd[k]);
		free(w->w_lfd);
	}
	free(W.w);
	free(W.bound);
	free(W.shared);
	memset(&W, 0, sizeof(W));
	return (0);
}
