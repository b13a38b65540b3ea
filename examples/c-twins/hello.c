/* hello: the classic FreeBSD kernel module, built against the real FreeBSD headers. */
#include <sys/param.h>
#include <sys/module.h>
#include <sys/kernel.h>
#include <sys/systm.h>
#include <sys/malloc.h>

static MALLOC_DEFINE(M_HELLO, "hello", "hello world buffers");

int hello_add(int a, int b);
int
hello_add(int a, int b)
{
	return (a + b);
}

/* Exercises the kernel printf engine; the test compares the console text. */
void hello_formats(void);
void
hello_formats(void)
{
	static const char nonul[4] = { 'a', 'b', 'c', 'd' };	/* no NUL */
	static const unsigned char mac[6] = { 0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef };

	printf("d=%d i=%i u=%u x=%x X=%X o=%o c=%c s=%s\n",
	    -42, 7, 3000000000u, 0xbeef, 0xbeef, 8, 'Z', "str");
	printf("ld=%ld lu=%lu lx=%lx zu=%zu zd=%zd jd=%jd ju=%ju\n",
	    -1234567890123L, 18446744073709551615UL, 0xdeadbeefcafeUL,
	    (size_t)77, (ssize_t)-77, (intmax_t)-5, (uintmax_t)5);
	printf("lld=%lld llu=%llu hd=%hd hhx=%hhx\n",
	    -9LL, 9ULL, (short)-3, (unsigned char)0xab);
	printf("[%5d] [%-5d] [%05d] [%#x] [%#o] [%.*s] [%*d] [%-6s] [%.2s]\n",
	    42, 42, 42, 255, 8, 4, nonul, 6, 9, "ab", "xyz");
	printf("p=%p null=%s b=%b D=%6D\n", (void *)0x1234, (char *)NULL,
	    3, "\10\2BITTWO\1BITONE", mac, ":");
	uprintf("uprintf %s\n", "works");
}

static int
hello_modevent(module_t mod, int what, void *arg)
{
	char *buf;

	switch (what) {
	case MOD_LOAD:
		buf = malloc(64, M_HELLO, M_WAITOK | M_ZERO);
		snprintf(buf, 64, "Hello, world! %d+%d=%d", 40, 2, hello_add(40, 2));
		printf("%s\n", buf);
		free(buf, M_HELLO);
		return (0);
	case MOD_UNLOAD:
		printf("Goodbye, world!\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t hello_mod = { "hello", hello_modevent, NULL };
DECLARE_MODULE(hello, hello_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
MODULE_VERSION(hello, 1);
