//! Reading a user's `~/.plan` safely.
//!
//! fingerd runs with privileges the user does not have, and the user controls their home
//! directory. The classic attacks are a `.plan` that is a symlink to a file the user may not read
//! (`/etc/shadow`), a hard link to one, a FIFO that hangs the daemon, or a huge file. So the file
//! is opened with `O_NOFOLLOW` (symlinks fail), `O_NONBLOCK` (a FIFO opens at once instead of
//! waiting for a writer) and `O_NOCTTY`, and then the *opened* file is checked: it must be a
//! regular file owned by the user. At most [`MAX_PLAN_BYTES`] are read.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use thiserror::Error;

/// The most of a plan that is shown.
pub const MAX_PLAN_BYTES: u64 = 4096;

/// Why a plan is not shown.
#[derive(Debug, Error)]
pub enum PlanError {
    /// The home directory is not an absolute path.
    #[error("home directory is not absolute")]
    BadHome,
    /// There is no `.plan`.
    #[error("no plan file")]
    Missing,
    /// `.plan` is a symbolic link.
    #[error("plan is a symbolic link")]
    Symlink,
    /// `.plan` is a directory, FIFO, device or socket.
    #[error("plan is not a regular file")]
    NotRegular,
    /// `.plan` belongs to someone else (perhaps a hard link to their file).
    #[error("plan is owned by uid {0}, not by the user")]
    WrongOwner(u32),
    /// Opening or reading failed otherwise.
    #[error("plan unreadable: {0}")]
    Io(#[from] io::Error),
}

/// The text of `home/.plan` for the user `uid`, decoded lossily and not yet cleaned of control
/// characters (the renderer does that).
pub fn read_plan(home: &Path, uid: u32) -> Result<String, PlanError> {
    if !home.is_absolute() {
        return Err(PlanError::BadHome);
    }
    let file = open_nofollow(&home.join(".plan"))?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(PlanError::NotRegular);
    }
    if meta.uid() != uid {
        return Err(PlanError::WrongOwner(meta.uid()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_PLAN_BYTES).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn open_nofollow(path: &Path) -> Result<File, PlanError> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => PlanError::Symlink,
            _ if e.kind() == io::ErrorKind::NotFound => PlanError::Missing,
            _ => PlanError::Io(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn my_uid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    #[test]
    fn reads_own_regular_plan() {
        let dir = TempDir::new("plan-ok");
        dir.write(".plan", b"Hello\n");
        assert_eq!(read_plan(dir.path(), my_uid()).unwrap(), "Hello\n");
    }

    #[test]
    fn truncates_big_plans() {
        let dir = TempDir::new("plan-big");
        dir.write(".plan", &vec![b'x'; 10_000]);
        assert_eq!(read_plan(dir.path(), my_uid()).unwrap().len(), 4096);
    }

    #[test]
    fn refuses_symlink() {
        let dir = TempDir::new("plan-link");
        let secret = dir.write("secret", b"root:$6$hash:::\n");
        std::os::unix::fs::symlink(&secret, dir.path().join(".plan")).unwrap();
        assert!(matches!(
            read_plan(dir.path(), my_uid()),
            Err(PlanError::Symlink)
        ));
    }

    #[test]
    fn refuses_someone_elses_file() {
        // A hard link to another user's file looks like a regular file but has their owner.
        let dir = TempDir::new("plan-owner");
        dir.write(".plan", b"not yours\n");
        let other = my_uid().wrapping_add(1);
        assert!(matches!(
            read_plan(dir.path(), other),
            Err(PlanError::WrongOwner(_))
        ));
    }

    #[test]
    fn refuses_fifo_without_hanging() {
        let dir = TempDir::new("plan-fifo");
        let path = dir.path().join(".plan");
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_plan(dir.path(), my_uid()),
            Err(PlanError::NotRegular)
        ));
    }

    #[test]
    fn missing_and_bad_home() {
        let dir = TempDir::new("plan-none");
        assert!(matches!(
            read_plan(dir.path(), my_uid()),
            Err(PlanError::Missing)
        ));
        assert!(matches!(
            read_plan(Path::new("relative/home"), my_uid()),
            Err(PlanError::BadHome)
        ));
        std::fs::create_dir(dir.path().join(".plan")).unwrap();
        assert!(matches!(
            read_plan(dir.path(), my_uid()),
            Err(PlanError::NotRegular)
        ));
    }
}
