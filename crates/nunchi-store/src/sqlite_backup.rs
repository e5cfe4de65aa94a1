//! SQLite's online backup API, called through `libsqlite3-sys` because sqlx does not wrap
//! it. The copy is consistent while writers keep going: SQLite restarts the copy of pages
//! that change underneath it.
#![allow(unsafe_code)]

use std::{ffi::CString, path::Path, ptr};

use libsqlite3_sys as ffi;

use crate::{StoreError, StoreResult};

/// Copies the open database `src` to a new file at `path`.
pub(crate) fn copy_to(src: *mut ffi::sqlite3, path: &Path) -> StoreResult<()> {
    let fail =
        |what: &str| StoreError::Conflict(format!("backup to {} failed: {what}", path.display()));
    let c_path =
        CString::new(path.to_string_lossy().as_bytes()).map_err(|_| fail("path contains NUL"))?;
    let main = c"main";
    let mut dest: *mut ffi::sqlite3 = ptr::null_mut();
    // SAFETY: `src` is a live connection held locked by the caller for the whole call; `dest`
    // is opened here and closed on every path below; the strings outlive the calls.
    unsafe {
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE;
        if ffi::sqlite3_open_v2(c_path.as_ptr(), &mut dest, flags, ptr::null()) != ffi::SQLITE_OK {
            ffi::sqlite3_close(dest);
            return Err(fail("cannot create the file"));
        }
        let backup = ffi::sqlite3_backup_init(dest, main.as_ptr(), src, main.as_ptr());
        if backup.is_null() {
            ffi::sqlite3_close(dest);
            return Err(fail("cannot start"));
        }
        let mut rc;
        loop {
            rc = ffi::sqlite3_backup_step(backup, 1024);
            if rc == ffi::SQLITE_BUSY || rc == ffi::SQLITE_LOCKED {
                ffi::sqlite3_sleep(20);
                continue;
            }
            if rc != ffi::SQLITE_OK {
                break;
            }
        }
        ffi::sqlite3_backup_finish(backup);
        ffi::sqlite3_close(dest);
        if rc != ffi::SQLITE_DONE {
            return Err(fail(&format!("sqlite error {rc}")));
        }
    }
    Ok(())
}
