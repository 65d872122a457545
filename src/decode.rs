//! Bytes to text: byte-order marks, UTF-8, UTF-16, legacy encodings, binary detection, and the
//! folding of line ends and invisible characters so they never change a decision.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// Share of NUL or other control bytes above which a file is called binary.
const BINARY_CONTROL_SHARE: f64 = 0.10;
/// Share of undecodable characters (U+FFFD after decoding) above which a file is called binary.
const BINARY_REPLACEMENT_SHARE: f64 = 0.10;
/// How many bytes of a file the legacy-encoding detector looks at.
const DETECT_PREFIX: usize = 1 << 20;

/// Why a byte string could not be turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// NUL bytes, or mostly undecodable content.
    Binary,
}

/// Decodes `bytes` to text and folds it with [`fold`]: CRLF and CR become LF, no-break and other
/// Unicode spaces and tabs become a plain space, zero-width characters and soft hyphens go.
///
/// Detection order: a BOM (UTF-8, UTF-16 LE/BE); binary check; valid UTF-8; UTF-8 with a few
/// broken bytes (decoded lossily); UTF-16 without BOM; otherwise the legacy encoding chardetng
/// guesses (windows-1252, Shift_JIS, ...).
///
/// ```
/// let text = textsift::decode::decode(b"caf\xe9\r\nna\xefve".to_vec()).unwrap();
/// assert_eq!(text, "café\nnaïve");
/// ```
pub fn decode(bytes: Vec<u8>) -> Result<String, DecodeError> {
    decode_noting(bytes).map(|decoded| decoded.text)
}

/// Text [`decode_noting`] made of a byte string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The decoded, folded text.
    pub text: String,
    /// The text is the bytes as they were: valid UTF-8, without a BOM, that folding left as it
    /// was.
    pub unchanged: bool,
}

/// [`decode`], saying whether the text is the bytes unchanged (then reading them again needs
/// only UTF-8 validation, not a comparison with what was decoded).
pub fn decode_noting(bytes: Vec<u8>) -> Result<Decoded, DecodeError> {
    let changed = |text: Result<String, DecodeError>| text.map(|text| Decoded { text, unchanged: false });
    if let Some((encoding, bom_len)) = Encoding::for_bom(&bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return changed(finish(text.into_owned()));
    }
    if let Some(utf16) = sniff_utf16(&bytes) {
        let (text, _) = utf16.decode_without_bom_handling(&bytes);
        // Binary 16-bit data (small numbers) has the same NUL pattern; its "text" is controls.
        if mostly_controls(&text) {
            return Err(DecodeError::Binary);
        }
        return changed(finish(text.into_owned()));
    }
    if looks_binary(&bytes) {
        return Err(DecodeError::Binary);
    }
    let bytes = match utf8_string(bytes) {
        Ok(text) => {
            return check(&text).map(|()| {
                let (text, unchanged) = fold_noting(text);
                Decoded { text, unchanged }
            })
        }
        Err(bytes) => bytes,
    };
    if mostly_utf8(&bytes) {
        return changed(finish(String::from_utf8_lossy(&bytes).into_owned()));
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(&bytes[..bytes.len().min(DETECT_PREFIX)], true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let encoding = if encoding == UTF_8 { encoding_rs::WINDOWS_1252 } else { encoding };
    let (text, _) = encoding.decode_without_bom_handling(&bytes);
    changed(finish(text.into_owned()))
}

/// `bytes` as a `String` when they are valid UTF-8, checked by `simdutf8`'s SIMD validator;
/// otherwise the bytes back, untouched.
///
/// Validation is a few percent of a run with the standard library's validator, which slows to a
/// byte at a time around every non-ASCII character; `simdutf8` keeps its speed on mixed text.
pub fn utf8_string(bytes: Vec<u8>) -> Result<String, Vec<u8>> {
    if simdutf8::basic::from_utf8(&bytes).is_err() {
        return Err(bytes);
    }
    // SAFETY: simdutf8 validated `bytes` as UTF-8 just above, and nothing has changed them.
    #[allow(unsafe_code)]
    Ok(unsafe { String::from_utf8_unchecked(bytes) })
}

/// Rejects decoded text that is mostly replacement characters, then folds it.
fn finish(text: String) -> Result<String, DecodeError> {
    check(&text)?;
    Ok(fold(text))
}

/// [`DecodeError::Binary`] when too many of the characters of `text` are U+FFFD.
fn check(text: &str) -> Result<(), DecodeError> {
    if text.contains('\u{FFFD}') {
        let total = text.chars().count().max(1);
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        if bad as f64 / total as f64 > BINARY_REPLACEMENT_SHARE {
            return Err(DecodeError::Binary);
        }
    }
    Ok(())
}

/// NUL bytes, or many control bytes, in the first part of the file.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(DETECT_PREFIX)];
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    // Every control byte is below 0x20; when those are few enough, skip the exact count.
    let low: usize =
        head.chunks(255).map(|c| c.iter().fold(0u8, |n, &b| n + u8::from(b < 0x20)) as usize).sum();
    if low as f64 / head.len().max(1) as f64 <= BINARY_CONTROL_SHARE {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x0b | 0x1b))
        .count();
    !head.is_empty() && controls as f64 / head.len() as f64 > BINARY_CONTROL_SHARE
}

/// More than [`BINARY_CONTROL_SHARE`] of the characters are control characters other than
/// line ends, tabs and form feeds.
fn mostly_controls(text: &str) -> bool {
    let (mut total, mut controls) = (0usize, 0usize);
    for c in text.chars() {
        total += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{b}' | '\u{c}' | '\u{1b}') {
            controls += 1;
        }
    }
    total > 0 && controls as f64 / total as f64 > BINARY_CONTROL_SHARE
}

/// UTF-16 without a BOM: most even (or odd) bytes are NUL and the others are not.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    // UTF-16 text has NUL in most of one byte column; without any NUL there is nothing to count.
    if head.len() < 4 || memchr::memchr(0, head).is_none() {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 9 && even_nul * 10 <= pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 9 && odd_nul * 10 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Invalid UTF-8 that is still mostly UTF-8: at least ten valid multi-byte characters for every
/// broken sequence (a corrupted byte in the middle of a UTF-8 file).
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut valid_multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid_multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            invalid += 1;
        }
    }
    valid_multibyte >= 10 * invalid.max(1)
}

/// What [`fold`] does with one character.
enum Fold {
    Keep,
    Space,
    Newline,
    Remove,
}

fn fold_class(c: char) -> Fold {
    match c {
        '\t' | '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            Fold::Space
        }
        '\u{000B}' | '\u{000C}' | '\u{0085}' | '\u{2028}' | '\u{2029}' => Fold::Newline,
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => Fold::Remove,
        c if c.is_control() && c != '\n' && c != '\r' => Fold::Remove,
        _ => Fold::Keep,
    }
}

/// Folds line ends and invisible characters; text that needs nothing is returned unchanged
/// without copying.
///
/// CRLF and lone CR become LF; tabs, no-break spaces and other Unicode spaces become a space;
/// vertical tab, form feed and Unicode line separators become LF; zero-width spaces, word
/// joiners, BOMs, soft hyphens and other control characters are removed. Zero-width joiners
/// and non-joiners stay: they carry meaning in emoji and in Indic and Persian script.
pub fn fold(text: String) -> String {
    fold_noting(text).0
}

/// [`fold`], saying whether the text came back unchanged (then a later pass over the same
/// text need not fold it again).
pub fn fold_noting(text: String) -> (String, bool) {
    let bytes = text.as_bytes();
    // Allocated at the first change; `copied` is how far `text` has been carried over into it.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip 16 bytes at a time while none is a byte of `MAY_FOLD` (a control byte but LF,
        // DEL, or the lead byte of a character that may fold; accented letters are not).
        while let Some(chunk) = bytes.get(i..i + 16) {
            if any_may_fold(chunk.try_into().expect("16 bytes")) {
                break;
            }
            i += 16;
        }
        // To the byte that stopped the skip, one at a time (it lies in the 16 bytes from `i`, or
        // the text ends first): going back to the 16-byte test after each byte tested the same
        // chunk again for every byte before it.
        while bytes.get(i).is_some_and(|&b| !MAY_FOLD[usize::from(b)]) {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else {
            break;
        };
        let c = if b.is_ascii() { char::from(b) } else { text[i..].chars().next().expect("a lead byte") };
        let (replacement, consumed) = if c == '\r' {
            ('\n', if bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 })
        } else {
            match fold_class(c) {
                Fold::Keep => {
                    i += c.len_utf8();
                    continue;
                }
                Fold::Space => (' ', c.len_utf8()),
                Fold::Newline => ('\n', c.len_utf8()),
                Fold::Remove => ('\0', c.len_utf8()),
            }
        };
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..i]);
        if replacement != '\0' {
            out.push(replacement);
        }
        i += consumed;
        copied = i;
    }
    match out {
        None => (text, true),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            (out, false)
        }
    }
}

/// Whether any of 16 bytes is one of [`MAY_FOLD`]: eight SSE2 compares. The same test
/// written byte by byte ([`may_fold`]) the compiler vectorised with a dozen shuffles; this
/// one took 3.4 instructions a byte of text down to 1.2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn any_may_fold(chunk: &[u8; 16]) -> bool {
    use std::arch::x86_64::{
        _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_sub_epi8,
    };
    #[allow(unsafe_code)]
    // SAFETY: SSE2 is part of every x86_64 CPU; the load reads the 16 bytes of `chunk`
    // (unaligned loads allowed).
    unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        let byte = |b: u8| _mm_set1_epi8(b as i8);
        let equal = |b: u8| _mm_cmpeq_epi8(bytes, byte(b));
        // b <= 0x1F (b == min(b, 0x1F)) but LF.
        let control = _mm_andnot_si128(equal(b'\n'), _mm_cmpeq_epi8(_mm_min_epu8(bytes, byte(0x1F)), bytes));
        // 0xE1..=0xE3: b - 0xE1 <= 2, wrapping.
        let from_e1 = _mm_sub_epi8(bytes, byte(0xE1));
        let e1_to_e3 = _mm_cmpeq_epi8(_mm_min_epu8(from_e1, byte(2)), from_e1);
        let others = _mm_or_si128(equal(0x7F), _mm_or_si128(equal(0xC2), equal(0xEF)));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(control, e1_to_e3), others)) != 0
    }
}

/// Whether any of 16 bytes is one of [`MAY_FOLD`].
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn any_may_fold(chunk: &[u8; 16]) -> bool {
    chunk.iter().fold(false, |any, &b| any | may_fold(b))
}

/// [`MAY_FOLD`] of `b` by compares.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn may_fold(b: u8) -> bool {
    ((b < 0x20) & (b != b'\n'))
        | (b == 0x7f)
        | (b == 0xC2)
        | (b == 0xE1)
        | (b == 0xE2)
        | (b == 0xE3)
        | (b == 0xEF)
}

/// Bytes that can start a character [`fold`] changes: ASCII controls but LF (CR and tab
/// among them), DEL, and the lead bytes of U+0080..U+00BF (C1 controls, no-break space, soft
/// hyphen), U+1680, U+2000..U+206F, U+3000 and U+FEFF. Every other byte is copied as it is.
static MAY_FOLD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b != b'\n' as usize;
        b += 1;
    }
    table[0x7f] = true;
    table[0xC2] = true;
    table[0xE1] = true;
    table[0xE2] = true;
    table[0xE3] = true;
    table[0xEF] = true;
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_16_byte_test_finds_every_byte_that_may_fold_wherever_it_stands() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut chunk = [b'a'; 16];
                chunk[at] = b;
                assert_eq!(any_may_fold(&chunk), MAY_FOLD[usize::from(b)], "{b:#x} at {at}");
            }
        }
        assert!(!any_may_fold(b"plain text\nmore."));
    }

    #[test]
    fn the_skip_compares_agree_with_the_table() {
        for b in 0..=255u8 {
            assert_eq!(may_fold(b), MAY_FOLD[usize::from(b)], "{b:#x}");
        }
    }

    #[test]
    fn only_text_that_is_its_bytes_is_noted_unchanged() {
        let cases: [(&[u8], bool); 7] = [
            (b"plain text\nover two lines", true),
            ("Grüße, 東京 – “quoted”".as_bytes(), true),
            (b"", true),
            (b"windows\r\nline ends", false),
            ("no-break\u{A0}space".as_bytes(), false),
            (b"\xEF\xBB\xBFa BOM", false),
            (b"caf\xe9 in windows-1252, caf\xe9 au lait", false),
        ];
        for (bytes, unchanged) in cases {
            let decoded = decode_noting(bytes.to_vec()).unwrap();
            assert_eq!(decoded.unchanged, unchanged, "{bytes:?}");
            assert_eq!(decoded.unchanged, decoded.text.as_bytes() == bytes, "{bytes:?}");
            assert_eq!(decoded.text, decode(bytes.to_vec()).unwrap());
        }
    }

    #[test]
    fn utf8_passes_through_unchanged() {
        assert_eq!(decode("Grüße, 東京".as_bytes().to_vec()).unwrap(), "Grüße, 東京");
    }

    #[test]
    fn utf8_string_agrees_with_the_standard_validator() {
        let cases: [&[u8]; 9] = [
            b"",
            b"plain ascii",
            "café – naïve “quotes” 日本語 😀".as_bytes(),
            b"caf\xe9",
            b"\xe2\x80",
            b"ok then \xf0\x9f\x98",
            b"\xed\xa0\x80 surrogate",
            b"\xc0\xaf overlong",
            b"\xf4\x90\x80\x80 above U+10FFFF",
        ];
        for bytes in cases {
            let ours = utf8_string(bytes.to_vec());
            let std = String::from_utf8(bytes.to_vec()).map_err(|e| e.into_bytes());
            assert_eq!(ours, std, "{bytes:?}");
        }
        // Long mixed text, where the SIMD path runs: every prefix cut inside a character fails.
        let long = "Grüße aus Köln – “zitiert” 😀 ".repeat(40);
        for cut in 0..long.len() {
            let prefix = long.as_bytes()[..cut].to_vec();
            assert_eq!(utf8_string(prefix).is_ok(), long.is_char_boundary(cut), "cut at {cut}");
        }
    }

    #[test]
    fn utf8_bom_is_removed() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(b"hello");
        assert_eq!(decode(bytes).unwrap(), "hello");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let mut le = vec![0xFF, 0xFE];
        for u in "Über alles".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(le.clone()).unwrap(), "Über alles");
        assert_eq!(decode(le[2..].to_vec()).unwrap(), "Über alles");
        let mut be = Vec::new();
        for u in "plain text here".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(be).unwrap(), "plain text here");
    }

    #[test]
    fn windows_1252_is_detected() {
        let bytes =
            b"Le caf\xe9 de la gare est ferm\xe9 depuis l'\xe9t\xe9 dernier \x96 une d\xe9cision.".to_vec();
        let text = decode(bytes).unwrap();
        assert!(text.contains("café"), "{text}");
        assert!(text.contains("été dernier – une décision"), "{text}");
    }

    #[test]
    fn shift_jis_is_detected() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS
            .encode("日本は米国との安全保障会議を中止した。防衛費をめぐる対立が背景にある。");
        let text = decode(bytes.into_owned()).unwrap();
        assert!(text.contains("日本は米国との安全保障会議"), "{text}");
    }

    #[test]
    fn a_broken_byte_inside_utf8_stays_local() {
        let mut bytes = "Straße, Größe, Übermaß, Äpfel und Öl. ".repeat(3).into_bytes();
        bytes.push(0xFF);
        bytes.extend_from_slice("Ende gut.".as_bytes());
        let text = decode(bytes).unwrap();
        assert!(text.starts_with("Straße, Größe"), "{text}");
        assert!(text.ends_with("\u{FFFD}Ende gut."), "{text}");
    }

    #[test]
    fn nul_bytes_mean_binary() {
        assert_eq!(decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()), Err(DecodeError::Binary));
    }

    #[test]
    fn line_ends_and_invisible_characters_fold() {
        let text = "a\r\nb\rc\u{00A0}d\te\u{200B}f\u{00AD}g\u{FEFF}h\u{200D}i".to_string();
        assert_eq!(fold(text), "a\nb\nc d efgh\u{200D}i");
    }

    /// The straightforward char-by-char fold, kept as the reference for [`fold`].
    fn fold_reference(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\r' {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
                continue;
            }
            match fold_class(c) {
                Fold::Keep => out.push(c),
                Fold::Space => out.push(' '),
                Fold::Newline => out.push('\n'),
                Fold::Remove => {}
            }
        }
        out
    }

    #[test]
    fn fold_matches_the_char_by_char_reference() {
        // Every character fold may touch, neighbours of their lead bytes, and plain text,
        // mixed by a fixed xorshift sequence.
        let mut alphabet: Vec<char> = (0u32..0x100).filter_map(char::from_u32).collect();
        alphabet.extend(
            (0x1680..0x1690)
                .chain(0x2000..0x2070)
                .chain(0x3000..0x3008)
                .chain(0xFEF0..0xFF00)
                .filter_map(char::from_u32),
        );
        alphabet.extend(['é', '東', '😀', '\u{200D}', '\u{200C}', '\r', '\n', 'a', ' ']);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            let text = crate::testing::chars_text(&alphabet, 40, &mut state);
            assert_eq!(fold(text.clone()), fold_reference(&text), "{text:?}");
        }
        // Plain text with a character that folds, or one that may but does not, at every place
        // of the 16-byte skip, and a second one further on.
        for special in ["\u{A0}", "\r\n", "\u{AD}", "’", "©", "\u{FEFF}"] {
            for at in 0..40 {
                let text = format!("{}{special}{}\u{2009}x", "a".repeat(at), "b".repeat(37 - at % 19));
                assert_eq!(fold(text.clone()), fold_reference(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn empty_input_is_empty_text() {
        assert_eq!(decode(Vec::new()).unwrap(), "");
    }
}
