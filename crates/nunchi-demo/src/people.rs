//! Names, contact details and staff notes for demo customers: Korean and English names,
//! unique e-mail addresses and Korean mobile numbers.

use rand::{Rng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

pub struct Person {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub time_zone: &'static str,
    pub korean: bool,
}

const SURNAMES: &[(&str, &str, u32)] = &[
    ("김", "kim", 21),
    ("이", "lee", 15),
    ("박", "park", 8),
    ("최", "choi", 5),
    ("정", "jung", 5),
    ("강", "kang", 2),
    ("조", "cho", 2),
    ("윤", "yoon", 2),
    ("장", "jang", 2),
    ("임", "lim", 2),
    ("한", "han", 1),
    ("오", "oh", 1),
    ("서", "seo", 1),
    ("신", "shin", 1),
    ("권", "kwon", 1),
    ("황", "hwang", 1),
    ("안", "ahn", 1),
    ("송", "song", 1),
];

const GIVEN: &[(&str, &str)] = &[
    ("민준", "minjun"),
    ("서준", "seojun"),
    ("도윤", "doyun"),
    ("예준", "yejun"),
    ("시우", "siwoo"),
    ("하준", "hajun"),
    ("지호", "jiho"),
    ("주원", "juwon"),
    ("지후", "jihoo"),
    ("준우", "junwoo"),
    ("서연", "seoyeon"),
    ("서윤", "seoyun"),
    ("지우", "jiwoo"),
    ("서현", "seohyun"),
    ("민서", "minseo"),
    ("하은", "haeun"),
    ("하윤", "hayun"),
    ("윤서", "yunseo"),
    ("지유", "jiyu"),
    ("지민", "jimin"),
    ("채원", "chaewon"),
    ("수아", "sua"),
    ("지아", "jia"),
    ("다은", "daeun"),
    ("은지", "eunji"),
    ("현우", "hyunwoo"),
    ("민재", "minjae"),
    ("유진", "yujin"),
    ("예린", "yerin"),
    ("태윤", "taeyun"),
    ("민지", "minji"),
    ("소연", "soyeon"),
    ("혜진", "hyejin"),
    ("성민", "sungmin"),
    ("영희", "younghee"),
    ("정우", "jungwoo"),
];

const FIRST_EN: &[&str] = &[
    "Grace", "Daniel", "Emily", "James", "Olivia", "Lucas", "Sophia", "Ethan", "Chloe", "Ryan",
    "Hannah", "Noah", "Mia", "Liam", "Ava", "Jacob",
];
const LAST_EN: &[&str] = &[
    "Park", "Kim", "Lee", "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson",
    "Taylor", "Clark", "Walker", "Young",
];
const KO_DOMAINS: &[&str] = &[
    "naver.com",
    "gmail.com",
    "kakao.com",
    "daum.net",
    "hanmail.net",
    "nate.com",
];
const EN_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "icloud.com", "yahoo.com"];

fn pick_surname(rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
    let total: u32 = SURNAMES.iter().map(|s| s.2).sum();
    let mut roll = rng.gen_range(0..total);
    for (ko, en, w) in SURNAMES {
        if roll < *w {
            return (ko, en);
        }
        roll -= w;
    }
    ("김", "kim")
}

pub fn person(rng: &mut ChaCha8Rng, i: u64) -> Person {
    // Unique per index: 7919 is coprime with 90,000,000, so i ↦ i·7919 mod 9e7 is a bijection.
    let n = 10_000_000 + (i * 7919) % 90_000_000;
    let phone = format!("010-{:04}-{:04}", n / 10_000, n % 10_000);
    if rng.gen_bool(0.86) {
        let (sur, sur_en) = pick_surname(rng);
        let (given, given_en) = *GIVEN.choose(rng).unwrap_or(&("민준", "minjun"));
        let domain = KO_DOMAINS.choose(rng).unwrap_or(&"naver.com");
        let style = rng.gen_range(0..3);
        let local = match style {
            0 => format!("{given_en}.{sur_en}{i}"),
            1 => format!("{sur_en}{given_en}{i}"),
            _ => format!("{}{i}", &given_en[..given_en.len().min(4)]),
        };
        Person {
            name: format!("{sur}{given}"),
            email: format!("{local}@{domain}"),
            phone,
            time_zone: "Asia/Seoul",
            korean: true,
        }
    } else {
        let first = FIRST_EN.choose(rng).unwrap_or(&"Grace");
        let last = LAST_EN.choose(rng).unwrap_or(&"Park");
        let domain = EN_DOMAINS.choose(rng).unwrap_or(&"gmail.com");
        let tz = *[
            "Asia/Seoul",
            "America/Los_Angeles",
            "America/New_York",
            "Europe/London",
            "Asia/Singapore",
        ]
        .choose(rng)
        .unwrap_or(&"Asia/Seoul");
        Person {
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}{i}@{domain}",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            phone,
            time_zone: tz,
            korean: false,
        }
    }
}

const AGENTS: &[&str] = &[
    "상담원 김지현",
    "상담원 박서우",
    "CX팀 이도현",
    "매장 매니저 정하린",
];
const NOTES_KO: &[&str] = &[
    "배송 지연 문의. 택배사 확인 후 내일 도착 예정 안내드림.",
    "민감성 피부라 향이 없는 제품을 선호하심. 다음 추천 시 참고.",
    "선물 포장 요청. 메시지 카드 문구 전달받음.",
    "앱 로그인 오류로 전화 주심. 비밀번호 재설정 후 해결.",
    "토너 사용 후 붉어짐이 있었다고 하심. 사용 중지 권유, 환불 접수.",
    "매장 방문 시 샘플 만족도가 높았음. 재구매 의사 있음.",
    "결혼기념일 선물로 세트 구매 예정이라고 하심.",
];
const NOTES_EN: &[&str] = &[
    "Asked about international shipping to the US; explained the 7–10 day window.",
    "Prefers fragrance-free products. Keep in mind for recommendations.",
    "Reported a damaged pump on the serum bottle; replacement sent.",
    "Loves the sunscreen, asked when the larger size is back in stock.",
];

pub fn notes(rng: &mut ChaCha8Rng, korean: bool, has_orders: bool) -> Vec<(String, String)> {
    if !rng.gen_bool(if has_orders { 0.1 } else { 0.03 }) {
        return vec![];
    }
    let pool = if korean { NOTES_KO } else { NOTES_EN };
    (0..rng.gen_range(1..=2))
        .map(|_| {
            (
                AGENTS.choose(rng).unwrap_or(&AGENTS[0]).to_string(),
                pool.choose(rng).unwrap_or(&pool[0]).to_string(),
            )
        })
        .collect()
}
