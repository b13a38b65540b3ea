#!/usr/bin/env python3
"""Generates releases/<folder>/kernel-exports.txt: the symbols a FreeBSD kernel exports to
modules, derived from the real headers (issue 16).

Every header of the kernel's own directories (sys/, vm/, machine/ = amd64, x86/, net/,
netinet/, netinet6/: the code GENERIC links into the kernel) is compiled on its own after
a fixed prelude (or, if that fails, a longer one), with -D_KERNEL -DKLD_MODULE -D__FreeBSD_version=N, exactly as a module
is (kern.mk flags, see kernel_sim::twins):

* functions: gcc -aux-info lists every prototype in scope with its header and line;
  `static` ones (static inline helpers) and implicit declarations ("I") are dropped,
  macros never reach it;
* variables: the `extern` declarations at file scope of the preprocessed text (gcc -E),
  minus the functions.

A header that does not compile on its own after the prelude is reported and skipped
(generated *_if.h headers are stubbed empty, as they only hold static inline wrappers and
kobj descriptors). Output: one symbol per line, `name<TAB>kind<TAB>header`, kind one of
function / variadic / data, sorted by name; a `#` provenance header.

Usage: ci/kernel-exports.py <include-root> <__FreeBSD_version> <release-name> <out> [provenance]
   or: ci/kernel-exports.py --all    (regenerates v14_0 and v15_0 from ci/freebsd-headers.sh,
                                      and v13_1 from v14_0, see derive_13_1)
   or: ci/kernel-exports.py --derive-13-1   (v13_1 only)
"""
import os, re, subprocess, sys, tempfile

DIRS = ["sys", "vm", "machine", "x86", "net", "netinet", "netinet6"]
PRELUDE = ["sys/param.h", "sys/systm.h", "sys/kernel.h", "sys/malloc.h", "sys/lock.h",
           "sys/mutex.h", "sys/proc.h", "sys/bus.h", "sys/socket.h"]
# Second attempt for a header that needs more context (vm/, net/, netinet/ headers); the
# entries that do not compile in sequence are pruned first (prune_prelude: sys/epoch.h and
# what includes it need contrib/ck headers the sysroot does not ship).
PRELUDE2_WANTED = PRELUDE + ["sys/rwlock.h", "sys/sx.h", "sys/conf.h", "sys/uio.h", "sys/sysctl.h", "sys/mbuf.h",
                      "sys/interrupt.h", "sys/epoch.h", "sys/counter.h", "vm/vm.h", "vm/pmap.h", "vm/vm_param.h",
                      "vm/vm_object.h", "vm/vm_page.h", "vm/vm_map.h", "net/if.h", "net/vnet.h", "net/if_var.h",
                      "netinet/in.h", "netinet/in_systm.h", "netinet/ip.h", "netinet/in_pcb.h", "netinet/tcp.h"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cflags(inc, fv, stubs):
    major = str(int(fv) // 100000)
    return ["-nostdinc", "-ffreestanding", "-fno-builtin", "-fno-pic", "-w",
            "-U__linux__", "-U__linux", "-Ulinux", "-U__gnu_linux__",
            "-D__FreeBSD__=" + major, "-D__FreeBSD_version=" + str(fv), "-D_KERNEL", "-DKLD_MODULE",
            # The kernel being modelled is a debug kernel (INVARIANTS + WITNESS, see the
            # brief): it carries the assertion functions sys/mutex.h, sys/sx.h, ... declare
            # under INVARIANT_SUPPORT (__mtx_assert, _sx_assert, ...).
            "-DINVARIANT_SUPPORT",
            "-I" + os.path.join(inc, "x86_64-freebsd-none"), "-I" + os.path.join(inc, "generic-freebsd"),
            "-I" + stubs]


def headers(inc):
    out = []
    for d in DIRS:
        base = os.path.join(inc, "x86_64-freebsd-none" if d == "machine" else "generic-freebsd", d)
        if not os.path.isdir(base):
            continue
        for f in sorted(os.listdir(base)):
            if f.endswith(".h"):
                out.append(d + "/" + f)
    return out


def rel_header(path):
    for root in ("/x86_64-freebsd-none/", "/generic-freebsd/"):
        if root in path:
            return path.split(root, 1)[1]
    return None


def prune_prelude(flags, stubs, tmp):
    ok = []
    for h in PRELUDE2_WANTED:
        if compile_with(ok, h, flags, stubs, tmp, want_output=False):
            ok.append(h)
    return ok


def compile_tu(hdr, flags, stubs, tmp, prelude2):
    """Returns (aux-info text, preprocessed text) or None when the TU does not compile."""
    return compile_with(PRELUDE, hdr, flags, stubs, tmp) or compile_with(prelude2, hdr, flags, stubs, tmp)


def compile_with(prelude, hdr, flags, stubs, tmp, want_output=True):
    src = os.path.join(tmp, "tu.c")
    with open(src, "w") as f:
        for h in prelude + [hdr]:
            f.write("#include <%s>\n" % h)
    aux = os.path.join(tmp, "tu.aux")
    for _ in range(20):
        r = subprocess.run(["gcc", "-fsyntax-only", "-aux-info", aux] + flags + [src],
                           capture_output=True, text=True)
        m = re.search(r"fatal error: ([\w./-]+_if\.h): No such file", r.stderr)
        if m:  # a generated kobj interface header: stub it empty
            p = os.path.join(stubs, m.group(1))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").close()
            continue
        break
    if r.returncode != 0:
        return None
    if not want_output:
        return True
    pre = subprocess.run(["gcc", "-E"] + flags + [src], capture_output=True, text=True, check=True).stdout
    return open(aux).read(), pre


AUX = re.compile(r"^/\* (\S+):(\d+):(\w+) \*/ (.*);")


def functions(aux, out):
    for line in aux.splitlines():
        m = AUX.match(line)
        if not m:
            continue
        hdr = rel_header(m.group(1))
        decl = m.group(4)
        if m.group(3).startswith("I"):
            continue  # an implicit declaration (a call to a kobj method of a stubbed *_if.h)
        if hdr is None or hdr.split("/")[0] not in DIRS or decl.startswith("static") or "static " in decl.split("(")[0]:
            continue
        n = re.search(r"(\w+) \(", decl)
        if not n:
            continue
        kind = "variadic" if decl.rstrip().endswith("...)") else "function"
        out.setdefault(n.group(1), (kind, hdr))


TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d\w*|\S')


def variables(pre, funcs, out):
    cur = None
    stmt, depth, stmt_hdr = [], 0, None
    for line in pre.splitlines():
        if line.startswith("# "):
            m = re.match(r'# \d+ "([^"]+)"', line)
            if m:
                cur = rel_header(m.group(1))
            continue
        for tok in TOKEN.findall(line):
            if not stmt:
                stmt_hdr = cur
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0 and "{" in stmt:
                    i = stmt.index("{")
                    if i > 0 and stmt[i - 1] == ")" or stmt[i - 1] in ("__attribute__",):
                        stmt = []  # a function definition (static inline)
                        continue
            stmt.append(tok)
            if tok == ";" and depth == 0:
                declare(stmt, stmt_hdr, funcs, out)
                stmt = []


def strip_attrs(toks):
    out, i = [], 0
    while i < len(toks):
        t = toks[i]
        if t in ("__attribute__", "__asm__", "__asm", "asm", "__attribute") and i + 1 < len(toks) and toks[i + 1] == "(":
            d, i = 0, i + 1
            while i < len(toks):
                d += toks[i] == "("
                d -= toks[i] == ")"
                i += 1
                if d == 0:
                    break
            continue
        out.append(t)
        i += 1
    return out


def declare(stmt, hdr, funcs, out):
    if hdr is None or hdr.split("/")[0] not in DIRS or not stmt or stmt[0] != "extern" or "{" in stmt:
        return
    toks = strip_attrs(stmt[:-1])
    # split declarators at top-level commas
    parts, cur, d = [], [], 0
    for t in toks:
        if t in "([":
            d += 1
        elif t in ")]":
            d -= 1
        if t == "," and d == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    parts.append(cur)
    for p in parts:
        name = None
        for i in range(len(p) - 3):
            if p[i] == "(" and p[i + 1] == "*" and re.match(r"[A-Za-z_]\w*$", p[i + 2]) and p[i + 3] in (")", "["):
                name = p[i + 2]  # pointer to function / array
                break
        if name is None:
            if "(" in p:
                continue  # a function prototype
            ids = [t for t in p if re.match(r"[A-Za-z_]\w*$", t)]
            cut = [i for i, t in enumerate(p) if t in ("[", "=")]
            if cut:
                ids = [t for t in p[:cut[0]] if re.match(r"[A-Za-z_]\w*$", t)]
            if not ids:
                continue
            name = ids[-1]
        if name in funcs or name in ("extern", "const", "volatile"):
            continue
        out.setdefault(name, ("data", hdr))


# Symbols the kernel defines for the compiler rather than for a header: code built with
# kern.mk's -fstack-protector references them without any declaration.
# sys/kern/stack_protector.c: `long __stack_chk_guard[8]` and `void __stack_chk_fail(void)`.
COMPILER_ABI = [
    ("__stack_chk_fail", "function", "sys/kern/stack_protector.c"),
    ("__stack_chk_guard", "data", "sys/kern/stack_protector.c"),
]


def generate(inc, fv, release, out_path, provenance):
    flags_tmp = tempfile.mkdtemp()
    stubs = os.path.join(flags_tmp, "stubs")
    os.makedirs(stubs)
    flags = cflags(inc, fv, stubs)
    funcs, data, skipped = {}, {}, []
    prelude2 = prune_prelude(flags, stubs, flags_tmp)
    for h in headers(inc):
        r = compile_tu(h, flags, stubs, flags_tmp, prelude2)
        if r is None:
            skipped.append(h)
            continue
        functions(r[0], funcs)
        variables(r[1], funcs, data)
    for n in list(data):
        if n in funcs:
            del data[n]
    rows = sorted([(n, k, h) for n, (k, h) in funcs.items()] + [(n, k, h) for n, (k, h) in data.items()]
                  + [r for r in COMPILER_ABI if r[0] not in funcs and r[0] not in data])
    with open(out_path, "w") as f:
        f.write("# Kernel symbols FreeBSD %s exports to modules (generated by ci/kernel-exports.py; do not edit).\n" % release)
        f.write("# provenance: %s\n" % provenance)
        f.write("# method: every header of %s compiled with -D_KERNEL -DKLD_MODULE -D__FreeBSD_version=%s;\n"
                "#   functions from gcc -aux-info without static (inline) ones, data from file-scope extern declarations;\n"
                "#   plus the compiler ABI of -fstack-protector (sys/kern/stack_protector.c: __stack_chk_fail, __stack_chk_guard).\n"
                % ("/".join(DIRS), fv))
        f.write("# %d functions, %d data; %d headers do not compile alone and were skipped: %s\n"
                % (sum(1 for r in rows if r[1] != "data"), len(data), len(skipped), " ".join(skipped)))
        f.write("# name\tkind\theader\n")
        for n, k, h in rows:
            f.write("%s\t%s\t%s\n" % (n, k, h))
    print("%s: %d symbols, %d headers skipped" % (out_path, len(rows), len(skipped)), file=sys.stderr)


# Symbols of the 14.x headers that 13.1 does not export (derive_13_1). Each needs a source.
NOT_IN_13_1 = {
    # sys/sys/malloc.h of 13.0-RELEASE (sobomax/freebsd14_vendor@0f7ff3427c99) declares no
    # malloc_aligned; no 13.1 tree was found, so the 13.1 folder does not rely on it
    # (releases/v13_1/mod.rs).
    "malloc_aligned": "absent from 13.0's sys/sys/malloc.h (releases/v13_1/mod.rs)",
    # sys/sys/taskqueue.h of 13.0-RELEASE has no taskqueue_enqueue_flags; it came with
    # TASKQUEUE_FAIL_IF_PENDING in commit b6f87b78b5bb (D35051, FACTS.md section 9), after
    # stable/13 branched; 13.1 is not known to have it (releases/v14_0/taskqueue14.rs).
    "taskqueue_enqueue_flags": "absent from 13.0's sys/sys/taskqueue.h (D35051, releases/v14_0/taskqueue14.rs)",
}
# The RB_GENERATE'd walkers of the oid tree: 13.x keeps a sysctl_oid_list as an SLIST; the RB
# tree came at 1400071 (Porter's Handbook; FACTS.md section 6; releases/v13_1/sysctl_oid_layout.rs).
for _fn in ("FIND", "INSERT", "INSERT_COLOR", "INSERT_FINISH", "INSERT_NEXT", "INSERT_PREV",
            "MINMAX", "NEXT", "NFIND", "PREV", "REINSERT", "REMOVE", "REMOVE_COLOR"):
    NOT_IN_13_1["sysctl_oid_list_RB_" + _fn] = "the oid list is an SLIST before 1400071"


# Symbols 13.x headers declare that the 14.x ones do not. Each needs a source.
ONLY_IN_13_1 = [
    # 13.0-RELEASE sys/sys/systm.h declares bcopy/bzero/bcmp as functions (besides the
    # macros); 14.x and 15.0 keep only the macros (FACTS.md, "bcopy / bzero / bcmp", S13).
    ("bcmp", "function", "sys/systm.h"),
    ("bcopy", "function", "sys/systm.h"),
    ("bzero", "function", "sys/systm.h"),
]


def derive_13_1(src, dst):
    """13.1 = the 14.0 list minus NOT_IN_13_1 plus ONLY_IN_13_1 (no 13.x header tree)."""
    lines = open(src).read().splitlines()
    body = [l for l in lines if not l.startswith("#") and l.split("\t")[0] not in NOT_IN_13_1]
    names = {l.split("\t")[0] for l in body}
    body = sorted(body + ["\t".join(r) for r in ONLY_IN_13_1 if r[0] not in names])
    with open(dst, "w") as f:
        f.write("# Kernel symbols FreeBSD 13.1 exports to modules (generated by ci/kernel-exports.py; do not edit).\n")
        f.write("# provenance: derived from releases/v14_0/kernel-exports.txt (no 13.x header tree exists on the CI\n"
                "#   machines) minus the symbols known to be newer than 13.1: %s;\n"
                "#   plus what 13.0-RELEASE's sys/sys/systm.h declares and 14.x does not: %s.\n"
                "#   A 13.1 module may therefore pass the check with a symbol added in 14.0 that is not listed here.\n"
                % (", ".join("%s (%s)" % kv for kv in sorted(NOT_IN_13_1.items())),
                   ", ".join(r[0] for r in ONLY_IN_13_1)))
        f.write("# name\tkind\theader\n")
        for l in body:
            f.write(l + "\n")


def main():
    if sys.argv[1:] == ["--derive-13-1"]:
        derive_13_1(os.path.join(ROOT, "releases/v14_0/kernel-exports.txt"),
                    os.path.join(ROOT, "releases/v13_1/kernel-exports.txt"))
    elif sys.argv[1:] == ["--all"]:
        for major, folder, fv, zig in (("14", "v14_0", 1400097, "ziglang==0.15.2 (FreeBSD 14.2 headers)"),
                                       ("15", "v15_0", 1500068, "ziglang==0.17.0 (FreeBSD 15.0 headers)")):
            inc = subprocess.run(["sh", os.path.join(ROOT, "ci/freebsd-headers.sh"), major],
                                 capture_output=True, text=True, check=True).stdout.strip()
            generate(inc, fv, folder[1:].replace("_", "."), os.path.join(ROOT, "releases", folder, "kernel-exports.txt"),
                     "PyPI %s, compiled as __FreeBSD_version %d" % (zig, fv))
        derive_13_1(os.path.join(ROOT, "releases/v14_0/kernel-exports.txt"),
                    os.path.join(ROOT, "releases/v13_1/kernel-exports.txt"))
    else:
        inc, fv, release, out = sys.argv[1:5]
        generate(inc, fv, release, out, sys.argv[5] if len(sys.argv) > 5 else inc)


if __name__ == "__main__":
    main()
