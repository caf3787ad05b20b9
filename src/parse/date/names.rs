//! The words dates are written with, in the languages feeds use: month and weekday names,
//! zone names, and the small words around them. Words arrive folded (see [`fold_into`]).

/// What a word of a date means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Name {
    /// A month, 1 to 12.
    Month(u32),
    /// A word that names a month and a weekday alike: "mar" is March and the Spanish, French
    /// and Italian Tuesday; "maa" Dutch March and Monday; "sze" Hungarian September and
    /// Wednesday.
    MonthOrWeekday(u32),
    Weekday,
    /// A zone, in seconds east of UTC.
    Zone(i32),
    /// "at": Atlantic Time after a time of day ("16:31:00 AT"), else the English word
    /// ("June 17 at 14:03").
    At,
    /// a.m. or p.m.; `korean` for 오전/오후, whose dates are in Korea time.
    Meridiem {
        pm: bool,
        korean: bool,
    },
    /// A unit written after its number (2004년 05월 28일, 2025年4月5日).
    Unit {
        unit: Unit,
        korean: bool,
    },
    /// An ordinal suffix after a day (17th, 1er).
    Ordinal,
    /// A word that joins the parts and means nothing itself (17 de junio de 2025).
    Filler,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Year,
    Month,
    Day,
}

/// What `word` (folded) means in a date, if anything.
pub(super) fn name(word: &str) -> Option<Name> {
    if let Some(offset) = zone(word) {
        return Some(Name::Zone(offset));
    }
    let fixed = match word {
        "at" => Some(Name::At),
        "am" => Some(Name::Meridiem {
            pm: false,
            korean: false,
        }),
        "pm" => Some(Name::Meridiem {
            pm: true,
            korean: false,
        }),
        "오전" => Some(Name::Meridiem {
            pm: false,
            korean: true,
        }),
        "오후" => Some(Name::Meridiem {
            pm: true,
            korean: true,
        }),
        "년" => Some(Name::Unit {
            unit: Unit::Year,
            korean: true,
        }),
        "월" => Some(Name::Unit {
            unit: Unit::Month,
            korean: true,
        }),
        "일" => Some(Name::Unit {
            unit: Unit::Day,
            korean: true,
        }),
        "年" => Some(Name::Unit {
            unit: Unit::Year,
            korean: false,
        }),
        "月" => Some(Name::Unit {
            unit: Unit::Month,
            korean: false,
        }),
        "日" => Some(Name::Unit {
            unit: Unit::Day,
            korean: false,
        }),
        "st" | "nd" | "rd" | "th" | "er" => Some(Name::Ordinal),
        "de" | "del" | "um" | "a" | "as" | "las" | "alle" | "le" | "el" | "om" | "of" | "kl"
        | "klo" => Some(Name::Filler),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let month = month(word);
    let weekday = WEEKDAY_ABBREVIATIONS.contains(&word) || prefix_of(word, WEEKDAYS);
    match (month, weekday) {
        (Some(m), true) => Some(Name::MonthOrWeekday(m)),
        (Some(m), false) => Some(Name::Month(m)),
        (None, true) => Some(Name::Weekday),
        (None, false) => None,
    }
}

/// The month `word` names: a month name in one of the languages below, or the start of one
/// (at least three letters: "Sept", "janv", "Ιούλ"), or a listed abbreviation.
pub(super) fn month(word: &str) -> Option<u32> {
    if let Some(&(_, m)) = MONTH_ABBREVIATIONS.iter().find(|(w, _)| *w == word) {
        return Some(m);
    }
    if word.chars().count() < 3 {
        return None;
    }
    let mut found = None;
    for (m, names) in (1..).zip(MONTHS) {
        if names.iter().any(|n| n.starts_with(word)) {
            if found.is_some() {
                // "jui" starts both juin and juillet.
                return None;
            }
            found = Some(m);
        }
    }
    found
}

/// Whether `word` (three letters or more) starts one of `names`.
fn prefix_of(word: &str, names: &[&str]) -> bool {
    word.chars().count() >= 3 && names.iter().any(|n| n.starts_with(word))
}

/// Whether `word` names UTC itself, so that an offset written right after it (GMT-01:01,
/// UTC+2) is the zone.
pub(super) fn is_utc_name(word: &str) -> bool {
    matches!(
        word.strip_prefix("etc/").unwrap_or(word),
        "gmt" | "utc" | "ut" | "uct"
    )
}

/// A zone name's offset in seconds east of UTC. North American names follow feedparser
/// (including the short "ET", "PT"...); ambiguous abbreviations (IST, a bare "CST" for China)
/// are read as feedparser reads them or not at all.
fn zone(word: &str) -> Option<i32> {
    let word = word.strip_prefix("etc/").unwrap_or(word);
    let minutes = match word {
        "z" | "ut" | "utc" | "uct" | "gmt" | "wet" => 0,
        "west" | "bst" | "cet" | "met" | "mez" => 60,
        "cest" | "mest" | "mesz" | "eet" => 120,
        "eest" | "msk" => 180,
        "hkt" | "sgt" | "awst" => 8 * 60,
        "jst" | "kst" => 9 * 60,
        "acst" => 9 * 60 + 30,
        "aest" => 10 * 60,
        "acdt" => 10 * 60 + 30,
        "aedt" => 11 * 60,
        "nzst" => 12 * 60,
        "nzdt" => 13 * 60,
        "ndt" => -(2 * 60 + 30),
        "adt" => -3 * 60,
        "nst" => -(3 * 60 + 30),
        "ast" | "edt" => -4 * 60,
        "est" | "et" | "cdt" => -5 * 60,
        "cst" | "ct" | "mdt" => -6 * 60,
        "mst" | "mt" | "pdt" => -7 * 60,
        "pst" | "pt" | "akdt" => -8 * 60,
        "akst" => -9 * 60,
        "hst" => -10 * 60,
        _ => return None,
    };
    Some(minutes * 60)
}

/// Month names, folded, January first: English, German, French, Spanish, Italian, Portuguese,
/// Dutch, Hungarian and Greek (nominative and genitive).
#[rustfmt::skip]
const MONTHS: [&[&str]; 12] = [
    &["january", "januar", "janner", "janvier", "enero", "gennaio", "janeiro", "januari", "ιανουαριος", "ιανουαριου"],
    &["february", "februar", "fevrier", "febrero", "febbraio", "fevereiro", "februari", "φεβρουαριος", "φεβρουαριου"],
    &["march", "marz", "maerz", "mars", "marzo", "marco", "maart", "marcius", "μαρτιος", "μαρτιου"],
    &["april", "avril", "abril", "aprile", "aprilis", "απριλιος", "απριλιου"],
    &["may", "mai", "mayo", "maggio", "maio", "mei", "majus", "μαιος", "μαιου"],
    &["june", "juni", "juin", "junio", "giugno", "junho", "junius", "ιουνιος", "ιουνιου"],
    &["july", "juli", "juillet", "julio", "luglio", "julho", "julius", "ιουλιος", "ιουλιου"],
    &["august", "aout", "agosto", "augustus", "augusztus", "αυγουστος", "αυγουστου"],
    &["september", "septembre", "septiembre", "setiembre", "settembre", "setembro", "szeptember", "σεπτεμβριος", "σεπτεμβριου"],
    &["october", "oktober", "octobre", "octubre", "ottobre", "outubro", "οκτωβριος", "οκτωβριου"],
    &["november", "novembre", "noviembre", "novembro", "νοεμβριος", "νοεμβριου"],
    &["december", "dezember", "decembre", "diciembre", "dicembre", "dezembro", "δεκεμβριος", "δεκεμβριου"],
];

/// Month abbreviations that do not start their month's name (Dutch "mrt", feedparser's Greek
/// "Ιον" and "Ιολ").
const MONTH_ABBREVIATIONS: &[(&str, u32)] = &[("mrt", 3), ("ιον", 6), ("ιολ", 7)];

/// Weekday names, folded, in the same languages; a word of three letters or more that starts
/// one ("Thurs", "mié", "Κυρ") is a weekday too.
#[rustfmt::skip]
const WEEKDAYS: &[&str] = &[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonnabend", "sonntag",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    "lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato", "domenica",
    "segunda-feira", "terca-feira", "quarta-feira", "quinta-feira", "sexta-feira",
    "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag",
    "hetfo", "kedd", "szerda", "csutortok", "pentek", "szombat", "vasarnap",
    "κυριακη", "δευτερα", "τριτη", "τεταρτη", "πεμπτη", "παρασκευη", "σαββατο",
];

/// Two-letter weekday abbreviations (German and Dutch).
const WEEKDAY_ABBREVIATIONS: &[&str] = &[
    "mo", "di", "mi", "do", "fr", "sa", "so", "ma", "wo", "vr", "za", "zo",
];

/// Append `c` lower-cased and without its accent, so that "März", "août" and "Ιούλ" match the
/// tables above.
pub(super) fn fold_into(out: &mut String, c: char) {
    for l in c.to_lowercase() {
        out.push(match l {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ő' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ά' => 'α',
            'έ' => 'ε',
            'ή' => 'η',
            'ί' | 'ϊ' | 'ΐ' => 'ι',
            'ό' => 'ο',
            'ύ' | 'ϋ' | 'ΰ' => 'υ',
            'ώ' => 'ω',
            'ς' => 'σ',
            other => other,
        });
    }
}
