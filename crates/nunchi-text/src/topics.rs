//! Topics: what a comment is about, in words a CX team uses. A bilingual catalogue of
//! service aspects (delivery, price, staff …) and issues (delay, damage, rudeness …)
//! gives readable labels ("배송 지연" / "delivery delay") shared by Korean and English
//! comments, so both languages group together. Each clause is scored on its own, so one
//! review can be negative about delivery and positive about the product. Frequent key
//! phrases outside the catalogue become topics of their own.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::analyzer::Analyzer;
use crate::lang::{Lang, detect};

/// A catalogue entry (a service aspect or an issue): its id, labels and the words that
/// signal it.
struct Entry {
    id: &'static str,
    ko: &'static str,
    en: &'static str,
    /// Korean stems, matched inside words.
    ko_terms: &'static [&'static str],
    /// English words (or the start of one, written with a trailing `*`).
    en_terms: &'static [&'static str],
}

const ASPECTS: &[Entry] = &[
    Entry {
        id: "delivery",
        ko: "배송",
        en: "delivery",
        ko_terms: &["배송", "택배", "배달", "도착", "출고"],
        en_terms: &[
            "delivery", "deliver*", "shipping", "shipped", "arriv*", "courier", "parcel",
        ],
    },
    Entry {
        id: "packaging",
        ko: "포장",
        en: "packaging",
        ko_terms: &["포장", "박스", "상자", "뽁뽁이"],
        en_terms: &["packag*", "box", "wrapp*"],
    },
    Entry {
        id: "product",
        ko: "제품",
        en: "product",
        ko_terms: &["제품", "상품", "품질", "퀄리티", "마감"],
        en_terms: &["product", "quality", "item"],
    },
    Entry {
        id: "price",
        ko: "가격",
        en: "price",
        ko_terms: &["가격", "가성비", "비싸", "저렴", "할인", "쿠폰"],
        en_terms: &[
            "price*",
            "pricing",
            "expensive",
            "cheap",
            "discount*",
            "coupon*",
            "value",
        ],
    },
    Entry {
        id: "support",
        ko: "고객 상담",
        en: "customer support",
        ko_terms: &[
            "상담",
            "고객센터",
            "문의",
            "응대",
            "답변",
            "챗봇",
            "연락",
            "콜센터",
        ],
        en_terms: &[
            "support",
            "agent*",
            "service",
            "reply",
            "replied",
            "response",
            "chat",
            "call center",
            "hotline",
        ],
    },
    Entry {
        id: "staff",
        ko: "직원",
        en: "staff",
        ko_terms: &["직원", "점원", "매니저", "기사님", "사장님"],
        en_terms: &["staff", "employee*", "cashier", "clerk", "driver"],
    },
    Entry {
        id: "returns",
        ko: "환불·반품",
        en: "refunds and returns",
        ko_terms: &["환불", "반품", "교환", "취소"],
        en_terms: &["refund*", "return*", "exchang*", "cancel*"],
    },
    Entry {
        id: "payment",
        ko: "결제",
        en: "payment",
        ko_terms: &["결제", "카드", "적립", "포인트", "페이"],
        en_terms: &["payment*", "checkout", "charg*", "card", "points"],
    },
    Entry {
        id: "app",
        ko: "앱·웹사이트",
        en: "app and website",
        ko_terms: &["앱", "어플", "사이트", "홈페이지", "로그인", "업데이트"],
        en_terms: &["app", "website", "site", "login", "log in", "update*"],
    },
    Entry {
        id: "store",
        ko: "매장",
        en: "store",
        ko_terms: &["매장", "지점", "오프라인"],
        en_terms: &["store", "shop", "branch"],
    },
    Entry {
        id: "stock",
        ko: "재고",
        en: "stock",
        ko_terms: &["품절", "재고", "입고"],
        en_terms: &["stock", "restock*", "sold out"],
    },
    Entry {
        id: "waiting",
        ko: "대기 시간",
        en: "waiting time",
        ko_terms: &["대기", "기다", "줄이"],
        en_terms: &["wait*", "queue*", "on hold"],
    },
    Entry {
        id: "skin",
        ko: "사용감",
        en: "feel on skin",
        ko_terms: &[
            "발림",
            "흡수",
            "제형",
            "촉촉",
            "피부",
            "트러블",
            "향이",
            "냄새",
        ],
        en_terms: &[
            "texture",
            "skin",
            "scent",
            "smell*",
            "moisturi*",
            "breakout*",
        ],
    },
];

/// Issues qualify an aspect: "delivery" + "delay" reads "배송 지연".
const ISSUES: &[Entry] = &[
    Entry {
        id: "delay",
        ko: "지연",
        en: "delay",
        ko_terms: &[
            "늦",
            "지연",
            "느려",
            "느렸",
            "느리",
            "오래걸",
            "안와",
            "안오",
        ],
        en_terms: &["late", "delay*", "slow*", "took forever", "still waiting"],
    },
    Entry {
        id: "damage",
        ko: "파손",
        en: "damage",
        ko_terms: &["파손", "깨져", "깨진", "찌그러", "터져"],
        en_terms: &["damag*", "broken", "crushed", "dented"],
    },
    Entry {
        id: "rudeness",
        ko: "불친절",
        en: "rudeness",
        ko_terms: &["불친절", "무례", "퉁명"],
        en_terms: &["rude*", "impolite", "unfriendly"],
    },
    Entry {
        id: "kindness",
        ko: "친절",
        en: "friendliness",
        ko_terms: &["친절"],
        en_terms: &["friendly", "kind", "helpful", "polite"],
    },
    Entry {
        id: "speed",
        ko: "신속",
        en: "speed",
        ko_terms: &["빠르", "빨라", "빨랐", "빠른", "빨리", "신속"],
        en_terms: &["fast", "quick*", "prompt*"],
    },
    Entry {
        id: "expensive",
        ko: "부담",
        en: "too high",
        ko_terms: &["비싸", "비쌈", "부담"],
        en_terms: &["expensive", "overpriced", "pricey"],
    },
    Entry {
        id: "defect",
        ko: "불량",
        en: "defect",
        ko_terms: &["불량", "고장", "하자"],
        en_terms: &["defect*", "faulty", "doesn't work", "stopped working"],
    },
    Entry {
        id: "error",
        ko: "오류",
        en: "errors",
        ko_terms: &["오류", "에러", "튕", "먹통"],
        en_terms: &["error*", "bug*", "crash*", "freez*"],
    },
    Entry {
        id: "missing",
        ko: "누락",
        en: "missing items",
        ko_terms: &["누락", "빠져있", "안들어"],
        en_terms: &["missing"],
    },
    Entry {
        id: "wrong_item",
        ko: "오배송",
        en: "wrong item",
        ko_terms: &["오배송", "잘못와", "다른상품"],
        en_terms: &["wrong item", "wrong product", "wrong size"],
    },
    Entry {
        id: "no_answer",
        ko: "연락 두절",
        en: "no answer",
        ko_terms: &[
            "연락이없",
            "연락없",
            "답변이없",
            "답이없",
            "안받",
            "연결이안",
        ],
        en_terms: &[
            "no answer",
            "no response",
            "never replied",
            "never answered",
        ],
    },
];

/// A topic found in a text, with the sentiment of the clause it was found in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// `aspect` or `aspect/issue` for catalogue topics, `phrase:<text>` for key phrases.
    pub topic: String,
    pub label_ko: String,
    pub label_en: String,
    pub score: f32,
}

/// Splits a text into clauses at sentence ends, at contrast ("지만", "는데", "but") and
/// at joined clauses ("하고", "했고"), so that each aspect gets the sentiment of its own
/// clause.
pub fn clauses(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut push = |end: usize, start: &mut usize| {
        let piece = text[*start..end].trim();
        if !piece.is_empty() {
            out.push(piece);
        }
        *start = end;
    };
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = i + c.len_utf8();
        if matches!(c, '.' | '!' | '?' | '\n' | '…' | ';') {
            push(end, &mut start);
            continue;
        }
        let next_is_space = chars
            .peek()
            .is_none_or(|(_, n)| n.is_whitespace() || *n == ',');
        if next_is_space {
            let word_start = text[..end].rfind(char::is_whitespace).map_or(0, |w| w + 1);
            let word = &text[word_start..end];
            let lower = word.to_lowercase();
            let contrast = [
                "지만", "는데", "은데", "던데", "으나", "하고", "했고", "었고", "았고", "이고",
            ]
            .iter()
            .any(|e| word.ends_with(e));
            if contrast {
                push(end, &mut start);
            } else if matches!(
                lower.as_str(),
                "but" | "however" | "although" | "though" | "yet"
            ) {
                push(word_start, &mut start);
            }
        }
    }
    push(text.len(), &mut start);
    out
}

/// A clause or phrase prepared once for matching against every catalogue entry.
struct Probe {
    /// Korean: the text with spaces removed (spacing is unreliable).
    squeezed: String,
    /// English: lower-case words, and the same joined by single spaces.
    words: Vec<String>,
    joined: String,
}

impl Probe {
    fn new(text: &str) -> Probe {
        let lower = text.to_lowercase();
        let words: Vec<String> = lower
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        Probe {
            squeezed: text.chars().filter(|c| !c.is_whitespace()).collect(),
            joined: words.join(" "),
            words,
        }
    }

    fn hits(&self, entry: &Entry, lang: Lang) -> bool {
        let korean = || entry.ko_terms.iter().any(|t| self.squeezed.contains(t));
        let english = || entry.en_terms.iter().any(|t| self.matches_en(t));
        match lang {
            Lang::Ko => korean(),
            Lang::En => english(),
            Lang::Other => korean() || english(),
        }
    }

    fn matches_en(&self, term: &str) -> bool {
        if term.contains(' ') {
            return self.joined.contains(term);
        }
        match term.strip_suffix('*') {
            Some(prefix) => self.words.iter().any(|w| w.starts_with(prefix)),
            None => self.words.iter().any(|w| w == term),
        }
    }
}

/// Which aspects and issues a clause mentions. Text in neither language is matched
/// against the English terms, as the sentiment is.
fn catalogue_hits(clause: &str, lang: Lang) -> (Vec<&'static Entry>, Option<&'static Entry>) {
    let probe = Probe::new(clause);
    let lang = if lang == Lang::Ko { Lang::Ko } else { Lang::En };
    let aspects = ASPECTS.iter().filter(|a| probe.hits(a, lang)).collect();
    let issue = ISSUES.iter().find(|i| probe.hits(i, lang));
    (aspects, issue)
}

/// Korean particles and endings stripped from a word to find its content part.
const KO_PARTICLES: &[&str] = &[
    "에서는",
    "으로는",
    "이랑",
    "에서",
    "으로",
    "까지",
    "부터",
    "처럼",
    "보다",
    "한테",
    "에게",
    "이나",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "에",
    "의",
    "도",
    "만",
    "로",
    "와",
    "과",
    "랑",
    "나",
];

/// Korean adverbs and connectives that say nothing about the subject.
const KO_STOPWORDS: &[&str] = &[
    "너무",
    "진짜",
    "정말",
    "완전",
    "그냥",
    "조금",
    "많이",
    "아주",
    "매우",
    "다시",
    "이번",
    "그리고",
    "근데",
    "하지만",
    "그래서",
    "역시",
    "항상",
    "제일",
    "가장",
    "약간",
    "이제",
    "지금",
    "오늘",
    "어제",
    "요즘",
    "계속",
    "이거",
    "그거",
    "저거",
    "여기",
    "거기",
    "우리",
    "저희",
    "제가",
    "내가",
    "좀더",
];

const EN_STOPWORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "is", "are", "was", "were", "it", "its", "this", "that",
    "i", "you", "we", "they", "he", "she", "my", "your", "our", "their", "me", "us", "them", "not",
    "no", "to", "of", "in", "on", "for", "with", "so", "very", "too", "be", "been", "have", "has",
    "had", "do", "did", "does", "at", "as", "by", "from", "just", "really", "all", "also", "again",
    "will", "would", "could", "should", "can", "get", "got", "there", "here", "what", "when",
    "than", "then", "out", "up", "about", "after", "before", "more", "much", "even", "still",
];

/// Content words of a text, in order: Korean words with their particle stripped when
/// the word is a noun phrase (predicates, which end in 요/다/네 and the like, are
/// dropped); English words minus stop words.
pub fn content_words(text: &str, lang: Lang) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for raw in lower.split(|c: char| {
        c.is_whitespace() || c.is_ascii_punctuation() || matches!(c, '…' | '·' | '“' | '”')
    }) {
        let word: String = raw.chars().filter(|c| c.is_alphanumeric()).collect();
        if word.is_empty() {
            continue;
        }
        if lang == Lang::Ko {
            let last = word.chars().last().unwrap_or(' ');
            if matches!(
                last,
                '요' | '다'
                    | '네'
                    | '음'
                    | '함'
                    | '지'
                    | '고'
                    | '서'
                    | '면'
                    | '데'
                    | '게'
                    | '죠'
                    | 'ㅋ'
                    | 'ㅎ'
                    | 'ㅠ'
                    | 'ㅜ'
            ) {
                continue;
            }
            let stem = KO_PARTICLES
                .iter()
                .find_map(|p| word.strip_suffix(p).filter(|s| s.chars().count() >= 2))
                .unwrap_or(&word);
            if stem.chars().count() >= 2
                && !KO_STOPWORDS.contains(&stem)
                && stem
                    .chars()
                    .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c) || c.is_ascii_alphabetic())
            {
                out.push(stem.to_string());
            }
        } else if word.chars().count() >= 3
            && !EN_STOPWORDS.contains(&word.as_str())
            && !word.chars().all(|c| c.is_ascii_digit())
        {
            out.push(word);
        }
    }
    out
}

/// The topics mentioned in one text, each with the sentiment of its clause.
pub fn mentions(analyzer: &Analyzer, text: &str) -> Vec<Mention> {
    let lang = detect(text);
    let mut out: Vec<Mention> = Vec::new();
    for clause in clauses(text) {
        let (aspects, issue) = catalogue_hits(clause, lang);
        if aspects.is_empty() && issue.is_none() {
            continue;
        }
        let score = analyzer.sentiment(clause).score;
        let mut add = |topic: String, ko: String, en: String| {
            if let Some(m) = out.iter_mut().find(|m| m.topic == topic) {
                m.score = (m.score + score) / 2.0;
            } else {
                out.push(Mention {
                    topic,
                    label_ko: ko,
                    label_en: en,
                    score,
                });
            }
        };
        match (aspects.as_slice(), issue) {
            ([], Some(i)) => add(format!("issue/{}", i.id), i.ko.into(), i.en.into()),
            (aspects, issue) => {
                for a in aspects {
                    match issue {
                        Some(i) => add(
                            format!("{}/{}", a.id, i.id),
                            format!("{} {}", a.ko, i.ko),
                            format!("{} {}", a.en, i.en),
                        ),
                        None => add(a.id.to_string(), a.ko.into(), a.en.into()),
                    }
                }
            }
        }
    }
    out
}

/// A topic across many texts.
#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub topic: String,
    pub label_ko: String,
    pub label_en: String,
    /// Indices of the member texts, in input order.
    pub members: Vec<usize>,
    /// Mean sentiment of the member clauses.
    pub sentiment: f32,
    /// Share of members whose clause was negative (score below -0.2).
    pub negative_share: f32,
}

/// Whether a key phrase contains a catalogue term, so that it would only repeat a
/// catalogue topic ("배송" beside "배송 지연").
fn names_catalogue_term(phrase: &str) -> bool {
    let probe = Probe::new(phrase);
    ASPECTS
        .iter()
        .chain(ISSUES)
        .any(|e| probe.hits(e, Lang::Other))
}

/// Groups `texts` by topic: every catalogue topic found, then key phrases (content
/// words or adjacent pairs, not catalogue terms) shared by at least `min_support` texts.
/// Topics come ranked by volume.
pub fn group(analyzer: &Analyzer, texts: &[&str], min_support: usize) -> Vec<Topic> {
    struct Acc {
        label_ko: String,
        label_en: String,
        members: Vec<usize>,
        scores: Vec<f32>,
    }
    let mut topics: HashMap<String, Acc> = HashMap::new();
    let mut phrases: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, text) in texts.iter().enumerate() {
        let found = mentions(analyzer, text);
        for m in &found {
            let acc = topics.entry(m.topic.clone()).or_insert_with(|| Acc {
                label_ko: m.label_ko.clone(),
                label_en: m.label_en.clone(),
                members: Vec::new(),
                scores: Vec::new(),
            });
            acc.members.push(i);
            acc.scores.push(m.score);
        }
        {
            let words = content_words(text, detect(text));
            let mut keys: Vec<String> = words
                .windows(2)
                .map(|w| format!("{} {}", w[0], w[1]))
                .collect();
            keys.extend(words);
            keys.sort();
            keys.dedup();
            keys.retain(|k| !names_catalogue_term(k));
            for key in keys {
                phrases.entry(key).or_default().push(i);
            }
        }
    }
    // Each text joins its most supported phrase only, so phrase topics do not repeat one
    // another; pairs win ties over their single words.
    let mut claimed: BTreeMap<usize, String> = BTreeMap::new();
    let mut ranked: Vec<(&String, &Vec<usize>)> = phrases
        .iter()
        .filter(|(_, m)| m.len() >= min_support)
        .collect();
    ranked.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then(b.0.contains(' ').cmp(&a.0.contains(' ')))
            .then(a.0.cmp(b.0))
    });
    for (phrase, members) in &ranked {
        for &m in members.iter() {
            claimed.entry(m).or_insert_with(|| (*phrase).clone());
        }
    }
    for (i, phrase) in claimed {
        let acc = topics
            .entry(format!("phrase:{phrase}"))
            .or_insert_with(|| Acc {
                label_ko: phrase.clone(),
                label_en: phrase.clone(),
                members: Vec::new(),
                scores: Vec::new(),
            });
        acc.members.push(i);
        acc.scores.push(analyzer.sentiment(texts[i]).score);
    }
    let mut out: Vec<Topic> = topics
        .into_iter()
        .filter(|(topic, acc)| !topic.starts_with("phrase:") || acc.members.len() >= min_support)
        .map(|(topic, acc)| {
            let n = acc.scores.len().max(1) as f32;
            Topic {
                topic,
                label_ko: acc.label_ko,
                label_en: acc.label_en,
                sentiment: acc.scores.iter().sum::<f32>() / n,
                negative_share: acc.scores.iter().filter(|s| **s < -0.2).count() as f32 / n,
                members: acc.members,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.sentiment.total_cmp(&b.sentiment))
            .then(a.topic.cmp(&b.topic))
    });
    out
}

/// Volume and mean sentiment per topic per period, for trend charts. Periods are the
/// caller's (a day or week number); the result is ordered by topic then period.
#[derive(Debug, Default)]
pub struct Trends {
    cells: BTreeMap<(String, i64), (u32, f32)>,
}

/// One topic in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub topic: String,
    pub period: i64,
    pub count: u32,
    pub sentiment: f32,
}

impl Trends {
    pub fn add(&mut self, period: i64, mentions: &[Mention]) {
        for m in mentions {
            let cell = self
                .cells
                .entry((m.topic.clone(), period))
                .or_insert((0, 0.0));
            cell.0 += 1;
            cell.1 += m.score;
        }
    }

    pub fn points(&self) -> Vec<TrendPoint> {
        self.cells
            .iter()
            .map(|((topic, period), (count, sum))| TrendPoint {
                topic: topic.clone(),
                period: *period,
                count: *count,
                sentiment: sum / *count as f32,
            })
            .collect()
    }
}
