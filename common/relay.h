/* relay: move bytes both ways between two sockets, splice for bulk. */
#ifndef LB_RELAY_H
#define LB_RELAY_H

#include <stddef.h>
#include <stdint.h>

/*
 * A relay joins two connected, non-blocking sockets: side 0 (the
 * client) and side 1 (the server).  Direction RELAY_UP moves bytes from
 * side 0 to side 1, RELAY_DOWN back.  Small reads go through a buffer
 * of the context and are written at once; once a read fills it, the
 * direction switches to splice(2) through a pipe, so bulk never enters
 * user space.  Pipes come from the context's pool and go back as soon as
 * they are empty, so an idle relay holds none.  With a budget of
 * descriptors (relay_ctx_budget()), a new pipe takes two from it; when
 * it has none left a relay copies instead, keeping what its peer could
 * not take yet in memory of its own, and carries on.
 *
 * An EOF in one direction is passed on as shutdown(SHUT_WR) once the
 * bytes before it are written (half-close); a reset read on one side is
 * passed on as a reset (SO_LINGER 0) on the other.
 *
 * The owner registers both fds with its event loop (read and write,
 * edge-triggered) and hands each event to relay_io(); it never reads or
 * writes the fds itself while the relay runs.  A read shorter than the
 * buffer counts as draining the socket (new bytes raise a new edge), so
 * small messages cost no read that only says EAGAIN.  Not so at the
 * start (edges before it are unknown) nor after EVLOOP_HUP (an EOF
 * raises no edge of its own): then a side is read to EAGAIN or EOF.
 */

#define RELAY_UP	0
#define RELAY_DOWN	1

enum relay_end {
	RELAY_OPEN,			/* still moving */
	RELAY_CLIENT_CLOSE,		/* both closed, the client first */
	RELAY_SERVER_CLOSE,		/* both closed, the server first */
	RELAY_CLIENT_RESET,		/* the client reset or erred */
	RELAY_SERVER_RESET,
	RELAY_ERROR			/* out of pipes or memory */
};

/* Per thread: the pipe pool and the copy buffer, shared by its relays. */
struct relay_ctx {
	int		(*rc_pipes)[2];
	size_t		 rc_npipes, rc_cappipes;
	size_t		 rc_pipesz;		/* a pipe's size; set it larger after init */
	char		*rc_buf;
	size_t		 rc_bufsz;
	int		(*rc_take)(int);	/* the budget; NULL: none */
	void		(*rc_give)(int);
};

struct relay_dir {
	int		 rd_pipe[2];		/* -1: none held */
	size_t		 rd_pending;		/* bytes in the pipe */
	uint64_t	 rd_bytes;		/* written to the far side */
	char		*rd_left;		/* no pipe: bytes not yet written */
	size_t		 rd_leftlen, rd_leftoff;
	uint8_t		 rd_splice;		/* bulk seen: splice from now */
	uint8_t		 rd_eof;		/* read the EOF */
	uint8_t		 rd_shut;		/* passed it on */
};

struct relay {
	struct relay_ctx *r_ctx;
	int		 r_fd[2];
	uint8_t		 r_rd[2], r_wr[2];	/* readiness, edge-triggered */
	uint8_t		 r_drain[2];		/* read to EAGAIN or EOF, not less */
	int		 r_first;		/* side whose EOF came first, -1 */
	int		 r_end;			/* enum relay_end */
	struct relay_dir r_dir[2];
};

/*
 * Set up ctx: a copy buffer of bufsz bytes (0: 16 KiB) and at most
 * maxpool idle pipes kept.  Returns 0 or -1.
 */
int	relay_ctx_init(struct relay_ctx *ctx, size_t bufsz, size_t maxpool);
void	relay_ctx_free(struct relay_ctx *ctx);

/*
 * Count the pipes ctx makes against a budget of descriptors: take(2)
 * before a new pipe (0, or -1: none is made), give(2) when one is
 * closed.  Pipes kept in the pool stay counted.
 */
void	relay_ctx_budget(struct relay_ctx *ctx, int (*take)(int),
	    void (*give)(int));

/*
 * A pipe from the context's pool (or a new one, as large as allowed),
 * for a caller that splices on its own: 0, or -1 (errno).  Give it back
 * empty with relay_pipe_put(), which keeps it for the next or closes it.
 */
int	relay_pipe_get(struct relay_ctx *ctx, int p[2]);
void	relay_pipe_put(struct relay_ctx *ctx, int p[2]);
/* Close a pipe of relay_pipe_get() that still holds bytes, for good. */
void	relay_pipe_drop(struct relay_ctx *ctx, int p[2]);

/*
 * Start relaying between cfd (side 0) and sfd (side 1).  Both are taken
 * as readable and writable until they say EAGAIN.  Call relay_io() at
 * once (with what 0) to move what is already there.
 */
void	relay_start(struct relay *r, struct relay_ctx *ctx, int cfd, int sfd);

/*
 * Optional, after relay_start(): the owner saw exactly the events what
 * (EVLOOP_* bits, or-ed; 0 for none) on side's fd since it added the fd
 * to its loop (which reports the state at adding), so readiness can start
 * from them instead of from "ready every way": no read only to hear EAGAIN.
 */
void	relay_seen(struct relay *r, int side, int what);

/*
 * Queue len bytes of buf to be written to side 1 before anything read
 * from side 0 (a PROXY header, say).  Call after relay_start() and
 * before relay_io().  Returns 0, or -1 when they do not fit (64 KiB).
 */
int	relay_preload(struct relay *r, const void *buf, size_t len);

/*
 * Note that fd got events (EVLOOP_* bits in what; 0: none, just try)
 * and move all that can be moved.  Returns RELAY_OPEN, or how it ended:
 * then the owner calls relay_close().
 */
int	relay_io(struct relay *r, int fd, int what);

/*
 * Close both fds (the owner has taken them off its event loop), with a
 * reset toward the side that did not cause one when it ended in one,
 * and give the pipes back.
 */
void	relay_close(struct relay *r);

/* Bytes moved so far: dir RELAY_UP or RELAY_DOWN. */
uint64_t relay_bytes(const struct relay *r, int dir);

#endif
