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

/// SIGKILL to every descendant of `root` whose command line contains `needle`
/// (say, the provider plugins a Terraform run started), leaving `root` alive.
/// Returns how many were killed; zero when none runs right now.
pub fn kill_descendants(root: u32, needle: &str) -> anyhow::Result<usize> {
    let mut killed = 0;
    for (pid, cmdline) in processes() {
        if pid != root
            && cmdline.contains(needle)
            && descends_from(pid, root)
            && kill_process(self::pid(pid)?, Signal::KILL).is_ok()
        {
            killed += 1;
        }
    }
    Ok(killed)
}

/// Every process visible in /proc with its NUL-separated command line joined by spaces.
fn processes() -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            Some((pid, String::from_utf8_lossy(&raw).replace('\0', " ")))
        })
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

fn descends_from(mut pid: u32, root: u32) -> bool {
    for _ in 0..64 {
        match parent_of(pid) {
            Some(parent) if parent == root => return true,
            Some(parent) if parent > 1 => pid = parent,
            _ => return false,
        }
    }
    false
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

    #[test]
    fn only_matching_descendants_are_killed() {
        let mut parent = std::process::Command::new("sh")
            .args(["-c", "sleep 31 & sleep 32 & wait"])
            .spawn()
            .expect("spawn sh");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while processes().iter().filter(|(p, c)| c.starts_with("sleep 3") && descends_from(*p, parent.id())).count() < 2 {
            assert!(std::time::Instant::now() < deadline, "sleeps did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(kill_descendants(parent.id(), "sleep 31").expect("kill"), 1);
        let left: Vec<String> = processes()
            .into_iter()
            .filter(|(p, _)| descends_from(*p, parent.id()))
            .map(|(_, c)| c)
            .collect();
        assert!(left.iter().any(|c| c.starts_with("sleep 32")), "{left:?}");
        reap(&mut parent);
    }

    fn reap(child: &mut std::process::Child) {
        let _ = kill_descendants(child.id(), "sleep");
        let _ = child.kill();
        let _ = child.wait();
    }
}
