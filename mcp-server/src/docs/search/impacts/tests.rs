use super::*;
use proptest::prelude::*;

/// The phrase score written out here is tantivy's own (`Bm25Weight::for_terms`) to the bit.
#[test]
fn the_phrase_score_is_tantivys() {
    use tantivy::query::{Bm25StatisticsProvider, Bm25Weight};
    use tantivy::{Term, schema::Field};
    struct Stats;
    impl Bm25StatisticsProvider for Stats {
        fn total_num_tokens(&self, _: Field) -> tantivy::Result<u64> {
            Ok(12_345)
        }
        fn total_num_docs(&self) -> tantivy::Result<u64> {
            Ok(987)
        }
        fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
            Ok(if term.value().as_str() == Some("a") {
                3
            } else {
                400
            })
        }
    }
    let field = Field::from_field_id(0);
    let terms = [
        Term::from_field_text(field, "a"),
        Term::from_field_text(field, "b"),
    ];
    let weight = Bm25Weight::for_terms(&Stats, &terms).unwrap();
    let idf_sum = 0.0 + idf(3, 987) + idf(400, 987);
    for fieldnorm_id in [0u8, 1, 17, 100, 255] {
        for count in [1u32, 2, 7, 1000] {
            assert_eq!(
                phrase_score(idf_sum, 12_345.0 / 987.0, fieldnorm_id, count).to_bits(),
                weight.score(fieldnorm_id, count).to_bits(),
                "fieldnorm {fieldnorm_id}, count {count}"
            );
        }
    }
}

proptest! {
    /// The best kept are the first `wanted` of every candidate sorted by rank (ties on
    /// score broken by slot), whatever order they come in.
    #[test]
    fn the_best_are_the_first_of_the_sorted(
        scores in proptest::collection::vec(0u8..6, 0..120),
        order in any::<u64>(),
        wanted in 1usize..24,
    ) {
        let mut candidates: Vec<(f32, usize)> =
            scores.iter().enumerate().map(|(slot, &s)| (f32::from(s) / 2.0, slot)).collect();
        let mut sorted = candidates.clone();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        sorted.truncate(wanted);
        // As the table is read, in slot order, against the floor (scores above zero only).
        let mut dense = Best::new(wanted);
        let mut in_order = candidates.clone();
        in_order.sort_by_key(|&(_, slot)| slot);
        for &(score, slot) in &in_order {
            if score > dense.floor() {
                dense.offer(score, slot);
            }
        }
        let mut above_zero = sorted.clone();
        above_zero.retain(|&(score, _)| score > 0.0);
        let len = candidates.len().max(1);
        candidates.rotate_left(order as usize % len);
        let mut best = Best::new(wanted);
        for (score, slot) in candidates {
            if best.admits(score, slot) {
                best.offer(score, slot);
            }
        }
        prop_assert_eq!(best.ranked(), sorted);
        prop_assert_eq!(dense.ranked(), above_zero);
    }
}
