//! The pinyin initials of a venue's name (星际网咖 → `xjwk`), set by the server on every venue it
//! stores, so that phones search by them without carrying a pinyin dictionary.

use pinyin::ToPinyin;

/// The initials of `name`: the first letter of each Chinese character's pinyin, ASCII letters and
/// digits as they are (lowercase), everything else left out.
pub fn pinyin_initials(name: &str) -> String {
    name.chars()
        .filter_map(|ch| match ch.to_pinyin() {
            Some(pinyin) => pinyin.first_letter().chars().next(),
            None if ch.is_ascii_alphanumeric() => Some(ch.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pinyin_initials;

    #[test]
    fn chinese_names_give_their_initials_and_ascii_stays() {
        assert_eq!(pinyin_initials("星际网咖"), "xjwk");
        assert_eq!(pinyin_initials("金麦克KTV（中州路店）"), "jmkktvzzld");
        assert_eq!(pinyin_initials("丽景门景区"), "ljmjq");
        assert_eq!(pinyin_initials(""), "");
    }
}
