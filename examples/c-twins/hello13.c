/*
 * hello13: a FreeBSD 13.1 module built WITHOUT FreeBSD headers.
 *
 * No 13.x header tree is available here and the 14.x headers have the 32-byte struct sysinit
 * (with the `next` pointer at offset 8), so this file spells out the 13.x layouts itself,
 * exactly as DECLARE_MODULE / MODULE_VERSION / MALLOC_DEFINE expand on 13.x
 * (sys/sys/kernel.h, sys/sys/module.h, sys/sys/malloc.h of the 13.0-RELEASE tree; see
 * /work/shared/freebsd-facts/FACTS.md sections 1-3):
 *   struct sysinit { enum subsystem; enum order; func; udata; }   24 bytes
 *   MODULE_DEPEND(kernel): {1301000, 1301000, 1399999}
 *   M_VERSION 2020110501
 */
typedef unsigned long size_t;

struct mod_depend { int md_ver_minimum, md_ver_preferred, md_ver_maximum; };
struct mod_version { int mv_version; };
struct mod_metadata { int md_version; int md_type; const void *md_data; const char *md_cval; };
typedef struct { const char *name; int (*evhand)(void *, int, void *); void *priv; } moduledata_t;
struct sysinit { unsigned int subsystem; unsigned int order; void (*func)(const void *); const void *udata; };
struct malloc_type {
	struct malloc_type *ks_next;
	unsigned long ks_version;
	const char *ks_shortdesc;
	unsigned long ks_mti[11];	/* struct malloc_type_internal, 88 bytes */
};

int printf(const char *, ...);
void *malloc(size_t, struct malloc_type *, int);
void free(void *, struct malloc_type *);
void malloc_init(void *);
void malloc_uninit(void *);
void module_register_init(const void *);

#define	SI_SUB_KMEM	0x1800000
#define	SI_SUB_DRIVERS	0x3100000
#define	SI_ORDER_THIRD	2
#define	SI_ORDER_MIDDLE	0x1000000
#define	SI_ORDER_ANY	0xfffffff
#define	M_WAITOK	0x2
#define	MOD_LOAD	0
#define	MOD_UNLOAD	1

struct malloc_type M_HELLO13[1] = { { 0, 2020110501UL, "hello13", { 0 } } };

static int
hello13_modevent(void *mod, int what, void *arg)
{
	void *p;

	if (what == MOD_LOAD) {
		p = malloc(32, M_HELLO13, M_WAITOK);
		printf("hello13: loaded on a 13.x kernel\n");
		free(p, M_HELLO13);
		return (0);
	}
	if (what == MOD_UNLOAD) {
		printf("hello13: unloaded\n");
		return (0);
	}
	return (45);	/* EOPNOTSUPP */
}

static moduledata_t hello13_mod = { "hello13", hello13_modevent, 0 };

static struct mod_depend hello13_dep_kernel = { 1301000, 1301000, 1399999 };
static struct mod_version hello13_version = { 1 };
static struct mod_metadata md_dep = { 1, 1 /* MDT_DEPEND */, &hello13_dep_kernel, "kernel" };
static struct mod_metadata md_mod = { 1, 2 /* MDT_MODULE */, &hello13_mod, "hello13" };
static struct mod_metadata md_ver = { 1, 3 /* MDT_VERSION */, &hello13_version, "hello13" };
__attribute__((section("set_modmetadata_set"), used, aligned(8)))
static const void *const hello13_md_set[] = { &md_dep, &md_mod, &md_ver };

static struct sysinit si_minit = { SI_SUB_KMEM, SI_ORDER_THIRD, malloc_init, M_HELLO13 };
static struct sysinit si_mod = { SI_SUB_DRIVERS, SI_ORDER_MIDDLE, module_register_init, &hello13_mod };
static struct sysinit si_muninit = { SI_SUB_KMEM, SI_ORDER_ANY, malloc_uninit, M_HELLO13 };
__attribute__((section("set_sysinit_set"), used, aligned(8)))
static const void *hello13_sysinit_set[] = { &si_mod, &si_minit };
__attribute__((section("set_sysuninit_set"), used, aligned(8)))
static const void *hello13_sysuninit_set[] = { &si_muninit };
