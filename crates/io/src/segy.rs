//! SEG-Y rev1 import: reads the traces of a big-endian SEG-Y file (IBM or
//! IEEE floats, or 8/16/32-bit integers) into a row-major
//! `[n_traces, n_samples]` array, for importing models stored as SEG-Y.
//!
//! Only fixed-length traces are supported: the number of samples per trace
//! comes from the binary header (or, when that is 0, from the first trace
//! header) and must be the same for every trace. Textual headers and all
//! trace-header fields other than the sample count are ignored. Any byte
//! content gives either data or an [`IoError`], never a panic.

use crate::error::IoError;
use std::path::Path;

/// Size of the textual (card-image) header.
const TEXT_HEADER_BYTES: usize = 3200;
/// Size of the binary file header.
const BINARY_HEADER_BYTES: usize = 400;
/// Textual plus binary header: the smallest possible SEG-Y file.
const FILE_HEADER_BYTES: usize = TEXT_HEADER_BYTES + BINARY_HEADER_BYTES;
/// Size of each trace header.
const TRACE_HEADER_BYTES: usize = 240;

/// Byte offset (in the file) of the sample interval in microseconds (u16).
const SAMPLE_INTERVAL_OFFSET: usize = 3216;
/// Byte offset of the number of samples per trace (u16).
const SAMPLES_PER_TRACE_OFFSET: usize = 3220;
/// Byte offset of the data sample format code (u16).
const FORMAT_CODE_OFFSET: usize = 3224;
/// Byte offset of the number of extended textual headers (i16).
const EXTENDED_HEADERS_OFFSET: usize = 3504;
/// Byte offset, within a trace header, of its number of samples (u16).
const TRACE_SAMPLES_OFFSET: usize = 114;

/// The supported sample formats, for error messages.
const SUPPORTED_FORMATS: &str = "1 (IBM float), 2 (i32), 3 (i16), 5 (IEEE float), 8 (i8)";

/// The traces of a SEG-Y file.
#[derive(Debug, Clone, PartialEq)]
pub struct SegyData {
    /// Sample values, row-major `[n_traces, n_samples]` (samples of one
    /// trace contiguous).
    pub traces: Vec<f64>,
    /// Number of traces.
    pub n_traces: usize,
    /// Samples per trace.
    pub n_samples: usize,
    /// Sample interval from the binary header, microseconds (for depth
    /// models often the depth step in some unit, or 0).
    pub sample_interval_us: u32,
    /// Data sample format code from the binary header.
    pub format_code: u16,
}

/// Convert an IBM System/360 single-precision float (big-endian u32 bits) to f64.
///
/// Layout: 1 sign bit, 7-bit base-16 exponent biased by 64, 24-bit fraction
/// `0.F`; the value is `(-1)^sign * 0.F * 16^(exponent - 64)`. The
/// conversion is exact, since every IBM single fits in an f64.
pub fn ibm_to_f64(bits: u32) -> f64 {
    let sign = if bits & 0x8000_0000 != 0 { -1.0 } else { 1.0 };
    let exponent = ((bits >> 24) & 0x7f) as i32;
    let fraction = f64::from(bits & 0x00ff_ffff);
    // 0.F * 16^(e - 64) = F * 2^(4 (e - 64) - 24); the power is in [-280, 228].
    sign * fraction * 2f64.powi(4 * (exponent - 64) - 24)
}

/// Bytes per sample of a supported format code, `None` if unsupported.
fn bytes_per_sample(format_code: u16) -> Option<usize> {
    match format_code {
        1 | 2 | 5 => Some(4),
        3 => Some(2),
        8 => Some(1),
        _ => None,
    }
}

fn be_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let b = bytes.get(offset..offset + 2)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// Decode one big-endian sample of a supported format.
fn decode_sample(format_code: u16, b: &[u8]) -> f64 {
    match (format_code, b) {
        (1, &[b0, b1, b2, b3]) => ibm_to_f64(u32::from_be_bytes([b0, b1, b2, b3])),
        (2, &[b0, b1, b2, b3]) => f64::from(i32::from_be_bytes([b0, b1, b2, b3])),
        (5, &[b0, b1, b2, b3]) => f64::from(f32::from_be_bytes([b0, b1, b2, b3])),
        (3, &[b0, b1]) => f64::from(i16::from_be_bytes([b0, b1])),
        (8, &[b0]) => f64::from(i8::from_be_bytes([b0])),
        // Unreachable: the caller checks the format and chunks by its size.
        _ => f64::NAN,
    }
}

/// Read all traces of a big-endian SEG-Y rev1 file.
pub fn read_segy(path: &Path) -> Result<SegyData, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::file(path, "cannot read", e))?;
    parse_segy(path, &bytes)
}

/// Parse the bytes of a SEG-Y file; `path` is only used in error messages.
fn parse_segy(path: &Path, bytes: &[u8]) -> Result<SegyData, IoError> {
    let len = bytes.len();
    if len < FILE_HEADER_BYTES {
        return Err(IoError::format(
            path,
            format!(
                "SEG-Y file truncated: {len} bytes, a SEG-Y file has at least {FILE_HEADER_BYTES} (3200-byte textual header and 400-byte binary header)"
            ),
        ));
    }
    let header_u16 = |offset| be_u16(bytes, offset).unwrap_or(0);
    let sample_interval_us = u32::from(header_u16(SAMPLE_INTERVAL_OFFSET));
    let binary_samples = usize::from(header_u16(SAMPLES_PER_TRACE_OFFSET));
    let format_code = header_u16(FORMAT_CODE_OFFSET);
    let extended_headers = header_u16(EXTENDED_HEADERS_OFFSET) as i16;

    let Some(sample_bytes) = bytes_per_sample(format_code) else {
        let hint = if bytes_per_sample(format_code.swap_bytes()).is_some() {
            format!(
                " (byte-swapped it reads {}: the file may be little-endian, which is not supported)",
                format_code.swap_bytes()
            )
        } else {
            String::new()
        };
        return Err(IoError::format(
            path,
            format!(
                "SEG-Y data sample format code {format_code} at byte offset {FORMAT_CODE_OFFSET} is not supported{hint}; supported codes are {SUPPORTED_FORMATS}"
            ),
        ));
    };

    // Extended textual headers (rev1): a positive count of 3200-byte blocks
    // after the binary header. (-1, "variable", is not supported: treated as 0.)
    let extended_count = usize::try_from(extended_headers).unwrap_or(0);
    let data_start = FILE_HEADER_BYTES + extended_count * TEXT_HEADER_BYTES;
    if data_start > len {
        return Err(IoError::format(
            path,
            format!(
                "SEG-Y file truncated: the binary header declares {extended_count} extended textual headers ({} bytes) but the file is only {len} bytes",
                extended_count * TEXT_HEADER_BYTES
            ),
        ));
    }
    let data_bytes = len - data_start;
    if data_bytes == 0 {
        return Err(IoError::format(
            path,
            format!(
                "SEG-Y file has no traces: it ends after its {data_start}-byte headers; a model needs at least one trace"
            ),
        ));
    }

    let n_samples = if binary_samples > 0 {
        binary_samples
    } else {
        let first_trace_samples = be_u16(bytes, data_start + TRACE_SAMPLES_OFFSET).map(usize::from).unwrap_or(0);
        if first_trace_samples == 0 {
            return Err(IoError::format(
                path,
                format!(
                    "SEG-Y samples per trace is 0 in both the binary header (byte offset {SAMPLES_PER_TRACE_OFFSET}) and the first trace header (byte offset {TRACE_SAMPLES_OFFSET}); it must be at least 1"
                ),
            ));
        }
        first_trace_samples
    };

    let trace_bytes = TRACE_HEADER_BYTES + n_samples * sample_bytes;
    if !data_bytes.is_multiple_of(trace_bytes) {
        return Err(IoError::format(
            path,
            format!(
                "SEG-Y trace data is {data_bytes} bytes, not a multiple of the trace length {trace_bytes} bytes (240-byte header + {n_samples} samples * {sample_bytes} bytes for format {format_code}); the file is truncated or has variable-length traces"
            ),
        ));
    }
    let n_traces = data_bytes / trace_bytes;

    let mut traces = Vec::with_capacity(n_traces * n_samples);
    for trace in bytes[data_start..].chunks_exact(trace_bytes) {
        traces.extend(trace[TRACE_HEADER_BYTES..].chunks_exact(sample_bytes).map(|b| decode_sample(format_code, b)));
    }
    Ok(SegyData { traces, n_traces, n_samples, sample_interval_us, format_code })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent f64 -> IBM single encoder (round to nearest).
    fn f64_to_ibm(value: f64) -> u32 {
        if value == 0.0 {
            return 0;
        }
        let sign: u32 = if value < 0.0 { 0x8000_0000 } else { 0 };
        let mut magnitude = value.abs();
        let mut exponent: i32 = 64;
        while magnitude >= 1.0 {
            magnitude /= 16.0;
            exponent += 1;
        }
        while magnitude < 1.0 / 16.0 {
            magnitude *= 16.0;
            exponent -= 1;
        }
        let mut fraction = (magnitude * f64::from(1u32 << 24)).round() as u32;
        if fraction == 1 << 24 {
            fraction >>= 4;
            exponent += 1;
        }
        assert!((0..128).contains(&exponent), "value {value} out of IBM range");
        sign | ((exponent as u32) << 24) | fraction
    }

    /// Minimal independent SEG-Y writer: EBCDIC-blank textual header, binary
    /// header with interval/samples/format, traces with their sample count.
    fn write_segy(traces: &[Vec<f64>], format_code: u16, interval_us: u16, extended_headers: i16) -> Vec<u8> {
        let n_samples = traces.first().map_or(0, Vec::len) as u16;
        let mut out = vec![0x40u8; 3200]; // EBCDIC spaces
        out[0] = 0xC3; // EBCDIC 'C', as in "C 1 CLIENT ..."
        let mut binary = vec![0u8; 400];
        binary[16..18].copy_from_slice(&interval_us.to_be_bytes());
        binary[20..22].copy_from_slice(&n_samples.to_be_bytes());
        binary[24..26].copy_from_slice(&format_code.to_be_bytes());
        binary[300..302].copy_from_slice(&0x0100u16.to_be_bytes()); // rev 1
        binary[302..304].copy_from_slice(&1u16.to_be_bytes()); // fixed length
        binary[304..306].copy_from_slice(&extended_headers.to_be_bytes());
        out.extend_from_slice(&binary);
        for _ in 0..extended_headers.max(0) {
            out.extend_from_slice(&[0x40u8; 3200]);
        }
        for (i, trace) in traces.iter().enumerate() {
            let mut header = vec![0u8; 240];
            header[0..4].copy_from_slice(&(i as u32 + 1).to_be_bytes());
            header[114..116].copy_from_slice(&(trace.len() as u16).to_be_bytes());
            header[116..118].copy_from_slice(&interval_us.to_be_bytes());
            out.extend_from_slice(&header);
            for &v in trace {
                match format_code {
                    1 => out.extend_from_slice(&f64_to_ibm(v).to_be_bytes()),
                    5 => out.extend_from_slice(&(v as f32).to_be_bytes()),
                    2 => out.extend_from_slice(&(v as i32).to_be_bytes()),
                    3 => out.extend_from_slice(&(v as i16).to_be_bytes()),
                    8 => out.extend_from_slice(&(v as i8).to_be_bytes()),
                    other => panic!("test writer: format {other}"),
                }
            }
        }
        out
    }

    fn sample_traces() -> Vec<Vec<f64>> {
        vec![
            vec![1500.0, 0.15625, -118.625, 0.0, 2.5e-7],
            vec![-1500.0, 3000.5, 1.0e6, -0.001, 4321.123],
            vec![0.1, -0.1, 1.0, -1.0, 65535.0],
        ]
    }

    fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn ibm_classic_values() {
        assert_eq!(ibm_to_f64(0xC276_A000), -118.625);
        assert_eq!(ibm_to_f64(0x0000_0000), 0.0);
        assert_eq!(ibm_to_f64(0x8000_0000), 0.0);
        assert_eq!(ibm_to_f64(0x4110_0000), 1.0);
        assert_eq!(ibm_to_f64(0x4128_0000), 0.15625 * 16.0);
        assert_eq!(f64_to_ibm(-118.625), 0xC276_A000);
        for v in [1500.0, 0.15625, -118.625, 1.0, -1.0, 1.0e-5, 7.0e20] {
            let back = ibm_to_f64(f64_to_ibm(v));
            assert!((back - v).abs() <= 1e-6 * v.abs(), "{v} -> {back}");
        }
        // Extreme exponents stay finite.
        assert!(ibm_to_f64(0x7fff_ffff).is_finite());
        assert!(ibm_to_f64(0x00ff_ffff) > 0.0);
    }

    #[test]
    fn reads_ibm_and_ieee_files() {
        let dir = tempfile::tempdir().unwrap();
        let traces = sample_traces();
        for format_code in [1u16, 5] {
            let path = write_file(&dir, &format!("f{format_code}.sgy"), &write_segy(&traces, format_code, 4000, 0));
            let data = read_segy(&path).unwrap();
            assert_eq!((data.n_traces, data.n_samples), (3, 5));
            assert_eq!(data.sample_interval_us, 4000);
            assert_eq!(data.format_code, format_code);
            assert_eq!(data.traces.len(), 15);
            for (i, trace) in traces.iter().enumerate() {
                for (j, &expected) in trace.iter().enumerate() {
                    let got = data.traces[i * 5 + j];
                    assert!(
                        (got - expected).abs() <= 1e-6 * expected.abs(),
                        "format {format_code} [{i}, {j}]: {got} vs {expected}"
                    );
                }
            }
            // Exactly representable values come back exactly.
            assert_eq!(data.traces[0], 1500.0);
            assert_eq!(data.traces[1], 0.15625);
            assert_eq!(data.traces[2], -118.625);
            assert_eq!(data.traces[3], 0.0);
        }
    }

    #[test]
    fn reads_integer_formats() {
        let dir = tempfile::tempdir().unwrap();
        let traces = vec![vec![0.0, -1.0, 100.0, -128.0], vec![127.0, 5.0, -7.0, 1.0]];
        for format_code in [2u16, 3, 8] {
            let path = write_file(&dir, &format!("i{format_code}.sgy"), &write_segy(&traces, format_code, 1000, 0));
            let data = read_segy(&path).unwrap();
            assert_eq!((data.n_traces, data.n_samples), (2, 4));
            assert_eq!(data.traces, traces.concat(), "format {format_code}");
        }
    }

    #[test]
    fn falls_back_to_trace_header_sample_count_and_skips_extended_headers() {
        let dir = tempfile::tempdir().unwrap();
        let traces = sample_traces();
        let mut bytes = write_segy(&traces, 5, 2000, 2);
        bytes[3220] = 0;
        bytes[3221] = 0;
        let path = write_file(&dir, "ext.sgy", &bytes);
        let data = read_segy(&path).unwrap();
        assert_eq!((data.n_traces, data.n_samples), (3, 5));
        assert_eq!(data.traces[2], -118.625);
    }

    #[test]
    fn malformed_files_are_one_line_errors() {
        let dir = tempfile::tempdir().unwrap();
        let check = |name: &str, bytes: &[u8], needle: &str| {
            let path = write_file(&dir, name, bytes);
            let message = read_segy(&path).unwrap_err().to_string();
            assert!(message.contains(name), "{message}");
            assert!(message.contains(needle), "expected {needle:?} in {message}");
            assert!(!message.contains('\n'), "{message}");
        };
        let good = write_segy(&sample_traces(), 1, 4000, 0);

        check("short.sgy", &good[..1000], "truncated: 1000 bytes, a SEG-Y file has at least 3600");
        check("headers_only.sgy", &good[..3600], "no traces");
        check("cut.sgy", &good[..good.len() - 3], "not a multiple of the trace length 260 bytes");

        let mut bad_format = good.clone();
        bad_format[3225] = 4;
        check("format4.sgy", &bad_format, "format code 4");
        bad_format[3224] = 5;
        bad_format[3225] = 0;
        check("little.sgy", &bad_format, "little-endian");

        let mut no_samples = good.clone();
        no_samples[3220..3222].fill(0);
        no_samples[3600 + 114..3600 + 116].fill(0);
        check("zero_samples.sgy", &no_samples, "samples per trace is 0");

        let mut many_ext = good.clone();
        many_ext[3504..3506].copy_from_slice(&100i16.to_be_bytes());
        check("ext.sgy", &many_ext, "extended textual headers");

        let missing = dir.path().join("missing.sgy");
        assert!(matches!(read_segy(&missing), Err(IoError::File { .. })));
    }

    #[test]
    fn garbage_never_panics() {
        let path = Path::new("garbage.sgy");
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let good = write_segy(&sample_traces(), 1, 4000, 0);
        for round in 0..300 {
            let len = match round % 4 {
                0 => (next() % 5000) as usize,
                1 => 3600 + (next() % 2000) as usize,
                _ => good.len(),
            };
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 4 >= 2 && len >= 3600 {
                // Keep a plausible header so parsing goes deep into the traces.
                bytes[..3600].copy_from_slice(&good[..3600]);
                if round % 4 == 3 {
                    let field = [3220usize, 3224, 3504][(next() % 3) as usize];
                    bytes[field] = next() as u8;
                    bytes[field + 1] = next() as u8;
                }
            }
            let _ = parse_segy(path, &bytes);
            for cut in [0, 1, 3599, 3600, 3601, 3840, len / 2] {
                let _ = parse_segy(path, &bytes[..cut.min(len)]);
            }
        }
        // Random trace samples decode to something for every format.
        for format_code in [1u16, 2, 3, 5, 8] {
            let mut bytes = good.clone();
            bytes[3224..3226].copy_from_slice(&format_code.to_be_bytes());
            for b in &mut bytes[3600..] {
                *b = next() as u8;
            }
            let _ = parse_segy(path, &bytes);
        }
    }
}
