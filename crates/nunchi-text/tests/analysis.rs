//! The shipped analyzer on customer-experience text in Korean and English, topics and
//! their cross-language grouping, and training on a synthetic corpus.

use nunchi_text::topics::{self, Trends};
use nunchi_text::train::{self, Example, TrainConfig};
use nunchi_text::{Analyzer, Label, Lang};

#[test]
fn shipped_models_get_clear_service_feedback_right() {
    let a = Analyzer::shipped();
    let negative = [
        "배송이 너무 늦어요 ㅠㅠ",
        "상담원 연결이 안 돼요",
        "최악이에요 다시는 안 삽니다",
        "제품이 불량이라 환불 요청했어요",
        "The delivery was late and the box was damaged.",
        "Terrible support, nobody answered my emails.",
    ];
    let positive = [
        "완전 만족합니다 ㅋㅋ 재구매 의사 있어요",
        "직원분이 정말 친절하셨어요",
        "배송 빠르고 포장도 꼼꼼해요 추천합니다",
        "Great product, love it!",
        "Fast shipping and the staff were super helpful.",
    ];
    for text in negative {
        let s = a.sentiment(text);
        assert!(s.score < 0.0, "{text}: {s:?}");
    }
    for text in positive {
        let s = a.sentiment(text);
        assert!(s.score > 0.0, "{text}: {s:?}");
        assert!(s.score <= 1.0);
    }
    assert_eq!(a.sentiment("배송 늦어요").lang, Lang::Ko);
    assert_eq!(a.sentiment("late delivery").lang, Lang::En);
    let other = a.sentiment("配送が遅い");
    assert_eq!(
        (other.lang, other.label, other.score),
        (Lang::Other, Label::Neutral, 0.0)
    );
}

#[test]
fn informal_korean_and_spacing_errors_keep_their_polarity() {
    let a = Analyzer::shipped();
    for (spaced, unspaced) in [
        ("배송이 너무 늦어요", "배송이너무늦어요"),
        ("정말 최고예요 ㅋㅋㅋ", "정말최고예요ㅋㅋㅋㅋㅋㅋ"),
    ] {
        let (x, y) = (a.sentiment(spaced).score, a.sentiment(unspaced).score);
        assert_eq!(x.signum(), y.signum(), "{spaced} {x} vs {unspaced} {y}");
    }
}

#[test]
fn one_review_can_be_negative_about_one_aspect_and_positive_about_another() {
    let a = Analyzer::shipped();
    let found = topics::mentions(a, "직원분은 친절했는데 배송이 일주일이나 늦었어요");
    let staff = found
        .iter()
        .find(|m| m.topic == "staff/kindness")
        .expect("staff found");
    let delivery = found
        .iter()
        .find(|m| m.topic == "delivery/delay")
        .expect("delay found");
    assert!(staff.score > 0.0, "{staff:?}");
    assert!(delivery.score < 0.0, "{delivery:?}");
    assert_eq!(delivery.label_ko, "배송 지연");
    assert_eq!(delivery.label_en, "delivery delay");
}

#[test]
fn korean_and_english_comments_share_topics_and_phrases_group_the_rest() {
    let a = Analyzer::shipped();
    let texts = [
        "배송이 너무 늦어요",
        "Delivery was late again",
        "선크림 백탁이 심해요",
        "선크림 향이 별로",
        "좋아요",
    ];
    let found = topics::group(a, &texts, 2);
    let delay = found
        .iter()
        .find(|t| t.topic == "delivery/delay")
        .expect("delay");
    assert_eq!(delay.members, vec![0, 1]);
    assert!(delay.sentiment < 0.0 && delay.negative_share > 0.0);
    let phrase = found
        .iter()
        .find(|t| t.topic == "phrase:선크림")
        .expect("phrase topic");
    assert_eq!(phrase.members, vec![2, 3]);
    assert!(
        found
            .iter()
            .all(|t| !t.members.contains(&4) || !t.topic.starts_with("phrase:"))
    );
    assert_eq!(found[0].members.len(), 2, "ranked by volume");
}

#[test]
fn trends_count_and_average_per_topic_and_period() {
    let a = Analyzer::shipped();
    let mut trends = Trends::default();
    trends.add(1, &topics::mentions(a, "배송이 늦어요"));
    trends.add(1, &topics::mentions(a, "배송 지연 너무 심해요"));
    trends.add(2, &topics::mentions(a, "Delivery was late"));
    let points = trends.points();
    let delay: Vec<_> = points
        .iter()
        .filter(|p| p.topic == "delivery/delay")
        .collect();
    assert_eq!(
        delay
            .iter()
            .map(|p| (p.period, p.count))
            .collect::<Vec<_>>(),
        vec![(1, 2), (2, 1)]
    );
    assert!(delay.iter().all(|p| p.sentiment < 0.0));
}

#[test]
fn training_learns_a_synthetic_corpus_and_is_deterministic() {
    let good = ["좋아요", "만족해요", "great", "훌륭해요", "최고"];
    let bad = ["싫어요", "실망", "awful", "별로예요", "짜증나요"];
    let fillers = [
        "배송",
        "상품",
        "가격",
        "서비스",
        "포장",
        "직원",
        "앱",
        "매장",
    ];
    let mut examples = Vec::new();
    for i in 0..4000usize {
        let positive = i % 2 == 0;
        let word = if positive {
            good[i % 5]
        } else {
            bad[(i / 2) % 5]
        };
        let text = format!("{} {} {}", fillers[i % 8], word, fillers[(i / 8) % 8]);
        let label = if positive {
            Label::Positive
        } else {
            Label::Negative
        };
        examples.push(Example {
            text,
            label,
            target: None,
        });
    }
    let config = TrainConfig {
        spec: nunchi_text::features::FeatureSpec {
            bits: 16,
            ..nunchi_text::features::FeatureSpec::KOREAN
        },
        epochs: 2,
        ..TrainConfig::for_lang(Lang::Ko)
    };
    let (train_set, test_set) = examples.split_at(3000);
    let model = train::train(Lang::Ko, train_set, &[], &config, &mut |_| {});
    assert!(train::polarity_accuracy(&model, test_set) > 0.95);
    let again = train::train(Lang::Ko, train_set, &[], &config, &mut |_| {});
    assert_eq!(model.to_bytes(), again.to_bytes(), "same seed, same model");
}
