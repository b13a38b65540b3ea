//! `sysctl` in the `--exec` runner: a thin adapter from cdev-sim's [`Shell`] to sysctl-sim's
//! `sysctl(8)` implementation (`crate::user_sysctl::run`), with the process's credential.
//! Added by the timers branch so that `--exec 'sysctl debug.ticker.ticks'` works; when
//! sysctl-sim plugs its command into the runner itself, this file and its `COMMANDS` line
//! go away.

use super::shell::Shell;
use crate::kern::kern_sysctl::SysctlCred;

/// `sysctl [-nq] NAME[=VALUE]...`.
pub fn run(sh: &mut Shell<'_>, argv: &[String]) -> i32 {
    let cred = crate::kern::with(|k| k.user.procs.get(&sh.pid).map(|p| p.cred.clone()).unwrap_or_default());
    let cred = SysctlCred { uid: cred.uid, jailed: cred.jailed };
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    match crate::user_sysctl::run(sh.k, &args, cred) {
        Ok(o) => {
            let printed = sh.print(o.stdout.as_bytes());
            sh.err.push_str(&o.stderr);
            if printed.is_err() { 1 } else { o.status }
        }
        Err(f) => {
            sh.fault = Some(Box::new(f));
            1
        }
    }
}
