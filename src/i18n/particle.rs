//! Korean particles that fit the word before them: `pid#1이` but `주소가`, `topic을` but
//! `number를`. Korean picks the particle by the word's last sound as it is read aloud: a
//! final consonant (받침) takes 이, 을, 은, 과, 으로; a vowel takes 가, 를, 는, 와, 로 (and
//! a final ㄹ takes 로 too). Writing both, as `을(를)`, is what a program does when it does
//! not know the word; the tool knows it, so it picks.
//!
//! ```
//! use ipc_lab::i18n::particle::{with, Particle};
//!
//! assert_eq!(with("pid#1", Particle::Subject), "pid#1이");
//! assert_eq!(with("주소", Particle::Subject), "주소가");
//! assert_eq!(with("'topic'", Particle::Object), "'topic'을");
//! assert_eq!(with("파일", Particle::Direction), "파일로");
//! ```

/// The particles the tool's messages need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Particle {
    /// 이/가
    Subject,
    /// 을/를
    Object,
    /// 은/는
    Topic,
    /// 과/와
    And,
    /// 으로/로 (로 also after a final ㄹ)
    Direction,
    /// 이라는/라는: "a command called ..."
    Called,
}

/// How a word ends when read aloud in Korean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Vowel,
    /// A final ㄹ, which counts as a vowel before 로.
    Rieul,
    Consonant,
}

/// The particle that fits after `word`.
pub fn particle(word: &str, p: Particle) -> &'static str {
    let ending = ending(word);
    let closed = ending != Ending::Vowel;
    match p {
        Particle::Subject => pick(closed, "이", "가"),
        Particle::Object => pick(closed, "을", "를"),
        Particle::Topic => pick(closed, "은", "는"),
        Particle::And => pick(closed, "과", "와"),
        Particle::Direction => pick(ending == Ending::Consonant, "으로", "로"),
        Particle::Called => pick(closed, "이라는", "라는"),
    }
}

/// `word` followed by its particle.
pub fn with(word: &str, p: Particle) -> String {
    format!("{word}{}", particle(word, p))
}

fn pick(closed: bool, after_consonant: &'static str, after_vowel: &'static str) -> &'static str {
    if closed {
        after_consonant
    } else {
        after_vowel
    }
}

/// The last sound of `word`, ignoring quotes and brackets around it: Hangul by its final
/// consonant, numbers as Korean reads them (일, 이, 삼, 십, 백...), Latin by a rough
/// English reading (`topic` 토픽, `node` 노드, `pool` 풀; a lone capital by its name, `M` 엠).
fn ending(word: &str) -> Ending {
    let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
    let Some(last) = word.chars().last() else { return Ending::Vowel };
    match last {
        '가'..='힣' => match (u32::from(last) - u32::from('가')) % 28 {
            0 => Ending::Vowel,
            8 => Ending::Rieul,
            _ => Ending::Consonant,
        },
        '0'..='9' => number_ending(word),
        c if c.is_ascii_alphabetic() => latin_ending(word),
        _ => Ending::Vowel,
    }
}

/// 영 공 일 이 삼 사 오 육 칠 팔 구, and the round numbers 십 백 천 만.
fn number_ending(word: &str) -> Ending {
    let digits: String = word.chars().rev().take_while(char::is_ascii_digit).collect();
    let zeros = digits.chars().take_while(|&c| c == '0').count();
    if zeros > 0 && zeros < digits.len() {
        // 십, 백, 천, then 만 and above: all end in a consonant.
        return Ending::Consonant;
    }
    match digits.chars().next() {
        Some('1' | '7' | '8') => Ending::Rieul,
        Some('0' | '3' | '6') => Ending::Consonant,
        _ => Ending::Vowel,
    }
}

fn latin_ending(word: &str) -> Ending {
    let letters: Vec<char> =
        word.chars().rev().take_while(char::is_ascii_alphabetic).map(|c| c.to_ascii_lowercase()).collect();
    let upper = word.chars().rev().take_while(char::is_ascii_alphabetic).all(|c| c.is_ascii_uppercase());
    if upper {
        // An acronym or a lone letter is read letter by letter: 엘, 엠, 엔, 알.
        return match letters[0] {
            'l' | 'r' => Ending::Rieul,
            'm' | 'n' => Ending::Consonant,
            _ => Ending::Vowel,
        };
    }
    let before_is_vowel = letters.get(1).is_some_and(|c| "aeiou".contains(*c));
    match letters[0] {
        'l' => Ending::Rieul,
        'm' | 'n' => Ending::Consonant,
        // topic 토픽, socket 소켓, shop 숍; but test 테스트, node 노드.
        'k' | 'c' | 't' | 'p' if before_is_vowel => Ending::Consonant,
        'k' if letters.get(1) == Some(&'c') => Ending::Consonant,
        'g' if letters.get(1) == Some(&'n') => Ending::Consonant,
        _ => Ending::Vowel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_by_its_final_consonant() {
        assert_eq!(with("주소", Particle::Subject), "주소가");
        assert_eq!(with("복사본", Particle::Subject), "복사본이");
        assert_eq!(with("메시지", Particle::Object), "메시지를");
        assert_eq!(with("구독", Particle::Object), "구독을");
        assert_eq!(with("파일", Particle::Direction), "파일로");
        assert_eq!(with("폴더", Particle::Direction), "폴더로");
        assert_eq!(with("공유 메모리", Particle::Topic), "공유 메모리는");
        assert_eq!(with("소켓", Particle::Direction), "소켓으로");
    }

    #[test]
    fn numbers_as_read_in_korean() {
        assert_eq!(with("pid#1", Particle::Subject), "pid#1이");
        assert_eq!(with("pid#2", Particle::Subject), "pid#2가");
        assert_eq!(with("@3", Particle::Topic), "@3은");
        assert_eq!(with("@4", Particle::Topic), "@4는");
        assert_eq!(with("10", Particle::Object), "10을");
        assert_eq!(with("0", Particle::Object), "0을");
        assert_eq!(with("7", Particle::Direction), "7로");
        assert_eq!(with("6", Particle::Direction), "6으로");
    }

    #[test]
    fn latin_words_and_letters() {
        assert_eq!(with("'topic'", Particle::Object), "'topic'을");
        assert_eq!(with("'number'", Particle::Object), "'number'를");
        assert_eq!(with("camera_node", Particle::Topic), "camera_node는");
        assert_eq!(with("socket", Particle::Direction), "socket으로");
        assert_eq!(with("pool", Particle::Direction), "pool로");
        assert_eq!(with("'maybe'", Particle::Topic), "'maybe'는");
        assert_eq!(with("'frobnicate'", Particle::Called), "'frobnicate'라는");
        assert_eq!(with("'bench'", Particle::Called), "'bench'라는");
        assert_eq!(with("IPM", Particle::Subject), "IPM이");
        assert_eq!(with("URL", Particle::Direction), "URL로");
        assert_eq!(with("PNG", Particle::Subject), "PNG가");
    }
}
