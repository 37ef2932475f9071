//! A small PDF whose page content inflates to gigabytes is refused with a sentence, fast
//! and within a memory bound. Alone in its test binary, so the process's peak memory is
//! this import's.

use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use gradedesk::imaging::{import_scan, ScanSource};

/// A zlib stream of `mib` MiB of zeros, made without compressing them all: one deflate
/// block of a MiB of zeros, flushed to a byte boundary, repeated (each copy's matches
/// reach back only into zeros, so any number of copies is valid).
fn zlib_of_zeros(mib: u32) -> Vec<u8> {
    let chunk = vec![0u8; 1 << 20];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut compressed = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(1 << 16);
        let before = deflate.total_in();
        deflate.compress_vec(input, &mut out, flush).unwrap();
        assert_eq!(deflate.total_in() - before, input.len() as u64);
        out
    };
    let first = compressed(&chunk, FlushCompress::Sync);
    let steady = compressed(&chunk, FlushCompress::Sync);
    let last = compressed(&[], FlushCompress::Finish);
    let mut out = vec![0x78, 0xDA];
    out.extend_from_slice(&first);
    for _ in 1..mib {
        out.extend_from_slice(&steady);
    }
    out.extend_from_slice(&last);
    // Adler-32 of n zero bytes: a = 1, b = n (mod 65521).
    let n = u64::from(mib) << 20;
    let adler = (((n % 65_521) as u32) << 16) | 1;
    out.extend_from_slice(&adler.to_be_bytes());
    out
}

/// A baseline JPEG of `w × h`, to make the page look like a scanner's (one image drawn
/// over the whole page), which is the page whose content GradeDesk reads itself.
fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        w,
        h,
        image::Rgb([250, 250, 250]),
    ))
    .write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    bytes
}

fn bomb_pdf(content: &[u8]) -> Vec<u8> {
    let image = jpeg(100, 141);
    let mut objects: Vec<Vec<u8>> = vec![
        b"<</Type/Catalog/Pages 2 0 R>>".to_vec(),
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>".to_vec(),
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im0 5 0 R>>>>/Contents 4 0 R>>".to_vec(),
    ];
    let mut stream =
        format!("<</Length {}/Filter/FlateDecode>>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    objects.push(stream);
    let mut img = format!(
        "<</Type/XObject/Subtype/Image/Width 100/Height 141/ColorSpace/DeviceRGB/BitsPerComponent 8/Filter/DCTDecode/Length {}>>\nstream\n",
        image.len()
    )
    .into_bytes();
    img.extend_from_slice(&image);
    img.extend_from_slice(b"\nendstream");
    objects.push(img);
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// The process's peak resident memory so far, in MiB (Linux).
fn peak_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024
}

#[test]
fn a_pdf_whose_content_inflates_to_gigabytes_is_refused_within_a_memory_bound() {
    let tmp = tempfile::tempdir().unwrap();
    // 4 GiB of drawing instructions in a file of a few megabytes.
    let pdf = bomb_pdf(&zlib_of_zeros(4096));
    assert!(
        pdf.len() < 8 << 20,
        "the bomb is small: {} bytes",
        pdf.len()
    );
    let path = tmp.path().join("bomb.pdf");
    std::fs::write(&path, &pdf).unwrap();
    drop(pdf);
    let before = peak_mib();
    let started = Instant::now();
    let refused = import_scan(
        "bomb.pdf",
        ScanSource::Path(path),
        &tmp.path().join("scans").join("1"),
    )
    .expect_err("the bomb is refused");
    let took = started.elapsed();
    let text = refused.to_string();
    assert!(
        text.starts_with("bomb.pdf: page 1's drawing instructions unpack to more than 64 MB"),
        "{text}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let peak = peak_mib();
    assert!(
        peak < before + 400,
        "peak memory {peak} MiB (was {before} MiB before the import)"
    );
    assert!(
        !tmp.path().join("scans").join("1").exists(),
        "nothing is left behind"
    );
}
