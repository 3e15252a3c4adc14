/* table: the shared-memory backend table every program attaches to. */
#ifndef LB_TABLE_H
#define LB_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define TABLE_VERSION		2
#define TABLE_NAME_MAX		64	/* table and backend names, NUL excluded */
#define TABLE_ADDR_MAX		128	/* an address as given, NUL included */
#define TABLE_REASON_MAX	48	/* a health reason or check result */
#define TABLE_NREG		64	/* processes that may register at once */
#define TABLE_CAP_DEFAULT	256
#define TABLE_CAP_MAX		(1U << 20)
#define TABLE_WEIGHT_MAX	256
#define TABLE_MAXCONN_MAX	1000000
#define TABLE_COUNT_MAX		(1 << 24)	/* one process's count, as read */

enum table_admin {			/* set by the operator (lb-ctl) */
	TABLE_ADMIN_ENABLED,
	TABLE_ADMIN_DRAIN,		/* no new work, open work finishes */
	TABLE_ADMIN_MAINT,		/* no work at all */
	TABLE_ADMIN_NSTATES
};

enum table_health {			/* set by the checker (lb-check) */
	TABLE_HEALTH_UNKNOWN,		/* never checked: takes work */
	TABLE_HEALTH_UP,
	TABLE_HEALTH_DOWN,
	TABLE_HEALTH_DRAIN,		/* an agent asked: no new work */
	TABLE_HEALTH_NSTATES
};

/* be_flags, set by table_snapshot() in the reader's copy only */
#define TABLE_BE_CORRUPT	0x01	/* the slot held values out of range */
#define TABLE_BE_CLAMPED	0x02	/* a live count was out of range */

/*
 * One backend's configuration and health.  In the table these live in
 * two buffers: writers fill the spare one and flip the generation, so a
 * reader never sees half of a change.  384 bytes, fixed by the version.
 */
struct table_backend {
	uint64_t	 be_uid;		/* incarnation; 0: free slot */
	char		 be_name[TABLE_NAME_MAX + 8];
	char		 be_addr[TABLE_ADDR_MAX];	/* as given */
	uint16_t	 be_family;		/* resolved: AF_INET, _INET6, _UNIX */
	uint16_t	 be_port;		/* host order; 0 for unix */
	uint8_t		 be_ip[16];		/* 4 or 16 bytes used */
	uint32_t	 be_weight;		/* 0..TABLE_WEIGHT_MAX */
	uint32_t	 be_maxconn;		/* 0: no limit */
	uint8_t		 be_backup;		/* 1: only when no other can */
	uint8_t		 be_admin;		/* enum table_admin */
	uint8_t		 be_health;		/* enum table_health */
	uint8_t		 be_share;		/* agent's weight share, 0..100 % */
	uint32_t	 be_flags;		/* TABLE_BE_*, reader's copy */
	uint64_t	 be_admin_since;	/* ms since the epoch */
	uint64_t	 be_health_since;	/* ms since the epoch */
	char		 be_reason[TABLE_REASON_MAX];	/* of the last health change */
	uint8_t		 be_reserved[384 - 312];
};

/*
 * Live counters of one slot: relaxed atomics, two cache lines, the hot
 * ones in the first.  bytes_in came from clients, bytes_out went to them.
 * Open connections are not here: each registered process counts its own
 * in its row, and a reader adds up the rows (table_active()), so that
 * nothing a process did or failed to do can leave a total wrong.
 */
struct table_counters {
	_Atomic uint64_t c_total;		/* connections ever */
	_Atomic uint64_t c_bytes_in;
	_Atomic uint64_t c_bytes_out;
	_Atomic uint64_t c_requests;
	_Atomic uint64_t c_fail;		/* failed connects */
	_Atomic uint64_t c_consec_fail;		/* the current run of them */
	uint64_t	 c_unused;		/* was a queue count, never written */
	_Atomic uint64_t c_status[6];		/* 1xx..5xx, other */
	uint64_t	 c_reserved[3];
} __attribute__((aligned(64)));

/* The last check's result, written by the checker alone. */
struct table_check {
	_Atomic uint32_t ck_seq;		/* odd while being written */
	uint32_t	 ck_ms;			/* latency */
	uint64_t	 ck_time;		/* ms since the epoch; 0: never */
	char		 ck_result[TABLE_REASON_MAX];
};

/* A reader's private, consistent copy of the backends. */
struct table_snap {
	uint64_t	 sn_gen;		/* generation it was taken at */
	uint64_t	 sn_created;		/* the table's creation, ms */
	uint32_t	 sn_n;			/* slots copied (the high-water mark) */
	uint32_t	 sn_count;		/* of them in use */
	uint32_t	 sn_corrupt;		/* of them flagged TABLE_BE_CORRUPT */
	uint32_t	 sn_clamped;		/* of them flagged TABLE_BE_CLAMPED */
	uint32_t	 sn_procs;		/* live registered processes */
	uint64_t	 sn_live;		/* their entries, a bit each */
	int32_t		 sn_livepid[TABLE_NREG];	/* and the pid each had */
	struct table_backend *sn_be;		/* sn_n entries, be_uid 0: free */
	size_t		 sn_alloc;
};

struct table;				/* an attached table */

/* table_open() flags */
#define TABLE_RDONLY	0x00		/* map read-only: never writes */
#define TABLE_RDWR	0x01
#define TABLE_CREATE	0x02		/* create it when missing (with RDWR) */
#define TABLE_EXCL	0x04		/* with CREATE: fail if it exists */

/*
 * Check a table argument: a name ([A-Za-z0-9_.-]{1,64}, not . or ..)
 * or, when it holds a '/', a file path without ".." whose last part is
 * such a name.  Returns 0, or -1 with the reason in err.
 */
int	table_name_check(const char *name, char *err, size_t errlen);

/*
 * Attach to the table name (see table_name_check()).  With
 * TABLE_CREATE a missing table is made with capacity slots (0: the
 * default) and file mode mode.  An existing table is the caller's to
 * trust: mode is then the most permissive mode accepted.  A table
 * writable by group or others beyond mode is refused, and so is one
 * owned by neither the caller's effective uid nor root unless mode lets
 * group or others write (the caller said the table is shared).  0 means
 * 0600 for both.  Validates magic, version, struct sizes and capacity
 * against the object's size.  Returns a handle, or NULL with the reason
 * in err: errno ENOENT when it does not exist, EPERM when it is not
 * trusted, EPROTONOSUPPORT when it is a table of another layout
 * version, EINVAL when it is no valid table.
 */
struct table *table_open(const char *name, int flags, uint32_t capacity,
	    mode_t mode, char *err, size_t errlen);

/* Unregister (if registered), unmap and free t.  NULL is allowed. */
void	table_close(struct table *t);

/*
 * Whether the table's name still leads to the object t maps: 0 when it
 * does, 1 when it was removed or removed and made again (open it anew
 * to tell which), -1 with errno when that cannot be told.
 */
int	table_stale(const struct table *t);

/*
 * Parse an octal mode for table_open(), 1 to 0777, into *mode.  Returns
 * 0, or -1 when s is not one.
 */
int	table_mode_parse(const char *s, mode_t *mode);

/*
 * Remove the table name, when it is a table of any version (it need not
 * be trusted: its contents are not used).  Attached processes keep
 * their mapping.
 */
int	table_destroy(const char *name, char *err, size_t errlen);

/*
 * Call fn(name, arg) for each shared-memory table on the machine, in
 * name order.  Returns 0, or -1 when /dev/shm cannot be read.
 */
int	table_list(void (*fn)(const char *name, void *arg), void *arg);

const char *table_name(const struct table *t);
uint32_t table_capacity(const struct table *t);

/* The generation: one atomic load, for a reader to see a change. */
uint64_t table_generation(const struct table *t);

/*
 * Fill s with a consistent copy of the backends (s zeroed the first
 * time; its memory is reused and owned by s).  Strings are cut and
 * NUL-terminated; values out of range, or an address whose resolved
 * form is not what its text says, flag the slot TABLE_BE_CORRUPT.
 * Records the live registrants in sn_live and flags TABLE_BE_CLAMPED
 * a slot that one of them counts out of range.  Returns 0, or -1 when
 * writers kept the table moving or it is damaged (reason in err).
 */
int	table_snapshot(struct table *t, struct table_snap *s, char *err,
	    size_t errlen);
void	table_snap_free(struct table_snap *s);

/*
 * The slot's live counters and last check (i < capacity, else NULL).
 */
struct table_counters *table_counters(struct table *t, uint32_t i);
const struct table_check *table_check(const struct table *t, uint32_t i);

/*
 * Open connections of slot i: the sum of the counts of the registrants
 * that the snapshot s found alive and that still hold their entries,
 * each count clamped to 0..TABLE_COUNT_MAX.
 */
int64_t	table_active(const struct table *t, const struct table_snap *s,
	    uint32_t i);

/*
 * Work waiting for a backend of the table to have room (connections of
 * lb-tcp, requests of lb-http, queued while every backend is at its
 * maxconn): the sum of what the live registrants of s say, each clamped
 * to 0..TABLE_COUNT_MAX.
 */
int64_t	table_queued(const struct table *t, const struct table_snap *s);

/*
 * A registered process's own count of work waiting for the table, up or
 * down by delta (never below zero); repaired as its counts are.
 */
void	table_queue_add(struct table *t, int delta);

/*
 * Connections of slot i that every entry in use holds, live or dead
 * (each clamped): what table_reclaim() has not yet taken back.  For
 * tests and diagnostics; balancing reads table_active().
 */
int64_t	table_held(const struct table *t, uint32_t i);

/* Write or read the last check result of slot i (the checker writes). */
void	table_check_put(struct table *t, uint32_t i, uint32_t ms,
	    const char *result);
int	table_check_get(const struct table *t, uint32_t i,
	    struct table_check *out);

/*
 * Resolve a snapshot entry's address into a.  Returns 0, or -1 when the
 * entry holds no valid address.
 */
int	table_backend_addr(const struct table_backend *be, struct addr *a);

/*
 * Writing.  table_begin() takes the table's lock, reclaims what dead
 * registrants left, and copies the current backends into the spare
 * buffer; the functions below change that buffer; table_commit() makes
 * it current with one generation bump, table_abort() drops it.  A
 * writer that dies between them changes nothing.  All return 0 or -1.
 */
int	table_begin(struct table *t, char *err, size_t errlen);
int	table_commit(struct table *t);
void	table_abort(struct table *t);
/* slots in the spare buffer: [0, table_hw()) */
uint32_t table_hw(const struct table *t);
struct table_backend *table_slot(struct table *t, uint32_t i);
/* the index of the backend name, or -1 */
int	table_find(struct table *t, const char *name);
/* a free slot, made in use with a new uid and zero counters; -1: full */
int	table_alloc(struct table *t);
void	table_free(struct table *t, uint32_t i);

/*
 * Fill a backend's address fields from spec (see addr_resolve()).
 * Returns 0, or -1 with the reason in err.
 */
int	table_set_addr(struct table_backend *be, const char *spec, char *err,
	    size_t errlen);

/*
 * Registration, for processes that count connections.  table_register()
 * claims an entry (pid, start time) and its row of counts, one a slot,
 * and bumps the generation, so that readers take a new snapshot and
 * count us.  The process keeps a private copy of its counts.
 *
 * table_reclaim(), to be called about once a second by a process that
 * counts: frees the entries of dead registrants (a zombie is dead), and
 * repairs our own registration when another process damaged it: when
 * our entry no longer holds our pid and start time, it registers again;
 * when our row differs from our copy, it writes the row from the copy.
 * Either bumps the generation.  Takes the lock only when there is work.
 * Returns how many dead registrants it freed, or -1 (lock failed).
 */
int	table_register(struct table *t, char *err, size_t errlen);
int	table_reclaim(struct table *t);

/* A live registered process, as table_procs() reports it. */
struct table_proc {
	pid_t		 tp_pid;
	char		 tp_prog[16];		/* its short name, NUL-terminated */
};

/*
 * Fill out[0..max) with the live registered processes (the caller's own
 * included); returns how many there are (may exceed max).
 */
int	table_procs(const struct table *t, struct table_proc *out, int max);

/*
 * Count a connection to slot i for the backend of incarnation uid: our
 * own count and the slot's total go up.  Returns 0, or -1 (nothing
 * counted) when the slot now holds another backend, or the handle is
 * read-only or not registered.  table_conn_end() takes it back.  Safe
 * from many threads at once.
 */
int	table_conn_begin(struct table *t, uint32_t i, uint64_t uid);
void	table_conn_end(struct table *t, uint32_t i);

/* Names of states, and their parsers (-1: unknown). */
const char *table_admin_str(int admin);
const char *table_health_str(int health);
int	table_admin_parse(const char *s);

/* Milliseconds since the epoch. */
uint64_t table_now_ms(void);

#endif
