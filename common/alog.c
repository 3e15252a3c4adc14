/* alog: the access log: whole lines, one writer, never the data path's wait. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"
#include "log.h"

#define ALOG_BUFSZ	65536
#define ALOG_REPORT_MS	1000		/* drops said at most once a second */
#define ALOG_EXIT_MS	2000		/* at exit, the most to wait for a reader */
#define ALOG_FLUSH_MS	100		/* alog_later(): lines out within this */

/*
 * A buffer is the worker's while aw_busy[i] is 0; the worker hands it
 * over by setting it, the writer gives it back by clearing it.  The
 * worker fills aw_cur and only ever switches to a buffer it owns.
 */
struct alog_w {
	struct alog	*aw_log;
	char		*aw_buf[2];
	size_t		 aw_len[2];
	_Atomic int	 aw_busy[2];
	int		 aw_cur;
	_Atomic uint64_t aw_dropped;
	/* the worker's own: its flush timer, its clock's last second */
	struct evloop	*aw_ev;
	struct evtimer	 aw_flush;
	time_t		 aw_tsec;
	char		 aw_tsecbuf[24];
	char		 aw_time[48];
};

struct alog {
	int		 l_fd;
	int		 l_pipe;		/* fd is a pipe or FIFO */
	_Atomic int	 l_dead;		/* the output failed: write no more */
	size_t		 l_bufsz;
	int		 l_n;
	struct alog_w	*l_w;
	pthread_t	 l_thread;
	int		 l_started;		/* under l_mu: the thread runs */
	pthread_mutex_t	 l_mu;
	pthread_cond_t	 l_cv;
	int		 l_work;		/* a buffer was handed over */
	int		 l_stop;
	_Atomic int	 l_done;		/* the writer has ended */
	uint64_t	 l_said;		/* drops already reported */
	uint64_t	 l_said_at;
};

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Write len bytes with blocking writes; -1 when the output failed. */
static int
put(struct alog *l, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(l->l_fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				/* Someone made our output non-blocking. */
				usleep(1000);
				continue;
			}
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* A buffer of whole lines out: into a pipe, at line ends within PIPE_BUF. */
static void
out(struct alog *l, const char *p, size_t len)
{
	const char	*cut;
	size_t		 n;

	if (l->l_dead)
		return;
	while (len > 0 && !l->l_dead) {
		n = len;
		if (l->l_pipe && n > PIPE_BUF) {
			cut = memrchr(p, '\n', PIPE_BUF);
			/* A line longer than PIPE_BUF goes whole. */
			if (cut == NULL)
				cut = memchr(p + PIPE_BUF, '\n', len - PIPE_BUF);
			n = cut != NULL ? (size_t)(cut - p) + 1 : len;
		}
		if (put(l, p, n) == -1) {
			log_warn("access log: stdout");
			log_warnx("access log: stopped; the proxy goes on");
			l->l_dead = 1;
			return;
		}
		p += n;
		len -= n;
	}
}

/*
 * From the main thread (or at the end): the writer may be blocked on a
 * slow reader, which is when there is something to say.
 */
static void
report(struct alog *l, int force)
{
	uint64_t	 d = alog_dropped(l), now = now_ms();

	if (d == l->l_said || (!force && now < l->l_said_at + ALOG_REPORT_MS))
		return;
	if (!l->l_dead)
		log_warnx("access log: %llu lines dropped: its reader is slower "
		    "than the traffic", (unsigned long long)(d - l->l_said));
	l->l_said = d;
	l->l_said_at = now;
}

static void *
writer(void *arg)
{
	struct alog	*l = arg;
	struct alog_w	*w;
	int		 i, k, stop, any;

	for (;;) {
		pthread_mutex_lock(&l->l_mu);
		while (!l->l_work && !l->l_stop)
			pthread_cond_wait(&l->l_cv, &l->l_mu);
		l->l_work = 0;
		stop = l->l_stop;
		pthread_mutex_unlock(&l->l_mu);
		do {
			any = 0;
			for (i = 0; i < l->l_n; i++) {
				w = &l->l_w[i];
				for (k = 0; k < 2; k++) {
					if (!atomic_load_explicit(&w->aw_busy[k],
					    memory_order_acquire))
						continue;
					out(l, w->aw_buf[k], w->aw_len[k]);
					w->aw_len[k] = 0;
					atomic_store_explicit(&w->aw_busy[k], 0,
					    memory_order_release);
					any = 1;
				}
			}
		} while (any);
		if (stop)
			break;
	}
	atomic_store(&l->l_done, 1);
	return (NULL);
}

struct alog *
alog_new(int fd, int nworkers, size_t bufsz)
{
	struct alog	*l;
	struct stat	 st;
	int		 i, k, e;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->l_fd = fd;
	l->l_pipe = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
	l->l_bufsz = bufsz ? bufsz : ALOG_BUFSZ;
	l->l_n = nworkers;
	if ((l->l_w = calloc((size_t)nworkers, sizeof(*l->l_w))) == NULL)
		goto fail;
	for (i = 0; i < nworkers; i++) {
		l->l_w[i].aw_log = l;
		for (k = 0; k < 2; k++)
			if ((l->l_w[i].aw_buf[k] = malloc(l->l_bufsz)) == NULL)
				goto fail;
	}
	pthread_mutex_init(&l->l_mu, NULL);
	pthread_cond_init(&l->l_cv, NULL);
	return (l);
 fail:
	e = errno;
	for (i = 0; l->l_w != NULL && i < nworkers; i++)
		for (k = 0; k < 2; k++)
			free(l->l_w[i].aw_buf[k]);
	free(l->l_w);
	free(l);
	errno = e;
	return (NULL);
}

struct alog_w *
alog_worker(struct alog *l, int i)
{
	return (&l->l_w[i]);
}

/* Give the current buffer to the writer and take the other, if free. */
static int
handoff(struct alog_w *w)
{
	struct alog	*l = w->aw_log;
	int		 o = 1 - w->aw_cur;

	if (w->aw_len[w->aw_cur] == 0)
		return (0);
	if (atomic_load_explicit(&w->aw_busy[o], memory_order_acquire))
		return (-1);
	atomic_store_explicit(&w->aw_busy[w->aw_cur], 1, memory_order_release);
	w->aw_cur = o;
	pthread_mutex_lock(&l->l_mu);
	/*
	 * The writer starts with the first line: a proxy that logs nothing
	 * (-q) stays one thread, which keeps the kernel's fast path for
	 * descriptors.  Without a thread the lines stay where they are.
	 */
	if (!l->l_started && !l->l_dead) {
		int e = pthread_create(&l->l_thread, NULL, writer, l);

		if (e == 0)
			l->l_started = 1;
		else {
			atomic_store(&l->l_dead, 1);
			log_warnx("access log: no writer: %s: no more lines",
			    strerror(e));
		}
	}
	l->l_work = 1;
	pthread_cond_signal(&l->l_cv);
	pthread_mutex_unlock(&l->l_mu);
	return (0);
}

char *
alog_begin(struct alog_w *w, size_t max)
{
	struct alog	*l = w->aw_log;

	if (max > l->l_bufsz)
		goto drop;
	if (w->aw_len[w->aw_cur] + max > l->l_bufsz && handoff(w) == -1)
		goto drop;
	return (w->aw_buf[w->aw_cur] + w->aw_len[w->aw_cur]);
 drop:
	atomic_fetch_add_explicit(&w->aw_dropped, 1, memory_order_relaxed);
	return (NULL);
}

void
alog_commit(struct alog_w *w, size_t len)
{
	w->aw_len[w->aw_cur] += len;
}

int
alog_flush(struct alog_w *w)
{
	if (handoff(w) == -1)
		return (1);
	return (0);
}

static void
on_flush(struct evloop *ev, void *arg)
{
	struct alog_w	*w = arg;

	if (alog_flush(w))
		evtimer_set(ev, &w->aw_flush, ALOG_FLUSH_MS, on_flush, w);
}

void
alog_later(struct alog_w *w, struct evloop *ev)
{
	w->aw_ev = ev;
	if (w->aw_flush.et_idx == 0)
		evtimer_set(ev, &w->aw_flush, ALOG_FLUSH_MS, on_flush, w);
}

void
alog_done(struct alog_w *w)
{
	if (w->aw_ev != NULL)
		evtimer_cancel(w->aw_ev, &w->aw_flush);
	(void)alog_flush(w);
}

const char *
alog_time(struct alog_w *w)
{
	struct timespec	 ts;
	struct tm	 tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != w->aw_tsec || w->aw_tsecbuf[0] == '\0') {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(w->aw_tsecbuf, sizeof(w->aw_tsecbuf),
		    "%Y-%m-%dT%H:%M:%S", &tm);
		w->aw_tsec = ts.tv_sec;
	}
	{
		size_t	 n = strlen(w->aw_tsecbuf);
		int	 ms = (int)(ts.tv_nsec / 1000000) % 1000;

		/* a line each exchange: no printf for three digits */
		memcpy(w->aw_time, w->aw_tsecbuf, n);
		w->aw_time[n] = '.';
		w->aw_time[n + 1] = (char)('0' + ms / 100);
		w->aw_time[n + 2] = (char)('0' + ms / 10 % 10);
		w->aw_time[n + 3] = (char)('0' + ms % 10);
		w->aw_time[n + 4] = 'Z';
		w->aw_time[n + 5] = '\0';
	}
	return (w->aw_time);
}

void
alog_tick(struct alog *l)
{
	report(l, 0);
}

uint64_t
alog_dropped(struct alog *l)
{
	uint64_t	 d = 0;
	int		 i;

	for (i = 0; i < l->l_n; i++)
		d += atomic_load_explicit(&l->l_w[i].aw_dropped,
		    memory_order_relaxed);
	return (d);
}

void
alog_free(struct alog *l)
{
	uint64_t	 until;
	int		 i, k, done;

	if (l == NULL)
		return;
	/*
	 * The workers are done: what they hold goes out, in order, if the
	 * reader takes it soon enough.  A reader that stopped reading must
	 * not keep the process from exiting.
	 */
	until = now_ms() + ALOG_EXIT_MS;
	for (i = 0; i < l->l_n; i++) {
		struct alog_w *w = &l->l_w[i];

		while (handoff(w) == -1 && now_ms() < until)
			usleep(1000);
	}
	pthread_mutex_lock(&l->l_mu);
	l->l_stop = 1;
	l->l_work = 1;
	pthread_cond_signal(&l->l_cv);
	if (!l->l_started)
		atomic_store(&l->l_done, 1);
	pthread_mutex_unlock(&l->l_mu);
	for (;;) {
		done = atomic_load(&l->l_done);
		if (done || now_ms() >= until)
			break;
		usleep(1000);
	}
	report(l, 1);
	if (!done) {
		/* Stuck in a write: the exit takes the thread with it. */
		log_warnx("access log: its reader takes nothing: the last "
		    "lines are lost");
		return;
	}
	if (l->l_started)
		pthread_join(l->l_thread, NULL);
	for (i = 0; i < l->l_n; i++)
		for (k = 0; k < 2; k++)
			free(l->l_w[i].aw_buf[k]);
	free(l->l_w);
	pthread_mutex_destroy(&l->l_mu);
	pthread_cond_destroy(&l->l_cv);
	free(l);
}
