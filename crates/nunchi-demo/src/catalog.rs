//! The demo brand's product catalogue, prices in KRW.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    pub name: &'static str,
    pub category: &'static str,
    pub price_krw: i64,
}

const fn p(name: &'static str, category: &'static str, price_krw: i64) -> Product {
    Product {
        name,
        category,
        price_krw,
    }
}

pub const CATALOG: &[Product] = &[
    p("수분 장벽 크림", "skincare", 32_000),
    p("어성초 진정 토너", "skincare", 18_000),
    p("비타민C 잡티 세럼", "skincare", 45_000),
    p("데일리 선크림 SPF50+", "suncare", 22_000),
    p("약산성 클렌징 폼", "cleansing", 12_000),
    p("쌀 진정 시트 마스크 10매", "skincare", 15_000),
    p("시어버터 립밤", "body", 8_000),
    p("핸드크림 3종 세트", "body", 25_000),
    p("편백 바디로션", "body", 28_000),
    p("소이 향초 제주 숲", "lifestyle", 19_000),
    p("여행용 미니 키트", "lifestyle", 9_900),
    p("하늘결 선물 세트", "gift", 59_000),
];
