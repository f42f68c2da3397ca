//! Raw binary float import: a headerless file of `nz * nx` IEEE floats (f32
//! or f64, little or big endian) in either trace order, returned as a
//! row-major `[nz, nx]` array (x fastest), the layout of every pdeinv model.
//!
//! Non-finite values are passed through unchanged; the caller validates the
//! model values.

use crate::error::IoError;
use std::path::Path;

/// The order of the samples in a raw file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawOrder {
    /// Column-major: each trace of `nz` values along depth is contiguous
    /// (z varies fastest), as in most seismic model files.
    ZFast,
    /// Row-major `[nz, nx]`: each depth row of `nx` values is contiguous
    /// (x varies fastest), pdeinv's own layout.
    XFast,
}

/// Byte order of the values in a raw file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first (x86, ARM).
    Little,
    /// Most significant byte first (SEG-Y, old workstations).
    Big,
}

/// The type of each value in a raw file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawType {
    /// 4-byte IEEE single precision.
    #[default]
    F32,
    /// 8-byte IEEE double precision.
    F64,
}

impl RawType {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            RawType::F32 => 4,
            RawType::F64 => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RawType::F32 => "f32",
            RawType::F64 => "f64",
        }
    }
}

/// How to interpret a raw binary file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSpec {
    /// `[nz, nx]`: samples along depth and along x.
    pub shape: [usize; 2],
    /// Which axis varies fastest in the file.
    pub order: RawOrder,
    /// Byte order.
    pub endian: Endian,
    /// Value type.
    pub value_type: RawType,
}

/// Read a raw binary float file described by `spec` and return its values as
/// f64 in row-major `[nz, nx]` order (x fastest), whatever the file order.
///
/// The file size must be exactly `nz * nx * bytes_per_value`.
pub fn read_raw(path: &Path, spec: &RawSpec) -> Result<Vec<f64>, IoError> {
    let [nz, nx] = spec.shape;
    let value_size = spec.value_type.size();
    if nz == 0 || nx == 0 {
        return Err(IoError::format(
            path,
            format!("raw shape [nz, nx] = [{nz}, {nx}] is empty; both nz and nx must be at least 1"),
        ));
    }
    let count = nz.checked_mul(nx);
    let expected = count.and_then(|c| c.checked_mul(value_size));
    let (Some(count), Some(expected)) = (count, expected) else {
        return Err(IoError::format(
            path,
            format!("raw shape [nz, nx] = [{nz}, {nx}] is too large to address; check the shape"),
        ));
    };

    // Check the size before reading so a wrong shape on a huge file fails fast.
    let metadata = std::fs::metadata(path).map_err(|e| IoError::file(path, "cannot read", e))?;
    let size_mismatch = |actual: u64| {
        IoError::format(
            path,
            format!(
                "raw file is {actual} bytes but shape [nz, nx] = [{nz}, {nx}] of {} needs {nz} * {nx} * {value_size} = {expected} bytes; check the shape and value type",
                spec.value_type.name()
            ),
        )
    };
    if metadata.len() != expected as u64 {
        return Err(size_mismatch(metadata.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| IoError::file(path, "cannot read", e))?;
    if bytes.len() != expected {
        return Err(size_mismatch(bytes.len() as u64));
    }

    let file_values: Vec<f64> = match spec.value_type {
        RawType::F32 => bytes
            .chunks_exact(4)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3]];
                f64::from(match spec.endian {
                    Endian::Little => f32::from_le_bytes(b),
                    Endian::Big => f32::from_be_bytes(b),
                })
            })
            .collect(),
        RawType::F64 => bytes
            .chunks_exact(8)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
                match spec.endian {
                    Endian::Little => f64::from_le_bytes(b),
                    Endian::Big => f64::from_be_bytes(b),
                }
            })
            .collect(),
    };
    debug_assert_eq!(file_values.len(), count);

    Ok(match spec.order {
        RawOrder::XFast => file_values,
        RawOrder::ZFast => {
            // File index ix * nz + iz -> model index iz * nx + ix.
            let mut values = vec![0.0; count];
            for (ix, trace) in file_values.chunks_exact(nz).enumerate() {
                for (iz, &v) in trace.iter().enumerate() {
                    values[iz * nx + ix] = v;
                }
            }
            values
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Model value at (iz, ix), exactly representable in f32.
    fn value(iz: usize, ix: usize) -> f64 {
        1500.0 + 10.0 * iz as f64 + 0.25 * ix as f64 - if (iz + ix).is_multiple_of(3) { 4000.0 } else { 0.0 }
    }

    fn encode(spec: &RawSpec) -> Vec<u8> {
        let [nz, nx] = spec.shape;
        let mut ordered = Vec::new();
        match spec.order {
            RawOrder::XFast => {
                for iz in 0..nz {
                    for ix in 0..nx {
                        ordered.push(value(iz, ix));
                    }
                }
            }
            RawOrder::ZFast => {
                for ix in 0..nx {
                    for iz in 0..nz {
                        ordered.push(value(iz, ix));
                    }
                }
            }
        }
        let mut bytes = Vec::new();
        for v in ordered {
            match (spec.value_type, spec.endian) {
                (RawType::F32, Endian::Little) => bytes.extend_from_slice(&(v as f32).to_le_bytes()),
                (RawType::F32, Endian::Big) => bytes.extend_from_slice(&(v as f32).to_be_bytes()),
                (RawType::F64, Endian::Little) => bytes.extend_from_slice(&v.to_le_bytes()),
                (RawType::F64, Endian::Big) => bytes.extend_from_slice(&v.to_be_bytes()),
            }
        }
        bytes
    }

    #[test]
    fn reads_every_order_endian_and_type() {
        let dir = tempfile::tempdir().unwrap();
        let (nz, nx) = (3, 5);
        for order in [RawOrder::ZFast, RawOrder::XFast] {
            for endian in [Endian::Little, Endian::Big] {
                for value_type in [RawType::F32, RawType::F64] {
                    let spec = RawSpec { shape: [nz, nx], order, endian, value_type };
                    let path = dir.path().join(format!("{order:?}-{endian:?}-{value_type:?}.bin"));
                    std::fs::write(&path, encode(&spec)).unwrap();
                    let values = read_raw(&path, &spec).unwrap();
                    assert_eq!(values.len(), nz * nx);
                    for iz in 0..nz {
                        for ix in 0..nx {
                            assert_eq!(values[iz * nx + ix], value(iz, ix), "{spec:?} at ({iz}, {ix})");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn wrong_endian_gives_different_values() {
        let dir = tempfile::tempdir().unwrap();
        let spec = RawSpec { shape: [2, 2], order: RawOrder::XFast, endian: Endian::Big, value_type: RawType::F32 };
        let path = dir.path().join("m.bin");
        std::fs::write(&path, encode(&spec)).unwrap();
        let swapped = read_raw(&path, &RawSpec { endian: Endian::Little, ..spec }).unwrap();
        assert_ne!(swapped[0], value(0, 0));
    }

    #[test]
    fn non_finite_values_pass_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nan.bin");
        let mut bytes = Vec::new();
        for v in [f32::NAN, f32::INFINITY, 1.0, -2.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let spec = RawSpec { shape: [2, 2], order: RawOrder::ZFast, endian: Endian::Little, value_type: RawType::F32 };
        let values = read_raw(&path, &spec).unwrap();
        // z-fast [NaN, inf | 1, -2] -> rows [NaN, 1], [inf, -2].
        assert!(values[0].is_nan());
        assert_eq!(&values[1..], &[1.0, f64::INFINITY, -2.0]);
    }

    #[test]
    fn wrong_size_is_an_error_naming_both_sizes_and_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.bin");
        std::fs::write(&path, vec![0u8; 4 * 14]).unwrap();
        let spec = RawSpec { shape: [3, 5], order: RawOrder::ZFast, endian: Endian::Little, value_type: RawType::F32 };
        let message = read_raw(&path, &spec).unwrap_err().to_string();
        assert!(message.contains("short.bin"), "{message}");
        assert!(message.contains("56 bytes"), "{message}");
        assert!(message.contains("60 bytes"), "{message}");
        assert!(message.contains("[3, 5]"), "{message}");
        assert!(!message.contains('\n'));

        // Right number of f32 values is the wrong size for f64.
        std::fs::write(&path, vec![0u8; 4 * 15]).unwrap();
        let f64_spec = RawSpec { value_type: RawType::F64, ..spec };
        assert!(read_raw(&path, &f64_spec).unwrap_err().to_string().contains("120 bytes"));
    }

    #[test]
    fn empty_shape_and_missing_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.bin");
        let spec = RawSpec { shape: [0, 5], order: RawOrder::XFast, endian: Endian::Little, value_type: RawType::F32 };
        assert!(read_raw(&path, &spec).unwrap_err().to_string().contains("at least 1"));
        let spec = RawSpec { shape: [2, 5], ..spec };
        assert!(matches!(read_raw(&path, &spec), Err(IoError::File { .. })));
        let spec = RawSpec { shape: [usize::MAX, 5], ..spec };
        assert!(read_raw(&path, &spec).unwrap_err().to_string().contains("too large"));
    }
}
