/* alog: the access log: whole lines, one writer, never the data path's wait. */
#ifndef LB_ALOG_H
#define LB_ALOG_H

#include <stddef.h>
#include <stdint.h>

#include "evloop.h"

/*
 * A proxy's workers each fill a buffer of lines of their own; a thread
 * of the log's own writes full buffers (or, every flush, what there is)
 * to the output with blocking writes.  A worker never writes and never
 * waits: when its reader is too slow and both of its buffers are taken,
 * a new line is dropped whole and counted.  Lines are never split or
 * interleaved: a buffer holds whole lines, and into a pipe they are
 * written in pieces of at most PIPE_BUF bytes cut at line ends, which
 * the kernel writes whole even when other processes share the pipe.
 * When the output fails (its reader went away), the log says so once on
 * stderr and stops; the proxy goes on.
 */
struct alog;
struct alog_w;				/* one worker's side */

/*
 * A log writing to fd for nworkers workers, each with two buffers of
 * bufsz bytes (0: 64 KiB).  Its thread starts with the first line handed
 * over, so a log never written costs none.  Returns NULL (errno set).
 */
struct alog	*alog_new(int fd, int nworkers, size_t bufsz);

/* Worker i's side (0 <= i < nworkers). */
struct alog_w	*alog_worker(struct alog *l, int i);

/*
 * Room for one line of at most max bytes at the end of the worker's
 * buffer, or NULL when there is none (the line is counted as dropped;
 * do not call alog_commit()).  alog_commit() keeps the len bytes written
 * there, which must end in a newline.
 */
char	*alog_begin(struct alog_w *w, size_t max);
void	 alog_commit(struct alog_w *w, size_t len);

/*
 * Hand what the worker's buffer holds to the writer, if the writer has
 * room: call it from a timer (100 ms, say) while lines are waiting.
 * Returns 1 when lines are still waiting in the worker (call again
 * later), else 0.
 */
int	 alog_flush(struct alog_w *w);

/*
 * After alog_commit(), from the worker's loop ev: the lines go to the
 * writer within 100 ms, by a timer of the worker's side that flushes
 * until nothing waits.  alog_done() stops it and flushes what is left,
 * when the worker ends.
 */
void	 alog_later(struct alog_w *w, struct evloop *ev);
void	 alog_done(struct alog_w *w);

/*
 * The time now, UTC, as a log writes it: "2026-12-01T10:20:30.456Z"
 * (ISO 8601, milliseconds).  The string is the worker side's own, good
 * until its next call; the seconds are formatted once a second.
 */
const char *alog_time(struct alog_w *w);

/*
 * Once a second, from a thread that never waits on the output (the
 * main thread): says on stderr how many lines were dropped since the
 * last time, if any.
 */
void	 alog_tick(struct alog *l);

/* Lines dropped so far, in every worker. */
uint64_t alog_dropped(struct alog *l);

/*
 * Write what is left (the workers are done), stop the thread and free
 * the log.  Says on stderr how many lines were dropped, if any.
 */
void	 alog_free(struct alog *l);

#endif
