/* sticky: session cookies that name a backend: signed, opaque, the same on every host with the key. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sticky.h"

/* What the MAC is of, besides the name: this use of the key and no other. */
#define LABEL	"lb sticky cookie 1"

int
sticky_key_file(struct sticky_keys *k, const char *path, char *err,
    size_t errlen)
{
	struct stat	 st;
	uint8_t		 buf[STICKY_KEY_MAX + 2];
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd, ret = -1;

	if (k->sk_n == STICKY_KEYS_MAX) {
		snprintf(err, errlen, "%s: %d keys at most", path,
		    STICKY_KEYS_MAX);
		return (-1);
	}
	/* Not to wait on a FIFO's writer: it is refused below anyway. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto done;
	}
	/* A key that anyone may read is no longer a secret. */
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(err, errlen, "%s: a cookie key that others may read "
		    "(mode %04o): chmod o-rw it", path,
		    (unsigned)(st.st_mode & 07777));
		goto done;
	}
	while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) -
	    n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		n += (size_t)r;
	}
	/* As "openssl rand -hex 32 > file" writes it: the newline is not key. */
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n < STICKY_KEY_MIN || n > STICKY_KEY_MAX) {
		snprintf(err, errlen, "%s: a cookie key of %d to %d bytes, "
		    "as 'openssl rand -hex 32' makes", path, STICKY_KEY_MIN,
		    STICKY_KEY_MAX);
		goto done;
	}
	memcpy(k->sk_key[k->sk_n], buf, n);
	k->sk_len[k->sk_n++] = n;
	ret = 0;
 done:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return (ret);
}

int
sticky_key_random(struct sticky_keys *k, char *err, size_t errlen)
{
	if (k->sk_n == STICKY_KEYS_MAX) {
		snprintf(err, errlen, "%d keys at most", STICKY_KEYS_MAX);
		return (-1);
	}
	if (RAND_bytes(k->sk_key[k->sk_n], 32) != 1) {
		snprintf(err, errlen, "RAND_bytes: %s",
		    ERR_reason_error_string(ERR_get_error()));
		return (-1);
	}
	k->sk_len[k->sk_n++] = 32;
	return (0);
}

void
sticky_value(const struct sticky_keys *k, int i, const char *name,
    char out[STICKY_VALUE_LEN + 1])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	uint8_t		 msg[sizeof(LABEL) + TABLE_NAME_MAX + 8];
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 n = strlen(name), j, o = 0;
	uint32_t	 acc = 0;
	int		 bits = 0;

	if (n > TABLE_NAME_MAX)
		n = TABLE_NAME_MAX;
	/* The label with its NUL, then the name: no two inputs alike. */
	memcpy(msg, LABEL, sizeof(LABEL));
	memcpy(msg + sizeof(LABEL), name, n);
	if (HMAC(EVP_sha256(), k->sk_key[i], (int)k->sk_len[i], msg,
	    sizeof(LABEL) + n, md, &mdlen) == NULL || mdlen < 16)
		memset(md, 0, sizeof(md));
	for (j = 0; j < 16; j++) {
		acc = acc << 8 | md[j];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64[(acc >> bits) & 63];
		}
	}
	out[o++] = b64[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

/* The bucket of a value: its own first bytes are hash enough. */
static uint32_t
bucket_of(const char *v, uint32_t nbucket)
{
	uint32_t	 h = 2166136261u;
	int		 i;

	for (i = 0; i < 6; i++) {
		h ^= (uint8_t)v[i];
		h *= 16777619u;
	}
	return (h & (nbucket - 1));
}

int
sticky_map_build(struct sticky_map *m, const struct sticky_keys *k,
    const struct table_snap *s)
{
	struct sticky_ent *ne = m->sm_ent;
	int32_t		*nb = m->sm_bucket;
	char		 v[STICKY_VALUE_LEN + 1];
	uint32_t	 want, nbucket, i, n = 0, b;
	int		 key;

	if (m->sm_valid && m->sm_gen == s->sn_gen)
		return (0);
	want = s->sn_count * (uint32_t)k->sk_n;
	if (want > m->sm_cap) {
		if ((ne = reallocarray(m->sm_ent, want, sizeof(*ne))) == NULL)
			return (-1);
		m->sm_ent = ne;
		m->sm_cap = want;
	}
	for (nbucket = 16; nbucket < 2 * want; nbucket *= 2)
		;
	if (nbucket != m->sm_nbucket) {
		if ((nb = reallocarray(m->sm_bucket, nbucket,
		    sizeof(*nb))) == NULL)
			return (-1);
		m->sm_bucket = nb;
		m->sm_nbucket = nbucket;
	}
	if (s->sn_n > m->sm_slotcap) {
		int32_t	*ns;

		if ((ns = reallocarray(m->sm_slot, s->sn_n, sizeof(*ns))) ==
		    NULL)
			return (-1);
		m->sm_slot = ns;
		m->sm_slotcap = s->sn_n;
	}
	for (b = 0; b < nbucket; b++)
		m->sm_bucket[b] = -1;
	for (i = 0; i < s->sn_n; i++)
		m->sm_slot[i] = -1;
	m->sm_nslot = s->sn_n;
	for (i = 0; i < s->sn_n && n < want; i++) {
		if (s->sn_be[i].be_uid == 0 ||
		    s->sn_be[i].be_flags & TABLE_BE_CORRUPT)
			continue;
		for (key = 0; key < k->sk_n && n < want; key++) {
			sticky_value(k, key, s->sn_be[i].be_name, v);
			memcpy(m->sm_ent[n].se_value, v, STICKY_VALUE_LEN);
			m->sm_ent[n].se_slot = i;
			m->sm_ent[n].se_uid = s->sn_be[i].be_uid;
			m->sm_ent[n].se_key = key;
			b = bucket_of(v, nbucket);
			m->sm_ent[n].se_next = m->sm_bucket[b];
			m->sm_bucket[b] = (int32_t)n;
			if (key == 0)
				m->sm_slot[i] = (int32_t)n;
			n++;
		}
	}
	m->sm_n = n;
	m->sm_gen = s->sn_gen;
	m->sm_valid = 1;
	return (0);
}

int
sticky_map_find(const struct sticky_map *m, const char *v, size_t vlen,
    uint32_t *slot, uint64_t *uid, int *key)
{
	const struct sticky_ent *e;
	int32_t		 at;

	if (!m->sm_valid || vlen != STICKY_VALUE_LEN || m->sm_nbucket == 0)
		return (0);
	for (at = m->sm_bucket[bucket_of(v, m->sm_nbucket)]; at != -1;
	    at = e->se_next) {
		e = &m->sm_ent[at];
		if (CRYPTO_memcmp(e->se_value, v, STICKY_VALUE_LEN) == 0) {
			*slot = e->se_slot;
			*uid = e->se_uid;
			*key = e->se_key;
			return (1);
		}
	}
	return (0);
}

const char *
sticky_map_value(const struct sticky_map *m, uint32_t slot, uint64_t uid)
{
	const struct sticky_ent *e;

	if (!m->sm_valid || slot >= m->sm_nslot || m->sm_slot[slot] < 0)
		return (NULL);
	e = &m->sm_ent[m->sm_slot[slot]];
	return (e->se_uid == uid ? e->se_value : NULL);
}

void
sticky_map_free(struct sticky_map *m)
{
	if (m == NULL)
		return;
	free(m->sm_ent);
	free(m->sm_bucket);
	free(m->sm_slot);
	memset(m, 0, sizeof(*m));
}
