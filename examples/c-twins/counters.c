/*
 * counters: C twin of examples/counters. On load it creates, in a sysctl context:
 *   debug.counters         a node
 *   debug.counters.value   a read-write int accepting 0..1000 (else EINVAL)
 *   debug.counters.reads   a read-only uint64 counting reads of value
 *   debug.counters.name    a read-write string of at most 32 bytes
 *   debug.counters.limit   a read-only int from the tunable debug.counters.limit
 *                          (CTLFLAG_RDTUN: the kernel fetches it when the oid is added;
 *                          100 otherwise)
 * and a static debug.counters_static int (SYSCTL_INT). Writes need root (no
 * CTLFLAG_ANYBODY). Unload frees the context (sysctl_ctx_free waits for running handlers).
 */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/sysctl.h>
#include <machine/atomic.h>

static int counters_static;
SYSCTL_INT(_debug, OID_AUTO, counters_static, CTLFLAG_RW, &counters_static, 0,
    "a static int");

static struct counters_softc {
	int		value;
	uint64_t	reads;
	char		name[33];	/* at most 32 bytes and the NUL */
	int		limit;
} counters_sc;

static struct sysctl_ctx_list counters_ctx;

static int
counters_value_handler(SYSCTL_HANDLER_ARGS)
{
	struct counters_softc *sc = arg1;
	int error, val;

	if (req->oldptr != NULL)
		atomic_add_64(&sc->reads, 1);
	val = atomic_load_int(&sc->value);
	error = sysctl_handle_int(oidp, &val, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	if (val < 0 || val > 1000)
		return (EINVAL);
	atomic_store_int(&sc->value, val);
	return (0);
}

static int
counters_modevent(module_t mod, int what, void *arg)
{
	struct counters_softc *sc = &counters_sc;
	struct sysctl_oid *node;

	switch (what) {
	case MOD_LOAD:
		sc->value = 0;
		sc->reads = 0;
		strlcpy(sc->name, "counters", sizeof(sc->name));
		sc->limit = 100;
		sysctl_ctx_init(&counters_ctx);
		node = SYSCTL_ADD_NODE(&counters_ctx, SYSCTL_STATIC_CHILDREN(_debug),
		    OID_AUTO, "counters", CTLFLAG_RD | CTLFLAG_MPSAFE, NULL,
		    "counters example");
		if (node == NULL) {
			sysctl_ctx_free(&counters_ctx);
			return (EINVAL);
		}
		SYSCTL_ADD_PROC(&counters_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "value",
		    CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_MPSAFE, sc, 0,
		    counters_value_handler, "I", "a value in 0..=1000");
		SYSCTL_ADD_U64(&counters_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "reads",
		    CTLFLAG_RD, &sc->reads, 0, "reads of value");
		SYSCTL_ADD_STRING(&counters_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "name",
		    CTLFLAG_RW, sc->name, sizeof(sc->name), "a name of at most 32 bytes");
		SYSCTL_ADD_INT(&counters_ctx, SYSCTL_CHILDREN(node), OID_AUTO, "limit",
		    CTLFLAG_RDTUN, &sc->limit, 0,
		    "the limit (tunable debug.counters.limit)");
		printf("counters: loaded, limit %d\n", sc->limit);
		return (0);
	case MOD_UNLOAD:
		printf("counters: unloading, value %d, %ju reads, static %d\n",
		    sc->value, (uintmax_t)sc->reads, counters_static);
		return (sysctl_ctx_free(&counters_ctx));
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t counters_mod = {
	"counters",
	counters_modevent,
	NULL
};

DECLARE_MODULE(counters, counters_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(counters, 1);
