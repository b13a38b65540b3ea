//! `--exec 'CMD'` / `--exec-as UID[:GID]`: commands run as simulated user processes after
//! the loads and before the unloads (`kernel_sim::Kernel::run_command`).

use kernel_sim::Kernel;
use kernel_sim::user::Ucred;
use kernel_sim::user::shell::CommandOutput;

use super::lifecycle::{Cycle, location};
use super::report::{Failure, Phase};

/// What user processes do between the loads and the unloads.
#[derive(Clone, Debug, Default)]
pub struct UserRun {
    /// `--exec` commands.
    pub execs: Vec<ExecStep>,
    /// `--fuzz N` operations (0: none).
    pub fuzz: u64,
    /// The fuzz seed (`--seed`, else 1).
    pub fuzz_seed: u64,
}

/// `--fuzz N`: N random system calls on every device node from 4 processes.
pub fn run_fuzz(k: &mut Kernel, ops: u64, seed: u64, cycle: u32, out: &mut Cycle) {
    let r = k.fuzz(ops, 4, seed);
    out.fuzz = if r.devices.is_empty() {
        "no device nodes to fuzz (the modules made none)\n".into()
    } else {
        format!(
            "{} operations ({} failed with an errno, as expected of random calls) on {} from 4 processes (2 unprivileged: uid 1001, jailed root), {} ioctl command(s) found in the module code; {:.0} ops/s; seed {}\n",
            r.ops,
            r.errors,
            r.devices.iter().map(|d| format!("/dev/{d}")).collect::<Vec<_>>().join(", "),
            r.commands.len(),
            r.ops_per_sec(),
            r.seed
        )
    };
    if let Some(fault) = r.fault {
        out.crashed = true;
        let loc = location(k, &fault);
        out.failures.push(Failure::Fault { cycle, file: fault_file(&fault), phase: Phase::Fuzz, fault, location: loc });
        return;
    } else if let Some(message) = r.failure {
        out.failures.push(Failure::Fuzz { cycle, message, seed });
        return;
    }
    // The sysctls the modules registered (kernel_sim::user::sysctl_fuzz): random writes of
    // 0..1 MiB, short reads, huge newlen/oldlen over short, unmapped or NULL user buffers,
    // 4 concurrent processes (uid 1001 and jailed root among them).
    let (names, r) = k.fuzz_sysctls(ops, seed);
    match r {
        Ok(_) if names.is_empty() => out.fuzz.push_str("no sysctls to fuzz (the modules registered none)\n"),
        Ok(st) => {
            out.fuzz.push_str(&format!(
                "{} sysctl requests ({} failed with an errno, {} with huge lengths or unmapped/NULL buffers) on {} from 4 processes (uid 1001 and jailed root among them); seed {seed}\n",
                st.requests,
                st.errors,
                st.huge,
                names.join(", ")
            ));
            if let Some(message) = st.failures.into_iter().next() {
                out.failures.push(Failure::Fuzz { cycle, message: format!("sysctl {message}"), seed });
            }
        }
        Err(fault) => {
            let fault = Box::new(fault);
            out.crashed = true;
            let loc = location(k, &fault);
            out.failures.push(Failure::Fault { cycle, file: fault_file(&fault), phase: Phase::Fuzz, fault, location: loc });
        }
    }
}

/// One `--exec` command and the credential it runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecStep {
    /// Credential (`--exec-as` before it; root by default).
    pub cred: Ucred,
    /// The command line.
    pub line: String,
}

/// Pairs the `--exec` and `--exec-as` arguments of a command line in their order: each
/// `--exec-as` applies to the `--exec`s after it.
pub fn steps_from_args(args: &[String]) -> Result<Vec<ExecStep>, String> {
    let mut cred = Ucred::root();
    let mut out = Vec::new();
    let mut dangling = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f == "--exec" || f == "--exec-as" => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        match flag {
            "--exec" | "--exec-as" => {
                let v = match inline {
                    Some(v) => v,
                    None => it.next().cloned().ok_or_else(|| format!("{flag} needs a value"))?,
                };
                if flag == "--exec" {
                    out.push(ExecStep { cred: cred.clone(), line: v });
                    dangling = None;
                } else {
                    cred = Ucred::parse(&v)?;
                    dangling = Some(v);
                }
            }
            "--" => break,
            _ => {}
        }
    }
    if let Some(v) = dangling {
        return Err(format!("--exec-as {v}: no --exec follows it (it applies to the --exec commands after it: `--exec-as {v} --exec 'CMD'`)"));
    }
    Ok(out)
}

/// `$ CMD` (with `uid N:` for non-root) and its output, for the report.
pub fn transcript(outs: &[(ExecStep, CommandOutput)]) -> String {
    let mut s = String::new();
    for (step, o) in outs {
        let who = if step.cred == Ucred::root() {
            String::new()
        } else {
            format!("[uid {}:{}{}] ", step.cred.uid, step.cred.gid, if step.cred.jailed { " jailed" } else { "" })
        };
        s.push_str(&format!("{who}$ {}\n", step.line));
        s.push_str(&String::from_utf8_lossy(&o.stdout));
        if !o.stdout.is_empty() && !o.stdout.ends_with(b"\n") {
            s.push('\n');
        }
        s.push_str(&o.stderr);
    }
    s
}

/// Run the commands in order, each in a new process; the first failing one fails the
/// cycle (the rest still run unless the kernel crashed).
pub fn run_execs(k: &mut Kernel, steps: &[ExecStep], cycle: u32, out: &mut Cycle) {
    for step in steps {
        let pid = k.spawn("sh", step.cred.clone());
        let o = k.run_command(pid, &step.line);
        let exit = k.exit_process(pid);
        let crashed = o.fault.is_some() || exit.is_err();
        if let Some(fault) = o.fault.clone().or(exit.err().map(Box::new)) {
            out.crashed = true;
            let loc = location(k, &fault);
            out.failures.push(Failure::Fault { cycle, file: fault_file(&fault), phase: Phase::Command, fault, location: loc });
        } else if o.status != 0 {
            out.failures.push(Failure::Command { cycle, line: step.line.clone(), status: o.status, stderr: o.stderr.clone() });
        }
        out.commands.push((step.clone(), o));
        if crashed {
            break;
        }
    }
}

fn fault_file(f: &kernel_sim::Fault) -> String {
    f.location.rsplit_once(" (").map(|(_, r)| r.trim_end_matches(')').to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_as_applies_to_following_commands() {
        let a: Vec<String> = ["run", "echo", "--exec", "cat /dev/x", "--exec-as", "1001", "--exec=cat /dev/y", "--exec-as=0:5", "--exec", "true"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = steps_from_args(&a).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].cred, Ucred::root());
        assert_eq!(s[1].cred, Ucred::user(1001, 1001));
        assert_eq!(s[1].line, "cat /dev/y");
        assert_eq!(s[2].cred, Ucred::user(0, 5));
        assert!(steps_from_args(&["--exec-as".into(), "bob".into()]).is_err());
        assert!(steps_from_args(&["--exec".into(), "true".into(), "--exec-as".into(), "5".into()]).unwrap_err().contains("no --exec follows"));
    }
}
