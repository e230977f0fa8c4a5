//! Where the cores went during a measured window, read from `/proc` (Linux): the whole
//! machine's busy time (the shop, its databases and its broker together), this process's,
//! and that of the load client's own threads, so the shop's share is the process's less
//! the client's. Also the process's peak resident memory within the window.

use std::collections::BTreeMap;
use std::time::Duration;

/// Kernel clock ticks per second (`getconf CLK_TCK`), 100 on every Linux we run on.
const TICKS_PER_SECOND: u64 = 100;

/// CPU counters at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    machine_busy: u64,
    process: u64,
    client: u64,
}

/// CPU time spent between two snapshots.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spent {
    pub machine: Duration,
    pub process: Duration,
    pub client: Duration,
}

impl Spent {
    /// The shop's share: the process less its load client.
    pub fn shop(&self) -> Duration {
        self.process.saturating_sub(self.client)
    }
}

/// Reads the counters now; `client_thread` is the name prefix of the load client's
/// threads. Zeros where `/proc` cannot be read (not Linux).
pub fn snapshot(client_thread: &str) -> Snapshot {
    Snapshot {
        machine_busy: machine_busy().unwrap_or(0),
        process: ticks_of("/proc/self/stat").unwrap_or(0),
        client: client_ticks(client_thread),
    }
}

impl Snapshot {
    pub fn until(&self, later: &Snapshot) -> Spent {
        let d =
            |a: u64, b: u64| Duration::from_millis(b.saturating_sub(a) * 1000 / TICKS_PER_SECOND);
        Spent {
            machine: d(self.machine_busy, later.machine_busy),
            process: d(self.process, later.process),
            client: d(self.client, later.client),
        }
    }
}

/// Busy ticks of all cores: everything but idle and I/O wait.
fn machine_busy() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let f: Vec<u64> = cpu
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    Some(f.iter().take(8).sum::<u64>() - f.get(3)? - f.get(4)?)
}

/// utime + stime of a `stat` file (a process or one of its threads).
fn ticks_of(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn client_ticks(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.trim_end().starts_with(prefix))
        })
        .filter_map(|t| ticks_of(&t.path().join("stat").to_string_lossy()))
        .sum()
}

/// Every thread of this process now: its id, its name and its CPU ticks so far.
pub fn thread_ticks() -> BTreeMap<u64, (String, u64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return BTreeMap::new();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let tid = t.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(t.path().join("comm")).ok()?;
            let ticks = ticks_of(&t.path().join("stat").to_string_lossy())?;
            Some((tid, (name.trim_end().to_owned(), ticks)))
        })
        .collect()
}

/// Milliseconds in `ticks` clock ticks.
pub fn ticks_to_ms(ticks: u64) -> u64 {
    ticks * 1000 / TICKS_PER_SECOND
}

/// Starts a new peak-memory window: the kernel sets the peak back to the current size.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory since the last reset, in bytes.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The process's resident memory now, in bytes.
pub fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
