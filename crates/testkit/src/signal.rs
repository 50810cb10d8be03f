//! Sending signals to the processes a test started.
//!
//! Done with a system call rather than the `kill` program on purpose:
//! procps-ng 4.0.2 (Debian 12) reads `kill -KILL -1234` as `kill(-1, SIGKILL)`,
//! which takes down every process the user may signal, the test runner and CI
//! included. A typed pid cannot be misparsed.

use rustix::process::{kill_process, kill_process_group, Pid, Signal};

fn pid(raw: u32) -> anyhow::Result<Pid> {
    i32::try_from(raw)
        .ok()
        .and_then(Pid::from_raw)
        .filter(|p| p.as_raw_nonzero().get() > 1)
        .ok_or_else(|| anyhow::anyhow!("refusing to signal pid {raw}"))
}

/// SIGKILL to the process group led by `leader` (a child spawned with
/// `process_group(0)`): Terraform and the providers it started die at once.
pub fn kill_group(leader: u32) -> anyhow::Result<()> {
    kill_process_group(pid(leader)?, Signal::KILL)
        .map_err(|e| anyhow::anyhow!("SIGKILL to process group {leader}: {e}"))
}

/// SIGTERM to one process.
pub fn terminate(process: u32) -> anyhow::Result<()> {
    kill_process(pid(process)?, Signal::TERM).map_err(|e| anyhow::anyhow!("SIGTERM to {process}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_that_mean_everyone_or_init_are_refused() {
        assert!(pid(0).is_err());
        assert!(pid(1).is_err());
        assert!(pid(u32::MAX).is_err());
        assert!(pid(4242).is_ok());
    }

    #[test]
    fn a_group_is_killed_and_its_members_die() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .expect("spawn sleep");
        kill_group(child.id()).expect("kill group");
        let status = child.wait().expect("wait");
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    }
}
