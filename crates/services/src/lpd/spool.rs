//! The spool: one directory per queue, one directory per job in it (named so that they sort
//! in arrival order), filled in a hidden directory while the job arrives and renamed into the
//! queue when it is complete.

use std::io;
use std::path::{Path, PathBuf};

use crate::unique::unique_name;

/// Whether `name` is a safe queue or file name: 1 to 64 of letters, digits, `-`, `_`, `.`,
/// not starting with a dot.
pub(super) fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// One queue's directory.
pub struct Spool {
    dir: PathBuf,
}

/// A job as the queue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its directory.
    pub dir: PathBuf,
    /// The job number the client gave (the digits of `cfA123host`).
    pub number: u32,
    /// The submitting user (the control file's `P`).
    pub owner: String,
    /// The documents' names (`N` lines, else the data files') and sizes.
    pub files: Vec<(String, u64)>,
    /// The data files.
    pub data: Vec<PathBuf>,
}

/// A job being received.
pub struct Partial {
    dir: PathBuf,
    queue: PathBuf,
    done: bool,
}

impl Spool {
    /// The queue `queue` under `root`; `None` for a name that is not safe.
    pub fn new(root: &Path, queue: &str) -> Option<Spool> {
        name_ok(queue).then(|| Spool {
            dir: root.join(queue),
        })
    }

    /// Starts receiving a job.
    pub async fn begin(&self) -> io::Result<Partial> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let dir = self.dir.join(format!(".incoming-{}", unique_name()));
        tokio::fs::create_dir(&dir).await?;
        Ok(Partial {
            dir,
            queue: self.dir.clone(),
            done: false,
        })
    }

    /// The jobs in the queue, in arrival order.
    pub async fn jobs(&self) -> Vec<Job> {
        let Ok(mut rd) = tokio::fs::read_dir(&self.dir).await else {
            return Vec::new();
        };
        let mut dirs = Vec::new();
        while let Ok(Some(e)) = rd.next_entry().await {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("job-") {
                dirs.push(e.path());
            }
        }
        dirs.sort();
        let mut jobs = Vec::new();
        for d in dirs {
            if let Some(j) = read_job(&d).await {
                jobs.push(j);
            }
        }
        jobs
    }

    /// The queue state: BSD lpq's short form, or its long form. `which` (job numbers or users)
    /// narrows it.
    pub async fn status(&self, long: bool, which: &[&str]) -> String {
        let jobs: Vec<Job> = self
            .jobs()
            .await
            .into_iter()
            .filter(|j| which.is_empty() || which.iter().any(|w| matches(j, w)))
            .collect();
        if jobs.is_empty() {
            return "no entries\n".into();
        }
        let mut out = String::new();
        if !long {
            out.push_str(
                "Rank   Owner      Job  Files                                 Total Size\n",
            );
        }
        for (i, j) in jobs.iter().enumerate() {
            let rank = ordinal(i + 1);
            let total: u64 = j.files.iter().map(|f| f.1).sum();
            if long {
                out.push_str(&format!("{}: {rank:<36} [job {:03}]\n", j.owner, j.number));
                for (name, size) in &j.files {
                    out.push_str(&format!("        {name:<32} {size} bytes\n"));
                }
            } else {
                let names: Vec<&str> = j.files.iter().map(|f| f.0.as_str()).collect();
                out.push_str(&format!(
                    "{rank:<7}{:<11}{:<5}{:<38}{total} bytes\n",
                    j.owner,
                    j.number,
                    names.join(", ")
                ));
            }
        }
        out
    }

    /// Removes, for `agent`, the jobs `which` names (numbers or users; none: the agent's
    /// first job). Only the agent's own jobs go, unless the agent is root.
    pub async fn remove(&self, agent: &str, which: &[&str]) -> String {
        let mut out = String::new();
        let jobs = self.jobs().await;
        let mut chosen: Vec<&Job> = if which.is_empty() {
            jobs.iter().filter(|j| j.owner == agent).take(1).collect()
        } else {
            jobs.iter()
                .filter(|j| which.iter().any(|w| matches(j, w)))
                .collect()
        };
        chosen.retain(|j| j.owner == agent || agent == "root");
        for j in chosen {
            if tokio::fs::remove_dir_all(&j.dir).await.is_ok() {
                out.push_str(&format!("job {:03} dequeued\n", j.number));
            }
        }
        out
    }

    /// Runs `command` with the job's data files appended; when it succeeds, the job leaves
    /// the queue.
    pub async fn print(&self, command: &[String], job: &Job) -> io::Result<()> {
        let Some((program, args)) = command.split_first() else {
            return Ok(());
        };
        let status = tokio::process::Command::new(program)
            .args(args)
            .args(&job.data)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await?;
        if status.success() {
            tokio::fs::remove_dir_all(&job.dir).await?;
        }
        Ok(())
    }
}

fn matches(j: &Job, w: &str) -> bool {
    w.parse::<u32>().is_ok_and(|n| n == j.number) || j.owner == w
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, x) if x != 11 => "st",
        (2, x) if x != 12 => "nd",
        (3, x) if x != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Reads a job's control file (`cf*`) and data files.
async fn read_job(dir: &Path) -> Option<Job> {
    let mut rd = tokio::fs::read_dir(dir).await.ok()?;
    let (mut control, mut data) = (None, Vec::new());
    while let Ok(Some(e)) = rd.next_entry().await {
        let name = e.file_name().to_string_lossy().into_owned();
        let size = e.metadata().await.map_or(0, |m| m.len());
        if name.starts_with("cf") {
            control = Some(name);
        } else if name.starts_with("df") {
            data.push((name, size));
        }
    }
    let control = control?;
    data.sort();
    let text = tokio::fs::read_to_string(dir.join(&control))
        .await
        .unwrap_or_default();
    let owner = text
        .lines()
        .find_map(|l| l.strip_prefix('P'))
        .map(super::clean)
        .unwrap_or_else(|| "unknown".into());
    let titles: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix('N'))
        .map(super::clean)
        .collect();
    let number = control.get(3..6).and_then(|n| n.parse().ok()).unwrap_or(0);
    let files = data
        .iter()
        .enumerate()
        .map(|(i, (name, size))| {
            (
                titles.get(i).cloned().unwrap_or_else(|| name.clone()),
                *size,
            )
        })
        .collect();
    Some(Job {
        dir: dir.to_path_buf(),
        number,
        owner,
        files,
        data: data.iter().map(|(n, _)| dir.join(n)).collect(),
    })
}

impl Partial {
    /// Stores one file of the job (`name` checked by the caller).
    pub async fn put(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        tokio::fs::write(self.dir.join(name), bytes).await
    }

    /// Drops what was received.
    pub async fn abort(mut self) {
        self.done = true;
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
    }

    /// Puts the job in the queue when it is complete (a control file and a data file), else
    /// drops it.
    pub async fn commit(mut self) -> io::Result<Option<Job>> {
        self.done = true;
        let complete = read_job(&self.dir)
            .await
            .is_some_and(|j| !j.data.is_empty());
        if !complete {
            let _ = tokio::fs::remove_dir_all(&self.dir).await;
            return Ok(None);
        }
        let target = self.queue.join(format!("job-{}", unique_name()));
        tokio::fs::rename(&self.dir, &target).await?;
        Ok(read_job(&target).await)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_spool_are_refused() {
        for ok in ["lp", "cfA123host", "dfA001my-host.example"] {
            assert!(name_ok(ok), "{ok}");
        }
        for bad in ["", "..", ".hidden", "a/b", "../x", "a b", &"x".repeat(65)] {
            assert!(!name_ok(bad), "{bad:?}");
        }
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(23), "23rd");
    }
}
