/*
 * sysctl_huge: leaves that see huge newlen/oldlen and unmapped user buffers (issue 15), from
 * the real 14.2 / 15.0 headers with FreeBSD's own macros (sys/sysctl.h). Fixture of
 * tools/kernel-sim/tests/sysctl_huge.rs.
 *
 * debug.huge.int     SYSCTL_INT (sysctl_handle_int: SYSCTL_IN of sizeof(int))
 * debug.huge.str     SYSCTL_STRING of 16 bytes (sysctl_handle_string)
 * debug.huge.opaque  SYSCTL_OPAQUE of 8 bytes (sysctl_handle_opaque)
 * debug.huge.wire0   SYSCTL_PROC: sysctl_wire_old_buffer(req, 0) (vslock of all of oldlen),
 *                    then SYSCTL_OUT of an int
 * debug.huge.blob    SYSCTL_PROC taking up to 64 bytes: checks req->newlen - req->newidx
 *                    against its buffer before SYSCTL_IN, as a careful handler does
 * debug.huge.alloc   (-DMALLOC_NEWLEN only, a deliberate bug) SYSCTL_PROC that allocates
 *                    req->newlen bytes with M_WAITOK before SYSCTL_IN
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/malloc.h>
#include <sys/sysctl.h>

static int hint = 1;
static char hstr[16] = "small";
static struct { uint32_t a, b; } hopaque = { 1, 2 };
static char blob[64];
static size_t bloblen;

SYSCTL_NODE(_debug, OID_AUTO, huge, CTLFLAG_RW | CTLFLAG_MPSAFE, 0, "huge lengths fixture");
SYSCTL_INT(_debug_huge, OID_AUTO, int, CTLFLAG_RW | CTLFLAG_ANYBODY, &hint, 0, "int");
SYSCTL_STRING(_debug_huge, OID_AUTO, str, CTLFLAG_RW, hstr, sizeof(hstr), "string of 16");
SYSCTL_OPAQUE(_debug_huge, OID_AUTO, opaque, CTLFLAG_RW, &hopaque, sizeof(hopaque), "S,pair", "opaque");

static int
wire0_handler(SYSCTL_HANDLER_ARGS)
{
	int v = hint, error;

	error = sysctl_wire_old_buffer(req, 0);
	if (error != 0)
		return (error);
	return (SYSCTL_OUT(req, &v, sizeof(v)));
}
SYSCTL_PROC(_debug_huge, OID_AUTO, wire0, CTLTYPE_INT | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 0,
    wire0_handler, "I", "wires the whole old buffer");

static int
blob_handler(SYSCTL_HANDLER_ARGS)
{
	char tmp[sizeof(blob)];
	size_t n;
	int error;

	error = SYSCTL_OUT(req, blob, bloblen);
	if (error != 0 || req->newptr == NULL)
		return (error);
	n = req->newlen - req->newidx;
	if (n > sizeof(tmp))
		return (EINVAL);
	error = SYSCTL_IN(req, tmp, n);
	if (error != 0)
		return (error);
	memcpy(blob, tmp, n);
	bloblen = n;
	return (0);
}
SYSCTL_PROC(_debug_huge, OID_AUTO, blob, CTLTYPE_OPAQUE | CTLFLAG_RW | CTLFLAG_MPSAFE, NULL, 0,
    blob_handler, "A", "up to 64 bytes");

#ifdef MALLOC_NEWLEN
static MALLOC_DEFINE(M_HUGE, "huge", "sysctl_huge fixture");

static int
alloc_handler(SYSCTL_HANDLER_ARGS)
{
	char *p;
	int error;

	if (req->newptr == NULL)
		return (SYSCTL_OUT(req, &hint, sizeof(hint)));
	/* The bug: a length from the user straight into malloc(M_WAITOK). */
	p = malloc(req->newlen, M_HUGE, M_WAITOK);
	error = SYSCTL_IN(req, p, req->newlen);
	free(p, M_HUGE);
	return (error);
}
SYSCTL_PROC(_debug_huge, OID_AUTO, alloc, CTLTYPE_OPAQUE | CTLFLAG_RW | CTLFLAG_MPSAFE, NULL, 0,
    alloc_handler, "A", "allocates newlen bytes");
#endif

static int
huge_modevent(module_t mod, int what, void *arg)
{
	switch (what) {
	case MOD_LOAD:
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t huge_mod = { "sysctl_huge", huge_modevent, NULL };
DECLARE_MODULE(sysctl_huge, huge_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(sysctl_huge, 1);
