/* live: -w on a terminal: a view redrawn in place, like top(1). */
#include <sys/ioctl.h>

#include <err.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "esc.h"
#include "evloop.h"
#include "lb-stat.h"
#include "log.h"

/*
 * Plain ANSI sequences, no curses: every frame is written whole, each
 * line placed with a cursor address and cleared to its end, so the
 * view never scrolls and a smaller window never wraps.
 */
#define LIVE_HIST	32		/* samples of history per backend */
#define LIVE_LINEMAX	2048		/* bytes of one line, escapes included */

/* What the rate column, the bar and the sparkline show; m cycles. */
enum measure { M_TOTAL, M_REQ, M_IN, M_OUT, M_N };
static const enum col_id mcol[M_N] = { C_TOTAL_RATE, C_REQUESTS_RATE,
    C_BYTES_IN_RATE, C_BYTES_OUT_RATE };
#define MEASURE_W	14		/* the longest name: bytes_out_rate */

struct hist {
	uint64_t	 h_uid;
	int		 h_n;			/* samples held, up to LIVE_HIST */
	double		 h_v[M_N][LIVE_HIST];	/* oldest first */
};

struct live {
	struct rater	 l_ra;
	struct hist	*l_hist;		/* by slot */
	uint32_t	 l_cap;
	uint64_t	 l_interval;
	long long	 l_left;
	struct evtimer	 l_timer;
	enum measure	 l_m;
	int		 l_color, l_utf8, l_tty_in, l_raw;
	int		 l_w, l_h;
	struct termios	 l_saved;
	int		 l_status;
	char		*l_fb;			/* the frame being made */
	size_t		 l_fblen, l_fbcap;
};

static struct live	 L;

/* One line of the frame, clipped to the window's width. */
struct line {
	char	 b[LIVE_LINEMAX];
	size_t	 len;
	int	 col, max;
};

static void
fb_add(const char *s, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (L.l_fblen + n > L.l_fbcap) {
		cap = L.l_fbcap ? L.l_fbcap * 2 : 16384;
		while (cap < L.l_fblen + n)
			cap *= 2;
		if ((nb = realloc(L.l_fb, cap)) == NULL)
			fatal("live");
		L.l_fb = nb;
		L.l_fbcap = cap;
	}
	memcpy(L.l_fb + L.l_fblen, s, n);
	L.l_fblen += n;
}

static void
fb_str(const char *s)
{
	fb_add(s, strlen(s));
}

/* ASCII text: each byte one column; what does not fit is cut. */
static void
put(struct line *l, const char *s)
{
	for (; *s && l->col < l->max && l->len + 1 < sizeof(l->b); s++) {
		l->b[l->len++] = *s;
		l->col++;
	}
}

/* One glyph of one column, given in UTF-8. */
static void
glyph(struct line *l, const char *g)
{
	size_t	 n = strlen(g);

	if (l->col >= l->max || l->len + n >= sizeof(l->b))
		return;
	memcpy(l->b + l->len, g, n);
	l->len += n;
	l->col++;
}

/* A colour or attribute; nothing when colour is off. */
static void
sgr(struct line *l, const char *code)
{
	int	 n;

	if (!L.l_color || l->len + 16 >= sizeof(l->b))
		return;
	n = snprintf(l->b + l->len, sizeof(l->b) - l->len, "\033[%sm", code);
	if (n > 0)
		l->len += (size_t)n;
}

static void
pad(struct line *l, int to)
{
	while (l->col < to && l->col < l->max)
		put(l, " ");
}

/* s in a field of w columns, right-aligned when right, then a space. */
static void
field(struct line *l, const char *s, int w, int right)
{
	int	 n = (int)strlen(s), start = l->col;

	if (right && n < w)
		pad(l, start + w - n);
	put(l, s);
	pad(l, start + w);
	put(l, " ");
}

/* Line y (1-based) of the frame. */
static void
emit_line(struct line *l, int y)
{
	char	 pos[32];

	snprintf(pos, sizeof(pos), "\033[%d;1H", y);
	fb_str(pos);
	fb_add(l->b, l->len);
	if (L.l_color)
		fb_str("\033[0m");
	fb_str("\033[K");
}

static void
line_init(struct line *l)
{
	l->len = 0;
	l->col = 0;
	l->max = L.l_w;
}

/*
 * Numbers for a person, each column in one form from frame to frame:
 * a rate always with one decimal below 100 (0.0, 9.5, 95.0, 950,
 * 12.3k), a count always whole (0, 7, 950, 12.3k).
 */
static void
human(char *buf, size_t len, double v, int whole)
{
	static const char units[] = " kMGTP";
	int	 u = 0;

	while (v >= 999.5 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0 && whole)
		snprintf(buf, len, "%.0f", v);
	else if (u == 0)
		snprintf(buf, len, v < 99.95 ? "%.1f" : "%.0f", v);
	else
		snprintf(buf, len, v < 99.95 ? "%.1f%c" : "%.0f%c", v,
		    units[u]);
}

static double
measure(const struct row *r, enum measure m)
{
	return (r->metric[mcol[m]]);
}

/* A bar of frac (0..1) over w columns, eighths of a block at its end. */
static void
bar(struct line *l, double frac, int w)
{
	static const char *const part[8] = { "", "\u258f", "\u258e",
	    "\u258d", "\u258c", "\u258b", "\u258a", "\u2589" };
	int	 eighths = (int)(frac * w * 8 + 0.5), start = l->col, i;

	if (eighths > w * 8)
		eighths = w * 8;
	sgr(l, "36");
	for (i = 0; i < eighths / 8; i++)
		L.l_utf8 ? glyph(l, "\u2588") : put(l, "#");
	if (eighths % 8 && L.l_utf8)
		glyph(l, part[eighths % 8]);
	sgr(l, "39");
	pad(l, start + w);
}

/* The recent history of h as w columns of block heights. */
static void
spark(struct line *l, const struct hist *h, enum measure m, int w)
{
	static const char *const lv[8] = { "\u2581", "\u2582", "\u2583",
	    "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char asc[] = "_.:-=+*#";
	double	 max = 0;
	int	 i, n = h->h_n < w ? h->h_n : w, k;
	char	 c[2] = { 0, 0 };

	for (i = h->h_n - n; i < h->h_n; i++)
		if (h->h_v[m][i] > max)
			max = h->h_v[m][i];
	pad(l, l->col + (w - n));
	sgr(l, "34");
	for (i = h->h_n - n; i < h->h_n; i++) {
		k = max > 0 ? (int)(h->h_v[m][i] / max * 7 + 0.5) : 0;
		if (L.l_utf8)
			glyph(l, lv[k]);
		else {
			c[0] = asc[k];
			put(l, c);
		}
	}
	sgr(l, "39");
}

static const char *
admin_color(const struct row *r)
{
	/* The states as numbers, as the row keeps them for metrics. */
	switch ((int)r->metric[C_ADMIN]) {
	case TABLE_ADMIN_ENABLED:
		return ("39");
	case TABLE_ADMIN_MAINT:
		return ("35");
	default:
		return ("33");
	}
}

static const char *
health_color(const struct row *r)
{
	switch ((int)r->metric[C_HEALTH]) {
	case TABLE_HEALTH_UP:
		return ("32");
	case TABLE_HEALTH_DOWN:
		return ("31;1");
	case TABLE_HEALTH_UNKNOWN:
		return ("39");
	default:
		return ("33");
	}
}

/* Which optional columns the width allows, and how wide. */
struct layout {
	int	 name, act, wt, bar, sp, in, out;
};

static void
layout(struct layout *lo, int w, int longest)
{
	int	 used, extra;

	memset(lo, 0, sizeof(*lo));
	lo->name = 8;
	/* backend, admin, health, the measure */
	used = lo->name + 1 + 8 + 8 + MEASURE_W + 1;
	if (used + 7 <= w) {
		lo->act = 6;
		used += 7;
	}
	if (used + 11 <= w) {
		lo->bar = 10;
		used += 11;
	}
	if (used + 9 <= w) {
		lo->sp = 8;
		used += 9;
	}
	if (used + 7 <= w) {
		lo->wt = 6;
		used += 7;
	}
	if (used + 14 <= w) {
		lo->in = 13;
		used += 14;
	}
	if (used + 15 <= w) {
		lo->out = 14;
		used += 15;
	}
	/* What is left widens the name as needed, the bar, the sparkline. */
	extra = w - used;
	while (extra > 0 && lo->name < 16 && lo->name < longest) {
		lo->name++;
		extra--;
	}
	while (extra > 0 && lo->bar && lo->bar < 20) {
		lo->bar++;
		extra--;
	}
	while (extra > 0 && lo->sp && lo->sp < LIVE_HIST) {
		lo->sp++;
		extra--;
	}
	while (extra > 0 && lo->bar && lo->bar < 40) {
		lo->bar++;
		extra--;
	}
}

/* "word value" pairs of a title line, two spaces apart. */
static void
pair(struct line *l, const char *word, double v, int whole)
{
	char	 a[32];

	if (l->col > 0)
		put(l, "  ");
	put(l, word);
	put(l, " ");
	human(a, sizeof(a), v, whole);
	put(l, a);
}

static void
draw(void)
{
	const struct rater *ra = &L.l_ra;
	struct layout	 lo;
	struct line	 l;
	double		 tot[M_N] = { 0 }, active = 0, queued = 0, fail = 0;
	double		 s5xx = 0, share;
	char		 a[64], now[16];
	int		 up = 0, down = 0, y, room, longest = 0, m;
	size_t		 k;
	time_t		 t = time(NULL);
	struct tm	 tm;

	L.l_fblen = 0;
	fb_str("\033[H");
	if (L.l_w < 24 || L.l_h < 5) {
		line_init(&l);
		put(&l, "lb-stat: window too small");
		emit_line(&l, 1);
		fb_str("\033[J");
		goto out;
	}
	for (k = 0; k < ra->ra_n; k++) {
		const struct row *r = &ra->ra_rows[k];

		for (m = 0; m < M_N; m++)
			tot[m] += measure(r, m);
		active += r->metric[C_ACTIVE];
		fail += r->metric[C_FAIL_RATE];
		s5xx += r->metric[C_STATUS_5XX_RATE];
		if ((int)strlen(r->v[C_BACKEND]) > longest)
			longest = (int)strlen(r->v[C_BACKEND]);
		if ((int)r->metric[C_HEALTH] == TABLE_HEALTH_UP)
			up++;
		else if ((int)r->metric[C_HEALTH] == TABLE_HEALTH_DOWN)
			down++;
	}
	queued = (double)table_queued(ra->ra_src.sr_t, &ra->ra_src.sr_snap);
	localtime_r(&t, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);

	line_init(&l);
	sgr(&l, "1");
	put(&l, "lb-stat ");
	esc_tsv(a, sizeof(a), table_name(ra->ra_src.sr_t),
	    strlen(table_name(ra->ra_src.sr_t)));
	put(&l, a);
	sgr(&l, "22");
	put(&l, "  ");
	put(&l, now);
	snprintf(a, sizeof(a), "  every %.3gs", L.l_interval / 1000.0);
	put(&l, a);
	if (l.max - l.col > 22) {
		pad(&l, l.max - 20);
		put(&l, "m: measure  q: quit");
	}
	emit_line(&l, 1);

	/* The table's totals, under the words of its columns. */
	line_init(&l);
	pair(&l, "backends", (double)ra->ra_n, 1);
	pair(&l, "up", up, 1);
	pair(&l, "down", down, 1);
	pair(&l, "active", active, 1);
	pair(&l, "queued", queued, 1);
	pair(&l, "fail_rate", fail, 0);
	pair(&l, "status_5xx_rate", s5xx, 0);
	emit_line(&l, 2);

	line_init(&l);
	for (m = 0; m < M_N; m++)
		pair(&l, cols[mcol[m]].name, tot[m], 0);
	emit_line(&l, 3);

	layout(&lo, L.l_w, longest);
	line_init(&l);
	sgr(&l, "7");
	field(&l, "backend", lo.name, 0);
	field(&l, "admin", 7, 0);
	field(&l, "health", 7, 0);
	if (lo.wt)
		field(&l, "weight", lo.wt, 1);
	if (lo.act)
		field(&l, "active", lo.act, 1);
	field(&l, cols[mcol[L.l_m]].name, MEASURE_W, 1);
	if (lo.bar)
		field(&l, "% of rate", lo.bar, 0);
	if (lo.in)
		field(&l, "bytes_in_rate", lo.in, 1);
	if (lo.out)
		field(&l, "bytes_out_rate", lo.out, 1);
	if (lo.sp)
		field(&l, "recent", lo.sp, 0);
	pad(&l, l.max);
	emit_line(&l, 4);

	y = 5;
	room = L.l_h - 4;
	for (k = 0; k < ra->ra_n; k++, y++) {
		const struct row *r = &ra->ra_rows[k];

		line_init(&l);
		if ((int)k == room - 1 && ra->ra_n > (size_t)room) {
			snprintf(a, sizeof(a), "... %zu more",
			    ra->ra_n - (size_t)room + 1);
			put(&l, a);
			emit_line(&l, y);
			break;
		}
		esc_tsv(a, sizeof(a), r->v[C_BACKEND], strlen(r->v[C_BACKEND]));
		field(&l, a, lo.name, 0);
		sgr(&l, admin_color(r));
		field(&l, r->v[C_ADMIN], 7, 0);
		sgr(&l, health_color(r));
		field(&l, r->v[C_HEALTH], 7, 0);
		sgr(&l, "0");
		if (lo.wt)
			field(&l, r->v[C_WEIGHT], lo.wt, 1);
		if (lo.act) {
			human(a, sizeof(a), r->metric[C_ACTIVE], 1);
			field(&l, a, lo.act, 1);
		}
		human(a, sizeof(a), measure(r, L.l_m), 0);
		field(&l, a, MEASURE_W, 1);
		if (lo.bar) {
			share = tot[L.l_m] > 0 ? measure(r, L.l_m) /
			    tot[L.l_m] : 0;
			snprintf(a, sizeof(a), "%3.0f%%", share * 100);
			put(&l, a);
			put(&l, " ");
			bar(&l, share, lo.bar - 5);
			put(&l, " ");
		}
		if (lo.in) {
			human(a, sizeof(a), r->metric[C_BYTES_IN_RATE], 0);
			field(&l, a, lo.in, 1);
		}
		if (lo.out) {
			human(a, sizeof(a), r->metric[C_BYTES_OUT_RATE], 0);
			field(&l, a, lo.out, 1);
		}
		if (lo.sp && r->slot < L.l_cap)
			spark(&l, &L.l_hist[r->slot], L.l_m, lo.sp);
		emit_line(&l, y);
	}
	fb_str("\033[J");
 out:
	if (write(STDOUT_FILENO, L.l_fb, L.l_fblen) == -1)
		fatal("stdout");
}

/* Append this interval's rates to each backend's history. */
static void
remember(void)
{
	const struct rater *ra = &L.l_ra;
	struct hist	*h, *nh;
	size_t		 k;
	int		 m;

	if (L.l_cap != ra->ra_cap) {
		if ((nh = calloc(ra->ra_cap, sizeof(*nh))) == NULL)
			fatal("live");
		free(L.l_hist);
		L.l_hist = nh;
		L.l_cap = ra->ra_cap;
	}
	for (k = 0; k < ra->ra_n; k++) {
		const struct row *r = &ra->ra_rows[k];

		h = &L.l_hist[r->slot];
		if (h->h_uid != r->uid) {
			memset(h, 0, sizeof(*h));
			h->h_uid = r->uid;
		}
		if (h->h_n == LIVE_HIST) {
			for (m = 0; m < M_N; m++)
				memmove(h->h_v[m], h->h_v[m] + 1,
				    (LIVE_HIST - 1) * sizeof(double));
			h->h_n--;
		}
		for (m = 0; m < M_N; m++)
			h->h_v[m][h->h_n] = measure(r, m);
		h->h_n++;
	}
}

static void
winsize(void)
{
	struct winsize	 ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		L.l_w = ws.ws_col;
		L.l_h = ws.ws_row;
	} else {
		L.l_w = 80;
		L.l_h = 24;
	}
}

static void
term_enter(void)
{
	struct termios	 t;

	if (L.l_tty_in && tcgetattr(STDIN_FILENO, &L.l_saved) == 0) {
		t = L.l_saved;
		t.c_lflag &= ~(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
			L.l_raw = 1;
	}
	/* the other screen, no cursor */
	if (write(STDOUT_FILENO, "\033[?1049h\033[?25l\033[H\033[J", 21) == -1)
		fatal("stdout");
}

static void
term_leave(void)
{
	if (L.l_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &L.l_saved);
		L.l_raw = 0;
	}
	(void)!write(STDOUT_FILENO, "\033[?25h\033[?1049l", 14);
}

static int	 entered;

static void
term_atexit(void)
{
	if (entered)
		term_leave();
}

static void
live_tick(struct evloop *ev, void *arg)
{
	char	 e[256];

	(void)arg;
	switch (rater_next(&L.l_ra, e, sizeof(e))) {
	case SRC_GONE:
		term_leave();
		entered = 0;
		log_warnx("table %s: %s", esc_arg(L.l_ra.ra_src.sr_name),
		    esc_arg(e));
		L.l_status = 1;
		evloop_stop(ev);
		return;
	case SRC_NEW:
	case SRC_SAME:
		break;
	}
	remember();
	draw();
	if (L.l_left > 0 && --L.l_left == 0) {
		evloop_stop(ev);
		return;
	}
	evtimer_set(ev, &L.l_timer, L.l_interval, live_tick, NULL);
}

static void
live_key(struct evloop *ev, int fd, int what, void *arg)
{
	char	 buf[64];
	ssize_t	 n, i;

	(void)what;
	(void)arg;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == 'q' || buf[i] == 'Q') {
				evloop_stop(ev);
				return;
			}
			if (buf[i] == 'm') {
				L.l_m = (L.l_m + 1) % M_N;
				draw();
			}
		}
}

static void
live_signal(struct evloop *ev, int signo)
{
	switch (signo) {
	case SIGWINCH:
		winsize();
		draw();
		break;
	case SIGTSTP:
		term_leave();
		kill(getpid(), SIGSTOP);
		break;
	case SIGCONT:
		term_enter();
		winsize();
		draw();
		break;
	default:
		evloop_stop(ev);
		break;
	}
}

int
live_run(const char *name, uint64_t interval, long long count)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH,
	    SIGTSTP, SIGCONT };
	struct evloop	*ev;
	const char	*nc;
	char		 e[256];

	memset(&L, 0, sizeof(L));
	L.l_interval = interval;
	L.l_left = count;
	setlocale(LC_CTYPE, "");
	L.l_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	/* https://no-color.org: set and not empty */
	L.l_color = (nc = getenv("NO_COLOR")) == NULL || nc[0] == '\0';
	L.l_tty_in = isatty(STDIN_FILENO);
	if (rater_open(&L.l_ra, name, e, sizeof(e)) == -1)
		errx(1, "table %s: %s", esc_arg(name), esc_arg(e));
	if ((ev = evloop_new()) == NULL ||
	    sig_watch(ev, sigs, sizeof(sigs) / sizeof(sigs[0]),
	    live_signal) == -1)
		err(1, "evloop");
	if (L.l_tty_in && evloop_add(ev, STDIN_FILENO, EVLOOP_READ, live_key,
	    NULL) == -1)
		L.l_tty_in = 0;
	atexit(term_atexit);
	term_enter();
	entered = 1;
	winsize();
	remember();
	draw();
	evtimer_set(ev, &L.l_timer, interval, live_tick, NULL);
	if (evloop_run(ev) == -1)
		fatal("evloop");
	if (entered)
		term_leave();
	entered = 0;
	evloop_free(ev);
	rater_close(&L.l_ra);
	free(L.l_hist);
	free(L.l_fb);
	return (L.l_status);
}
