/* sticky: session cookies that name a backend: signed, opaque, the same on every host with the key. */
#ifndef LB_STICKY_H
#define LB_STICKY_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

#define STICKY_KEY_MIN		16	/* bytes of a key file, at least */
#define STICKY_KEY_MAX		1024
#define STICKY_KEYS_MAX		4	/* the one that signs, older ones */
#define STICKY_VALUE_LEN	22	/* base64url of 128 bits of HMAC */

/*
 * The keys: the first signs, every one is honoured (so that a key can
 * be rotated across hosts without re-pinning every session at once).
 */
struct sticky_keys {
	int		 sk_n;
	size_t		 sk_len[STICKY_KEYS_MAX];
	uint8_t		 sk_key[STICKY_KEYS_MAX][STICKY_KEY_MAX];
};

/*
 * Add the key in the file path: its bytes, a trailing newline taken
 * off, STICKY_KEY_MIN to STICKY_KEY_MAX of them.  A file that others may
 * read or write is refused, as TLS keys are.  Returns 0, or -1 with the
 * reason (naming the file) in err.
 */
int	sticky_key_file(struct sticky_keys *k, const char *path, char *err,
	    size_t errlen);

/* Add a random key (of this process alone).  0, or -1 with err. */
int	sticky_key_random(struct sticky_keys *k, char *err, size_t errlen);

/*
 * The value of the cookie that names the backend name under key i:
 * base64url of the first 128 bits of HMAC-SHA256(key, a label, name),
 * STICKY_VALUE_LEN characters and a NUL into out.  Backend names are
 * what hosts fed from one list share; slots and uids are not.
 */
void	sticky_value(const struct sticky_keys *k, int i, const char *name,
	    char out[STICKY_VALUE_LEN + 1]);

/* One table's values, computed once a generation, found by value. */
struct sticky_ent {
	char		 se_value[STICKY_VALUE_LEN];
	int32_t		 se_next;		/* in its bucket; -1: the last */
	uint32_t	 se_slot;
	uint64_t	 se_uid;
	int		 se_key;		/* which key signed it */
};

struct sticky_map {
	uint64_t	 sm_gen;
	int		 sm_valid;
	struct sticky_ent *sm_ent;
	uint32_t	 sm_n, sm_cap;
	int32_t		*sm_bucket;
	uint32_t	 sm_nbucket;		/* a power of 2 */
	int32_t		*sm_slot;		/* a slot's entry of key 0, or -1 */
	uint32_t	 sm_nslot, sm_slotcap;
};

/*
 * (Re)build m (zeroed the first time) from the backends of snapshot s
 * under every key of k, when s is of another generation than m's.
 * Returns 0, or -1 when out of memory (m stays as it was).
 */
int	sticky_map_build(struct sticky_map *m, const struct sticky_keys *k,
	    const struct table_snap *s);

/*
 * The backend a cookie value (vlen bytes) names: 1 with *slot, *uid and
 * *key (0: the key that signs now), or 0 for a value that names none (a
 * forged or altered one, one of another key, or of a backend gone).
 * Values are compared in constant time.
 */
int	sticky_map_find(const struct sticky_map *m, const char *v, size_t vlen,
	    uint32_t *slot, uint64_t *uid, int *key);

/*
 * The value of the backend in slot, incarnation uid, under the key that
 * signs (STICKY_VALUE_LEN characters, no NUL), or NULL when m does not
 * hold it (the table moved on): what sticky_value() would compute.
 */
const char *sticky_map_value(const struct sticky_map *m, uint32_t slot,
	    uint64_t uid);

void	sticky_map_free(struct sticky_map *m);

#endif
