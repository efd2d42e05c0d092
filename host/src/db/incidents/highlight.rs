//! Highlight parsing: `ts_headline` output with control-character marks split into fragments.

use nightowl_api::incidents::Fragment;

/// Marks around matches in `ts_headline` output: control characters stripped from the text first, so
/// they cannot occur in it, and never HTML.
const START: char = '\u{1}';
const STOP: char = '\u{2}';

/// Splits `ts_headline` output into plain and highlighted fragments.
pub fn fragments(marked: &str) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut rest = marked;
    while let Some(start) = rest.find(START) {
        if start > 0 {
            out.push(Fragment {
                text: rest[..start].to_owned(),
                highlighted: false,
            });
        }
        let after = &rest[start + START.len_utf8()..];
        let end = after.find(STOP).unwrap_or(after.len());
        out.push(Fragment {
            text: after[..end].to_owned(),
            highlighted: true,
        });
        rest = after.get(end + STOP.len_utf8()..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(Fragment {
            text: rest.to_owned(),
            highlighted: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_marks_become_fragments() {
        let f = fragments("Disk \u{1}full\u{2} on \u{1}db\u{2}");
        let texts: Vec<_> = f.iter().map(|f| (f.text.as_str(), f.highlighted)).collect();
        assert_eq!(
            texts,
            [("Disk ", false), ("full", true), (" on ", false), ("db", true)]
        );
        assert!(fragments("").is_empty());
        assert_eq!(fragments("<b>x</b>")[0].text, "<b>x</b>", "text stays text");
    }
}
