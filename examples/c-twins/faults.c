/* faults: exported functions that misbehave; the tests call them one at a time. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/domainset.h>

static MALLOC_DEFINE(M_FAULTS, "faults", "fault twin");

int faults_nullderef(volatile int *p);
int
faults_nullderef(volatile int *p)
{
	return (*p + 1);	/* called with NULL */
}

volatile int faults_spin_counter;
void faults_spin(void);
void
faults_spin(void)
{
	for (;;)
		faults_spin_counter++;
}

int faults_recurse(int n);
int
faults_recurse(int n)
{
	volatile char frame[512];

	frame[0] = (char)n;
	if (n == 0)
		return (0);
	return (faults_recurse(n - 1) + frame[0]);
}

void faults_double_free(void);
void
faults_double_free(void)
{
	void *p = malloc(16, M_FAULTS, M_WAITOK);

	free(p, M_FAULTS);
	free(p, M_FAULTS);
}

void *faults_nowait_alloc(void);
void *
faults_nowait_alloc(void)
{
	return (malloc(32, M_FAULTS, M_NOWAIT));
}

void faults_free(void *p);
void
faults_free(void *p)
{
	free(p, M_FAULTS);
}

void *faults_aligned_alloc(unsigned long size, unsigned long align);
void *
faults_aligned_alloc(unsigned long size, unsigned long align)
{
	return (malloc_domainset_aligned(size, align, M_FAULTS,
	    DOMAINSET_RR(), M_WAITOK));
}

static MALLOC_DEFINE(M_FAULTS_OTHER, "faults_other", "another type");
/* A malloc type that no SYSINIT initialises. */
static struct malloc_type M_NOINIT[1] = { { .ks_next = NULL,
    .ks_version = M_VERSION, .ks_shortdesc = "noinit" } };

void faults_wrong_type_free(void);
void
faults_wrong_type_free(void)
{
	void *p = malloc(16, M_FAULTS, M_WAITOK);

	free(p, M_FAULTS_OTHER);
}

void *faults_noinit_alloc(void);
void *
faults_noinit_alloc(void)
{
	return (malloc(16, M_NOINIT, M_WAITOK));
}

/* Overruns a local buffer: the stack protector's canary check calls __stack_chk_fail. */
void faults_smash(unsigned long n);
void
faults_smash(unsigned long n)
{
	char buf[16];

	memset(buf, 'A', n);
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static const int faults_ro = 5;
void faults_write_rodata(void);
void
faults_write_rodata(void)
{
	*(volatile int *)(uintptr_t)&faults_ro = 6;
}

static int
faults_modevent(module_t mod, int what, void *arg)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t faults_mod = { "faults", faults_modevent, NULL };
DECLARE_MODULE(faults, faults_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
