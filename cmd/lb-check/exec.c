/* exec: exec checks as child processes, each in its own process group. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb-check.h"
#include "log.h"

extern char	**environ;

static TAILQ_HEAD(, backend) execq = TAILQ_HEAD_INITIALIZER(execq);
static TAILQ_HEAD(, backend) runq = TAILQ_HEAD_INITIALIZER(runq);
static int	 nrun;
static char	**baseenv;		/* environ less our own LB_ names */
static size_t	 nbaseenv;

static void	exec_timeout(struct evloop *, void *);
static void	exec_pipe(struct evloop *, int, int, void *);

static const char *const ourvars[] = { "LB_TABLE=", "LB_BACKEND=",
    "LB_ADDR=", "LB_HOST=", "LB_PORT=" };
#define NOURVARS	(sizeof(ourvars) / sizeof(ourvars[0]))

int
exec_init(char *err, size_t errlen)
{
	size_t	 n, i, k;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((baseenv = calloc(n + NOURVARS + 1, sizeof(*baseenv))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < NOURVARS; k++)
			if (strncmp(environ[i], ourvars[k],
			    strlen(ourvars[k])) == 0)
				break;
		if (k == NOURVARS)
			baseenv[nbaseenv++] = environ[i];
	}
	return (0);
}

char *
exec_which(const char *prog)
{
	struct stat	 st;
	const char	*path, *p, *e;
	char		 buf[PATH_MAX];
	size_t		 n;

	if (*prog == '\0')
		return (NULL);
	if (strchr(prog, '/') != NULL) {
		if (stat(prog, &st) == -1 || !S_ISREG(st.st_mode) ||
		    access(prog, X_OK) == -1)
			return (NULL);
		return (strdup(prog));
	}
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/bin:/bin";
	for (p = path; ; p = e + 1) {
		e = strchr(p, ':');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0)
			snprintf(buf, sizeof(buf), "./%s", prog);
		else
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return (strdup(buf));
		if (e == NULL)
			return (NULL);
	}
}

static void
q_remove(struct backend *b)
{
	if (b->b_onq == LBC_Q_EXEC)
		TAILQ_REMOVE(&execq, b, b_qentry);
	else if (b->b_onq == LBC_Q_RUN) {
		TAILQ_REMOVE(&runq, b, b_qentry);
		nrun--;
	}
	b->b_onq = LBC_Q_NONE;
}

/* Run b's command now.  Returns 0, or -1 when it could not start. */
static int
exec_spawn(struct backend *b)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t	 none, dfl;
	char		 vars[NOURVARS][TABLE_ADDR_MAX + 32];
	char		**env = NULL;
	size_t		 k;
	pid_t		 pid;
	int		 p[2] = { -1, -1 }, rv, ret = -1, fa_ok = 0, at_ok = 0;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		if (errno == EMFILE || errno == ENFILE)
			return (-1);
		log_warn("pipe");
		return (-1);
	}
	snprintf(vars[0], sizeof(vars[0]), "LB_TABLE=%s", conf.cc_table);
	snprintf(vars[1], sizeof(vars[1]), "LB_BACKEND=%s", b->b_name);
	snprintf(vars[2], sizeof(vars[2]), "LB_ADDR=%s", b->b_addr);
	snprintf(vars[3], sizeof(vars[3]), "LB_HOST=%s", b->b_host);
	snprintf(vars[4], sizeof(vars[4]), "LB_PORT=%s", b->b_port);
	if ((env = calloc(nbaseenv + NOURVARS + 1, sizeof(*env))) == NULL)
		goto done;
	memcpy(env, baseenv, nbaseenv * sizeof(*env));
	for (k = 0; k < NOURVARS; k++)
		env[nbaseenv + k] = vars[k];

	if (posix_spawn_file_actions_init(&fa) != 0)
		goto done;
	fa_ok = 1;
	if (posix_spawnattr_init(&attr) != 0)
		goto done;
	at_ok = 1;
	/* stdin from /dev/null, stdout to our pipe, stderr is ours. */
	if (posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO) != 0)
		goto done;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	/* A group of its own, so a timeout kills whatever it started. */
	if (posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setpgroup(&attr, 0) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &dfl) != 0)
		goto done;
	rv = posix_spawn(&pid, conf.cc_prog, &fa, &attr, conf.cc_argv, env);
	if (rv != 0) {
		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
		b->b_phase = PH_EXEC;
		b->b_start = evloop_clock();
		ret = 0;
		lbc_result(b, CHECK_EXFAIL, "127", "cannot run", 0, 0);
		goto done;
	}
	close(p[1]);
	p[1] = -1;
	if (evloop_add(ev, p[0], EVLOOP_READ, exec_pipe, b) == -1) {
		/* The child runs anyway; its output is lost, not its end. */
		close(p[0]);
		p[0] = -1;
	}
	b->b_pid = pid;
	b->b_pipe = p[0];
	p[0] = -1;
	b->b_killed = 0;
	b->b_linelen = 0;
	b->b_lineend = 0;
	b->b_phase = PH_EXEC;
	TAILQ_INSERT_TAIL(&runq, b, b_qentry);
	b->b_onq = LBC_Q_RUN;
	nrun++;
	evtimer_set(ev, &b->b_tmo, conf.cc_timeout, exec_timeout, b);
	ret = 0;
 done:
	if (at_ok)
		posix_spawnattr_destroy(&attr);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	return (ret);
}

void
exec_start(struct backend *b)
{
	b->b_pid = -1;
	b->b_pipe = -1;
	if (nrun >= conf.cc_maxexec) {
		b->b_phase = PH_QUEUED;
		TAILQ_INSERT_TAIL(&execq, b, b_qentry);
		b->b_onq = LBC_Q_EXEC;
		return;
	}
	b->b_start = evloop_clock();
	if (exec_spawn(b) == -1)
		lbc_retry(b);
}

/* Start queued checks while there is room. */
static void
exec_next(void)
{
	struct backend	*b;

	while (nrun < conf.cc_maxexec && (b = TAILQ_FIRST(&execq)) != NULL) {
		q_remove(b);
		b->b_start = evloop_clock();
		if (exec_spawn(b) == -1) {
			lbc_retry(b);
			break;
		}
	}
}

/* Read the child's output: keep its first line, drop the rest. */
static void
exec_drain(struct backend *b)
{
	char		 buf[512], *nl;
	ssize_t		 n;
	size_t		 take;

	if (b->b_pipe == -1)
		return;
	for (;;) {
		n = read(b->b_pipe, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		if (b->b_lineend)
			continue;
		take = (size_t)n;
		if ((nl = memchr(buf, '\n', take)) != NULL) {
			take = (size_t)(nl - buf);
			b->b_lineend = 1;
		}
		if (take > sizeof(b->b_line) - b->b_linelen)
			take = sizeof(b->b_line) - b->b_linelen;
		memcpy(b->b_line + b->b_linelen, buf, take);
		b->b_linelen += take;
	}
	evloop_del(ev, b->b_pipe);
	close(b->b_pipe);
	b->b_pipe = -1;
}

static void
exec_pipe(struct evloop *loop, int fd, int what, void *arg)
{
	(void)loop;
	(void)fd;
	(void)what;
	exec_drain(arg);
}

static void
exec_timeout(struct evloop *loop, void *arg)
{
	struct backend	*b = arg;

	(void)loop;
	if (b->b_pid > 0 && !b->b_killed) {
		kill(-b->b_pid, SIGKILL);
		b->b_killed = 1;
	}
	/* The result comes when it is reaped. */
}

/* The child of b ended with wait status st: judge it. */
static void
exec_done(struct backend *b, int st)
{
	char		 w[48], r[48];
	int		 agent = 0, share = 0, result;

	evtimer_cancel(ev, &b->b_tmo);
	exec_drain(b);
	if (b->b_pipe != -1) {
		evloop_del(ev, b->b_pipe);
		close(b->b_pipe);
		b->b_pipe = -1;
	}
	q_remove(b);
	b->b_pid = -1;
	b->b_phase = PH_IDLE;
	if (b->b_gone) {
		lbc_release(b);
		return;
	}
	if (b->b_killed) {
		lbc_result(b, CHECK_EXTOUT, NULL, NULL, 0, 0);
		return;
	}
	agent = check_agent_parse(b->b_line, b->b_linelen, &share);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    !(agent & (CHECK_AGENT_DOWN | CHECK_AGENT_MAINT))) {
		result = CHECK_EXOK;
		w[0] = '\0';
		if (agent & CHECK_AGENT_DRAIN)
			strlcpy(w, "drain", sizeof(w));
		else if (agent & CHECK_AGENT_UP)
			strlcpy(w, "up", sizeof(w));
		if (agent & CHECK_AGENT_SHARE)
			snprintf(w + strlen(w), sizeof(w) - strlen(w),
			    "%s%d%%", w[0] ? "," : "", share);
		strlcpy(r, w[0] ? w : "ok", sizeof(r));
	} else {
		result = CHECK_EXFAIL;
		if (agent & CHECK_AGENT_MAINT) {
			strlcpy(w, "maint", sizeof(w));
			strlcpy(r, "maint", sizeof(r));
		} else if (agent & CHECK_AGENT_DOWN) {
			strlcpy(w, "down", sizeof(w));
			strlcpy(r, "down", sizeof(r));
		} else if (WIFEXITED(st)) {
			snprintf(w, sizeof(w), "%d", WEXITSTATUS(st));
			snprintf(r, sizeof(r), "exit %d", WEXITSTATUS(st));
		} else {
			snprintf(w, sizeof(w), "sig%d", WTERMSIG(st));
			snprintf(r, sizeof(r), "signal %d", WTERMSIG(st));
		}
	}
	lbc_result(b, result, w, r, agent, share);
}

void
exec_sigchld(void)
{
	struct backend	*b;
	siginfo_t	 si;
	pid_t		 pid;
	int		 st;

	for (;;) {
		memset(&si, 0, sizeof(si));
		/* Look without reaping: the group's id stays ours to kill. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
		    si.si_pid == 0)
			break;
		pid = si.si_pid;
		kill(-pid, SIGKILL);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		TAILQ_FOREACH(b, &runq, b_qentry)
			if (b->b_pid == pid)
				break;
		if (b != NULL)
			exec_done(b, st);
	}
	exec_next();
}

void
exec_abort(struct backend *b)
{
	if (b->b_onq == LBC_Q_EXEC) {
		q_remove(b);
		b->b_phase = PH_IDLE;
		return;
	}
	if (b->b_pid > 0 && !b->b_killed) {
		kill(-b->b_pid, SIGKILL);
		b->b_killed = 1;
	}
}
