//! Checkpoint storage on disk for the two-level (RAM + disk) strategy.
//!
//! [`StateBytes`] turns a forward state into bytes and back (implemented here for the acoustic and diffusion
//! states, so the forward crate need not know about files). [`DiskStore`] keeps one file per disk slot in a private
//! subdirectory it creates inside a user-chosen directory; every snapshot is written to a temporary file and renamed
//! over the slot's file, so a slot file is never half-written; the files and the subdirectory are removed when the
//! store is dropped (also when a run fails half-way). Every filesystem failure (missing or unwritable directory, a
//! full disk) comes back as a [`DriverError::Disk`] naming the directory and the operating system's reason.

use crate::driver::DriverError;
use pdeinv_forward::Real;
use pdeinv_forward::acoustic::AcousticState;
use pdeinv_forward::diffusion::DiffusionState;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A forward state that can be written to bytes and read back bit for bit (for checkpoints on disk).
pub trait StateBytes {
    /// Append the state's bytes to `out`.
    fn write_to(&self, out: &mut Vec<u8>);
    /// Overwrite `self` with the state encoded in `bytes` (as written by [`StateBytes::write_to`] from a state of
    /// the same shape); an error of kind `InvalidData` if `bytes` does not fit that shape.
    fn read_from(&mut self, bytes: &[u8]) -> io::Result<()>;
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("checkpoint file does not hold a state of this shape ({what})"))
}

/// Writes `values` as its length (u64, little endian) followed by the values in little endian, at their own width.
fn write_reals<T: Real>(values: &[T], out: &mut Vec<u8>) {
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    if std::mem::size_of::<T>() == 4 {
        // f32: the round trip through f64 is exact
        out.reserve(4 * values.len());
        for v in values {
            out.extend_from_slice(&(v.as_f64() as f32).to_le_bytes());
        }
    } else {
        out.reserve(8 * values.len());
        for v in values {
            out.extend_from_slice(&v.as_f64().to_le_bytes());
        }
    }
}

/// Reads what [`write_reals`] wrote into `values` (whose length must match); returns the rest of `bytes`.
fn read_reals<'a, T: Real>(values: &mut [T], bytes: &'a [u8]) -> io::Result<&'a [u8]> {
    let (len, rest) = bytes.split_first_chunk::<8>().ok_or_else(|| invalid("truncated length"))?;
    if u64::from_le_bytes(*len) != values.len() as u64 {
        return Err(invalid("array length"));
    }
    let width = std::mem::size_of::<T>();
    let total = std::mem::size_of_val(values);
    if rest.len() < total {
        return Err(invalid("truncated values"));
    }
    let (data, rest) = rest.split_at(total);
    if width == 4 {
        for (v, chunk) in values.iter_mut().zip(data.chunks_exact(4)) {
            *v = T::of(f64::from(f32::from_le_bytes(chunk.try_into().map_err(|_| invalid("value"))?)));
        }
    } else {
        for (v, chunk) in values.iter_mut().zip(data.chunks_exact(8)) {
            *v = T::of(f64::from_le_bytes(chunk.try_into().map_err(|_| invalid("value"))?));
        }
    }
    Ok(rest)
}

impl<T: Real> StateBytes for AcousticState<T> {
    fn write_to(&self, out: &mut Vec<u8>) {
        for field in [&*self.u, &*self.u_prev, &*self.psi_x, &*self.zeta_x, &*self.psi_z, &*self.zeta_z] {
            write_reals(field, out);
        }
    }

    fn read_from(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        for field in
            [&mut *self.u, &mut *self.u_prev, &mut *self.psi_x, &mut *self.zeta_x, &mut *self.psi_z, &mut *self.zeta_z]
        {
            rest = read_reals(field, rest)?;
        }
        if rest.is_empty() { Ok(()) } else { Err(invalid("trailing bytes")) }
    }
}

impl StateBytes for DiffusionState {
    fn write_to(&self, out: &mut Vec<u8>) {
        write_reals(&self.u, out);
    }

    /// Overwrites `u` only (the step scratch is not part of a checkpoint).
    fn read_from(&mut self, bytes: &[u8]) -> io::Result<()> {
        let rest = read_reals(&mut self.u, bytes)?;
        if rest.is_empty() { Ok(()) } else { Err(invalid("trailing bytes")) }
    }
}

/// Distinguishes the subdirectories of stores created by one process.
static NEXT_STORE: AtomicUsize = AtomicUsize::new(0);

/// Checkpoint slots held as files in a private subdirectory (see the module documentation).
#[derive(Debug)]
pub struct DiskStore {
    /// The directory the user named (for messages).
    parent: PathBuf,
    /// The private subdirectory holding the slot files.
    dir: PathBuf,
    /// Bytes of the file of each slot (`None`: empty).
    sizes: Vec<Option<usize>>,
    /// Reused encoding/decoding buffer.
    buffer: Vec<u8>,
    /// Bytes held in slot files now, and at most.
    held: usize,
    peak: usize,
}

impl DiskStore {
    /// Create a store of `slots` slots in a new private subdirectory of `parent` (which must exist and be writable).
    pub fn create(parent: &Path, slots: usize) -> Result<DiskStore, DriverError> {
        let fail = |action: &str, error: io::Error| DriverError::Disk {
            dir: parent.to_path_buf(),
            action: action.to_string(),
            reason: error.to_string(),
        };
        let metadata = std::fs::metadata(parent).map_err(|e| fail("cannot use it for checkpoints", e))?;
        if !metadata.is_dir() {
            return Err(DriverError::Disk {
                dir: parent.to_path_buf(),
                action: "cannot use it for checkpoints".into(),
                reason: "not a directory".into(),
            });
        }
        loop {
            let name =
                format!("pdeinv-checkpoints-{}-{}", std::process::id(), NEXT_STORE.fetch_add(1, Ordering::Relaxed));
            let dir = parent.join(name);
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&dir) {
                Ok(()) => {
                    return Ok(DiskStore {
                        parent: parent.to_path_buf(),
                        dir,
                        sizes: vec![None; slots],
                        buffer: Vec::new(),
                        held: 0,
                        peak: 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail("cannot create a checkpoint subdirectory in it", e)),
            }
        }
    }

    /// The private subdirectory holding the slot files.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Bytes held in slot files now.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// The most bytes held in slot files at once.
    pub fn peak_bytes(&self) -> usize {
        self.peak
    }

    /// Whether `slot` holds a state.
    pub fn holds(&self, slot: usize) -> bool {
        self.sizes.get(slot).is_some_and(Option::is_some)
    }

    fn slot_file(&self, slot: usize) -> PathBuf {
        self.dir.join(format!("slot-{slot}.bin"))
    }

    fn error(&self, action: String, error: &io::Error) -> DriverError {
        DriverError::Disk { dir: self.parent.clone(), action, reason: error.to_string() }
    }

    fn check_slot(&self, slot: usize) -> Result<(), DriverError> {
        if slot < self.sizes.len() {
            Ok(())
        } else {
            Err(DriverError::Action(format!("disk slot {slot} out of range ({} disk slots)", self.sizes.len())))
        }
    }

    /// Write `state` into `slot` (atomically: a temporary file renamed over the slot's file).
    pub fn store<S: StateBytes>(&mut self, slot: usize, state: &S) -> Result<(), DriverError> {
        self.check_slot(slot)?;
        let mut bytes = std::mem::take(&mut self.buffer);
        bytes.clear();
        state.write_to(&mut bytes);
        let target = self.slot_file(slot);
        let temporary = self.dir.join(format!("slot-{slot}.tmp"));
        let written = write_then_rename(&temporary, &target, &bytes);
        let size = bytes.len();
        self.buffer = bytes;
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(self.error(format!("cannot write checkpoint file {}", target.display()), &e));
        }
        if let Some(old) = self.sizes[slot].replace(size) {
            self.held -= old;
        }
        self.held += size;
        self.peak = self.peak.max(self.held);
        Ok(())
    }

    /// Overwrite `state` with the copy in `slot`.
    pub fn restore<S: StateBytes>(&mut self, slot: usize, state: &mut S) -> Result<(), DriverError> {
        self.check_slot(slot)?;
        if self.sizes[slot].is_none() {
            return Err(DriverError::Action(format!("restore of the empty disk slot {slot}")));
        }
        let target = self.slot_file(slot);
        let mut bytes = std::mem::take(&mut self.buffer);
        bytes.clear();
        let read = std::fs::File::open(&target)
            .and_then(|mut file| io::Read::read_to_end(&mut file, &mut bytes))
            .and_then(|_| state.read_from(&bytes));
        self.buffer = bytes;
        read.map_err(|e| self.error(format!("cannot read checkpoint file {}", target.display()), &e))
    }

    /// Empty `slot` (its file is removed); nothing happens for an empty slot.
    pub fn free(&mut self, slot: usize) -> Result<(), DriverError> {
        self.check_slot(slot)?;
        if let Some(size) = self.sizes[slot].take() {
            self.held -= size;
            let target = self.slot_file(slot);
            std::fs::remove_file(&target)
                .map_err(|e| self.error(format!("cannot remove checkpoint file {}", target.display()), &e))?;
        }
        Ok(())
    }
}

impl Drop for DiskStore {
    /// Removes the slot files and the private subdirectory (errors are ignored: nothing can be done about them).
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Write `bytes` to `temporary`, then rename it over `target`. Scratch checkpoints never outlive the run, so no
/// `fsync`: the rename alone guarantees that the slot file is either the old or the new snapshot.
fn write_then_rename(temporary: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::create(temporary)?;
    file.write_all(bytes)?;
    file.flush()?;
    drop(file);
    std::fs::rename(temporary, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdeinv_forward::aligned::AlignedVec;

    #[test]
    fn a_full_disk_is_an_error_not_a_panic() {
        // /dev/full accepts the open and fails every write with ENOSPC
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let error = write_then_rename(full, Path::new("/nonexistent/never"), &[1u8; 4096]).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(28), "{error}");
    }

    #[test]
    fn states_round_trip_bitwise_and_wrong_shapes_are_rejected() {
        let state = AcousticState::<f32> {
            u: AlignedVec::from_slice(&[1.5, -0.0, f32::MIN_POSITIVE], 0),
            u_prev: AlignedVec::from_slice(&[2.0], 0),
            psi_x: AlignedVec::default(),
            zeta_x: AlignedVec::from_slice(&[3.25; 4], 0),
            psi_z: AlignedVec::from_slice(&[1e-30], 0),
            zeta_z: AlignedVec::from_slice(&[7.0, 8.0], 0),
        };
        let mut bytes = Vec::new();
        state.write_to(&mut bytes);
        let mut copy = state.clone();
        copy.u.iter_mut().for_each(|v| *v = 9.0);
        copy.read_from(&bytes).unwrap();
        assert_eq!(
            copy.u.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            vec![1.5f32.to_bits(), (-0.0f32).to_bits(), f32::MIN_POSITIVE.to_bits()]
        );
        assert_eq!(copy.zeta_z, state.zeta_z);
        let mut other = state.clone();
        other.u = AlignedVec::from_slice(&[1.5, -0.0, f32::MIN_POSITIVE, 1.0], 0);
        assert_eq!(other.read_from(&bytes).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert!(copy.read_from(&bytes[..bytes.len() - 1]).is_err());
    }
}
