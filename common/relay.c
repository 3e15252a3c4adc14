/* relay: move bytes both ways between two sockets, splice for bulk. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "relay.h"
#include "sock.h"

#define RELAY_BUFSZ	16384
#define RELAY_CHUNK	65536		/* a pipe's default capacity */

int
relay_ctx_init(struct relay_ctx *ctx, size_t bufsz, size_t maxpool)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->rc_bufsz = bufsz ? bufsz : RELAY_BUFSZ;
	if (ctx->rc_bufsz > RELAY_CHUNK)
		ctx->rc_bufsz = RELAY_CHUNK;
	ctx->rc_pipesz = RELAY_CHUNK;
	if ((ctx->rc_buf = malloc(ctx->rc_bufsz)) == NULL)
		return (-1);
	if (maxpool > 0 && (ctx->rc_pipes = calloc(maxpool,
	    sizeof(*ctx->rc_pipes))) == NULL) {
		free(ctx->rc_buf);
		return (-1);
	}
	ctx->rc_cappipes = maxpool;
	return (0);
}

void
relay_ctx_budget(struct relay_ctx *ctx, int (*take)(int), void (*give)(int))
{
	ctx->rc_take = take;
	ctx->rc_give = give;
}

/* Close a pipe of ours, and give its descriptors back. */
static void
pipe_close(struct relay_ctx *ctx, int *p)
{
	close(p[0]);
	close(p[1]);
	if (ctx->rc_give != NULL)
		ctx->rc_give(2);
}

void
relay_ctx_free(struct relay_ctx *ctx)
{
	size_t	 i;

	for (i = 0; i < ctx->rc_npipes; i++)
		pipe_close(ctx, ctx->rc_pipes[i]);
	free(ctx->rc_pipes);
	free(ctx->rc_buf);
	memset(ctx, 0, sizeof(*ctx));
}

static int
pipe_get(struct relay_ctx *ctx, int *p)
{
	if (ctx->rc_npipes > 0) {
		ctx->rc_npipes--;
		p[0] = ctx->rc_pipes[ctx->rc_npipes][0];
		p[1] = ctx->rc_pipes[ctx->rc_npipes][1];
		return (0);
	}
	if (ctx->rc_take != NULL && ctx->rc_take(2) == -1) {
		errno = EMFILE;
		return (-1);
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1) {
		if (ctx->rc_give != NULL)
			ctx->rc_give(2);
		return (-1);
	}
	/* Bigger when allowed (pipe-max-size); the default otherwise. */
	if (ctx->rc_pipesz > RELAY_CHUNK)
		fcntl(p[1], F_SETPIPE_SZ, (int)ctx->rc_pipesz);
	return (0);
}

/* Give a pipe back: kept when empty and the pool has room. */
static void
pipe_put(struct relay_ctx *ctx, struct relay_dir *h)
{
	if (h->rd_pipe[0] == -1)
		return;
	if (h->rd_pending == 0 && ctx->rc_npipes < ctx->rc_cappipes) {
		ctx->rc_pipes[ctx->rc_npipes][0] = h->rd_pipe[0];
		ctx->rc_pipes[ctx->rc_npipes][1] = h->rd_pipe[1];
		ctx->rc_npipes++;
	} else
		pipe_close(ctx, h->rd_pipe);
	h->rd_pipe[0] = h->rd_pipe[1] = -1;
	h->rd_pending = 0;
}

int
relay_pipe_get(struct relay_ctx *ctx, int p[2])
{
	return (pipe_get(ctx, p));
}

void
relay_pipe_drop(struct relay_ctx *ctx, int p[2])
{
	if (p[0] == -1)
		return;
	pipe_close(ctx, p);
	p[0] = p[1] = -1;
}

void
relay_pipe_put(struct relay_ctx *ctx, int p[2])
{
	struct relay_dir h;

	memset(&h, 0, sizeof(h));
	h.rd_pipe[0] = p[0];
	h.rd_pipe[1] = p[1];
	pipe_put(ctx, &h);
	p[0] = p[1] = -1;
}

void
relay_start(struct relay *r, struct relay_ctx *ctx, int cfd, int sfd)
{
	int	 d;

	memset(r, 0, sizeof(*r));
	r->r_ctx = ctx;
	r->r_fd[0] = cfd;
	r->r_fd[1] = sfd;
	r->r_rd[0] = r->r_rd[1] = r->r_wr[0] = r->r_wr[1] = 1;
	r->r_drain[0] = r->r_drain[1] = 1;
	r->r_first = -1;
	for (d = 0; d < 2; d++)
		r->r_dir[d].rd_pipe[0] = r->r_dir[d].rd_pipe[1] = -1;
}

void
relay_seen(struct relay *r, int side, int what)
{
	r->r_rd[side] = (what & (EVLOOP_READ | EVLOOP_HUP)) != 0;
	r->r_wr[side] = (what & (EVLOOP_WRITE | EVLOOP_HUP)) != 0;
	r->r_drain[side] = (what & EVLOOP_HUP) != 0;
}

/*
 * No pipe to be had (the descriptors ran out): keep len bytes of buf in
 * memory of the direction's own until the far side takes them.
 */
static int
left_keep(struct relay_dir *h, const char *buf, size_t len)
{
	if ((h->rd_left = malloc(len)) == NULL)
		return (-1);
	memcpy(h->rd_left, buf, len);
	h->rd_leftlen = len;
	h->rd_leftoff = 0;
	return (0);
}

static void
left_free(struct relay_dir *h)
{
	free(h->rd_left);
	h->rd_left = NULL;
	h->rd_leftlen = h->rd_leftoff = 0;
}

int
relay_preload(struct relay *r, const void *buf, size_t len)
{
	struct relay_dir *h = &r->r_dir[RELAY_UP];
	ssize_t		 n;

	if (len == 0)
		return (0);
	if (len > RELAY_CHUNK - h->rd_pending)
		return (-1);
	if (h->rd_pipe[0] == -1 && pipe_get(r->r_ctx, h->rd_pipe) == -1)
		return (h->rd_left == NULL ? left_keep(h, buf, len) : -1);
	if ((n = write(h->rd_pipe[1], buf, len)) != (ssize_t)len) {
		if (n > 0)
			h->rd_pending += (size_t)n;
		return (-1);
	}
	h->rd_pending += len;
	return (0);
}

/* How a failure on side s reads: a reset from that side. */
static int
reset_of(int s)
{
	return (s == 0 ? RELAY_CLIENT_RESET : RELAY_SERVER_RESET);
}

/*
 * Move direction d (side d to side 1 - d) until one end says EAGAIN.
 * Returns RELAY_OPEN or how the relay ended.
 */
static int
pump(struct relay *r, int d)
{
	struct relay_ctx *ctx = r->r_ctx;
	struct relay_dir *h = &r->r_dir[d];
	const int	 s = d, t = 1 - d;
	ssize_t		 n, w;
	size_t		 off;

	for (;;) {
		if (h->rd_leftlen > 0) {
			if (!r->r_wr[t])
				return (RELAY_OPEN);
			w = send(r->r_fd[t], h->rd_left + h->rd_leftoff,
			    h->rd_leftlen, MSG_NOSIGNAL);
			if (w > 0) {
				h->rd_leftoff += (size_t)w;
				h->rd_leftlen -= (size_t)w;
				h->rd_bytes += (uint64_t)w;
				if (h->rd_leftlen == 0)
					left_free(h);
				continue;
			}
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1 && errno == EAGAIN) {
				r->r_wr[t] = 0;
				return (RELAY_OPEN);
			}
			return (reset_of(t));
		}
		if (h->rd_pending > 0) {
			if (!r->r_wr[t])
				return (RELAY_OPEN);
			n = splice(h->rd_pipe[0], NULL, r->r_fd[t], NULL,
			    h->rd_pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				h->rd_pending -= (size_t)n;
				h->rd_bytes += (uint64_t)n;
				if (h->rd_pending == 0)
					pipe_put(ctx, h);
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				r->r_wr[t] = 0;
				return (RELAY_OPEN);
			}
			return (reset_of(t));
		}
		if (h->rd_eof) {
			/*
			 * When the other way is over too, the relay ends and
			 * relay_close() sends this FIN: t was read to its EOF,
			 * so its close() is a FIN, not a reset.
			 */
			if (!h->rd_shut) {
				if (!r->r_dir[t].rd_shut)
					shutdown(r->r_fd[t], SHUT_WR);
				h->rd_shut = 1;
			}
			return (RELAY_OPEN);
		}
		if (!r->r_rd[s])
			return (RELAY_OPEN);
		/* Out of descriptors for a pipe: copy, as small reads do. */
		if (h->rd_splice && h->rd_pipe[0] == -1 && pipe_get(ctx,
		    h->rd_pipe) == -1)
			h->rd_splice = 0;
		if (h->rd_splice) {
			n = splice(r->r_fd[s], NULL, h->rd_pipe[1], NULL,
			    ctx->rc_pipesz, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				h->rd_pending += (size_t)n;
				continue;
			}
		} else {
			n = recv(r->r_fd[s], ctx->rc_buf, ctx->rc_bufsz, 0);
			if (n > 0) {
				/* A full buffer is bulk: splice from now on. */
				if ((size_t)n == ctx->rc_bufsz)
					h->rd_splice = 1;
				off = 0;
				if (r->r_wr[t]) {
					w = send(r->r_fd[t], ctx->rc_buf,
					    (size_t)n, MSG_NOSIGNAL);
					if (w > 0) {
						off = (size_t)w;
						h->rd_bytes += (uint64_t)w;
					} else if (w == -1 && errno == EAGAIN)
						r->r_wr[t] = 0;
					else if (w == -1 && errno != EINTR)
						return (reset_of(t));
				}
				if (off < (size_t)n) {
					/* The rest waits in a pipe. */
					if (h->rd_pipe[0] == -1 && pipe_get(ctx,
					    h->rd_pipe) == -1) {
						if (left_keep(h, ctx->rc_buf +
						    off, (size_t)n - off) == -1)
							return (RELAY_ERROR);
						continue;
					}
					w = write(h->rd_pipe[1], ctx->rc_buf +
					    off, (size_t)n - off);
					if (w != (ssize_t)((size_t)n - off))
						return (RELAY_ERROR);
					h->rd_pending += (size_t)w;
				}
				/*
				 * Short: the socket is drained, and bytes that
				 * come later raise a new edge.  Unless an EOF
				 * may be behind them (see relay.h).
				 */
				if ((size_t)n < ctx->rc_bufsz && !r->r_drain[s])
					r->r_rd[s] = 0;
				continue;
			}
		}
		if (n == 0) {
			h->rd_eof = 1;
			if (r->r_first == -1)
				r->r_first = s;
			pipe_put(ctx, h);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			r->r_rd[s] = 0;
			r->r_drain[s] = 0;
			pipe_put(ctx, h);
			return (RELAY_OPEN);
		}
		return (reset_of(s));
	}
}

int
relay_io(struct relay *r, int fd, int what)
{
	int	 side, e;

	if (r->r_end != RELAY_OPEN)
		return (r->r_end);
	if (fd >= 0 && what != 0) {
		side = fd == r->r_fd[0] ? 0 : 1;
		if (what & (EVLOOP_READ | EVLOOP_HUP))
			r->r_rd[side] = 1;
		if (what & EVLOOP_HUP)
			r->r_drain[side] = 1;
		if (what & (EVLOOP_WRITE | EVLOOP_HUP))
			r->r_wr[side] = 1;
	}
	if ((e = pump(r, RELAY_UP)) != RELAY_OPEN ||
	    (e = pump(r, RELAY_DOWN)) != RELAY_OPEN) {
		r->r_end = e;
		return (e);
	}
	if (r->r_dir[0].rd_shut && r->r_dir[1].rd_shut)
		r->r_end = r->r_first == 1 ? RELAY_SERVER_CLOSE :
		    RELAY_CLIENT_CLOSE;
	return (r->r_end);
}

void
relay_close(struct relay *r)
{
	int	 d;

	if (r->r_end == RELAY_CLIENT_RESET)
		sock_reset(r->r_fd[1]);
	else if (r->r_end == RELAY_SERVER_RESET)
		sock_reset(r->r_fd[0]);
	for (d = 0; d < 2; d++) {
		pipe_put(r->r_ctx, &r->r_dir[d]);
		left_free(&r->r_dir[d]);
		if (r->r_fd[d] != -1)
			close(r->r_fd[d]);
		r->r_fd[d] = -1;
	}
}

uint64_t
relay_bytes(const struct relay *r, int dir)
{
	return (r->r_dir[dir].rd_bytes);
}
