//! Where a requested file is: always inside the root, whatever the name says (`..`, an
//! absolute path, a symbolic link that points out).

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a name is refused.
#[derive(Debug)]
pub enum Refused {
    /// The name leaves the root or is not a plain relative path.
    Outside,
    /// The file (or its directory) does not exist.
    NotFound,
    /// Another failure reading the file system.
    Io(io::Error),
}

/// The path of `name` under `root`, checked lexically: a leading `/` is taken as the root
/// itself (clients often send absolute names), `.` is skipped, and anything else but plain
/// names (`..`, a drive prefix) is refused.
fn lexical(root: &Path, name: &str) -> Result<PathBuf, Refused> {
    let relative = name.trim_start_matches('/');
    if relative.is_empty() || relative.contains('\0') {
        return Err(Refused::Outside);
    }
    let mut out = root.to_path_buf();
    for c in Path::new(relative).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return Err(Refused::Outside),
        }
    }
    Ok(out)
}

/// Whether `path` (canonical) is `root` (canonical) or below it.
fn within(root: &Path, path: &Path) -> bool {
    path.starts_with(root)
}

fn io(e: io::Error) -> Refused {
    if e.kind() == io::ErrorKind::NotFound {
        Refused::NotFound
    } else {
        Refused::Io(e)
    }
}

/// An existing file to read: its canonical path, inside the root's.
pub fn for_reading(root: &Path, name: &str) -> Result<PathBuf, Refused> {
    let root = root.canonicalize().map_err(io)?;
    let path = lexical(&root, name)?.canonicalize().map_err(io)?;
    if !within(&root, &path) {
        return Err(Refused::Outside);
    }
    Ok(path)
}

/// A file to write: its path (its directory canonical and inside the root's), and whether it
/// exists already.
pub fn for_writing(root: &Path, name: &str) -> Result<(PathBuf, bool), Refused> {
    let root = root.canonicalize().map_err(io)?;
    let path = lexical(&root, name)?;
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
        return Err(Refused::Outside);
    };
    let dir = dir.canonicalize().map_err(io)?;
    if !within(&root, &dir) {
        return Err(Refused::Outside);
    }
    let path = dir.join(file);
    match std::fs::symlink_metadata(&path) {
        // A link could point anywhere: written through, it would escape the root.
        Ok(m) if m.file_type().is_symlink() => Err(Refused::Outside),
        Ok(m) if !m.is_file() => Err(Refused::Outside),
        Ok(_) => Ok((path, true)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((path, false)),
        Err(e) => Err(Refused::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_root() {
        let base = std::env::temp_dir().join(format!("maynard-tftp-path-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.bin"), b"a").unwrap();
        std::fs::write(base.join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(base.join("secret"), root.join("out")).unwrap();
        let root_c = root.canonicalize().unwrap();
        assert_eq!(
            for_reading(&root, "sub/a.bin").unwrap(),
            root_c.join("sub/a.bin")
        );
        assert_eq!(
            for_reading(&root, "/sub/./a.bin").unwrap(),
            root_c.join("sub/a.bin")
        );
        for bad in ["../secret", "sub/../../secret", "out", "", "/"] {
            assert!(
                matches!(for_reading(&root, bad), Err(Refused::Outside)),
                "{bad:?} was not refused"
            );
        }
        assert!(matches!(
            for_reading(&root, "nothing"),
            Err(Refused::NotFound)
        ));
        assert_eq!(
            for_writing(&root, "new.bin").unwrap(),
            (root_c.join("new.bin"), false)
        );
        assert!(for_writing(&root, "sub/a.bin").unwrap().1);
        assert!(matches!(for_writing(&root, "out"), Err(Refused::Outside)));
        assert!(matches!(for_writing(&root, "sub"), Err(Refused::Outside)));
        assert!(matches!(for_writing(&root, "../x"), Err(Refused::Outside)));
        assert!(matches!(
            for_writing(&root, "nodir/x"),
            Err(Refused::NotFound)
        ));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
