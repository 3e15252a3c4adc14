/* table: the shared-memory backend table every program attaches to. */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "table.h"

#define TABLE_MAGIC	"lbtable"	/* 8 bytes with its NUL */
#define TABLE_HDRSIZE	4096
#define TABLE_PID_MAX	4194304		/* the kernel's limit */
#define TABLE_SHMDIR	"/dev/shm"
#define TABLE_SHMPFX	"lb."
#define BE_NAME_CHARS	ADDR_ALNUM "_.:/@%+[]-"
#define BE_ADDR_CHARS	ADDR_CHARS

struct table_reg {
	_Atomic int32_t	 r_pid;			/* 0: free */
	_Atomic int32_t	 r_queued;		/* work of ours waiting */
	uint64_t	 r_start;		/* start time, clock ticks after boot */
	char		 r_prog[16];
};

struct table_hdr {
	char		 th_magic[8];
	uint32_t	 th_version;
	uint32_t	 th_hdrsize;
	uint32_t	 th_besize;
	uint32_t	 th_ctrsize;
	uint32_t	 th_cksize;
	uint32_t	 th_regsize;
	uint32_t	 th_capacity;
	uint32_t	 th_nreg;
	uint64_t	 th_size;		/* bytes of the whole object */
	uint64_t	 th_created;		/* ms since the epoch */
	uint8_t		 th_pad0[64 - 56];
	_Atomic uint64_t th_gen;		/* its own cache line */
	uint8_t		 th_pad1[64 - 8];
	struct table_reg th_reg[TABLE_NREG];
	uint8_t		 th_reserved[TABLE_HDRSIZE - 128 -
			    TABLE_NREG * sizeof(struct table_reg)];
};

/* The head of each of the two configuration buffers. */
struct table_conf {
	uint32_t	 cf_hw;			/* slots [0, hw) may be in use */
	uint32_t	 cf_count;		/* slots in use */
	uint64_t	 cf_next_uid;
	uint8_t		 cf_reserved[48];
	struct table_backend cf_be[];
};

_Static_assert(sizeof(struct table_backend) == 384, "table_backend size");
_Static_assert(offsetof(struct table_backend, be_reserved) == 312,
    "table_backend layout");
_Static_assert(sizeof(struct table_counters) == 128, "table_counters size");
_Static_assert(sizeof(struct table_check) == 64, "table_check size");
_Static_assert(sizeof(struct table_reg) == 32, "table_reg size");
_Static_assert(sizeof(struct table_hdr) == TABLE_HDRSIZE, "table_hdr size");
_Static_assert(sizeof(struct table_conf) == 64, "table_conf size");
_Static_assert(offsetof(struct table_hdr, th_gen) == 64, "th_gen offset");

struct table {
	char		 t_name[PATH_MAX];
	int		 t_fd;
	int		 t_writable;
	uint8_t		*t_base;
	size_t		 t_size;
	struct table_hdr *t_hdr;
	uint32_t	 t_cap;			/* read once, at attach */
	size_t		 t_confsz, t_off_ctr, t_off_ck, t_off_contrib, t_rowsz;
	/*
	 * Our registration: the entry (-1 while we have none), what it
	 * should hold, and our own count of each slot, which is the truth
	 * our row in the table is repaired from.  Counting holds t_rw for
	 * reading, a repair holds it for writing.
	 */
	int		 t_reg;
	pid_t		 t_regpid;
	uint64_t	 t_regstart;
	_Atomic int32_t	*t_mirror;		/* NULL until registered */
	_Atomic int32_t	 t_queued;		/* the truth of r_queued */
	pthread_rwlock_t t_rw;
	int		 t_locked;
	uint64_t	 t_wgen;		/* generation at table_begin() */
	struct table_conf *t_next;		/* the spare buffer being written */
	/*
	 * The writer's own bounds: never read back from shared memory,
	 * where another process could change them under us.
	 */
	uint32_t	 t_hw;			/* of the spare buffer */
	uint32_t	 t_curhw;		/* of the current buffer */
	uint32_t	*t_new;			/* slots allocated in this change */
	uint32_t	 t_nnew;
};

static void	slot_zero(struct table *, uint32_t);

static size_t
roundup_sz(size_t n, size_t to)
{
	return ((n + to - 1) / to * to);
}

/* Offsets of every region for a capacity; returns the whole size. */
static size_t
layout(uint32_t cap, size_t *confsz, size_t *off_ctr, size_t *off_ck,
    size_t *off_contrib, size_t *rowsz)
{
	size_t	 cs, ctr, ck, row;

	cs = roundup_sz(sizeof(struct table_conf) +
	    (size_t)cap * sizeof(struct table_backend), 4096);
	ctr = TABLE_HDRSIZE + 2 * cs;
	ck = ctr + roundup_sz((size_t)cap * sizeof(struct table_counters), 4096);
	row = roundup_sz((size_t)cap * sizeof(int32_t), 64);
	*confsz = cs;
	*off_ctr = ctr;
	*off_ck = ck;
	*off_contrib = ck + roundup_sz((size_t)cap * sizeof(struct table_check),
	    4096);
	*rowsz = row;
	return (*off_contrib + roundup_sz(TABLE_NREG * row, 4096));
}

static struct table_conf *
conf_at(const struct table *t, uint64_t gen)
{
	return ((struct table_conf *)(t->t_base + TABLE_HDRSIZE +
	    (gen & 1) * t->t_confsz));
}

static _Atomic int32_t *
contrib_row(const struct table *t, int r)
{
	return ((_Atomic int32_t *)(t->t_base + t->t_off_contrib +
	    (size_t)r * t->t_rowsz));
}

/* Zero a registrant's row, each count with an atomic store. */
static void
row_zero(struct table *t, int r)
{
	_Atomic int32_t	*row = contrib_row(t, r);
	uint32_t	 i;

	for (i = 0; i < t->t_cap; i++)
		atomic_store_explicit(&row[i], 0, memory_order_relaxed);
}

/*
 * With the lock held: tell every reader that the registrations changed,
 * so that it takes a new snapshot of who is alive.  By two, so that the
 * same configuration buffer stays current and nothing is copied; a
 * change open on this handle moves along, to commit into its spare.
 */
static void
gen_bump_locked(struct table *t)
{
	uint64_t	 g;

	g = atomic_load_explicit(&t->t_hdr->th_gen, memory_order_relaxed);
	atomic_store_explicit(&t->t_hdr->th_gen, g + 2, memory_order_release);
	if (t->t_locked)
		t->t_wgen += 2;
}

uint64_t
table_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static int
name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > TABLE_NAME_MAX)
		return (0);
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' &&
	    s[1] == '.'))
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return (0);
	return (1);
}

int
table_name_check(const char *name, char *err, size_t errlen)
{
	const char	*p, *base;

	if (strchr(name, '/') == NULL) {
		if (name_ok(name, strlen(name)))
			return (0);
		snprintf(err, errlen, "bad table name '%.80s': use 1 to %d of "
		    "A-Z a-z 0-9 _ . - (or a path with a /)", name,
		    TABLE_NAME_MAX);
		return (-1);
	}
	if (strlen(name) >= PATH_MAX - 1) {
		snprintf(err, errlen, "table path too long");
		return (-1);
	}
	for (p = name; *p; ) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			snprintf(err, errlen, "bad table name '%.80s': a path "
			    "may not contain ..", name);
			return (-1);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	base = strrchr(name, '/') + 1;
	if (!name_ok(base, strlen(base))) {
		snprintf(err, errlen, "bad table name '%.80s': the file's "
		    "name must be 1 to %d of A-Z a-z 0-9 _ . -", name,
		    TABLE_NAME_MAX);
		return (-1);
	}
	return (0);
}

/* Open the object behind name; returns an fd or -1 (errno kept). */
static int
obj_open(const char *name, int oflags, mode_t mode)
{
	char	 shm[TABLE_NAME_MAX + 8];

	if (strchr(name, '/') != NULL)
		return (open(name, oflags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		    mode));
	snprintf(shm, sizeof(shm), "/" TABLE_SHMPFX "%s", name);
	return (shm_open(shm, oflags, mode));
}

static int
lock_fd(int fd, int op)
{
	while (flock(fd, op) == -1) {
		if (errno != EINTR)
			return (-1);
	}
	return (0);
}

/* Make a new table in the empty object fd, holding its lock. */
static int
table_init(int fd, uint32_t cap, char *err, size_t errlen)
{
	struct table_hdr *h;
	size_t		 size, cs, oc, ok, ocb, row;
	int		 e, ret = -1;

	size = layout(cap, &cs, &oc, &ok, &ocb, &row);
	/*
	 * Reserve the memory now: a sparse object on a full tmpfs would
	 * kill the first writer of a missing page with SIGBUS instead.
	 */
	if ((e = posix_fallocate(fd, 0, (off_t)size)) != 0) {
		snprintf(err, errlen, "cannot make a table of %zu bytes: %s",
		    size, strerror(e));
		return (-1);
	}
	h = mmap(NULL, TABLE_HDRSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (h == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return (-1);
	}
	h->th_version = TABLE_VERSION;
	h->th_hdrsize = sizeof(struct table_hdr);
	h->th_besize = sizeof(struct table_backend);
	h->th_ctrsize = sizeof(struct table_counters);
	h->th_cksize = sizeof(struct table_check);
	h->th_regsize = sizeof(struct table_reg);
	h->th_capacity = cap;
	h->th_nreg = TABLE_NREG;
	h->th_size = size;
	h->th_created = table_now_ms();
	atomic_store(&h->th_gen, 2);
	/* The magic goes last: until it is there, nobody takes it for a table. */
	atomic_thread_fence(memory_order_release);
	memcpy(h->th_magic, TABLE_MAGIC, sizeof(h->th_magic));
	if (msync(h, TABLE_HDRSIZE, MS_SYNC) == -1 && errno != EINVAL)
		goto done;
	ret = 0;
 done:
	munmap(h, TABLE_HDRSIZE);
	if (ret == -1)
		snprintf(err, errlen, "msync: %s", strerror(errno));
	return (ret);
}

/*
 * Take a shared lock on fd, waiting at most about two seconds: a creator
 * holds the exclusive lock until its table is whole, but a writer that
 * was stopped must not hang a reader.  Returns 1 when locked.
 */
static int
lock_shared_briefly(int fd)
{
	int	 i;

	for (i = 0; i < 2000; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return (1);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return (0);
		usleep(1000);
	}
	return (0);
}

/*
 * Validate the header of the object fd before mapping it.  Returns 0,
 * or -1 with errno EPROTONOSUPPORT for a table of another layout
 * version, EINVAL for anything else.
 */
static int
table_validate(int fd, uint32_t *capp, char *err, size_t errlen)
{
	struct table_hdr h;
	struct stat	 st;
	size_t		 want, cs, oc, ok, ocb, row;
	ssize_t		 n;
	int		 tries, locked = 0, ret = -1, e = EINVAL;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return (-1);
	}
	/* The creator sizes the object, then writes it, under its lock. */
	for (tries = 0; ; tries++) {
		locked = lock_shared_briefly(fd);
		if (fstat(fd, &st) == -1) {
			snprintf(err, errlen, "fstat: %s", strerror(errno));
			goto done;
		}
		if (st.st_size != 0)
			break;
		/*
		 * Empty: a creator between making the object and locking
		 * it, or one that died.  With the lock ours, nobody is at
		 * work on it: give it a little while, then give up.
		 */
		if (locked)
			flock(fd, LOCK_UN);
		locked = 0;
		if (tries >= 10) {
			snprintf(err, errlen, "the table is empty (its creator "
			    "died?): destroy it and create it again");
			return (-1);
		}
		usleep(10000);
	}
	if ((n = pread(fd, &h, sizeof(h), 0)) != (ssize_t)sizeof(h)) {
		snprintf(err, errlen, "not an lb table: only %lld bytes",
		    (long long)st.st_size);
		goto done;
	}
	if (memcmp(h.th_magic, TABLE_MAGIC, sizeof(h.th_magic)) != 0) {
		snprintf(err, errlen, "not an lb table (bad magic)");
		goto done;
	}
	if (h.th_version != TABLE_VERSION) {
		snprintf(err, errlen, "table layout version %u, this program "
		    "reads version %d", h.th_version, TABLE_VERSION);
		e = EPROTONOSUPPORT;
		goto done;
	}
	if (h.th_hdrsize != sizeof(struct table_hdr) ||
	    h.th_besize != sizeof(struct table_backend) ||
	    h.th_ctrsize != sizeof(struct table_counters) ||
	    h.th_cksize != sizeof(struct table_check) ||
	    h.th_regsize != sizeof(struct table_reg) ||
	    h.th_nreg != TABLE_NREG) {
		snprintf(err, errlen, "table struct sizes do not match layout "
		    "version %d", TABLE_VERSION);
		goto done;
	}
	if (h.th_capacity == 0 || h.th_capacity > TABLE_CAP_MAX) {
		snprintf(err, errlen, "table capacity %u out of range 1..%u",
		    h.th_capacity, TABLE_CAP_MAX);
		goto done;
	}
	want = layout(h.th_capacity, &cs, &oc, &ok, &ocb, &row);
	if (h.th_size != want || (uint64_t)st.st_size != want) {
		snprintf(err, errlen, "table of %u slots should be %zu bytes, "
		    "the object is %lld (truncated or damaged)", h.th_capacity,
		    want, (long long)st.st_size);
		goto done;
	}
	*capp = h.th_capacity;
	ret = 0;
 done:
	if (locked)
		flock(fd, LOCK_UN);
	errno = e;
	return (ret);
}

/*
 * Whether to use an object that someone else made: it must be owned by
 * us or root, and writable by no one else beyond what the caller
 * accepted; a foreign owner only when the caller said the table is
 * shared (accepted lets group or others write).  This is checked
 * before a byte of it is read.  Returns 0, or -1 with the reason in err.
 */
static int
trusted(int fd, mode_t accepted, char *err, size_t errlen)
{
	struct passwd	 pw, *pp = NULL;
	struct stat	 st;
	char		 buf[1024], who[64] = "";
	mode_t		 m, hint;
	int		 foreign;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		errno = EINVAL;
		return (-1);
	}
	/* A device or fifo is no table, whoever owns it. */
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		errno = EINVAL;
		return (-1);
	}
	m = st.st_mode & 0777;
	foreign = st.st_uid != geteuid() && st.st_uid != 0;
	if ((m & 0022 & ~accepted) == 0 && (!foreign || (accepted & 0022)))
		return (0);
	/* The least -m that would accept it, as a hint. */
	hint = m;
	if (foreign && !(hint & 0022))
		hint |= 0020;
	if (getpwuid_r(st.st_uid, &pw, buf, sizeof(buf), &pp) == 0 &&
	    pp != NULL)
		snprintf(who, sizeof(who), " (%.40s)", pp->pw_name);
	snprintf(err, errlen, "owned by uid %u%s, mode %04o: not trusted (see "
	    "lb-table(5); -m %04o accepts it)", (unsigned)st.st_uid, who,
	    (unsigned)m, (unsigned)hint);
	errno = EPERM;
	return (-1);
}

int
table_mode_parse(const char *s, mode_t *mode)
{
	char	*end;
	long	 m;

	errno = 0;
	m = strtol(s, &end, 8);
	if (*s == '\0' || *end != '\0' || m <= 0 || m > 0777 || errno)
		return (-1);
	*mode = (mode_t)m;
	return (0);
}

/* table_open(), with the trust check or (for table_destroy()) without. */
static struct table *
attach(const char *name, int flags, uint32_t capacity, mode_t mode, int trust,
    char *err, size_t errlen)
{
	struct table	*t = NULL;
	int		 fd = -1, created = 0, oflags, tries;
	uint32_t	 cap;

	if (table_name_check(name, err, errlen) == -1) {
		errno = EINVAL;
		return (NULL);
	}
	if (capacity == 0)
		capacity = TABLE_CAP_DEFAULT;
	if (mode == 0)
		mode = 0600;
	if (capacity > TABLE_CAP_MAX) {
		snprintf(err, errlen, "capacity %u out of range 1..%u",
		    capacity, TABLE_CAP_MAX);
		errno = EINVAL;
		return (NULL);
	}
	oflags = (flags & TABLE_RDWR) ? O_RDWR : O_RDONLY;
	for (tries = 0; fd == -1; tries++) {
		if (!(flags & TABLE_EXCL))
			fd = obj_open(name, oflags, 0);
		if (fd != -1)
			break;
		if ((errno != ENOENT && !(flags & TABLE_EXCL)) ||
		    !(flags & TABLE_CREATE) || !(flags & TABLE_RDWR)) {
			snprintf(err, errlen, "%s", errno == ENOENT ?
			    "no such table" : strerror(errno));
			return (NULL);
		}
		fd = obj_open(name, O_RDWR | O_CREAT | O_EXCL, mode);
		if (fd == -1) {
			if (errno == EEXIST && !(flags & TABLE_EXCL) &&
			    tries < 10)
				continue;	/* lost a race to create it */
			snprintf(err, errlen, "%s", errno == EEXIST ?
			    "table exists" : strerror(errno));
			return (NULL);
		}
		created = 1;
	}
	if (!created && trust && trusted(fd, mode, err, errlen) == -1) {
		int	 e = errno;

		close(fd);
		errno = e;
		return (NULL);
	}
	if (created) {
		int	 e;

		if (lock_fd(fd, LOCK_EX) == -1 || fchmod(fd, mode) == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		e = table_init(fd, capacity, err, errlen);
		flock(fd, LOCK_UN);
		if (e == -1)
			goto fail;
	}
	if (table_validate(fd, &cap, err, errlen) == -1) {
		int	 e = errno;

		if (created)
			goto fail;
		close(fd);
		errno = e;
		return (NULL);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	strlcpy(t->t_name, name, sizeof(t->t_name));
	t->t_fd = fd;
	t->t_cap = cap;
	t->t_reg = -1;
	t->t_writable = (flags & TABLE_RDWR) != 0;
	t->t_size = layout(cap, &t->t_confsz, &t->t_off_ctr, &t->t_off_ck,
	    &t->t_off_contrib, &t->t_rowsz);
	t->t_base = mmap(NULL, t->t_size, t->t_writable ? PROT_READ |
	    PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (t->t_base == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		free(t);
		t = NULL;
		goto fail;
	}
	if (pthread_rwlock_init(&t->t_rw, NULL) != 0) {
		snprintf(err, errlen, "pthread_rwlock_init failed");
		munmap(t->t_base, t->t_size);
		free(t);
		t = NULL;
		goto fail;
	}
	t->t_hdr = (struct table_hdr *)t->t_base;
	return (t);
 fail:
	if (created)
		table_destroy(name, NULL, 0);
	if (fd != -1)
		close(fd);
	return (NULL);
}

struct table *
table_open(const char *name, int flags, uint32_t capacity, mode_t mode,
    char *err, size_t errlen)
{
	return (attach(name, flags, capacity, mode, 1, err, errlen));
}

void
table_close(struct table *t)
{
	struct table_reg *r;

	if (t == NULL)
		return;
	if (t->t_locked)
		table_abort(t);
	/*
	 * Leave, if the entry is still ours: not in a forked child, which
	 * must not give back its parent's connections, and not when
	 * another process took it after it was damaged.
	 */
	if (t->t_reg != -1 && t->t_regpid == getpid() &&
	    lock_fd(t->t_fd, LOCK_EX) == 0) {
		r = &t->t_hdr->th_reg[t->t_reg];
		if (atomic_load(&r->r_pid) == t->t_regpid &&
		    r->r_start == t->t_regstart) {
			row_zero(t, t->t_reg);
			atomic_store(&r->r_pid, 0);
			gen_bump_locked(t);
		}
		flock(t->t_fd, LOCK_UN);
	}
	pthread_rwlock_destroy(&t->t_rw);
	munmap(t->t_base, t->t_size);
	close(t->t_fd);
	free(t->t_mirror);
	free(t->t_new);
	free(t);
}

int
table_destroy(const char *name, char *err, size_t errlen)
{
	char		 shm[TABLE_NAME_MAX + 8], e[256];
	struct table	*t;
	int		 rc;

	/*
	 * Never unlink a file that is not a table; a table of another
	 * version is one, and a damaged shared-memory object is ours.
	 */
	if (err != NULL) {
		t = attach(name, TABLE_RDONLY, 0, 0, 0, e, sizeof(e));
		if (t == NULL && errno != EINVAL && errno != EPROTONOSUPPORT) {
			snprintf(err, errlen, "%s", e);
			return (-1);
		}
		if (t == NULL && errno == EINVAL && strchr(name, '/') != NULL) {
			snprintf(err, errlen, "%s", e);
			return (-1);
		}
		table_close(t);
	}
	if (strchr(name, '/') != NULL)
		rc = unlink(name);
	else {
		snprintf(shm, sizeof(shm), "/" TABLE_SHMPFX "%s", name);
		rc = shm_unlink(shm);
	}
	if (rc == -1 && err != NULL)
		snprintf(err, errlen, "%s", errno == ENOENT ? "no such table" :
		    strerror(errno));
	return (rc);
}

int
table_stale(const struct table *t)
{
	struct stat	 a, b;
	char		 shm[sizeof(TABLE_SHMDIR) + TABLE_NAME_MAX + 8];
	const char	*path = t->t_name;

	/* A name (not a path) is checked: it fits. */
	if (strchr(t->t_name, '/') == NULL) {
		snprintf(shm, sizeof(shm), TABLE_SHMDIR "/" TABLE_SHMPFX
		    "%.*s", TABLE_NAME_MAX, t->t_name);
		path = shm;
	}
	if (fstat(t->t_fd, &a) == -1)
		return (-1);
	if (lstat(path, &b) == -1)
		return (errno == ENOENT ? 1 : -1);
	return (a.st_dev != b.st_dev || a.st_ino != b.st_ino);
}

static int
cmpstr(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

int
table_list(void (*fn)(const char *name, void *arg), void *arg)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, **nv;
	size_t		 n = 0, i;
	int		 ret = -1;
	const size_t	 pl = strlen(TABLE_SHMPFX);

	if ((d = opendir(TABLE_SHMDIR)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, TABLE_SHMPFX, pl) != 0 ||
		    !name_ok(de->d_name + pl, strlen(de->d_name + pl)))
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL)
			goto done;
		v = nv;
		if ((v[n] = strdup(de->d_name + pl)) == NULL)
			goto done;
		n++;
	}
	qsort(v, n, sizeof(*v), cmpstr);
	for (i = 0; i < n; i++)
		fn(v[i], arg);
	ret = 0;
 done:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	closedir(d);
	return (ret);
}

const char *
table_name(const struct table *t)
{
	return (t->t_name);
}

uint32_t
table_capacity(const struct table *t)
{
	return (t->t_cap);
}

uint64_t
table_generation(const struct table *t)
{
	return (atomic_load_explicit(&t->t_hdr->th_gen, memory_order_acquire));
}

struct table_counters *
table_counters(struct table *t, uint32_t i)
{
	if (i >= t->t_cap)
		return (NULL);
	return ((struct table_counters *)(t->t_base + t->t_off_ctr) + i);
}

const struct table_check *
table_check(const struct table *t, uint32_t i)
{
	if (i >= t->t_cap)
		return (NULL);
	return ((const struct table_check *)(t->t_base + t->t_off_ck) + i);
}

/*
 * Does the resolved address, which a proxy connects to, say what the
 * text, which people are shown, says?  Read without DNS: a numeric host
 * must be the same address and port, a host name the same port, and a
 * unix: path a unix socket.  Returns 1 when they agree.
 */
static int
addr_agrees(const struct table_backend *be)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	struct addr	 a;
	int		 port;

	if (addr_literal(be->be_addr, &a, &port) == -1)
		return (0);
	switch (a.a_ss.ss_family) {
	case AF_UNIX:
		return (be->be_family == AF_UNIX);
	case AF_INET:
		sin = (const struct sockaddr_in *)&a.a_ss;
		return (be->be_family == AF_INET && be->be_port == port &&
		    memcmp(be->be_ip, &sin->sin_addr, 4) == 0);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&a.a_ss;
		return (be->be_family == AF_INET6 && be->be_port == port &&
		    memcmp(be->be_ip, &sin6->sin6_addr, 16) == 0);
	default:			/* a host name, resolved when written */
		return ((be->be_family == AF_INET ||
		    be->be_family == AF_INET6) && be->be_port == port);
	}
}

/*
 * Make one slot safe to use: strings end, values in range, the address
 * one.  A slot that needed a fix is put in maint, so garbage never takes
 * traffic.  Returns 1 when it needed one.
 */
static int
be_sanitize(struct table_backend *be)
{
	char	*p;
	int	 bad = 0;

	be->be_name[sizeof(be->be_name) - 1] = '\0';
	be->be_addr[sizeof(be->be_addr) - 1] = '\0';
	be->be_reason[sizeof(be->be_reason) - 1] = '\0';
	be->be_flags = 0;
	if (be->be_name[0] == '\0' || strlen(be->be_name) > TABLE_NAME_MAX)
		bad = 1;
	/* A name or address with other bytes could forge a list line. */
	for (p = be->be_name; *(p += strspn(p, BE_NAME_CHARS)) != '\0'; p++) {
		*p = '_';
		bad = 1;
	}
	for (p = be->be_addr; *(p += strspn(p, BE_ADDR_CHARS)) != '\0'; p++) {
		*p = '_';
		bad = 1;
	}
	if (be->be_family != AF_INET && be->be_family != AF_INET6 &&
	    be->be_family != AF_UNIX)
		bad = 1;
	if (be->be_family == AF_UNIX && strncmp(be->be_addr, "unix:/", 6) != 0)
		bad = 1;
	if (!addr_agrees(be))
		bad = 1;
	if (be->be_weight > TABLE_WEIGHT_MAX) {
		be->be_weight = 0;
		bad = 1;
	}
	if (be->be_maxconn > TABLE_MAXCONN_MAX) {
		be->be_maxconn = 1;
		bad = 1;
	}
	if (be->be_backup > 1) {
		be->be_backup = 1;
		bad = 1;
	}
	if (be->be_health >= TABLE_HEALTH_NSTATES) {
		be->be_health = TABLE_HEALTH_DOWN;
		bad = 1;
	}
	if (be->be_share > 100) {
		be->be_share = 0;
		bad = 1;
	}
	if (be->be_admin >= TABLE_ADMIN_NSTATES)
		bad = 1;
	if (bad)
		be->be_admin = TABLE_ADMIN_MAINT;
	return (bad);
}

/*
 * Read a process's state and start time (clock ticks after boot) from
 * /proc.  Returns 1 when it runs (or sleeps, or is stopped), 0 when it
 * is a zombie or dead, whose pid stays taken until its parent reaps it
 * but which will never give its connections back, and -1 when /proc
 * cannot tell (*start is then 0).
 */
static int
proc_stat(pid_t pid, uint64_t *start)
{
	char		 path[64], buf[1024], *p;
	unsigned long long st = 0;
	ssize_t		 n;
	int		 fd, field;

	*start = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return (-1);
	if (p[2] == 'Z' || p[2] == 'X')
		return (0);
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &st) != 1)
		return (1);
	*start = st;
	return (1);
}

/* Our own start time, as proc_stat() reads it; 0 when it cannot. */
static uint64_t
self_start(void)
{
	uint64_t	 st;

	(void)proc_stat(getpid(), &st);
	return (st);
}

/*
 * Is the registrant of entry r, which reads pid, dead: no such process,
 * a zombie, or another process that took its pid since?
 */
static int
reg_dead(const struct table_reg *r, int32_t pid)
{
	uint64_t	 st;
	int		 s;

	if (pid <= 0 || pid > TABLE_PID_MAX)
		return (1);
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return (1);
	if ((s = proc_stat(pid, &st)) == 0)
		return (1);
	return (s == 1 && st != 0 && st != r->r_start);
}

/* Registrants that died, a bit each; live ones counted, pids in pids[]. */
static uint64_t
dead_set(const struct table *t, uint32_t *live, int32_t *pids)
{
	uint64_t	 dead = 0;
	int32_t		 pid;
	int		 r;

	*live = 0;
	for (r = 0; r < TABLE_NREG; r++) {
		pid = atomic_load(&t->t_hdr->th_reg[r].r_pid);
		if (pids != NULL)
			pids[r] = pid;
		if (pid == 0)
			continue;
		if (reg_dead(&t->t_hdr->th_reg[r], pid))
			dead |= 1ULL << r;
		else
			(*live)++;
	}
	return (dead);
}

/* With the lock held: free the entries of dead registrants. */
static int
reclaim_locked(struct table *t)
{
	uint64_t	 dead;
	uint32_t	 live;
	int		 r, n = 0;

	dead = dead_set(t, &live, NULL);
	for (r = 0; r < TABLE_NREG; r++) {
		if (!(dead & (1ULL << r)))
			continue;
		row_zero(t, r);
		atomic_store(&t->t_hdr->th_reg[r].r_pid, 0);
		n++;
	}
	if (n > 0)
		gen_bump_locked(t);
	return (n);
}

/*
 * With the lock and t_rw held: claim a free entry for us, its row
 * written from our own counts, the pid last (a reader counts the row
 * from then on).  Returns 0, or -1 when every entry is taken.
 */
static int
claim_locked(struct table *t)
{
	extern char	*program_invocation_short_name;
	struct table_reg *r;
	_Atomic int32_t	*row;
	uint32_t	 j;
	int		 i;

	for (i = 0; i < TABLE_NREG; i++) {
		r = &t->t_hdr->th_reg[i];
		if (atomic_load(&r->r_pid) != 0)
			continue;
		r->r_start = t->t_regstart;
		memset(r->r_prog, 0, sizeof(r->r_prog));
		strlcpy(r->r_prog, program_invocation_short_name,
		    sizeof(r->r_prog));
		row = contrib_row(t, i);
		for (j = 0; j < t->t_cap; j++)
			atomic_store_explicit(&row[j], atomic_load_explicit(
			    &t->t_mirror[j], memory_order_relaxed),
			    memory_order_relaxed);
		atomic_store_explicit(&r->r_queued, atomic_load_explicit(
		    &t->t_queued, memory_order_relaxed), memory_order_relaxed);
		atomic_store(&r->r_pid, (int32_t)t->t_regpid);
		t->t_reg = i;
		gen_bump_locked(t);
		return (0);
	}
	return (-1);
}

/* Does our entry still hold our pid and start time? */
static int
reg_ours(const struct table *t)
{
	const struct table_reg *r;

	if (t->t_reg == -1)
		return (0);
	r = &t->t_hdr->th_reg[t->t_reg];
	return (atomic_load(&r->r_pid) == (int32_t)t->t_regpid &&
	    r->r_start == t->t_regstart);
}

/*
 * With t_rw held: is our registration as we keep it, the entry ours and
 * its row equal to our counts?  With t_rw held no count of ours moves.
 */
static int
reg_intact(const struct table *t)
{
	const _Atomic int32_t *row;
	uint32_t	 j;

	if (!reg_ours(t))
		return (0);
	if (atomic_load_explicit(&t->t_hdr->th_reg[t->t_reg].r_queued,
	    memory_order_relaxed) != atomic_load_explicit(&t->t_queued,
	    memory_order_relaxed))
		return (0);
	row = contrib_row(t, t->t_reg);
	for (j = 0; j < t->t_cap; j++)
		if (atomic_load_explicit(&row[j], memory_order_relaxed) !=
		    atomic_load_explicit(&t->t_mirror[j], memory_order_relaxed))
			return (0);
	return (1);
}

/*
 * With the lock held: make our registration whole again.  An entry
 * that no longer holds our pid and start time is left alone (another
 * process may have freed it and taken it since) and we take a new one;
 * an entry still ours has its row written from our counts.  Returns 1
 * when it repaired something, 0 when nothing needed it, -1 when no
 * entry was free (we count privately and try again next time).
 */
static int
repair_locked(struct table *t)
{
	_Atomic int32_t	*row;
	uint32_t	 j;
	int		 ret = 0;

	pthread_rwlock_wrlock(&t->t_rw);
	if (reg_intact(t))
		goto done;
	ret = 1;
	if (reg_ours(t)) {
		row = contrib_row(t, t->t_reg);
		for (j = 0; j < t->t_cap; j++)
			atomic_store_explicit(&row[j], atomic_load_explicit(
			    &t->t_mirror[j], memory_order_relaxed),
			    memory_order_relaxed);
		atomic_store_explicit(&t->t_hdr->th_reg[t->t_reg].r_queued,
		    atomic_load_explicit(&t->t_queued, memory_order_relaxed),
		    memory_order_relaxed);
		gen_bump_locked(t);
		goto done;
	}
	t->t_reg = -1;
	if (claim_locked(t) == -1)
		ret = -1;
 done:
	pthread_rwlock_unlock(&t->t_rw);
	return (ret);
}

int
table_reclaim(struct table *t)
{
	uint32_t	 live;
	int		 n, repair = 0;

	if (!t->t_writable)
		return (0);
	/* Ours only: a forked child's copy is its parent's to repair. */
	if (t->t_mirror != NULL && t->t_regpid == getpid()) {
		pthread_rwlock_wrlock(&t->t_rw);
		repair = !reg_intact(t);
		pthread_rwlock_unlock(&t->t_rw);
	}
	if (!repair && dead_set(t, &live, NULL) == 0)
		return (0);
	if (!t->t_locked && lock_fd(t->t_fd, LOCK_EX) == -1)
		return (-1);
	n = reclaim_locked(t);
	if (repair)
		(void)repair_locked(t);
	if (!t->t_locked)
		flock(t->t_fd, LOCK_UN);
	return (n);
}

int
table_register(struct table *t, char *err, size_t errlen)
{
	int	 ret = -1;

	if (!t->t_writable) {
		snprintf(err, errlen, "table opened read-only");
		return (-1);
	}
	if (t->t_mirror != NULL)
		return (0);
	if ((t->t_mirror = calloc(t->t_cap, sizeof(*t->t_mirror))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	if (lock_fd(t->t_fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "flock: %s", strerror(errno));
		goto done;
	}
	reclaim_locked(t);
	t->t_regpid = getpid();
	t->t_regstart = self_start();
	pthread_rwlock_wrlock(&t->t_rw);
	ret = claim_locked(t);
	pthread_rwlock_unlock(&t->t_rw);
	flock(t->t_fd, LOCK_UN);
	if (ret == -1)
		snprintf(err, errlen, "all %d process entries of the table are "
		    "taken", TABLE_NREG);
 done:
	if (ret == -1) {
		free(t->t_mirror);
		t->t_mirror = NULL;
	}
	return (ret);
}

int
table_procs(const struct table *t, struct table_proc *out, int max)
{
	const struct table_reg *r;
	int32_t		 pid;
	int		 i, n = 0;

	for (i = 0; i < TABLE_NREG; i++) {
		r = &t->t_hdr->th_reg[i];
		pid = atomic_load(&r->r_pid);
		if (pid == 0 || reg_dead(r, pid))
			continue;
		if (n < max) {
			out[n].tp_pid = pid;
			memcpy(out[n].tp_prog, r->r_prog, sizeof(out[n].tp_prog));
			out[n].tp_prog[sizeof(out[n].tp_prog) - 1] = '\0';
		}
		n++;
	}
	return (n);
}

/* One count as a reader takes it: another process may have written it. */
static int64_t
count_clamp(int32_t v)
{
	if (v < 0)
		return (0);
	return (v > TABLE_COUNT_MAX ? TABLE_COUNT_MAX : v);
}

int
table_snapshot(struct table *t, struct table_snap *s, char *err,
    size_t errlen)
{
	struct table_conf *cf;
	struct table_backend *nb;
	struct stat	 st;
	uint64_t	 g1, g2, dead, m;
	uint32_t	 hw, i, live;
	int32_t		 v;
	int		 tries, r;

	/* Another process could have cut the object: refuse, never fault. */
	if (fstat(t->t_fd, &st) == -1 || (size_t)st.st_size < t->t_size) {
		snprintf(err, errlen, "the table was truncated");
		return (-1);
	}
	if (s->sn_alloc < t->t_cap) {
		if ((nb = reallocarray(s->sn_be, t->t_cap, sizeof(*nb))) ==
		    NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			return (-1);
		}
		s->sn_be = nb;
		s->sn_alloc = t->t_cap;
	}
	for (tries = 0; ; tries++) {
		if (tries == 10000) {
			snprintf(err, errlen, "the table kept changing while "
			    "being read");
			return (-1);
		}
		if (tries > 0 && tries % 16 == 0)
			sched_yield();
		g1 = atomic_load_explicit(&t->t_hdr->th_gen,
		    memory_order_acquire);
		cf = conf_at(t, g1);
		hw = *(volatile uint32_t *)&cf->cf_hw;
		if (hw > t->t_cap)
			hw = t->t_cap;	/* damaged: read no further */
		memcpy(s->sn_be, cf->cf_be, (size_t)hw * sizeof(*s->sn_be));
		atomic_thread_fence(memory_order_acquire);
		g2 = atomic_load_explicit(&t->t_hdr->th_gen,
		    memory_order_relaxed);
		/* The buffer of g1 is written only after a flip past g1. */
		if (g2 == g1)
			break;
	}
	s->sn_gen = g1;
	s->sn_created = t->t_hdr->th_created;
	s->sn_n = hw;
	s->sn_count = s->sn_corrupt = s->sn_clamped = 0;
	/*
	 * Who counts: the registrants alive now.  Those who come or go
	 * move the generation, and the next snapshot sees them.
	 */
	dead = dead_set(t, &live, s->sn_livepid);
	s->sn_live = 0;
	for (r = 0; r < TABLE_NREG; r++)
		if (s->sn_livepid[r] != 0 && !(dead & (1ULL << r)))
			s->sn_live |= 1ULL << r;
	s->sn_procs = live;
	for (i = 0; i < hw; i++) {
		if (s->sn_be[i].be_uid == 0)
			continue;
		s->sn_count++;
		if (be_sanitize(&s->sn_be[i])) {
			s->sn_be[i].be_flags |= TABLE_BE_CORRUPT;
			s->sn_corrupt++;
		}
		for (m = s->sn_live; m != 0; m &= m - 1) {
			v = atomic_load_explicit(&contrib_row(t,
			    __builtin_ctzll(m))[i], memory_order_relaxed);
			if (v < 0 || v > TABLE_COUNT_MAX) {
				s->sn_be[i].be_flags |= TABLE_BE_CLAMPED;
				s->sn_clamped++;
				break;
			}
		}
	}
	return (0);
}

void
table_snap_free(struct table_snap *s)
{
	free(s->sn_be);
	memset(s, 0, sizeof(*s));
}

int64_t
table_active(const struct table *t, const struct table_snap *s, uint32_t i)
{
	uint64_t	 m;
	int64_t		 a = 0;
	int		 r;

	if (i >= t->t_cap)
		return (0);
	/*
	 * Only while the entry is still the one the snapshot saw alive:
	 * one freed or taken by another process since is no longer its.
	 */
	for (m = s->sn_live; m != 0; m &= m - 1) {
		r = __builtin_ctzll(m);
		if (atomic_load_explicit(&t->t_hdr->th_reg[r].r_pid,
		    memory_order_relaxed) != s->sn_livepid[r])
			continue;
		a += count_clamp(atomic_load_explicit(&contrib_row(t, r)[i],
		    memory_order_relaxed));
	}
	return (a);
}

int64_t
table_queued(const struct table *t, const struct table_snap *s)
{
	uint64_t	 m;
	int64_t		 a = 0;
	int		 r;

	for (m = s->sn_live; m != 0; m &= m - 1) {
		r = __builtin_ctzll(m);
		if (atomic_load_explicit(&t->t_hdr->th_reg[r].r_pid,
		    memory_order_relaxed) != s->sn_livepid[r])
			continue;
		a += count_clamp(atomic_load_explicit(
		    &t->t_hdr->th_reg[r].r_queued, memory_order_relaxed));
	}
	return (a);
}

int64_t
table_held(const struct table *t, uint32_t i)
{
	int64_t		 a = 0;
	int		 r;

	if (i >= t->t_cap)
		return (0);
	for (r = 0; r < TABLE_NREG; r++)
		if (atomic_load(&t->t_hdr->th_reg[r].r_pid) != 0)
			a += count_clamp(atomic_load_explicit(
			    &contrib_row(t, r)[i], memory_order_relaxed));
	return (a);
}

void
table_check_put(struct table *t, uint32_t i, uint32_t ms, const char *result)
{
	struct table_check *ck;
	uint32_t	 seq;

	if (i >= t->t_cap || !t->t_writable)
		return;
	ck = (struct table_check *)(t->t_base + t->t_off_ck) + i;
	seq = atomic_load_explicit(&ck->ck_seq, memory_order_relaxed);
	atomic_store_explicit(&ck->ck_seq, seq | 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	ck->ck_ms = ms;
	ck->ck_time = table_now_ms();
	memset(ck->ck_result, 0, sizeof(ck->ck_result));
	strlcpy(ck->ck_result, result, sizeof(ck->ck_result));
	atomic_store_explicit(&ck->ck_seq, (seq | 1) + 1,
	    memory_order_release);
}

int
table_check_get(const struct table *t, uint32_t i, struct table_check *out)
{
	const struct table_check *ck;
	uint32_t	 s1, s2;
	int		 tries;

	memset(out, 0, sizeof(*out));
	if ((ck = table_check(t, i)) == NULL)
		return (-1);
	for (tries = 0; tries < 1000; tries++) {
		s1 = atomic_load_explicit(&ck->ck_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		out->ck_ms = ck->ck_ms;
		out->ck_time = ck->ck_time;
		memcpy(out->ck_result, ck->ck_result, sizeof(out->ck_result));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&ck->ck_seq, memory_order_relaxed);
		if (s1 == s2) {
			out->ck_result[sizeof(out->ck_result) - 1] = '\0';
			return (0);
		}
	}
	memset(out, 0, sizeof(*out));
	return (-1);
}

int
table_backend_addr(const struct table_backend *be, struct addr *a)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct sockaddr_un *sun;
	size_t		 n;

	memset(a, 0, sizeof(*a));
	switch (be->be_family) {
	case AF_INET:
		sin = (struct sockaddr_in *)&a->a_ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(be->be_port);
		memcpy(&sin->sin_addr, be->be_ip, 4);
		a->a_len = sizeof(*sin);
		return (0);
	case AF_INET6:
		sin6 = (struct sockaddr_in6 *)&a->a_ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(be->be_port);
		memcpy(&sin6->sin6_addr, be->be_ip, 16);
		a->a_len = sizeof(*sin6);
		return (0);
	case AF_UNIX:
		sun = (struct sockaddr_un *)&a->a_ss;
		if (strncmp(be->be_addr, "unix:", 5) != 0)
			return (-1);
		n = strnlen(be->be_addr + 5, sizeof(be->be_addr) - 5);
		if (n == 0 || n >= sizeof(sun->sun_path))
			return (-1);
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, be->be_addr + 5, n);
		a->a_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
		return (0);
	}
	return (-1);
}

int
table_set_addr(struct table_backend *be, const char *spec, char *err,
    size_t errlen)
{
	struct addr	 a;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (strlen(spec) >= sizeof(be->be_addr)) {
		snprintf(err, errlen, "address longer than %zu bytes",
		    sizeof(be->be_addr) - 1);
		return (-1);
	}
	if (addr_resolve(spec, 0, &a, err, errlen) == -1)
		return (-1);
	memset(be->be_ip, 0, sizeof(be->be_ip));
	be->be_port = 0;
	be->be_family = a.a_ss.ss_family;
	switch (a.a_ss.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&a.a_ss;
		memcpy(be->be_ip, &sin->sin_addr, 4);
		be->be_port = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&a.a_ss;
		memcpy(be->be_ip, &sin6->sin6_addr, 16);
		be->be_port = ntohs(sin6->sin6_port);
		break;
	}
	memset(be->be_addr, 0, sizeof(be->be_addr));
	strlcpy(be->be_addr, spec, sizeof(be->be_addr));
	return (0);
}

int
table_begin(struct table *t, char *err, size_t errlen)
{
	struct table_conf *cur, *nxt;
	uint32_t	 hw, i;

	if (!t->t_writable) {
		snprintf(err, errlen, "table opened read-only");
		return (-1);
	}
	if (lock_fd(t->t_fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "flock: %s", strerror(errno));
		return (-1);
	}
	reclaim_locked(t);
	t->t_wgen = atomic_load(&t->t_hdr->th_gen);
	cur = conf_at(t, t->t_wgen);
	nxt = conf_at(t, t->t_wgen + 1);
	hw = *(volatile uint32_t *)&cur->cf_hw;
	if (hw > t->t_cap)
		hw = t->t_cap;
	if (t->t_new == NULL &&
	    (t->t_new = calloc(t->t_cap, sizeof(*t->t_new))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		flock(t->t_fd, LOCK_UN);
		return (-1);
	}
	t->t_nnew = 0;
	/*
	 * Each slot is checked in a private copy, then stored: another
	 * process may write the shared buffer while we look at it.  A
	 * damaged slot is quarantined in maint, from now on.
	 */
	for (i = 0; i < hw; i++) {
		struct table_backend be;

		memcpy(&be, &cur->cf_be[i], sizeof(be));
		if (be.be_uid != 0 && be_sanitize(&be))
			be.be_admin_since = table_now_ms();
		memcpy(&nxt->cf_be[i], &be, sizeof(be));
	}
	nxt->cf_next_uid = cur->cf_next_uid;
	t->t_hw = t->t_curhw = hw;
	t->t_next = nxt;
	t->t_locked = 1;
	return (0);
}

int
table_commit(struct table *t)
{
	struct table_conf *nxt = t->t_next;
	uint32_t	 i, hw = 0, count = 0;

	if (!t->t_locked)
		return (-1);
	for (i = 0; i < t->t_hw; i++) {
		if (nxt->cf_be[i].be_uid != 0) {
			hw = i + 1;
			count++;
		}
	}
	/* New backends start from zero, seen only from the flip on. */
	for (i = 0; i < t->t_nnew; i++)
		slot_zero(t, t->t_new[i]);
	nxt->cf_hw = hw;
	nxt->cf_count = count;
	atomic_store_explicit(&t->t_hdr->th_gen, t->t_wgen + 1,
	    memory_order_release);
	t->t_locked = 0;
	t->t_next = NULL;
	flock(t->t_fd, LOCK_UN);
	return (0);
}

void
table_abort(struct table *t)
{
	if (!t->t_locked)
		return;
	t->t_locked = 0;
	t->t_next = NULL;
	flock(t->t_fd, LOCK_UN);
}

uint32_t
table_hw(const struct table *t)
{
	return (t->t_locked ? t->t_hw : 0);
}

struct table_backend *
table_slot(struct table *t, uint32_t i)
{
	if (!t->t_locked || i >= t->t_hw)
		return (NULL);
	return (&t->t_next->cf_be[i]);
}

int
table_find(struct table *t, const char *name)
{
	uint32_t	 i;

	if (!t->t_locked)
		return (-1);
	for (i = 0; i < t->t_hw; i++)
		if (t->t_next->cf_be[i].be_uid != 0 &&
		    strncmp(t->t_next->cf_be[i].be_name, name,
		    sizeof(t->t_next->cf_be[i].be_name)) == 0)
			return ((int)i);
	return (-1);
}

/*
 * Zero the counters and last check of slot i, for a new backend: each
 * with an atomic store.  The open connections are each process's own
 * to count (a stale count undoes itself).
 */
static void
slot_zero(struct table *t, uint32_t i)
{
	struct table_counters *c = table_counters(t, i);
	struct table_check *ck;
	int		 k;

	atomic_store_explicit(&c->c_total, 0, memory_order_relaxed);
	atomic_store_explicit(&c->c_bytes_in, 0, memory_order_relaxed);
	atomic_store_explicit(&c->c_bytes_out, 0, memory_order_relaxed);
	atomic_store_explicit(&c->c_requests, 0, memory_order_relaxed);
	atomic_store_explicit(&c->c_fail, 0, memory_order_relaxed);
	atomic_store_explicit(&c->c_consec_fail, 0, memory_order_relaxed);
	for (k = 0; k < 6; k++)
		atomic_store_explicit(&c->c_status[k], 0, memory_order_relaxed);
	ck = (struct table_check *)(t->t_base + t->t_off_ck) + i;
	atomic_store_explicit(&ck->ck_seq, 0, memory_order_relaxed);
	ck->ck_ms = 0;
	ck->ck_time = 0;
	memset(ck->ck_result, 0, sizeof(ck->ck_result));
}

/*
 * May slot i take a new backend: free, and nobody counting it?  Unless
 * late, a slot freed in this same change is not taken either: readers
 * still see its old backend until the commit.  The counts are those of
 * the entries in use; the writer freed the dead ones' in table_begin().
 */
static int
slot_reusable(struct table *t, uint32_t i, int late)
{
	const struct table_conf *cur = conf_at(t, t->t_wgen);
	int		 r;

	if (i < t->t_hw && t->t_next->cf_be[i].be_uid != 0)
		return (0);
	if (!late && i < t->t_curhw && cur->cf_be[i].be_uid != 0)
		return (0);
	for (r = 0; r < TABLE_NREG; r++)
		if (atomic_load(&t->t_hdr->th_reg[r].r_pid) != 0 &&
		    atomic_load(&contrib_row(t, r)[i]) > 0)
			return (0);
	return (1);
}

int
table_alloc(struct table *t)
{
	struct table_conf *nxt = t->t_next;
	uint32_t	 i;

	if (!t->t_locked)
		return (-1);
	/* See table_conn_begin(): counted first, then checked. */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < t->t_cap; i++)
		if (slot_reusable(t, i, 0))
			break;
	if (i == t->t_cap)
		for (i = 0; i < t->t_cap; i++)
			if (slot_reusable(t, i, 1))
				break;
	if (i == t->t_cap)
		return (-1);
	/* Past the high-water mark the spare buffer holds stale slots. */
	if (i >= t->t_hw) {
		memset(&nxt->cf_be[t->t_hw], 0,
		    (size_t)(i - t->t_hw) * sizeof(nxt->cf_be[0]));
		t->t_hw = i + 1;
	}
	memset(&nxt->cf_be[i], 0, sizeof(nxt->cf_be[i]));
	if (nxt->cf_next_uid == 0)
		nxt->cf_next_uid = 1;
	nxt->cf_be[i].be_uid = nxt->cf_next_uid++;
	nxt->cf_be[i].be_weight = 1;
	nxt->cf_be[i].be_share = 100;
	nxt->cf_be[i].be_admin_since = nxt->cf_be[i].be_health_since =
	    table_now_ms();
	t->t_new[t->t_nnew++] = i;
	return ((int)i);
}

void
table_free(struct table *t, uint32_t i)
{
	if (!t->t_locked || i >= t->t_hw)
		return;
	memset(&t->t_next->cf_be[i], 0, sizeof(t->t_next->cf_be[i]));
}

int
table_conn_begin(struct table *t, uint32_t i, uint64_t uid)
{
	struct table_counters *c;
	const struct table_conf *cf;
	uint64_t	 g;
	int		 ret = -1;

	if (!t->t_writable || t->t_mirror == NULL ||
	    (c = table_counters(t, i)) == NULL)
		return (-1);
	pthread_rwlock_rdlock(&t->t_rw);
	atomic_fetch_add_explicit(&t->t_mirror[i], 1, memory_order_relaxed);
	if (t->t_reg != -1)
		atomic_fetch_add_explicit(&contrib_row(t, t->t_reg)[i], 1,
		    memory_order_relaxed);
	/*
	 * Counted first, checked second: a writer reuses a slot only when
	 * nobody counts it, so either it sees us or we see its new uid.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	g = atomic_load_explicit(&t->t_hdr->th_gen, memory_order_acquire);
	cf = conf_at(t, g);
	if (i >= *(volatile const uint32_t *)&cf->cf_hw ||
	    cf->cf_be[i].be_uid != uid) {
		atomic_fetch_sub_explicit(&t->t_mirror[i], 1,
		    memory_order_relaxed);
		if (t->t_reg != -1)
			atomic_fetch_sub_explicit(&contrib_row(t, t->t_reg)[i],
			    1, memory_order_relaxed);
		goto done;
	}
	atomic_fetch_add_explicit(&c->c_total, 1, memory_order_relaxed);
	ret = 0;
 done:
	pthread_rwlock_unlock(&t->t_rw);
	return (ret);
}

void
table_queue_add(struct table *t, int delta)
{
	if (!t->t_writable)
		return;
	pthread_rwlock_rdlock(&t->t_rw);
	/* Only what we counted: our own count never goes below zero. */
	if (atomic_fetch_add_explicit(&t->t_queued, delta,
	    memory_order_relaxed) + delta < 0)
		atomic_fetch_sub_explicit(&t->t_queued, delta,
		    memory_order_relaxed);
	else if (t->t_mirror != NULL && t->t_reg != -1)
		atomic_fetch_add_explicit(&t->t_hdr->th_reg[t->t_reg].r_queued,
		    delta, memory_order_relaxed);
	pthread_rwlock_unlock(&t->t_rw);
}

void
table_conn_end(struct table *t, uint32_t i)
{
	if (!t->t_writable || t->t_mirror == NULL || i >= t->t_cap)
		return;
	pthread_rwlock_rdlock(&t->t_rw);
	/* Only what we counted: our own count never goes below zero. */
	if (atomic_fetch_sub_explicit(&t->t_mirror[i], 1,
	    memory_order_relaxed) <= 0)
		atomic_fetch_add_explicit(&t->t_mirror[i], 1,
		    memory_order_relaxed);
	else if (t->t_reg != -1)
		atomic_fetch_sub_explicit(&contrib_row(t, t->t_reg)[i], 1,
		    memory_order_relaxed);
	pthread_rwlock_unlock(&t->t_rw);
}

static const char *const admin_names[] = { "enabled", "drain", "maint" };
static const char *const health_names[] = { "unknown", "up", "down",
    "drain" };

const char *
table_admin_str(int admin)
{
	if (admin < 0 || admin >= TABLE_ADMIN_NSTATES)
		return ("?");
	return (admin_names[admin]);
}

const char *
table_health_str(int health)
{
	if (health < 0 || health >= TABLE_HEALTH_NSTATES)
		return ("?");
	return (health_names[health]);
}

int
table_admin_parse(const char *s)
{
	int	 i;

	for (i = 0; i < TABLE_ADMIN_NSTATES; i++)
		if (strcmp(s, admin_names[i]) == 0)
			return (i);
	return (-1);
}
