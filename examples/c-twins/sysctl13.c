/*
 * sysctl13: static sysctls with the FreeBSD 13.1 `struct sysctl_oid`, built WITHOUT FreeBSD
 * headers (no 13.x header tree here; see hello13.c). The 13.x children lists are SLISTs, so
 * the struct is 96 bytes (FACTS.md section 6, 13.1 sys/sys/sysctl.h):
 *   oid_children@0 (SLIST_HEAD, 8), oid_parent@8, oid_link@16 (SLIST_ENTRY, 8),
 *   oid_number@24, oid_kind@28, oid_arg1@32, oid_arg2@40, oid_name@48, oid_handler@56,
 *   oid_fmt@64, oid_refcnt@72, oid_running@76, oid_descr@80, oid_label@88
 * as SYSCTL_NODE / SYSCTL_INT expand on 13.x (static oid + DATA_SET(sysctl_set, ...)).
 * debug.s13.{val (RW int), tun (RWTUN int)}; MOD_LOAD prints tun and walks the node's SLIST
 * (written by the kernel's sysctl_register_oid).
 */
struct sysctl_oid;
struct sysctl_oid_list { struct sysctl_oid *slh_first; };
struct sysctl_req;
struct sysctl_oid {
	struct sysctl_oid_list oid_children;
	struct sysctl_oid_list *oid_parent;
	struct { struct sysctl_oid *sle_next; } oid_link;
	int oid_number;
	unsigned int oid_kind;
	void *oid_arg1;
	long oid_arg2;
	const char *oid_name;
	int (*oid_handler)(struct sysctl_oid *, void *, long, struct sysctl_req *);
	const char *oid_fmt;
	int oid_refcnt;
	unsigned int oid_running;
	const char *oid_descr;
	const char *oid_label;
};
_Static_assert(sizeof(struct sysctl_oid) == 96, "13.x sysctl_oid");

struct mod_depend { int md_ver_minimum, md_ver_preferred, md_ver_maximum; };
struct mod_version { int mv_version; };
struct mod_metadata { int md_version; int md_type; const void *md_data; const char *md_cval; };
typedef struct { const char *name; int (*evhand)(void *, int, void *); void *priv; } moduledata_t;
struct sysinit { unsigned int subsystem; unsigned int order; void (*func)(const void *); const void *udata; };

int printf(const char *, ...);
void module_register_init(const void *);
int sysctl_handle_int(struct sysctl_oid *, void *, long, struct sysctl_req *);
extern struct sysctl_oid sysctl___debug;

#define	CTLTYPE_NODE	1
#define	CTLTYPE_INT	2
#define	CTLFLAG_RD	0x80000000u
#define	CTLFLAG_WR	0x40000000u
#define	CTLFLAG_RW	(CTLFLAG_RD | CTLFLAG_WR)
#define	CTLFLAG_TUN	0x80000u
#define	CTLFLAG_MPSAFE	0x40000u
#define	OID_AUTO	(-1)

static int val = 5;
static int tun = 6;

struct sysctl_oid sysctl___debug_s13 = {
	.oid_parent = &sysctl___debug.oid_children, .oid_number = OID_AUTO,
	.oid_kind = CTLTYPE_NODE | CTLFLAG_RW | CTLFLAG_MPSAFE, .oid_name = "s13", .oid_fmt = "N",
	.oid_descr = "13.x layout",
};
static struct sysctl_oid sysctl___debug_s13_val = {
	.oid_parent = &sysctl___debug_s13.oid_children, .oid_number = OID_AUTO,
	.oid_kind = CTLTYPE_INT | CTLFLAG_MPSAFE | CTLFLAG_RW, .oid_arg1 = &val, .oid_name = "val",
	.oid_handler = sysctl_handle_int, .oid_fmt = "I", .oid_descr = "",
};
static struct sysctl_oid sysctl___debug_s13_tun = {
	.oid_parent = &sysctl___debug_s13.oid_children, .oid_number = OID_AUTO,
	.oid_kind = CTLTYPE_INT | CTLFLAG_MPSAFE | CTLFLAG_RW | CTLFLAG_TUN, .oid_arg1 = &tun,
	.oid_name = "tun", .oid_handler = sysctl_handle_int, .oid_fmt = "I", .oid_descr = "",
};
__attribute__((section("set_sysctl_set"), used, aligned(8)))
static const void *const s13_sysctl_set[] = { &sysctl___debug_s13, &sysctl___debug_s13_val, &sysctl___debug_s13_tun };

static int
s13_modevent(void *mod, int what, void *arg)
{
	struct sysctl_oid *o;
	int n = 0;

	if (what == 0) {
		for (o = sysctl___debug_s13.oid_children.slh_first; o != 0; o = o->oid_link.sle_next)
			n++;
		printf("sysctl13: tun=%d children=%d\n", tun, n);
		return (0);
	}
	if (what == 1)
		return (0);
	return (45);
}

static moduledata_t s13_mod = { "sysctl13", s13_modevent, 0 };
static struct mod_depend s13_dep_kernel = { 1301000, 1301000, 1399999 };
static struct mod_version s13_version = { 1 };
static struct mod_metadata md_dep = { 1, 1, &s13_dep_kernel, "kernel" };
static struct mod_metadata md_mod = { 1, 2, &s13_mod, "sysctl13" };
static struct mod_metadata md_ver = { 1, 3, &s13_version, "sysctl13" };
__attribute__((section("set_modmetadata_set"), used, aligned(8)))
static const void *const s13_md_set[] = { &md_dep, &md_mod, &md_ver };
static struct sysinit si_mod = { 0x3100000, 0x1000000, module_register_init, &s13_mod };
__attribute__((section("set_sysinit_set"), used, aligned(8)))
static const void *s13_sysinit_set[] = { &si_mod };
