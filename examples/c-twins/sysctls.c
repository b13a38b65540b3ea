/*
 * sysctls: static and dynamic sysctls, tunables and permission cases, from the real 14.2 /
 * 15.0 headers with FreeBSD's own macros (sys/sysctl.h). Fixture of
 * tools/kernel-sim/tests/sysctl.rs.
 *
 * Static (set_sysctl_set): debug.sysctls.{st_int, st_ro, st_any, st_secure, st_prison,
 * st_tun (RWTUN), range (PROC 0..1000), name (STRING 33), big (U64), flag (BOOL), lng (LONG),
 * cst (int constant in arg2)}.
 * Dynamic (MOD_LOAD, one context): debug.sysctls_dyn.{value, tun (RWTUN), str (RD)} and
 * debug.sysctls_dyn.sub.deep; `debug.sysctls_tunables` printed at load from getenv_*.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/proc.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/sysctl.h>

static int st_int = 1;
static int st_ro = 2;
static int st_any = 3;
static int st_secure = 4;
static int st_prison = 5;
static int st_tun = 6;
static int range = 7;
static char name[33] = "initial";
static uint64_t big = 0x1122334455667788ULL;
static bool flag = true;
static long lng = -5;

SYSCTL_NODE(_debug, OID_AUTO, sysctls, CTLFLAG_RW | CTLFLAG_MPSAFE, 0, "sysctls fixture");
SYSCTL_INT(_debug_sysctls, OID_AUTO, st_int, CTLFLAG_RW, &st_int, 0, "rw int");
SYSCTL_INT(_debug_sysctls, OID_AUTO, st_ro, CTLFLAG_RD, &st_ro, 0, "ro int");
SYSCTL_INT(_debug_sysctls, OID_AUTO, st_any, CTLFLAG_RW | CTLFLAG_ANYBODY, &st_any, 0, "anybody");
SYSCTL_INT(_debug_sysctls, OID_AUTO, st_secure, CTLFLAG_RW | CTLFLAG_SECURE, &st_secure, 0, "secure");
SYSCTL_INT(_debug_sysctls, OID_AUTO, st_prison, CTLFLAG_RW | CTLFLAG_PRISON, &st_prison, 0, "prison");
SYSCTL_INT(_debug_sysctls, OID_AUTO, st_tun, CTLFLAG_RWTUN, &st_tun, 0, "tunable");
SYSCTL_PROC(_debug_sysctls, OID_AUTO, cst, CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 42,
    sysctl_handle_int, "I", "constant");
SYSCTL_STRING(_debug_sysctls, OID_AUTO, name, CTLFLAG_RW, name, sizeof(name), "string");
SYSCTL_U64(_debug_sysctls, OID_AUTO, big, CTLFLAG_RD, &big, 0, "u64");
SYSCTL_BOOL(_debug_sysctls, OID_AUTO, flag, CTLFLAG_RW, &flag, 0, "bool");
SYSCTL_LONG(_debug_sysctls, OID_AUTO, lng, CTLFLAG_RW, &lng, 0, "long");

static int
range_handler(SYSCTL_HANDLER_ARGS)
{
	int v = range, error;

	error = sysctl_handle_int(oidp, &v, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	if (v < 0 || v > 1000)
		return (EINVAL);
	range = v;
	return (0);
}
SYSCTL_PROC(_debug_sysctls, OID_AUTO, range, CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_MPSAFE, NULL, 0,
    range_handler, "I", "0..1000");

/*
 * debug.sysctls.locked: SYSCTL_OUT with a mutex held. The copyout to the user's buffer may
 * fault and sleep, so kern_sysctl.c's sysctl_old_user() does WITNESS_WARN unless the buffer
 * was wired first with sysctl_wire_old_buffer() (debug.sysctls.wired). Built with
 * -DLOCKED_OUT only (a deliberate bug).
 */
static struct mtx lk;
MTX_SYSINIT(sysctls_lk, &lk, "sysctls lock", MTX_DEF);

static int
locked_handler(SYSCTL_HANDLER_ARGS)
{
	int v, error;

	if (arg2 == 1) {
		error = sysctl_wire_old_buffer(req, sizeof(int));
		if (error != 0)
			return (error);
	}
	mtx_lock(&lk);
	v = st_int;
	error = SYSCTL_OUT(req, &v, sizeof(v));
	mtx_unlock(&lk);
	return (error);
}
#ifdef LOCKED_OUT
SYSCTL_PROC(_debug_sysctls, OID_AUTO, locked, CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE | CTLFLAG_SKIP,
    NULL, 0, locked_handler, "I", "SYSCTL_OUT under a mutex, unwired");
#endif
SYSCTL_PROC(_debug_sysctls, OID_AUTO, wired, CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE | CTLFLAG_SKIP,
    NULL, 1, locked_handler, "I", "SYSCTL_OUT under a mutex, wired");

static struct sysctl_ctx_list ctx;
static int dyn_value = 10;
static int dyn_tun = 11;
static int deep = 12;
static char dyn_str[] = "dynamic";

static int
sysctls_modevent(module_t mod, int what, void *arg)
{
	struct sysctl_oid *node, *sub;
	int ti = -1;
	long tl = -1;
	char buf[16] = "unset";

	switch (what) {
	case MOD_LOAD:
		sysctl_ctx_init(&ctx);
		node = SYSCTL_ADD_NODE(&ctx, SYSCTL_STATIC_CHILDREN(_debug), OID_AUTO, "sysctls_dyn",
		    CTLFLAG_RW | CTLFLAG_MPSAFE, 0, "dynamic node");
		if (node == NULL)
			return (ENOMEM);
		SYSCTL_ADD_INT(&ctx, SYSCTL_CHILDREN(node), OID_AUTO, "value", CTLFLAG_RW, &dyn_value, 0, "dyn int");
		SYSCTL_ADD_INT(&ctx, SYSCTL_CHILDREN(node), OID_AUTO, "tun", CTLFLAG_RWTUN, &dyn_tun, 0, "dyn tunable");
		SYSCTL_ADD_STRING(&ctx, SYSCTL_CHILDREN(node), OID_AUTO, "str", CTLFLAG_RD, dyn_str, 0, "ro string");
		sub = SYSCTL_ADD_NODE(&ctx, SYSCTL_CHILDREN(node), OID_AUTO, "sub", CTLFLAG_RW | CTLFLAG_MPSAFE, 0, "");
		SYSCTL_ADD_INT(&ctx, SYSCTL_CHILDREN(sub), OID_AUTO, "deep", CTLFLAG_RW, &deep, 0, "");
		{
			/* SYSCTL_FOREACH = RB_FOREACH through the kernel's sysctl_oid_list_RB_*. */
			struct sysctl_oid *o;
			int n = 0, last = -1, sorted = 1, rel = 0, e2;
			int mib[2] = { CTL_KERN, KERN_OSRELDATE };
			size_t rlen = sizeof(rel);

			SYSCTL_FOREACH(o, SYSCTL_CHILDREN(node)) {
				if (o->oid_number <= last)
					sorted = 0;
				last = o->oid_number;
				n++;
			}
			e2 = kernel_sysctl(curthread, mib, 2, &rel, &rlen, NULL, 0, NULL, 0);
			printf("sysctls: children=%d sorted=%d entry=%d osreldate=%d e=%d is_true=%d\n", n, sorted,
			    sysctl_ctx_entry_find(&ctx, node) != NULL, rel == __FreeBSD_version, e2,
			    getenv_is_true("debug.sysctls.yes"));
		}
		TUNABLE_INT_FETCH("debug.sysctls.ti", &ti);
		getenv_long("debug.sysctls.tl", &tl);
		getenv_string("debug.sysctls.ts", buf, sizeof(buf));
		{
			int hz_v = 0;
			size_t len = sizeof(hz_v);
			int e = kernel_sysctlbyname(curthread, "kern.hz", &hz_v, &len, NULL, 0, NULL, 0);
			printf("sysctls: kern.hz=%d len=%zu error=%d\n", hz_v, len, e);
		}
		printf("sysctls: loaded st_tun=%d dyn_tun=%d ti=%d tl=%ld ts=%s test=%d\n", st_tun, dyn_tun, ti, tl,
		    buf, testenv("debug.sysctls.ti"));
		return (0);
	case MOD_UNLOAD:
		return (sysctl_ctx_free(&ctx));
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t sysctls_mod = { "sysctls", sysctls_modevent, NULL };
DECLARE_MODULE(sysctls, sysctls_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(sysctls, 1);
