//! How many SMS a text takes, as Twilio counts them (its `num_segments`): a text written entirely in
//! the GSM-7 alphabet goes as 7-bit characters, 160 in one SMS or 153 per part of a longer one (the
//! rest of each part is the header that joins them), with the extension characters (`{ } [ ] ~ \ | ^
//! €` and form feed) taking two; any other text goes as UCS-2, 70 UTF-16 code units in one SMS or 67
//! per part. A part never ends halfway through an escaped character or a surrogate pair.
//!
//! Twilio's optional Smart Encoding (which swaps curly quotes and the like for GSM-7 ones) is not
//! modelled: it is off unless a Messaging Service turns it on.

/// The GSM 03.38 default alphabet (the escape code, which only introduces the extension, left out).
const GSM7_BASIC: &str = concat!(
    "@£$¥èéùìòÇ\nØø\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
);
/// The GSM 03.38 extension table: each is sent as the escape code and a second septet.
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// How an SMS text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 03.38 7-bit alphabet.
    Gsm7,
    /// UCS-2 (UTF-16): any text with a character GSM-7 lacks.
    Ucs2,
}

/// The encoding Twilio sends `body` in.
pub fn sms_encoding(body: &str) -> SmsEncoding {
    if body.chars().all(|c| gsm7_septets(c).is_some()) {
        SmsEncoding::Gsm7
    } else {
        SmsEncoding::Ucs2
    }
}

/// How many SMS `body` takes (at least 1).
pub fn num_segments(body: &str) -> u32 {
    match sms_encoding(body) {
        SmsEncoding::Gsm7 => parts(body.chars().filter_map(gsm7_septets), 160, 153),
        SmsEncoding::Ucs2 => parts(body.chars().map(|c| c.len_utf16() as u32), 70, 67),
    }
}

/// Septets a character takes in GSM-7: 1, 2 for the extension, `None` when it has none.
fn gsm7_septets(c: char) -> Option<u32> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Parts for characters of these sizes: one when they fit `single`, else filled `per_part` at a
/// time, a character that does not fit starting the next part.
fn parts(sizes: impl Iterator<Item = u32> + Clone, single: u32, per_part: u32) -> u32 {
    if sizes.clone().sum::<u32>() <= single {
        return 1;
    }
    let (mut parts, mut used) = (1, 0);
    for size in sizes {
        if used + size > per_part {
            parts += 1;
            used = 0;
        }
        used += size;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabets_have_gsms_sizes() {
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        assert_eq!(GSM7_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn gsm7_takes_160_in_one_sms_and_153_per_part() {
        assert_eq!(num_segments(""), 1);
        assert_eq!(num_segments(&"a".repeat(160)), 1);
        assert_eq!(num_segments(&"a".repeat(161)), 2);
        assert_eq!(num_segments(&"a".repeat(306)), 2);
        assert_eq!(num_segments(&"a".repeat(307)), 3);
        assert_eq!(num_segments(&"a".repeat(1600)), 11);
        assert_eq!(sms_encoding("Disk full @ db-1: 95% (ÄÖÜ)"), SmsEncoding::Gsm7);
    }

    #[test]
    fn extension_characters_count_twice_and_stay_whole() {
        assert_eq!(sms_encoding("{[€]}"), SmsEncoding::Gsm7);
        assert_eq!(num_segments(&"€".repeat(80)), 1);
        assert_eq!(num_segments(&"€".repeat(81)), 2);
        // 152 septets, then an escaped character: it does not fit the first part's last septet.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(num_segments(&body), 3);
    }

    #[test]
    fn anything_else_is_ucs2_at_70_and_67() {
        assert_eq!(sms_encoding("Ack ✓"), SmsEncoding::Ucs2);
        assert_eq!(num_segments(&"ж".repeat(70)), 1);
        assert_eq!(num_segments(&"ж".repeat(71)), 2);
        assert_eq!(num_segments(&"ж".repeat(134)), 2);
        assert_eq!(num_segments(&"ж".repeat(135)), 3);
        // One character GSM-7 lacks makes the whole text UCS-2.
        assert_eq!(num_segments(&format!("{}✓", "a".repeat(69))), 1);
        assert_eq!(num_segments(&format!("{}✓", "a".repeat(70))), 2);
    }

    #[test]
    fn surrogate_pairs_count_two_and_stay_whole() {
        assert_eq!(num_segments(&"🦉".repeat(35)), 1);
        assert_eq!(num_segments(&"🦉".repeat(36)), 2);
        // 66 units, then a pair that would straddle the part's end.
        let body = format!("{}🦉{}", "ж".repeat(66), "ж".repeat(66));
        assert_eq!(num_segments(&body), 3);
    }
}
