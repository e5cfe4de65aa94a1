//! The demo brand's three personas, each the story of one demo segment's customers (true
//! fans, customers at risk, prospects), in Korean and English, so their pages show the
//! demo data beside the story from the first start.

use std::sync::Arc;

use nunchi_store::{Store, model::PersonaStory};

/// (segment name, name ko, name en, goals ko, goals en, pains ko, pains en, quote ko,
/// quote en, channels)
type Story = [&'static str; 10];

const PERSONAS: &[Story] = &[
    [
        "찐팬 · True fans",
        "지현",
        "Jihyun",
        "새 제품을 먼저 써 보고 마음에 들면 친구에게 추천하기",
        "Try new products first and tell friends about the ones she loves",
        "아끼는 제품의 품절, 기념일 전에 늦어지는 배송",
        "Favourites out of stock; deliveries late before an occasion",
        "마음에 드는 건 꼭 주변에 알려요.",
        "When I love something, everyone around me hears about it.",
        "app",
    ],
    [
        "이탈 위험 · At risk",
        "민수",
        "Minsu",
        "필요할 때 같은 제품을 빠르게 다시 사기",
        "Buy the same products again quickly when he runs out",
        "복잡한 결제, 답이 늦은 문의, 예전보다 덜 챙겨 주는 느낌",
        "A fiddly checkout, slow answers, feeling less looked after than before",
        "예전만큼 챙겨 주는 느낌이 없어요.",
        "It doesn't feel like they look after me the way they used to.",
        "web,email",
    ],
    [
        "잠재 고객 · Prospects",
        "수아",
        "Sua",
        "내 피부에 맞는 첫 제품 찾기",
        "Find a first product that suits her skin",
        "정보는 많은데 무엇이 맞는지 모르겠음",
        "So much information, no idea what is right for her",
        "후기부터 꼼꼼히 읽어 봐요.",
        "I read every review before I decide.",
        "social,web",
    ],
];

/// Saves the demo personas that are not there yet, linked to their segments; how many were
/// added.
pub async fn load(store: &Arc<dyn Store>) -> anyhow::Result<usize> {
    let have: Vec<String> = store
        .personas()
        .await?
        .into_iter()
        .map(|p| p.name_en)
        .collect();
    let segments = store.segments().await?;
    let mut added = 0;
    for [
        segment,
        name_ko,
        name_en,
        goals_ko,
        goals_en,
        pains_ko,
        pains_en,
        quote_ko,
        quote_en,
        channels,
    ] in PERSONAS
    {
        if have.iter().any(|h| h == name_en) {
            continue;
        }
        let story = PersonaStory {
            segment_id: segments.iter().find(|s| s.name == *segment).map(|s| s.id),
            name_ko: name_ko.to_string(),
            name_en: name_en.to_string(),
            goals_ko: goals_ko.to_string(),
            goals_en: goals_en.to_string(),
            pains_ko: pains_ko.to_string(),
            pains_en: pains_en.to_string(),
            quote_ko: quote_ko.to_string(),
            quote_en: quote_en.to_string(),
            channels: channels.to_string(),
        };
        store.create_persona(&story, "demo").await?;
        added += 1;
    }
    Ok(added)
}
